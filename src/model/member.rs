//! The member model shared by the registry, the router, the CLI and the site folders: who a
//! member is (its [`Names`], defined once here), what kind of portal it runs and whether it
//! is live. No I/O here.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::model::host::normalize_name;
use crate::model::naming::{self, NameIndex, NameReport};

/// How a member portal is hosted (Decision 146: on the Portal's shared infrastructure, or
/// operating independently on the unit's own servers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Membership {
    /// Served by this platform from its site folder.
    Shared,
    /// Runs on the unit's own servers; the fourth-level name redirects there.
    Independent,
}

/// Where a member stands in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Registered, not yet live: its names answer 404.
    Pending,
    /// Live.
    Active,
    /// Temporarily off: its names answer 503 with Retry-After.
    Suspended,
    /// Gone for good, its record kept: its names serve the site as it was when archived,
    /// read-only, with a platform banner (410 where nothing was ever built).
    Archived,
}

impl Membership {
    pub fn as_str(self) -> &'static str {
        match self {
            Membership::Shared => "shared",
            Membership::Independent => "independent",
        }
    }

    pub fn parse(s: &str) -> Option<Membership> {
        match s {
            "shared" => Some(Membership::Shared),
            "independent" => Some(Membership::Independent),
            _ => None,
        }
    }
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "pending" => Some(Status::Pending),
            "active" => Some(Status::Active),
            "suspended" => Some(Status::Suspended),
            "archived" => Some(Status::Archived),
            _ => None,
        }
    }
}

impl std::fmt::Display for Membership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A member's names and kind: the one definition shared by the registry's [`Member`] and
/// registration, the command line's and admin API's request once checked, and a site
/// folder's `site.toml`. The wire shapes (`site.toml` keys, API and `--json` fields) stay
/// flat: each struct carries these fields at its top level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Names {
    /// The fourth-level label (`ais` for `ais.mic.gov.vn`).
    pub label: String,
    /// The unit's name in Vietnamese.
    pub name_vi: String,
    /// The unit's name in English; may be empty.
    pub name_en: String,
    /// Served here, or on the unit's own servers.
    pub membership: Membership,
    /// The member's own domains (`ais.gov.vn`), lower-case, no trailing dot.
    pub own_domains: Vec<String>,
    /// Extra hostnames that redirect to the canonical host.
    pub aliases: Vec<String>,
    /// The host that serves the site; others redirect to it. `None`: the fourth-level name.
    pub canonical: Option<String>,
    /// An independent member's own servers (IP addresses or hostnames), for the DNS check.
    pub servers: Vec<String>,
}

impl Names {
    /// The names as the registry stores and shows them: the label and every host in the one
    /// spelling of [`normalize_name`]; blank and repeated hosts dropped, the first
    /// occurrence's order kept. The unit's names are left as they are.
    /// A blank `canonical` is none chosen.
    pub fn normalized(&self) -> Names {
        Names {
            label: normalize_name(&self.label),
            own_domains: normalize_list(&self.own_domains),
            aliases: normalize_list(&self.aliases),
            canonical: self.canonical.as_deref().map(normalize_name).filter(|c| !c.is_empty()),
            servers: normalize_list(&self.servers),
            ..self.clone()
        }
    }

    /// Every rule these names must pass before the registry stores them, judged against
    /// the members in `index` (docs/naming.md): the label and own domains by the naming
    /// rules, aliases by the own-domain rules, `canonical` the fourth-level name or an own
    /// domain, `servers` IP addresses or hostnames, no control character in `name_vi` or
    /// `name_en`. Registration (command line and admin API) and the first-start import
    /// both call this; errors refuse the member, warnings need an override reason.
    pub fn validate(&self, index: &NameIndex) -> NameReport {
        naming::check_member(index, self)
    }
}

/// The list normalised, blanks and repeats dropped, first occurrence's order kept.
fn normalize_list(hosts: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    hosts.iter().map(|h| normalize_name(h)).filter(|h| !h.is_empty() && seen.insert(h.clone())).collect()
}

/// One member as the router needs it: its names and how to answer them. The registry
/// produces these; before a registry exists, the site folders do.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Member {
    #[serde(flatten)]
    pub names: Names,
    pub status: Status,
    /// The announced maintenance window that has not ended yet, if any.
    #[serde(default)]
    pub maintenance: Option<Window>,
}

