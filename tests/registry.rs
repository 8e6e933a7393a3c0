//! The member registry end to end (docs/architecture.md, docs/naming.md, docs/cli.md): a real server launched
//! in-process on a temp `cong.toml`, and the `cong` binary run as other processes against
//! the same `data/registry.db` — what a visitor, an operator and a script see.

use crate::common::registry::{
    self, assert_shows_none, await_status, codes, cong_command, demo_labels, demo_marks, get, launch, Api, Env, Tenants,
};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::BufRead;
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// A member that is not in the demo: "Vụ Pháp chế" abbreviates to v·p·c.
const VPC: [&str; 2] = ["Vụ Pháp chế", "Department of Legal Affairs"];

fn register_vpc(env: &Env) -> registry::Out {
    env.cli(&["member", "register", "vpc", "--name-vi", VPC[0], "--name-en", VPC[1], "--membership", "shared"])
}

/// The labels of `cong member list --json`, with their status.
fn listed(env: &Env) -> Vec<(String, String)> {
    let out = env.cli(&["member", "list", "--json"]);
    out.expect_code(0);
    let json = out.json();
    let members = json["members"].as_array().unwrap_or_else(|| panic!("no members array:\n{out}"));
    members
        .iter()
        .map(|m| (m["label"].as_str().unwrap_or_default().into(), m["status"].as_str().unwrap_or_default().into()))
        .collect()
}

