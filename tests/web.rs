//! The admin web interface (src/control/web) in a real browser against the real binary:
//! `cong serve` on a private copy of the demo with `[publishing] approval = "required"`,
//! users made with `cong user add`, headless Chromium driven through `common::browser`
//! signing in, filling and submitting the Vietnamese forms, and axe-core judging every page.
//! What a visitor sees is checked on the public listener with the plain HTTP client, and
//! statuses the browser does not expose (403, 429) with that client and the browser's
//! session cookie.
//!
//! Each test starts its own server and browser; without Chromium (and `CI` unset) a test
//! skips with a note. Screenshots go to `target/screenshots/`.

use crate::common::browser::{describe, Browser};
use crate::common::dns::{zone, Nsd};
use crate::common::process::Server;
use crate::common::registry::{self, run_with_stdin, Out};
use crate::common::{copy_demo, get, repo, request, Resp};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The break-glass token of `[admin] token_env`, for setting up and checking through the API.
const TOKEN: &str = "web-test-token";
/// Every user's password (at least 12 characters).
const PASSWORD: &str = "mat-khau-du-dai-2026";
const AIS: &str = "ais.mic.gov.vn";
/// The site exempt from approval that shows when the watcher has caught up.
const WITNESS: &str = "vnnic";
/// Approval on, short debounce and registry poll, no periodic DNS check (it would ask the
/// system's resolvers).
const MORE: &str = "[reload]\ndebounce_ms = 50\nregistry_poll_ms = 50\n\n\
                    [publishing]\napproval = \"required\"\nexempt = [\"vnnic\"]\n\n\
                    [dns]\ncheck_interval_secs = 0\n";
/// How long anything may take to reach the public listener after the browser saw it done.
const PROPAGATION: Duration = Duration::from_secs(5);

/// A new page of `ais` submitted over the API (tests that need a submission but not its making).
const API_PAGE: &str = "content/tin-tuc/bai-moi.md";
const API_PAGE_TEXT: &str = "+++\ntitle = \"Cảnh báo chiến dịch lừa đảo mới\"\ndate = 2026-11-30\n+++\n\n\
                             Nội dung bài mới: cảnh báo chiến dịch giả danh cơ quan thuế.\n";

/// A 1×1 PNG (signature, IHDR, IDAT, IEND with their CRCs).
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x04\x00\x00\x00\xb5\x1c\x0c\x02\
\x00\x00\x00\x0bIDAT\x78\xda\x63\x64\x60\x00\x00\x00\x06\x00\x02\x30\x81\xd0\x2f\x00\x00\x00\x00IEND\xae\x42\x60\x82";

/// One test's world: a temp folder with a copy of the demo, `cong.toml` and `data/`, the
/// `cong serve` process on it, and for the DNS grid an NSD the checker asks.
struct World {
    dir: tempfile::TempDir,
    server: Server,
    witness: AtomicU32,
    _nsd: Option<Nsd>,
}

impl World {
    fn start() -> World {
        World::start_with(MORE, None)
    }

    /// A world whose DNS checker asks a real NSD serving some of the demo's names well,
    /// some badly and some not at all, so that the grid has every kind of cell.
    fn start_with_dns() -> World {
        let nsd = Nsd::start(&dns_zones());
        let more = format!("{MORE}resolvers = [\"{}\"]\n", nsd.resolver());
        World::start_with(&more, Some(nsd))
    }

