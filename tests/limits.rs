//! Every `[limits]` key verified over a real socket against a server started in-process
//! with small limits: slow and silent clients, oversized heads and bodies, idle keep-alive,
//! the connection ceilings (the admin listener's too), and HTTP/2 stream and reset limits
//! spoken as raw frames.

use crate::common::registry::{Env, Tenants};
use crate::common::{self, parse_raw, RawResp};
use cong::app::Running;
use cong::model::config::Limits;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const HOST: &str = "ais.mic.gov.vn";

/// How long past a timeout a connection may take to be closed before the test calls it a
/// failure: generous, so a loaded machine does not fail it.
const MARGIN: Duration = Duration::from_secs(5);

/// A one-site server with `limits` (a `[limits]` body). The site folder is only read at
/// start, so it need not outlive the call.
async fn server(limits: &str) -> common::Server {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("tenants/ais");
    std::fs::create_dir_all(site.join("content")).unwrap();
    std::fs::write(site.join("site.toml"), "label = \"ais\"\nname_vi = \"Cục An toàn thông tin\"\n").unwrap();
    std::fs::write(site.join("content/gioi-thieu.md"), "+++\ntitle = \"Giới thiệu\"\n+++\nCục.\n").unwrap();
    let live = common::live_with(
        &format!("[limits]\n{limits}"),
        &dir.path().join("tenants"),
        &dir.path().join("no-themes"),
        |_| {},
    );
    common::start(live).await
}

/// Read until the server closes (EOF or reset); the bytes and when it closed. Panics when
/// it is still open after `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let left = within.checked_sub(started.elapsed()).unwrap_or_default();
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (out, started.elapsed()),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => panic!("still open after {within:?}; read so far: {:?}", String::from_utf8_lossy(&out)),
        }
    }
}

