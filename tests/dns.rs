//! The DNS compliance checker (docs/dns-checks.md) against a real authoritative DNS
//! server: NSD on a loopback port serves `mic.gov.vn.` and the members' own zones, with
//! good and broken members side by side. `cong` runs as a separate process on a temp
//! `cong.toml` whose `[dns] resolvers` is that NSD; the admin API part runs in-process.
//! Needs the `nsd` binary: without it these tests fail (never skip), saying how to get it.

use crate::common;
use crate::common::dns::{zone, Nsd};
use crate::common::registry::{self, request, Out};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The platform's own address (`[platform] addresses`).
const PLATFORM: &str = "127.0.0.1";

/// The zones NSD serves: every member's case is one or two records here.
fn zones() -> Vec<(&'static str, String)> {
    vec![
        (
            "mic.gov.vn.",
            zone(
                "mic.gov.vn.",
                &[
                    "portal IN A 127.0.0.1",
                    "portal IN AAAA ::1",
                    "ais IN A 127.0.0.1",
                    "ais IN AAAA ::1",
                    "tdkt IN CNAME portal.mic.gov.vn.",
                    "cds IN TXT \"no address here\"",
                    "ttt IN A 45.76.1.99",
                    "vnnic IN A 10.0.0.5",
                    "cntt IN CNAME gone.example-own.vn.",
                    "vpb IN CNAME vpb-loop.mic.gov.vn.",
                    "vpb-loop IN CNAME vpb.mic.gov.vn.",
                    "ptit IN A 127.0.0.1",
                    "ptit IN AAAA ::1",
                    "ptit IN CAA 0 issue \"digicert.com\"",
                    "vncert IN A 127.0.0.1",
                    "vncert IN AAAA ::1",
                    "rfd IN A 45.76.1.10",
                    "tccb IN CNAME www.example-own.vn.",
                    "khcn IN A 127.0.0.1",
                    "khcn IN AAAA ::1",
                    "tintuc IN A 127.0.0.1",
                    "tintuc IN AAAA ::1",
                    "bcvt IN A 127.0.0.1",
                    "bcvt IN AAAA ::1",
                ],
            ),
        ),
        ("gov.vn.", zone("gov.vn.", &["ais IN A 127.0.0.1", "rfd IN A 45.76.1.10", "khcn IN A 45.76.1.30"])),
        ("example-own.vn.", zone("example-own.vn.", &["www IN A 45.76.1.20"])),
        ("vn.", zone("vn.", &[])),
    ]
}

