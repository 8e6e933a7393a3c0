//! The verdicts of docs/dns-checks.md, one function per check id, each pure: it takes
//! what the resolver saw (a [`Resolution`]) and what the platform expects, and says
//! passed/failed/... with the records as evidence and a one-line fix. No I/O here.

use super::lookup::{End, Resolution, Rr};
use super::{ids, Check, Status};
use crate::model::naming::NameReport;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What the platform is, for the checks: where shared names must point.
#[derive(Debug, Clone, Default)]
pub struct Platform {
    /// `[platform] addresses` that parse as IP addresses.
    pub addresses: Vec<IpAddr>,
    /// `[platform] cname_target`, lower-case, no trailing dot.
    pub cname_target: Option<String>,
    /// `[dns] allow_private`: private and reserved addresses are only noted.
    pub allow_private: bool,
}

impl Platform {
    /// The platform as one allowed target of a name.
    pub fn as_target(&self) -> Target {
        Target {
            what: "the platform".into(),
            names: self.cname_target.iter().cloned().collect(),
            addrs: self.addresses.clone(),
            failed: None,
        }
    }

    /// A record that makes `name` point at the platform: an address record with the first
    /// platform address, else a CNAME to `cname_target`.
    pub fn record_for(&self, name: &str) -> String {
        match (self.addresses.first(), &self.cname_target) {
            (Some(ip), _) => Rr::addr(name, 300, *ip).to_string(),
            (None, Some(target)) => Rr::cname(name, 300, target).to_string(),
            (None, None) => format!("{name}. 300 IN A <platform address: set [platform] addresses>"),
        }
    }
}

/// Somewhere a name may point: a declared server, an own domain, the platform.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// For messages: `server 203.0.113.7`, `own domain ais.gov.vn`, `the platform`.
    pub what: String,
    /// Names that count when a CNAME chain reaches them.
    pub names: Vec<String>,
    /// Addresses that count when the name ends at them.
    pub addrs: Vec<IpAddr>,
    /// Why this target's own addresses could not be read, if they could not.
    pub failed: Option<String>,
}

fn check(id: &str, status: Status, name: &str, message: String, r: Option<&Resolution>) -> Check {
    Check {
        id: id.to_string(),
        status,
        name: name.to_string(),
        message,
        evidence: r.map(Resolution::evidence).unwrap_or_default(),
        fix: None,
    }
}

fn with_fix(mut c: Check, fix: String) -> Check {
    c.fix = Some(fix);
    c
}

fn list(ips: &[IpAddr]) -> String {
    ips.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(", ")
}

/// `naming.label`: the label obeys section 6 (errors fail; warnings, accepted at
/// registration with an override reason, stay warnings).
pub fn naming(name: &str, report: &NameReport) -> Check {
    let codes = |fs: &[crate::model::naming::Finding]| {
        fs.iter().map(|f| format!("{}: {}", f.code.as_str(), f.message)).collect::<Vec<_>>().join("; ")
    };
    if !report.errors.is_empty() {
        let c = check(ids::NAMING, Status::Failed, name, codes(&report.errors), None);
        let fix = match &report.suggestion {
            Some(s) => format!("register a compliant name instead, e.g. {s}"),
            None => "register a name that follows the naming rules (docs/naming.md)".to_string(),
        };
        return with_fix(c, fix);
    }
    if !report.warnings.is_empty() {
        let message = format!("{} (accepted at registration with an override reason)", codes(&report.warnings));
        return check(ids::NAMING, Status::Warning, name, message, None);
    }
    check(ids::NAMING, Status::Passed, name, "the label follows the naming rules".into(), None)
}

/// `resolve.exists`: the fourth-level name answers with A/AAAA or a CNAME. `good` is the
/// record that would fix it.
pub fn exists(r: &Resolution, good: &str) -> Check {
    let name = r.name.as_str();
    let (status, message) = match (&r.end, r.chain.first()) {
        (_, Some(first)) => (Status::Passed, format!("answers with a CNAME ({first})")),
        (End::Addresses(rrs), None) => (Status::Passed, format!("answers with {} address record(s)", rrs.len())),
        (End::NxDomain, None) => (Status::Failed, format!("{name} does not exist (NXDOMAIN)")),
        (End::NoData, None) => (Status::Failed, format!("{name} exists but has no A, AAAA or CNAME record (NODATA)")),
        (End::Failed { name: n, reason }, None) => (Status::Error, format!("no answer for {n}: {reason}")),
        (End::Loop | End::TooLong, None) => (Status::Failed, format!("{name} does not resolve")),
    };
    let c = check(ids::EXISTS, status, name, message, Some(r));
    if status == Status::Failed {
        with_fix(c, format!("add: {good}"))
    } else {
        c
    }
}

