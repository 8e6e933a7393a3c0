//! The DNS compliance checker (docs/dns-checks.md): for each member, ask the DNS about
//! its names (`lookup`), judge what came back (`checks`, `caa`), and report per member
//! with evidence and fixes. Used by `cong dns check` (table or JSON, `render`) and by the
//! server's periodic re-check (`service`), whose results the registry keeps.

mod caa;
pub mod checks;
pub mod lookup;
mod member;
pub mod render;
pub mod service;

use crate::model::config::Config;
use crate::model::member::{Member, Membership};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;

pub use lookup::ResolverError;
pub use service::Service;

/// The check ids of section 11; stable, scripts match on them.
pub mod ids {
    pub const NAMING: &str = "naming.label";
    pub const EXISTS: &str = "resolve.exists";
    pub const IPV6: &str = "resolve.ipv6";
    pub const TARGET_SHARED: &str = "target.shared";
    pub const TARGET_INDEPENDENT: &str = "target.independent";
    pub const OWN_DOMAIN: &str = "resolve.own_domain";
    pub const ADDRESS_PUBLIC: &str = "address.public";
    pub const DANGLING: &str = "takeover.dangling_cname";
    pub const HYGIENE: &str = "cname.hygiene";
    pub const CAA: &str = "caa.permits_ca";
}

/// Members checked at once: enough to keep a local resolver busy, few enough not to
/// flood a remote one.
pub const CONCURRENCY: usize = 64;

/// What a check (or a member, taking its worst check) came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Passed,
    Failed,
    Warning,
    Info,
    /// Not judged, because an earlier check already says why (never counts as failed).
    NotTested,
    /// Could not be tested: timeout, SERVFAIL (never counts as failed).
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Warning => "warning",
            Status::Info => "info",
            Status::NotTested => "not_tested",
            Status::Error => "error",
        }
    }

    /// Worse is larger: failed > error > warning > the rest.
    fn rank(self) -> u8 {
        match self {
            Status::Failed => 3,
            Status::Error => 2,
            Status::Warning => 1,
            Status::Passed | Status::Info | Status::NotTested => 0,
        }
    }

    /// Whether a person needs to look at it (failed, error, warning).
    pub fn is_problem(self) -> bool {
        self.rank() > 0
    }

    /// A member's status: its worst check, `passed` when nothing is wrong.
    pub fn worst(statuses: impl IntoIterator<Item = Status>) -> Status {
        match statuses.into_iter().map(Status::rank).max().unwrap_or(0) {
            3 => Status::Failed,
            2 => Status::Error,
            1 => Status::Warning,
            _ => Status::Passed,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One check of one name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// One of [`ids`].
    pub id: String,
    pub status: Status,
    /// The name checked (`ais.mic.gov.vn`, an own domain).
    pub name: String,
    pub message: String,
    /// The records seen, in zone-file form; negative answers as `;` comments.
    pub evidence: Vec<String>,
    /// The change that fixes it, in one line.
    pub fix: Option<String>,
}

/// Every check of one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberReport {
    pub label: String,
    pub membership: Membership,
    /// The worst of its checks: passed, warning, error or failed.
    pub status: Status,
    /// When this member was checked; only in reports assembled from stored results,
    /// where members may have been checked at different times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<String>,
    pub checks: Vec<Check>,
}

impl MemberReport {
    /// The ids of the checks that failed or could not be made.
    pub fn failing(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        for c in self.checks.iter().filter(|c| matches!(c.status, Status::Failed | Status::Error)) {
            if !ids.contains(&c.id.as_str()) {
                ids.push(&c.id);
            }
        }
        ids
    }
}

/// Members by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub passed: usize,
    pub warning: usize,
    pub failed: usize,
    pub error: usize,
}

/// A whole check: the JSON of `cong dns check --json` (docs/dns-checks.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub zone: String,
    /// RFC 3339, UTC.
    pub checked_at: String,
    pub summary: Summary,
    pub members: Vec<MemberReport>,
}

/// What a report means for the exit code (docs/cli.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every member passed (warnings allowed).
    Passed,
    /// Some member failed.
    Failed,
    /// No member failed, but some could not be checked.
    Incomplete,
}

impl Report {
    /// A report of `members`, sorted by label, with the summary counted.
    pub fn new(zone: &str, checked_at: String, mut members: Vec<MemberReport>) -> Report {
        members.sort_by(|a, b| a.label.cmp(&b.label));
        let mut summary = Summary::default();
        for m in &members {
            match m.status {
                Status::Failed => summary.failed += 1,
                Status::Error => summary.error += 1,
                Status::Warning => summary.warning += 1,
                _ => summary.passed += 1,
            }
        }
        Report { zone: zone.to_string(), checked_at, summary, members }
    }

    pub fn outcome(&self) -> Outcome {
        if self.summary.failed > 0 {
            Outcome::Failed
        } else if self.summary.error > 0 {
            Outcome::Incomplete
        } else {
            Outcome::Passed
        }
    }

    /// The rows the registry keeps: one per member, its report as JSON.
    pub fn to_stored(&self) -> Vec<crate::store::registry::DnsResult> {
        self.members
            .iter()
            .map(|m| crate::store::registry::DnsResult {
                label: m.label.clone(),
                checked_at: self.checked_at.clone(),
                status: m.status.as_str().to_string(),
                report: serde_json::to_value(m).expect("member reports serialise"),
            })
            .collect()
    }