/// Read one HTTP/1.1 response (head and Content-Length body) without waiting for a close.
async fn read_one(stream: &mut TcpStream) -> RawResp {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    tokio::time::timeout(common::TIMEOUT, async {
        loop {
            if let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") {
                let len: usize = parse_raw(&out).header("content-length").parse().unwrap_or(0);
                if out.len() >= end + 4 + len {
                    return parse_raw(&out);
                }
            }
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed before a whole response: {:?}", String::from_utf8_lossy(&out));
            out.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("a response")
}

/// Send `bytes` (the server may stop reading them halfway), then read the answer.
async fn lenient(addr: SocketAddr, bytes: &[u8]) -> RawResp {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    let _ = conn.write_all(bytes).await;
    let (got, _) = read_until_closed(&mut conn, common::TIMEOUT).await;
    parse_raw(&got)
}

fn get_keep_alive(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n").into_bytes()
}

// ---- Slow clients (header_read_timeout_secs) ----------------------------------------

#[tokio::test]
async fn a_head_that_stops_halfway_is_closed_by_the_header_timeout() {
    let s = server("header_read_timeout_secs = 1\nidle_timeout_secs = 3600\n").await;
    let mut conn = TcpStream::connect(s.addr).await.unwrap();
    conn.write_all(b"GET / HTTP/1.1\r\nHost: ais.mic").await.unwrap();
    let (got, after) = read_until_closed(&mut conn, Duration::from_secs(1) + MARGIN).await;
    assert!(got.is_empty(), "no answer to half a head: {:?}", String::from_utf8_lossy(&got));
    assert!(after >= Duration::from_millis(900), "closed by the timer, not at once ({after:?})");
}

#[tokio::test]
async fn dribbling_a_head_byte_by_byte_does_not_extend_the_header_timeout() {
    let s = server("header_read_timeout_secs = 1\nidle_timeout_secs = 3600\n").await;
    let mut conn = TcpStream::connect(s.addr).await.unwrap();
    let head = b"GET / HTTP/1.1\r\nHost: ais.mic.gov.vn\r\nUser-Agent: slowloris slowloris slowloris\r\n";
    let started = Instant::now();
    for byte in head.iter().cycle() {
        if conn.write_all(&[*byte]).await.is_err() {
            break; // the server closed; a write into a closed socket fails
        }
        let mut probe = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(200), conn.read(&mut probe)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => panic!("an answer to a head never finished: {:?}", String::from_utf8_lossy(&probe[..n])),
            Err(_) => {}
        }
        assert!(started.elapsed() < Duration::from_secs(1) + MARGIN, "a dribbling client is still connected");
    }
    assert!(started.elapsed() >= Duration::from_millis(900), "closed by the timer ({:?})", started.elapsed());
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_by_the_header_timeout() {
    // Before the first byte hyper cannot tell HTTP/1.1 from HTTP/2 and runs no timer of its
    // own; the first-request deadline in `limits::GuardedIo` covers it, for HTTP/2 too.
    let s = server("header_read_timeout_secs = 1\nidle_timeout_secs = 3600\n").await;
    let mut silent = TcpStream::connect(s.addr).await.unwrap();
    let mut preface_only = TcpStream::connect(s.addr).await.unwrap();
    preface_only.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
    let mut half_preface = TcpStream::connect(s.addr).await.unwrap();
    half_preface.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    let started = Instant::now();
    for (what, conn) in [("silent", &mut silent), ("h2 preface", &mut preface_only), ("half", &mut half_preface)] {
        read_until_closed(conn, Duration::from_secs(1) + MARGIN).await;
        let after = started.elapsed();
        assert!(after >= Duration::from_millis(900), "{what}: closed by the timer ({after:?})");
    }
}

// ---- Head size and header count (max_header_bytes, max_headers) ----------------------

#[tokio::test]
async fn a_head_over_max_header_bytes_gets_431() {
    let s = server("max_header_bytes = 8192\n").await;
    let head = |filler: usize| {
        format!("GET / HTTP/1.1\r\nHost: {HOST}\r\nX-Filler: {}\r\nConnection: close\r\n\r\n", "a".repeat(filler))
    };
    let small = lenient(s.addr, head(6000).as_bytes()).await;
    assert_eq!(small.status, 200, "a 6 KB head is fine: {}", small.head);
    for filler in [9000, 64 * 1024] {
        let big = lenient(s.addr, head(filler).as_bytes()).await;
        assert_eq!(big.status, 431, "a head with {filler} bytes of one header: {}", big.head);
    }
}

#[tokio::test]
async fn more_than_max_headers_gets_431() {
    let s = server("max_headers = 10\n").await;
    let head = |n: usize| {
        let extra: String = (0..n).map(|i| format!("X-H{i}: v\r\n")).collect();
        format!("GET / HTTP/1.1\r\nHost: {HOST}\r\n{extra}Connection: close\r\n\r\n")
    };
    // Host and Connection count too.
    assert_eq!(lenient(s.addr, head(8).as_bytes()).await.status, 200, "10 headers");
    assert_eq!(lenient(s.addr, head(9).as_bytes()).await.status, 431, "11 headers");
    assert_eq!(lenient(s.addr, head(500).as_bytes()).await.status, 431, "502 headers");
}

// ---- Bodies (max_body_bytes) ---------------------------------------------------------

#[tokio::test]
async fn a_declared_body_over_max_body_bytes_gets_413_before_it_is_sent() {
    let s = server("max_body_bytes = 1024\n").await;
    for method in ["POST", "PUT", "GET"] {
        let mut conn = TcpStream::connect(s.addr).await.unwrap();
        let head = format!("{method} /gioi-thieu/ HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: 100000000\r\n\r\n");
        conn.write_all(head.as_bytes()).await.unwrap();
        // Not one body byte sent: the answer cannot depend on reading the body.
        let (got, _) = read_until_closed(&mut conn, common::TIMEOUT).await;
        let resp = parse_raw(&got);
        assert_eq!(resp.status, 413, "{method}: {}", resp.head);
        assert_eq!(resp.header("connection"), "close", "{method}");
        assert_eq!(resp.header("x-content-type-options"), "nosniff", "{method}");
    }
}

#[tokio::test]
async fn a_small_body_to_a_page_gets_405_and_keeps_the_connection() {
    let s = server("max_body_bytes = 1024\n").await;
    let mut conn = TcpStream::connect(s.addr).await.unwrap();
    conn.write_all(format!("POST /gioi-thieu/ HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: 5\r\n\r\nhello").as_bytes())
        .await
        .unwrap();
    let resp = read_one(&mut conn).await;
    assert_eq!((resp.status, resp.header("allow").as_str()), (405, "GET, HEAD"), "{}", resp.head);
    conn.write_all(&get_keep_alive("/gioi-thieu/")).await.unwrap();
    assert_eq!(read_one(&mut conn).await.status, 200, "the small body was drained, the connection goes on");
}

#[tokio::test]
async fn a_streamed_body_without_length_is_not_read_into_memory() {
    let s = server("max_body_bytes = 1024\n").await;
    let mut conn = TcpStream::connect(s.addr).await.unwrap();
    let head = format!("POST /gioi-thieu/ HTTP/1.1\r\nHost: {HOST}\r\nTransfer-Encoding: chunked\r\n\r\n");
    conn.write_all(head.as_bytes()).await.unwrap();
    let (mut rd, mut wr) = conn.into_split();
    // Keep sending 1 MiB chunks until the server stops taking them (at most 256 MiB).
    let writer = tokio::spawn(async move {
        let chunk = format!("100000\r\n{}\r\n", "x".repeat(0x10_0000));
        let mut sent = 0usize;
        while sent < 256 << 20 {
            match tokio::time::timeout(Duration::from_secs(3), wr.write_all(chunk.as_bytes())).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return (sent, "closed"),
                Err(_) => return (sent, "stalled"),
            }
            sent += 0x10_0000;
        }
        (sent, "all sent")
    });
    let mut got = Vec::new();
    let _ = tokio::time::timeout(common::TIMEOUT, rd.read_to_end(&mut got)).await;
    let resp = parse_raw(&got);
    assert_eq!(resp.status, 405, "{}", resp.head);
    let (sent, how) = writer.await.unwrap();
    assert!(sent < 256 << 20, "the server kept reading a body it does not want: {sent} bytes, {how}");
}

// ---- Idle keep-alive (idle_timeout_secs) ---------------------------------------------

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_idle_timeout_secs() {
    // The header timeout is pushed out of the way: hyper would otherwise close a waiting
    // HTTP/1.1 connection when it runs out (it starts as soon as a connection is idle).
    let s = server("header_read_timeout_secs = 3600\nidle_timeout_secs = 1\n").await;
    let mut conn = TcpStream::connect(s.addr).await.unwrap();
    for _ in 0..3 {
        conn.write_all(&get_keep_alive("/gioi-thieu/")).await.unwrap();
        assert_eq!(read_one(&mut conn).await.status, 200);
        // Less than the idle timeout apart: the connection stays.
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let (rest, after) = read_until_closed(&mut conn, Duration::from_secs(1) + MARGIN).await;
    assert!(rest.is_empty(), "closed without a stray answer");
    assert!(after >= Duration::from_millis(500), "closed by the idle timer ({after:?})");

    let mut h2 = H2::connect(s.addr).await;
    h2.send(&[settings(), headers(1, HOST, "/gioi-thieu/", true)].concat()).await;
    let frames = h2.frames_until_closed(Duration::from_secs(1) + MARGIN).await;
    assert!(frames.iter().any(|f| f.kind == HEADERS && f.stream == 1), "answered first: {frames:?}");
}

// ---- Connection ceiling (max_connections) --------------------------------------------

#[tokio::test]
async fn connections_past_max_connections_wait_until_one_closes() {
    let s = server("max_connections = 2\nheader_read_timeout_secs = 3600\nidle_timeout_secs = 3600\n").await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(s.addr).await.unwrap();
        c.write_all(&get_keep_alive("/gioi-thieu/")).await.unwrap();
        assert_eq!(read_one(&mut c).await.status, 200);
        held.push(c);
    }
    // The kernel completes the handshake, but the server does not accept a third.
    let mut third = TcpStream::connect(s.addr).await.unwrap();
    third.write_all(&get_keep_alive("/gioi-thieu/")).await.unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_secs(1), third.read(&mut buf)).await;
    assert!(early.is_err(), "a third connection was served while two held the ceiling: {early:?}");
    drop(held.pop());
    assert_eq!(read_one(&mut third).await.status, 200, "served once a slot frees");
}