/// One member to register: label, Vietnamese name, English name, membership, extra flags.
struct Case {
    label: &'static str,
    name_vi: &'static str,
    name_en: &'static str,
    membership: &'static str,
    flags: &'static [&'static str],
    /// Expected member status, and the ids of its failed or error checks.
    status: &'static str,
    failing: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        label: "ais",
        name_vi: "Cục An toàn thông tin",
        name_en: "Authority of Information Security",
        membership: "shared",
        flags: &["--own-domain", "ais.gov.vn"],
        status: "passed",
        failing: &[],
    },
    Case {
        label: "tdkt",
        name_vi: "Vụ Thi đua - Khen thưởng",
        name_en: "",
        membership: "shared",
        flags: &[],
        status: "passed",
        failing: &[],
    },
    Case {
        label: "cbc",
        name_vi: "Cục Báo chí",
        name_en: "",
        membership: "shared",
        flags: &[],
        status: "failed",
        failing: &["resolve.exists"],
    },
    Case {
        label: "cds",
        name_vi: "Cục Chuyển đổi số",
        name_en: "",
        membership: "shared",
        flags: &[],
        status: "failed",
        failing: &["resolve.exists"],
    },
    Case {
        label: "ttt",
        name_vi: "Trung tâm Thông tin",
        name_en: "",
        membership: "shared",
        flags: &[],
        status: "failed",
        failing: &["target.shared"],
    },
    Case {
        label: "vnnic",
        name_vi: "Trung tâm Internet Việt Nam",
        name_en: "Viet Nam Internet Network Information Center",
        membership: "independent",
        flags: &["--server", "10.0.0.5"],
        status: "failed",
        failing: &["address.public"],
    },
    Case {
        label: "cntt",
        name_vi: "Cục Công nghệ thông tin",
        name_en: "",
        membership: "shared",
        flags: &[],
        status: "failed",
        failing: &["takeover.dangling_cname"],
    },
    Case {
        label: "vpb",
        name_vi: "Văn phòng Bộ",
        name_en: "",
        membership: "shared",
        flags: &[],
        status: "failed",
        failing: &["cname.hygiene"],
    },
    Case {
        label: "ptit",
        name_vi: "Học viện Công nghệ Bưu chính Viễn thông",
        name_en: "Posts and Telecommunications Institute of Technology",
        membership: "shared",
        flags: &[],
        status: "failed",
        failing: &["caa.permits_ca"],
    },
    Case {
        label: "vncert",
        name_vi: "Trung tâm Ứng cứu khẩn cấp máy tính Việt Nam",
        name_en: "Vietnam Computer Emergency Response Team",
        membership: "shared",
        flags: &["--own-domain", "vncert.gov.vn"],
        status: "failed",
        failing: &["resolve.own_domain"],
    },
    Case {
        label: "rfd",
        name_vi: "Cục Tần số vô tuyến điện",
        name_en: "Radio Frequency Department",
        membership: "independent",
        flags: &["--server", "45.76.1.10", "--own-domain", "rfd.gov.vn"],
        status: "warning",
        failing: &[],
    },
    Case {
        label: "tccb",
        name_vi: "Vụ Tổ chức cán bộ",
        name_en: "",
        membership: "independent",
        flags: &["--server", "www.example-own.vn"],
        status: "warning",
        failing: &[],
    },
    Case {
        label: "khcn",
        name_vi: "Vụ Khoa học và Công nghệ",
        name_en: "",
        membership: "independent",
        flags: &["--own-domain", "khcn.gov.vn"],
        status: "passed",
        failing: &[],
    },
    Case {
        label: "tintuc",
        name_vi: "Cục Báo chí",
        name_en: "",
        membership: "shared",
        flags: &["--override-reason", "the unit asked for it"],
        status: "warning",
        failing: &[],
    },
    Case {
        label: "bcvt",
        name_vi: "Cục Bưu chính Viễn thông",
        name_en: "",
        membership: "shared",
        flags: &["--own-domain", "bcvt.example.org"],
        status: "error",
        failing: &["resolve.own_domain", "caa.permits_ca"],
    },
];

/// One test's world: NSD with the zones, and a temp folder with `cong.toml`, an empty
/// `tenants/` and the registry.
struct World {
    /// Serves the zones until the world is dropped.
    _nsd: Nsd,
    dir: tempfile::TempDir,
    config: PathBuf,
    token: String,
}

impl World {
    /// `dns`: extra keys of the `[dns]` section.
    fn new(name: &str, dns: &str) -> World {
        let nsd = Nsd::start(&zones());
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("tenants")).expect("tenants folder");
        let more = format!(
            "\n[platform]\nzone = \"mic.gov.vn\"\naddresses = [\"{PLATFORM}\", \"::1\"]\ncname_target = \"portal.mic.gov.vn\"\n\n\
             [dns]\nresolvers = [\"{}\"]\ncaa_issuers = [\"letsencrypt.org\"]\nallow_private = false\n{dns}\n",
            nsd.resolver(),
        );
        let (tenants, data) = (dir.path().join("tenants"), dir.path().join("data"));
        let config = common::write_config(dir.path(), &tenants, &common::repo().join("themes"), &data, &more);
        World { _nsd: nsd, dir, config, token: format!("t0ken-dns-{name}") }
    }

    /// `cong --config <this config> args...` as a separate process.
    fn cli(&self, args: &[&str]) -> Out {
        registry::cli(&self.config, args)
    }

    /// Register `cases` with `cong member register`.
    fn register(&self, cases: &[&Case]) {
        for c in cases {
            let mut args = vec!["member", "register", c.label, "--name-vi", c.name_vi, "--membership", c.membership];
            if !c.name_en.is_empty() {
                args.extend(["--name-en", c.name_en]);
            }
            args.extend_from_slice(c.flags);
            self.cli(&args).expect_code(0);
        }
    }

    /// `cong dns check --json args...`, its report, checked against the documented shape.
    fn check_json(&self, args: &[&str], code: i32) -> Value {
        let mut all = vec!["dns", "check", "--json"];
        all.extend_from_slice(args);
        let out = self.cli(&all);
        out.expect_code(code);
        let report = out.json();
        assert_schema(&report);
        report
    }
}

