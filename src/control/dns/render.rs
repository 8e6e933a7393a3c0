//! The report for people: one row per member with its status and failing check ids,
//! under it each check that needs attention with its evidence and one-line fix, then a
//! summary line. (Machines read the JSON of [`super::Report`] instead.)

use super::{MemberReport, Report};
use std::fmt::Write;

/// The whole report as text.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    let label_w = report.members.iter().map(|m| m.label.len()).max().unwrap_or(0).max("LABEL".len());
    let _ = writeln!(out, "{:<label_w$}  {:<11}  {:<7}  PROBLEMS", "LABEL", "MEMBERSHIP", "STATUS");
    for m in &report.members {
        row(&mut out, m, label_w);
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

fn row(out: &mut String, m: &MemberReport, label_w: usize) {
    let mut ids: Vec<&str> = Vec::new();
    for c in m.checks.iter().filter(|c| c.status.is_problem()) {
        if !ids.contains(&c.id.as_str()) {
            ids.push(&c.id);
        }
    }
    let _ = writeln!(
        out,
        "{:<label_w$}  {:<11}  {:<7}  {}",
        m.label,
        m.membership.as_str(),
        m.status.as_str(),
        ids.join(", ")
    );
    for c in m.checks.iter().filter(|c| c.status.is_problem()) {
        let _ = writeln!(out, "    {} {} ({}): {}", c.status, c.id, c.name, c.message);
        for line in &c.evidence {
            let _ = writeln!(out, "        {line}");
        }
        if let Some(fix) = &c.fix {
            let _ = writeln!(out, "        fix: {fix}");
        }
    }
}

/// `zone mic.gov.vn, 12 members checked at …: 9 passed, 1 warning, 2 failed, 0 error`.
pub fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    format!(
        "zone {}, {} checked at {}: {} passed, {} warning, {} failed, {} error",
        report.zone,
        crate::model::count(report.members.len(), "member", "members"),
        report.checked_at,
        s.passed,
        s.warning,
        s.failed,
        s.error
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::dns::{Check, Status};
    use crate::model::member::Membership;

    #[test]
    fn rows_problems_evidence_fix_and_summary() {
        let check = |id: &str, status, fix: Option<&str>| Check {
            id: id.into(),
            status,
            name: "cbc.mic.gov.vn".into(),
            message: "cbc.mic.gov.vn does not exist (NXDOMAIN)".into(),
            evidence: vec!["; cbc.mic.gov.vn. NXDOMAIN".into()],
            fix: fix.map(str::to_string),
        };
        let members = vec![
            MemberReport {
                label: "cbc".into(),
                membership: Membership::Shared,
                status: Status::Failed,
                checked_at: None,
                checks: vec![
                    check("resolve.exists", Status::Failed, Some("add: cbc.mic.gov.vn. 300 IN A 127.0.0.1")),
                    check("target.shared", Status::NotTested, None),
                ],
            },
            MemberReport {
                label: "ais".into(),
                membership: Membership::Independent,
                status: Status::Passed,
                checked_at: None,
                checks: vec![check("resolve.exists", Status::Passed, None)],
            },
        ];
        let text = table(&Report::new("mic.gov.vn", "2026-11-29T01:00:00Z".into(), members));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "LABEL  MEMBERSHIP   STATUS   PROBLEMS");
        assert_eq!(lines[1].trim_end(), "ais    independent  passed");
        assert_eq!(lines[2], "cbc    shared       failed   resolve.exists");
        assert_eq!(lines[3], "    failed resolve.exists (cbc.mic.gov.vn): cbc.mic.gov.vn does not exist (NXDOMAIN)");
        assert_eq!(lines[4], "        ; cbc.mic.gov.vn. NXDOMAIN");
        assert_eq!(lines[5], "        fix: add: cbc.mic.gov.vn. 300 IN A 127.0.0.1");
        assert_eq!(
            lines[6],
            "zone mic.gov.vn, 2 members checked at 2026-11-29T01:00:00Z: 1 passed, 0 warning, 1 failed, 0 error"
        );
        assert_eq!(lines.len(), 7, "not_tested checks are not listed:\n{text}");
    }
}
