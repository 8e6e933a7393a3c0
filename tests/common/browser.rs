//! A real browser for the tests of the admin web interface: Debian's headless Chromium driven
//! through its own `chromedriver` (W3C WebDriver, plain HTTP on loopback) with the
//! `fantoccini` client, and axe-core run inside the page for accessibility.
//!
//! [`Browser::start`] launches `chromedriver --port=0` in its own process group (its port read
//! from its first lines; a new driver when the port it chose was taken) and opens one headless session with a fresh profile in a temp folder;
//! dropping the [`Browser`] kills that process group, so Chromium goes with its driver. Every
//! method panics with the action and the WebDriver error, and none waits longer than
//! [`super::TIMEOUT`].
//!
//! What it needs: `chromium` and `chromedriver` on `PATH` (Debian packages `chromium` and
//! `chromium-driver`) and `target/axe-core/axe.min.js`; `scripts/test` installs all three.
//! Without them a test skips with a note, except under `CI`, where it fails.
//!
//! ```ignore
//! let Some(browser) = Browser::start().await else { return };
//! browser.goto(&format!("http://{addr}/")).await;
//! browser.fill("#ten", "Nguyễn Văn A").await;
//! browser.click("button[type=submit]").await;
//! assert!(browser.text().await.contains("Nguyễn Văn A"));
//! let violations = browser.axe().await;
//! assert!(violations.is_empty(), "{}", describe(&violations));
//! ```
//!
//! Part of the `common` harness (its repository root and bounded waits).

use super::{bounded, repo};
pub use fantoccini::cookies::Cookie;
use fantoccini::wd::{Capabilities, TimeoutConfiguration};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use rustix::process::{kill_process_group, Pid, Signal};
use serde_json::{json, Value};
use std::fmt::Display;
use std::future::Future;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long `chromedriver` may take to say its port and answer `/status`.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// The browser's own limits for a page load and a script (axe included): under
/// [`super::TIMEOUT`], so that the browser's error, not the harness's, says what hung.
const PAGE_TIMEOUT: Duration = Duration::from_secs(15);

/// The axe-core script, relative to the repository root (fetched by `scripts/test`).
pub const AXE_PATH: &str = "target/axe-core/axe.min.js";

/// One headless Chromium session and the `chromedriver` process that runs it; both end when
/// this value is dropped.
pub struct Browser {
    client: Client,
    driver: Child,
    axe_source: String,
    /// The Chromium profile and the driver's log; removed after the processes are killed.
    dir: tempfile::TempDir,
}

impl Browser {
    /// Start `chromedriver` and a headless Chromium session (1280x900, fresh profile).
    /// `None`, with a note on stderr, when Chromium, its driver or axe-core is missing and
    /// `CI` is not set; a panic under `CI`, or when they are there but do not start.
    pub async fn start() -> Option<Browser> {
        let (chromium, chromedriver) = (on_path("chromium"), on_path("chromedriver"));
        let axe = repo().join(AXE_PATH);
        let mut missing = Vec::new();
        if chromium.is_none() {
            missing.push("chromium (apt-get install chromium)".to_string());
        }
        if chromedriver.is_none() {
            missing.push("chromedriver (apt-get install chromium-driver)".to_string());
        }
        if !axe.is_file() {
            missing.push(format!("{} (npm pack axe-core@4)", axe.display()));
        }
        let (Some(chromium), Some(chromedriver), true) = (chromium, chromedriver, missing.is_empty()) else {
            let missing = missing.join(", ");
            if std::env::var_os("CI").is_some() {
                panic!("the browser tests need {missing}: run scripts/test, which installs them (CI is set: no skip)");
            }
            eprintln!("note: browser test skipped, missing {missing}; scripts/test installs them");
            return None;
        };
        let axe_source = std::fs::read_to_string(&axe).unwrap_or_else(|e| panic!("read {}: {e}", axe.display()));
        let dir = tempfile::tempdir().expect("browser temp folder");
        let log = dir.path().join("chromedriver.log");
        let (mut driver, port) = launch_driver(&chromedriver, &log).await;
        let url = format!("http://127.0.0.1:{port}");
        wait_ready(&mut driver, port, &log).await;
        let profile = dir.path().join("profile");
        let mut caps = Capabilities::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let mut builder = ClientBuilder::new(HttpConnector::new());
        builder.capabilities(caps);
        let session = match tokio::time::timeout(super::TIMEOUT, builder.connect(&url)).await {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no session within {:?}", super::TIMEOUT)),
        };
        let client = session.unwrap_or_else(|why| {
            kill_group(&mut driver);
            panic!("open a Chromium session through chromedriver: {why}\nchromedriver log:\n{}", tail(&log))
        });
        let browser = Browser { client, driver, axe_source, dir };
        let timeouts = TimeoutConfiguration::new(Some(PAGE_TIMEOUT), Some(PAGE_TIMEOUT), Some(Duration::ZERO));
        browser.run("set timeouts", browser.client.update_timeouts(timeouts)).await;
        Some(browser)
    }

