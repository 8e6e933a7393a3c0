//! The one safe open (docs/architecture.md, `content::files`), against the real binary: a
//! unit's folder that links its `static`, `templates` or `content` root (or one file) to
//! `/etc`, the certificate folder or `data/` never serves what the link points at, and a
//! file flipped between a regular file and a link to `/etc/passwd` for 10 s is never
//! served as the link's target.

use crate::common::process::Server;
use crate::common::{copy_demo, get};
use std::os::unix::fs::symlink;
use std::time::{Duration, Instant};

const TOKEN: &str = "safe-open-test-token";
const SECRET: &str = "KHOA-BI-MAT-CUA-NEN-TANG";

fn host(label: &str) -> String {
    format!("{label}.mic.gov.vn")
}

/// Nothing of `/etc/passwd`, the platform's key or the registry in `body`.
fn assert_no_leak(body: &str, what: &str) {
    for mark in ["root:", SECRET, "SQLite format"] {
        assert!(!body.contains(mark), "{what} leaked {mark:?}: {}", &body[..body.len().min(300)]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_at_any_level_never_serve_what_they_point_at() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_demo(root);
    let key_dir = root.join("certs/ais.mic.gov.vn");
    std::fs::create_dir_all(&key_dir).unwrap();
    std::fs::write(key_dir.join("key.pem"), format!("-----BEGIN PRIVATE KEY-----\n{SECRET}\n")).unwrap();
    std::fs::create_dir_all(root.join("data")).unwrap();
    let tenants = root.join("tenants");
    let relink = |site: &str, sub: &str, to: &std::path::Path| {
        let at = tenants.join(site).join(sub);
        let _ = std::fs::remove_dir_all(&at);
        symlink(to, at).unwrap();
    };
    relink("ttt", "static", std::path::Path::new("/etc"));
    relink("cds", "static", &root.join("certs"));
    relink("cbc", "static", &root.join("data"));
    relink("vnnic", "templates", &root.join("certs/ais.mic.gov.vn"));
    relink("ptit", "content", std::path::Path::new("/etc"));
    symlink("/etc/passwd", tenants.join("ais/static/passwd.txt")).unwrap();

    let server = Server::start(root, TOKEN, "\n[reload]\ndebounce_ms = 20\n");
    let http = server.http;
    for (site, path) in [
        ("ttt", "/static/passwd"),
        ("cds", "/static/ais.mic.gov.vn/key.pem"),
        ("cbc", "/static/registry.db"),
        ("ais", "/static/passwd.txt"),
    ] {
        let resp = get(http, &host(site), path).await;
        assert_eq!(resp.status, 404, "{site}{path}");
        assert_no_leak(&resp.text(), &format!("{site}{path}"));
    }
    for (site, path) in [("vnnic", "/"), ("vnnic", "/key.pem"), ("ptit", "/"), ("ptit", "/passwd/")] {
        assert_no_leak(&get(http, &host(site), path).await.text(), &format!("{site}{path}"));
    }
    assert_eq!(get(http, &host("ais"), "/").await.status, 200, "ais still serves its own pages");
    assert!(
        server.logged(|l| l.contains("tenants/ttt/static") && l.contains("links are refused")),
        "the refusal is logged with the file:\n{}",
        server.log_text()
    );

    // The flip race: zz.txt is a regular file, then a link to /etc/passwd, then a file ...
    let target = tenants.join("ais/static/zz.txt");
    std::fs::write(&target, "an toàn").unwrap();
    let stop = Instant::now() + Duration::from_secs(10);
    let flipper = {
        let target = target.clone();
        std::thread::spawn(move || {
            let (file, link) = (target.with_file_name(".zz.file"), target.with_file_name(".zz.link"));
            let mut flips = 0u32;
            while Instant::now() < stop {
                std::fs::write(&file, "an toàn").unwrap();
                std::fs::rename(&file, &target).unwrap();
                std::thread::sleep(Duration::from_millis(3));
                let _ = std::fs::remove_file(&link);
                symlink("/etc/passwd", &link).unwrap();
                std::fs::rename(&link, &target).unwrap();
                std::thread::sleep(Duration::from_millis(3));
                flips += 1;
            }
            flips
        })
    };
    let (mut answers, mut served) = (0u32, 0u32);
    while Instant::now() < stop {
        let resp = get(http, &host("ais"), "/static/zz.txt").await;
        assert_no_leak(&resp.text(), "the flipped zz.txt");
        answers += 1;
        served += u32::from(resp.status == 200);
    }
    let flips = flipper.join().unwrap();
    eprintln!("flip race: {flips} flips, {answers} answers, {served} served the regular file");
    assert!(flips > 100 && answers > 10, "the race ran ({flips} flips, {answers} answers)");
}
