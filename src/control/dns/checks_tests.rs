//! Table-driven tests of the verdicts in `checks.rs`: each row is what the resolver saw
//! and the status the check must give.

use super::*;

const NAME: &str = "ais.mic.gov.vn";
const GOOD: &str = "ais.mic.gov.vn. 300 IN A 127.0.0.1";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn addrs(name: &str, ips: &[&str]) -> End {
    End::Addresses(ips.iter().map(|s| Rr::addr(name, 300, ip(s))).collect())
}

/// A resolution of `NAME` through `hops` (each a CNAME target) ending in `end`.
fn res(hops: &[&str], end: End) -> Resolution {
    let mut chain = Vec::new();
    let mut from = NAME.to_string();
    for to in hops {
        chain.push(Rr::cname(&from, 300, to));
        from = to.to_string();
    }
    Resolution { name: NAME.into(), chain, end }
}

fn failed() -> End {
    End::Failed { name: NAME.into(), reason: "request timed out".into() }
}

fn platform() -> Platform {
    Platform {
        addresses: vec![ip("127.0.0.1"), ip("14.225.0.10")],
        cname_target: Some("portal.mic.gov.vn".into()),
        allow_private: false,
    }
}

#[test]
fn resolve_exists() {
    let table = [
        ("address", res(&[], addrs(NAME, &["14.225.0.10"])), Status::Passed),
        ("cname", res(&["portal.mic.gov.vn"], addrs("portal.mic.gov.vn", &["14.225.0.10"])), Status::Passed),
        ("dangling cname still answers", res(&["ghost.vn"], End::NxDomain), Status::Passed),
        ("nxdomain", res(&[], End::NxDomain), Status::Failed),
        ("nodata", res(&[], End::NoData), Status::Failed),
        ("timeout", res(&[], failed()), Status::Error),
    ];
    for (what, r, want) in table {
        let c = exists(&r, GOOD);
        assert_eq!((c.id.as_str(), c.status), (ids::EXISTS, want), "{what}: {c:?}");
        assert_eq!(c.fix.is_some(), want == Status::Failed, "{what}: {c:?}");
    }
    let c = exists(&res(&[], End::NxDomain), GOOD);
    assert_eq!(c.evidence, ["; ais.mic.gov.vn. NXDOMAIN"]);
    assert_eq!(c.fix.as_deref(), Some("add: ais.mic.gov.vn. 300 IN A 127.0.0.1"));
}

#[test]
fn target_shared() {
    let p = platform();
    let table = [
        ("platform address", res(&[], addrs(NAME, &["127.0.0.1"])), Status::Passed),
        ("every address the platform's", res(&[], addrs(NAME, &["127.0.0.1", "14.225.0.10"])), Status::Passed),
        ("one stray address", res(&[], addrs(NAME, &["127.0.0.1", "8.8.8.8"])), Status::Failed),
        ("wrong address", res(&[], addrs(NAME, &["8.8.8.8"])), Status::Failed),
        (
            "cname to the platform",
            res(&["portal.mic.gov.vn"], addrs("portal.mic.gov.vn", &["8.8.8.8"])),
            Status::Passed,
        ),
        ("cname through the platform", res(&["x.vn", "portal.mic.gov.vn"], End::NoData), Status::Passed),
        ("cname elsewhere", res(&["cdn.example.vn"], addrs("cdn.example.vn", &["8.8.8.8"])), Status::Failed),
        ("cname elsewhere to platform ip", res(&["x.vn"], addrs("x.vn", &["127.0.0.1"])), Status::Passed),
        ("nxdomain", res(&[], End::NxDomain), Status::NotTested),
        ("timeout", res(&[], failed()), Status::NotTested),
        ("dangling (takeover's)", res(&["ghost.vn"], End::NxDomain), Status::NotTested),
        ("loop (hygiene's)", res(&["a.vn", NAME], End::Loop), Status::NotTested),
    ];
    for (what, r, want) in table {
        let c = points_at(ids::TARGET_SHARED, &r, &[p.as_target()], GOOD);
        assert_eq!(c.status, want, "{what}: {c:?}");
        if want == Status::Failed {
            assert!(c.message.contains("8.8.8.8") && c.message.contains("not at the platform"), "{what}: {c:?}");
            assert_eq!(c.fix.as_deref(), Some("replace with: ais.mic.gov.vn. 300 IN A 127.0.0.1"));
            let expected = "; expected: the platform (127.0.0.1, 14.225.0.10, CNAME portal.mic.gov.vn.)";
            assert_eq!(c.evidence.last().map(String::as_str), Some(expected), "{what}");
        }
    }
}

