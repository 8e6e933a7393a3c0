//! The serving side never waits on the control side (docs/architecture.md), against the
//! real binary: while one site's build is stuck in a template that never ends and another
//! is slow on a large static file, `/healthz` on both listeners keeps answering, a suspend
//! through the admin API and one through the CLI are served within `registry_poll_ms` +
//! 1 s, and SIGTERM ends the process within the drain deadline.

use crate::common::process::Server;
use crate::common::{self, copy_demo, get};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN: &str = "publisher-test-token";
const POLL_MS: u64 = 50;
/// Answers slower than this count as "the serving side waited". The bug this guards
/// against held every answer for the whole rebuild (11.5 s with a 150 MB file).
const PROMPT: Duration = Duration::from_secs(1);
/// `serve::listener::DRAIN_TIMEOUT`: how long a shutdown may take at most.
const DRAIN: Duration = Duration::from_secs(20);

fn host(label: &str) -> String {
    format!("{label}.mic.gov.vn")
}

/// Every `/healthz` answer's latency on both listeners, until `stop` is set.
async fn probe(http: SocketAddr, admin: SocketAddr, stop: Arc<std::sync::atomic::AtomicBool>) -> Vec<Duration> {
    let mut seen = Vec::new();
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        for addr in [http, admin] {
            let started = Instant::now();
            let resp = get(addr, "anything.example", "/healthz").await;
            assert_eq!(resp.status, 200, "/healthz on {addr}");
            seen.push(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    seen
}

/// How long after `since` until `host` answers 503 (checked every 10 ms, up to 10 s).
async fn until_suspended(http: SocketAddr, host: &str, since: Instant) -> Duration {
    loop {
        if get(http, host, "/").await.status == 503 {
            return since.elapsed();
        }
        assert!(since.elapsed() < Duration::from_secs(10), "{host} never answered 503");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_build_holds_back_neither_health_checks_nor_suspends_nor_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    copy_demo(dir.path());
    // No template fuel: the build below must stay stuck (with fuel it would end as an
    // error, which tests/budgets.rs checks).
    let reload = format!("[reload]\ndebounce_ms = 50\nregistry_poll_ms = {POLL_MS}\n\n[limits]\nbuild_fuel = 0\n");
    let mut server = Server::start(dir.path(), TOKEN, &reload);
    let (http, admin) = (server.http, server.admin);
    for label in ["ttt", "cds", "cbc", "vnnic"] {
        assert_eq!(get(http, &host(label), "/").await.status, 200, "{label} serves before the edits");
    }
    let ttt_home = get(http, &host("ttt"), "/").await.text();

    // A home template that never ends (10^10 loop turns) and a large static file.
    common::write_runaway_template(&dir.path().join("tenants/ttt"));
    let big: Vec<u8> = (0..48u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let static_dir = dir.path().join("tenants/cds/static");
    std::fs::create_dir_all(&static_dir).unwrap();
    std::fs::write(static_dir.join("big.bin"), big).unwrap();
    let started = Instant::now();
    while !(server.logged(|l| l.contains("rebuilding") && l.contains("ttt"))
        && server.logged(|l| l.contains("rebuilding") && l.contains("cds")))
    {
        assert!(started.elapsed() < Duration::from_secs(10), "no rebuild started:\n{}", server.log_text());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let prober = tokio::spawn(probe(http, admin, stop.clone()));

    // Suspend through the admin API: answered promptly and served at once.
    let since = Instant::now();
    let auth = format!("Bearer {TOKEN}");
    let resp = common::request(
        admin,
        "POST",
        "admin",
        "/api/members/cbc/suspend",
        &[("authorization", auth.as_str()), ("content-type", "application/json")],
        br#"{"reason": "kiem tra"}"#.to_vec(),
    )
    .await;
    let api_answer = since.elapsed();
    assert_eq!(resp.status, 200, "{}", resp.text());
    let api_503 = until_suspended(http, &host("cbc"), since).await;

    // Suspend through the CLI, a separate process writing the registry.
    let since = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_cong"))
        .args(["--config", server.config.to_str().unwrap(), "member", "suspend", "vnnic", "--reason", "kiem tra"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cli_503 = until_suspended(http, &host("vnnic"), since).await;

    // The stuck site keeps its last good version meanwhile.
    let still = get(http, &host("ttt"), "/").await;
    assert_eq!((still.status, still.text()), (200, ttt_home), "ttt's last good version stays online");

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut seen = prober.await.unwrap();
    seen.sort();
    let p99 = seen[seen.len() * 99 / 100];
    let worst = *seen.last().unwrap();
    eprintln!(
        "/healthz during the stuck build: {} answers, p50 {:?}, p99 {p99:?}, max {worst:?}; \
         API suspend answered in {api_answer:?}, 503 after {api_503:?}; CLI suspend to 503: {cli_503:?}",
        seen.len(),
        seen[seen.len() / 2]
    );
    assert!(seen.len() >= 4, "the probe ran ({} answers)", seen.len());
    assert!(worst < PROMPT, "a /healthz answer took {worst:?}");
    let allowed = Duration::from_millis(POLL_MS) + Duration::from_secs(1);
    assert!(api_answer < PROMPT, "the suspend call took {api_answer:?}");
    assert!(api_503 < allowed, "the API suspend was served after {api_503:?}");
    assert!(cli_503 < allowed, "the CLI suspend was served after {cli_503:?}");
    assert!(
        !server.logged(|l| l.contains("site=ttt") && l.contains("problem")),
        "the template cannot have finished:\n{}",
        server.log_text()
    );

    // SIGTERM with the build still stuck: the process ends within the drain deadline.
    let since = Instant::now();
    let term = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    assert!(term.success());
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            eprintln!("SIGTERM to exit: {:?} ({status})", since.elapsed());
            assert!(status.success(), "cong serve exits cleanly on SIGTERM: {status}\n{}", server.log_text());
            break;
        }
        assert!(since.elapsed() < DRAIN, "still running {DRAIN:?} after SIGTERM:\n{}", server.log_text());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A start answers at once and builds its sites behind, the first (a fresh data folder,
/// importing the folders from their site.toml) and a restart alike: a site not built yet
/// is a 503 with `Retry-After: 1` (never a wait), `/api/status` counts what is built, and
/// "serving" is logged only when every first build has finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_answers_at_once_while_the_sites_are_built() {
    let dir = tempfile::tempdir().unwrap();
    copy_demo(dir.path());
    // ttt's build takes seconds (a template that runs until its fuel is spent).
    common::write_runaway_template(&dir.path().join("tenants/ttt"));
    for start in ["first start", "restart"] {
        let server = Server::start_answering(dir.path(), TOKEN, "");
        answers_while_building(&server, start).await;
    }
}

/// A first start imports every site folder into the fresh data folder before it serves,
/// with the public port already bound. A request in that window is answered at once, a
/// 503 with `Retry-After: 1`, instead of waiting for the import (a second at 10,000
/// folders); then the sites are served as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_while_a_first_start_imports_the_folders_is_answered_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::tls::free_port();
    let mut child = first_start(dir.path(), &format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"));
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = when_listening(&mut child, addr);
    let first = get(addr, &host("ais"), "/").await;
    assert_starting(first.status, first.header("retry-after"), &first.text());
    // Then the server proper: ais is built and served.
    loop {
        let ais = get(addr, &host("ais"), "/").await;
        if ais.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "ais never served: {} {}", ais.status, ais.text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The HTTPS port likewise: in that window the handshake completes with the certificate the
/// store holds, and the request gets the same 503; then HTTPS proper serves the site with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_request_while_a_first_start_imports_the_folders_is_answered_at_once() {
    let dir = tempfile::tempdir().unwrap();
    // The store holds a certificate for ais from a start before (here: one of the test's own).
    let name = host("ais");
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec![name.clone()]).unwrap().self_signed(&key).unwrap();
    let meta = cong::store::certs::Meta { source: "internal".into(), ..Default::default() };
    let store = cong::store::certs::Store::open(&dir.path().join("certs")).unwrap();
    store.save(&name, &cert.pem(), &key.serialize_pem(), meta).unwrap();
    let roots = common::tls::roots(cert.pem().as_bytes());
    let (http, https) = (common::tls::free_port(), common::tls::free_port());
    let more = format!(
        "[http]\nlisten = \"127.0.0.1:{http}\"\n\n[https]\ntls = \"internal\"\nlisten = \"127.0.0.1:{https}\"\n"
    );
    let mut child = first_start(dir.path(), &more);
    let addr = SocketAddr::from(([127, 0, 0, 1], https));
    let deadline = when_listening(&mut child, addr);
    let first = common::tls::https_get(addr, &name, "/", &roots).await;
    assert_starting(first.status, first.header("retry-after"), &first.text());
    loop {
        let ais = common::tls::https_get(addr, &name, "/", &roots).await;
        if ais.status == 200 {
            assert!(ais.text().contains("<html"), "the site itself: {}", ais.text());
            break;
        }
        assert!(Instant::now() < deadline, "ais never served over HTTPS: {} {}", ais.status, ais.text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `cong serve` on the demo and 4,000 more site folders in `dir`, a fresh data folder, with
/// `listen` (the `[http]` and `[https]` sections).
fn first_start(dir: &std::path::Path, listen: &str) -> Killed {
    copy_demo(dir);
    // Enough folders for an import of a few hundred milliseconds: their site.toml is what
    // it reads.
    for i in 0..4000 {
        let label = format!("dv{i:04}");
        let site = dir.join("tenants").join(&label);
        common::reload::write_site(&site, &label, &format!("Đơn vị thử nghiệm {i}"), "Xin chào.");
    }
    let more = format!("{listen}\n[publishing]\napproval = \"off\"\n");
    let config = common::write_config(
        dir,
        std::path::Path::new("tenants"),
        std::path::Path::new("themes"),
        std::path::Path::new("data"),
        &more,
    );
    Killed(
        Command::new(env!("CARGO_BIN_EXE_cong"))
            .args(["--config", config.to_str().unwrap(), "serve"])
            .current_dir(dir)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start cong serve"),
    )
}

/// Wait until `addr` accepts (it is bound just before the import begins: ask as soon as it
/// does); the deadline for the rest of the test.
fn when_listening(child: &mut Killed, addr: SocketAddr) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "cong never listened on {addr}");
        assert!(child.0.try_wait().unwrap().is_none(), "cong exited before it listened");
        std::thread::sleep(Duration::from_millis(2));
    }
    deadline
}

/// The answer of a start that has not loaded the registry yet.
fn assert_starting(status: u16, retry_after: &str, text: &str) {
    assert_eq!((status, retry_after), (503, "1"), "{text}");
    assert!(text.contains("Cổng thông tin đang khởi động"), "the page of a start: {text}");
}

/// A child process killed when the test ends, failed or not.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn answers_while_building(server: &Server, start: &str) {
    let started = Instant::now();
    let mut saw_starting = false;
    let mut waiting_answers = 0;
    while !server.logged(|l| l.contains("sites on http://")) {
        let asked = Instant::now();
        let ttt = get(server.http, &host("ttt"), "/").await;
        assert!(asked.elapsed() < PROMPT, "{start}: an unbuilt site answers at once, took {:?}", asked.elapsed());
        if ttt.status == 503 && ttt.header("retry-after") == "1" {
            waiting_answers += 1;
        }
        let status = api_status(server.admin).await;
        if status["starting"] == true {
            saw_starting = true;
            assert!(status["sites_pending"].as_u64().is_some_and(|n| n >= 1), "{start}: {status}");
            assert!(status["sites_built"].as_u64().is_some_and(|n| n < 7), "{start}: {status}");
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{start}: never ready:\n{}", server.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(saw_starting, "{start}: /api/status said it was starting:\n{}", server.log_text());
    assert!(waiting_answers >= 1, "{start}: ttt answered 503 with Retry-After: 1 while it was built");
    // Built: the good sites serve, the broken one is unavailable without "try in a second".
    assert_eq!(get(server.http, &host("ais"), "/").await.status, 200, "{start}");
    let ttt = get(server.http, &host("ttt"), "/").await;
    assert_eq!((ttt.status, ttt.header("retry-after")), (503, ""), "{start}: a failed build is not 'starting'");
    let status = api_status(server.admin).await;
    assert_eq!((status["starting"].as_bool(), status["sites_pending"].as_u64()), (Some(false), Some(0)), "{status}");
    assert!(server.logged(|l| l.contains("answering on http://") && l.contains("sites are built")), "{start}");
}

async fn api_status(admin: SocketAddr) -> serde_json::Value {
    let auth = format!("Bearer {TOKEN}");
    let resp =
        common::request(admin, "GET", "admin", "/api/status", &[("authorization", auth.as_str())], Vec::new()).await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    resp.json()
}

/// A restart takes every unchanged site from the build cache (`data/cache/`) instead of
/// rendering it again, and never a stale one: a page edited while the server was down is
/// served as edited, its site built again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_takes_unchanged_sites_from_the_build_cache_and_never_a_stale_one() {
    let dir = tempfile::tempdir().unwrap();
    copy_demo(dir.path());
    let more = "[publishing]\napproval = \"off\"\n";
    let env = [("RUST_LOG", "info,cong::snapshot=debug")];
    let server = Server::start_with_env(dir.path(), TOKEN, more, &env);
    assert_eq!(get(server.http, &host("ais"), "/").await.status, 200);
    assert!(dir.path().join("data/cache/ais.site").is_file(), "the build is kept:\n{}", server.log_text());
    assert!(!server.logged(|l| l.contains("taken from the build cache")), "nothing to take on a first start");
    drop(server);

    let page = dir.path().join("tenants/vnnic/content/gioi-thieu.md");
    let text = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, format!("{text}\nSỬA KHI MÁY CHỦ DỪNG\n")).unwrap();
    let server = Server::start_with_env(dir.path(), TOKEN, more, &env);
    let from_cache = |label: &str| {
        let mark = format!("site={label} ");
        server.logged(|l| l.contains("taken from the build cache") && l.contains(&mark))
    };
    assert!(from_cache("ais") && from_cache("cbc"), "unchanged sites come from the cache:\n{}", server.log_text());
    assert!(!from_cache("vnnic"), "the edited site is built again:\n{}", server.log_text());
    let edited = get(server.http, &host("vnnic"), "/gioi-thieu/").await;
    assert!(edited.text().contains("SỬA KHI MÁY CHỦ DỪNG"), "the edit made while down is served");
    let ais = get(server.http, &host("ais"), "/dich-vu-cong/").await;
    assert_eq!(ais.status, 200, "a cached site serves its pages:\n{}", ais.text());
}
