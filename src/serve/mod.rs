//! The request path: accept connections (one accept loop for every listener), apply the
//! limits, speak HTTP and HTTPS, and answer each request from one [`crate::snapshot::Snapshot`].
//! Read-only: no disk, SQLite or DNS work here.

pub mod handler;
pub mod https;
pub mod limits;
pub mod listener;
pub mod metrics;
pub mod range;