fn case(label: &str) -> &'static Case {
    CASES.iter().find(|c| c.label == label).unwrap_or_else(|| panic!("no case {label}"))
}

/// The member `label` in a report.
fn member<'a>(report: &'a Value, label: &str) -> &'a Value {
    report["members"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["label"] == label))
        .unwrap_or_else(|| panic!("no member {label} in {report:#}"))
}

/// Ids of a member's checks with one of `statuses`, first occurrence order.
fn ids_with(m: &Value, statuses: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for c in m["checks"].as_array().expect("checks") {
        let id = c["id"].as_str().expect("id").to_string();
        if statuses.contains(&c["status"].as_str().expect("status")) && !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The check `id` of `name` in member `m`.
fn check_of<'a>(m: &'a Value, id: &str, name: &str) -> &'a Value {
    m["checks"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == id && c["name"] == name))
        .unwrap_or_else(|| panic!("no check {id} for {name} in {m:#}"))
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap_or_else(|| panic!("not an object: {v}")).keys().map(String::as_str).collect()
}

/// The JSON of section 11, exactly: these keys, these types, these values.
fn assert_schema(r: &Value) {
    let set = |ks: &[&'static str]| ks.iter().copied().collect::<BTreeSet<_>>();
    assert_eq!(keys(r), set(&["zone", "checked_at", "summary", "members"]), "{r:#}");
    assert_eq!(r["zone"], "mic.gov.vn");
    let at = r["checked_at"].as_str().expect("checked_at is a string");
    let b = at.as_bytes();
    assert!(
        b.len() == 20 && b[4] == b'-' && b[10] == b'T' && b[19] == b'Z' && at.starts_with("20"),
        "checked_at is RFC 3339 UTC: {at}"
    );
    assert_eq!(keys(&r["summary"]), set(&["passed", "warning", "failed", "error"]));
    let members = r["members"].as_array().expect("members is an array");
    let counted: u64 = ["passed", "warning", "failed", "error"].iter().map(|k| r["summary"][k].as_u64().unwrap()).sum();
    assert_eq!(counted, members.len() as u64, "the summary counts every member once");
    let ids = set(&[
        "naming.label",
        "resolve.exists",
        "resolve.ipv6",
        "target.shared",
        "target.independent",
        "resolve.own_domain",
        "address.public",
        "takeover.dangling_cname",
        "cname.hygiene",
        "caa.permits_ca",
    ]);
    for m in members {
        assert_eq!(keys(m), set(&["label", "membership", "status", "checks"]), "{m:#}");
        assert!(["shared", "independent"].contains(&m["membership"].as_str().unwrap()));
        let status = m["status"].as_str().unwrap();
        assert!(["passed", "warning", "failed", "error"].contains(&status), "{status}");
        assert_eq!(r["summary"][status].as_u64().map(|n| n > 0), Some(true));
        for c in m["checks"].as_array().expect("checks is an array") {
            assert_eq!(keys(c), set(&["id", "status", "name", "message", "evidence", "fix"]), "{c:#}");
            assert!(ids.contains(c["id"].as_str().unwrap()), "{c:#}");
            let s = c["status"].as_str().unwrap();
            assert!(["passed", "failed", "warning", "info", "not_tested", "error"].contains(&s), "{c:#}");
            assert!(c["name"].as_str().is_some_and(|n| !n.is_empty()) && c["message"].is_string(), "{c:#}");
            assert!(c["evidence"].as_array().unwrap().iter().all(Value::is_string), "{c:#}");
            assert!(c["fix"].is_null() || c["fix"].is_string(), "{c:#}");
            if s == "failed" {
                assert!(c["fix"].as_str().is_some_and(|f| !f.is_empty()), "a failed check says the fix: {c:#}");
            }
        }
    }
}

#[test]
fn every_verdict_against_a_real_dns_server() {
    let world = World::new("verdicts", "check_interval_secs = 0");
    world.register(&CASES.iter().collect::<Vec<_>>());
    let report = world.check_json(&[], 1);
    assert_eq!(report["members"].as_array().unwrap().len(), CASES.len());
    for c in CASES {
        let m = member(&report, c.label);
        assert_eq!(m["status"], c.status, "{}: {m:#}", c.label);
        assert_eq!(ids_with(m, &["failed", "error"]), c.failing, "{}: {m:#}", c.label);
    }
    assert_eq!(report["summary"], serde_json::json!({"passed": 3, "warning": 3, "failed": 8, "error": 1}));

    // Evidence in zone-file form and one-line fixes, for a few of them.
    let cbc = check_of(member(&report, "cbc"), "resolve.exists", "cbc.mic.gov.vn");
    assert_eq!(cbc["evidence"], serde_json::json!(["; cbc.mic.gov.vn. NXDOMAIN"]));
    assert_eq!(cbc["fix"], "add: cbc.mic.gov.vn. 300 IN A 127.0.0.1");
    let cds = check_of(member(&report, "cds"), "resolve.exists", "cds.mic.gov.vn");
    assert!(cds["message"].as_str().unwrap().contains("NODATA"), "{cds:#}");
    let ttt = check_of(member(&report, "ttt"), "target.shared", "ttt.mic.gov.vn");
    assert_eq!(ttt["evidence"][0], "ttt.mic.gov.vn. 300 IN A 45.76.1.99");
    assert_eq!(ttt["fix"], "replace with: ttt.mic.gov.vn. 300 IN A 127.0.0.1");
    let vnnic = check_of(member(&report, "vnnic"), "address.public", "vnnic.mic.gov.vn");
    assert_eq!(vnnic["evidence"], serde_json::json!(["vnnic.mic.gov.vn. 300 IN A 10.0.0.5"]));
    assert_eq!(check_of(member(&report, "vnnic"), "target.independent", "vnnic.mic.gov.vn")["status"], "passed");
    let cntt = check_of(member(&report, "cntt"), "takeover.dangling_cname", "cntt.mic.gov.vn");
    assert_eq!(
        cntt["evidence"],
        serde_json::json!(["cntt.mic.gov.vn. 300 IN CNAME gone.example-own.vn.", "; gone.example-own.vn. NXDOMAIN"])
    );
    let vpb = check_of(member(&report, "vpb"), "cname.hygiene", "vpb.mic.gov.vn");
    assert!(vpb["message"].as_str().unwrap().contains("loop"), "{vpb:#}");
    let ptit = check_of(member(&report, "ptit"), "caa.permits_ca", "ptit.mic.gov.vn");
    assert_eq!(ptit["evidence"], serde_json::json!(["ptit.mic.gov.vn. 300 IN CAA 0 issue \"digicert.com\""]));
    assert_eq!(ptit["fix"], "add: ptit.mic.gov.vn. 300 IN CAA 0 issue \"letsencrypt.org\"");
    let vncert = check_of(member(&report, "vncert"), "resolve.own_domain", "vncert.gov.vn");
    assert!(vncert["message"].as_str().unwrap().contains("NXDOMAIN"), "{vncert:#}");
    // Independent members: at their server, via a CNAME to their server's name, at the platform.
    for (label, how) in [("rfd", "server 45.76.1.10"), ("tccb", "server www.example-own.vn"), ("khcn", "the platform")]
    {
        let c = check_of(member(&report, label), "target.independent", &format!("{label}.mic.gov.vn"));
        assert_eq!(c["status"], "passed", "{c:#}");
        assert!(c["message"].as_str().unwrap().contains(how), "{label}: {c:#}");
    }
    // IPv6: an AAAA record (also through a CNAME) passes; none is a warning, with the
    // platform's IPv6 address as the fix for a shared member.
    assert_eq!(check_of(member(&report, "ais"), "resolve.ipv6", "ais.mic.gov.vn")["status"], "passed");
    assert_eq!(check_of(member(&report, "tdkt"), "resolve.ipv6", "tdkt.mic.gov.vn")["status"], "passed");
    let rfd = check_of(member(&report, "rfd"), "resolve.ipv6", "rfd.mic.gov.vn");
    assert_eq!(
        (rfd["status"].as_str(), rfd["fix"].as_str()),
        (Some("warning"), Some("add an AAAA record for the server's IPv6 address")),
        "{rfd:#}"
    );
    let ttt = check_of(member(&report, "ttt"), "resolve.ipv6", "ttt.mic.gov.vn");
    assert_eq!(
        (ttt["status"].as_str(), ttt["fix"].as_str()),
        (Some("warning"), Some("add: ttt.mic.gov.vn. 300 IN AAAA ::1")),
        "{ttt:#}"
    );
    // A shared member's CNAME to the platform's name is as good as its address.
    let tdkt = check_of(member(&report, "tdkt"), "target.shared", "tdkt.mic.gov.vn");
    assert!(tdkt["message"].as_str().unwrap().contains("the platform"), "{tdkt:#}");
    // A name the server refuses is "could not test", never "failed".
    let bcvt = check_of(member(&report, "bcvt"), "resolve.own_domain", "bcvt.example.org");
    assert_eq!(bcvt["status"], "error", "{bcvt:#}");
    assert_eq!(check_of(member(&report, "tintuc"), "naming.label", "tintuc.mic.gov.vn")["status"], "warning");

    // The results are kept in the registry.
    let registry = cong::store::registry::Registry::open(&world.dir.path().join("data/registry.db")).expect("registry");
    let stored = registry.last_dns().expect("stored results");
    assert_eq!(stored.len(), CASES.len());
    assert!(stored.iter().any(|r| r.label == "cbc" && r.status == "failed"));
}

#[test]
fn the_table_shows_each_failing_check_with_evidence_and_fix() {
    let world = World::new("table", "check_interval_secs = 0");
    world.register(&[case("ais"), case("cbc"), case("ptit")]);
    let out = world.cli(&["dns", "check"]);
    out.expect_code(1);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].starts_with("LABEL") && lines[0].contains("STATUS"), "{out}");
    let row = |label: &str| lines.iter().find(|l| l.starts_with(&format!("{label} "))).copied().unwrap_or("");
    assert!(row("ais").contains("shared") && row("ais").contains("passed"), "{out}");
    assert!(row("cbc").contains("failed") && row("cbc").contains("resolve.exists"), "{out}");
    assert!(row("ptit").contains("failed") && row("ptit").contains("caa.permits_ca"), "{out}");
    for expected in [
        "; cbc.mic.gov.vn. NXDOMAIN",
        "fix: add: cbc.mic.gov.vn. 300 IN A 127.0.0.1",
        "ptit.mic.gov.vn. 300 IN CAA 0 issue \"digicert.com\"",
        "fix: add: ptit.mic.gov.vn. 300 IN CAA 0 issue \"letsencrypt.org\"",
    ] {
        assert!(lines.iter().any(|l| l.trim() == expected), "missing {expected:?}:\n{out}");
    }
    let last = lines.last().copied().unwrap_or("");
    assert!(last.starts_with("zone mic.gov.vn, 3 members checked at "), "{out}");
    assert!(last.ends_with(": 1 passed, 0 warning, 2 failed, 0 error"), "{out}");
    assert!(!out.stderr.contains("checking DNS"), "no progress indicator off a terminal:\n{out}");
}

