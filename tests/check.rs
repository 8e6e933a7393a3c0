//! `cong check` run as the real binary on small broken site folders (tests/fixtures/broken)
//! and on the demo: each problem named as `file:line: message` with the fix, the exit codes
//! of docs/cli.md; and serving the same folders keeps the good site up.

use crate::common::{self, assert_shows_no_member, get, repo, shared_member, start};
use std::path::Path;
use std::process::Output;

/// Where the broken fixture's site folders are, as messages show them (relative to the
/// repository, the working folder of every run below).
const SHOWN: &str = "tests/fixtures/broken/tenants";

/// Each broken site folder and the message (`file:line: text`) `cong check` must print
/// for it, plus the fix it must suggest.
const BROKEN: &[(&str, &str, &str)] = &[
    ("badsyntax", "badsyntax/site.toml:3:", "basic string"),
    ("typo", "typo/site.toml:5:1: unknown field `thme`", "(did you mean \"theme\"?)"),
    ("notemplate", "notemplate/content/gioi-thieu.md:3: template \"khong-co.html\" not found", "page.html"),
    ("unterminated", "unterminated/content/tin-moi.md:1: front matter is not closed", "add a line with only +++"),
    ("badfront", "badfront/content/gioi-thieu.md:3:1: unknown field `titel`", "(did you mean \"title\"?)"),
    ("badtemplate", "badtemplate/templates/page.html:6:", "syntax error"),
];

/// A `cong.toml` in a fresh temporary folder whose `[paths]` point at `tenants` and
/// `themes`, with data kept in the temporary folder (never in the repository).
fn config_for(tenants: &Path, themes: &Path) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = common::write_config(dir.path(), tenants, themes, &dir.path().join("data"), "");
    (dir, path)
}

fn broken_config() -> (tempfile::TempDir, std::path::PathBuf) {
    // No themes folder: the built-in default theme serves.
    let nowhere = common::fixture("broken/no-themes-here");
    config_for(&common::fixture("broken/tenants"), &nowhere)
}