/// `resolve.ipv6` (a warning): the name has an IPv6 address (AAAA) at the end of its
/// chain, as government portals are to be reachable over IPv6. `good` is the record that
/// would fix it when the platform has an IPv6 address of its own (shared members).
pub fn ipv6(r: &Resolution, good: Option<String>) -> Check {
    let name = r.name.as_str();
    let addrs = r.addresses();
    if addrs.is_empty() {
        return check(ids::IPV6, Status::NotTested, name, "no address (see resolve.exists)".into(), Some(r));
    }
    let v6: Vec<IpAddr> = addrs.iter().filter(|ip| ip.is_ipv6()).copied().collect();
    if !v6.is_empty() {
        return check(ids::IPV6, Status::Passed, name, format!("reachable over IPv6 ({})", list(&v6)), Some(r));
    }
    let message = format!("{name} has no IPv6 address (AAAA record): visitors on IPv6-only networks cannot reach it");
    let c = check(ids::IPV6, Status::Warning, name, message, Some(r));
    match good {
        Some(good) => with_fix(c, format!("add: {good}")),
        None => with_fix(c, "add an AAAA record for the server's IPv6 address".into()),
    }
}

/// `target.shared` and `target.independent`: the name's CNAME chain reaches one of the
/// `allowed` names, or every address it ends at is one of theirs.
pub fn points_at(id: &str, r: &Resolution, allowed: &[Target], good: &str) -> Check {
    let name = r.name.as_str();
    let described = allowed.iter().map(describe).collect::<Vec<_>>().join("; ");
    let c = |status, message: String| {
        let mut c = check(id, status, name, message, Some(r));
        if status == Status::Failed {
            c.evidence.push(format!("; expected: {described}"));
            c.fix = Some(format!("replace with: {good}"));
        }
        c
    };
    if let Some(t) = allowed.iter().find(|t| r.names().skip(1).any(|n| t.names.iter().any(|tn| tn == n))) {
        return c(Status::Passed, format!("the CNAME chain reaches {}", t.what));
    }
    let addrs = r.addresses();
    if addrs.is_empty() {
        // A CNAME to a name that exists without an address: nothing else fails for it.
        if r.end == End::NoData && !r.chain.is_empty() {
            let last = r.last_name();
            return c(Status::Failed, format!("{name} is a CNAME to {last}, which has no address"));
        }
        return c(Status::NotTested, "no address to compare (see resolve.exists and the cname checks)".into());
    }
    let stray: Vec<IpAddr> = addrs.iter().filter(|ip| !allowed.iter().any(|t| t.addrs.contains(ip))).copied().collect();
    if stray.is_empty() {
        let hit: Vec<&str> =
            allowed.iter().filter(|t| t.addrs.iter().any(|ip| addrs.contains(ip))).map(|t| t.what.as_str()).collect();
        return c(Status::Passed, format!("points at {}", hit.join(" and ")));
    }
    if let Some(t) = allowed.iter().find(|t| t.failed.is_some()) {
        let why = t.failed.as_deref().unwrap_or_default();
        return c(
            Status::Error,
            format!("{} is not a known target, and {} could not be resolved: {why}", list(&stray), t.what),
        );
    }
    let expected = if allowed.len() == 1 {
        allowed[0].what.clone()
    } else {
        "a declared server, an own domain or the platform".into()
    };
    c(Status::Failed, format!("{name} points at {}, not at {expected}", list(&stray)))
}

/// A target for the `; expected:` evidence line.
fn describe(t: &Target) -> String {
    let mut parts: Vec<String> = t.addrs.iter().map(IpAddr::to_string).collect();
    parts.extend(t.names.iter().map(|n| format!("CNAME {n}.")));
    if let Some(why) = &t.failed {
        parts.push(format!("unresolved: {why}"));
    }
    format!("{} ({})", t.what, parts.join(", "))
}

