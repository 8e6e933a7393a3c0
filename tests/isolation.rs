//! One site can never read another site's files, or anything outside its folder and its
//! theme: fixture sites (tests/fixtures/escape) whose templates include, extend and import
//! paths outside, pick a theme by path, and whose static and template folders hold links
//! out. The escape never reads the file: the site fails its build, `cong check` names the
//! template, visitors get the platform's generic page, and linked files are not served.

use crate::common::{self, get, shared_member, start};
use std::path::{Path, PathBuf};

/// Names: every name checked when stored (the first-start import included), logs and
/// terminals escaped, a lost registry not rebuilt from the folders.
mod names;

/// Sites whose templates reach outside, with the file `cong check` must name.
const ESCAPES: &[(&str, &str)] = &[
    ("incsibling", "incsibling/templates/page.html"),
    ("incother", "incother/templates/page.html"),
    ("incabs", "incabs/templates/page.html"),
    ("extendsup", "extendsup/templates/page.html"),
    ("dynamic", "dynamic/templates/page.html"),
    ("importer", "importer/templates/page.html"),
    ("themeup", "themeup/site.toml"),
];

/// Text that must never reach a visitor or another site: the other site's marks, the
/// password file, template source.
const SECRETS: &[&str] = &["BI-MAT", "root:", "/bin/", "{%", "{{", "include", "extends"];

/// A copy of the fixture with the links of `links/` made (git keeps no links to /etc).
fn escape_tree() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let tenants = dir.path().join("tenants");
    common::copy_tree(&common::fixture("escape/tenants"), &tenants);
    let links = tenants.join("links");
    std::fs::create_dir_all(links.join("templates")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink("/etc/passwd", links.join("static/passwd")).unwrap();
        symlink(tenants.join("other"), links.join("static/other")).unwrap();
        symlink(tenants.join("other/site.toml"), links.join("static/other-site.toml")).unwrap();
        symlink("../../other/content", links.join("static/relative")).unwrap();
        symlink("/etc/passwd", links.join("templates/404.html")).unwrap();
        symlink(tenants.join("other/templates/secret.html"), links.join("templates/index.html")).unwrap();
    }
    (dir, tenants)
}

fn assert_no_secret(what: &str, body: &str, tmp: &Path) {
    for s in SECRETS {
        assert!(!body.contains(s), "{what}: shows {s:?}:\n{body}");
    }
    for s in [tmp.display().to_string(), "templates/".into(), ".html".into(), "site.toml".into(), "/etc".into()] {
        assert!(!body.contains(&s), "{what}: shows a path ({s:?}):\n{body}");
    }
}

