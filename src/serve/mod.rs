//! The request path: accept connections (one accept loop for every listener), apply the
//! limits, speak HTTP and HTTPS, and answer each request from one [`crate::snapshot::Snapshot`].
//! Read-only but for one narrow write path (`feedback`: the public's questions, handed to a
//! writer thread of the control side): no SQLite or DNS work here, and no disk but for
//! streaming a large static file (`file`), opened on the blocking pool after the handler's
//! steps.

pub mod cork;
pub mod feedback;
pub mod file;
pub mod form;
pub mod handler;
pub mod https;
pub mod limits;
pub mod listener;
pub mod metrics;
pub mod range;