#[test]
fn a_cname_to_a_name_without_address_points_nowhere() {
    let r = res(&["www.example.vn"], End::NoData);
    let c = points_at(ids::TARGET_SHARED, &r, &[platform().as_target()], GOOD);
    assert_eq!(c.status, Status::Failed, "{c:?}");
    assert!(c.message.contains("CNAME to www.example.vn, which has no address"), "{}", c.message);
    assert_eq!(c.fix.as_deref(), Some("replace with: ais.mic.gov.vn. 300 IN A 127.0.0.1"));
}

#[test]
fn target_independent() {
    let server = Target { what: "server 45.76.1.10".into(), addrs: vec![ip("45.76.1.10")], ..Target::default() };
    let own = Target {
        what: "own domain ais.gov.vn".into(),
        names: vec!["ais.gov.vn".into()],
        addrs: vec![ip("45.76.1.11")],
        failed: None,
    };
    let unresolved = Target {
        what: "server web.ais.gov.vn".into(),
        names: vec!["web.ais.gov.vn".into()],
        failed: Some("request timed out".into()),
        ..Target::default()
    };
    let allowed = vec![server, own, platform().as_target()];
    let with_unresolved: Vec<Target> = allowed.iter().cloned().chain([unresolved]).collect();
    let table = [
        ("its server", &allowed, res(&[], addrs(NAME, &["45.76.1.10"])), Status::Passed),
        ("its own domain's address", &allowed, res(&[], addrs(NAME, &["45.76.1.11"])), Status::Passed),
        ("cname to its own domain", &allowed, res(&["ais.gov.vn"], End::NxDomain), Status::Passed),
        ("the platform", &allowed, res(&[], addrs(NAME, &["127.0.0.1"])), Status::Passed),
        ("a stranger", &allowed, res(&[], addrs(NAME, &["8.8.8.8"])), Status::Failed),
        ("a stranger, a server unresolved", &with_unresolved, res(&[], addrs(NAME, &["8.8.8.8"])), Status::Error),
        ("cname to the unresolved server", &with_unresolved, res(&["web.ais.gov.vn"], failed()), Status::Passed),
        ("nodata", &allowed, res(&[], End::NoData), Status::NotTested),
    ];
    for (what, targets, r, want) in table {
        let c = points_at(ids::TARGET_INDEPENDENT, &r, targets, GOOD);
        assert_eq!((c.id.as_str(), c.status), (ids::TARGET_INDEPENDENT, want), "{what}: {c:?}");
    }
    let c = points_at(ids::TARGET_INDEPENDENT, &res(&[], addrs(NAME, &["8.8.8.8"])), &allowed, GOOD);
    assert!(c.message.contains("not at a declared server, an own domain or the platform"), "{}", c.message);
}