/// `resolve.own_domain`: the own domain resolves; for a shared member, to the platform.
pub fn own_domain(r: &Resolution, shared: bool, platform: &Platform, good: &str) -> Check {
    let name = r.name.as_str();
    if let End::Failed { name: n, reason } = &r.end {
        return check(ids::OWN_DOMAIN, Status::Error, name, format!("no answer for {n}: {reason}"), Some(r));
    }
    if shared {
        let c = points_at(ids::OWN_DOMAIN, r, &[platform.as_target()], good);
        if c.status != Status::NotTested {
            return c;
        }
    } else if !r.addresses().is_empty() {
        let message = format!("resolves to {}", list(&r.addresses()));
        return check(ids::OWN_DOMAIN, Status::Passed, name, message, Some(r));
    }
    let why = match &r.end {
        End::NxDomain if r.chain.is_empty() => "does not exist (NXDOMAIN)".to_string(),
        End::NoData if r.chain.is_empty() => "has no A, AAAA or CNAME record (NODATA)".to_string(),
        _ => format!("does not resolve: its CNAME chain ends at {} without an address", r.last_name()),
    };
    with_fix(check(ids::OWN_DOMAIN, Status::Failed, name, format!("{name} {why}"), Some(r)), format!("add: {good}"))
}

/// `address.public`: no private, loopback or reserved address, apart from the platform's own.
pub fn address_public(r: &Resolution, platform: &Platform, good: &str) -> Check {
    let name = r.name.as_str();
    let records = r.address_records();
    if records.is_empty() {
        return check(ids::ADDRESS_PUBLIC, Status::NotTested, name, "no address to judge".into(), None);
    }
    let bad: Vec<(&Rr, &str)> = records
        .iter()
        .filter_map(|rr| {
            let ip = rr.ip()?;
            let kind = special_range(ip)?;
            (!platform.addresses.contains(&ip)).then_some((rr, kind))
        })
        .collect();
    if bad.is_empty() {
        return check(
            ids::ADDRESS_PUBLIC,
            Status::Passed,
            name,
            "every address is public or the platform's own".into(),
            None,
        );
    }
    let what = bad
        .iter()
        .map(|(rr, kind)| format!("{} is {kind}", rr.ip().map(|ip| ip.to_string()).unwrap_or_default()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut c = if platform.allow_private {
        check(ids::ADDRESS_PUBLIC, Status::Info, name, format!("{what}; allowed by [dns] allow_private"), None)
    } else {
        let message = format!("{what}: nobody on the Internet reaches the portal there");
        // The suggested record may be the declared server itself, private too.
        let fix = match bad.iter().find(|(rr, _)| rr.ip().is_some_and(|ip| good.ends_with(&format!(" {ip}")))) {
            Some((rr, _)) => format!("replace {rr} with a public address of the server (and declare that one)"),
            None => format!("replace with: {good}"),
        };
        with_fix(check(ids::ADDRESS_PUBLIC, Status::Failed, name, message, None), fix)
    };
    c.evidence = bad.iter().map(|(rr, _)| rr.to_string()).collect();
    c
}

/// `takeover.dangling_cname`: every CNAME target exists.
pub fn dangling(r: &Resolution, good: &str) -> Check {
    let name = r.name.as_str();
    let Some(first) = r.chain.first() else {
        if let End::Failed { .. } = r.end {
            return check(ids::DANGLING, Status::NotTested, name, "no answer (see resolve.exists)".into(), None);
        }
        return check(ids::DANGLING, Status::Passed, name, "no CNAME".into(), None);
    };
    let last = r.last_name();
    match &r.end {
        End::NxDomain => {
            let message = format!(
                "the CNAME target {last} does not exist (NXDOMAIN): whoever registers or claims it can serve {name}"
            );
            with_fix(
                check(ids::DANGLING, Status::Failed, name, message, Some(r)),
                format!("replace {first} with: {good}"),
            )
        }
        End::Failed { name: n, reason } => {
            check(ids::DANGLING, Status::Error, name, format!("could not tell whether {n} exists: {reason}"), Some(r))
        }
        End::Loop | End::TooLong => {
            check(ids::DANGLING, Status::NotTested, name, "the chain does not end (see cname.hygiene)".into(), Some(r))
        }
        End::Addresses(_) | End::NoData => check(
            ids::DANGLING,
            Status::Passed,
            name,
            format!("every CNAME target exists ({} CNAME(s))", r.chain.len()),
            Some(r),
        ),
    }
}

/// `cname.hygiene`: no CNAME loop, no chain over [`super::lookup::MAX_CHAIN`].
pub fn hygiene(r: &Resolution, good: &str) -> Check {
    let name = r.name.as_str();
    let path = || r.names().collect::<Vec<_>>().join(" → ");
    let fix = || match r.chain.first() {
        Some(first) => format!("replace {first} with: {good}"),
        None => format!("replace with: {good}"),
    };
    match &r.end {
        End::Loop => {
            with_fix(check(ids::HYGIENE, Status::Failed, name, format!("CNAME loop: {}", path()), Some(r)), fix())
        }
        End::TooLong => {
            let message = format!("more than {} CNAMEs: {}", super::lookup::MAX_CHAIN, path());
            with_fix(check(ids::HYGIENE, Status::Failed, name, message, Some(r)), fix())
        }
        End::Failed { .. } => {
            check(ids::HYGIENE, Status::NotTested, name, "the chain could not be followed to its end".into(), Some(r))
        }
        _ if r.chain.is_empty() => check(ids::HYGIENE, Status::Passed, name, "no CNAME".into(), None),
        _ => {
            check(ids::HYGIENE, Status::Passed, name, format!("{} CNAME(s), no loop: {}", r.chain.len(), path()), None)
        }
    }
}

/// What kind of special-purpose address `ip` is (IANA special-purpose registries, the
/// ranges not globally reachable), or `None` for an ordinary public address.
pub fn special_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => special_v6(v6),
    }
}

