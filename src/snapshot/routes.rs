//! Host → member: normalise the request's host, then one exact lookup in an immutable
//! table built from the members (the registry feeds it; the request path never asks it).

use crate::model::label::Label;
use crate::model::member::{Member, Membership, Status};
use smol_str::SmolStr;
use std::borrow::Borrow;
use std::sync::Arc;

/// What a host answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Serve this member's site.
    Site { label: Label },
    /// Another name of a served member: 301 to its canonical host.
    Canonical { label: Label, host: Target },
    /// An independent member's fourth-level name: 301 to its own site (`https://own-domain`).
    External { label: Label, base: Target },
    /// Registered, not live yet (or nowhere to send it): neutral 404.
    Pending { label: Label },
    /// 503 maintenance page with Retry-After.
    Suspended { label: Label },
    /// The site as it was when archived, read-only, not indexed (410 where none was built).
    Archived { label: Label },
    /// The zone itself and `www.`: the directory of member portals.
    Apex,
}

/// Where a route redirects: a host or a URL, behind one pointer, so that a route is 40
/// bytes and a host with its route one cache line (see [`RouteTable`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target(Arc<String>);

impl From<&str> for Target {
    fn from(text: &str) -> Target {
        Target(Arc::new(text.to_string()))
    }
}

impl std::ops::Deref for Target {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Route {
    /// The member a route belongs to, for metrics and logs.
    pub fn label(&self) -> Option<&Label> {
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
    hosts: FastSet<Slot>,
}

/// A host and its route, one slot of the table: one aligned cache line. A host of up to 23
/// bytes (nearly all) is kept in the slot itself, so a lookup compares it and reads the
/// route from the one line: with 10,000 sites the table is seldom in the CPU's caches, and
/// a slot of 72 bytes had a lookup read two lines in most cases (issue #13, flatness).
#[derive(Debug, Clone)]
#[repr(C, align(64))]
struct Slot {
    host: SmolStr,
    route: Route,
}

const _: () = assert!(std::mem::size_of::<Slot>() == 64, "a slot is one cache line");

impl PartialEq for Slot {
    fn eq(&self, other: &Slot) -> bool {
        self.host == other.host
    }
}

impl Eq for Slot {}

/// A slot is found by its host: hashed as the host's text is (see [`Borrow`]).
impl std::hash::Hash for Slot {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.host.as_str().hash(state);
    }
}

impl Borrow<str> for Slot {
    fn borrow(&self) -> &str {
        &self.host
    }
}

type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;

impl RouteTable {
    /// Build the table for `members` under `zone`. The first member to claim a host keeps it
    /// (the registry's uniqueness makes a clash impossible; site-folder demos may clash).
    pub fn build(zone: &str, members: &[Member]) -> RouteTable {
        let mut hosts = FastSet::default();
        hosts.insert(Slot { host: zone.into(), route: Route::Apex });
        hosts.insert(Slot { host: format!("www.{zone}").into(), route: Route::Apex });
        let labels = Label::intern_all(members.iter().map(|m| m.names.label.as_str()));
        for (m, label) in members.iter().zip(labels) {
            let fourth = m.fourth_level(zone);
            for (host, route) in routes_of(m, &label, &fourth) {
                // A set keeps the slot it has: the first claim stands.
                hosts.insert(Slot { host, route });
            }
        }
        RouteTable { hosts }
    }

    /// The route for a normalised host.
    #[inline]
    pub fn lookup(&self, host: &str) -> Option<&Route> {
        self.hosts.get(host).map(|slot| &slot.route)
    }

    /// Every host the table answers, sorted (for status pages and certificates).
    pub fn hosts(&self) -> Vec<(&str, &Route)> {
        let mut v: Vec<(&str, &Route)> = self.hosts.iter().map(|s| (s.host.as_str(), &s.route)).collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }
}

/// Every (host, route) pair a member contributes.
fn routes_of(m: &Member, label: &Label, fourth: &str) -> Vec<(SmolStr, Route)> {
    let n = &m.names;
    let names: Vec<&str> = std::iter::once(fourth)
        .chain(n.own_domains.iter().map(String::as_str))
        .chain(n.aliases.iter().map(String::as_str))
        .collect();
    let all = |route: Route| names.iter().map(|h| (SmolStr::new(h), route.clone())).collect();
    match m.status {
        Status::Pending => all(Route::Pending { label: label.clone() }),
        Status::Suspended => all(Route::Suspended { label: label.clone() }),
        Status::Archived => all(Route::Archived { label: label.clone() }),
        Status::Active if n.membership == Membership::Independent => {
            let target = n.canonical.as_deref().filter(|c| *c != fourth).or(n.own_domains.first().map(String::as_str));
            let route = match target {
                Some(t) => Route::External { label: label.clone(), base: format!("https://{t}").as_str().into() },
                None => Route::Pending { label: label.clone() },
            };
            // Only the fourth-level name and aliases live here; own domains are on the unit's servers.
            std::iter::once(fourth)
                .chain(n.aliases.iter().map(String::as_str))
                .map(|h| (SmolStr::new(h), route.clone()))
                .collect()
        }
        Status::Active => {
            let own = n.own_domains.iter().map(String::as_str);
            let canonical =
                n.canonical.as_deref().filter(|c| *c == fourth || own.clone().any(|d| d == *c)).unwrap_or(fourth);
            let host = Target::from(canonical);
            names
                .iter()
                .map(|h| {
                    let route = if *h == canonical {
                        Route::Site { label: label.clone() }
                    } else {
                        Route::Canonical { label: label.clone(), host: host.clone() }
                    };
                    (SmolStr::new(h), route)
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_follows_membership_and_status() {
        let mut ais = Member::sample("ais", Membership::Shared, Status::Active, &["ais.gov.vn"]);
        ais.names.aliases = vec!["antoanthongtin.mic.gov.vn".into()];
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
        ais.names.canonical = Some("ais.gov.vn".into());
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
        ais.names.canonical = Some("vnnic.mic.gov.vn".into());
        let t = RouteTable::build("mic.gov.vn", &[ais]);
        assert_eq!(t.lookup("ais.mic.gov.vn").cloned(), Some(Route::Site { label: "ais".into() }));
        assert_eq!(t.lookup("vnnic.mic.gov.vn"), None);
    }
}
