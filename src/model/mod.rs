//! Plain data and rules, no I/O: the configuration, members and their names, the naming
//! rules of the regulation, slugs, host normalisation, the calendar, and how text that tenants
//! control is shown (escaped). Every other layer builds on these; nothing here imports from
//! another layer.

pub mod account;
pub mod config;
pub mod dossier;
pub mod escape;
pub mod host;
pub mod member;
pub mod naming;
pub mod problem;
pub mod slug;
pub mod submission;
pub mod time;

/// `n` and the noun in the right number: `1 page`, `2 pages`, `0 problems`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
