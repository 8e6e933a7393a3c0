//! Test harness shared by the integration tests: start a real `cong` server in-process on
//! `127.0.0.1:0`, and talk to it over real TCP with hyper's low-level client (HTTP/1.1 and
//! HTTP/2 with prior knowledge) or with exact bytes when the client must not normalise.
#![allow(dead_code)] // each test file uses a different part of the harness

use bytes::Bytes;
use cong::member::Status;
use cong::server::Running;
use cong::state::{Live, Sources};
use http::{HeaderMap, Method, Request, Version};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Upper bound for any single exchange with the server; a hang fails the test instead of
/// blocking the suite.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The repository root (where `tenants/` and `themes/` of the demo live).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `cong.toml` text pointing `[paths]` at absolute folders.
pub fn config_text(tenants: &Path, themes: &Path) -> String {
    let s = |p: &Path| toml::Value::String(p.display().to_string()).to_string();
    format!("[paths]\ntenants = {}\nthemes = {}\n", s(tenants), s(themes))
}

/// Load the sites of `tenants` (every folder active), let `edit` change the members, and
/// assemble the live state a server reads.
pub fn live(tenants: &Path, themes: &Path, edit: impl FnOnce(&mut Sources)) -> Arc<Live> {
    live_with("", tenants, themes, edit)
}

/// [`live`] with more `cong.toml` text (sections after `[paths]`).
pub fn live_with(more: &str, tenants: &Path, themes: &Path, edit: impl FnOnce(&mut Sources)) -> Arc<Live> {
    let text = format!("{}{more}", config_text(tenants, themes));
    let config = cong::config::parse(&text, "test.toml", repo()).expect("test config parses");
    let mut sources = Sources::load(&config);
    sources.members = cong::state::members_from_sites(&sources);
    edit(&mut sources);
    Arc::new(Live::new(config, sources).expect("platform pages render"))
}

/// The repository's demo sites, every member active; built once per test binary.
pub fn demo() -> Arc<Live> {
    static DEMO: OnceLock<Arc<Live>> = OnceLock::new();
    DEMO.get_or_init(|| live(&repo().join("tenants"), &repo().join("themes"), |_| {})).clone()
}

/// Set the status of the member `label` (what the registry does with `member suspend` etc.).
pub fn set_status(sources: &mut Sources, label: &str, status: Status) {
    let m = sources.members.iter_mut().find(|m| m.label == label).unwrap_or_else(|| panic!("no member {label}"));
    m.status = status;
}

/// A server running in this test's runtime.
pub struct Server {
    pub addr: SocketAddr,
    pub running: Running,
}

/// Bind `127.0.0.1:0` and serve `live`.
pub async fn start(live: Arc<Live>) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let running = Running::start(live, listener).expect("server starts");
    Server { addr: running.http_addr, running }
}

/// What a client saw.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value; `""` when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }
}

/// Which protocol a request goes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    H1,
    H2,
}

/// One request on a fresh connection: HTTP/1.1 carries `host` in the Host header, HTTP/2
/// in `:authority`.
pub async fn send(
    addr: SocketAddr,
    proto: Proto,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Resp {
    let what = format!("{proto:?} {method} {host}{path}");
    tokio::time::timeout(TIMEOUT, exchange(addr, proto, method, host, path, headers))
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {TIMEOUT:?}"))
}

async fn exchange(
    addr: SocketAddr,
    proto: Proto,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Resp {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let io = TokioIo::new(stream);
    let method = Method::from_bytes(method.as_bytes()).expect("method");
    let mut builder = Request::builder().method(method);
    builder = match proto {
        Proto::H1 => builder.uri(path).header("host", host),
        Proto::H2 => builder.uri(format!("http://{host}{path}")),
    };
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let req = builder.body(Full::new(Bytes::new())).expect("request");
    let resp = match proto {
        Proto::H1 => {
            let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.expect("h1 handshake");
            tokio::spawn(conn);
            sender.send_request(req).await.expect("h1 response")
        }
        Proto::H2 => {
            let (mut sender, conn) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await.expect("h2 handshake");
            tokio::spawn(conn);
            sender.send_request(req).await.expect("h2 response")
        }
    };
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.expect("response body").to_bytes().to_vec();
    Resp { status: parts.status.as_u16(), version: parts.version, headers: parts.headers, body }
}

/// `GET host path` over HTTP/1.1.
pub async fn get(addr: SocketAddr, host: &str, path: &str) -> Resp {
    send(addr, Proto::H1, "GET", host, path, &[]).await
}

/// What a raw exchange returned: status 0 when the server closed without answering.
#[derive(Debug)]
pub struct RawResp {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl RawResp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value (case-insensitive name); `""` when absent.
    pub fn header(&self, name: &str) -> String {
        self.head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    }
}

/// Write `bytes` exactly as given, read until the server closes, parse the response.
/// Requests should say `Connection: close`.
pub async fn raw(addr: SocketAddr, bytes: &[u8]) -> RawResp {
    let what = String::from_utf8_lossy(bytes).lines().next().unwrap_or_default().to_string();
    tokio::time::timeout(TIMEOUT, async {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        stream.write_all(bytes).await.expect("write request");
        let mut out = Vec::new();
        // A reset after the answer still leaves the answer in `out`.
        let _ = stream.read_to_end(&mut out).await;
        parse_raw(&out)
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: no answer within {TIMEOUT:?}"))
}

/// Split a raw HTTP/1.1 response into status, head and body (as long as Content-Length says).
pub fn parse_raw(out: &[u8]) -> RawResp {
    let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") else {
        return RawResp { status: 0, head: String::from_utf8_lossy(out).into_owned(), body: Vec::new() };
    };
    let head = String::from_utf8_lossy(&out[..end]).into_owned();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut resp = RawResp { status, head, body: out[end + 4..].to_vec() };
    if let Ok(len) = resp.header("content-length").parse::<usize>() {
        resp.body.truncate(len);
    }
    resp
}

/// A GET request as exact bytes, with `Connection: close`.
pub fn raw_get(target: &str, host: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").into_bytes()
}

/// Copy a folder tree (files and folders only).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// Every way the demo's sites could be recognised in a page: Vietnamese and English
/// names and fourth-level hosts.
pub fn member_marks(live: &Live) -> Vec<String> {
    let snap = live.snapshot();
    let zone = &live.config.platform.zone;
    let mut marks = Vec::new();
    for site in snap.sites.values() {
        let c = &site.config;
        marks.push(c.name_vi.clone());
        if !c.name_en.is_empty() {
            marks.push(c.name_en.clone());
        }
        marks.push(format!("{}.{zone}", c.label));
        marks.extend(c.own_domains.iter().cloned());
    }
    assert!(marks.len() >= 14, "the demo should have at least 7 sites: {marks:?}");
    marks
}

/// Panic when `body` shows any of `marks`.
pub fn assert_shows_no_member(body: &str, marks: &[String], what: &str) {
    for m in marks {
        assert!(!body.contains(m.as_str()), "{what}: the page shows member mark {m:?}:\n{body}");
    }
}

/// Path to a fixture under `tests/fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    repo().join("tests/fixtures").join(rel)
}
