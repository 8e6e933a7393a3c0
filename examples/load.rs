//! The load client of `scripts/load`: hostile and normal clients against one running cong
//! on loopback, bounded in time and request count. Slow clients dribble request heads (and
//! some send nothing) and reconnect when closed; normal keep-alive clients send paced GETs
//! and time each answer; a mixer sends oversized and malformed requests. Prints latency
//! percentiles, how and when slow connections were closed, errors, and the server's RSS.

use clap::Parser;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Parser, Debug)]
struct Args {
    /// The server (loopback only).
    #[arg(long)]
    addr: SocketAddr,
    /// The server's process id, for its VmRSS.
    #[arg(long)]
    pid: u32,
    /// Connections that dribble request heads.
    #[arg(long, default_value_t = 400)]
    slow: usize,
    /// Seconds between two bytes of a slow head.
    #[arg(long, default_value_t = 2.0)]
    slow_interval: f64,
    /// One slow connection in this many sends nothing at all.
    #[arg(long, default_value_t = 10)]
    silent_every: usize,
    /// Keep-alive clients that measure latency.
    #[arg(long, default_value_t = 8)]
    normal: usize,
    /// Milliseconds between two requests of one normal client.
    #[arg(long, default_value_t = 5)]
    pace_ms: u64,
    /// Clients sending oversized and malformed requests.
    #[arg(long, default_value_t = 2)]
    hostile: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// At most this many requests from normal and hostile clients together.
    #[arg(long, default_value_t = 200_000)]
    max_requests: u64,
    /// `host path` pairs for normal clients, comma-separated (`ais.mic.gov.vn /,...`).
    #[arg(long, default_value = "ais.mic.gov.vn /,ais.mic.gov.vn /gioi-thieu/,vnnic.mic.gov.vn /,mic.gov.vn /")]
    targets: String,
}

/// Shared counters.
#[derive(Default)]
struct Stats {
    requests: AtomicU64,
    latencies_us: Mutex<Vec<u32>>,
    normal_errors: AtomicU64,
    normal_non_2xx: AtomicU64,
    /// (kind, seconds from connect to the server's close).
    slow_closed: Mutex<Vec<(&'static str, f64)>>,
    slow_opened: AtomicU64,
    slow_answered: AtomicU64,
    hostile: Mutex<std::collections::BTreeMap<String, u64>>,
}

fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Read one response: status and the whole Content-Length body. `None` when the server
/// closed or failed first.
async fn read_response(conn: &mut TcpStream, buf: &mut Vec<u8>) -> Option<u16> {
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let status = head.split(' ').nth(1)?.parse().ok()?;
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = conn.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(status);
        }
        let n = conn.read(&mut chunk).await.ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A slow client: connect, dribble one byte of a head that never ends (or nothing), note
/// when the server closes, reconnect; until `stop`.
async fn slow_client(addr: SocketAddr, id: usize, args: Arc<Args>, stats: Arc<Stats>, stop: Arc<AtomicBool>) {
    let silent = args.silent_every > 0 && id % args.silent_every == 0;
    let kind = if silent { "silent" } else { "dribble" };
    let head = format!("GET / HTTP/1.1\r\nHost: ais.mic.gov.vn\r\nX-Slow: {}", "a".repeat(4096));
    let interval = Duration::from_secs_f64(args.slow_interval);
    // Spread the connects over the first interval.
    tokio::time::sleep(interval.mul_f64(id as f64 / args.slow.max(1) as f64)).await;
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut conn) = TcpStream::connect(addr).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        stats.slow_opened.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let mut probe = [0u8; 1024];
        for byte in head.bytes() {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            if !silent && conn.write_all(&[byte]).await.is_err() {
                break;
            }
            match tokio::time::timeout(interval, conn.read(&mut probe)).await {
                Err(_) => continue,
                Ok(Ok(n)) if n > 0 => {
                    stats.slow_answered.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Ok(_) => break,
            }
        }
        if stop.load(Ordering::Relaxed) {
            return;
        }
        stats.slow_closed.lock().unwrap().push((kind, started.elapsed().as_secs_f64()));
    }
}