#[test]
fn check_names_the_template_of_each_escape_and_reads_nothing() {
    let (dir, tenants) = escape_tree();
    let config =
        common::write_config(dir.path(), &tenants, &dir.path().join("no-themes"), &dir.path().join("data"), "");
    let out = common::cong_in(common::repo(), &["check", "--config", config.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    for (label, file) in ESCAPES {
        let verdict = stdout.lines().find(|l| l.starts_with(&format!("site {label} "))).unwrap_or_default();
        assert!(verdict.contains("FAILED"), "{label}: {verdict:?}\n{stdout}");
        let line = stdout
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("{label}: no problem names {file}:\n{stdout}"));
        assert!(line.contains("not found") || line.contains("does not exist"), "{label}: {line}");
    }
    let other = stdout.lines().find(|l| l.starts_with("site other ")).unwrap_or_default();
    assert!(!other.contains("FAILED"), "the site escaped from is fine: {other:?}");
    let links = stdout.lines().find(|l| l.starts_with("site links ")).unwrap_or_default();
    assert!(!links.contains("FAILED"), "refused links are warnings: {links:?}\n{stdout}");
    for link in ["static/passwd", "static/other", "static/other-site.toml", "static/relative", "templates/404.html"] {
        assert!(
            stdout.lines().any(|l| l.contains(&format!("links/{link}")) && l.contains("refused")),
            "the link links/{link} is reported as refused:\n{stdout}"
        );
    }
    // Nothing any escape aimed at was read, so none of it can be quoted.
    for s in ["BI-MAT", "root:x"] {
        assert!(!stdout.contains(s) && !stderr.contains(s), "check quotes {s}:\n{stdout}\n{stderr}");
    }
}

#[tokio::test]
async fn visitors_of_an_escaping_site_get_the_generic_page_and_nothing_of_it() {
    let (dir, tenants) = escape_tree();
    let live = common::live(&tenants, &dir.path().join("no-themes"), |sources| {
        for (label, _) in ESCAPES {
            assert!(!sources.sites.contains_key(*label), "{label} must not build");
            // As the registry would have it: an active member behind the folder.
            sources.members.push(shared_member(label));
        }
    });
    let server = start(live).await;
    for (label, _) in ESCAPES {
        for path in ["/", "/gioi-thieu/"] {
            let resp = get(server.addr, &format!("{label}.mic.gov.vn"), path).await;
            assert_eq!(resp.status, 503, "{label}{path}");
            assert!(resp.text().contains("chưa sẵn sàng"), "{label}: the platform's generic page");
            assert!(!resp.text().contains("Trang giới thiệu"), "{label}: none of the broken site shows");
            assert_no_secret(&format!("{label}{path}"), &resp.text(), dir.path());
        }
    }
    let other = get(server.addr, "other.mic.gov.vn", "/").await;
    assert_eq!(other.status, 200);
    assert!(other.text().contains("BI-MAT-NOI-DUNG-KHAC"), "the marks are real: the other site shows its own");
}

#[cfg(unix)]
#[tokio::test]
async fn links_out_of_static_and_templates_are_not_followed() {
    let (dir, tenants) = escape_tree();
    let live = common::live(&tenants, &dir.path().join("no-themes"), |sources| {
        let site = sources.sites.get("links").expect("links builds, its links refused");
        assert!(site.warnings.len() >= 6, "{:?}", site.warnings);
    });
    let server = start(live).await;
    let host = "links.mic.gov.vn";
    assert_eq!(get(server.addr, host, "/static/ok.txt").await.status, 200, "its own static files serve");
    for path in [
        "/static/passwd",
        "/static/other/site.toml",
        "/static/other/content/_index.md",
        "/static/other-site.toml",
        "/static/relative/_index.md",
    ] {
        let resp = get(server.addr, host, path).await;
        assert_eq!(resp.status, 404, "{path}");
        assert_no_secret(path, &resp.text(), dir.path());
    }
    // The linked-in templates were refused: the theme's own serve instead.
    let home = get(server.addr, host, "/").await;
    assert_eq!(home.status, 200);
    assert!(home.text().contains("Đơn vị links"), "the theme's home page");
    assert_no_secret("home", &home.text(), dir.path());
    let missing = get(server.addr, host, "/khong-co/").await;
    assert_eq!(missing.status, 404);
    assert_no_secret("404", &missing.text(), dir.path());
}

#[test]
fn a_template_error_is_kept_for_the_operator_with_file_and_line() {
    let (dir, tenants) = escape_tree();
    let config = cong::model::config::parse(
        &(common::config_text(&tenants, &dir.path().join("no-themes")) + common::APPROVAL_OFF),
        "t.toml",
        dir.path(),
    )
    .unwrap();
    let sources = cong::snapshot::Sources::load(&config);
    for (label, file) in ESCAPES {
        let problems: Vec<String> = sources
            .site_errors
            .get(*label)
            .unwrap_or_else(|| panic!("{label}: no problems kept"))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(problems.iter().any(|p| p.contains(file)), "{label}: {problems:?}");
        assert!(problems.iter().all(|p| !p.contains("BI-MAT") && !p.contains("root:")), "{label}: {problems:?}");
    }
}