    fn start_with(more: &str, nsd: Option<Nsd>) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_demo(dir.path());
        let server = Server::start(dir.path(), TOKEN, more);
        World { dir, server, witness: AtomicU32::new(0), _nsd: nsd }
    }

    /// The admin listener's URL of `path`.
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.admin)
    }

    fn site_file(&self, label: &str, rel: &str) -> PathBuf {
        self.dir.path().join("tenants").join(label).join(rel)
    }

    fn cli(&self, args: &[&str]) -> Out {
        registry::cli(&self.server.config, args)
    }

    /// `cong user add NAME --role ROLE --name DISPLAY [--site L]... --password-stdin`.
    fn user(&self, name: &str, display: &str, role: &str, sites: &[&str]) {
        let config = self.server.config.to_str().expect("utf-8 temp path");
        let mut args = vec!["--config", config, "user", "add", name, "--role", role, "--name", display];
        for s in sites {
            args.extend(["--site", s]);
        }
        args.push("--password-stdin");
        run_with_stdin(&args, &format!("{PASSWORD}\n")).expect_code(0);
    }

    /// `cong user token NAME`: the token it printed once.
    fn token(&self, name: &str) -> String {
        let out = self.cli(&["user", "token", name]);
        out.expect_code(0);
        let token = out.stdout.lines().nth(1).unwrap_or_default().trim().to_string();
        assert!(token.starts_with("cong_"), "no token on the second line:\n{out}");
        token
    }

    /// An admin API call with `token`.
    async fn api(&self, token: &str, method: &str, path: &str, body: &str) -> Resp {
        let auth = format!("Bearer {token}");
        let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
        request(self.server.admin, method, "admin", path, &headers, body.as_bytes().to_vec()).await
    }

    async fn api_json(&self, method: &str, path: &str, body: &str, status: u16) -> Value {
        let resp = self.api(TOKEN, method, path, body).await;
        assert_eq!(resp.status, status, "{method} {path} {body}:\n{}", resp.text());
        resp.json()
    }

    /// Write [`API_PAGE`] into the working copy of `ais` and submit it over the API as
    /// `author` (a contributor of `ais`): the submission's id.
    async fn api_submission(&self, author: &str) -> i64 {
        write_file(&self.site_file("ais", API_PAGE), API_PAGE_TEXT);
        let token = self.token(author);
        let body = json!({ "paths": [API_PAGE], "message": "Bài mới: cảnh báo lừa đảo" }).to_string();
        let resp = self.api(&token, "POST", "/api/sites/ais/submissions", &body).await;
        assert_eq!(resp.status, 201, "submit over the API:\n{}", resp.text());
        resp.json()["id"].as_i64().unwrap_or_else(|| panic!("no id: {}", resp.text()))
    }

    /// `GET path` with `host` on the public listener.
    async fn public(&self, host: &str, path: &str) -> Resp {
        get(self.server.http, host, path).await
    }

    /// GET `path` of `ais` until `ok` holds, for at most `limit`; the answer and how long it took.
    async fn public_until(&self, path: &str, limit: Duration, ok: impl Fn(&Resp) -> bool) -> (Resp, Duration) {
        let started = Instant::now();
        loop {
            let resp = self.public(AIS, path).await;
            if ok(&resp) || started.elapsed() > limit {
                return (resp, started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Edit the exempt witness site and wait until the edit is served: everything written
    /// to the site folders before this call has then been seen by the watcher.
    async fn settle(&self) {
        let n = self.witness.fetch_add(1, Ordering::Relaxed) + 1;
        let mark = format!("Dấu kiểm tra số {n}.");
        let original = std::fs::read_to_string(repo().join("tenants/vnnic/content/lien-he.md"))
            .expect("the demo's vnnic/content/lien-he.md");
        write_file(&self.site_file(WITNESS, "content/lien-he.md"), &format!("{original}\n\n{mark}\n"));
        let host = format!("{WITNESS}.mic.gov.vn");
        let started = Instant::now();
        loop {
            let resp = self.public(&host, "/lien-he/").await;
            if resp.status == 200 && resp.text().contains(&mark) {
                return;
            }
            assert!(
                started.elapsed() < PROPAGATION,
                "the exempt site {WITNESS} did not serve its edit within {PROPAGATION:?} (status {}); the watcher \
                 seems stuck:\n{}",
                resp.status,
                self.server.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `GET path` on the admin listener as the browser's session (its `cong` cookie) would.
    async fn get_as(&self, cookie: &str, path: &str) -> Resp {
        let cookie = format!("cong={cookie}");
        request(self.server.admin, "GET", "admin", path, &[("cookie", cookie.as_str())], Vec::new()).await
    }

    /// `POST path` with a URL-encoded `body` and, when given, the session cookie.
    async fn post_form(&self, cookie: Option<&str>, path: &str, body: &str) -> Resp {
        let cookie = cookie.map(|c| format!("cong={c}"));
        let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
        if let Some(c) = &cookie {
            headers.push(("cookie", c.as_str()));
        }
        request(self.server.admin, "POST", "admin", path, &headers, body.as_bytes().to_vec()).await
    }

    /// The registry's record of member `label` (through the API).
    async fn member_status(&self, label: &str) -> String {
        let m = self.api_json("GET", &format!("/api/members/{label}"), "", 200).await;
        m["status"].as_str().unwrap_or_else(|| panic!("no status: {m}")).to_string()
    }
}

/// Someone `cong user add` makes: username, display name, role, sites.
struct Person {
    username: &'static str,
    name: &'static str,
    role: &'static str,
    sites: &'static [&'static str],
}

const LAN: Person = Person { username: "lan", name: "Trần Thị Lan", role: "contributor", sites: &["ais"] };
const MINH: Person = Person { username: "minh", name: "Lê Văn Minh", role: "approver", sites: &["ais"] };
const HUNG: Person = Person { username: "hung", name: "Đỗ Văn Hùng", role: "contributor", sites: &["cbc"] };
const QUAN: Person = Person { username: "quan", name: "Phạm Quản Trị", role: "admin", sites: &[] };
const TICHHOP: Person =
    Person { username: "tichhop", name: "Hệ thống một cửa", role: "integration", sites: &["ais"] };

/// A world (with NSD when `dns`) holding `people`, and a browser, started side by side; `None`
/// when the browser tests are skipped (see [`Browser::start`]).
async fn begin(dns: bool, people: &'static [Person]) -> Option<(World, Browser)> {
    let (w, browser) = begin_maybe(dns, people).await;
    Some((w, browser?))
}

/// [`begin`], the world even when the browser tests are skipped.
async fn begin_maybe(dns: bool, people: &'static [Person]) -> (World, Option<Browser>) {
    let world = tokio::task::spawn_blocking(move || {
        let w = if dns { World::start_with_dns() } else { World::start() };
        for p in people {
            w.user(p.username, p.name, p.role, p.sites);
        }
        w
    });
    let browser = Browser::start().await;
    (world.await.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic())), browser)
}

/// The zones NSD serves for the DNS grid: `ais` and `vnnic` right, `cbc` pointing elsewhere,
/// `ptit` with a CAA record that forbids the platform's CA, `cds` missing.
fn dns_zones() -> Vec<(&'static str, String)> {
    vec![
        (
            "mic.gov.vn.",
            zone(
                "mic.gov.vn.",
                &[
                    "portal IN A 127.0.0.1",
                    "ais IN A 127.0.0.1",
                    "cbc IN A 45.76.1.99",
                    "ttt IN CNAME portal.mic.gov.vn.",
                    "ptit IN A 127.0.0.1",
                    "ptit IN CAA 0 issue \"digicert.com\"",
                    "vncert IN A 45.76.1.50",
                    "vnnic IN A 127.0.0.1",
                ],
            ),
        ),
        ("gov.vn.", zone("gov.vn.", &["ais IN A 127.0.0.1", "www.ais IN A 127.0.0.1", "vncert IN A 45.76.1.50"])),
        ("vn.", zone("vn.", &["vnnic IN A 127.0.0.1", "ptit.edu IN A 127.0.0.1"])),
    ]
}

/// Write `text` to `path` (folders made), replacing a regular file: never through a link.
fn write_file(path: &Path, text: &str) {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        assert!(meta.is_file(), "{} is not a regular file", path.display());
    }
    std::fs::create_dir_all(path.parent().expect("a parent folder")).expect("create folders");
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// The current page's path and query on the admin listener (`/dang-nhap?tiep=%2F`); the
/// whole URL when the browser left the admin listener.
async fn here(b: &Browser, w: &World) -> String {
    let url = b.current_url().await;
    match url.strip_prefix(&format!("http://{}", w.server.admin)) {
        Some(rest) => rest.to_string(),
        None => url,
    }
}

/// The path of [`here`] without its query.
async fn here_path(b: &Browser, w: &World) -> String {
    let here = here(b, w).await;
    here.split('?').next().unwrap_or_default().to_string()
}

/// Click the link or button `css` and wait for the page it leads to.
async fn click(b: &Browser, css: &str) {
    b.mark_page().await;
    b.click(css).await;
    assert!(b.new_page(PROPAGATION).await, "clicking `{css}` on {} loaded no new page", b.current_url().await);
}

/// Fill the sign-in form on the current page with `username` and `password` and send it.
async fn submit_sign_in(b: &Browser, username: &str, password: &str) {
    b.fill("#username", username).await;
    b.fill("#password", password).await;
    b.submit_and_load("form[action='/dang-nhap']").await;
}

/// Sign in as `username` from the sign-in page; panics unless the browser left it.
async fn sign_in(b: &Browser, w: &World, username: &str) {
    b.goto(&w.url("/dang-nhap")).await;
    submit_sign_in(b, username, PASSWORD).await;
    let now = here(b, w).await;
    assert!(!now.starts_with("/dang-nhap"), "{username} could not sign in: still on {now}:\n{}", b.text().await);
}

/// The browser's session cookie for the admin listener, if it holds one.
async fn session_cookie(b: &Browser) -> Option<String> {
    b.cookies().await.into_iter().find(|c| c.name() == "cong").map(|c| c.value().to_string())
}

/// The `id` in a `/duyet/{id}...` path.
fn submission_id(path: &str) -> i64 {
    path.strip_prefix("/duyet/")
        .and_then(|rest| rest.split(['?', '/']).next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not a submission page: {path}"))
}

/// What a browser makes of a `Location` header: ASCII tab and newlines removed (WHATWG URL
/// parsing), then resolved against `base` (`http://host:port`). Only the forms a sign-in
/// redirect can take are handled: scheme-relative (`//x/...`), absolute, and a path.
fn resolve_location(base: &str, location: &str) -> String {
    let cleaned: String = location.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let cleaned = cleaned.replace('\\', "/");
    if cleaned.contains("://") {
        cleaned
    } else if let Some(rest) = cleaned.strip_prefix("//") {
        format!("http://{rest}")
    } else {
        format!("{base}{cleaned}")
    }
}

// 1. Signing in and out.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_a_wrong_then_the_right_password_and_sign_out_ends_the_session() {
    let Some((w, b)) = begin(false, &[LAN]).await else { return };

    b.goto(&w.url("/")).await;
    assert_eq!(here(&b, &w).await, "/dang-nhap?tiep=%2F", "a page without a session sends to the sign-in page");
    assert!(b.title().await.starts_with("Đăng nhập"), "title: {}", b.title().await);
    assert!(!b.exists(".error-summary").await, "no error before trying");

    submit_sign_in(&b, "lan", "mat-khau-sai-hoan-toan").await;
    assert_eq!(here_path(&b, &w).await, "/dang-nhap", "a wrong password stays on the sign-in page");
    let title = b.title().await;
    assert!(title.starts_with("Lỗi: "), "a failed sign-in's title starts with \"Lỗi: \": {title}");
    let summary = b.find_text(".error-summary").await;
    assert!(summary.contains("Sai tên đăng nhập hoặc mật khẩu"), "the summary says why: {summary}");
    assert_eq!(b.value("#username").await, "lan", "the username is kept");
    assert_eq!(b.value("#password").await, "", "the password is never sent back");
    assert_eq!(session_cookie(&b).await, None, "no session for a wrong password");

    submit_sign_in(&b, "khong-co-ai", "mat-khau-sai-hoan-toan").await;
    assert_eq!(here_path(&b, &w).await, "/dang-nhap");
    assert_eq!(b.find_text(".error-summary").await, summary, "an unknown user gets the same answer");
    let unknown = w.post_form(None, "/dang-nhap", "username=khong-co-ai&password=mat-khau-sai-hoan-toan").await;
    let wrong = w.post_form(None, "/dang-nhap", "username=lan&password=mat-khau-sai-hoan-toan").await;
    assert_eq!((unknown.status, wrong.status), (401, 401), "both are 401");

    submit_sign_in(&b, "lan", PASSWORD).await;
    assert_eq!(here(&b, &w).await, "/", "the right password goes to `tiep` (the dashboard)");
    assert!(b.title().await.starts_with("Tổng quan"), "title: {}", b.title().await);
    let header = b.find_text("header.top").await;
    assert!(header.contains("Trần Thị Lan") && header.contains("cán bộ đầu mối"), "who is signed in: {header}");
    let cookie = b.cookies().await.into_iter().find(|c| c.name() == "cong").expect("a session cookie");
    assert_eq!(cookie.http_only(), Some(true), "the session cookie is HttpOnly");
    assert_eq!(cookie.same_site().map(|s| s.is_strict()), Some(true), "the session cookie is SameSite=Strict");
    let old = cookie.value().to_string();
    let direct = w.post_form(None, "/dang-nhap", &format!("username=lan&password={PASSWORD}")).await;
    let set = direct.header("set-cookie").to_ascii_lowercase();
    assert!(set.starts_with("cong=") && set.contains("path=/"), "the session cookie: {set}");
    assert!(!set.contains("domain"), "the session cookie is host-only: {set}");
    assert_eq!(w.get_as(&old, "/duyet").await.status, 200, "the cookie opens the pages");

    // Sign out with the header's button: the server forgets the session, not only the browser.
    b.submit_and_load("form[action='/dang-xuat']").await;
    assert_eq!(here_path(&b, &w).await, "/dang-nhap", "signing out shows the sign-in page");
    assert_eq!(session_cookie(&b).await, None, "the browser's cookie is gone");
    b.goto(&w.url("/")).await;
    assert_eq!(here(&b, &w).await, "/dang-nhap?tiep=%2F", "after signing out, / sends to the sign-in page");
    let replay = w.get_as(&old, "/").await;
    assert_eq!(replay.status, 303, "the old cookie no longer opens a page:\n{}", replay.text());
    assert!(replay.header("location").starts_with("/dang-nhap"), "{:?}", replay.headers);

    // A deep link survives signing in.
    b.goto(&w.url("/nhat-ky")).await;
    let at = here(&b, &w).await;
    let next = at.strip_prefix("/dang-nhap?tiep=").map(|n| percent_encoding::percent_decode_str(n).decode_utf8_lossy());
    assert_eq!(next.as_deref(), Some("/nhat-ky"), "a deep link sends to the sign-in page with `tiep`: {at}");
    submit_sign_in(&b, "lan", PASSWORD).await;
    assert_eq!(here(&b, &w).await, "/nhat-ky", "signing in goes on to the page asked for");
    assert!(b.title().await.starts_with("Nhật ký"), "title: {}", b.title().await);
}

/// `tiep` (where to go after signing in) can only be a page of the admin listener: as the
/// browser reads the redirect, never another host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_never_sends_the_browser_to_another_host() {
    let (w, browser) = begin_maybe(false, &[LAN]).await;
    let base = format!("http://{}", w.server.admin);
    // `//x`, `\x` and, once browsers drop the tab, `/<TAB>/x`, are all `//x`: another host.
    let tricks =
        ["//evil.example/", "/\\evil.example/", "https://evil.example/", "/\t/evil.example/", "/\n/evil.example/"];
    let mut wrong = Vec::new();
    for next in tricks {
        let body = format!(
            "username=lan&password={PASSWORD}&tiep={}",
            percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC)
        );
        let resp = w.post_form(None, "/dang-nhap", &body).await;
        assert_eq!(resp.status, 303, "tiep={next:?}: signing in redirects:\n{}", resp.text());
        let location = resp.header("location");
        let target = resolve_location(&base, location);
        if !target.starts_with(&format!("{base}/")) {
            wrong.push(format!(
                "POST /dang-nhap with tiep={next:?} answers Location: {location:?}, which a browser (dropping tabs and \
                 newlines from URLs, as the WHATWG URL standard says) follows to {target}"
            ));
        }
    }

    // The same in the browser: a link to the sign-in page with a crafted `tiep`. Signing in
    // must end on a page of the admin listener other than the sign-in page.
    if let Some(b) = browser {
        for next in ["//evil.example/", "/%09/evil.example/"] {
            b.delete_all_cookies().await;
            b.goto(&w.url(&format!("/dang-nhap?tiep={next}"))).await;
            b.fill("#username", "lan").await;
            b.fill("#password", PASSWORD).await;
            b.mark_page().await;
            b.submit("form[action='/dang-nhap']").await;
            // A sign-in page loads in well under a second; the wait ends sooner when none comes.
            let loaded = b.new_page(Duration::from_secs(2)).await;
            let url = b.current_url().await;
            let on_admin = url.strip_prefix(&base).is_some_and(|p| p.starts_with('/') && !p.starts_with("/dang-nhap"));
            if !loaded || !on_admin {
                wrong.push(format!(
                    "after signing in from /dang-nhap?tiep={next} the browser is at {url} (a new page loaded: \
                     {loaded}; Chromium's CSP form-action 'self' blocks the redirect off the host, leaving the \
                     person on the sign-in form)"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "BUG: signing in can send the browser off the admin listener (an open redirect); `local_path` in \
         src/control/web/mod.rs must refuse ASCII tab, CR and LF (any control character) in `tiep`:\n{}",
        wrong.join("\n")
    );
}

// 2. A page and an image made in the browser, submitted, approved by someone else, served.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contributor_writes_uploads_submits_and_an_approver_publishes() {
    let Some((w, b)) = begin(false, &[LAN, MINH]).await else { return };
    // The path as an editor types it; it becomes `tin-tuc/hoi-nghi-an-toan-2026` (docs/web.md).
    let (slug, url) = ("Tin tức/Hội nghị An toàn 2026", "/tin-tuc/hoi-nghi-an-toan-2026/");
    let title = "Hội nghị An toàn thông tin mạng 2026";
    let page_file = "content/tin-tuc/hoi-nghi-an-toan-2026.md";
    let (image_file, image_url) = ("static/anh/anh-hoi-nghi.png", "/static/anh/anh-hoi-nghi.png");
    assert_eq!(w.public(AIS, url).await.status, 404, "the page does not exist yet");

    sign_in(&b, &w, "lan").await;
    b.goto(&w.url("/don-vi/ais")).await;
    assert!(b.title().await.starts_with("Nội dung của ais"), "title: {}", b.title().await);
    click(&b, "a[href='/don-vi/ais/sua']").await;
    assert_eq!(here(&b, &w).await, "/don-vi/ais/sua");

    // Fill the new page's form and preview it.
    b.fill("#slug", slug).await;
    b.fill("#title", title).await;
    // A date field's typing order follows the browser's locale; set the value as the picker would.
    b.execute("document.getElementById('date').value = arguments[0];", vec![json!("2026-11-30")]).await;
    let body = "Hội nghị diễn ra tại **Hà Nội** ngày 30/11/2026.\n\n## Chương trình\n\n- Khai mạc\n- Tọa đàm về an toàn thông tin";
    b.fill("#body", body).await;
    click(&b, "button[name='hanh-dong'][value='xem-truoc']").await;
    assert!(!b.exists(".error-summary").await, "the preview has no errors:\n{}", b.text().await);
    assert!(b.exists(".preview").await, "the preview is shown:\n{}", b.text().await);
    assert_eq!(b.find_text(".preview strong").await, "Hà Nội", "**…** is rendered bold");
    assert_eq!(b.find_text(".preview h2").await, "Chương trình", "## is rendered as a heading");
    assert!(b.exists(".preview ul li").await, "the list is rendered");
    assert!(!b.find_text(".preview").await.contains("**"), "the preview is HTML, not Markdown");
    assert_eq!(b.value("#title").await, title, "the form keeps what was typed");
    assert_eq!(b.value("#slug").await, slug, "the path is kept as typed");
    assert_eq!(b.value("#date").await, "2026-11-30");
    assert!(!w.site_file("ais", page_file).exists(), "a preview saves nothing");

    click(&b, "button[name='hanh-dong'][value='luu']").await;
    assert_eq!(here(&b, &w).await, "/don-vi/ais?tb=saved", "saving goes back to the site page");
    assert!(b.find_text(".notice").await.contains("Đã lưu vào bản làm việc"), "the notice says it is saved");
    let saved = std::fs::read_to_string(w.site_file("ais", page_file)).expect("the page is in the working copy");
    assert!(saved.contains(title) && saved.contains("## Chương trình"), "the saved page:\n{saved}");

    // Upload an image through the form (multipart); its name is made a slug.
    let tmp = tempfile::tempdir().expect("tempdir");
    let png = tmp.path().join("Ảnh hội nghị.png");
    std::fs::write(&png, PNG).expect("write the image");
    b.upload("#file", &png).await;
    b.submit_and_load("form[action='/don-vi/ais/tai-len']").await;
    assert_eq!(
        here(&b, &w).await,
        "/don-vi/ais?tb=uploaded",
        "uploading goes back to the site page:\n{}",
        b.text().await
    );
    assert_eq!(std::fs::read(w.site_file("ais", image_file)).ok().as_deref(), Some(PNG), "the image as sent");

    let changes = b.find_text("table").await;
    for (file, change) in [(page_file, "thêm mới"), (image_file, "thêm mới")] {
        assert!(
            changes.lines().any(|l| l.contains(file) && l.contains(change)),
            "the changes list {file} as {change}:\n{changes}"
        );
    }

    // Submit both for approval.
    b.fill("#message", "Bài mới: Hội nghị an toàn thông tin 2026, kèm ảnh").await;
    b.submit_and_load("form[action='/don-vi/ais/gui-duyet']").await;
    let at = here(&b, &w).await;
    assert!(at.ends_with("?tb=submitted"), "submitting shows the submission: {at}\n{}", b.text().await);
    let id = submission_id(&at);
    let text = b.text().await;
    assert!(text.contains("Đã gửi duyệt.") && text.contains("chờ duyệt"), "{text}");
    assert!(!b.exists(&format!("form[action='/duyet/{id}/approve']")).await, "the author may not approve");
    assert!(b.exists(&format!("form[action='/duyet/{id}/withdraw']")).await, "the author may withdraw");

    w.settle().await;
    assert_eq!(w.public(AIS, url).await.status, 404, "a submitted page is not served before approval");
    assert_eq!(w.public(AIS, image_url).await.status, 404, "a submitted image is not served before approval");

    // The approver, in a fresh session.
    b.delete_all_cookies().await;
    b.goto(&w.url("/duyet")).await;
    assert!(here(&b, &w).await.starts_with("/dang-nhap"), "the cookies are gone: signed out");
    submit_sign_in(&b, "minh", PASSWORD).await;
    assert_eq!(here(&b, &w).await, "/duyet", "signed in as minh, on the queue");
    let queue = b.find_text("main").await;
    assert!(queue.contains(&format!("#{id}")) && queue.contains("Hội nghị an toàn thông tin 2026"), "{queue}");
    click(&b, &format!("a[href='/duyet/{id}']")).await;
    assert_eq!(here(&b, &w).await, format!("/duyet/{id}"));
    let files = b.find_text("table").await;
    assert!(files.contains(page_file) && files.contains(image_file), "the detail lists both files:\n{files}");
    let diff = b.find_text("pre.diff").await;
    assert!(diff.contains(&format!("+title = \"{title}\"")), "the diff shows the new page's title:\n{diff}");
    assert!(diff.contains("+## Chương trình"), "the diff shows the body:\n{diff}");
    assert!(b.exists("pre.diff .add").await, "added lines are marked");

    // The preview of the submission shows the page as it would be, and publishes nothing.
    click(&b, &format!("a[href='/duyet/{id}/xem-truoc{url}']")).await;
    assert!(b.text().await.contains(title), "the preview shows the page:\n{}", b.text().await);
    assert_eq!(w.public(AIS, url).await.status, 404, "a preview publishes nothing");

    b.goto(&w.url(&format!("/duyet/{id}"))).await;
    b.submit_and_load(&format!("form[action='/duyet/{id}/approve']")).await;
    let approved_at = Instant::now();
    assert_eq!(here(&b, &w).await, format!("/duyet/{id}?tb=approved"), "{}", b.text().await);
    let text = b.text().await;
    assert!(text.contains("Đã duyệt và đăng.") && text.contains("đã duyệt"), "{text}");
    let (page, took) = w.public_until(url, PROPAGATION, |r| r.status == 200 && r.text().contains(title)).await;
    assert!(
        page.status == 200 && page.text().contains(title),
        "the approved page is not served {:?} after the approval (status {}):\n{}",
        approved_at.elapsed(),
        page.status,
        page.text()
    );
    assert!(page.text().contains("<strong>Hà Nội</strong>"), "the public page renders the Markdown");
    eprintln!("web: the approved page was served {took:?} after the browser saw the approval");
    let image = w.public(AIS, image_url).await;
    assert_eq!((image.status, image.body.as_slice()), (200, PNG), "the approved image is served as uploaded");
}

// 3. Registering a member through the form.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_a_member_shows_naming_errors_a_suggestion_then_registers() {
    let Some((w, b)) = begin(false, &[QUAN]).await else { return };
    sign_in(&b, &w, "quan").await;
    b.goto(&w.url("/thanh-vien")).await;
    click(&b, "a[href='/thanh-vien/dang-ky']").await;
    assert_eq!(here(&b, &w).await, "/thanh-vien/dang-ky");

    // Rejected names: the code in the summary, the title says there is an error.
    for (label, code) in [("ais", "taken"), ("a", "too_short"), ("admin", "reserved")] {
        b.goto(&w.url("/thanh-vien/dang-ky")).await;
        b.fill("#label", label).await;
        b.fill("#name_vi", "Vụ Pháp chế").await;
        click(&b, "button[name='hanh-dong'][value='dang-ky']").await;
        let title = b.title().await;
        assert!(title.starts_with("Lỗi: "), "{label}: the title starts with \"Lỗi: \": {title}");
        assert_eq!(here_path(&b, &w).await, "/thanh-vien/dang-ky", "{label}: stays on the form");
        let summary = b.find_text(".error-summary[role=alert]").await;
        assert!(summary.contains(code), "{label}: the summary names the code {code}:\n{summary}");
        assert!(b.exists(".error-summary a[href='#label']").await, "{label}: the summary links to the field");
        assert!(b.exists(".has-error #label").await, "{label}: the field is marked");
        assert_eq!(b.value("#label").await, label, "{label}: what was typed is kept");
        assert_eq!(b.value("#name_vi").await, "Vụ Pháp chế");
    }

    // Checking a name with Vietnamese letters gives the label without them.
    b.goto(&w.url("/thanh-vien/dang-ky")).await;
    b.fill("#label", "vụ-pc").await;
    b.fill("#name_vi", "Vụ Pháp chế").await;
    click(&b, "button[name='hanh-dong'][value='kiem-tra']").await;
    let text = b.find_text("main").await;
    assert!(text.contains("diacritics"), "the check names the code:\n{text}");
    assert!(text.contains("Gợi ý: vu-pc"), "the check suggests vu-pc:\n{text}");
    assert_eq!(b.value("#label").await, "vụ-pc", "the check keeps the form");
    assert_eq!(w.api(TOKEN, "GET", "/api/members/vu-pc", "").await.status, 404, "checking registers nothing");

    // A good name registers, pending.
    b.goto(&w.url("/thanh-vien/dang-ky")).await;
    b.fill("#label", "vpc").await;
    b.fill("#name_vi", "Vụ Pháp chế").await;
    b.fill("#name_en", "Department of Legal Affairs").await;
    click(&b, "button[name='hanh-dong'][value='kiem-tra']").await;
    assert!(b.find_text("main").await.contains("Tên hợp lệ."), "vpc passes the check:\n{}", b.text().await);
    click(&b, "button[name='hanh-dong'][value='dang-ky']").await;
    assert_eq!(here(&b, &w).await, "/thanh-vien/vpc?tb=registered", "{}", b.text().await);
    assert_eq!(b.find_text("h1").await, "Vụ Pháp chế");
    let main = b.find_text("main").await;
    assert!(main.contains("Đã đăng ký thành viên (chờ kích hoạt).") && main.contains("vpc.mic.gov.vn"), "{main}");
    assert_eq!(b.find_text(".tag").await, "chờ kích hoạt", "a new member is pending");
    assert_eq!(w.member_status("vpc").await, "pending", "the registry holds vpc, pending");
    b.goto(&w.url("/thanh-vien")).await;
    assert!(b.exists("a[href='/thanh-vien/vpc']").await, "the members list shows vpc");

    // The list's filters: by status, and by name without diacritics.
    b.execute("document.getElementById('status').value = 'pending';", vec![]).await;
    b.fill("#q", "phap").await;
    b.submit_and_load("main form[action='/thanh-vien']").await;
    let listed = b
        .execute("return [...document.querySelectorAll('main tbody a')].map(a => a.getAttribute('href'));", vec![])
        .await;
    assert_eq!(listed, json!(["/thanh-vien/vpc"]), "pending members named like \"phap\": {}", here(&b, &w).await);
    b.fill("#q", "").await;
    b.execute("document.getElementById('status').value = 'active';", vec![]).await;
    b.submit_and_load("main form[action='/thanh-vien']").await;
    assert!(b.exists("a[href='/thanh-vien/ais']").await, "ais is active");
    assert!(!b.exists("a[href='/thanh-vien/vpc']").await, "vpc is not active");
}

// 4. Another site's contributor.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contributor_of_another_site_cannot_reach_its_submissions_or_pages() {
    let Some((w, b)) = begin(false, &[LAN, HUNG]).await else { return };
    let id = w.api_submission("lan").await;
    sign_in(&b, &w, "hung").await;
    let cookie = session_cookie(&b).await.expect("hung's session");

    let forbidden = [
        format!("/duyet/{id}"),
        format!("/duyet/{id}/xem-truoc/tin-tuc/bai-moi/"),
        "/don-vi/ais".to_string(),
        "/don-vi/ais/sua".to_string(),
        "/don-vi/ais/sua?duong-dan=content%2Fgioi-thieu.md".to_string(),
    ];
    for path in &forbidden {
        b.goto(&w.url(path)).await;
        let title = b.title().await;
        assert!(title.starts_with("Không có quyền"), "{path}: the \"Không có quyền\" page, not {title:?}");
        let text = b.find_text("main").await;
        assert!(text.contains("Tài khoản của bạn không được làm việc này."), "{path}:\n{text}");
        assert!(!text.contains("bai-moi") && !text.contains("Cảnh báo chiến dịch"), "{path} leaks:\n{text}");
        let resp = w.get_as(&cookie, path).await;
        assert_eq!(resp.status, 403, "{path}: status");
    }
    b.goto(&w.url("/duyet")).await;
    assert!(!b.exists(&format!("a[href='/duyet/{id}']")).await, "the queue does not list ais's submission");
    b.goto(&w.url("/")).await;
    assert!(!b.exists(&format!("a[href='/duyet/{id}']")).await, "nor does the dashboard");
    b.goto(&w.url("/don-vi")).await;
    assert!(b.exists("a[href='/don-vi/cbc']").await, "hung's own site is listed");
    assert!(!b.exists("a[href='/don-vi/ais']").await, "ais is not listed");

    // A form of hung's own site pointed at ais, with hung's valid CSRF token: refused, nothing written.
    b.goto(&w.url("/don-vi/cbc/sua")).await;
    b.fill("#slug", "tin-tuc/khong-phai-cua-minh").await;
    b.fill("#title", "Không phải của mình").await;
    b.fill("#body", "Nội dung chen ngang.").await;
    b.execute("document.querySelector('form[action=\"/don-vi/cbc/sua\"]').action = '/don-vi/ais/sua';", vec![]).await;
    click(&b, "button[name='hanh-dong'][value='luu']").await;
    assert!(b.title().await.starts_with("Không có quyền"), "saving into ais: {}", b.title().await);
    assert!(!w.site_file("ais", "content/tin-tuc/khong-phai-cua-minh.md").exists(), "nothing written into ais");

    // The same with the delete, upload and submit forms of cbc's page.
    let files = w.api_json("GET", "/api/sites/ais/files", "", 200).await;
    let sha = files["files"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["path"] == "content/lien-he.md"))
        .and_then(|f| f["sha256"].as_str())
        .unwrap_or_else(|| panic!("content/lien-he.md in {files}"))
        .to_string();
    b.goto(&w.url("/don-vi/cbc")).await;
    let retarget = "const f = document.querySelector(arguments[0]); f.action = arguments[1];
        for (const [k, v] of Object.entries(arguments[2])) f.querySelector(`input[name=${k}]`).value = v;";
    let delete = json!({ "path": "content/lien-he.md", "sha256": sha });
    b.execute(retarget, vec![json!("form[action='/don-vi/cbc/xoa']"), json!("/don-vi/ais/xoa"), delete]).await;
    b.submit_and_load("form[action='/don-vi/ais/xoa']").await;
    assert!(b.title().await.starts_with("Không có quyền"), "deleting from ais: {}", b.title().await);
    assert!(w.site_file("ais", "content/lien-he.md").is_file(), "nothing deleted from ais");

    b.goto(&w.url("/don-vi/cbc")).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let png = tmp.path().join("chen-ngang.png");
    std::fs::write(&png, PNG).expect("write the image");
    b.upload("#file", &png).await;
    b.execute(retarget, vec![json!("form[action='/don-vi/cbc/tai-len']"), json!("/don-vi/ais/tai-len"), json!({})])
        .await;
    b.submit_and_load("form[action='/don-vi/ais/tai-len']").await;
    assert!(b.title().await.starts_with("Không có quyền"), "uploading into ais: {}", b.title().await);
    assert!(!w.site_file("ais", "static/anh/chen-ngang.png").exists(), "nothing uploaded into ais");

    // cbc's page offers "Gửi duyệt" only with changes: make one, then point it at ais.
    write_file(&w.site_file("cbc", "content/tin-tuc/thu.md"), "+++\ntitle = \"Thử\"\n+++\n\nThử.\n");
    b.goto(&w.url("/don-vi/cbc")).await;
    b.fill("#message", "gửi hộ ais").await;
    b.execute(retarget, vec![json!("form[action='/don-vi/cbc/gui-duyet']"), json!("/don-vi/ais/gui-duyet"), json!({})])
        .await;
    b.submit_and_load("form[action='/don-vi/ais/gui-duyet']").await;
    assert!(!here(&b, &w).await.starts_with("/duyet/"), "no submission made for ais: {}", here(&b, &w).await);
    let listed = w.api_json("GET", "/api/submissions?site=ais", "", 200).await;
    assert_eq!(listed["submissions"].as_array().map(Vec::len), Some(1), "only lan's submission: {listed}");

    let resp = w.post_form(Some(&cookie), &format!("/duyet/{id}/approve"), "csrf=x").await;
    assert_eq!(resp.status, 403, "a POST with a wrong token is refused either way");
    let s = w.api_json("GET", &format!("/api/submissions/{id}"), "", 200).await;
    assert_eq!(s["state"], "submitted", "nothing decided: {s}");

    // The audit log shows hung only his sites' rows (docs/web.md), though ais has some.
    let audit = w.api_json("GET", "/api/audit", "", 200).await;
    let ais_rows = audit["audit"].as_array().map_or(0, |rows| rows.iter().filter(|r| r["label"] == "ais").count());
    assert!(ais_rows > 0, "the audit log has rows for ais: {audit}");
    b.goto(&w.url("/nhat-ky")).await;
    let rows = b
        .execute(
            "return [...document.querySelectorAll('main table tbody tr')].map(r => r.cells[3].textContent);",
            vec![],
        )
        .await;
    let labels: Vec<&str> = rows.as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    assert!(labels.iter().all(|l| *l == "cbc"), "hung sees only cbc's audit rows, not {labels:?}");
}

/// An `integration` user may not use the interface (docs/web.md: 403), and the sign-out
/// button the 403 page shows must still end the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_integration_user_is_refused_and_can_still_sign_out() {
    let Some((w, b)) = begin(false, &[TICHHOP]).await else { return };
    b.goto(&w.url("/dang-nhap")).await;
    submit_sign_in(&b, "tichhop", PASSWORD).await;
    let title = b.title().await;
    assert!(title.starts_with("Không dùng được giao diện này"), "an integration user is refused: {title}");
    let cookie = session_cookie(&b).await;
    for path in ["/", "/duyet", "/don-vi/ais", "/thanh-vien"] {
        let resp = match &cookie {
            Some(c) => w.get_as(c, path).await,
            None => break,
        };
        assert_eq!(resp.status, 403, "{path} for an integration user:\n{}", resp.text());
    }
    if cookie.is_some() && b.exists("form[action='/dang-xuat']").await {
        b.submit_and_load("form[action='/dang-xuat']").await;
        let at = here(&b, &w).await;
        let live = w.get_as(cookie.as_deref().unwrap_or_default(), "/").await.status != 303;
        assert!(
            at.starts_with("/dang-nhap") && !live,
            "BUG: the 403 page of an integration user shows \"Đăng xuất\", but pressing it answers {:?} at {at} \
             and the session {} (src/control/web/mod.rs refuses integration users before routing \
             POST /dang-xuat, so their session can only expire); expected: signed out, on /dang-nhap",
            b.title().await,
            if live { "still opens pages" } else { "is gone" }
        );
    }
}