    /// The fantoccini client, for what the methods below do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The output of `action`, or a panic naming `what` and the error; bounded by
    /// [`super::TIMEOUT`].
    async fn run<T, E: Display>(&self, what: &str, action: impl Future<Output = Result<T, E>>) -> T {
        bounded(&format!("browser: {what}"), async { action.await.map_err(|e| e.to_string()) }).await
    }

    /// The one element `css` selects (the first of several).
    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        self.run(&format!("find `{css}`"), self.client.find(Locator::Css(css))).await
    }

    /// Load `url` and wait for the page (its `load` event).
    pub async fn goto(&self, url: &str) {
        self.run(&format!("go to {url}"), self.client.goto(url)).await
    }

    /// The address of the current page.
    pub async fn current_url(&self) -> String {
        self.run("current URL", self.client.current_url()).await.to_string()
    }

    /// The current page's `<title>`.
    pub async fn title(&self) -> String {
        self.run("title", self.client.title()).await
    }

    /// The current page's DOM serialised as HTML (after scripts, not the bytes served).
    pub async fn source(&self) -> String {
        self.run("page source", self.client.source()).await
    }

    /// The text of `<body>` as a person sees it (hidden elements left out).
    pub async fn text(&self) -> String {
        self.find_text("body").await
    }

    /// The visible text of the element `css` selects.
    pub async fn find_text(&self, css: &str) -> String {
        let element = self.element(css).await;
        self.run(&format!("text of `{css}`"), element.text()).await
    }

    /// The `value` property of the form field `css` selects (for a file input, the browser's
    /// `C:\fakepath\NAME`).
    pub async fn value(&self, css: &str) -> String {
        let element = self.element(css).await;
        self.run(&format!("value of `{css}`"), element.prop("value")).await.unwrap_or_default()
    }

    /// Whether `css` selects an element on the current page (no waiting).
    pub async fn exists(&self, css: &str) -> bool {
        !self.run(&format!("find all `{css}`"), self.client.find_all(Locator::Css(css))).await.is_empty()
    }

    /// Wait (at most [`PAGE_TIMEOUT`]) until `css` selects an element, as after a submit
    /// that a script handles.
    pub async fn wait_for(&self, css: &str) {
        let wait = self.client.wait().at_most(PAGE_TIMEOUT).for_element(Locator::Css(css));
        self.run(&format!("wait for `{css}`"), wait).await;
    }

    /// Empty the field `css` selects and type `value` into it, as a person would.
    pub async fn fill(&self, css: &str, value: &str) {
        let element = self.element(css).await;
        self.run(&format!("clear `{css}`"), element.clear()).await;
        self.run(&format!("type into `{css}`"), element.send_keys(value)).await
    }

    /// Click the element `css` selects; a link or submit button navigates, and the driver
    /// waits for the new page.
    pub async fn click(&self, css: &str) {
        let element = self.element(css).await;
        self.run(&format!("click `{css}`"), element.click()).await
    }

    /// Submit the form `css` selects by clicking its first submit button, as a person would.
    pub async fn submit(&self, form_css: &str) {
        let buttons = "button:not([type]), button[type=submit], input[type=submit]";
        let form = self.element(form_css).await;
        let button = self.run(&format!("submit button of `{form_css}`"), form.find(Locator::Css(buttons))).await;
        self.run(&format!("click the submit button of `{form_css}`"), button.click()).await
    }

    /// Submit the form `form_css` selects and wait (at most [`PAGE_TIMEOUT`]) for the page
    /// it leads to. The click can return before the navigation it starts has begun (under
    /// load, it did), and then the URL and the elements read are still the old page's.
    pub async fn submit_and_load(&self, form_css: &str) {
        self.mark_page().await;
        self.submit(form_css).await;
        let loaded = self.new_page(PAGE_TIMEOUT).await;
        assert!(
            loaded,
            "submitting `{form_css}` on {} loaded no new page in {PAGE_TIMEOUT:?}",
            self.current_url().await
        );
    }

    /// Mark the current document, so that [`Browser::new_page`] can tell when another has
    /// replaced it.
    pub async fn mark_page(&self) {
        self.execute("window.__congOldPage = true;", vec![]).await;
    }

    /// Wait (at most `limit`) until the document marked by [`Browser::mark_page`] has been
    /// replaced by another that has loaded; whether it was. A click can return before the
    /// navigation it starts has begun, so the URL alone does not tell.
    pub async fn new_page(&self, limit: Duration) -> bool {
        let script = "return window.__congOldPage === undefined && document.readyState === 'complete';";
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            // Mid-navigation the script may fail: not there yet.
            if let Ok(Value::Bool(true)) = self.client.execute(script, vec![]).await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Choose the file `path` in the `<input type=file>` that `css` selects.
    pub async fn upload(&self, css: &str, path: &Path) {
        let path = path.canonicalize().unwrap_or_else(|e| panic!("upload {}: {e}", path.display()));
        let element = self.element(css).await;
        self.run(&format!("choose {} in `{css}`", path.display()), element.send_keys(&path.to_string_lossy())).await
    }

    /// Save a PNG of the viewport as `target/screenshots/{name}.png`; its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.run("screenshot", self.client.screenshot()).await;
        let dir = repo().join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// The cookies the browser holds for the current page.
    pub async fn cookies(&self) -> Vec<Cookie<'static>> {
        self.run("cookies", self.client.get_all_cookies()).await
    }

    /// Forget the cookies of the current page's site (sign out without a form).
    pub async fn delete_all_cookies(&self) {
        self.run("delete cookies", self.client.delete_all_cookies()).await
    }

    /// Run `script` in the page (`arguments` are `args`) and return what it returns.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.run("execute a script", self.client.execute(script, args)).await
    }

    /// axe-core's violations on the current page, with its default rules (WCAG A and AA,
    /// and best practices): each a JSON object with `id`, `impact`, `help` and `nodes`.
    /// Loads axe into the page first when it is not there yet.
    pub async fn axe(&self) -> Vec<Value> {
        if self.execute("return typeof window.axe === 'object'", vec![]).await != json!(true) {
            self.run("load axe-core", self.client.execute(&self.axe_source, vec![])).await;
        }
        let script = "const done = arguments[arguments.length - 1];
            axe.run(document).then(r => done(r.violations), e => done({ error: String(e) }));";
        match self.run("run axe-core", self.client.execute_async(script, vec![])).await {
            Value::Array(violations) => violations,
            other => panic!("axe-core failed on {}: {other}", self.current_url().await),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(&mut self.driver);
    }
}