/// `cong member audit --json`, newest first.
fn audit(env: &Env) -> Vec<Value> {
    let out = env.cli(&["member", "audit", "--limit", "1000", "--json"]);
    out.expect_code(0);
    out.json()["audit"].as_array().unwrap_or_else(|| panic!("no audit array:\n{out}")).clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_start_imports_the_demo_sites_as_active_members_and_the_audit_log_says_so() {
    let env = Env::new("fresh", Tenants::Repo);
    assert!(!env.registry_path().exists(), "a fresh data folder");
    let running = launch(&env).await;
    assert!(env.registry_path().is_file(), "data/registry.db is created on first start");

    let demo = demo_labels();
    let members = listed(&env);
    let labels: Vec<&str> = members.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, demo, "every demo folder is a member");
    for (label, status) in &members {
        assert_eq!(status, "active", "{label}: demo sites come up active");
    }

    let log = audit(&env);
    assert_eq!(log.len(), demo.len(), "one entry per imported site, nothing else: {log:#?}");
    for label in &demo {
        let entry = log
            .iter()
            .find(|e| e["label"] == label.as_str())
            .unwrap_or_else(|| panic!("{label}: no audit entry in {log:#?}"));
        assert_eq!(entry["action"], "register", "{entry}");
        assert_eq!(entry["detail"]["status"], "active", "{entry}");
        let reason = entry["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("imported"), "{label}: the reason should say the site was imported: {entry}");
    }
    assert_eq!(get(running.http_addr, "cbc.mic.gov.vn", "/").await.status, 200);
    running.stop().await;

    // The import is for an empty registry only: a restart adds nothing.
    let running = launch(&env).await;
    assert_eq!(audit(&env).len(), demo.len(), "a second start imports nothing");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_commands_in_another_process_change_what_the_running_server_serves() {
    let env = Env::new("follow", Tenants::Copy);
    let running = launch(&env).await;
    let http = running.http_addr;
    let cbc = "cbc.mic.gov.vn";
    assert_eq!(get(http, cbc, "/").await.status, 200, "cbc is served before any change");

    env.cli(&["member", "suspend", "cbc", "--reason", "x"]).expect_code(0);
    let resp = await_status(http, cbc, 503).await;
    assert_eq!(resp.status, 503, "suspend: not seen by the server within the bound\n{}", resp.text());
    assert!(!resp.header("retry-after").is_empty(), "a suspended member's 503 carries Retry-After");

    env.cli(&["member", "activate", "cbc"]).expect_code(0);
    let resp = await_status(http, cbc, 200).await;
    assert_eq!(resp.status, 200, "activate: not seen by the server within the bound");
    assert!(resp.text().contains("Cục Báo chí"), "cbc's own page is back");

    // Archived: the record stays readable, with the platform's banner, not indexed.
    env.cli(&["member", "archive", "cbc"]).expect_code(0);
    let resp = crate::common::wait_until(
        "the archived banner",
        registry::PROPAGATION,
        Duration::from_millis(50),
        async || {
            let r = get(http, cbc, "/").await;
            if r.status == 200 && r.text().contains("Trang lưu trữ") {
                Ok(r)
            } else {
                Err(format!("{}", r.status))
            }
        },
    )
    .await;
    assert_eq!(resp.header("x-robots-tag"), "noindex");
    assert!(resp.text().contains("Cục Báo chí"), "cbc's own pages, as archived");

    // A new member is pending: its host is a neutral 404, though the server knows it
    // (the request is counted for "vpc", where an unknown host counts for nobody).
    register_vpc(&env).expect_code(0);
    let api = Api::new(&running, &env);
    let deadline = Instant::now() + registry::PROPAGATION;
    while !api.call("GET", "/metrics", "").await.text().contains("cong_members{status=\"pending\"} 1\n") {
        assert!(Instant::now() < deadline, "the registration was not seen by the server within the bound");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let vpc = "vpc.mic.gov.vn";
    let resp = get(http, vpc, "/").await;
    assert_eq!(resp.status, 404, "a pending member is not served");
    assert!(resp.text().contains("Portal not found"), "the neutral page:\n{}", resp.text());
    let mut marks = demo_marks();
    marks.extend(VPC.map(String::from));
    assert_shows_none(&resp.text(), &marks, "pending vpc");
    let metrics = api.call("GET", "/metrics", "").await.text();
    assert!(metrics.contains("cong_requests_total{member=\"vpc\",status=\"404\"} 1\n"), "{metrics}");

    // Its site folder, scaffolded from the registry.
    let out = env.cli(&["site", "new", "vpc"]);
    out.expect_code(0);
    let site_toml = std::fs::read_to_string(env.tenants.join("vpc/site.toml")).unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert!(site_toml.contains(VPC[0]), "the scaffold takes the registered name:\n{site_toml}");

    // The file watcher loads the new folder, but a pending member stays unserved.
    let deadline = Instant::now() + registry::PROPAGATION;
    while api.get_json("/api/members/vpc", 200).await["site"]["loaded"] != true {
        assert!(Instant::now() < deadline, "tenants/vpc was not loaded within the bound");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let resp = get(http, vpc, "/").await;
    assert_eq!(resp.status, 404, "a site folder alone does not put a pending member live");
    assert_shows_none(&resp.text(), &marks, "pending vpc with its folder loaded");

    // Activating puts it live.
    env.cli(&["member", "activate", "vpc"]).expect_code(0);
    let resp = await_status(http, vpc, 200).await;
    assert_eq!(resp.status, 200, "vpc is served once active with a site folder\n{}", resp.text());
    assert!(resp.text().contains(VPC[0]), "vpc's home page shows its name:\n{}", resp.text());
    running.stop().await;

    // A second server on the same config serves the same state from the registry.
    let running = launch(&env).await;
    let resp = get(running.http_addr, vpc, "/").await;
    assert_eq!(resp.status, 200, "vpc after a restart\n{}", resp.text());
    assert!(resp.text().contains(VPC[0]), "vpc's home page after a restart");
    let archived = get(running.http_addr, cbc, "/").await;
    assert_eq!(archived.status, 200, "archived stays readable after a restart");
    assert!(archived.text().contains("Trang lưu trữ"), "with its banner after a restart");
    running.stop().await;
}

#[test]
fn name_check_exit_codes_and_json() {
    let env = Env::new("namecheck", Tenants::Repo);
    let check = |name: &str, code: i32| -> Value {
        let out = env.cli(&["name", "check", name, "--json"]);
        out.expect_code(code);
        out.json()
    };

    let ok = check("ais.mic.gov.vn", 0);
    let keys: BTreeSet<&str> = ok.as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["name", "label", "ok", "errors", "warnings", "suggestion"]), "{ok}");
    assert_eq!(ok["name"], "ais.mic.gov.vn", "{ok}");
    assert_eq!(ok["label"], "ais", "{ok}");
    assert_eq!(ok["ok"], true, "{ok}");
    assert!(ok["suggestion"].is_null(), "{ok}");
    assert!(!env.registry_path().exists(), "checking a name never creates a registry");

    let bad = check("Cục Báo chí", 1);
    assert_eq!(bad["ok"], false);
    assert_eq!(codes(&bad, "errors"), ["diacritics", "invalid_chars"], "{bad}");
    assert_eq!(bad["suggestion"], "cucbaochi", "{bad}");

    let table = [
        ("www", "reserved"),
        ("a--b", "double_hyphen"),
        ("x.y.mic.gov.vn", "not_fourth_level"),
        ("ais.gov.vn", "wrong_zone"),
    ];
    for (name, code) in table {
        let report = check(name, 1);
        assert!(codes(&report, "errors").contains(&code.to_string()), "{name}: expected {code}: {report}");
        assert_eq!(report["ok"], false, "{name}");
    }

    // Against a registry that holds ais.
    env.cli(&[
        "member",
        "register",
        "ais",
        "--name-vi",
        "Cục An toàn thông tin",
        "--name-en",
        "Authority of Information Security",
        "--membership",
        "shared",
    ])
    .expect_code(0);
    let taken = check("ais", 1);
    assert_eq!(codes(&taken, "errors"), ["taken"], "{taken}");
    let lookalike = check("a1s", 0);
    assert!(codes(&lookalike, "errors").is_empty(), "{lookalike}");
    assert_eq!(codes(&lookalike, "warnings"), ["confusable"], "{lookalike}");
    assert_eq!(lookalike["ok"], true, "a warning still lets the name through");
}

#[test]
fn registration_needs_an_override_reason_for_warnings_and_refuses_taken_names_and_bad_transitions() {
    let env = Env::new("register", Tenants::Repo);
    let register = |extra: &[&str]| {
        let mut args = vec!["member", "register", "hotgirl", "--name-vi", "Cục Báo chí", "--membership", "shared"];
        args.extend_from_slice(extra);
        env.cli(&args)
    };

    let out = register(&[]);
    out.expect_code(1);
    assert!(out.all().contains("not_abbreviation"), "the warning is named:\n{out}");
    assert!(out.all().contains("--override-reason"), "the way out is named as the flag:\n{out}");
    assert!(!out.all().contains("accepted"), "a name that was not registered is not called accepted:\n{out}");
    assert!(listed(&env).is_empty(), "nothing registered:\n{out}");

    let reason = "Bộ trưởng đã phê duyệt tên này";
    register(&["--override-reason", reason]).expect_code(0);
    assert_eq!(listed(&env), [("hotgirl".to_string(), "pending".to_string())]);
    let log = audit(&env);
    assert_eq!(log[0]["action"], "register", "{log:#?}");
    assert_eq!(log[0]["label"], "hotgirl", "{log:#?}");
    assert_eq!(log[0]["reason"], reason, "the override reason is in the audit log");

    let out = register(&["--override-reason", "again"]);
    out.expect_code(1);
    assert!(out.all().contains("taken"), "{out}");

    env.cli(&["member", "archive", "hotgirl", "--reason", "nhầm tên"]).expect_code(0);
    let out = env.cli(&["member", "activate", "hotgirl"]);
    out.expect_code(1);
    assert!(out.stderr.contains("archived"), "says why:\n{out}");
    assert_eq!(listed(&env), [("hotgirl".to_string(), "archived".to_string())]);
    let out = env.cli(&["member", "suspend", "ghost"]);
    out.expect_code(1);
    assert_eq!(audit(&env).len(), 2, "refused changes leave no audit entry");
}

#[test]
fn racing_registrations_of_one_label_in_separate_processes_have_one_winner() {
    let env = Env::new("race", Tenants::Repo);
    let config = env.config_path.to_str().expect("utf-8 path").to_string();
    let args = [
        "--config",
        &config,
        "member",
        "register",
        "dup",
        "--name-vi",
        "Đơn vị Ứng dụng Phần mềm",
        "--membership",
        "shared",
    ];
    // Start all eight before waiting for any: they race for the schema and the label.
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let args = args.map(String::from);
            std::thread::spawn(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                registry::run(&mut cong_command(&args))
            })
        })
        .collect();
    let outs: Vec<_> = racers.into_iter().map(|r| r.join().expect("racer")).collect();
    let winners = outs.iter().filter(|o| o.code == 0).count();
    let all: Vec<String> = outs.iter().map(ToString::to_string).collect();
    assert_eq!(winners, 1, "exactly one registration wins:\n{}", all.join("\n"));
    for out in outs.iter().filter(|o| o.code != 0) {
        out.expect_code(1);
        assert!(out.all().contains("taken"), "a loser is told the name is taken:\n{out}");
    }
    assert_eq!(listed(&env), [("dup".to_string(), "pending".to_string())]);
}

