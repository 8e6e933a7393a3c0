//! Operating cong (docs/operations.md), against the real binary: the access log as JSON
//! lines, `RUST_LOG` directives, `[log] access = false`, the systemd notifications through
//! a real `NOTIFY_SOCKET`, `dist/cong.service` through `systemd-analyze verify`, shell
//! completions and the man page.

use crate::common::process::Server;
use crate::common::registry::cong_command;
use crate::common::{copy_demo, get, repo};
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

const TOKEN: &str = "operations-test-token";

/// Wait (at most 10 s) until a logged line satisfies `what`; that line.
fn wait_logged(server: &Server, what: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(line) = server.log_text().lines().find(|l| what(l)) {
            return line.to_string();
        }
        assert!(Instant::now() < deadline, "no such line was logged:\n{}", server.log_text());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_request_gives_one_json_access_line() {
    let dir = tempfile::tempdir().unwrap();
    copy_demo(dir.path());
    let server = Server::start(dir.path(), TOKEN, "[log]\nformat = \"json\"\n");
    // Every line is JSON, the start-up lines too.
    for line in server.log_text().lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    let page = get(server.http, "ais.mic.gov.vn", "/gioi-thieu/?x=1").await;
    assert_eq!(page.status, 200);
    let line = wait_logged(&server, |l| l.contains("cong::access") && l.contains("/gioi-thieu/"));
    let entry: serde_json::Value = serde_json::from_str(&line).expect("the access line is JSON");
    assert_eq!(entry["host"], "ais.mic.gov.vn", "{line}");
    assert_eq!(entry["method"], "GET", "{line}");
    assert_eq!(entry["path"], "/gioi-thieu/", "the query is not logged: {line}");
    assert_eq!(entry["status"], 200, "{line}");
    assert_eq!(entry["bytes"].as_u64(), Some(page.body.len() as u64), "{line}");
    assert_eq!(entry["member"], "ais", "{line}");
    assert_eq!(entry["protocol"], "HTTP/1.1", "{line}");
    assert!(entry["duration_ms"].as_f64().is_some_and(|d| d >= 0.0), "{line}");
    assert!(entry["timestamp"].as_str().is_some_and(|t| t.starts_with("20")), "{line}");
    // One request, one line.
    let count = server.log_text().lines().filter(|l| l.contains("cong::access")).count();
    assert_eq!(count, 1, "{}", server.log_text());

    // An unknown host is logged too, with no member.
    assert_eq!(get(server.http, "khong-co.mic.gov.vn", "/").await.status, 404);
    let line = wait_logged(&server, |l| l.contains("cong::access") && l.contains("khong-co"));
    let entry: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!((entry["status"].as_u64(), entry["member"].as_str()), (Some(404), Some("-")), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_log_directives_are_honoured_and_the_access_log_can_be_off() {
    let dir = tempfile::tempdir().unwrap();
    copy_demo(dir.path());
    let server = Server::start_with_env(
        dir.path(),
        TOKEN,
        "[log]\naccess = false\n",
        &[("RUST_LOG", "info,cong::snapshot=debug")],
    );
    // The debug directive for one module: each site build is logged at debug.
    let built = wait_logged(&server, |l| l.contains("DEBUG") && l.contains("built") && l.contains("site=ais"));
    assert!(built.contains("pages="), "{built}");
    assert_eq!(get(server.http, "ais.mic.gov.vn", "/").await.status, 200);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!server.logged(|l| l.contains("access")), "access = false: {}", server.log_text());
    assert!(server.logged(|l| l.contains("INFO") && l.contains("imported 7 of 7")), "{}", server.log_text());
    drop(server);

    // A fresh folder, the access log on (the default) in text, one module held to warn.
    let dir = tempfile::tempdir().unwrap();
    copy_demo(dir.path());
    let env = [("RUST_LOG", "info,cong::control::membership=warn")];
    let server = Server::start_with_env(dir.path(), TOKEN, "", &env);
    assert_eq!(get(server.http, "vnnic.mic.gov.vn", "/").await.status, 200);
    let line = wait_logged(&server, |l| l.contains("access"));
    for field in ["host=vnnic.mic.gov.vn", "method=GET", "path=/", "status=200", "member=vnnic", "protocol=HTTP/1.1"] {
        assert!(line.contains(field), "{field} in {line}");
    }
    assert!(!server.logged(|l| l.contains("imported 7 of 7")), "membership held to warn: {}", server.log_text());
    assert!(!server.logged(|l| l.contains("DEBUG")), "{}", server.log_text());
}

/// Read notifications from `socket` until one contains `want` (at most 20 s); every
/// message read.
fn until_notified(socket: &UnixDatagram, want: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        if let Ok(n) = socket.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            let done = msg.lines().any(|l| l == want);
            seen.push(msg);
            if done {
                return seen;
            }
        }
    }
    panic!("no {want} within 20 s; received {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn systemd_hears_ready_reloading_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    copy_demo(dir.path());
    let path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&path).unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let server = Server::start_with_env(dir.path(), TOKEN, "", &[("NOTIFY_SOCKET", path.to_str().unwrap())]);
    let ready = until_notified(&socket, "READY=1");
    assert!(ready.iter().any(|m| m.contains("STATUS=serving 7 sites")), "{ready:?}");
    // READY comes once the listeners answer.
    assert_eq!(get(server.http, "ais.mic.gov.vn", "/").await.status, 200);

    let pid = server.child.id().to_string();
    let kill = |signal: &str| {
        let status = std::process::Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(status.success());
    };
    kill("-HUP");
    let reload = until_notified(&socket, "READY=1");
    let reloading = reload.iter().position(|m| m.contains("RELOADING=1")).expect("RELOADING before READY");
    assert!(reload[reloading].contains("MONOTONIC_USEC="), "{reload:?}");
    assert!(reloading < reload.len() - 1, "{reload:?}");
    kill("-TERM");
    until_notified(&socket, "STOPPING=1");
}

