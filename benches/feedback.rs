//! The public write path, measured: how many questions a second the form takes (each one
//! committed before its 303) while cached pages keep being served, and what that does to
//! the cached pages' latency. Plain `main` (harness = false): `cargo bench --bench
//! feedback` prints the figures. The server runs in-process on a private copy of the demo.
//!
//! The form allows 5 sends per client address and site an hour, so the senders connect from
//! many loopback addresses (127.0.x.y), as many different visitors would.

#[path = "../tests/common/mod.rs"]
mod common;

use common::{Conn, Proto};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SITES: [&str; 6] = ["ais", "cbc", "cds", "ptit", "ttt", "vnnic"];
const READERS: usize = 8;
const SENDERS: usize = 4;
const RUN: Duration = Duration::from_secs(4);
const SENDS: usize = 2000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        common::copy_demo(dir.path());
        let path = common::write_config(
            dir.path(),
            std::path::Path::new("tenants"),
            std::path::Path::new("themes"),
            std::path::Path::new("data"),
            "",
        );
        let config = cong::model::config::Config::from_file(&path).expect("bench config");
        let running = common::launch(config).await;
        let addr = running.http_addr;

        let (idle_rps, idle) = read_load(addr, None).await;
        // Forms fetched ahead: a token is good from 3 s after it was issued.
        let mut tokens = Vec::with_capacity(SENDS);
        let mut conn = Conn::open(addr, Proto::H1).await.expect("connect");
        for i in 0..SENDS {
            let site = SITES[i % SITES.len()];
            let form = conn.request("GET", &format!("{site}.mic.gov.vn"), "/hoi-dap/gui/", &[], Vec::new()).await.expect("form");
            let text = form.text();
            let token = text.split("name=\"form_token\" value=\"").nth(1).and_then(|r| r.split('"').next()).expect("a token");
            tokens.push((site, token.to_string()));
        }
        tokio::time::sleep(Duration::from_millis(3100)).await;

        let stop = Arc::new(AtomicBool::new(false));
        let tokens = Arc::new(std::sync::Mutex::new(tokens));
        let mut senders = Vec::new();
        for s in 0..SENDERS {
            let (tokens, stop) = (tokens.clone(), stop.clone());
            senders.push(tokio::spawn(async move {
                let mut sent = 0usize;
                let mut n = s;
                while !stop.load(Ordering::Relaxed) {
                    let Some((site, token)) = tokens.lock().unwrap().pop() else { break };
                    // Each send from an address of its own, as many visitors would.
                    let source = IpAddr::V4(Ipv4Addr::new(127, 1 + (n / 250) as u8, (n % 250) as u8, 2 + s as u8));
                    n += SENDERS;
                    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
                    socket.bind(SocketAddr::new(source, 0)).expect("bind a loopback source");
                    let stream = socket.connect(addr).await.expect("connect");
                    let mut conn = Conn::handshake(stream, Proto::H1, "http").await.expect("handshake");
                    let body = format!(
                        "kind=question&name=Ng%C6%B0%E1%BB%9Di+%C4%91o&email=do%40example.vn&title=C%C3%A2u+h%E1%BB%8Fi&\
                         body=N%E1%BB%99i+dung&consent=yes&website=&form_token={token}"
                    );
                    let headers = [("content-type", "application/x-www-form-urlencoded")];
                    let resp = conn
                        .request("POST", &format!("{site}.mic.gov.vn"), "/hoi-dap/gui/", &headers, body.into_bytes())
                        .await
                        .expect("send");
                    assert_eq!(resp.status, 303, "a send was refused:\n{}", resp.text());
                    sent += 1;
                }
                sent
            }));
        }
        let start = Instant::now();
        let (busy_rps, busy) = read_load(addr, Some(stop.clone())).await;
        let elapsed = start.elapsed();
        let mut sent = 0;
        for s in senders {
            sent += s.await.expect("sender");
        }
        running.stop().await;
        println!("cached GETs, {READERS} keep-alive connections, {RUN:?} each:");
        println!("  alone:              {idle_rps:>8.0} req/s, p50 {:.2} ms, p99 {:.2} ms", ms(pct(&idle, 50)), ms(pct(&idle, 99)));
        println!("  with sends running: {busy_rps:>8.0} req/s, p50 {:.2} ms, p99 {:.2} ms", ms(pct(&busy, 50)), ms(pct(&busy, 99)));
        println!(
            "questions committed meanwhile: {sent} in {:.1} s = {:.0} sends/s ({SENDERS} senders, a new connection each)",
            elapsed.as_secs_f64(),
            sent as f64 / elapsed.as_secs_f64()
        );
    });
}

/// `READERS` connections asking for cached pages for `RUN`; requests per second and every
/// latency. With `stop`, it is set at the end.
async fn read_load(addr: SocketAddr, stop: Option<Arc<AtomicBool>>) -> (f64, Vec<Duration>) {
    let mut tasks = Vec::new();
    for r in 0..READERS {
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr, Proto::H1).await.expect("connect");
            let mut times = Vec::new();
            let end = Instant::now() + RUN;
            let mut i = r;
            while Instant::now() < end {
                let site = SITES[i % SITES.len()];
                i += 1;
                let start = Instant::now();
                let resp = conn.request("GET", &format!("{site}.mic.gov.vn"), "/", &[], Vec::new()).await.expect("GET");
                assert_eq!(resp.status, 200);
                times.push(start.elapsed());
            }
            times
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("reader"));
    }
    if let Some(stop) = stop {
        stop.store(true, Ordering::Relaxed);
    }
    (all.len() as f64 / RUN.as_secs_f64(), all)
}

fn pct(samples: &[Duration], p: usize) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[((sorted.len() * p).div_ceil(100)).saturating_sub(1).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
