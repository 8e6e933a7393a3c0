//! Certificate state for people and scripts (`cong cert list`, the admin API): one row per
//! name, read from the store's metadata, so it works with or without a running server.

use crate::model::config::{Config, TlsMode};
use crate::model::member::Member;
use crate::snapshot::routes::RouteTable;
use crate::store::certs::{now, Meta, Store};
use serde::Serialize;

/// One name's certificate state.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CertStatus {
    pub name: String,
    /// `valid`, `renewal_due` (a third of its life left), `expired`, `missing` (none yet),
    /// `failing` (none, and the last attempt failed), `not_served` (stored, no longer wanted).
    pub status: &'static str,
    pub issuer: Option<String>,
    /// `acme` or `internal`.
    pub source: Option<String>,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    pub last_attempt: Option<String>,
    pub last_error: Option<String>,
    pub next_retry: Option<String>,
    pub failures: u32,
}

/// The names the platform holds certificates for under `config`, from the registry's members.
pub fn wanted_names(config: &Config, members: &[Member]) -> Vec<String> {
    if config.tls == TlsMode::Off {
        return Vec::new();
    }
    let routes = RouteTable::build(&config.platform.zone, members);
    crate::control::certs::schedule::desired_names(&routes, config.tls == TlsMode::Internal)
}

/// Rows for every wanted name and every name in the store, sorted by name.
pub fn rows(store: &Store, wanted: &[String]) -> Vec<CertStatus> {
    let mut names: Vec<String> = wanted.to_vec();
    names.extend(store.names());
    names.sort();
    names.dedup();
    // A set: with 10,000 members a scan of the list per name was 50 million comparisons.
    let wanted: std::collections::HashSet<&str> = wanted.iter().map(String::as_str).collect();
    names.iter().map(|n| row(store, n, wanted.contains(n.as_str()))).collect()
}

/// The row of one name.
pub fn row(store: &Store, name: &str, wanted: bool) -> CertStatus {
    let meta = store.meta(name).unwrap_or_else(|e| Meta {
        name: name.to_string(),
        last_error: Some(e.to_string()),
        ..Meta::default()
    });
    let utc = |t: Option<u64>| t.map(crate::control::certs::utc);
    CertStatus {
        name: name.to_string(),
        status: status(&meta, wanted, now()),
        issuer: Some(meta.issuer.clone()).filter(|s| !s.is_empty()),
        source: Some(meta.source.clone()).filter(|s| !s.is_empty()),
        not_before: utc(meta.not_before),
        not_after: utc(meta.not_after),
        last_attempt: utc(meta.last_attempt),
        last_error: meta.last_error.clone(),
        next_retry: utc(meta.next_retry),
        failures: meta.failures,
    }
}

fn status(meta: &Meta, wanted: bool, now: u64) -> &'static str {
    match (meta.not_before, meta.not_after) {
        _ if !wanted => "not_served",
        (Some(from), Some(until)) if until > now => {
            if now >= until - (until - from.min(until)) / 3 {
                "renewal_due"
            } else {
                "valid"
            }
        }
        (_, Some(_)) => "expired",
        _ if meta.last_error.is_some() => "failing",
        _ => "missing",
    }
}

/// The worst of several statuses, for a member with several names.
pub fn worst<'a>(statuses: impl IntoIterator<Item = &'a str>) -> &'a str {
    let rank = |s: &str| match s {
        "expired" => 6,
        "failing" => 5,
        "missing" => 4,
        "renewal_due" => 3,
        "valid" => 2,
        _ => 1,
    };
    statuses.into_iter().max_by_key(|s| rank(s)).unwrap_or("none")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table() {
        let m = |nb: Option<u64>, na: Option<u64>, err: Option<&str>| Meta {
            not_before: nb,
            not_after: na,
            last_error: err.map(str::to_string),
            ..Meta::default()
        };
        let table = [
            (m(Some(0), Some(90), None), true, 10, "valid"),
            (m(Some(0), Some(90), None), true, 60, "renewal_due"),
            (m(Some(0), Some(90), Some("x")), true, 90, "expired"),
            (m(None, None, None), true, 10, "missing"),
            (m(None, None, Some("refused")), true, 10, "failing"),
            (m(Some(0), Some(90), None), false, 10, "not_served"),
        ];
        for (meta, wanted, now, want) in table {
            assert_eq!(status(&meta, wanted, now), want, "{meta:?} at {now}");
        }
        assert_eq!(worst(["valid", "missing", "renewal_due"]), "missing");
        assert_eq!(worst([]), "none");
    }
}