/// Violations as one line each (`id (impact): help — targets`), for assertion messages.
pub fn describe(violations: &[Value]) -> String {
    let line = |v: &Value| {
        let targets: Vec<String> = v["nodes"]
            .as_array()
            .map(|nodes| nodes.iter().map(|n| n["target"].to_string()).collect())
            .unwrap_or_default();
        format!("{} ({}): {} — {}", v["id"], v["impact"], v["help"], targets.join(" "))
    };
    violations.iter().map(line).collect::<Vec<_>>().join("\n")
}

/// `name` in a folder of `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// Start `chromedriver --port=0` and read its port. With port 0 the driver takes a free port
/// on one address family and then binds the same number on the other, which another
/// loopback socket of the suite may hold: then it stops with `ERR_ADDRESS_IN_USE` in its log,
/// and a new driver (a new port) is started, up to [`DRIVER_ATTEMPTS`] times.
async fn launch_driver(chromedriver: &Path, log: &Path) -> (Child, u16) {
    for attempt in 1..=DRIVER_ATTEMPTS {
        let mut driver = Command::new(chromedriver)
            .arg("--port=0")
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Its own process group, Chromium included, so that drop can kill them all.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", chromedriver.display()));
        match driver_port(&mut driver).await {
            Ok(port) => return (driver, port),
            Err(why) => {
                kill_group(&mut driver);
                let log_text = tail(log);
                if attempt == DRIVER_ATTEMPTS || !log_text.contains("ERR_ADDRESS_IN_USE") {
                    panic!("chromedriver {why} (attempt {attempt} of {DRIVER_ATTEMPTS})\nlog:\n{log_text}");
                }
            }
        }
    }
    unreachable!("the last attempt returns or panics")
}

