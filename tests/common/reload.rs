//! Harness of the hot-reload tests (tests/reload.rs) and benchmark (benches/reload.rs): a
//! copy of the demo's `tenants/` and `themes/` in a temporary folder, the real server
//! launched on it (registry, watcher, admin API) on `127.0.0.1:0`, a keep-alive HTTP/1.1
//! client, and bounded waits for what a visitor sees to change. Part of the `common`
//! harness (its HTTP client, config writing and launch).

use super::{copy_demo, Proto};
use cong::app::Running;
use cong::model::config::Config;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// Upper bound for one exchange with the server: a hang fails instead of blocking.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How long a change may take to be served in a test. Far above the goal (debounce plus
/// 100 ms) because tests build unoptimised and run in parallel on two cores; timing goals
/// are measured by the benchmark, not asserted here.
pub const WAIT: Duration = Duration::from_secs(5);

/// Debounce window of the test servers (`[reload] debounce_ms`).
pub const DEBOUNCE_MS: u64 = 50;

/// The host of the ais portal (its canonical name).
pub const AIS: &str = "ais.mic.gov.vn";

/// The fourth-level host of `label`.
pub fn host(label: &str) -> String {
    format!("{label}.mic.gov.vn")
}

/// The environment variable holding the admin token, unique to this process, and the token.
fn admin_token() -> &'static (String, String) {
    static TOKEN: OnceLock<(String, String)> = OnceLock::new();
    TOKEN.get_or_init(|| {
        let name = format!("CONG_TEST_TOKEN_RELOAD_{}", std::process::id());
        let token = format!("reload-{}", std::process::id());
        (name, token)
    })
}

/// Write `cong.toml` into `dir`: relative `[paths]`, a short debounce, the test token.
pub fn write_config(dir: &Path, tenants: &str, themes: &str, debounce_ms: u64) -> PathBuf {
    let (token_env, _) = admin_token();
    let more = format!(
        "\n[reload]\ndebounce_ms = {debounce_ms}\nregistry_poll_ms = 50\n\n[admin]\ntoken_env = \"{token_env}\"\n"
    );
    super::write_config(dir, Path::new(tenants), Path::new(themes), Path::new("data"), &more)
}

/// A server launched on a private copy of the demo, as `cong serve` runs it.
pub struct Fixture {
    /// The temporary folder holding `cong.toml`, `tenants/`, `themes/` and `data/`.
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub http: SocketAddr,
    pub admin: SocketAddr,
    running: Option<Running>,
}

impl Fixture {
    /// Copy the demo and launch on it with the tests' debounce window.
    pub async fn start() -> Fixture {
        Fixture::start_with(DEBOUNCE_MS).await
    }