/// A form with errors is shown again with the values kept, a summary linking to each field,
/// the fields marked and a title starting with `Lỗi: ` (docs/web.md); uploads are refused
/// when the content is not what the name says, SVG always, and a taken name is never
/// overwritten; a page saved by someone else meanwhile is not overwritten either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_errors_keep_the_values_and_refused_writes_change_nothing() {
    let Some((w, b)) = begin(false, &[LAN]).await else { return };
    sign_in(&b, &w, "lan").await;
    // Fields the summary names but the page does not mark, collected for one message.
    let mut unmarked: Vec<String> = Vec::new();

    // The edit form: a path that gives no slug and no title.
    b.goto(&w.url("/don-vi/ais/sua")).await;
    b.fill("#slug", "???").await;
    b.fill("#title", "").await;
    b.fill("#body", "Đoạn văn phải được giữ lại.").await;
    click(&b, "button[name='hanh-dong'][value='luu']").await;
    let title = b.title().await;
    assert!(title.starts_with("Lỗi: "), "the edit form with errors: {title}");
    for field in ["slug", "title"] {
        assert!(b.exists(&format!(".error-summary a[href='#{field}']")).await, "the summary links to #{field}");
        assert!(b.exists(&format!("#{field}")).await, "#{field} exists for the link");
        if !b.exists(&format!(".has-error #{field}")).await {
            unmarked.push(format!("edit form: #{field}"));
        }
    }
    assert_eq!(b.value("#slug").await, "???", "the path is kept");
    assert_eq!(b.value("#body").await, "Đoạn văn phải được giữ lại.", "the body is kept");
    let ais = w.site_file("ais", "content");
    let count = |dir: &Path| walk(dir).len();
    assert_eq!(count(&ais), count(&repo().join("tenants/ais/content")), "nothing written");

    // Uploads: none chosen, a name that lies about the content, SVG.
    b.goto(&w.url("/don-vi/ais")).await;
    b.submit_and_load("form[action='/don-vi/ais/tai-len']").await;
    assert!(b.title().await.starts_with("Lỗi: "), "an upload without a file: {}", b.title().await);
    assert!(b.find_text(".error-summary").await.contains("Chọn một tệp"), "{}", b.find_text("main").await);
    assert!(b.exists(".error-summary a[href='#file']").await, "the summary links to the file field");
    if !b.exists(".has-error #file").await {
        unmarked.push("upload form: #file".into());
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("bao-cao.png", b"<html><script>alert(1)</script>".as_slice(), "không phải là tệp .png"),
        ("logo.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".as_slice(), "không được phép"),
    ];
    for (name, bytes, why) in cases {
        let file = tmp.path().join(name);
        std::fs::write(&file, bytes).expect("write the file");
        b.goto(&w.url("/don-vi/ais")).await;
        b.upload("#file", &file).await;
        b.submit_and_load("form[action='/don-vi/ais/tai-len']").await;
        assert!(b.title().await.starts_with("Lỗi: "), "{name}: {}", b.title().await);
        let summary = b.find_text(".error-summary").await;
        assert!(summary.contains(why), "{name}: the summary says {why:?}: {summary}");
        assert!(!w.site_file("ais", "static/anh").join(name).exists(), "{name} not written");
        assert!(!w.site_file("ais", "static/tai-lieu").join(name).exists(), "{name} not written");
    }

    // The same name twice: the second is refused, the first kept.
    let png = tmp.path().join("so-do.png");
    std::fs::write(&png, PNG).expect("write the image");
    b.goto(&w.url("/don-vi/ais")).await;
    b.upload("#file", &png).await;
    b.submit_and_load("form[action='/don-vi/ais/tai-len']").await;
    assert_eq!(here(&b, &w).await, "/don-vi/ais?tb=uploaded", "{}", b.text().await);
    let mut other = PNG.to_vec();
    other.extend_from_slice(b"another version");
    std::fs::write(&png, &other).expect("rewrite the image");
    b.upload("#file", &png).await;
    b.submit_and_load("form[action='/don-vi/ais/tai-len']").await;
    assert!(b.title().await.starts_with("Lỗi: "), "the same name again: {}", b.title().await);
    assert!(b.find_text(".error-summary").await.contains("Đã có tệp static/anh/so-do.png"), "{}", b.text().await);
    assert_eq!(std::fs::read(w.site_file("ais", "static/anh/so-do.png")).ok().as_deref(), Some(PNG), "not overwritten");

    // Someone else saves the page between opening and saving it: refused, the text kept.
    b.goto(&w.url("/don-vi/ais/sua?duong-dan=content%2Fgioi-thieu.md")).await;
    assert_eq!(b.value("#title").await, "Giới thiệu", "the form opens with the page's title");
    let theirs = "+++\ntitle = \"Giới thiệu (bản của người khác)\"\n+++\n\nĐã sửa ở nơi khác.\n";
    write_file(&w.site_file("ais", "content/gioi-thieu.md"), theirs);
    b.fill("#title", "Giới thiệu (bản của tôi)").await;
    b.fill("#body", "Nội dung tôi vừa viết.").await;
    click(&b, "button[name='hanh-dong'][value='luu']").await;
    assert!(b.title().await.starts_with("Lỗi: "), "a conflicting save: {}", b.title().await);
    assert!(b.find_text(".error-summary").await.contains("đã bị người khác sửa"), "{}", b.text().await);
    assert_eq!(b.value("#title").await, "Giới thiệu (bản của tôi)", "the editor's title is kept");
    assert_eq!(b.value("#body").await, "Nội dung tôi vừa viết.", "the editor's text is kept");
    let now = std::fs::read_to_string(w.site_file("ais", "content/gioi-thieu.md")).expect("read the page");
    assert_eq!(now, theirs, "the other save is not overwritten");

    assert!(
        unmarked.is_empty(),
        "BUG: a form with errors must mark its fields (docs/web.md: \"the fields marked\"); these are only \
         listed in the summary: {unmarked:?}. The edit form: save_page in src/control/web/mod.rs renders edit.html \
         without `bad` (edit.html marks a field when bad.<field> is set; register_page passes it). The upload \
         field: site.html has no has-error wrapper for #file."
    );
}

