//! Harness for the registry and admin API tests: a temp `cong.toml` with its own data folder
//! (and, where a test changes folders, its own copy of the demo tenants), a real server
//! launched in-process with `cong::app::launch`, the `cong` binary run as a separate
//! process, and the HTTP/1.1 client of `common`. Every wait is bounded. Part of the
//! `common` harness, and the base of [`super::tls`].

pub use super::request;
use super::{copy_tree, repo, write_config, Resp};
use serde_json::Value;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Upper bound for one HTTP exchange; a hang fails the test instead of blocking the suite.
pub const HTTP_TIMEOUT: Duration = super::TIMEOUT;
/// Upper bound for one `cong` process (a debug build, on a busy two-core machine).
pub const CLI_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a change made by another process may take to show on the public listener
/// (`registry_poll_ms = 50`, so normally well under a second).
pub const PROPAGATION: Duration = Duration::from_secs(3);

/// The labels of the demo site folders (`tenants/*/site.toml`), sorted.
pub fn demo_labels() -> Vec<String> {
    let mut labels: Vec<String> = std::fs::read_dir(repo().join("tenants"))
        .expect("read tenants/")
        .flatten()
        .filter(|e| e.path().join("site.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    labels.sort();
    assert!(labels.len() >= 5, "the demo should have several sites: {labels:?}");
    labels
}

/// Which tenants folder a test serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenants {
    /// The repository's own `tenants/` (read only).
    Repo,
    /// A private copy, for tests that add site folders.
    Copy,
}

/// One test's world: a temp folder holding `cong.toml` and `data/`, and the name of the
/// environment variable that carries its admin token.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub tenants: PathBuf,
    pub token_env: String,
    pub token: String,
}

impl Env {
    /// A fresh world; `name` makes the token variable unique to the test. A server
    /// launched in this process gets the token through [`Env::config`]; a `cong` process
    /// started by the test gets it in that variable.
    pub fn new(name: &str, tenants: Tenants) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let tenants = match tenants {
            Tenants::Repo => repo().join("tenants"),
            Tenants::Copy => {
                let copy = dir.path().join("tenants");
                copy_tree(&repo().join("tenants"), &copy);
                copy
            }
        };
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let token_env = format!("CONG_TEST_TOKEN_{}_{}", name.to_ascii_uppercase(), std::process::id());
        let token = format!("t0ken-{name}-{nanos}");
        let more = format!(
            "\n[admin]\ntoken_env = {}\n\n[reload]\nregistry_poll_ms = 50\n",
            toml::Value::String(token_env.clone())
        );
        let config_path = write_config(dir.path(), &tenants, &repo().join("themes"), &dir.path().join("data"), &more);
        Env { dir, config_path, tenants, token_env, token }
    }

    /// The test's configuration, with the admin token as `cong serve` would read it.
    pub fn config(&self) -> cong::model::config::Config {
        let mut config = cong::model::config::Config::from_file(&self.config_path).expect("test config loads");
        config.admin_token = Some(self.token.clone());
        config
    }

    pub fn registry_path(&self) -> PathBuf {
        self.dir.path().join("data/registry.db")
    }

    /// Run `cong --config <this config> args...` as a separate process.
    pub fn cli(&self, args: &[&str]) -> Out {
        cli(&self.config_path, args)
    }
}

/// Run `cong --config <config> args...` as a separate process.
pub fn cli(config: &Path, args: &[&str]) -> Out {
    let config = config.to_str().expect("utf-8 temp path");
    let mut all = vec!["--config", config];
    all.extend_from_slice(args);
    run(&mut cong_command(&all))
}

/// `cong args...` with logs kept short.
pub fn cong_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cong"));
    cmd.args(args).env("RUST_LOG", "warn").env_remove("RUST_BACKTRACE");
    cmd
}

/// What a finished process said.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub what: String,
}

impl Out {
    /// stdout parsed as the one JSON document `--json` promises.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{}: stdout is not JSON ({e}):\n{self}", self.what))
    }

    /// stdout and stderr together, for "the output mentions" checks.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Panic unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "{}: exit code\n{self}", self.what);
        self
    }
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "--- exit {} ---\n--- stdout ---\n{}\n--- stderr ---\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Run a command to its end within [`CLI_TIMEOUT`], capturing both streams.
pub fn run(cmd: &mut Command) -> Out {
    run_with_input(cmd, None)
}