/// How many drivers [`launch_driver`] starts before it gives up on a port in use.
const DRIVER_ATTEMPTS: u32 = 5;

/// The port `chromedriver --port=0` says it listens on ("... started successfully on port N."),
/// or why there is none.
async fn driver_port(driver: &mut Child) -> Result<u16, String> {
    let stdout = driver.stdout.take().expect("chromedriver stdout");
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        // Read to the end, so that the driver never writes into a closed pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let port = line.split_once("successfully on port ").and_then(|(_, p)| p.trim_end_matches('.').parse().ok());
            if let Some(port) = port {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(port);
                }
            }
        }
    });
    match tokio::time::timeout(START_TIMEOUT, rx).await {
        Ok(Ok(port)) => Ok(port),
        Ok(Err(_)) => Err("stopped without saying its port".to_string()),
        Err(_) => Err(format!("did not say its port within {START_TIMEOUT:?}")),
    }
}

/// Wait until `GET /status` on `port` says `"ready": true`.
async fn wait_ready(driver: &mut Child, port: u16, log: &Path) {
    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    loop {
        let seen = match tokio::time::timeout(Duration::from_secs(2), status(port)).await {
            Ok(Ok(answer)) if answer.status == 200 && answer.text().contains("\"ready\":true") => return,
            Ok(Ok(answer)) => format!("{} {}", answer.status, answer.text()),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "no answer within 2 s".to_string(),
        };
        if tokio::time::Instant::now() >= deadline || matches!(driver.try_wait(), Ok(Some(_))) {
            kill_group(driver);
            panic!("chromedriver not ready within {START_TIMEOUT:?}: {seen}\nlog:\n{}", tail(log));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One `GET /status` to the driver, as exact bytes, read as far as its Content-Length (the
/// driver keeps the connection open).
async fn status(port: u16) -> std::io::Result<super::RawResp> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    stream.write_all(&super::raw_get("/status", "127.0.0.1")).await?;
    let mut out = Vec::new();
    loop {
        let answer = super::parse_raw(&out);
        let length = answer.header("content-length").parse::<usize>();
        if answer.status != 0 && length.is_ok_and(|n| answer.body.len() >= n) {
            return Ok(answer);
        }
        if stream.read_buf(&mut out).await? == 0 {
            return Ok(answer);
        }
    }
}

/// SIGKILL to the driver's process group (the driver and the Chromium it started), then reap
/// the driver.
fn kill_group(driver: &mut Child) {
    let _ = kill_process_group(Pid::from_child(driver), Signal::KILL);
    let _ = driver.kill();
    let _ = driver.wait();
}

/// The last lines of the driver's log, for a panic message.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
