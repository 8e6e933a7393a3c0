//! Storage: the SQLite registry (members, names, audit, DNS results, users and tokens, the
//! published sets and their submissions), the feedback file (the public's questions and
//! the working-day calendar, `data/feedback.db`), the certificate files, and the secrets
//! (random bytes, SHA-256, argon2id). Plain blocking functions; the control side calls them off
//! the async workers. The only layer with SQL.

pub mod certs;
pub mod feedback;
pub mod registry;
pub mod secrets;
