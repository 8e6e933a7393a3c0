//! Test harness shared by the integration tests: start a real `cong` server in-process on
//! `127.0.0.1:0`, and talk to it over real TCP with hyper's low-level client (HTTP/1.1 and
//! HTTP/2 with prior knowledge) or with exact bytes when the client must not normalise.
//!
//! It is also the base of the other harnesses, its submodules: [`registry`] (a test's world:
//! temp `cong.toml`, data folder, the `cong` binary as another process), [`process`] (a
//! `cong serve` process and its log), [`reload`] (a server on a private copy of the demo),
//! [`tls`] (HTTPS clients, Pebble) and [`dns`] (NSD).
//! They share the one HTTP client ([`Conn`], [`send`]), the one way to write a test
//! `cong.toml` ([`write_config`]), copy the demo ([`copy_demo`]) and launch a server as
//! `cong serve` does ([`launch`]). The test crate (`tests/tests.rs`) declares it once; a
//! benchmark includes it with `#[path = "../tests/common/mod.rs"] mod common;`.
//!
//! Every test of the suite runs in one process: what is kept for the whole run (the demo's
//! [`Live`], the reload tests' admin token) must stay read-only, and whatever must differ
//! between tests comes from the test (its name, its temporary folder), never from the
//! process id, which they all share.
#![allow(dead_code)] // each test module and benchmark uses a different part of the harness

pub mod browser;
pub mod dns;
pub mod process;
pub mod registry;
pub mod reload;
pub mod tls;

use bytes::Bytes;
use cong::app::{Bound, Running};
use cong::model::config::Config;
use cong::model::member::{Member, Membership, Names, Status};
use cong::snapshot::{Live, Sources};
use http::{HeaderMap, Method, Request, Version};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Upper bound for any single exchange with the server; a hang fails the test instead of
/// blocking the suite.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The repository root (where `tenants/` and `themes/` of the demo live).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `path` as a TOML string.
pub fn toml_str(path: &Path) -> String {
    toml::Value::String(path.display().to_string()).to_string()
}

/// `cong.toml` text pointing `[paths]` at absolute folders.
pub fn config_text(tenants: &Path, themes: &Path) -> String {
    format!("[paths]\ntenants = {}\nthemes = {}\n", toml_str(tenants), toml_str(themes))
}

/// `[publishing]` for the tests of the hosting core: they edit site folders and expect the
/// edits served, so approval is off unless a test's own `more` sets `[publishing]`.
pub const APPROVAL_OFF: &str = "\n[publishing]\napproval = \"off\"\n";

fn with_publishing(more: &str) -> String {
    if more.contains("[publishing]") {
        more.to_string()
    } else {
        format!("{more}{APPROVAL_OFF}")
    }
}

/// Write `dir/cong.toml`: `[paths]` with `tenants`, `themes` and `data` (absolute, or
/// relative to `dir`), then `more` (further sections; approval off unless `more` has a
/// `[publishing]` section); its path.
pub fn write_config(dir: &Path, tenants: &Path, themes: &Path, data: &Path, more: &str) -> PathBuf {
    let text = format!("{}data = {}\n{}", config_text(tenants, themes), toml_str(data), with_publishing(more));
    let path = dir.join("cong.toml");
    std::fs::write(&path, text).expect("write cong.toml");
    path
}

/// Load the sites of `tenants` (every folder active), let `edit` change the members, and
/// assemble the live state a server reads.
pub fn live(tenants: &Path, themes: &Path, edit: impl FnOnce(&mut Sources)) -> Arc<Live> {
    live_with("", tenants, themes, edit)
}

/// [`live`] with more `cong.toml` text (sections after `[paths]`).
pub fn live_with(more: &str, tenants: &Path, themes: &Path, edit: impl FnOnce(&mut Sources)) -> Arc<Live> {
    let text = format!("{}{}", config_text(tenants, themes), with_publishing(more));
    live_from(cong::model::config::parse(&text, "test.toml", repo()).expect("test config parses"), edit)
}

/// [`live`] for a loaded `config`.
pub fn live_from(config: Config, edit: impl FnOnce(&mut Sources)) -> Arc<Live> {
    let mut sources = Sources::load(&config);
    sources.members = cong::snapshot::members_from_sites(&sources);
    edit(&mut sources);
    Arc::new(Live::new(config, sources).expect("platform pages render"))
}