#[test]
fn exit_codes() {
    let world = World::new("exits", "check_interval_secs = 0");
    world.register(&[case("ais"), case("cbc"), case("tdkt"), case("rfd"), case("tintuc"), case("bcvt")]);
    let passed = world.check_json(&["ais", "tdkt"], 0);
    assert_eq!(passed["summary"], serde_json::json!({"passed": 2, "warning": 0, "failed": 0, "error": 0}));
    let warned = world.check_json(&["tintuc", "rfd"], 0);
    assert_eq!(member(&warned, "tintuc")["status"], "warning");
    assert_eq!(member(&warned, "rfd")["status"], "warning", "no IPv6 is a warning, exit 0");
    world.check_json(&["AIS", "cbc"], 1);
    let refused = world.check_json(&["bcvt"], 3);
    assert_eq!(member(&refused, "bcvt")["status"], "error");
    world.cli(&["dns", "check", "nosuch"]).expect_code(2);
    world.cli(&["dns", "check", "--resolver", "not-an-address"]).expect_code(2);

    // Nothing answers on this port: every lookup fails, so nothing can be called failed.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("address").port();
    drop(silent);
    let resolver = format!("127.0.0.1:{port}");
    let unreachable = world.check_json(&["ais", "cbc", "--resolver", &resolver], 3);
    for label in ["ais", "cbc"] {
        let m = member(&unreachable, label);
        assert_eq!(m["status"], "error", "{m:#}");
        assert!(ids_with(m, &["failed"]).is_empty(), "a timeout is never failed: {m:#}");
    }
}