    /// The last result of every member, as stored, assembled into one report; its
    /// `checked_at` is the latest, each member carries its own. Unreadable rows are skipped.
    pub fn from_stored(zone: &str, rows: &[crate::store::registry::DnsResult]) -> Option<Report> {
        let members: Vec<MemberReport> = rows
            .iter()
            .filter_map(|row| {
                let mut m: MemberReport = serde_json::from_value(row.report.clone()).ok()?;
                m.checked_at = Some(row.checked_at.clone());
                Some(m)
            })
            .collect();
        let latest = rows.iter().map(|r| r.checked_at.as_str()).max()?.to_string();
        Some(Report::new(zone, latest, members))
    }
}

/// Check `selected` members; `all` are every registered member (the naming rules compare
/// against them). `resolvers` empty: `[dns] resolvers`, else the system's. `progress` is
/// told (done, total) as members finish.
pub async fn run(
    config: &Config,
    all: &[Member],
    selected: &[Member],
    resolvers: &[SocketAddr],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Report, ResolverError> {
    let servers = if resolvers.is_empty() { &config.dns_resolvers[..] } else { resolvers };
    let cx = Arc::new(member::Context::new(config, all, lookup::Dns::new(servers)?));
    let checked_at = crate::store::registry::rfc3339(std::time::SystemTime::now());
    let total = selected.len();
    let mut queue = selected.iter().cloned();
    let mut tasks = tokio::task::JoinSet::new();
    let mut reports = Vec::with_capacity(total);
    loop {
        while tasks.len() < CONCURRENCY {
            let Some(m) = queue.next() else { break };
            let cx = cx.clone();
            tasks.spawn(async move { cx.check(&m).await });
        }
        let Some(done) = tasks.join_next().await else { break };
        match done {
            Ok(report) => reports.push(report),
            // A check that panicked is a bug; the others still count.
            Err(e) => tracing::error!("a DNS check task failed: {e}"),
        }
        progress(reports.len(), total);
    }
    Ok(Report::new(&config.platform.zone, checked_at, reports))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(label: &str, statuses: &[Status]) -> MemberReport {
        let checks = statuses
            .iter()
            .map(|s| Check {
                id: format!("x.{s}"),
                status: *s,
                name: format!("{label}.mic.gov.vn"),
                message: String::new(),
                evidence: Vec::new(),
                fix: None,
            })
            .collect();
        MemberReport {
            label: label.into(),
            membership: Membership::Shared,
            status: Status::worst(statuses.iter().copied()),
            checked_at: None,
            checks,
        }
    }

    #[test]
    fn a_member_is_its_worst_check() {
        use Status::*;
        let table: [(&[Status], Status); 8] = [
            (&[], Passed),
            (&[Passed, Info, NotTested], Passed),
            (&[Passed, Warning], Warning),
            (&[Warning, Error], Error),
            (&[Error, Failed], Failed),
            (&[Failed, Error, Warning, Passed], Failed),
            (&[Info], Passed),
            (&[NotTested, Error], Error),
        ];
        for (statuses, want) in table {
            assert_eq!(Status::worst(statuses.iter().copied()), want, "{statuses:?}");
        }
    }

    #[test]
    fn summary_and_outcome() {
        use Status::*;
        let table: [(&[&[Status]], Summary, Outcome); 4] = [
            (&[&[Passed], &[Warning]], Summary { passed: 1, warning: 1, failed: 0, error: 0 }, Outcome::Passed),
            (&[&[Passed], &[Error]], Summary { passed: 1, warning: 0, failed: 0, error: 1 }, Outcome::Incomplete),
            (&[&[Error], &[Failed]], Summary { passed: 0, warning: 0, failed: 1, error: 1 }, Outcome::Failed),
            (&[], Summary::default(), Outcome::Passed),
        ];
        for (members, summary, outcome) in table {
            let ms = members.iter().enumerate().map(|(i, s)| member(&format!("m{i}"), s)).collect();
            let r = Report::new("mic.gov.vn", "2026-01-01T00:00:00Z".into(), ms);
            assert_eq!((r.summary, r.outcome()), (summary, outcome), "{members:?}");
        }
    }

    #[test]
    fn json_has_the_documented_shape() {
        let r = Report::new("mic.gov.vn", "2026-11-29T01:00:00Z".into(), vec![member("ais", &[Status::NotTested])]);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["summary"], serde_json::json!({"passed": 1, "warning": 0, "failed": 0, "error": 0}));
        let m = &v["members"][0];
        let keys: Vec<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["checks", "label", "membership", "status"]);
        assert_eq!(m["checks"][0]["status"], "not_tested");
        assert_eq!(m["checks"][0]["fix"], serde_json::Value::Null);
    }

    #[test]
    fn stored_results_round_trip_with_their_times() {
        let a = Report::new("mic.gov.vn", "2026-01-01T00:00:00Z".into(), vec![member("ais", &[Status::Failed])]);
        let b = Report::new("mic.gov.vn", "2026-01-02T00:00:00Z".into(), vec![member("cbc", &[Status::Passed])]);
        let rows: Vec<_> = a.to_stored().into_iter().chain(b.to_stored()).collect();
        assert_eq!(rows[0].status, "failed");
        let back = Report::from_stored("mic.gov.vn", &rows).unwrap();
        assert_eq!(back.checked_at, "2026-01-02T00:00:00Z");
        assert_eq!(back.members[0].checked_at.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(back.summary, Summary { passed: 1, warning: 0, failed: 1, error: 0 });
        assert_eq!(Report::from_stored("mic.gov.vn", &[]), None);
    }
}