#[test]
fn the_systemd_unit_verifies() {
    let Some(analyze) =
        ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].into_iter().find(|p| std::path::Path::new(p).exists())
    else {
        assert!(std::env::var_os("CI").is_none(), "systemd-analyze is missing (scripts/test installs systemd)");
        eprintln!("skipped: systemd-analyze is not installed");
        return;
    };
    let unit = std::fs::read_to_string(repo().join("dist/cong.service")).unwrap();
    for line in ["Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "ProtectSystem=strict", "NoNewPrivileges=yes"] {
        assert!(unit.lines().any(|l| l == line), "{line} in dist/cong.service");
    }
    assert!(unit.lines().any(|l| l == "CapabilityBoundingSet=CAP_NET_BIND_SERVICE"), "only that capability");
    // verify checks that ExecStart's program exists: point it at the binary under test.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("cong.service");
    std::fs::write(&copy, unit.replace("/usr/local/bin/cong", env!("CARGO_BIN_EXE_cong"))).unwrap();
    let out = std::process::Command::new(analyze).arg("verify").arg(&copy).output().unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "systemd-analyze verify: {said}");
    assert!(!said.contains("cong.service"), "no warnings about the unit: {said}");
}

#[test]
fn completions_generate_for_bash_zsh_and_fish_and_the_man_page_renders() {
    for (shell, mark) in [("bash", "complete -F _cong"), ("zsh", "#compdef cong"), ("fish", "complete -c cong")] {
        let out = cong_command(&["completions", shell]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(text.contains(mark), "{shell}: {mark} in {text}");
        // Subcommands and their flags are in it.
        for word in ["serve", "member", "register", "override-reason"] {
            assert!(text.contains(word), "{shell}: {word}");
        }
    }
    let out = cong_command(&["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "an unknown shell is a usage error");

    let out = cong_command(&["man"]).output().unwrap();
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(page.contains(".TH cong 1"), "{}", &page[..page.len().min(300)]);
    for word in ["cong\\-serve(1)", ".SH \"EXIT STATUS\"", "RUST_LOG", ".SH EXAMPLES"] {
        assert!(page.contains(word), "{word} in the man page");
    }
    // One page per command, each with its flags and its exit codes.
    let dir = tempfile::tempdir().unwrap();
    let out = cong_command(&["man", "--out", dir.path().to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let register = std::fs::read_to_string(dir.path().join("cong-member-register.1")).expect("the register page");
    for word in ["\\-\\-override\\-reason", "Exit codes: 0 registered", "shared", "independent"] {
        assert!(register.contains(word), "{word} in cong-member-register.1:\n{register}");
    }
}
