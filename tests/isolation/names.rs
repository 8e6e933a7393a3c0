//! Every name a member carries is checked when stored, the first-start import included, and
//! what tenants control never reaches a log line or the operator's terminal as it is
//! (DESIGN section 13, docs/naming.md, docs/cli.md `cong serve`): hostile site folders are
//! refused at import with the naming code and field, the others still serve; the command
//! line and the admin API refuse the same names naming the field; a deleted `registry.db`
//! in a data folder that held members is not rebuilt from the folders.

use crate::common::process::Server;
use crate::common::registry::{self, error_code, get, launch, Api, Env, Tenants};
use crate::common::{self, copy_demo};
use serde_json::Value;
use std::path::Path;

const TOKEN: &str = "isolation-names-token";

/// A site folder with the demo's `ttt` pages and this `site.toml` (`label` = the folder).
fn add_site(tenants: &Path, folder: &str, rest: &str) {
    let dir = tenants.join(folder);
    common::copy_tree(&tenants.join("ttt/content"), &dir.join("content"));
    let label = toml::Value::String(folder.to_string());
    std::fs::write(dir.join("site.toml"), format!("label = {label}\n{rest}")).unwrap();
}

/// Site folders that must not be imported: folder, the rest of its `site.toml`, the
/// naming code and the field the refusal names.
const HOSTILE: &[(&str, &str, &str, &str)] = &[
    // Took vnnic's name once: vnnic.mic.gov.vn answered 301 to aaa.
    ("aaa", "name_vi = \"Đơn vị AAA\"\naliases = [\"vnnic.mic.gov.vn\"]\n", "own_domain_in_zone", "aliases[0]"),
    ("a", "name_vi = \"Đơn vị A\"\n", "too_short", "name"),
    // Once answered `Location: https://evil.example/phish?/x`.
    ("moi", "name_vi = \"Mồi\"\ncanonical = \"evil.example/phish?\"\n", "canonical_not_own", "canonical"),
    ("esc", "name_vi = \"Đơn vị\\u001b]0;pwned\\u0007\\u001b[2J\"\n", "control_chars", "name_vi"),
    // A folder name with a newline: its log lines must stay one line each.
    ("x\nINFO forged", "name_vi = \"Đơn vị X\"\n", "invalid_chars", "name"),
];

