//! Storage: the SQLite registry (members, names, audit, DNS results, users and tokens, the
//! published sets and their submissions), the certificate files, and the secrets (random
//! bytes, SHA-256, argon2id). Plain blocking functions; the control side calls them off
//! the async workers. The only layer with SQL.

pub mod certs;
pub mod registry;
pub mod secrets;
