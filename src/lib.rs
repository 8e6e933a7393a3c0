//! `cong`: one server for the member portals of a ministry on fourth-level domains.
//! See DESIGN.md for the flow: config → registry → sites → snapshot → router → handler.

pub mod acme;
pub mod admin;
pub mod check;
pub mod cli;
pub mod config;
pub mod dns_check;
pub mod files;
pub mod handler;
pub mod limits;
pub mod logging;
pub mod member;
pub mod membership;
pub mod metrics;
pub mod naming;
pub mod platform;
pub mod registry;
pub mod render;
pub mod router;
pub mod server;
pub mod site;
pub mod state;
pub mod theme;
pub mod tls;
pub mod watch;