/// `cong args...` with `input` on standard input (`--password-stdin`), as [`run`].
pub fn run_with_stdin(args: &[&str], input: &str) -> Out {
    run_with_input(&mut cong_command(args), Some(input))
}

/// [`run`], writing `input` to the command's standard input first (closed after).
fn run_with_input(cmd: &mut Command, input: Option<&str>) -> Out {
    let what = format!("{cmd:?}");
    let stdin = if input.is_some() { Stdio::piped() } else { Stdio::null() };
    let mut child = cmd.stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn cong");
    if let (Some(text), Some(mut pipe)) = (input, child.stdin.take()) {
        use std::io::Write;
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr piped")));
    let deadline = Instant::now() + CLI_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for cong") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: did not finish within {CLI_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Out {
        code: status.code().unwrap_or(-1),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
        what,
    }
}

/// Launch a server for `env` on `127.0.0.1:0`, with an admin listener (started only when
/// the token variable is set).
pub async fn launch(env: &Env) -> cong::app::Running {
    super::launch(env.config()).await
}

/// `GET host path` on the public listener.
pub async fn get(addr: SocketAddr, host: &str, path: &str) -> Resp {
    request(addr, "GET", host, path, &[], Vec::new()).await
}

/// GET `host/` until it answers `status`, for at most [`PROPAGATION`]; the last answer.
pub async fn await_status(addr: SocketAddr, host: &str, status: u16) -> Resp {
    let deadline = Instant::now() + PROPAGATION;
    loop {
        let resp = get(addr, host, "/").await;
        if resp.status == status || Instant::now() > deadline {
            return resp;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The admin API, as a script would call it.
pub struct Api {
    pub addr: SocketAddr,
    pub token: String,
}

impl Api {
    pub fn new(running: &cong::app::Running, env: &Env) -> Api {
        Api { addr: running.admin_addr.expect("admin listener started"), token: env.token.clone() }
    }

    /// A call with the right bearer token; `body` is sent as given.
    pub async fn call(&self, method: &str, path: &str, body: &str) -> Resp {
        let auth = format!("Bearer {}", self.token);
        let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
        request(self.addr, method, "admin", path, &headers, body.as_bytes().to_vec()).await
    }

    /// GET, expecting a JSON answer with `status`.
    pub async fn get_json(&self, path: &str, status: u16) -> Value {
        let resp = self.call("GET", path, "").await;
        assert_eq!(resp.status, status, "GET {path}:\n{}", resp.text());
        resp.json()
    }

    /// POST, expecting a JSON answer with `status`.
    pub async fn post_json(&self, path: &str, body: &str, status: u16) -> Value {
        let resp = self.call("POST", path, body).await;
        assert_eq!(resp.status, status, "POST {path} {body}:\n{}", resp.text());
        resp.json()
    }
}

/// The `code` of an API error body, with a check that the body has the documented shape.
pub fn error_code(body: &Value) -> &str {
    let error = body.get("error").unwrap_or_else(|| panic!("no \"error\" object: {body}"));
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "error without a message: {body}");
    error["code"].as_str().unwrap_or_else(|| panic!("error without a code: {body}"))
}

/// The codes of a name report's errors or warnings (`which` = "errors" | "warnings").
pub fn codes(report: &Value, which: &str) -> Vec<String> {
    report[which]
        .as_array()
        .unwrap_or_else(|| panic!("no {which} array: {report}"))
        .iter()
        .map(|f| f["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Every way a demo member could be recognised in a page: its Vietnamese and English
/// names and its hosts (from `tenants/*/site.toml`).
pub fn demo_marks() -> Vec<String> {
    let mut marks = Vec::new();
    for label in demo_labels() {
        let text = std::fs::read_to_string(repo().join("tenants").join(&label).join("site.toml")).expect("site.toml");
        let site: toml::Table = toml::from_str(&text).expect("site.toml parses");
        for key in ["name_vi", "name_en"] {
            if let Some(name) = site.get(key).and_then(|v| v.as_str()).filter(|s| !s.is_empty()) {
                marks.push(name.to_string());
            }
        }
        marks.push(format!("{label}.mic.gov.vn"));
    }
    marks
}

/// Panic when `body` shows any of `marks`.
pub fn assert_shows_none(body: &str, marks: &[String], what: &str) {
    for m in marks {
        assert!(!body.contains(m.as_str()), "{what}: the page shows {m:?}:\n{body}");
    }
}