/// A normal keep-alive client: paced GETs over `targets`, each timed to the last body byte.
async fn normal_client(addr: SocketAddr, id: usize, args: Arc<Args>, stats: Arc<Stats>, stop: Arc<AtomicBool>) {
    let targets: Vec<(String, String)> = args
        .targets
        .split(',')
        .filter_map(|t| t.trim().split_once(' ').map(|(h, p)| (h.to_string(), p.to_string())))
        .collect();
    let mut conn: Option<TcpStream> = None;
    let mut buf = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(args.pace_ms.max(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut i = id;
    while !stop.load(Ordering::Relaxed) && stats.requests.fetch_add(1, Ordering::Relaxed) < args.max_requests {
        tick.tick().await;
        let (host, path) = &targets[i % targets.len()];
        i += 1;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: br, gzip\r\n\r\n");
        let started = Instant::now();
        if conn.is_none() {
            conn = TcpStream::connect(addr).await.ok();
        }
        let Some(c) = conn.as_mut() else {
            stats.normal_errors.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let answered = match c.write_all(request.as_bytes()).await {
            Ok(()) => read_response(c, &mut buf).await,
            Err(_) => None,
        };
        match answered {
            Some(status) => {
                stats.latencies_us.lock().unwrap().push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
                if !(200..400).contains(&status) {
                    stats.normal_non_2xx.fetch_add(1, Ordering::Relaxed);
                }
            }
            None => {
                stats.normal_errors.fetch_add(1, Ordering::Relaxed);
                conn = None;
            }
        }
    }
}

/// Oversized and malformed requests, each on its own connection; counts what came back.
async fn hostile_client(addr: SocketAddr, id: usize, args: Arc<Args>, stats: Arc<Stats>, stop: Arc<AtomicBool>) {
    let big_header = format!("GET / HTTP/1.1\r\nHost: ais.mic.gov.vn\r\nX-Big: {}\r\n\r\n", "b".repeat(64 * 1024));
    let many: String = (0..200).map(|i| format!("X-{i}: v\r\n")).collect();
    let many_headers = format!("GET / HTTP/1.1\r\nHost: ais.mic.gov.vn\r\n{many}\r\n");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("oversized head", big_header.into_bytes()),
        ("too many headers", many_headers.into_bytes()),
        (
            "huge body declared",
            b"POST / HTTP/1.1\r\nHost: ais.mic.gov.vn\r\nContent-Length: 1000000000\r\n\r\n".to_vec(),
        ),
        ("bad request line", b"GET / HTTP/9.9\r\nHost: ais.mic.gov.vn\r\n\r\n".to_vec()),
        ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n".to_vec()),
        ("no host", b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec()),
        (
            "traversal",
            b"GET /static/../../etc/passwd HTTP/1.1\r\nHost: ais.mic.gov.vn\r\nConnection: close\r\n\r\n".to_vec(),
        ),
        (
            "chunked post",
            b"POST / HTTP/1.1\r\nHost: ais.mic.gov.vn\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n".to_vec(),
        ),
    ];
    let mut n = id;
    let mut buf = Vec::new();
    while !stop.load(Ordering::Relaxed) && stats.requests.fetch_add(1, Ordering::Relaxed) < args.max_requests {
        let (what, bytes) = &cases[n % cases.len()];
        n += 1;
        let outcome = match TcpStream::connect(addr).await {
            Ok(mut c) => {
                let _ = c.write_all(bytes).await;
                match tokio::time::timeout(Duration::from_secs(5), read_response(&mut c, &mut buf)).await {
                    Ok(Some(status)) => status.to_string(),
                    Ok(None) => "closed without an answer".to_string(),
                    Err(_) => "no answer in 5 s".to_string(),
                }
            }
            Err(e) => format!("connect failed: {e}"),
        };
        *stats.hostile.lock().unwrap().entry(format!("{what} -> {outcome}")).or_default() += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Arc::new(Args::parse());
    assert!(args.addr.ip().is_loopback(), "load: loopback addresses only, not {}", args.addr);
    let stats = Arc::new(Stats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let rss_before = vm_rss_kib(args.pid);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for id in 0..args.slow {
        tasks.push(tokio::spawn(slow_client(args.addr, id, args.clone(), stats.clone(), stop.clone())));
    }
    // Normal and hostile clients join once the slow connections are all open.
    tokio::time::sleep(Duration::from_secs_f64(args.slow_interval + 1.0)).await;
    let rss_slow_only = vm_rss_kib(args.pid);
    for id in 0..args.normal {
        tasks.push(tokio::spawn(normal_client(args.addr, id, args.clone(), stats.clone(), stop.clone())));
    }
    for id in 0..args.hostile {
        tasks.push(tokio::spawn(hostile_client(args.addr, id, args.clone(), stats.clone(), stop.clone())));
    }
    let mut rss_max = 0;
    while started.elapsed() < Duration::from_secs(args.seconds) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        rss_max = rss_max.max(vm_rss_kib(args.pid).unwrap_or(0));
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    for t in tasks {
        t.abort();
    }
    // Give the server a moment to notice the closed sockets.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_after = vm_rss_kib(args.pid);
    report(&args, &stats, elapsed, [rss_before, rss_slow_only, Some(rss_max), rss_after]);
}

fn report(args: &Args, stats: &Stats, elapsed: f64, rss: [Option<u64>; 4]) {
    let mut lat = stats.latencies_us.lock().unwrap().clone();
    lat.sort_unstable();
    let mib = |k: Option<u64>| k.map_or("?".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
    println!("load: {elapsed:.1} s against {} (pid {})", args.addr, args.pid);
    println!(
        "normal clients: {} keep-alive, one GET per {} ms each: {} answers ({:.0}/s), {} errors, {} not 2xx/3xx",
        args.normal,
        args.pace_ms,
        lat.len(),
        lat.len() as f64 / elapsed,
        stats.normal_errors.load(Ordering::Relaxed),
        stats.normal_non_2xx.load(Ordering::Relaxed)
    );
    println!(
        "  latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        percentile(&lat, 0.5),
        percentile(&lat, 0.9),
        percentile(&lat, 0.99),
        percentile(&lat, 0.999),
        percentile(&lat, 1.0)
    );
    let closed = stats.slow_closed.lock().unwrap().clone();
    println!(
        "slow clients: {} at a time, one byte per {} s (1 in {} sends nothing): {} connections opened, {} answered (should be 0)",
        args.slow,
        args.slow_interval,
        args.silent_every,
        stats.slow_opened.load(Ordering::Relaxed),
        stats.slow_answered.load(Ordering::Relaxed)
    );
    for kind in ["dribble", "silent"] {
        let mut secs: Vec<f64> = closed.iter().filter(|(k, _)| *k == kind).map(|(_, s)| *s).collect();
        secs.sort_by(f64::total_cmp);
        if secs.is_empty() {
            println!("  {kind}: none closed by the server");
            continue;
        }
        let at = |p: f64| secs[((secs.len() as f64 - 1.0) * p).round() as usize];
        println!(
            "  {kind}: {} closed by the server, after min {:.2} s  p50 {:.2} s  max {:.2} s",
            secs.len(),
            at(0.0),
            at(0.5),
            at(1.0)
        );
    }
    println!("hostile requests:");
    for (what, n) in stats.hostile.lock().unwrap().iter() {
        println!("  {n:6}  {what}");
    }
    println!(
        "server VmRSS: before {}  with slow clients only {}  max during {}  after {}",
        mib(rss[0]),
        mib(rss[1]),
        mib(rss[2]),
        mib(rss[3])
    );
}
