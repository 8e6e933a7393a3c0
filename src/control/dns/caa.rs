//! `caa.permits_ca`: whether the relevant CAA RRset (RFC 8659) lets the platform's CA
//! issue for a name. Pure: it reads what `lookup::Dns::caa` found.

use super::lookup::{CaaSearch, Rr, RrData};
use super::{ids, Check, Status};

/// Property tags a CA understands (RFC 8659 section 4); a critical unknown tag forbids issue.
const KNOWN_TAGS: [&str; 3] = ["issue", "issuewild", "iodef"];

/// ACME challenge types the platform answers (HTTP-01 on :80, TLS-ALPN-01 on :443).
const PLATFORM_METHODS: [&str; 2] = ["http-01", "tls-alpn-01"];

/// One CAA property, read from a record.
struct Property<'a> {
    rr: &'a Rr,
    flags: u8,
    tag: String,
    value: &'a str,
}

fn properties(records: &[Rr]) -> Vec<Property<'_>> {
    records
        .iter()
        .filter_map(|rr| match &rr.data {
            RrData::Caa { flags, tag, value } => {
                Some(Property { rr, flags: *flags, tag: tag.to_ascii_lowercase(), value })
            }
            _ => None,
        })
        .collect()
}

/// An `issue` value split into the issuer domain (`""`: no CA) and its parameters:
/// `letsencrypt.org; validationmethods=dns-01` → (`letsencrypt.org`, [(`validationmethods`, `dns-01`)]).
pub fn parse_issue(value: &str) -> (String, Vec<(String, String)>) {
    let mut parts = value.split(';');
    let issuer = parts.next().unwrap_or_default().trim().trim_end_matches('.').to_ascii_lowercase();
    let params = parts
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect();
    (issuer, params)
}

