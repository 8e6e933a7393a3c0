//! Every name a member carries, judged together before it is stored (a registration from
//! the command line or the admin API, the first-start import): the label and own domains
//! by the rules of [`check`], aliases by the own-domain rules, `canonical` the member's
//! fourth-level name or one of its own domains, `servers` IP addresses or hostnames, and no
//! control character in the unit's names (docs/naming.md). Reached through
//! [`Names::validate`].

use super::{check, is_valid_hostname, Code, Finding, NameIndex, NameReport, Proposal};
use crate::model::escape::{find_control, Escaped};
use crate::model::host::normalize_name;
use crate::model::member::Names;

/// Judge every name of `names` against the rules and the registered members in `index`.
pub fn check_member(index: &NameIndex, names: &Names) -> NameReport {
    let proposal = Proposal {
        name: &names.label,
        name_vi: Some(&names.name_vi),
        name_en: Some(&names.name_en),
        own_domains: &names.own_domains,
        owner: None,
    };
    let mut report = check(index, &proposal);
    check_aliases(index, names, &mut report);
    check_canonical(index.zone(), names, &mut report);
    check_servers(names, &mut report);
    report.ok = report.errors.is_empty();
    report
}

/// The `control_chars` finding for a text field (a unit's name, a reason), if it holds a
/// control character ([`crate::model::escape::is_control`]).
pub fn check_text(field: &str, text: &str) -> Option<Finding> {
    let (at, c) = find_control(text)?;
    Some(Finding {
        code: Code::ControlChars,
        message: format!(
            "{field} has a control character ({}, character {at}); names and reasons are plain text: remove it",
            Escaped(c)
        ),
        field: Some(field.to_string()),
    })
}

/// Aliases are hostnames outside the zone, held to the own-domain rules: one inside the
/// zone would give the member a second fourth-level name (or another member's), which
/// section 6 rules out.
fn check_aliases(index: &NameIndex, names: &Names, report: &mut NameReport) {
    if names.aliases.is_empty() {
        return;
    }
    let proposal =
        Proposal { name: &names.label, name_vi: None, name_en: None, own_domains: &names.aliases, owner: None };
    let own_domain_rules = [Code::OwnDomainInvalid, Code::OwnDomainInZone, Code::OwnDomainTaken];
    for mut finding in check(index, &proposal).errors.into_iter().filter(|f| own_domain_rules.contains(&f.code)) {
        finding.field = finding.field.map(|f| f.replace("own_domains", "aliases"));
        finding.message = finding.message.replace("own domain", "alias");
        report.errors.push(finding);
    }
}

/// The canonical host is the one that serves the site; every other name redirects to it.
/// Only the member's fourth-level name and own domains can be it: anything else would send
/// the member's visitors to a host it does not hold. An alias cannot either: aliases always
/// redirect (for an independent member, to themselves).
fn check_canonical(zone: &str, names: &Names, report: &mut NameReport) {
    let Some(canonical) = names.canonical.as_deref().map(normalize_name).filter(|c| !c.is_empty()) else {
        return;
    };
    let fourth = format!("{}.{zone}", normalize_name(&names.label));
    if canonical == fourth || names.own_domains.iter().any(|d| normalize_name(d) == canonical) {
        return;
    }
    let why = if names.aliases.iter().any(|a| normalize_name(a) == canonical) {
        "is an alias, and aliases redirect to the canonical host"
    } else {
        "is not one of the member's names"
    };
    let message = format!(
        "canonical \"{canonical}\" {why}; choose its fourth-level name \"{fourth}\" or one of its own domains, or leave canonical out"
    );
    report.push(Code::CanonicalNotOwn, message, Some("canonical".to_string()));
}