/// The repository's demo sites, every member active; built once for the whole test run and
/// shared by every test that serves it, so no test may publish into it.
pub fn demo() -> Arc<Live> {
    static DEMO: OnceLock<Arc<Live>> = OnceLock::new();
    DEMO.get_or_init(|| live(&repo().join("tenants"), &repo().join("themes"), |_| {})).clone()
}

/// Set the status of the member `label` (what the registry does with `member suspend` etc.).
pub fn set_status(sources: &mut Sources, label: &str, status: Status) {
    let m = sources.members.iter_mut().find(|m| m.names.label == label).unwrap_or_else(|| panic!("no member {label}"));
    m.status = status;
}

/// A member the registry would hold for the site folder `label`: shared and active.
pub fn shared_member(label: &str) -> Member {
    Member {
        names: Names {
            label: label.into(),
            name_vi: format!("Đơn vị {label}"),
            name_en: String::new(),
            membership: Membership::Shared,
            own_domains: vec![],
            aliases: vec![],
            canonical: None,
            servers: vec![],
        },
        status: Status::Active,
        maintenance: None,
    }
}

/// A server running in this test's runtime.
pub struct Server {
    pub addr: SocketAddr,
    pub running: Running,
}

/// Bind `127.0.0.1:0` and serve `live`.
pub async fn start(live: Arc<Live>) -> Server {
    let running = Running::start(live, bind().await, Default::default()).expect("server starts");
    Server { addr: running.http_addr, running }
}

/// A listener on `127.0.0.1:0`.
pub async fn bind() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0")
}

/// Launch `config` as `cong serve` does (registry, watcher, admin API when its token is
/// set) on fresh `127.0.0.1:0` listeners for HTTP and the admin API.
pub async fn launch(config: Config) -> Running {
    let (http, admin) = (bind().await, bind().await);
    launch_on(config, Bound { http, admin: Some(admin), https: None }).await
}

/// [`launch`] on listeners bound in advance; returns once every site's first build has
/// finished (a server with members answers at once and builds its sites behind).
pub async fn launch_on(config: Config, bound: Bound) -> Running {
    let running = cong::app::launch(config, bound).await.expect("server launches");
    running.ready().await;
    running
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

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("response {} is not JSON ({e}):\n{}", self.status, self.text()))
    }
}

/// Which protocol a request goes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    H1,
    H2,
}

/// One client connection (plain TCP or TLS) speaking HTTP/1.1 or HTTP/2 with prior
/// knowledge, kept open for as many requests as the server allows. Errors are returned,
/// not panicked, so that a caller can count them or panic with its own context; callers
/// bound the waits.
pub struct Conn {
    sender: Sender,
    /// The scheme of HTTP/2 request URIs: `http` or `https`.
    scheme: &'static str,
}

enum Sender {
    H1(http1::SendRequest<Full<Bytes>>),
    H2(http2::SendRequest<Full<Bytes>>),
}

impl Conn {
    /// Connect to `addr` over plain TCP.
    pub async fn open(addr: SocketAddr, proto: Proto) -> Result<Conn, String> {
        let stream = TcpStream::connect(addr).await.map_err(|e| format!("connect {addr}: {e}"))?;
        let _ = stream.set_nodelay(true);
        Conn::handshake(stream, proto, "http").await.map_err(|e| format!("{e} ({addr})"))
    }

    /// Speak `proto` on the open connection `io` (a TCP or TLS stream).
    pub async fn handshake<IO>(io: IO, proto: Proto, scheme: &'static str) -> Result<Conn, String>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let io = TokioIo::new(io);
        let sender = match proto {
            Proto::H1 => {
                let (sender, conn) = http1::handshake(io).await.map_err(|e| format!("h1 handshake: {e}"))?;
                tokio::spawn(conn);
                Sender::H1(sender)
            }
            Proto::H2 => {
                let (sender, conn) =
                    http2::handshake(TokioExecutor::new(), io).await.map_err(|e| format!("h2 handshake: {e}"))?;
                tokio::spawn(conn);
                Sender::H2(sender)
            }
        };
        Ok(Conn { sender, scheme })
    }