// ---- The admin listener (header_read_timeout_secs, admin_max_connections) -------------

/// A server launched as `cong serve` does (registry, admin API) on the demo, with `[limits]`
/// as `edit` sets them; the world it runs in must outlive it.
async fn with_admin(name: &str, edit: impl FnOnce(&mut Limits)) -> (Running, Env) {
    let env = Env::new(name, Tenants::Repo);
    let mut config = env.config();
    edit(&mut config.limits);
    (common::launch(config).await, env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_listener_closes_a_silent_connection_but_not_one_with_a_request() {
    let (running, _env) = with_admin("adminsilent", |l| {
        l.header_read_timeout_secs = 1;
        l.idle_timeout_secs = 1;
    })
    .await;
    let admin = running.admin_addr.expect("admin listener");
    let mut silent = TcpStream::connect(admin).await.unwrap();
    let (got, after) = read_until_closed(&mut silent, Duration::from_secs(1) + MARGIN).await;
    assert!(got.is_empty(), "no answer to nothing: {:?}", String::from_utf8_lossy(&got));
    assert!(after >= Duration::from_millis(900), "closed by the first-request deadline ({after:?})");

    // Once a request arrived, silence past both timeouts keeps the connection, as a
    // `POST /api/dns/check?wait=true` may.
    let mut h2 = H2::connect(admin).await;
    h2.send(&[settings(), headers(1, "admin", "/healthz", true)].concat()).await;
    let frames = h2.frames_until(|f| answered(f, 1)).await;
    assert_eq!(count(&frames, GOAWAY, None), 0, "{frames:?}");
    let mut buf = [0u8; 64];
    let quiet = tokio::time::timeout(Duration::from_secs(3), h2.conn.read(&mut buf)).await;
    assert!(quiet.is_err(), "an admin connection with a request was closed when silent: {quiet:?}");
    drop(h2);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_connections_past_admin_max_connections_wait_and_leave_the_public_listener_alone() {
    let (running, _env) = with_admin("adminceiling", |l| {
        l.admin_max_connections = 2;
        l.header_read_timeout_secs = 3600;
    })
    .await;
    let admin = running.admin_addr.expect("admin listener");
    let healthz = b"GET /healthz HTTP/1.1\r\nHost: admin\r\n\r\n";
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(admin).await.unwrap();
        c.write_all(healthz).await.unwrap();
        assert_eq!(read_one(&mut c).await.status, 200);
        held.push(c);
    }
    let mut third = TcpStream::connect(admin).await.unwrap();
    third.write_all(healthz).await.unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_secs(1), third.read(&mut buf)).await;
    assert!(early.is_err(), "a third admin connection was served while two held the ceiling: {early:?}");
    // The public listener has slots of its own.
    let mut public = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(running.http_addr).await.unwrap();
        c.write_all(&get_keep_alive("/")).await.unwrap();
        assert_eq!(read_one(&mut c).await.status, 200, "the public listener serves meanwhile");
        public.push(c);
    }
    drop(held.pop());
    assert_eq!(read_one(&mut third).await.status, 200, "served once an admin slot frees");
    drop((held, public, third));
    running.stop().await;
}

