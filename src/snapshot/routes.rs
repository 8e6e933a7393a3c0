//! Host → member: normalise the request's host, then one exact lookup in an immutable
//! table built from the members (the registry feeds it; the request path never asks it).

use crate::member::{Member, Membership, Status};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// What a host answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Serve this member's site.
    Site { label: Arc<str> },
    /// Another name of a served member: 301 to its canonical host.
    Canonical { label: Arc<str>, host: Arc<str> },
    /// An independent member's fourth-level name: 301 to its own site (`https://own-domain`).
    External { label: Arc<str>, base: Arc<str> },
    /// Registered, not live yet (or nowhere to send it): neutral 404.
    Pending { label: Arc<str> },
    /// 503 maintenance page with Retry-After.
    Suspended { label: Arc<str> },
    /// 410 archived page.
    Archived { label: Arc<str> },
    /// The zone itself and `www.`: the directory of member portals.
    Apex,
}

impl Route {
    /// The member a route belongs to, for metrics and logs.
    pub fn label(&self) -> Option<&Arc<str>> {
        match self {
            Route::Site { label }
            | Route::Canonical { label, .. }
            | Route::External { label, .. }
            | Route::Pending { label }
            | Route::Suspended { label }
            | Route::Archived { label } => Some(label),
            Route::Apex => None,
        }
    }
}

/// Exact host → route, built once per registry change.
#[derive(Debug, Default, Clone)]
pub struct RouteTable {
    hosts: HashMap<String, Route>,
}

impl RouteTable {
    /// Build the table for `members` under `zone`. The first member to claim a host keeps it
    /// (the registry's uniqueness makes a clash impossible; site-folder demos may clash).
    pub fn build(zone: &str, members: &[Member]) -> RouteTable {
        let mut hosts = HashMap::new();
        hosts.insert(zone.to_string(), Route::Apex);
        hosts.insert(format!("www.{zone}"), Route::Apex);
        for m in members {
            let label: Arc<str> = Arc::from(m.label.as_str());
            let fourth = m.fourth_level(zone);
            for (host, route) in routes_of(m, &label, &fourth) {
                hosts.entry(host).or_insert(route);
            }
        }
        RouteTable { hosts }
    }

    /// The route for a normalised host.
    #[inline]
    pub fn lookup(&self, host: &str) -> Option<&Route> {
        self.hosts.get(host)
    }

    /// Every host the table answers, sorted (for status pages and certificates).
    pub fn hosts(&self) -> Vec<(&str, &Route)> {
        let mut v: Vec<(&str, &Route)> = self.hosts.iter().map(|(h, r)| (h.as_str(), r)).collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }
}

/// Every (host, route) pair a member contributes.
fn routes_of(m: &Member, label: &Arc<str>, fourth: &str) -> Vec<(String, Route)> {
    let names: Vec<&str> = std::iter::once(fourth)
        .chain(m.own_domains.iter().map(String::as_str))
        .chain(m.aliases.iter().map(String::as_str))
        .collect();
    let all = |route: Route| names.iter().map(|h| (h.to_string(), route.clone())).collect();
    match m.status {
        Status::Pending => all(Route::Pending { label: label.clone() }),
        Status::Suspended => all(Route::Suspended { label: label.clone() }),
        Status::Archived => all(Route::Archived { label: label.clone() }),
        Status::Active if m.membership == Membership::Independent => {
            let target = m.canonical.as_deref().filter(|c| *c != fourth).or(m.own_domains.first().map(String::as_str));
            let route = match target {
                Some(t) => Route::External { label: label.clone(), base: Arc::from(format!("https://{t}")) },
                None => Route::Pending { label: label.clone() },
            };
            // Only the fourth-level name and aliases live here; own domains are on the unit's servers.
            std::iter::once(fourth)
                .chain(m.aliases.iter().map(String::as_str))
                .map(|h| (h.to_string(), route.clone()))
                .collect()
        }
        Status::Active => {
            let own = m.own_domains.iter().map(String::as_str);
            let canonical =
                m.canonical.as_deref().filter(|c| *c == fourth || own.clone().any(|d| d == *c)).unwrap_or(fourth);
            let host: Arc<str> = Arc::from(canonical);
            names
                .iter()
                .map(|h| {
                    let route = if *h == canonical {
                        Route::Site { label: label.clone() }
                    } else {
                        Route::Canonical { label: label.clone(), host: host.clone() }
                    };
                    (h.to_string(), route)
                })
                .collect()
        }
    }
}

/// Why a Host header cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostError {
    Missing,
    Malformed,
}

/// Lower-case, drop a port and a trailing dot, and a development `.localhost` suffix
/// (`AIS.mic.gov.vn.localhost:8080` → `ais.mic.gov.vn`). Borrows when nothing changes.
pub fn normalize_host(raw: &str) -> Result<Cow<'_, str>, HostError> {
    if raw.is_empty() {
        return Err(HostError::Missing);
    }
    let host = if let Some(rest) = raw.strip_prefix('[') {
        // An IPv6 literal: valid, but never a member's name.
        let end = rest.find(']').ok_or(HostError::Malformed)?;
        return Ok(Cow::Owned(format!("[{}]", &rest[..end].to_ascii_lowercase())));
    } else {
        match raw.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            Some(_) => return Err(HostError::Malformed),
            None => raw,
        }
    };
    let host = host.strip_suffix('.').unwrap_or(host);
    // One trailing dot is the root; a second would be an empty label.
    if host.is_empty() || host.len() > 253 || host.starts_with('.') || host.ends_with('.') || host.contains("..") {
        return Err(HostError::Malformed);
    }
    if !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_') {
        return Err(HostError::Malformed);
    }
    let host: Cow<str> = if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    };
    Ok(match host {
        Cow::Borrowed(h) => Cow::Borrowed(strip_localhost(h)),
        Cow::Owned(h) => Cow::Owned(strip_localhost(&h).to_string()),
    })
}