/// Poll `GET path` on the admin API until it answers `status`, for at most `within`.
async fn await_api(api: &Api, path: &str, status: u16, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let resp = api.call("GET", path).await;
        if resp.status == status {
            return resp.json();
        }
        assert!(Instant::now() < deadline, "GET {path}: still {} after {within:?}: {}", resp.status, resp.text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Api {
    addr: std::net::SocketAddr,
    token: String,
}

impl Api {
    async fn call(&self, method: &str, path: &str) -> common::Resp {
        let auth = format!("Bearer {}", self.token);
        request(self.addr, method, "admin", path, &[("authorization", auth.as_str())], Vec::new()).await
    }
}

async fn launch(world: &World) -> (cong::app::Running, Api) {
    let mut config = cong::model::config::Config::from_file(&world.config).expect("config loads");
    config.admin_token = Some(world.token.clone());
    let running = common::launch(config).await;
    let api = Api { addr: running.admin_addr.expect("admin listener"), token: world.token.clone() };
    (running, api)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_rechecks_and_the_admin_api_shows_the_results() {
    let world = World::new("server", "check_interval_secs = 1");
    world.register(&[case("ais"), case("cbc"), case("khcn")]);
    let (running, api) = launch(&world).await;

    // The first periodic run comes shortly after start and is stored.
    let report = await_api(&api, "/api/dns", 200, Duration::from_secs(30)).await;
    assert_schema_stored(&report);
    assert_eq!(member(&report, "cbc")["status"], "failed");
    assert_eq!(member(&report, "ais")["status"], "passed");

    let cbc = await_api(&api, "/api/members/cbc", 200, Duration::from_secs(5)).await;
    assert_eq!(cbc["dns"]["status"], "failed", "{cbc:#}");
    assert_eq!(cbc["dns"]["failing"], serde_json::json!(["resolve.exists"]));
    assert!(cbc["dns"]["checked_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{cbc:#}");
    let ais = await_api(&api, "/api/members/ais", 200, Duration::from_secs(5)).await;
    assert_eq!(ais["dns"]["status"], "passed");
    assert_eq!(ais["dns"]["failing"], serde_json::json!([]));

    // On demand: in the background (202), or waiting for the report (200).
    let started = api.call("POST", "/api/dns/check").await;
    assert_eq!(started.status, 202, "{}", started.text());
    assert!(started.json()["started"].is_boolean());
    let now = api.call("POST", "/api/dns/check?wait=true").await;
    assert_eq!(now.status, 200, "{}", now.text());
    let fresh = now.json();
    assert_schema(&fresh);
    assert_eq!(fresh["summary"], serde_json::json!({"passed": 2, "warning": 0, "failed": 1, "error": 0}));
    let status = await_api(&api, "/api/status", 200, Duration::from_secs(5)).await;
    assert_eq!(status["dns"]["summary"]["failed"], 1, "{status:#}");
    let metrics = api.call("GET", "/metrics").await.text();
    for line in
        ["cong_dns_status{member=\"cbc\",status=\"failed\"} 1", "cong_dns_status{member=\"ais\",status=\"passed\"} 1"]
    {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }
    running.stop().await;
}

/// The stored report: section 11's shape, plus each member's own `checked_at`.
fn assert_schema_stored(report: &Value) {
    let mut plain = report.clone();
    for m in plain["members"].as_array_mut().expect("members") {
        let at = m.as_object_mut().expect("member").remove("checked_at");
        assert!(at.as_ref().and_then(Value::as_str).is_some_and(|t| t.ends_with('Z')), "{m:#}");
    }
    assert_schema(&plain);
}

/// `check_interval_secs = 0` beside a control with 1 (first run 1 s after start): the
/// control's periodic report shows that the wait and the way of looking see a periodic
/// run; the server with 0, started first and given as long again, has none. Before this,
/// a fixed 1.5 s wait could not see a run that comes 30 s after start (the default interval).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interval_of_zero_turns_the_periodic_check_off() {
    let off = World::new("nointerval", "check_interval_secs = 0");
    let control = World::new("control", "check_interval_secs = 1");
    for world in [&off, &control] {
        world.register(&[case("cbc")]);
    }
    let config = cong::model::config::Config::from_file(&off.config).expect("config loads");
    assert_eq!(config.dns_check_interval_secs, 0, "0 stays 0 (off), never the default");
    let (running, api) = launch(&off).await;
    let started = Instant::now();
    let (control_running, control_api) = launch(&control).await;
    let report = await_api(&control_api, "/api/dns", 200, Duration::from_secs(30)).await;
    assert_eq!(member(&report, "cbc")["status"], "failed", "the control's periodic run");
    let cbc = await_api(&control_api, "/api/members/cbc", 200, Duration::from_secs(5)).await;
    assert_eq!(cbc["dns"]["status"], "failed", "the control's member shows its run: {cbc:#}");
    control_running.stop().await;
    // As long again as the control needed, so a slow machine waits longer, never too little.
    tokio::time::sleep(started.elapsed()).await;

    let none = api.call("GET", "/api/dns").await;
    assert_eq!((none.status, none.json()["error"]["code"].as_str()), (404, Some("no_dns_report")), "{}", none.text());
    let cbc = await_api(&api, "/api/members/cbc", 200, Duration::from_secs(5)).await;
    assert_eq!(cbc["dns"], Value::Null, "not checked yet: {cbc:#}");
    let registry = cong::store::registry::Registry::open(&off.dir.path().join("data/registry.db")).expect("registry");
    assert!(registry.last_dns().expect("stored results").is_empty(), "no periodic run stored a result");
    let now = api.call("POST", "/api/dns/check?wait=1").await;
    assert_eq!(now.status, 200, "{}", now.text());
    assert_eq!(member(&now.json(), "cbc")["status"], "failed");
    let report = await_api(&api, "/api/dns", 200, Duration::from_secs(5)).await;
    assert_eq!(member(&report, "cbc")["status"], "failed");
    running.stop().await;
}