/// Every file under `dir`, recursively.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Deleting a page is a change like any other: still served until its deletion is
/// approved. A submission whose file changed after it was sent is flagged to the approver,
/// and approving it publishes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_waits_for_approval_and_a_stale_submission_is_flagged() {
    let Some((w, b)) = begin(false, &[LAN, MINH]).await else { return };
    assert_eq!(w.public(AIS, "/lien-he/").await.status, 200, "the demo's contact page is published");

    sign_in(&b, &w, "lan").await;
    b.goto(&w.url("/don-vi/ais")).await;
    click(&b, "button[aria-label='Xoá content/lien-he.md']").await;
    assert_eq!(here(&b, &w).await, "/don-vi/ais?tb=deleted", "{}", b.text().await);
    let changes = b.find_text("table").await;
    assert!(changes.lines().any(|l| l.contains("content/lien-he.md") && l.contains("xoá")), "{changes}");
    assert!(!w.site_file("ais", "content/lien-he.md").exists(), "deleted from the working copy");
    w.settle().await;
    assert_eq!(w.public(AIS, "/lien-he/").await.status, 200, "the page stays until the deletion is approved");
    b.fill("#message", "Gỡ trang liên hệ cũ").await;
    b.submit_and_load("form[action='/don-vi/ais/gui-duyet']").await;
    let deletion = submission_id(&here(&b, &w).await);

    // A second submission, then its file edited again: stale.
    let stale = w.api_submission("lan").await;
    write_file(&w.site_file("ais", API_PAGE), &API_PAGE_TEXT.replace("giả danh", "mạo danh"));

    b.delete_all_cookies().await;
    sign_in(&b, &w, "minh").await;
    b.goto(&w.url(&format!("/duyet/{deletion}"))).await;
    assert!(b.find_text("table").await.contains("xoá"), "the detail shows a deletion:\n{}", b.text().await);
    b.submit_and_load(&format!("form[action='/duyet/{deletion}/approve']")).await;
    assert_eq!(here(&b, &w).await, format!("/duyet/{deletion}?tb=approved"), "{}", b.text().await);
    let (page, took) = w.public_until("/lien-he/", PROPAGATION, |r| r.status == 404).await;
    assert_eq!(page.status, 404, "the deleted page is still served {took:?} after the approval");

    b.goto(&w.url(&format!("/duyet/{stale}"))).await;
    let warned = b.find_text("main").await.contains("Tệp đã thay đổi sau khi gửi");
    b.submit_and_load(&format!("form[action='/duyet/{stale}/approve']")).await;
    let title = b.title().await;
    assert!(title.starts_with("Bài đã cũ"), "approving a stale submission: {title}\n{}", b.text().await);
    assert!(b.find_text("main").await.contains(API_PAGE), "the message names the file");
    let s = w.api_json("GET", &format!("/api/submissions/{stale}"), "", 200).await;
    assert_eq!(s["state"], "submitted", "a stale approval decides nothing: {s}");
    w.settle().await;
    assert_eq!(w.public(AIS, "/tin-tuc/bai-moi/").await.status, 404, "nothing published");
    assert!(
        warned,
        "BUG: the detail of a stale submission does not say its file changed after it was sent: \
         submission.html shows \"Tệp đã thay đổi sau khi gửi (…)\" when `stale` is set, but `submission` in \
         src/control/web/mod.rs never sets it, so the approver learns it only from the 409 after pressing \
         \"Duyệt và đăng\""
    );
}