#[test]
fn own_domains() {
    let p = platform();
    let good = "ais.gov.vn. 300 IN A 127.0.0.1";
    let table = [
        ("shared, to the platform", true, res(&[], addrs(NAME, &["127.0.0.1"])), Status::Passed),
        ("shared, elsewhere", true, res(&[], addrs(NAME, &["8.8.8.8"])), Status::Failed),
        ("shared, nxdomain", true, res(&[], End::NxDomain), Status::Failed),
        ("shared, dangling", true, res(&["ghost.vn"], End::NxDomain), Status::Failed),
        ("independent, anywhere", false, res(&[], addrs(NAME, &["8.8.8.8"])), Status::Passed),
        ("independent, nodata", false, res(&[], End::NoData), Status::Failed),
        ("independent, loop", false, res(&["b.vn", NAME], End::Loop), Status::Failed),
        ("timeout", false, res(&[], failed()), Status::Error),
    ];
    for (what, shared, r, want) in table {
        let c = own_domain(&r, shared, &p, good);
        assert_eq!((c.id.as_str(), c.status), (ids::OWN_DOMAIN, want), "{what}: {c:?}");
        assert_eq!(c.fix.is_some(), want == Status::Failed, "{what}: {c:?}");
    }
}

#[test]
fn public_addresses() {
    let strict = platform();
    let relaxed = Platform { allow_private: true, ..platform() };
    let table = [
        ("public", &strict, vec!["45.76.1.10", "2402:800::1"], Status::Passed),
        ("platform loopback is its own", &strict, vec!["127.0.0.1"], Status::Passed),
        ("private", &strict, vec!["10.1.2.3"], Status::Failed),
        ("other loopback", &strict, vec!["127.0.0.2"], Status::Failed),
        ("one private among public", &strict, vec!["45.76.1.10", "192.168.1.5"], Status::Failed),
        ("ula", &strict, vec!["fd00::1"], Status::Failed),
        ("private, relaxed", &relaxed, vec!["10.1.2.3"], Status::Info),
    ];
    for (what, p, ips, want) in table {
        let c = address_public(&res(&[], addrs(NAME, &ips)), p, GOOD);
        assert_eq!((c.id.as_str(), c.status), (ids::ADDRESS_PUBLIC, want), "{what}: {c:?}");
    }
    let c = address_public(&res(&[], addrs(NAME, &["45.76.1.10", "192.168.1.5"])), &strict, GOOD);
    assert_eq!(c.evidence, ["ais.mic.gov.vn. 300 IN A 192.168.1.5"]);
    assert!(c.message.contains("192.168.1.5 is a private address"), "{}", c.message);
    assert_eq!(c.fix.as_deref(), Some("replace with: ais.mic.gov.vn. 300 IN A 127.0.0.1"));
    let own_private =
        address_public(&res(&[], addrs(NAME, &["10.0.0.5"])), &strict, "ais.mic.gov.vn. 300 IN A 10.0.0.5");
    assert_eq!(
        own_private.fix.as_deref(),
        Some("replace ais.mic.gov.vn. 300 IN A 10.0.0.5 with a public address of the server (and declare that one)")
    );
    let c = address_public(&res(&[], End::NxDomain), &strict, GOOD);
    assert_eq!(c.status, Status::NotTested);
}

#[test]
fn special_ranges() {
    let table = [
        ("8.8.8.8", None),
        ("14.225.0.10", None),
        ("10.0.0.1", Some("a private address")),
        ("172.16.0.1", Some("a private address")),
        ("172.32.0.1", None),
        ("192.168.255.255", Some("a private address")),
        ("127.0.0.1", Some("a loopback address")),
        ("169.254.1.1", Some("a link-local address")),
        ("100.64.0.1", Some("a shared (carrier-grade NAT) address")),
        ("100.128.0.1", None),
        ("0.0.0.0", Some("a \"this network\" address")),
        ("192.0.2.1", Some("a documentation address")),
        ("203.0.113.10", Some("a documentation address")),
        ("198.19.0.1", Some("a benchmarking address")),
        ("224.0.0.1", Some("a multicast address")),
        ("255.255.255.255", Some("a reserved address")),
        ("::1", Some("an unspecified or loopback address")),
        ("::", Some("an unspecified or loopback address")),
        ("::ffff:10.0.0.1", Some("a private address")),
        ("::ffff:8.8.8.8", None),
        ("fe80::1", Some("a link-local address")),
        ("fc00::1", Some("a unique-local (private) address")),
        ("2001:db8::1", Some("a documentation address")),
        ("ff02::1", Some("a multicast address")),
        ("2402:800::1", None),
        ("2001:4860::8888", None),
    ];
    for (addr, want) in table {
        assert_eq!(special_range(ip(addr)), want, "{addr}");
    }
}