/// An independent member's own servers, which the DNS checker holds its name against.
fn check_servers(names: &Names, report: &mut NameReport) {
    for (i, raw) in names.servers.iter().enumerate() {
        let server = normalize_name(raw);
        if server.is_empty() || server.parse::<std::net::IpAddr>().is_ok() || is_valid_hostname(&server) {
            continue; // a blank entry is dropped when stored
        }
        let message = format!(
            "server \"{server}\" (servers[{i}]) is neither an IP address (45.76.1.10, 2001:db8::1) nor a hostname (web.ais.gov.vn)"
        );
        report.push(Code::ServerInvalid, message, Some(format!("servers[{i}]")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::member::Membership;

    /// The zone `mic.gov.vn` with `vnnic` registered (and its own domain `vnnic.vn`).
    fn index() -> NameIndex {
        let mut ix = NameIndex::new("mic.gov.vn", &[]);
        ix.add_member("vnnic", &["vnnic.vn".to_string()]);
        ix
    }

    /// `Vụ Pháp chế` as `vpc`, shared, with an own domain and an alias: every rule passes.
    fn vpc() -> Names {
        Names {
            label: "vpc".into(),
            name_vi: "Vụ Pháp chế".into(),
            name_en: "Department of Legal Affairs".into(),
            membership: Membership::Shared,
            own_domains: vec!["vpc.gov.vn".into()],
            aliases: vec!["www.vpc.gov.vn".into()],
            canonical: None,
            servers: vec![],
        }
    }

    /// What each change to `vpc` gives: the codes of the errors, with their fields.
    #[test]
    fn every_name_a_member_carries_is_checked() {
        type Case = (&'static str, fn(&mut Names), &'static [(Code, &'static str)]);
        #[rustfmt::skip]
        let cases: &[Case] = &[
            ("all good", |_| {}, &[]),
            ("one letter", |n| n.label = "a".into(), &[(Code::TooShort, "name")]),
            ("another member's name as an alias", |n| n.aliases = vec!["vnnic.mic.gov.vn".into()],
                &[(Code::OwnDomainInZone, "aliases[0]")]),
            ("another member's own domain as an alias", |n| n.aliases = vec!["x.vn".into(), "VNNIC.vn.".into()],
                &[(Code::OwnDomainTaken, "aliases[1]")]),
            ("an alias that is no hostname", |n| n.aliases = vec!["a b".into()], &[(Code::OwnDomainInvalid, "aliases[0]")]),
            ("canonical: the fourth-level name", |n| n.canonical = Some("VPC.mic.gov.vn.".into()), &[]),
            ("canonical: an own domain", |n| n.canonical = Some("vpc.gov.vn".into()), &[]),
            ("canonical: blank is none", |n| n.canonical = Some(" ".into()), &[]),
            ("canonical: a URL", |n| n.canonical = Some("evil.example/phish?".into()),
                &[(Code::CanonicalNotOwn, "canonical")]),
            ("canonical: another member's name", |n| n.canonical = Some("vnnic.mic.gov.vn".into()),
                &[(Code::CanonicalNotOwn, "canonical")]),
            ("canonical: an alias", |n| n.canonical = Some("www.vpc.gov.vn".into()),
                &[(Code::CanonicalNotOwn, "canonical")]),
            ("servers: addresses and hostnames", |n| n.servers = vec!["45.76.1.10".into(), "2001:db8::1".into(), "Web.VPC.gov.vn.".into(), " ".into()], &[]),
            ("servers: markup", |n| n.servers = vec!["45.76.1.10".into(), "<x>".into()],
                &[(Code::ServerInvalid, "servers[1]")]),
            ("servers: an address with a port", |n| n.servers = vec!["45.76.1.10:80".into()],
                &[(Code::ServerInvalid, "servers[0]")]),
            ("servers: one label", |n| n.servers = vec!["localhost".into()], &[(Code::ServerInvalid, "servers[0]")]),
            ("name_vi: ESC", |n| n.name_vi = "Vụ\u{1b}[2J Pháp chế".into(), &[(Code::ControlChars, "name_vi")]),
            ("name_vi: newline", |n| n.name_vi = "Vụ Pháp chế\nINFO forged".into(), &[(Code::ControlChars, "name_vi")]),
            ("name_en: NUL", |n| n.name_en = "Legal\0".into(), &[(Code::ControlChars, "name_en")]),
            ("name_en: DEL", |n| n.name_en = "Legal\u{7f}".into(), &[(Code::ControlChars, "name_en")]),
            ("name_en: C1", |n| n.name_en = "Legal\u{9b}31m".into(), &[(Code::ControlChars, "name_en")]),
            ("name_en: a bidi override", |n| n.name_en = "Legal\u{202e}".into(), &[(Code::ControlChars, "name_en")]),
            ("name_en: only a tab", |n| n.name_en = "\t".into(), &[(Code::ControlChars, "name_en")]),
            ("label: ESC", |n| n.label = "vp\u{1b}c".into(), &[(Code::InvalidChars, "name")]),
            ("own domain: newline", |n| n.own_domains = vec!["vpc.gov.vn\nx".into()],
                &[(Code::OwnDomainInvalid, "own_domains[0]")]),
        ];
        for (what, edit, want) in cases {
            let mut names = vpc();
            edit(&mut names);
            let report = names.validate(&index());
            let got: Vec<(Code, &str)> =
                report.errors.iter().map(|f| (f.code, f.field.as_deref().unwrap_or_default())).collect();
            assert_eq!(got, *want, "{what}: {:#?}", report.errors);
            assert_eq!(report.ok, want.is_empty(), "{what}");
        }
    }

    #[test]
    fn messages_name_the_field_and_show_what_was_given_escaped() {
        let mut names = vpc();
        names.name_vi = "Vụ\u{1b}[2J".into();
        names.canonical = Some("evil.example/phish?".into());
        names.servers = vec!["<x>\n".into()];
        names.own_domains = vec!["a\u{1b}b.vn".into()];
        let report = names.validate(&index());
        for f in &report.errors {
            assert!(!f.message.chars().any(crate::model::escape::is_control), "{f:?}");
        }
        let message = |code| report.errors.iter().find(|f| f.code == code).map(|f| f.message.as_str()).unwrap();
        assert!(message(Code::ControlChars).starts_with("name_vi has a control character (\\u{1b}, character 3)"));
        assert!(message(Code::CanonicalNotOwn).contains("\"evil.example/phish?\""));
        assert!(message(Code::CanonicalNotOwn).contains("\"vpc.mic.gov.vn\""), "the fix names the choices");
        assert!(message(Code::ServerInvalid).contains("\"<x>\" (servers[0])"), "{}", message(Code::ServerInvalid));
        assert!(message(Code::OwnDomainInvalid).contains("a\\u{1b}b.vn"), "{}", message(Code::OwnDomainInvalid));
    }

    #[test]
    fn a_reason_is_plain_text() {
        assert_eq!(check_text("reason", "board decision 12/2025"), None);
        let f = check_text("reason", "ok\r\nINFO forged").expect("a finding");
        assert_eq!((f.code, f.field.as_deref()), (Code::ControlChars, Some("reason")));
        assert!(f.message.contains("\\r, character 3"), "{}", f.message);
    }
}