/// A planned outage announced for a member (`cong member maintenance`, Decree 224/2026):
/// from the announcement every page carries the notice, from `from` to `until` the site
/// answers 503 with the time of return, and after `until` it is back by itself. Times are
/// Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from: i64,
    pub until: i64,
    pub reason: String,
    pub announced_at: i64,
    /// Announced less than 7 working days ahead, as an exception.
    pub emergency: bool,
}

impl Window {
    /// Whether the site is down for it at `now`.
    pub fn covers(&self, now: i64) -> bool {
        self.from <= now && now < self.until
    }
}

/// The `MEMBER` of the command line's JSON (docs/cli.md): the names with `status` after
/// `membership`, an order `#[serde(flatten)]` cannot give.
impl Serialize for Member {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let n = &self.names;
        let mut s = serializer.serialize_struct("Member", 10)?;
        s.serialize_field("label", &n.label)?;
        s.serialize_field("name_vi", &n.name_vi)?;
        s.serialize_field("name_en", &n.name_en)?;
        s.serialize_field("membership", &n.membership)?;
        s.serialize_field("status", &self.status)?;
        s.serialize_field("own_domains", &n.own_domains)?;
        s.serialize_field("aliases", &n.aliases)?;
        s.serialize_field("canonical", &n.canonical)?;
        s.serialize_field("servers", &n.servers)?;
        match &self.maintenance {
            Some(w) => s.serialize_field("maintenance", w)?,
            None => s.skip_field("maintenance")?,
        }
        s.end()
    }
}

impl Member {
    /// The fourth-level name of this member under `zone`.
    pub fn fourth_level(&self, zone: &str) -> String {
        format!("{}.{}", self.names.label, zone)
    }

    /// A member for unit tests: named after its label, with these own domains.
    #[cfg(test)]
    pub fn sample(label: &str, membership: Membership, status: Status, own: &[&str]) -> Member {
        Member {
            names: Names {
                label: label.into(),
                name_vi: label.into(),
                name_en: String::new(),
                membership,
                own_domains: own.iter().map(|s| s.to_string()).collect(),
                aliases: vec![],
                canonical: None,
                servers: vec![],
            },
            status,
            maintenance: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `MEMBER` shape of docs/cli.md, key order included (`cong member show --json`).
    #[test]
    fn a_member_serialises_as_the_documented_member() {
        let mut m = Member::sample("ais", Membership::Shared, Status::Active, &["ais.gov.vn"]);
        m.names.canonical = Some("ais.mic.gov.vn".into());
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(
            json,
            r#"{"label":"ais","name_vi":"ais","name_en":"","membership":"shared","status":"active","own_domains":["ais.gov.vn"],"aliases":[],"canonical":"ais.mic.gov.vn","servers":[]}"#
        );
        assert_eq!(serde_json::from_str::<Member>(&json).unwrap(), m);
    }

    #[test]
    fn normalized_names_are_the_stored_spelling() {
        let names = Names {
            label: " AIS. ".into(),
            name_vi: " Cục An toàn thông tin ".into(),
            name_en: String::new(),
            membership: Membership::Independent,
            own_domains: vec!["AIS.gov.vn.".into(), "ais.gov.vn".into(), " ".into(), "b.vn".into()],
            aliases: vec!["www.ais.gov.vn..".into()],
            canonical: Some("Ais.Gov.Vn".into()),
            servers: vec!["Web.AIS.gov.vn".into(), "web.ais.gov.vn.".into()],
        };
        let blank = Names { canonical: Some(" . ".into()), ..names.clone() };
        assert_eq!(blank.normalized().canonical, None, "a blank canonical is none chosen");
        let n = names.normalized();
        assert_eq!(n.label, "ais");
        assert_eq!(n.name_vi, names.name_vi, "the unit's names are left as they are");
        assert_eq!(n.own_domains, ["ais.gov.vn", "b.vn"]);
        assert_eq!(n.aliases, ["www.ais.gov.vn."], "one trailing dot only: a second fails the rules");
        assert_eq!(n.canonical.as_deref(), Some("ais.gov.vn"));
        assert_eq!(n.servers, ["web.ais.gov.vn"]);
    }
}