    /// Copy the demo and launch on it with `debounce_ms`.
    pub async fn start_with(debounce_ms: u64) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        copy_demo(dir.path());
        let config_path = write_config(dir.path(), "tenants", "themes", debounce_ms);
        Fixture::launch(dir, config_path).await
    }

    /// Launch on a folder prepared by the caller (its `cong.toml` written by [`write_config`]).
    pub async fn launch(dir: tempfile::TempDir, config_path: PathBuf) -> Fixture {
        let mut config = Config::from_file(&config_path).expect("test cong.toml is valid");
        config.admin_token = Some(admin_token().1.clone());
        let running = super::launch(config).await;
        let admin = running.admin_addr.expect("the admin API is on (token set)");
        Fixture { http: running.http_addr, admin, config_path, dir, running: Some(running) }
    }

    /// The server's live state (to see which sites a change rebuilt).
    pub fn live(&self) -> &std::sync::Arc<cong::snapshot::Live> {
        &self.running.as_ref().expect("the server runs").app.live
    }

    /// A path inside the temporary folder (`tenants/ais/site.toml`).
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Write a file in place (truncate and write), as most editors save.
    pub fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.path(rel), text).unwrap_or_else(|e| panic!("write {rel}: {e}"));
    }

    /// `GET path` with `Host: host` on a fresh connection; panics when there is no answer.
    pub async fn get(&self, host: &str, path: &str) -> Resp {
        let what = format!("GET {host}{path}");
        let mut conn = Conn::open(self.http).await.unwrap_or_else(|e| panic!("{what}: {e}"));
        conn.get(host, path).await.unwrap_or_else(|e| panic!("{what}: {e}"))
    }

    /// `GET /api/status` of the admin API, as JSON.
    pub async fn status(&self) -> serde_json::Value {
        self.status_at("/api/status").await
    }

    /// `GET path` of the admin API (`/api/status` with a query), as JSON.
    async fn status_at(&self, path: &str) -> serde_json::Value {
        let (_, token) = admin_token();
        let mut conn = Conn::open(self.admin).await.expect("connect to the admin API");
        let auth = format!("Bearer {token}");
        let resp = conn.request("127.0.0.1", path, &[("authorization", &auth)]).await.expect("GET /api/status answers");
        assert_eq!(resp.status, 200, "GET {path}: {}", resp.body);
        serde_json::from_str(&resp.body).expect("GET /api/status is JSON")
    }

    /// The errors GET /api/status lists for the site `label` (empty: none).
    /// The site's problems from `GET /api/status`, each as `file:line:column: message`.
    pub async fn site_errors(&self, label: &str) -> Vec<String> {
        let status = self.status().await;
        let shown = |e: &serde_json::Value| {
            let at = |k: &str| e[k].as_u64().map(|n| format!(":{n}")).unwrap_or_default();
            let (file, message) = (e["file"].as_str().unwrap_or("?"), e["message"].as_str().unwrap_or("?"));
            format!("{file}{}{}: {message}", at("line"), at("column"))
        };
        status["site_errors"][label].as_array().map(|a| a.iter().map(shown).collect()).unwrap_or_default()
    }

    /// Wait until `GET host path` answers 200 with `needle` in the body; return the response.
    pub async fn served_with(&self, host: &str, path: &str, needle: &str) -> Resp {
        wait_until(&format!("{host}{path} shows {needle:?}"), WAIT, async || {
            let r = self.get(host, path).await;
            if r.status == 200 && r.body.contains(needle) {
                Ok(r)
            } else {
                Err(format!("{} ({} bytes)", r.status, r.body.len()))
            }
        })
        .await
    }

    /// Wait until `GET host path` answers `status`; return the response.
    pub async fn answers(&self, host: &str, path: &str, status: u16) -> Resp {
        wait_until(&format!("{host}{path} answers {status}"), WAIT, async || {
            let r = self.get(host, path).await;
            if r.status == status {
                Ok(r)
            } else {
                Err(format!("{}", r.status))
            }
        })
        .await
    }

    /// Wait until GET /api/status lists an error for `label` containing `want`.
    pub async fn status_shows(&self, label: &str, want: &str) {
        wait_until(&format!("/api/status shows {want:?} for {label}"), WAIT, async || {
            let errors = self.site_errors(label).await;
            if errors.iter().any(|e| e.contains(want)) {
                Ok(())
            } else {
                Err(format!("{errors:?}"))
            }
        })
        .await;
        // The short form (`?only=problems`) keeps a served site with an error in its list.
        let lists = |v: &serde_json::Value| {
            v["sites"]
                .as_array()
                .is_some_and(|sites| sites.iter().any(|s| s["label"] == label && !s["error"].is_null()))
        };
        let (full, brief) = (self.status().await, self.status_at("/api/status?only=problems").await);
        assert_eq!(lists(&brief), lists(&full), "{label} in ?only=problems: {brief}\nin full: {full}");
    }

    /// Run the real `cong` binary with this fixture's config, from its folder (so messages
    /// show paths relative to it): the exit code and everything it printed.
    pub fn cong(&self, args: &[&str]) -> (Option<i32>, String) {
        let out = super::cong_in(self.dir.path(), &[&["--config", "cong.toml"], args].concat());
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.code(), text)
    }

    /// `cong check` on this fixture's folders.
    pub fn check(&self) -> (Option<i32>, String) {
        self.cong(&["check"])
    }

    /// Register `label` in this server's registry as an active shared member.
    pub fn register_active(&self, label: &str, name_vi: &str) {
        let mut registry =
            cong::store::registry::Registry::open(&self.path("data/registry.db")).expect("open the test registry");
        let reg = cong::store::registry::Registration {
            names: cong::model::member::Names {
                label: label.into(),
                name_vi: name_vi.into(),
                name_en: String::new(),
                membership: cong::model::member::Membership::Shared,
                own_domains: Vec::new(),
                aliases: Vec::new(),
                canonical: None,
                servers: Vec::new(),
            },
            status: cong::model::member::Status::Active,
            override_reason: Some("hot reload test".into()),
        };
        registry.register(&reg, "mic.gov.vn", "tests/reload.rs").expect("register the member");
    }

    /// Stop the server and its watcher.
    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }
}

/// What a client saw.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub body: String,
}

/// One keep-alive HTTP/1.1 connection (`common`'s client), each wait bounded by [`TIMEOUT`].
pub struct Conn(super::Conn);

impl Conn {
    pub async fn open(addr: SocketAddr) -> Result<Conn, String> {
        let connect = super::Conn::open(addr, Proto::H1);
        tokio::time::timeout(TIMEOUT, connect)
            .await
            .map_err(|_| format!("connect {addr}: no answer in {TIMEOUT:?}"))?
            .map(Conn)
    }

    /// `GET path` with `Host: host` on this connection.
    pub async fn get(&mut self, host: &str, path: &str) -> Result<Resp, String> {
        self.request(host, path, &[]).await
    }

    /// `GET path` with `Host: host` and extra headers on this connection.
    pub async fn request(&mut self, host: &str, path: &str, headers: &[(&str, &str)]) -> Result<Resp, String> {
        let exchange = self.0.request("GET", host, path, headers, Vec::new());
        let resp = tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| format!("GET {host}{path}: no answer in {TIMEOUT:?}"))??;
        Ok(Resp { status: resp.status, body: resp.text() })
    }
}

/// Poll `check` every 20 ms until it returns `Ok`, and return its value; when `limit`
/// passes first, fail with `what` and the last thing `check` saw.
pub async fn wait_until<T>(what: &str, limit: Duration, check: impl AsyncFnMut() -> Result<T, String>) -> T {
    super::wait_until(what, limit, Duration::from_millis(20), check).await
}

/// Write a minimal site folder for `label` at `root`: site.toml and a home page.
pub fn write_site(root: &Path, label: &str, name_vi: &str, home: &str) {
    std::fs::create_dir_all(root.join("content")).expect("create the site folder");
    std::fs::write(root.join("site.toml"), format!("label = \"{label}\"\nname_vi = \"{name_vi}\"\n"))
        .expect("write site.toml");
    std::fs::write(root.join("content/_index.md"), format!("+++\ntitle = \"{name_vi}\"\n+++\n\n{home}\n"))
        .expect("write _index.md");
}

/// Replace the `title = "..."` line of a content file's front matter.
pub fn with_title(text: &str, title: &str) -> String {
    let mut out = String::with_capacity(text.len() + title.len());
    let mut done = false;
    for line in text.split_inclusive('\n') {
        if !done && line.starts_with("title = ") {
            out.push_str(&format!("title = \"{title}\"\n"));
            done = true;
        } else {
            out.push_str(line);
        }
    }
    assert!(done, "no title line in\n{text}");
    out
}
