//! `cong`: one server for the member portals of a ministry on fourth-level domains.
//!
//! The layers, each importing only from those above it in this list (`tests/layers.rs`
//! holds the code to it):
//!
//! ```text
//! model      plain data and rules, no I/O
//! store      SQLite and certificate files          content   site folders → immutable sites
//! snapshot   the contract between the planes: Snapshot, routes, certificates, Live
//! serve      the request path (reads one Snapshot, never waits on the control side)
//! control    background writers: publisher, watch, follow, certs, dns, admin
//! app        wiring: start, signals, shutdown      cli       one file per subcommand group
//! ```
//!
//! The three flows:
//!
//! ```text
//! request ─► serve::listener ─► serve::handler (Host → route → prepared response) ─► one Snapshot
//! edit    ─► control::watch ─► content (rebuild that site on the build pool) ─┐
//! admin   ─► control::admin ─► store (SQLite) ─► control::follow ──────────────┼─► control::publisher ─► swaps the Snapshot
//! SIGHUP, certificates (ACME), DNS checks ─────────────────────────────────────┘
//! ```

/// Wiring: start the server, handle signals, shut down.
pub mod app;
/// The command line: one file per subcommand group.
pub mod cli;
/// Site folders and themes turned into immutable, prepared sites.
pub mod content;
/// Background writers that change what is served, through the one publisher.
pub mod control;
/// Plain data and rules: configuration, members, naming rules, hosts, the calendar.
pub mod model;
/// The request path: listeners, limits, the handler, HTTPS, counters.
pub mod serve;
/// What a request reads: the snapshot, its routing table, certificates, the live handle.
pub mod snapshot;
/// SQLite (the registry) and certificate files: the only layer with SQL.
pub mod store;
