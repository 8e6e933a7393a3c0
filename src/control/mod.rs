//! Background writers: the file watcher, the registry follower, the certificate manager,
//! the DNS checker, the admin API and publishing approval (`content`). Each sends its changes to the one publisher, which
//! owns the live snapshot; none of them is ever waited on by a request.

pub mod admin;
pub mod certs;
pub mod content;
pub mod dns;
pub mod feedback;
pub mod follow;
pub mod membership;
pub mod publisher;
pub mod services;
pub mod watch;
pub mod web;