    /// One request on this connection, the whole response read: HTTP/1.1 carries `host` in
    /// the Host header, HTTP/2 in `:authority`.
    pub async fn request(
        &mut self,
        method: &str,
        host: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Resp, String> {
        let method = Method::from_bytes(method.as_bytes()).map_err(|e| format!("method {method}: {e}"))?;
        let mut builder = Request::builder().method(method);
        builder = match self.sender {
            Sender::H1(_) => builder.uri(path).header("host", host),
            Sender::H2(_) => builder.uri(format!("{}://{host}{path}", self.scheme)),
        };
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let req = builder.body(Full::new(Bytes::from(body))).map_err(|e| format!("request {path}: {e}"))?;
        let resp = match &mut self.sender {
            Sender::H1(sender) => {
                sender.ready().await.map_err(|e| format!("connection closed: {e}"))?;
                sender.send_request(req).await
            }
            Sender::H2(sender) => {
                sender.ready().await.map_err(|e| format!("connection closed: {e}"))?;
                sender.send_request(req).await
            }
        };
        let (parts, body) = resp.map_err(|e| format!("no response: {e}"))?.into_parts();
        let body = body.collect().await.map_err(|e| format!("response body: {e}"))?.to_bytes().to_vec();
        Ok(Resp { status: parts.status.as_u16(), version: parts.version, headers: parts.headers, body })
    }

    /// `GET path` with `host` on this connection.
    pub async fn get(&mut self, host: &str, path: &str) -> Result<Resp, String> {
        self.request("GET", host, path, &[], Vec::new()).await
    }
}

/// One request on a fresh connection, bounded by [`TIMEOUT`]: HTTP/1.1 carries `host` in the
/// Host header, HTTP/2 in `:authority`.
pub async fn send(
    addr: SocketAddr,
    proto: Proto,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Resp {
    let exchange = async { Conn::open(addr, proto).await?.request(method, host, path, headers, Vec::new()).await };
    bounded(&format!("{proto:?} {method} {host}{path}"), exchange).await
}

/// One HTTP/1.1 request with a body on a fresh connection, bounded by [`TIMEOUT`].
pub async fn request(
    addr: SocketAddr,
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Resp {
    let exchange = async { Conn::open(addr, Proto::H1).await?.request(method, host, path, headers, body).await };
    bounded(&format!("{method} {host}{path}"), exchange).await
}

/// What `exchange` gave; a panic naming `what` on an error or when [`TIMEOUT`] passes.
pub async fn bounded<T>(what: &str, exchange: impl Future<Output = Result<T, String>>) -> T {
    match tokio::time::timeout(TIMEOUT, exchange).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) => panic!("{what}: {e}"),
        Err(_) => panic!("{what}: no answer within {TIMEOUT:?}"),
    }
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

/// Give the site folder `site` a home template of two nested loops (10^10 turns): a
/// build that never ends without template fuel, and runs out of it with.
pub fn write_runaway_template(site: &Path) {
    let templates = site.join("templates");
    std::fs::create_dir_all(&templates).expect("templates folder");
    let runaway = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}";
    std::fs::write(templates.join("index.html"), runaway).expect("write the template");
}

/// Copy the demo's `tenants/` and `themes/` into `dir`.
pub fn copy_demo(dir: &Path) {
    copy_tree(&repo().join("tenants"), &dir.join("tenants"));
    copy_tree(&repo().join("themes"), &dir.join("themes"));
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
        marks.push(c.names.name_vi.clone());
        if !c.names.name_en.is_empty() {
            marks.push(c.names.name_en.clone());
        }
        marks.push(format!("{}.{zone}", c.names.label));
        marks.extend(c.names.own_domains.iter().cloned());
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

/// Run the real `cong` binary in `dir` (messages show paths relative to it), colour off and
/// no admin token from the caller's environment.
pub fn cong_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cong"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CONG_ADMIN_TOKEN")
        .output()
        .expect("run the cong binary")
}

/// Call `check` every `every` until it returns `Ok`, and return its value; when `limit`
/// passes first, fail with `what` and the last thing `check` saw.
pub async fn wait_until<T>(
    what: &str,
    limit: Duration,
    every: Duration,
    mut check: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let seen = match check().await {
            Ok(value) => return value,
            Err(seen) => seen,
        };
        if tokio::time::Instant::now() >= deadline {
            panic!("{what}: not within {limit:?}; last seen: {seen}");
        }
        tokio::time::sleep(every).await;
    }
}

/// A port free for both UDP and TCP on 127.0.0.1 (a moment ago), for a test DNS server.
pub fn free_udp_tcp_port() -> u16 {
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind udp 127.0.0.1:0");
        let port = udp.local_addr().expect("udp address").port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
