//! Plain data and rules, no I/O: the configuration, members and their names, the naming
//! rules of the regulation, slugs, host normalisation, the calendar, and how text that tenants
//! control is shown (escaped). Every other layer builds on these; nothing here imports from
//! another layer.

pub mod account;
pub mod config;
pub mod dossier;
pub mod escape;
pub mod host;
pub mod label;
pub mod member;
pub mod naming;
pub mod problem;
pub mod slug;
pub mod submission;
pub mod time;

/// The maps the request path looks hosts, sites and paths up in: std's `HashMap` with
/// foldhash's per-process seeded hasher, several times faster than SipHash on short keys.
/// Their keys come from the registry and the content, never from requests (a request only
/// looks up), so the weaker resistance to crafted collisions costs nothing here.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// `n` and the noun in the right number: `1 page`, `2 pages`, `0 problems`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