/// The `refuse_import` entries of the audit log: label → (code, field) of the first error.
fn refused(config: &Path) -> Vec<(String, String, String)> {
    let out = registry::cli(config, &["member", "audit", "--limit", "1000", "--json"]);
    out.expect_code(0);
    let json = out.json();
    let entries = json["audit"].as_array().unwrap_or_else(|| panic!("no audit array:\n{out}"));
    entries
        .iter()
        .filter(|e| e["action"] == "refuse_import")
        .map(|e| {
            let first = &e["detail"]["errors"][0];
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (s(&e["label"]), s(&first["code"]), s(&first["field"]))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_folders_are_refused_at_import_with_their_code_and_the_others_still_serve() {
    let dir = tempfile::tempdir().unwrap();
    copy_demo(dir.path());
    let tenants = dir.path().join("tenants");
    for (folder, rest, _, _) in HOSTILE {
        add_site(&tenants, folder, rest);
    }
    let server = Server::start(dir.path(), TOKEN, "");
    let http = server.http;

    let vnnic = get(http, "vnnic.mic.gov.vn", "/").await;
    assert_eq!(vnnic.status, 200, "vnnic keeps its name:\n{}", vnnic.text());
    assert!(vnnic.text().contains("Trung tâm Internet Việt Nam"), "vnnic's own page");
    assert_eq!(get(http, "cbc.mic.gov.vn", "/").await.status, 200, "the other folders are imported");
    for label in ["aaa", "a", "moi", "esc"] {
        let resp = get(http, &format!("{label}.mic.gov.vn"), "/x").await;
        assert_eq!(resp.status, 404, "{label} is not a member:\n{}", resp.text());
        assert_eq!(resp.header("location"), "", "{label}: no redirect anywhere");
    }

    // The log names each folder, the code and the field, one line each.
    for (folder, _, code, field) in HOSTILE {
        let shown = folder.replace('\n', "\\n");
        let wanted = format!("{shown}/site.toml: not imported: {code} ({field})");
        assert!(server.logged(|l| l.contains(&wanted)), "no line {wanted:?}:\n{}", server.log_text());
    }
    assert!(!server.logged(|l| l.starts_with("INFO forged")), "a forged log line:\n{}", server.log_text());
    assert!(!server.logged(|l| l.contains(['\u{1b}', '\u{7}'])), "a raw escape in the log:\n{}", server.log_text());

    // The audit log keeps each refusal, and no member was made of them.
    let mut got = refused(&server.config);
    got.sort();
    let mut want: Vec<(String, String, String)> =
        HOSTILE.iter().map(|(f, _, c, field)| (f.to_string(), c.to_string(), field.to_string())).collect();
    want.sort();
    assert_eq!(got, want);
    let list = registry::cli(&server.config, &["member", "list", "--json"]);
    list.expect_code(0);
    let labels: Vec<String> =
        list.json()["members"].as_array().unwrap().iter().map(|m| m["label"].as_str().unwrap().to_string()).collect();
    assert_eq!(labels, registry::demo_labels(), "only the demo's folders are members");

    // The operator's view of the audit log: one line per entry, nothing raw.
    let text = registry::cli(&server.config, &["member", "audit", "--limit", "1000"]);
    text.expect_code(0);
    let entries = registry::demo_labels().len() + HOSTILE.len();
    assert_eq!(text.stdout.lines().count(), entries, "one line per entry:\n{}", text.stdout);
    assert!(!text.stdout.contains(['\u{1b}', '\u{7}']), "{}", text.stdout);
    assert!(text.stdout.contains("x\\nINFO forged"), "the label shown escaped:\n{}", text.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_the_api_refuse_the_same_names_naming_the_field() {
    let env = Env::new("names", Tenants::Repo);
    let running = launch(&env).await;
    let api = Api::new(&running, &env);

    let cases: &[(&[&str], &str, &str)] = &[
        (&["--membership", "independent", "--server", "45.76.1.10", "--server", "<x>"], "server_invalid", "servers[1]"),
        (&["--membership", "shared", "--alias", "vnnic.mic.gov.vn"], "own_domain_in_zone", "aliases[0]"),
        (&["--membership", "shared", "--name-en", "Legal\u{1b}[2J"], "control_chars", "name_en"),
        (&["--membership", "shared", "--override-reason", "ok\nINFO forged"], "control_chars", "override_reason"),
    ];
    for (extra, code, field) in cases {
        let mut args = vec!["member", "register", "vpc", "--name-vi", "Vụ Pháp chế"];
        args.extend_from_slice(extra);
        let text = env.cli(&args);
        text.expect_code(1);
        assert!(text.all().contains(code), "{code}:\n{text}");
        assert!(!text.all().contains('\u{1b}') && !text.stdout.contains("\nINFO forged"), "{code}: raw:\n{text}");
        args.push("--json");
        let out = env.cli(&args);
        out.expect_code(1);
        let report = out.json();
        let errors = report["errors"].as_array().unwrap();
        assert!(errors.iter().any(|e| e["code"] == *code && e["field"] == *field), "{code} on {field}:\n{out}");
    }

    let vpc = r#""label": "vpc", "name_vi": "Vụ Pháp chế""#;
    let bodies = [
        (
            format!(r#"{{{vpc}, "membership": "shared", "canonical": "evil.example/phish?"}}"#),
            "canonical_not_own",
            "canonical",
        ),
        (
            format!(r#"{{{vpc}, "membership": "shared", "canonical": "vnnic.mic.gov.vn"}}"#),
            "canonical_not_own",
            "canonical",
        ),
        (format!(r#"{{{vpc}, "membership": "independent", "servers": ["<x>"]}}"#), "server_invalid", "servers[0]"),
        (format!(r#"{{{vpc}, "membership": "shared", "name_en": "Legal\u001b[2J"}}"#), "control_chars", "name_en"),
        (
            format!(r#"{{{vpc}, "membership": "shared", "aliases": ["vnnic.mic.gov.vn"]}}"#),
            "own_domain_in_zone",
            "aliases[0]",
        ),
        (r#"{"label": "a", "name_vi": "Đơn vị A", "membership": "shared"}"#.to_string(), "too_short", "name"),
    ];
    for (body, code, field) in &bodies {
        let resp = api.post_json("/api/members", body, 422);
        let resp = resp.await;
        assert_eq!((error_code(&resp), resp["error"]["field"].as_str()), (*code, Some(*field)), "{body}");
    }
    let ok = format!(r#"{{{vpc}, "membership": "shared", "canonical": "VPC.mic.gov.vn.", "servers": ["45.76.1.10"]}}"#);
    let made = api.post_json("/api/members", &ok, 201).await;
    assert_eq!(made["member"]["canonical"], "vpc.mic.gov.vn", "its own fourth-level name may be canonical");

    // A status change's reason is plain text too, and refusing it changes nothing.
    let out = env.cli(&["member", "suspend", "cbc", "--reason", "x\u{1b}[31m"]);
    out.expect_code(2);
    assert!(out.stderr.contains("--reason") && out.stderr.contains("control character"), "{out}");
    let body = api.post_json("/api/members/cbc/suspend", r#"{"reason": "x\n\u001b[31m"}"#, 422).await;
    assert_eq!((error_code(&body), body["error"]["field"].as_str()), ("invalid_field", Some("reason")));
    assert_eq!(get(running.http_addr, "cbc.mic.gov.vn", "/").await.status, 200, "cbc is still active");
    running.stop().await;
}

#[test]
fn names_stored_by_an_older_cong_are_shown_escaped() {
    let env = Env::new("shown", Tenants::Repo);
    let mut registry = cong::store::registry::Registry::open(&env.registry_path()).expect("registry");
    // Written straight into the store, as a registry from before the checks could hold it.
    let names = cong::model::member::Names {
        label: "old".into(),
        name_vi: "Đơn vị\u{1b}[2J\nINFO forged".into(),
        name_en: "Old\u{9b}31m".into(),
        membership: cong::model::member::Membership::Shared,
        own_domains: vec![],
        aliases: vec![],
        canonical: None,
        servers: vec![],
    };
    let reg = cong::store::registry::Registration {
        names,
        status: cong::model::member::Status::Active,
        override_reason: None,
    };
    registry.register(&reg, "mic.gov.vn", "tests/isolation").expect("stored");
    drop(registry);
    let list = env.cli(&["member", "list"]);
    list.expect_code(0);
    assert_eq!(list.stdout.lines().count(), 3, "header, one member, count:\n{}", list.stdout);
    assert!(list.stdout.contains("Đơn vị\\u{1b}[2J\\nINFO forged"), "{}", list.stdout);
    let show = env.cli(&["member", "show", "old"]);
    show.expect_code(0);
    assert!(show.stdout.contains("Old\\u{9b}31m"), "{}", show.stdout);
    for out in [&list, &show] {
        assert!(!out.stdout.contains(['\u{1b}', '\u{9b}']), "{}", out.stdout);
        assert!(!out.stdout.lines().any(|l| l.starts_with("INFO forged")), "{}", out.stdout);
    }
    // `--json` keeps the stored value (JSON escapes it).
    let json = env.cli(&["member", "show", "old", "--json"]);
    assert_eq!(json.json()["name_vi"], "Đơn vị\u{1b}[2J\nINFO forged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_registry_is_not_rebuilt_from_the_folders() {
    let dir = tempfile::tempdir().unwrap();
    copy_demo(dir.path());
    let server = Server::start(dir.path(), TOKEN, "");
    assert_eq!(get(server.http, "cbc.mic.gov.vn", "/").await.status, 200, "imported on the first start");
    registry::cli(&server.config, &["member", "suspend", "cbc", "--reason", "kiểm tra"]).expect_code(0);
    registry::cli(&server.config, &["member", "archive", "ttt"]).expect_code(0);
    let config = server.config.clone();
    drop(server);

    let data = dir.path().join("data");
    assert!(data.join(cong::store::registry::MARKER).is_file(), "the data folder remembers it held members");
    for file in ["registry.db", "registry.db-wal", "registry.db-shm"] {
        let _ = std::fs::remove_file(data.join(file));
    }
    assert!(!data.join("registry.db").exists());

    let server = Server::start(dir.path(), TOKEN, "");
    for label in ["cbc", "ttt", "vnnic"] {
        let resp = get(server.http, &format!("{label}.mic.gov.vn"), "/").await;
        assert_eq!(resp.status, 404, "{label}: answered as unknown, not served again:\n{}", resp.text());
        assert!(resp.text().contains("Portal not found"), "{label}: the neutral page");
    }
    assert!(
        server.logged(|l| l.contains("ERROR") && l.contains("not imported") && l.contains("Restore")),
        "the log says what happened and what to do:\n{}",
        server.log_text()
    );
    let members = registry::cli(&config, &["member", "list", "--json"]);
    assert_eq!(members.json()["members"], serde_json::json!([]), "{members}");
    let audit = registry::cli(&config, &["member", "audit", "--json"]);
    let entries = audit.json()["audit"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0]["action"], "withhold_import");
    assert!(entries[0]["reason"].as_str().unwrap().contains("restore registry.db"), "{}", entries[0]);
}