fn strip_localhost(h: &str) -> &str {
    match h.strip_suffix(".localhost") {
        Some(rest) if !rest.is_empty() => rest.strip_suffix('.').unwrap_or(rest),
        _ => h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_table() {
        let ok = [
            ("ais.mic.gov.vn", "ais.mic.gov.vn"),
            ("AIS.Mic.Gov.VN", "ais.mic.gov.vn"),
            ("ais.mic.gov.vn.", "ais.mic.gov.vn"),
            ("ais.mic.gov.vn:8080", "ais.mic.gov.vn"),
            ("ais.mic.gov.vn.:443", "ais.mic.gov.vn"),
            ("ais.mic.gov.vn.localhost:8080", "ais.mic.gov.vn"),
            ("ais.mic.gov.vn.localhost.", "ais.mic.gov.vn"),
            ("localhost", "localhost"),
            ("127.0.0.1:8080", "127.0.0.1"),
            ("[::1]:8080", "[::1]"),
        ];
        for (raw, want) in ok {
            assert_eq!(normalize_host(raw).as_deref(), Ok(want), "{raw}");
        }
        let bad = [
            ("", HostError::Missing),
            ("a b", HostError::Malformed),
            ("ais..mic", HostError::Malformed),
            ("ais:abc", HostError::Malformed),
            ("a/b", HostError::Malformed),
            ("[::1", HostError::Malformed),
            (".", HostError::Malformed),
            ("ais.mic.gov.vn%00", HostError::Malformed),
            // Found by fuzz/fuzz_targets/host.rs: two trailing dots left one in the result.
            ("0..:80", HostError::Malformed),
            ("ais.mic.gov.vn..", HostError::Malformed),
        ];
        for (raw, want) in bad {
            assert_eq!(normalize_host(raw), Err(want), "{raw}");
        }
    }

    #[test]
    fn normalising_a_clean_host_does_not_allocate() {
        assert!(matches!(normalize_host("vnnic.mic.gov.vn").unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn table_follows_membership_and_status() {
        let mut ais = Member::sample("ais", Membership::Shared, Status::Active, &["ais.gov.vn"]);
        ais.aliases = vec!["antoanthongtin.mic.gov.vn".into()];
        let members = [
            ais,
            Member::sample("vncert", Membership::Independent, Status::Active, &["vncert.gov.vn"]),
            Member::sample("cbc", Membership::Shared, Status::Suspended, &[]),
            Member::sample("old", Membership::Shared, Status::Archived, &[]),
            Member::sample("new", Membership::Shared, Status::Pending, &[]),
        ];
        let t = RouteTable::build("mic.gov.vn", &members);
        let site = |l: &str| Some(Route::Site { label: l.into() });
        assert_eq!(t.lookup("ais.mic.gov.vn").cloned(), site("ais"));
        assert_eq!(
            t.lookup("ais.gov.vn").cloned(),
            Some(Route::Canonical { label: "ais".into(), host: "ais.mic.gov.vn".into() })
        );
        assert_eq!(
            t.lookup("antoanthongtin.mic.gov.vn").cloned(),
            Some(Route::Canonical { label: "ais".into(), host: "ais.mic.gov.vn".into() })
        );
        assert_eq!(
            t.lookup("vncert.mic.gov.vn").cloned(),
            Some(Route::External { label: "vncert".into(), base: "https://vncert.gov.vn".into() })
        );
        assert_eq!(t.lookup("vncert.gov.vn"), None, "an independent member's own domain is not ours to answer");
        assert_eq!(t.lookup("cbc.mic.gov.vn").cloned(), Some(Route::Suspended { label: "cbc".into() }));
        assert_eq!(t.lookup("old.mic.gov.vn").cloned(), Some(Route::Archived { label: "old".into() }));
        assert_eq!(t.lookup("new.mic.gov.vn").cloned(), Some(Route::Pending { label: "new".into() }));
        assert_eq!(t.lookup("mic.gov.vn"), Some(&Route::Apex));
        assert_eq!(t.lookup("www.mic.gov.vn"), Some(&Route::Apex));
        assert_eq!(t.lookup("evil.mic.gov.vn"), None);
    }

    #[test]
    fn a_member_may_make_its_own_domain_canonical() {
        let mut ais = Member::sample("ais", Membership::Shared, Status::Active, &["ais.gov.vn"]);
        ais.canonical = Some("ais.gov.vn".into());
        let t = RouteTable::build("mic.gov.vn", &[ais]);
        assert_eq!(t.lookup("ais.gov.vn").cloned(), Some(Route::Site { label: "ais".into() }));
        assert_eq!(
            t.lookup("ais.mic.gov.vn").cloned(),
            Some(Route::Canonical { label: "ais".into(), host: "ais.gov.vn".into() })
        );
    }

    #[test]
    fn canonical_outside_the_members_names_is_ignored() {
        let mut ais = Member::sample("ais", Membership::Shared, Status::Active, &[]);
        ais.canonical = Some("vnnic.mic.gov.vn".into());
        let t = RouteTable::build("mic.gov.vn", &[ais]);
        assert_eq!(t.lookup("ais.mic.gov.vn").cloned(), Some(Route::Site { label: "ais".into() }));
        assert_eq!(t.lookup("vnnic.mic.gov.vn"), None);
    }
}
