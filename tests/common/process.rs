//! A `cong serve` process, for the tests where the process matters (tests/publisher.rs,
//! tests/open_files.rs): its own `cong.toml` in the test's folder, HTTP and the admin API on
//! `127.0.0.1:0` (the bound addresses read from its log), optionally under a lowered
//! open-file limit, and the lines it logged so far. Killed when dropped. Part of the
//! `common` harness (its config writing).

use super::write_config;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The environment variable that carries the admin token to the process.
const TOKEN_ENV: &str = "CONG_PROCESS_TEST_TOKEN";

/// A `cong serve` process and the lines it logged so far.
pub struct Server {
    pub child: Child,
    log: Arc<Mutex<Vec<String>>>,
    pub http: SocketAddr,
    pub admin: SocketAddr,
    pub config: PathBuf,
}

impl Server {
    /// `cong serve` in `dir` (which holds `tenants/` and `themes/`), with the admin token
    /// `token` and `more` sections of `cong.toml` (not `[paths]`, `[http]` or `[admin]`).
    /// Waits (at most a minute) until both listeners are logged.
    pub fn start(dir: &Path, token: &str, more: &str) -> Server {
        Server::spawn(dir, token, more, None, &[])
    }

    /// [`Server::start`] that returns once the server answers, before its sites are built
    /// (`answering on http://…` in the log), when they are built behind.
    pub fn start_answering(dir: &Path, token: &str, more: &str) -> Server {
        Server::spawn_until(dir, token, more, None, &[], &["answering on http://", "sites on http://"])
    }

    /// [`Server::start`] with more environment variables (`RUST_LOG` replaces `info`).
    pub fn start_with_env(dir: &Path, token: &str, more: &str, env: &[(&str, &str)]) -> Server {
        Server::spawn(dir, token, more, None, env)
    }

    /// [`Server::start`] under an open-file limit of `open_files`, soft and hard alike (as
    /// `ulimit -n` sets them), so that raising it to the hard limit cannot help.
    pub fn start_with_open_files(dir: &Path, token: &str, more: &str, open_files: u32) -> Server {
        Server::spawn(dir, token, more, Some(open_files), &[])
    }

    fn spawn(dir: &Path, token: &str, more: &str, open_files: Option<u32>, env: &[(&str, &str)]) -> Server {
        Server::spawn_until(dir, token, more, open_files, env, &["sites on http://"])
    }

    /// Start, and wait for the admin address and the first of `http_marks` followed by the
    /// HTTP address.
    fn spawn_until(
        dir: &Path,
        token: &str,
        more: &str,
        open_files: Option<u32>,
        env: &[(&str, &str)],
        http_marks: &[&str],
    ) -> Server {
        let more = format!(
            "\n[http]\nlisten = \"127.0.0.1:0\"\n\n[admin]\nlisten = \"127.0.0.1:0\"\ntoken_env = \"{TOKEN_ENV}\"\n\n{more}"
        );
        let config = write_config(dir, Path::new("tenants"), Path::new("themes"), Path::new("data"), &more);
        let cong = env!("CARGO_BIN_EXE_cong");
        let mut command = match open_files {
            None => Command::new(cong),
            Some(n) => {
                let mut sh = Command::new("sh");
                sh.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\""), cong]);
                sh
            }
        };
        let mut child = command
            .args(["--config", config.to_str().unwrap(), "serve"])
            .current_dir(dir)
            .env(TOKEN_ENV, token)
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cong serve");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let (http, admin) = loop {
            let found = {
                let log = log.lock().unwrap();
                let addr = |mark: &str| {
                    log.iter().find_map(|l| {
                        let rest = &l[l.find(mark)? + mark.len()..];
                        rest[..rest.find('/')?].parse::<SocketAddr>().ok()
                    })
                };
                (http_marks.iter().find_map(|m| addr(m)), addr("admin API on http://"))
            };
            if let (Some(h), Some(a)) = found {
                break (h, a);
            }
            let exited = child.try_wait().unwrap();
            if exited.is_some() || Instant::now() >= deadline {
                // Not left running after the test fails.
                let _ = child.kill();
                let _ = child.wait();
                panic!("cong serve did not start ({exited:?}):\n{}", log.lock().unwrap().join("\n"));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Server { child, log, http, admin, config }
    }

    /// Did any line logged so far satisfy `what`?
    pub fn logged(&self, what: impl Fn(&str) -> bool) -> bool {
        self.log.lock().unwrap().iter().any(|l| what(l))
    }

    /// Everything logged so far, for failure messages.
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