/// Run the real `cong` binary from the repository root.
fn cong(args: &[&str]) -> Output {
    common::cong_in(repo(), args)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn check_names_each_broken_file_line_and_fix() {
    let (_dir, config) = broken_config();
    let out = cong(&["check", "--config", config.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "broken sites fail the check\n{text}\n{}", stderr(&out));
    for (label, at, fix) in BROKEN {
        let want = format!("{SHOWN}/{at}");
        let line = text
            .lines()
            .find(|l| l.contains(&want))
            .unwrap_or_else(|| panic!("{label}: no line with {want:?} in\n{text}"));
        assert!(line.contains(fix), "{label}: the message should say {fix:?}: {line}");
        let verdict = text.lines().find(|l| l.starts_with(&format!("site {label} "))).unwrap_or_default();
        assert!(verdict.contains("FAILED"), "{label}: summary line says FAILED: {verdict:?}\n{text}");
    }
    let good = text.lines().find(|l| l.starts_with("site good ")).unwrap_or_default();
    assert!(good.contains("ok"), "the good site passes: {good:?}\n{text}");
}

#[test]
fn check_json_reports_every_site() {
    let (_dir, config) = broken_config();
    let out = cong(&["check", "--json", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json prints one JSON document");
    assert_eq!(report["ok"], false);
    let sites = report["sites"].as_array().expect("sites array");
    let site = |label: &str| sites.iter().find(|s| s["label"] == label).unwrap_or_else(|| panic!("no {label}"));
    for (label, at, _) in BROKEN {
        let s = site(label);
        assert_eq!(s["ok"], false, "{label}");
        let errors = s["errors"].as_array().expect("errors array");
        // Each error is an object; `at` is `path:line:...` in the table.
        let mut parts = at.split(':');
        let (file, line) =
            (format!("{SHOWN}/{}", parts.next().unwrap()), parts.next().unwrap().parse::<u64>().unwrap());
        assert!(
            errors.iter().any(|e| e["file"] == file.as_str() && e["line"] == line && e["message"].is_string()),
            "{label}: errors should name {file} line {line}: {errors:?}"
        );
    }
    assert_eq!(site("good")["ok"], true);
    assert!(site("good")["pages"].as_u64().is_some_and(|n| n >= 2), "good renders its pages");
}

#[test]
fn check_passes_on_the_demo() {
    let (_dir, config) = config_for(&repo().join("tenants"), &repo().join("themes"));
    let out = cong(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", stdout(&out), stderr(&out));
    for label in ["ais", "cbc", "cds", "ptit", "ttt", "vncert", "vnnic"] {
        assert!(stdout(&out).contains(&format!("site {label}")), "{label} is checked\n{}", stdout(&out));
    }
    let json = cong(&["check", "--json", "--config", config.to_str().unwrap()]);
    assert_eq!(json.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(report["ok"], true, "{report:#}");
}

#[test]
fn a_config_with_an_unknown_key_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cong.toml");
    std::fs::write(&path, "[platform]\nzone = \"mic.gov.vn\"\n\n[http]\nlisen = \"127.0.0.1:8080\"\n").unwrap();
    let out = cong(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    let want = format!("{}:5:1: unknown field `lisen`", path.display());
    assert!(err.contains(&want), "stderr should say {want:?}:\n{err}");
    assert!(err.contains("(did you mean \"listen\"?)"), "{err}");
    assert!(stdout(&out).is_empty(), "nothing on stdout: {}", stdout(&out));
}

#[test]
fn a_missing_config_file_is_a_usage_error() {
    let out = cong(&["check", "--config", "tests/fixtures/does-not-exist.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("tests/fixtures/does-not-exist.toml"), "{}", stderr(&out));
}

// ---- Serving the same folders ---------------------------------------------------------

#[tokio::test]
async fn broken_sites_stay_out_while_the_good_one_serves() {
    let themes = common::fixture("broken/no-themes-here");
    let live = common::live(&common::fixture("broken/tenants"), &themes, |sources| {
        for (label, _, _) in BROKEN {
            assert!(!sources.sites.contains_key(*label), "{label} must not build");
            assert!(sources.site_errors.contains_key(*label), "{label}: its problems are kept");
        }
        // As a registry would: one broken folder has an active member behind it.
        sources.members.push(shared_member("typo"));
    });
    let server = start(live).await;
    let good = get(server.addr, "good.mic.gov.vn", "/").await;
    assert_eq!(good.status, 200);
    assert!(good.text().contains("Đơn vị Mẫu Tốt"));
    assert_eq!(get(server.addr, "good.mic.gov.vn", "/gioi-thieu/").await.status, 200);

    let registered = get(server.addr, "typo.mic.gov.vn", "/").await;
    assert_eq!(registered.status, 503, "an active member whose site does not build");
    assert!(registered.text().contains("chưa sẵn sàng"), "the platform's 'not available' page");
    assert!(!registered.text().contains("Gõ nhầm"), "nothing of the broken folder is shown");

    let marks = vec!["Đơn vị Mẫu Tốt".to_string(), "Good Example Unit".to_string(), "good.mic.gov.vn".to_string()];
    for (label, _, _) in BROKEN.iter().filter(|(l, _, _)| *l != "typo") {
        let resp = get(server.addr, &format!("{label}.mic.gov.vn"), "/").await;
        assert_eq!(resp.status, 404, "{label}: a folder with no member and no build is not a portal");
        assert_shows_no_member(&resp.text(), &marks, label);
        assert!(!resp.text().contains("Giới thiệu"), "{label}: none of the broken folder's pages leak");
    }
    server.running.stop().await;
}

/// `cong check | head -1`: the reader closes the pipe early. The command must not panic,
/// must say nothing on stderr, and must still end with its own exit code (0 on the demo,
/// 1 on the broken folders), so a pipeline's status stays meaningful.
#[test]
fn a_reader_that_closes_the_pipe_early_changes_nothing_but_the_output() {
    let demo = config_for(&repo().join("tenants"), &repo().join("themes"));
    let broken = broken_config();
    for ((_dir, config), want) in [(demo, 0), (broken, 1)] {
        for json in [false, true] {
            let mut args = vec!["check", "--config", config.to_str().unwrap()];
            if json {
                args.push("--json");
            }
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cong"))
                .args(&args)
                .current_dir(repo())
                .env("NO_COLOR", "1")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("run the cong binary");
            // Close the read end before cong writes anything.
            drop(child.stdout.take());
            let out = child.wait_with_output().expect("cong ends");
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(want), "{args:?}\n{err}");
            assert!(!err.contains("panicked") && !err.contains("Broken pipe"), "{args:?}\n{err}");
        }
    }
}

// ---- The editor safety net (DESIGN §19) -------------------------------------------------

/// The safety-net fixture's content folder, as messages show it.
const LOI: &str = "tests/fixtures/safety-net/tenants/loi/content";

/// What `cong check` must report about tests/fixtures/safety-net (`file:line: message`, and
/// the fix): every kind of finding, at its line in the file, front matter counted.
const SAFETY_NET: &[(&str, u64, &str, &str)] = &[
    ("gioi-thieu.md", 4, "link to /trang-khong-co/ leads nowhere", "correct the link"),
    ("gioi-thieu.md", 6, "image without alt text", "write what the image shows"),
    ("gioi-thieu.md", 8, "image /static/khong-co.png is missing", "put the file under static/"),
    ("gioi-thieu.md", 10, "<script> removed, with everything inside it", "pages cannot run scripts"),
    ("gioi-thieu.md", 12, "href=\"javascript:alert(1)\" removed from <a>", "use a path on this site"),
    ("gioi-thieu.md", 14, "event handler onclick removed from <p>", "pages cannot run scripts"),
];

/// The renamed file has no line: the finding is about its name.
const RENAMED: (&str, &str, &str) = (
    "tin-tuc/Hội nghị An toàn 2026.md",
    "the file name \"Hội nghị An toàn 2026.md\" is not a URL: served at /tin-tuc/hoi-nghi-an-toan-2026/",
    "rename the file to hoi-nghi-an-toan-2026.md",
);

fn safety_net_config() -> (tempfile::TempDir, std::path::PathBuf) {
    config_for(&common::fixture("safety-net/tenants"), &common::fixture("broken/no-themes-here"))
}

#[test]
fn check_fails_naming_each_broken_link_missing_image_alt_and_removed_html() {
    let (_dir, config) = safety_net_config();
    let out = cong(&["check", "--config", config.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "the safety net's findings fail the check\n{text}\n{}", stderr(&out));
    for (file, line, message, fix) in SAFETY_NET {
        let want = format!("error: {LOI}/{file}:{line}: {message}");
        let found = text.lines().find(|l| l.starts_with(&want)).unwrap_or_else(|| panic!("no {want:?} in\n{text}"));
        assert!(found.contains(&format!("({fix}")), "the fix {fix:?}: {found}");
    }
    let (file, message, fix) = RENAMED;
    assert!(text.contains(&format!("error: {LOI}/{file}: {message} ({fix})")), "the renamed file:\n{text}");
    // An accent colour too light for links on white (WCAG AA) is named with its ratio.
    let accent = "error: tests/fixtures/safety-net/tenants/loi/site.toml:9: vars.accent: #ffcc00 is too light for links on white (1.5:1";
    assert!(text.lines().any(|l| l.starts_with(accent) && l.contains("choose a darker colour")), "{accent}\n{text}");
    let findings = text.lines().filter(|l| l.starts_with("error: ")).count();
    assert_eq!(findings, SAFETY_NET.len() + 2, "nothing else is reported (the good links pass):\n{text}");
    let verdict = text.lines().find(|l| l.starts_with("site loi ")).unwrap_or_default();
    assert!(verdict.contains("FAILED (8 problems in the content; served cleaned"), "{verdict:?}\n{text}");
}

#[test]
fn check_json_carries_each_finding_with_file_line_message_and_fix() {
    let (_dir, config) = safety_net_config();
    let out = cong(&["check", "--json", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json prints one JSON document");
    assert_eq!(report["ok"], false);
    let site = &report["sites"][0];
    assert_eq!((&site["label"], &site["ok"]), (&"loi".into(), &false.into()), "{site:#}");
    assert_eq!(site["errors"], serde_json::json!([]), "the site builds: its findings are not build errors");
    let lints = site["lints"].as_array().expect("lints array");
    for (file, line, message, _) in SAFETY_NET {
        let file = format!("{LOI}/{file}");
        assert!(
            lints.iter().any(|p| p["file"] == file.as_str()
                && p["line"] == *line
                && p["message"].as_str().is_some_and(|m| m.starts_with(message))
                && p["fix"].is_string()),
            "{file}:{line} {message:?} in {lints:#?}"
        );
    }
    let (file, message, fix) = RENAMED;
    let renamed = serde_json::json!({"file": format!("{LOI}/{file}"), "line": null, "column": null, "key": null, "message": message, "fix": fix});
    assert!(lints.contains(&renamed), "{renamed:#} in {lints:#?}");
}