#[test]
fn dangling_and_hygiene() {
    let nine: Vec<String> = (1..=9).map(|i| format!("c{i}.vn")).collect();
    let nine: Vec<&str> = nine.iter().map(String::as_str).collect();
    let table = [
        ("no cname", res(&[], addrs(NAME, &["127.0.0.1"])), Status::Passed, Status::Passed),
        ("good chain", res(&["a.vn", "b.vn"], addrs("b.vn", &["127.0.0.1"])), Status::Passed, Status::Passed),
        ("target without address", res(&["a.vn"], End::NoData), Status::Passed, Status::Passed),
        ("dangling", res(&["ghost.vn"], End::NxDomain), Status::Failed, Status::Passed),
        ("loop", res(&["a.vn", NAME], End::Loop), Status::NotTested, Status::Failed),
        ("too long", res(&nine, End::TooLong), Status::NotTested, Status::Failed),
        ("target timeout", res(&["a.vn"], failed()), Status::Error, Status::NotTested),
        ("name timeout", res(&[], failed()), Status::NotTested, Status::NotTested),
    ];
    for (what, r, want_dangling, want_hygiene) in table {
        let d = dangling(&r, GOOD);
        assert_eq!((d.id.as_str(), d.status), (ids::DANGLING, want_dangling), "{what}: {d:?}");
        let h = hygiene(&r, GOOD);
        assert_eq!((h.id.as_str(), h.status), (ids::HYGIENE, want_hygiene), "{what}: {h:?}");
    }
    let d = dangling(&res(&["ghost.vn"], End::NxDomain), GOOD);
    assert_eq!(d.evidence, ["ais.mic.gov.vn. 300 IN CNAME ghost.vn.", "; ghost.vn. NXDOMAIN"]);
    assert_eq!(
        d.fix.as_deref(),
        Some("replace ais.mic.gov.vn. 300 IN CNAME ghost.vn. with: ais.mic.gov.vn. 300 IN A 127.0.0.1")
    );
    let h = hygiene(&res(&["a.vn", NAME], End::Loop), GOOD);
    assert!(h.message.contains("ais.mic.gov.vn → a.vn → ais.mic.gov.vn"), "{}", h.message);
}

#[test]
fn naming_label() {
    let index = crate::model::naming::NameIndex::new("mic.gov.vn", &[]);
    let check_label = |label: &str, name_vi: &str| {
        let p = crate::model::naming::Proposal {
            name: label,
            name_vi: Some(name_vi),
            name_en: None,
            own_domains: &[],
            owner: Some(label),
        };
        naming(&format!("{label}.mic.gov.vn"), &crate::model::naming::check(&index, &p))
    };
    let table = [
        ("cucattt", "Cục An toàn thông tin", Status::Passed),
        ("hotgirl", "Cục Báo chí", Status::Warning),
        ("www", "Trang chủ", Status::Failed),
    ];
    for (label, name_vi, want) in table {
        let c = check_label(label, name_vi);
        assert_eq!((c.id.as_str(), c.status), (ids::NAMING, want), "{label}: {c:?}");
    }
    assert!(check_label("www", "x").message.contains("reserved"));
}

#[test]
fn platform_records() {
    let p = platform();
    assert_eq!(p.record_for("cbc.mic.gov.vn"), "cbc.mic.gov.vn. 300 IN A 127.0.0.1");
    let v6 = Platform { addresses: vec![ip("2402:800::1")], ..platform() };
    assert_eq!(v6.record_for("cbc.mic.gov.vn"), "cbc.mic.gov.vn. 300 IN AAAA 2402:800::1");
    let cname_only = Platform { addresses: Vec::new(), ..platform() };
    assert_eq!(cname_only.record_for("cbc.mic.gov.vn"), "cbc.mic.gov.vn. 300 IN CNAME portal.mic.gov.vn.");
}