// ---- HTTP/2 (h2_max_concurrent_streams, h2_max_pending_reset_streams) ----------------

const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const REFUSED_STREAM: u32 = 0x7;
const CANCEL: u32 = 0x8;
const ENHANCE_YOUR_CALM: u32 = 0xb;

/// One HTTP/2 frame as read from the server.
#[derive(Debug)]
struct Frame {
    kind: u8,
    flags: u8,
    stream: u32,
    payload: Vec<u8>,
}

impl Frame {
    /// The error code of RST_STREAM and GOAWAY.
    fn error_code(&self) -> Option<u32> {
        let at = match self.kind {
            RST_STREAM => 0,
            GOAWAY => 4,
            _ => return None,
        };
        Some(u32::from_be_bytes(self.payload.get(at..at + 4)?.try_into().ok()?))
    }
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn settings() -> Vec<u8> {
    frame(SETTINGS, 0, 0, &[])
}

/// A GET as HPACK from the static table (no Huffman, no dynamic table): `:method GET`,
/// `:scheme http`, then `:path` and `:authority` as literals without indexing.
fn headers(stream: u32, authority: &str, path: &str, end_stream: bool) -> Vec<u8> {
    let mut block = vec![0x82, 0x86];
    for (name_index, value) in [(4u8, path), (1u8, authority)] {
        assert!(value.len() < 127);
        block.push(name_index);
        block.push(value.len() as u8);
        block.extend_from_slice(value.as_bytes());
    }
    frame(HEADERS, 0x4 | u8::from(end_stream), stream, &block)
}

/// [`headers`] plus one header `x-filler` of `len` bytes (an HPACK literal, new name).
fn headers_with_filler(stream: u32, len: usize) -> Vec<u8> {
    let mut block = headers(stream, HOST, "/", true)[9..].to_vec();
    block.extend_from_slice(&[0x00, 8]);
    block.extend_from_slice(b"x-filler");
    // An HPACK integer with a 7-bit prefix (RFC 7541 5.1).
    let mut n = len;
    if n < 127 {
        block.push(n as u8);
    } else {
        block.push(127);
        n -= 127;
        while n >= 128 {
            block.push((n % 128 + 128) as u8);
            n /= 128;
        }
        block.push(n as u8);
    }
    block.extend(std::iter::repeat_n(b'a', len));
    frame(HEADERS, 0x4 | 0x1, stream, &block)
}

/// The `:status` a response header block starts with: a static table entry (RFC 7541
/// appendix A) or a literal after name index 8, plain or Huffman-coded (digits only).
fn response_status(block: &[u8]) -> Option<u16> {
    const STATIC: [u16; 7] = [200, 204, 206, 304, 400, 404, 500];
    let first = *block.first()?;
    if (0x88..=0x8e).contains(&first) {
        return Some(STATIC[usize::from(first - 0x88)]);
    }
    if ![0x48, 0x08, 0x18].contains(&first) {
        return None;
    }
    let (huffman, len) = (block[1] & 0x80 != 0, usize::from(block[1] & 0x7f));
    let bytes = block.get(2..2 + len)?;
    if !huffman {
        return std::str::from_utf8(bytes).ok()?.parse().ok();
    }
    // Huffman codes of the digits: 0-2 are 00000-00010, 3-9 are 011001-011111.
    let bits: Vec<u8> = bytes.iter().flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1)).collect();
    let (mut at, mut status) = (0, 0u16);
    while at + 5 <= bits.len() {
        let code = |n: usize| bits[at..at + n].iter().fold(0u8, |acc, b| acc << 1 | b);
        let digit = match code(3) {
            0 => (code(5), 5),
            3 if at + 6 <= bits.len() => (code(6) - 0b011001 + 3, 6),
            _ => break, // padding (all ones)
        };
        status = status * 10 + u16::from(digit.0);
        at += digit.1;
    }
    Some(status)
}

