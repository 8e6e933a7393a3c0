//! The open-file limit, against the real binary run under `ulimit -n 256` (soft and hard,
//! so raising it cannot help): 300 connections to the admin port that never send a byte
//! hold back neither the public `/healthz` nor a member's page, and each is closed by the
//! first-request deadline (`[limits] header_read_timeout_secs`). The admin listener has a
//! ceiling of its own and every ceiling is fitted under the limit at start (docs/config.md,
//! `[limits]`). Before, the silent admin connections took every file the process may open,
//! `accept` failed with EMFILE on the public listener too, and it stopped answering.

use crate::common::process::Server;
use crate::common::{copy_demo, get, Resp};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

const OPEN_FILES: u32 = 256;
/// More connections than the process may hold files.
const SILENT: usize = 300;
/// `[limits] header_read_timeout_secs`: the first-request deadline.
const FIRST_REQUEST: Duration = Duration::from_secs(1);
/// A public answer slower than this counts as "the public listener stopped answering";
/// generous (a debug build on a busy two-core machine answers in milliseconds). Without
/// the fix the answers never come.
const ANSWER: Duration = Duration::from_secs(5);
/// How long all silent connections may take to be closed: the admin ceiling (48 under
/// this limit) takes them in turns of one deadline each, 7 turns for 300; the rest is
/// margin for a loaded machine. Without the fix they are never closed.
const ALL_CLOSED: Duration = Duration::from_secs(40);

/// A public answer within [`ANSWER`], or what went wrong.
async fn answer(http: SocketAddr, host: &str, path: &str) -> Result<Resp, String> {
    let started = Instant::now();
    match tokio::time::timeout(ANSWER, get(http, host, path)).await {
        Ok(resp) if resp.status == 200 => Ok(resp),
        Ok(resp) => Err(format!("{host}{path}: {} after {:?}", resp.status, started.elapsed())),
        Err(_) => Err(format!("{host}{path}: no answer within {ANSWER:?}")),
    }
}

/// `/healthz` and a member's page, again and again until `stop` is set; how many rounds
/// answered, or the first that did not.
async fn probe(http: SocketAddr, stop: Arc<AtomicBool>) -> Result<usize, String> {
    let mut rounds = 0;
    while !stop.load(Ordering::Relaxed) {
        answer(http, "anything.example", "/healthz").await?;
        let page = answer(http, "ais.mic.gov.vn", "/").await?;
        if !page.text().contains("Cục An toàn thông tin") {
            return Err(format!("ais.mic.gov.vn/ is not the member's page: {}", page.text()));
        }
        rounds += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(rounds)
}

/// How long after `opened` the server closed `conn` (EOF or reset), at most [`ALL_CLOSED`].
async fn closed_after(mut conn: TcpStream, opened: Instant) -> Result<Duration, String> {
    let mut buf = [0u8; 256];
    let left = ALL_CLOSED.checked_sub(opened.elapsed()).unwrap_or_default();
    match tokio::time::timeout(left, conn.read(&mut buf)).await {
        Ok(Ok(0)) | Ok(Err(_)) => Ok(opened.elapsed()),
        Ok(Ok(n)) => Err(format!("a silent connection got {:?}", String::from_utf8_lossy(&buf[..n]))),
        Err(_) => Err(format!("a silent connection is still open after {ALL_CLOSED:?}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_admin_connections_under_a_low_open_file_limit_hold_back_no_public_answer() {
    // The test process holds the client ends: give it room of its own.
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let hard = getrlimit(Resource::Nofile).maximum;
    let _ = setrlimit(Resource::Nofile, Rlimit { current: hard.map(|h| h.min(4096)), maximum: hard });
    let dir = tempfile::tempdir().unwrap();
    copy_demo(dir.path());
    let limits = format!("[limits]\nheader_read_timeout_secs = {}\n", FIRST_REQUEST.as_secs());
    let server = Server::start_with_open_files(dir.path(), "open-files-test-token", &limits, OPEN_FILES);
    let (http, admin) = (server.http, server.admin);
    assert!(
        server.logged(|l| l.contains(&format!("open-file limit {OPEN_FILES} (hard limit {OPEN_FILES})"))),
        "the process ran under the test's limit:\n{}",
        server.log_text()
    );
    assert!(
        server.logged(|l| l.contains("[limits] max_connections lowered from 10000 to 144")),
        "the public ceiling was fitted under the limit and the key named:\n{}",
        server.log_text()
    );
    answer(http, "ais.mic.gov.vn", "/").await.expect("the member's page before the flood");

    // Connections the kernel completes whether or not the server accepts them, each
    // watched from the moment it is open.
    let stop = Arc::new(AtomicBool::new(false));
    let prober = tokio::spawn(probe(http, stop.clone()));
    let flood = Instant::now();
    let mut closers = Vec::new();
    for _ in 0..SILENT {
        let conn = TcpStream::connect(admin).await.expect("connect to the admin port");
        closers.push(tokio::spawn(closed_after(conn, Instant::now())));
    }
    eprintln!("{SILENT} connections to the admin port opened in {:?}", flood.elapsed());
    let mut closed = Vec::new();
    for closer in closers {
        closed.push(closer.await.unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    let rounds = prober.await.unwrap();
    let rounds = rounds.unwrap_or_else(|e| panic!("while the admin port was flooded: {e}\n{}", server.log_text()));
    let mut waits: Vec<Duration> =
        closed.into_iter().map(|c| c.unwrap_or_else(|e| panic!("{e}\n{}", server.log_text()))).collect();
    waits.sort();
    eprintln!(
        "{SILENT} silent admin connections closed after {:?} (first) to {:?} (last); {rounds} public rounds answered",
        waits[0],
        waits[SILENT - 1]
    );
    assert!(rounds >= 3, "the public listener was probed throughout ({rounds} rounds)");
    let early = FIRST_REQUEST.mul_f32(0.9);
    assert!(waits[0] >= early, "closed by the first-request deadline, not at once ({:?})", waits[0]);
    assert!(!server.logged(|l| l.contains("accept failed")), "no listener ran out of files:\n{}", server.log_text());
    // The admin API itself is back once the flood is gone.
    let resp = tokio::time::timeout(ANSWER, get(admin, "admin", "/healthz")).await.expect("the admin listener answers");
    assert_eq!(resp.status, 200);
}