/// Acknowledged registrations survive SIGKILL: a shell loop registers `m1`, `m2`, ... one
/// `cong member register` process after another and prints `ACK mN` only when one exits 0,
/// while `cong serve` follows the same registry; both process groups are killed with
/// SIGKILL mid-burst (usually in the middle of a registration).
#[test]
fn acknowledged_registrations_survive_sigkill_and_the_file_stays_sound() {
    let env = Env::new("crash", Tenants::Repo);
    let cong = env!("CARGO_BIN_EXE_cong");
    let config = env.config_path.to_str().expect("utf-8 path");

    let mut serve = cong_command(&["--config", config, "serve", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn cong serve");
    let demo = demo_labels();
    let deadline = Instant::now() + Duration::from_secs(60);
    while listed(&env).len() < demo.len() {
        assert!(Instant::now() < deadline, "cong serve did not import the demo sites");
        std::thread::sleep(Duration::from_millis(50));
    }

    let script = r#"for i in $(seq 1 400); do
        "$CONG" --config "$CFG" member register "m$i" --name-vi "Đơn vị số $i" --membership shared \
            --override-reason "burst" >/dev/null 2>&1 && echo "ACK m$i"
    done"#;
    let mut burst = std::process::Command::new("bash")
        .args(["-c", script])
        .env("CONG", cong)
        .env("CFG", config)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn bash");
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = burst.stdout.take().expect("stdout piped");
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(label) = line.strip_prefix("ACK ") {
                let _ = tx.send(label.to_string());
            }
        }
    });

    let mut acked = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked.len() < 20 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(label) => acked.push(label),
            Err(e) => panic!("the burst stalled after {} acknowledgements: {e}", acked.len()),
        }
    }
    // Land somewhere inside the next registration rather than always just after an ack.
    let jitter = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    std::thread::sleep(Duration::from_millis(u64::from(jitter % 40)));
    for pid in [burst.id(), serve.id()] {
        let killed = std::process::Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]).status();
        assert!(killed.is_ok_and(|s| s.success()), "kill -KILL -{pid}");
    }
    let _ = burst.wait();
    let _ = serve.wait();
    reader.join().expect("reader");
    acked.extend(rx.try_iter());
    assert!(!acked.iter().any(|l| l == "m400"), "the kill should land mid-burst: {} acks", acked.len());

    let registry =
        cong::store::registry::Registry::open(&env.registry_path()).expect("the registry opens after the kill");
    assert_eq!(registry.integrity_check().expect("integrity_check runs"), "ok");
    let members: BTreeSet<String> = registry.members().expect("members").into_iter().map(|m| m.names.label).collect();
    for label in acked.iter().chain(&demo) {
        assert!(members.contains(label), "{label} was acknowledged but is gone after the kill");
    }
    for label in &acked {
        let member = registry.member(label).expect("read a member").expect("present");
        assert_eq!(member.status, cong::model::member::Status::Pending, "{label}");
        assert_eq!(member.names.name_vi, format!("Đơn vị số {}", &label[1..]), "{label}: its row is whole");
    }
    let logged: BTreeSet<String> = registry
        .audit(10_000)
        .expect("audit")
        .into_iter()
        .filter(|e| e.action == "register")
        .map(|e| e.label)
        .collect();
    assert_eq!(logged, members, "every member has its register entry, and only members have one");
    // Registrations ran one after another: at most the one in flight committed unacknowledged.
    let number = |label: &str| label.trim_start_matches('m').parse::<u32>().unwrap_or(0);
    let last = acked.iter().map(|l| number(l)).max().unwrap_or(0);
    let extra: Vec<&String> = members.iter().filter(|l| !acked.contains(l) && !demo.contains(l)).collect();
    assert!(
        extra.len() <= 1 && extra.iter().all(|l| number(l) > last),
        "unexpected members {extra:?} after {} acks (last m{last})",
        acked.len()
    );
    drop(registry);
    assert_eq!(listed(&env).len(), members.len(), "the CLI reads the same file after the kill");
}