fn rst_stream(stream: u32, code: u32) -> Vec<u8> {
    frame(RST_STREAM, 0, stream, &code.to_be_bytes())
}

/// The payload of the PING that [`H2::frames_until`] waits to see acknowledged.
const BARRIER: &[u8; 8] = b"barrier!";

/// Did `frames` answer stream `stream` (a HEADERS frame on it)?
fn answered(frames: &[Frame], stream: u32) -> bool {
    frames.iter().any(|f| f.kind == HEADERS && f.stream == stream)
}

/// A client that speaks HTTP/2 frames as given, whatever the server's SETTINGS say.
struct H2 {
    conn: TcpStream,
    buf: Vec<u8>,
}

impl H2 {
    async fn connect(addr: SocketAddr) -> H2 {
        let mut conn = TcpStream::connect(addr).await.unwrap();
        conn.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
        H2 { conn, buf: Vec::new() }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.conn.write_all(bytes).await.unwrap();
    }

    fn parse(&mut self) -> Vec<Frame> {
        let mut frames = Vec::new();
        while self.buf.len() >= 9 {
            let len = (usize::from(self.buf[0]) << 16) | (usize::from(self.buf[1]) << 8) | usize::from(self.buf[2]);
            if self.buf.len() < 9 + len {
                break;
            }
            let stream = u32::from_be_bytes(self.buf[5..9].try_into().unwrap()) & 0x7fff_ffff;
            frames.push(Frame {
                kind: self.buf[3],
                flags: self.buf[4],
                stream,
                payload: self.buf[9..9 + len].to_vec(),
            });
            self.buf.drain(..9 + len);
        }
        frames
    }