// 5. CSRF.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let Some((w, b)) = begin(false, &[QUAN]).await else { return };
    sign_in(&b, &w, "quan").await;
    let cookie = session_cookie(&b).await.expect("a session");
    let suspend = "form[action='/thanh-vien/cbc/suspend']";

    // The token removed, then replaced by another of the same shape.
    let tamper = [
        ("removed", format!("document.querySelector(\"{suspend} input[name=csrf]\").remove();")),
        ("forged", format!("document.querySelector(\"{suspend} input[name=csrf]\").value = '0'.repeat(64);")),
    ];
    for (how, script) in &tamper {
        b.goto(&w.url("/thanh-vien/cbc")).await;
        assert_eq!(b.find_text(".tag").await, "đang hoạt động", "cbc starts active");
        b.fill("#reason-suspend", "thử giả mạo").await;
        b.execute(script, vec![]).await;
        b.submit_and_load(suspend).await;
        let title = b.title().await;
        assert!(title.starts_with("Thiếu mã chống giả mạo"), "token {how}: the 403 page, not {title:?}");
        assert!(b.find_text("main").await.contains("Biểu mẫu thiếu mã chống giả mạo (CSRF)"), "token {how}");
        assert_eq!(w.member_status("cbc").await, "active", "token {how}: cbc is still active");
    }
    let resp = w.post_form(Some(&cookie), "/thanh-vien/cbc/suspend", "reason=kh%C3%B4ng+m%C3%A3").await;
    assert_eq!(resp.status, 403, "the refusal is a 403:\n{}", resp.text());
    assert!(resp.text().contains("Thiếu mã chống giả mạo"));
    assert_eq!(w.member_status("cbc").await, "active");
    assert_eq!(w.public("cbc.mic.gov.vn", "/").await.status, 200, "cbc is still served");

    // Signing out without the token is refused too: the session lives on.
    b.goto(&w.url("/")).await;
    b.execute("document.querySelector(\"form[action='/dang-xuat'] input[name=csrf]\").remove();", vec![]).await;
    b.submit_and_load("form[action='/dang-xuat']").await;
    assert!(b.title().await.starts_with("Thiếu mã chống giả mạo"), "sign-out without a token: {}", b.title().await);
    assert_eq!(w.get_as(&cookie, "/").await.status, 200, "the session was not ended");

    // With its token the same form works: the refusals above were the token's doing.
    b.goto(&w.url("/thanh-vien/cbc")).await;
    b.fill("#reason-suspend", "tạm dừng để kiểm tra").await;
    b.submit_and_load(suspend).await;
    assert_eq!(here(&b, &w).await, "/thanh-vien/cbc?tb=status", "{}", b.text().await);
    assert_eq!(b.find_text(".tag").await, "tạm dừng");
    assert_eq!(w.member_status("cbc").await, "suspended");
}

