//! Storage: the SQLite registry (members, names, audit, DNS results) and the certificate
//! files. Plain blocking functions; the control side calls them off the async workers.
//! The only layer with SQL.

pub mod certs;
pub mod registry;