    /// Every frame until the server closes; panics when it is still open after `within`.
    async fn frames_until_closed(&mut self, within: Duration) -> Vec<Frame> {
        let (bytes, _) = read_until_closed(&mut self.conn, within).await;
        self.buf.extend_from_slice(&bytes);
        self.parse()
    }

    /// Every frame until `done` holds for the frames read so far, then until the server
    /// acknowledges a PING sent after that (or closes). A server takes frames in order, so
    /// whatever the earlier frames made it send (refusals, a GOAWAY) has arrived by then:
    /// no "quiet for a while" guess that a slow machine can cut short. Panics, with what
    /// arrived, when the server is silent for [`common::TIMEOUT`] or closes before `done`.
    async fn frames_until(&mut self, done: impl Fn(&[Frame]) -> bool) -> Vec<Frame> {
        let mut frames = Vec::new();
        while !done(&frames) {
            let open = self.read_more(&frames).await;
            frames.extend(self.parse());
            assert!(open || done(&frames), "closed before the expected frames: {frames:?}");
        }
        // A write after the server closed is no failure: what it sent is read below.
        let _ = self.conn.write_all(&frame(PING, 0, 0, BARRIER)).await;
        let acked =
            |frames: &[Frame]| frames.iter().any(|f| f.kind == PING && f.flags & 1 == 1 && f.payload == BARRIER);
        while !acked(&frames) {
            let open = self.read_more(&frames).await;
            frames.extend(self.parse());
            if !open {
                break;
            }
        }
        frames
    }

    /// Read what the server sends next into the buffer; `false` when it has closed.
    async fn read_more(&mut self, so_far: &[Frame]) -> bool {
        let mut chunk = vec![0u8; 64 * 1024];
        match tokio::time::timeout(common::TIMEOUT, self.conn.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Ok(_) => false,
            Err(_) => panic!("nothing from the server for {:?}; frames so far: {so_far:?}", common::TIMEOUT),
        }
    }
}

fn count(frames: &[Frame], kind: u8, code: Option<u32>) -> usize {
    frames.iter().filter(|f| f.kind == kind && (code.is_none() || f.error_code() == code)).count()
}

#[tokio::test]
async fn an_h2_header_list_over_max_header_bytes_gets_431() {
    let s = server("max_header_bytes = 8192\n").await;
    let mut h2 = H2::connect(s.addr).await;
    h2.send(&[settings(), headers_with_filler(1, 4000), headers_with_filler(3, 12_000)].concat()).await;
    let frames = h2.frames_until(|f| answered(f, 1) && answered(f, 3)).await;
    let status = |stream: u32| {
        let block = &frames.iter().find(|f| f.kind == HEADERS && f.stream == stream).expect("an answer").payload;
        response_status(block)
    };
    assert_eq!(status(1), Some(200), "4 KB of headers: {frames:?}");
    assert_eq!(status(3), Some(431), "12 KB of headers: {frames:?}");
}

