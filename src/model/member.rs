//! The member model shared by the registry, the router and the CLI: who a member is, what
//! kind of portal it runs and whether it is live. No I/O here.

use serde::{Deserialize, Serialize};

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
    /// Gone for good: its names answer 410.
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

/// One member as the router needs it: its names and how to answer them. The registry
/// produces these; before a registry exists, the site folders do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The fourth-level label (`ais` for `ais.mic.gov.vn`).
    pub label: String,
    pub name_vi: String,
    pub name_en: String,
    pub membership: Membership,
    pub status: Status,
    /// The member's own domains (`ais.gov.vn`), lower-case, no trailing dot.
    pub own_domains: Vec<String>,
    /// Extra hostnames that redirect to the canonical host.
    pub aliases: Vec<String>,
    /// The host that serves the site; others redirect to it. `None`: the fourth-level name.
    pub canonical: Option<String>,
    /// An independent member's own servers (IP addresses or hostnames), for the DNS check.
    pub servers: Vec<String>,
}

impl Member {
    /// The fourth-level name of this member under `zone`.
    pub fn fourth_level(&self, zone: &str) -> String {
        format!("{}.{}", self.label, zone)
    }

    /// A member for unit tests: named after its label, with these own domains.
    #[cfg(test)]
    pub fn sample(label: &str, membership: Membership, status: Status, own: &[&str]) -> Member {
        Member {
            label: label.into(),
            name_vi: label.into(),
            name_en: String::new(),
            membership,
            status,
            own_domains: own.iter().map(|s| s.to_string()).collect(),
            aliases: vec![],
            canonical: None,
            servers: vec![],
        }
    }
}