// 6 and 7. axe-core on every page, and the screenshots.

/// Every page of the interface in the states worth seeing, each checked with axe-core; the
/// violations of all pages are reported together at the end, after the screenshots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_and_the_screenshots_are_saved() {
    let Some((w, b)) = begin(true, &[QUAN, LAN]).await else { return };
    let id = w.api_submission("lan").await;
    let mut found: Vec<String> = Vec::new();
    let mut shots: Vec<PathBuf> = Vec::new();

    /// Check the current page: it shows `expect` (else it did not render as it should, and
    /// axe would judge the wrong page), and axe-core finds nothing. Problems are collected,
    /// so that one broken page does not hide the others.
    async fn check(b: &Browser, w: &World, found: &mut Vec<String>, name: &str, expect: &str) {
        let text = b.text().await;
        let url = b.current_url().await;
        if !text.contains(expect) {
            let log = w.server.log_text();
            let log: Vec<&str> = log.lines().filter(|l| l.contains("admin interface")).collect();
            found.push(format!(
                "{name} ({url}) does not show {expect:?}, so axe could not judge it; it shows:\n{text}\n\
                 the server logged:\n{}",
                log.join("\n")
            ));
            return;
        }
        let violations = b.axe().await;
        if !violations.is_empty() {
            found.push(format!("{name} ({url}):\n{}", describe(&violations)));
        }
    }

    b.goto(&w.url("/dang-nhap")).await;
    check(&b, &w, &mut found, "sign-in", "Đăng nhập").await;
    shots.push(b.screenshot("signin").await);
    submit_sign_in(&b, "quan", "mat-khau-sai-hoan-toan").await;
    check(&b, &w, &mut found, "sign-in with an error", "Sai tên đăng nhập").await;
    submit_sign_in(&b, "quan", PASSWORD).await;
    b.goto(&w.url("/dns")).await;
    check(&b, &w, &mut found, "DNS before any check", "Chưa có lần kiểm tra nào.").await;

    // Now a DNS check against NSD: the grid and the dashboard have something to show.
    let report = w.api_json("POST", "/api/dns/check?wait=true", "", 200).await;
    let statuses: Vec<&str> = report["members"]
        .as_array()
        .map(|ms| ms.iter().filter_map(|m| m["status"].as_str()).collect())
        .unwrap_or_default();
    // Members that pass apart from IPv6 (no AAAA in these zones) are warnings.
    assert!(statuses.contains(&"warning") && statuses.contains(&"failed"), "a mixed DNS report: {report}");

    b.goto(&w.url("/")).await;
    check(&b, &w, &mut found, "dashboard", &format!("#{id}")).await;
    shots.push(b.screenshot("dashboard").await);
    b.goto(&w.url("/duyet")).await;
    check(&b, &w, &mut found, "queue", "Bài mới: cảnh báo lừa đảo").await;
    b.goto(&w.url(&format!("/duyet/{id}"))).await;
    check(&b, &w, &mut found, "submission detail", "Duyệt và đăng").await;
    shots.push(b.screenshot("approval-detail").await);
    b.goto(&w.url("/thanh-vien")).await;
    check(&b, &w, &mut found, "members", "ais.mic.gov.vn").await;
    b.goto(&w.url("/thanh-vien/ais")).await;
    check(&b, &w, &mut found, "member detail", "Cục An toàn thông tin").await;
    b.goto(&w.url("/thanh-vien/dang-ky")).await;
    check(&b, &w, &mut found, "register", "Đăng ký thành viên").await;
    b.fill("#label", "ais").await;
    b.fill("#name_vi", "Cục An toàn thông tin").await;
    click(&b, "button[name='hanh-dong'][value='dang-ky']").await;
    check(&b, &w, &mut found, "register with errors", "taken").await;
    shots.push(b.screenshot("register-errors").await);
    b.fill("#label", "vụ-pc").await;
    click(&b, "button[name='hanh-dong'][value='kiem-tra']").await;
    check(&b, &w, &mut found, "register with a name check", "Gợi ý").await;
    b.goto(&w.url("/don-vi")).await;
    check(&b, &w, &mut found, "sites", "ais").await;
    b.goto(&w.url("/don-vi/ais")).await;
    check(&b, &w, &mut found, "site page", API_PAGE).await;
    shots.push(b.screenshot("site").await);
    b.goto(&w.url("/don-vi/ais/sua?duong-dan=content%2Fgioi-thieu.md")).await;
    check(&b, &w, &mut found, "edit form of a page", "Sửa trang content/gioi-thieu.md").await;
    b.goto(&w.url("/don-vi/ais/sua")).await;
    check(&b, &w, &mut found, "new page form", "Trang mới của ais").await;
    b.fill("#slug", "tin-tuc/xem-thu").await;
    b.fill("#title", "Xem thử").await;
    b.fill("#body", "Đoạn **đậm**.\n\n## Mục\n\n- một\n- hai").await;
    click(&b, "button[name='hanh-dong'][value='xem-truoc']").await;
    check(&b, &w, &mut found, "edit form with a preview", "Xem trước").await;
    shots.push(b.screenshot("edit-preview").await);
    b.fill("#title", "").await;
    click(&b, "button[name='hanh-dong'][value='xem-truoc']").await;
    check(&b, &w, &mut found, "edit form with errors", "Cần có tiêu đề.").await;
    b.goto(&w.url("/nhat-ky")).await;
    check(&b, &w, &mut found, "audit", "Nhật ký").await;
    b.goto(&w.url("/chung-chi")).await;
    check(&b, &w, &mut found, "certificates", "Chứng chỉ").await;
    b.goto(&w.url("/dns")).await;
    check(&b, &w, &mut found, "DNS grid", "Lần kiểm tra gần nhất").await;
    if b.exists("table.grid").await && !b.exists("table.grid td.cell.s-failed").await {
        found.push("DNS grid: no failed cell (table.grid td.cell.s-failed) although cbc's check failed".into());
    }
    shots.push(b.screenshot("dns-grid").await);
    b.goto(&w.url("/nguoi-dung")).await;
    check(&b, &w, &mut found, "users", "Trần Thị Lan").await;
    b.goto(&w.url("/khong-co-trang-nay")).await;
    check(&b, &w, &mut found, "not found", "Không có trang này.").await;

    // axe runs under the interface's CSP and can fail: a field without a label is caught.
    b.execute("document.querySelector('main').insertAdjacentHTML('beforeend', '<input type=text>');", vec![]).await;
    let caught = b.axe().await;
    assert!(
        caught.iter().any(|v| v["id"] == "label"),
        "axe-core should report the unlabelled field: {}",
        describe(&caught)
    );

    for shot in &shots {
        let bytes = std::fs::read(shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 1000, "{} is not a PNG", shot.display());
        // IHDR: width and height, big-endian, at bytes 16..24.
        let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
        assert!(width >= 800, "{}: a screenshot of the viewport, {width} px wide", shot.display());
    }
    for name in ["dashboard", "approval-detail", "dns-grid"] {
        assert!(repo().join(format!("target/screenshots/{name}.png")).is_file(), "target/screenshots/{name}.png");
    }
    assert!(found.is_empty(), "{} page(s) failed (axe-core or not rendered):\n\n{}", found.len(), found.join("\n\n"));
}