#[tokio::test]
async fn streams_over_h2_max_concurrent_streams_are_refused() {
    let s = server("h2_max_concurrent_streams = 2\nh2_max_pending_reset_streams = 20\n").await;
    let mut h2 = H2::connect(s.addr).await;
    // Six requests whose bodies never end, so each stream stays open: the first two fit.
    let streams: Vec<u8> = (0..6).flat_map(|i| headers(1 + 2 * i, HOST, "/gioi-thieu/", false)).collect();
    h2.send(&[settings(), streams].concat()).await;
    let frames = h2.frames_until(|f| answered(f, 1) && answered(f, 3)).await;
    let server_settings = frames.iter().find(|f| f.kind == SETTINGS && !f.payload.is_empty()).expect("SETTINGS");
    let announced = server_settings.payload.chunks(6).find(|s| s[..2] == [0, 3]).map(|s| &s[2..]);
    assert_eq!(announced, Some(&[0, 0, 0, 2][..]), "SETTINGS_MAX_CONCURRENT_STREAMS = 2 is announced");
    let heads: Vec<u32> = frames.iter().filter(|f| f.kind == HEADERS).map(|f| f.stream).collect();
    assert_eq!(heads, [1, 3], "{frames:?}");
    assert_eq!(count(&frames, RST_STREAM, Some(REFUSED_STREAM)), 4, "streams 5..11 refused: {frames:?}");
    assert_eq!(count(&frames, GOAWAY, None), 0, "four refusals are within the reset budget");
}

#[tokio::test]
async fn a_client_that_keeps_overrunning_the_stream_limit_is_cut_off() {
    let s = server("h2_max_concurrent_streams = 2\nh2_max_pending_reset_streams = 5\n").await;
    let mut h2 = H2::connect(s.addr).await;
    let streams: Vec<u8> = (0..40).flat_map(|i| headers(1 + 2 * i, HOST, "/gioi-thieu/", false)).collect();
    h2.send(&[settings(), streams].concat()).await;
    let frames = h2.frames_until_closed(MARGIN).await;
    assert_eq!(count(&frames, GOAWAY, Some(ENHANCE_YOUR_CALM)), 1, "{frames:?}");
    assert!(count(&frames, RST_STREAM, Some(REFUSED_STREAM)) <= 5, "{frames:?}");
}

#[tokio::test]
async fn rapid_resets_beyond_h2_max_pending_reset_streams_close_the_connection() {
    let s = server("h2_max_pending_reset_streams = 5\n").await;
    // A few resets are normal (a browser cancels requests): the connection goes on.
    let mut h2 = H2::connect(s.addr).await;
    let few: Vec<u8> =
        (0..3).flat_map(|i| [headers(1 + 2 * i, HOST, "/", true), rst_stream(1 + 2 * i, CANCEL)].concat()).collect();
    h2.send(&[settings(), few, headers(7, HOST, "/gioi-thieu/", true)].concat()).await;
    let frames = h2.frames_until(|f| answered(f, 7)).await;
    assert_eq!(count(&frames, GOAWAY, None), 0, "{frames:?}");
    // HEADERS then RST_STREAM, a thousand times (CVE-2023-44487): GOAWAY, then closed.
    let mut h2 = H2::connect(s.addr).await;
    let flood: Vec<u8> =
        (0..1000).flat_map(|i| [headers(1 + 2 * i, HOST, "/", true), rst_stream(1 + 2 * i, CANCEL)].concat()).collect();
    h2.send(&[settings(), flood].concat()).await;
    let frames = h2.frames_until_closed(MARGIN).await;
    assert_eq!(count(&frames, GOAWAY, Some(ENHANCE_YOUR_CALM)), 1, "{frames:?}");
    assert!(count(&frames, HEADERS, None) < 1000, "not every reset stream was served");
}

#[tokio::test]
async fn limits_leave_normal_clients_alone_meanwhile() {
    // Slow clients holding connections do not stop others from being served.
    let s = server("header_read_timeout_secs = 2\n").await;
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut c = TcpStream::connect(s.addr).await.unwrap();
        c.write_all(b"GET / HTTP/1.1\r\nHost: ais").await.unwrap();
        slow.push(c);
    }
    for _ in 0..20 {
        let resp = common::get(s.addr, HOST, "/gioi-thieu/").await;
        assert_eq!(resp.status, 200);
    }
    for mut c in slow {
        read_until_closed(&mut c, Duration::from_secs(2) + MARGIN).await;
    }
}