fn special_v4(ip: Ipv4Addr) -> Option<&'static str> {
    const RANGES: &[([u8; 4], u8, &str)] = &[
        ([0, 0, 0, 0], 8, "a \"this network\" address"),
        ([10, 0, 0, 0], 8, "a private address"),
        ([100, 64, 0, 0], 10, "a shared (carrier-grade NAT) address"),
        ([127, 0, 0, 0], 8, "a loopback address"),
        ([169, 254, 0, 0], 16, "a link-local address"),
        ([172, 16, 0, 0], 12, "a private address"),
        ([192, 0, 0, 0], 24, "a reserved (IETF protocol) address"),
        ([192, 0, 2, 0], 24, "a documentation address"),
        ([192, 88, 99, 0], 24, "a reserved (6to4 relay) address"),
        ([192, 168, 0, 0], 16, "a private address"),
        ([198, 18, 0, 0], 15, "a benchmarking address"),
        ([198, 51, 100, 0], 24, "a documentation address"),
        ([203, 0, 113, 0], 24, "a documentation address"),
        ([224, 0, 0, 0], 4, "a multicast address"),
        ([240, 0, 0, 0], 4, "a reserved address"),
    ];
    let bits = u32::from(ip);
    RANGES.iter().find(|(net, len, _)| bits >> (32 - len) == u32::from(Ipv4Addr::from(*net)) >> (32 - len)).map(|r| r.2)
}

fn special_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return special_v4(v4);
    }
    const RANGES: &[(u128, u8, &str)] = &[
        (0, 127, "an unspecified or loopback address"),
        (0x0064_ff9b_0001 << 80, 48, "a local-use NAT64 address"),
        (0x0100 << 112, 64, "a discard-only address"),
        (0x2001 << 112, 23, "a reserved (IETF protocol) address"),
        (0x2001_0db8 << 96, 32, "a documentation address"),
        (0x3fff << 112, 20, "a documentation address"),
        (0x5f00 << 112, 16, "a reserved (segment routing) address"),
        (0xfc00 << 112, 7, "a unique-local (private) address"),
        (0xfe80 << 112, 10, "a link-local address"),
        (0xff00 << 112, 8, "a multicast address"),
    ];
    let bits = u128::from(ip);
    RANGES.iter().find(|(net, len, _)| bits >> (128 - len) == net >> (128 - len)).map(|r| r.2)
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