/// The verdict for `name`, certified by the platform through one of `issuers`.
pub fn permits(name: &str, search: &CaaSearch, issuers: &[String]) -> Check {
    let mut c = Check {
        id: ids::CAA.to_string(),
        status: Status::Passed,
        name: name.to_string(),
        message: String::new(),
        evidence: Vec::new(),
        fix: None,
    };
    let (owner, records) = match search {
        CaaSearch::Failed { name: at, reason } => {
            c.status = Status::Error;
            c.message = format!("no answer for CAA at {at}: {reason}");
            return c;
        }
        CaaSearch::None { climbed } => {
            c.message = format!("no CAA record at {}: any CA may issue", climbed.join(", "));
            return c;
        }
        CaaSearch::Found { owner, records } => (owner.as_str(), records),
    };
    c.evidence = records.iter().map(Rr::to_string).collect();
    let via = if owner == name { String::new() } else { format!(" (the relevant set for {name})") };
    if issuers.is_empty() {
        c.status = Status::NotTested;
        c.message = format!("CAA at {owner}{via}, but [dns] caa_issuers is empty: nothing to compare");
        return c;
    }
    let props = properties(records);
    if let Some(p) = props.iter().find(|p| p.flags & 128 != 0 && !KNOWN_TAGS.contains(&p.tag.as_str())) {
        c.status = Status::Failed;
        c.message = format!(
            "CAA at {owner}{via} marks the unknown tag \"{}\" critical (flag 128): every CA must refuse to issue",
            p.tag
        );
        c.fix = Some(format!("remove: {}", p.rr));
        return c;
    }
    let issue: Vec<&Property> = props.iter().filter(|p| p.tag == "issue").collect();
    if issue.is_empty() {
        c.message = format!("CAA at {owner}{via} has no issue property: any CA may issue");
        return c;
    }
    let wanted: Vec<String> = issuers.iter().map(|i| i.trim().trim_end_matches('.').to_ascii_lowercase()).collect();
    let allowed = issue.iter().map(|p| (p, parse_issue(p.value))).find(|(_, (who, _))| wanted.contains(who));
    let Some((_, (issuer, params))) = allowed else {
        let named: Vec<String> = issue
            .iter()
            .map(|p| parse_issue(p.value).0)
            .map(|who| if who.is_empty() { "no CA (\";\")".to_string() } else { who })
            .collect();
        c.status = Status::Failed;
        c.message = format!("CAA at {owner}{via} allows only {}, not {}", named.join(", "), wanted.join(" or "));
        c.fix = Some(format!("add: {}", Rr::caa(owner, 0, "issue", &wanted[0])));
        return c;
    };
    match params.iter().find(|(k, _)| k == "validationmethods") {
        Some((_, methods)) if !methods.split(',').any(|m| PLATFORM_METHODS.contains(&m.trim())) => {
            c.status = Status::Warning;
            c.message = format!(
                "CAA at {owner}{via} allows {issuer} only with validationmethods={methods}; \
                 the platform validates with {}",
                PLATFORM_METHODS.join(" or ")
            );
            c.fix = Some(format!("add: {}", Rr::caa(owner, 0, "issue", &issuer)));
        }
        _ => c.message = format!("CAA at {owner}{via} allows {issuer}"),
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(owner: &str, records: &[(u8, &str, &str)]) -> CaaSearch {
        let records = records.iter().map(|(f, t, v)| Rr::caa(owner, *f, t, v)).collect();
        CaaSearch::Found { owner: owner.to_string(), records }
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn issue_values_parse() {
        let table: [(&str, &str, &[(&str, &str)]); 5] = [
            ("letsencrypt.org", "letsencrypt.org", &[]),
            (" LetsEncrypt.org. ", "letsencrypt.org", &[]),
            (";", "", &[]),
            (
                "ca.example; accounturi=https://x/1 ; validationmethods=dns-01",
                "ca.example",
                &[("accounturi", "https://x/1"), ("validationmethods", "dns-01")],
            ),
            ("", "", &[]),
        ];
        for (value, issuer, params) in table {
            let (who, ps) = parse_issue(value);
            assert_eq!(who, issuer, "{value}");
            let ps: Vec<(&str, &str)> = ps.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            assert_eq!(ps, params, "{value}");
        }
    }

    #[test]
    fn verdicts() {
        let le = vec!["letsencrypt.org".to_string()];
        let none = CaaSearch::None { climbed: vec!["a.mic.gov.vn".into(), "mic.gov.vn".into()] };
        let failed = CaaSearch::Failed { name: "gov.vn".into(), reason: "request timed out".into() };
        let table: Vec<(&str, CaaSearch, &[String], Status, &str)> = vec![
            ("no CAA anywhere", none, &le, Status::Passed, "any CA may issue"),
            ("lookup failed", failed, &le, Status::Error, "no answer for CAA at gov.vn"),
            (
                "allows LE",
                found("mic.gov.vn", &[(0, "issue", "letsencrypt.org")]),
                &le,
                Status::Passed,
                "allows letsencrypt.org",
            ),
            (
                "LE among others",
                found("mic.gov.vn", &[(0, "issue", "digicert.com"), (0, "issue", "LetsEncrypt.org")]),
                &le,
                Status::Passed,
                "allows",
            ),
            (
                "other CA only",
                found("a.mic.gov.vn", &[(0, "issue", "digicert.com")]),
                &le,
                Status::Failed,
                "allows only digicert.com, not letsencrypt.org",
            ),
            ("no CA", found("a.mic.gov.vn", &[(0, "issue", ";")]), &le, Status::Failed, "no CA"),
            (
                "issuewild ignored",
                found("a.mic.gov.vn", &[(0, "issuewild", "letsencrypt.org"), (0, "issue", "digicert.com")]),
                &le,
                Status::Failed,
                "allows only digicert.com",
            ),
            (
                "only issuewild",
                found("a.mic.gov.vn", &[(0, "issuewild", "digicert.com")]),
                &le,
                Status::Passed,
                "no issue property",
            ),
            (
                "iodef only",
                found("a.mic.gov.vn", &[(0, "iodef", "mailto:x@y.vn")]),
                &le,
                Status::Passed,
                "no issue property",
            ),
            (
                "critical unknown",
                found("a.mic.gov.vn", &[(0, "issue", "letsencrypt.org"), (128, "tbs", "x")]),
                &le,
                Status::Failed,
                "critical",
            ),
            (
                "critical known",
                found("a.mic.gov.vn", &[(128, "issue", "letsencrypt.org")]),
                &le,
                Status::Passed,
                "allows",
            ),
            (
                "unknown not critical",
                found("a.mic.gov.vn", &[(0, "tbs", "x"), (0, "issue", "letsencrypt.org")]),
                &le,
                Status::Passed,
                "allows",
            ),
            (
                "dns-01 only",
                found("a.mic.gov.vn", &[(0, "issue", "letsencrypt.org; validationmethods=dns-01")]),
                &le,
                Status::Warning,
                "validationmethods",
            ),
            (
                "http-01 allowed",
                found("a.mic.gov.vn", &[(0, "issue", "letsencrypt.org; validationmethods=dns-01,http-01")]),
                &le,
                Status::Passed,
                "allows",
            ),
            (
                "no issuers configured",
                found("a.mic.gov.vn", &[(0, "issue", "x")]),
                &[],
                Status::NotTested,
                "caa_issuers",
            ),
        ];
        for (what, search, issuers, status, text) in table {
            let c = permits("a.mic.gov.vn", &search, issuers);
            assert_eq!(c.status, status, "{what}: {c:?}");
            assert!(c.message.contains(text), "{what}: {:?} lacks {text:?}", c.message);
            assert_eq!(c.id, ids::CAA);
            assert_eq!(c.fix.is_some(), matches!(status, Status::Failed | Status::Warning), "{what}: {c:?}");
        }
    }

    #[test]
    fn failing_set_names_its_owner_and_the_fix() {
        let c =
            permits("a.mic.gov.vn", &found("mic.gov.vn", &[(0, "issue", "digicert.com")]), &["letsencrypt.org".into()]);
        assert!(c.message.contains("CAA at mic.gov.vn (the relevant set for a.mic.gov.vn)"), "{}", c.message);
        assert_eq!(c.evidence, ["mic.gov.vn. 300 IN CAA 0 issue \"digicert.com\""]);
        assert_eq!(c.fix.as_deref(), Some("add: mic.gov.vn. 300 IN CAA 0 issue \"letsencrypt.org\""));
    }
}