// 8. Lock-out.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_wrong_passwords_lock_the_user_out_even_with_the_right_one() {
    let Some((w, b)) = begin(false, &[LAN, MINH]).await else { return };
    b.goto(&w.url("/dang-nhap")).await;
    for attempt in 1..=5 {
        submit_sign_in(&b, "lan", &format!("sai-mat-khau-lan-{attempt}")).await;
        assert_eq!(here_path(&b, &w).await, "/dang-nhap", "attempt {attempt}");
        let summary = b.find_text(".error-summary").await;
        if attempt < 5 {
            assert!(summary.contains("Sai tên đăng nhập hoặc mật khẩu"), "attempt {attempt}: {summary}");
        }
    }
    submit_sign_in(&b, "lan", PASSWORD).await;
    assert_eq!(here_path(&b, &w).await, "/dang-nhap", "locked out: the right password does not sign in");
    assert!(b.title().await.starts_with("Lỗi: "), "title: {}", b.title().await);
    let summary = b.find_text(".error-summary").await;
    assert!(summary.contains("tạm khoá"), "the lock-out message: {summary}");
    assert_eq!(session_cookie(&b).await, None, "no session while locked out");
    b.goto(&w.url("/")).await;
    assert!(here(&b, &w).await.starts_with("/dang-nhap"), "not signed in");

    let resp = w.post_form(None, "/dang-nhap", &format!("username=lan&password={PASSWORD}")).await;
    assert_eq!(resp.status, 429, "the lock-out is a 429:\n{}", resp.text());
    assert_eq!(resp.header("retry-after"), "900", "for 15 minutes");
    assert!(resp.text().contains("tạm khoá"));
    assert!(resp.header("set-cookie").is_empty(), "no session cookie: {:?}", resp.headers);

    // The lock is the user's, not the browser's: another user signs in.
    submit_sign_in(&b, "minh", PASSWORD).await;
    assert_eq!(here(&b, &w).await, "/", "minh is not locked out");
}
