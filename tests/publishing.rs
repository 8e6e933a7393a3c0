//! Publishing approval end to end (docs/publishing.md), against the real binary: `cong serve`
//! on a private copy of the demo with `[publishing] approval = "required"`, users made with
//! `cong user add`, the admin API called with their tokens as a browser or script would,
//! `cong content` as other processes, and the public listener checked for what a visitor
//! sees. The working copy (`tenants/<label>`) is never served; only what is approved is.
//!
//! A "stays unpublished" check never rests on a fixed sleep alone: `vnnic` is exempt from
//! approval, so an edit to it is served straight from its folder; writing one after the edit
//! under test and waiting until it is served shows the watcher has taken in both (see
//! [`World::settle`]).

use crate::common::process::Server;
use crate::common::registry::{self, cong_command, error_code, run_with_stdin, Out};
use crate::common::{copy_demo, get, request, Resp};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The break-glass token of `[admin] token_env` (acts as the admin `env-token`).
const TOKEN: &str = "publishing-test-token";
const AIS: &str = "ais.mic.gov.vn";
/// The site exempt from approval that shows when the watcher has caught up.
const WITNESS: &str = "vnnic";
/// Approval on (not the harness default), short debounce and registry poll.
const MORE: &str = "[reload]\ndebounce_ms = 50\nregistry_poll_ms = 50\n\n\
                    [publishing]\napproval = \"required\"\nexempt = [\"vnnic\"]\n";
/// Every user's password (at least 12 characters).
const PASSWORD: &str = "mat-khau-du-dai-2026";
/// How long an approval made over the API may take to be served (it waits for the build).
const SERVED: Duration = Duration::from_secs(1);
/// How long anything made by another process (the CLI, the scheduler) may take to be served.
const PROPAGATION: Duration = Duration::from_secs(5);

/// A new page of `ais`, served at `/tin-tuc/bai-moi/` once approved.
const NEW_PAGE: &str = "content/tin-tuc/bai-moi.md";
const NEW_PAGE_TEXT: &str = "+++\ntitle = \"Cảnh báo chiến dịch lừa đảo mới\"\ndate = 2026-11-30\n+++\n\n\
                             Nội dung bài mới: cảnh báo chiến dịch giả danh cơ quan thuế.\n";
/// A published page of `ais` and one sentence of it.
const ABOUT: &str = "content/gioi-thieu.md";
const ABOUT_OLD: &str = "chính đặt tại thành phố Hà Nội.";
const ABOUT_NEW: &str = "chính đặt tại Tòa nhà Cánh Diều, quận Cầu Giấy.";

/// One test's world: a temp folder with a copy of the demo, `cong.toml` and `data/`, and the
/// `cong serve` process on it.
struct World {
    dir: tempfile::TempDir,
    server: Server,
    /// Numbers the witness edits.
    witness: AtomicU32,
}

impl World {
    fn start() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_demo(dir.path());
        let server = Server::start(dir.path(), TOKEN, MORE);
        World { dir, server, witness: AtomicU32::new(0) }
    }

    /// Stop `cong serve` (SIGKILL) and start it again on the same folder.
    fn restart(&mut self) {
        let _ = self.server.child.kill();
        let _ = self.server.child.wait();
        self.server = Server::start(self.dir.path(), TOKEN, MORE);
    }

    fn site_file(&self, label: &str, rel: &str) -> PathBuf {
        self.dir.path().join("tenants").join(label).join(rel)
    }

    /// Write a file of the working copy of `ais`.
    fn write(&self, rel: &str, text: &str) {
        write_file(&self.site_file("ais", rel), text);
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.site_file("ais", rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    fn registry_path(&self) -> PathBuf {
        self.dir.path().join("data/registry.db")
    }

    /// `cong --config <this cong.toml> args...`, run to its end.
    fn cli(&self, args: &[&str]) -> Out {
        registry::cli(&self.server.config, args)
    }

    /// `cong user add NAME --role ROLE [--site L]... --password-stdin`, then `cong user token
    /// NAME`: the token it printed once.
    fn user(&self, name: &str, role: &str, sites: &[&str]) -> String {
        let config = self.server.config.to_str().expect("utf-8 temp path");
        let mut args = vec!["--config", config, "user", "add", name, "--role", role];
        for s in sites {
            args.extend(["--site", s]);
        }
        args.push("--password-stdin");
        let out = run_with_stdin(&args, &format!("{PASSWORD}\n"));
        out.expect_code(0);
        let out = self.cli(&["user", "token", name]);
        out.expect_code(0);
        let mut lines = out.stdout.lines();
        let head = lines.next().unwrap_or_default();
        assert!(head.contains(&format!("for {name}")) && head.contains("shown once"), "cong user token:\n{out}");
        let token = lines.next().unwrap_or_default().trim().to_string();
        assert!(token.starts_with("cong_"), "no token on the second line:\n{out}");
        token
    }

    /// An admin API call with `token`.
    async fn api(&self, token: &str, method: &str, path: &str, body: &str) -> Resp {
        let auth = format!("Bearer {token}");
        let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
        request(self.server.admin, method, "admin", path, &headers, body.as_bytes().to_vec()).await
    }

    /// An admin API call that must answer `status` with JSON.
    async fn api_json(&self, token: &str, method: &str, path: &str, body: &str, status: u16) -> Value {
        let resp = self.api(token, method, path, body).await;
        assert_eq!(resp.status, status, "{method} {path} {body}:\n{}", resp.text());
        resp.json()
    }

    /// An admin API call that must fail with `status` and the error `code`; the error body.
    async fn api_error(&self, token: &str, method: &str, path: &str, body: &str, status: u16, code: &str) -> Value {
        let v = self.api_json(token, method, path, body, status).await;
        assert_eq!(error_code(&v), code, "{method} {path} {body}: {v}");
        v
    }

    /// `POST /api/sites/ais/submissions` with `paths`: 201 and the submission.
    async fn submit(&self, token: &str, paths: &[&str], message: &str) -> Value {
        let body = serde_json::json!({ "paths": paths, "message": message }).to_string();
        let s = self.api_json(token, "POST", "/api/sites/ais/submissions", &body, 201).await;
        assert_eq!(s["state"], "submitted", "{s}");
        assert!(s["id"].as_i64().is_some(), "a submission has an id: {s}");
        s
    }

    /// `POST /api/submissions/{id}/{action}` with `body`.
    async fn decide(&self, token: &str, id: i64, action: &str, body: &str) -> Resp {
        self.api(token, "POST", &format!("/api/submissions/{id}/{action}"), body).await
    }

    /// `GET /api/submissions/{id}` (with the break-glass token).
    async fn submission(&self, id: i64) -> Value {
        self.api_json(TOKEN, "GET", &format!("/api/submissions/{id}"), "", 200).await
    }

    /// `GET path` of `ais` on the public listener.
    async fn page(&self, path: &str) -> Resp {
        get(self.server.http, AIS, path).await
    }

    /// GET `path` of `ais` until `ok` holds, for at most `limit`; the answer and how long it took.
    async fn page_until(&self, path: &str, limit: Duration, ok: impl Fn(&Resp) -> bool) -> (Resp, Duration) {
        let started = Instant::now();
        loop {
            let resp = self.page(path).await;
            if ok(&resp) || started.elapsed() > limit {
                return (resp, started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Edit the exempt witness site and wait until the edit is served: everything written
    /// to the site folders before this call has then been seen by the watcher.
    async fn settle(&self) {
        let n = self.witness.fetch_add(1, Ordering::Relaxed) + 1;
        let mark = format!("Dấu kiểm tra số {n}.");
        let file = self.site_file(WITNESS, "content/lien-he.md");
        let original = std::fs::read_to_string(crate::common::repo().join("tenants/vnnic/content/lien-he.md"))
            .expect("the demo's vnnic/content/lien-he.md");
        write_file(&file, &format!("{original}\n\n{mark}\n"));
        let host = format!("{WITNESS}.mic.gov.vn");
        let started = Instant::now();
        loop {
            let resp = get(self.server.http, &host, "/lien-he/").await;
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
}

/// Write `text` to `path` (folders made), replacing a regular file: never through a link.
fn write_file(path: &Path, text: &str) {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        assert!(meta.is_file(), "{} is not a regular file", path.display());
    }
    std::fs::create_dir_all(path.parent().expect("a parent folder")).expect("create folders");
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// The `id` of a submission.
fn id_of(s: &Value) -> i64 {
    s["id"].as_i64().unwrap_or_else(|| panic!("no id: {s}"))
}

/// The `(path, change)` rows of `GET /api/sites/ais/changes`.
fn change_rows(changes: &Value) -> Vec<(String, String)> {
    changes["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("no changes array: {changes}"))
        .iter()
        .map(|c| (c["path"].as_str().unwrap_or_default().into(), c["change"].as_str().unwrap_or_default().into()))
        .collect()
}

/// The paths of a submission's `files`.
fn file_paths(s: &Value) -> Vec<String> {
    s["files"]
        .as_array()
        .unwrap_or_else(|| panic!("no files array: {s}"))
        .iter()
        .map(|f| f["path"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Seconds since the epoch as RFC 3339 in Viet Nam time (`+07:00`), computed here (not with
/// the crate's own calendar) so a bug there cannot cancel out.
fn rfc3339_vn(unix: u64) -> String {
    let local = i64::try_from(unix).expect("a time after 1970") + 7 * 3600;
    let (days, rem) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+07:00", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Whole seconds since the epoch, now.
fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

fn now_unix_f64() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_page_is_served_only_once_approved() {
    let w = World::start();
    let lan = w.user("lan", "contributor", &["ais"]);
    let minh = w.user("minh", "approver", &["ais"]);
    assert_eq!(w.page("/tin-tuc/").await.status, 200, "the demo's news section is published");

    w.write(NEW_PAGE, NEW_PAGE_TEXT);
    w.settle().await;
    let resp = w.page("/tin-tuc/bai-moi/").await;
    assert_eq!(resp.status, 404, "an unapproved new page must not be served:\n{}", resp.text());
    let section = w.page("/tin-tuc/").await;
    assert!(!section.text().contains("Cảnh báo chiến dịch lừa đảo mới"), "the news list must not show it yet");

    let changes = w.api_json(&lan, "GET", "/api/sites/ais/changes", "", 200).await;
    assert_eq!(change_rows(&changes), [(NEW_PAGE.to_string(), "added".to_string())], "{changes}");

    let s = w.submit(&lan, &[NEW_PAGE], "Bài mới: cảnh báo lừa đảo").await;
    assert_eq!(file_paths(&s), [NEW_PAGE], "{s}");
    assert_eq!(s["files"][0]["change"], "added", "{s}");
    assert_eq!(w.page("/tin-tuc/bai-moi/").await.status, 404, "submitted is not approved");
    let waiting = |n: usize| format!("cong_submissions_waiting{{site=\"ais\"}} {n}");
    let metrics = w.api(TOKEN, "GET", "/metrics", "").await.text();
    assert!(metrics.lines().any(|l| l == waiting(1)), "one submission waits:\n{metrics}");

    let resp = w.decide(&minh, id_of(&s), "approve", "").await;
    assert_eq!(resp.status, 200, "approve:\n{}", resp.text());
    assert_eq!(resp.json()["state"], "approved", "{}", resp.text());
    let (page, took) = w.page_until("/tin-tuc/bai-moi/", SERVED, |r| r.status == 200).await;
    assert_eq!(page.status, 200, "the approved page is not served {took:?} after the approval:\n{}", page.text());
    assert!(page.text().contains("giả danh cơ quan thuế"), "the page shows its text:\n{}", page.text());
    let changes = w.api_json(&minh, "GET", "/api/sites/ais/changes", "", 200).await;
    assert!(change_rows(&changes).is_empty(), "nothing left to submit once published: {changes}");
    let metrics = w.api(TOKEN, "GET", "/metrics", "").await.text();
    assert!(!metrics.contains("cong_submissions_waiting{site=\"ais\"}"), "none waits once decided:\n{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_is_previewed_before_approval_and_served_after() {
    let w = World::start();
    let lan = w.user("lan", "contributor", &["ais"]);
    let minh = w.user("minh", "approver", &["ais"]);
    let before = w.page("/gioi-thieu/").await;
    assert_eq!(before.status, 200);
    assert!(before.text().contains(ABOUT_OLD), "the published page has the sentence: {ABOUT_OLD}");

    let text = w.read(ABOUT);
    assert!(text.contains(ABOUT_OLD), "the demo's {ABOUT} changed; update the test");
    w.write(ABOUT, &text.replace(ABOUT_OLD, ABOUT_NEW));
    w.settle().await;
    let resp = w.page("/gioi-thieu/").await;
    assert!(
        resp.text().contains(ABOUT_OLD) && !resp.text().contains(ABOUT_NEW),
        "an unapproved edit must not be served:\n{}",
        resp.text()
    );
    let changes = w.api_json(&lan, "GET", "/api/sites/ais/changes", "", 200).await;
    assert_eq!(change_rows(&changes), [(ABOUT.to_string(), "modified".to_string())], "{changes}");

    let s = w.submit(&lan, &[ABOUT], "Sửa địa chỉ trụ sở").await;
    let id = id_of(&s);
    let detail = w.submission(id).await;
    let diff = detail["diffs"][0]["diff"].as_str().unwrap_or_default();
    assert!(diff.contains(ABOUT_NEW), "the reviewer's diff shows the new sentence: {detail}");

    // The approver sees the page as it would be; the public still sees the published one.
    let preview = w.api(&minh, "GET", &format!("/api/sites/ais/preview/gioi-thieu/?submission={id}"), "").await;
    assert_eq!(preview.status, 200, "preview:\n{}", preview.text());
    assert!(preview.text().contains(ABOUT_NEW), "the preview shows the new text:\n{}", preview.text());
    assert!(!preview.text().contains(ABOUT_OLD), "the preview shows the edit, not the old text");
    let resp = w.page("/gioi-thieu/").await;
    assert!(!resp.text().contains(ABOUT_NEW), "a preview publishes nothing:\n{}", resp.text());

    let resp = w.decide(&minh, id, "approve", "").await;
    assert_eq!(resp.status, 200, "approve:\n{}", resp.text());
    let (page, took) = w.page_until("/gioi-thieu/", SERVED, |r| r.text().contains(ABOUT_NEW)).await;
    assert!(page.text().contains(ABOUT_NEW), "not served {took:?} after the approval:\n{}", page.text());
    assert!(!page.text().contains(ABOUT_OLD), "the old sentence is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approving_a_submission_whose_file_changed_since_is_stale_and_publishes_nothing() {
    let w = World::start();
    let lan = w.user("lan", "contributor", &["ais"]);
    let minh = w.user("minh", "approver", &["ais"]);
    let text = w.read(ABOUT);
    w.write(ABOUT, &text.replace(ABOUT_OLD, ABOUT_NEW));
    let s = w.submit(&lan, &[ABOUT], "Sửa địa chỉ").await;
    let id = id_of(&s);
    // Edited again after submitting: what the approver reviewed is no longer what is there.
    let third = "chính đặt tại một địa chỉ chưa ai duyệt.";
    w.write(ABOUT, &text.replace(ABOUT_OLD, third));

    let e = w.api_error(&minh, "POST", &format!("/api/submissions/{id}/approve"), "", 409, "stale").await;
    assert!(e["error"]["message"].as_str().is_some_and(|m| m.contains(ABOUT)), "the message names the file: {e}");
    assert_eq!(w.submission(id).await["state"], "submitted", "a stale approval decides nothing");
    w.settle().await;
    let page = w.page("/gioi-thieu/").await;
    assert_eq!(page.status, 200);
    for t in [ABOUT_NEW, third] {
        assert!(!page.text().contains(t), "nothing changed publicly, but the page shows {t:?}");
    }
    assert!(page.text().contains(ABOUT_OLD), "the published sentence is still served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_may_submit_approve_escalate_reject() {
    let w = World::start();
    let lan = w.user("lan", "contributor", &["ais"]);
    let hung = w.user("hung", "contributor", &["cbc"]);
    let minh = w.user("minh", "approver", &["ais"]);
    let tuan = w.user("tuan", "approver", &["ais"]);
    let khoa = w.user("khoa", "approver", &[]);
    let ha = w.user("ha", "board", &[]);
    w.write(NEW_PAGE, NEW_PAGE_TEXT);

    // A contributor of another site.
    let body = serde_json::json!({ "paths": [NEW_PAGE], "message": "không phải đơn vị mình" }).to_string();
    w.api_error(&hung, "POST", "/api/sites/ais/submissions", &body, 403, "forbidden").await;
    let listed = w.api_json(TOKEN, "GET", "/api/submissions?site=ais", "", 200).await;
    assert_eq!(listed["submissions"].as_array().map(Vec::len), Some(0), "a refused submit records nothing: {listed}");

    // An approver submits: someone else must approve it.
    let s = w.submit(&minh, &[NEW_PAGE], "Bài mới").await;
    let id = id_of(&s);
    let approve = format!("/api/submissions/{id}/approve");
    w.api_error(&minh, "POST", &approve, "", 403, "self_approval").await;

    // Escalation needs a reason, then only the board decides.
    let escalate = format!("/api/submissions/{id}/escalate");
    w.api_error(&tuan, "POST", &escalate, "", 422, "reason_required").await;
    let e = w.api_json(&tuan, "POST", &escalate, r#"{"reason": "nội dung nhạy cảm"}"#, 200).await;
    assert_eq!(e["state"], "escalated", "{e}");
    w.api_error(&khoa, "POST", &approve, "", 403, "board_required").await;
    w.api_error(&tuan, "POST", &approve, "", 403, "board_required").await;
    w.api_error(&lan, "POST", &approve, "", 403, "forbidden").await;
    assert_eq!(w.page("/tin-tuc/bai-moi/").await.status, 404, "refused approvals publish nothing");
    let a = w.api_json(&ha, "POST", &approve, "", 200).await;
    assert_eq!(a["state"], "approved", "{a}");
    assert_eq!(a["decided_by"], "ha", "{a}");
    let (page, _) = w.page_until("/tin-tuc/bai-moi/", SERVED, |r| r.status == 200).await;
    assert_eq!(page.status, 200, "the board's approval publishes");

    // Decided is decided.
    w.api_error(&tuan, "POST", &approve, "", 409, "already_decided").await;
    w.api_error(&tuan, "POST", &format!("/api/submissions/{id}/reject"), r#"{"reason":"x"}"#, 409, "already_decided")
        .await;
    w.api_error(&minh, "POST", &format!("/api/submissions/{id}/withdraw"), "", 409, "already_decided").await;

    // A rejection needs a reason.
    let text = w.read(ABOUT);
    w.write(ABOUT, &text.replace(ABOUT_OLD, ABOUT_NEW));
    let s2 = w.submit(&lan, &[ABOUT], "Sửa địa chỉ").await;
    let reject = format!("/api/submissions/{}/reject", id_of(&s2));
    let e = w.api_error(&minh, "POST", &reject, "", 422, "reason_required").await;
    assert_eq!(e["error"]["field"], "reason", "{e}");
    w.api_error(&minh, "POST", &reject, r#"{"reason": "   "}"#, 422, "reason_required").await;
    let r = w.api_json(&minh, "POST", &reject, r#"{"reason": "chưa đúng địa chỉ"}"#, 200).await;
    assert_eq!(r["state"], "rejected", "{r}");
    assert_eq!(r["reason"], "chưa đúng địa chỉ", "{r}");
    w.api_error(&tuan, "POST", &format!("/api/submissions/{}/approve", id_of(&s2)), "", 409, "already_decided").await;
    let page = w.page("/gioi-thieu/").await;
    assert!(!page.text().contains(ABOUT_NEW), "a rejected edit is not served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_submissions_are_refused_with_their_code_and_record_nothing() {
    let w = World::start();
    let lan = w.user("lan", "contributor", &["ais"]);
    let path = "/api/sites/ais/submissions";

    let e =
        w.api_error(&lan, "POST", path, r#"{"paths": [], "message": "không có gì"}"#, 422, "nothing_to_submit").await;
    assert!(e["error"]["message"].as_str().is_some_and(|m| m.contains("ais")), "{e}");
    let body = serde_json::json!({ "paths": [ABOUT], "message": "không đổi" }).to_string();
    w.api_error(&lan, "POST", path, &body, 422, "nothing_to_submit").await;

    w.write(NEW_PAGE, NEW_PAGE_TEXT);
    for at in ["2026-12-01T08:00:00", "2026-12-01 08:00", "ngày mai", "2026-13-01T08:00:00+07:00"] {
        let body = serde_json::json!({ "paths": [NEW_PAGE], "message": "hẹn giờ", "publish_at": at }).to_string();
        let e = w.api_error(&lan, "POST", path, &body, 422, "invalid_time").await;
        assert_eq!(e["error"]["field"], "publish_at", "{at}: {e}");
    }
    for bad in ["../cbc/site.toml", "content/../../x", "/etc/passwd", "content/./tin-tuc/bai-moi.md"] {
        let body = serde_json::json!({ "paths": [bad], "message": "đường dẫn lạ" }).to_string();
        let e = w.api_error(&lan, "POST", path, &body, 422, "invalid_path").await;
        assert_eq!(e["error"]["field"], "paths", "{bad}: {e}");
    }

    // Broken front matter: the same problem `cong check` gives, with the file and line.
    let broken = "content/tin-tuc/hong.md";
    w.write(broken, "+++\ntitle = \"Bài hỏng\"\ntitel = \"gõ nhầm\"\n+++\n\nNội dung.\n");
    let body = serde_json::json!({ "paths": [broken], "message": "bài hỏng" }).to_string();
    let e = w.api_error(&lan, "POST", path, &body, 422, "build_failed").await;
    let message = e["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("tenants/ais/content/tin-tuc/hong.md:3"),
        "build_failed names the file as tenants/ais/... and its line 3: {e}"
    );
    assert!(message.contains("titel"), "and the unknown key: {e}");

    let listed = w.api_json(TOKEN, "GET", "/api/submissions?site=ais", "", 200).await;
    assert_eq!(listed["submissions"].as_array().map(Vec::len), Some(0), "nothing was recorded: {listed}");
    assert_eq!(w.page("/tin-tuc/bai-moi/").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_file_unpublishes_its_page_only_once_approved() {
    let w = World::start();
    let lan = w.user("lan", "contributor", &["ais"]);
    let minh = w.user("minh", "approver", &["ais"]);
    let (rel, url) = ("content/tin-tuc/dien-tap-ung-cuu-su-co-2025.md", "/tin-tuc/dien-tap-ung-cuu-su-co-2025/");
    assert_eq!(w.page(url).await.status, 200, "the demo publishes {url}");

    std::fs::remove_file(w.site_file("ais", rel)).expect("delete the page's file");
    w.settle().await;
    let resp = w.page(url).await;
    assert_eq!(resp.status, 200, "deleting the working copy's file must not unpublish the page");
    assert!(resp.text().contains("Diễn tập thực chiến"), "{}", resp.text());
    let changes = w.api_json(&lan, "GET", "/api/sites/ais/changes", "", 200).await;
    assert_eq!(change_rows(&changes), [(rel.to_string(), "deleted".to_string())], "{changes}");

    let s = w.submit(&lan, &[rel], "Gỡ bài cũ").await;
    assert_eq!(s["files"][0]["change"], "deleted", "{s}");
    assert_eq!(w.page(url).await.status, 200, "submitted is not approved");
    let resp = w.decide(&minh, id_of(&s), "approve", "").await;
    assert_eq!(resp.status, 200, "approve:\n{}", resp.text());
    let (page, took) = w.page_until(url, SERVED, |r| r.status == 404).await;
    assert_eq!(page.status, 404, "the deleted page is still served {took:?} after the approval");
    assert_eq!(w.page("/tin-tuc/").await.status, 200, "the rest of the site stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_submission_is_published_at_its_time_without_another_command() {
    assert_eq!(rfc3339_vn(0), "1970-01-01T07:00:00+07:00");
    assert_eq!(rfc3339_vn(1_709_164_800), "2024-02-29T07:00:00+07:00");
    let w = World::start();
    let lan = w.user("lan", "contributor", &["ais"]);
    let minh = w.user("minh", "approver", &["ais"]);
    w.write(NEW_PAGE, NEW_PAGE_TEXT);

    let at = now_unix() + 5;
    let publish_at = rfc3339_vn(at);
    let body = serde_json::json!({ "paths": [NEW_PAGE], "message": "hẹn giờ", "publish_at": publish_at }).to_string();
    let s = w.api_json(&lan, "POST", "/api/sites/ais/submissions", &body, 201).await;
    assert_eq!(s["publish_at"], publish_at.as_str(), "{s}");
    let id = id_of(&s);
    let a = w.decide(&minh, id, "approve", "").await;
    assert_eq!(a.status, 200, "approve:\n{}", a.text());
    assert_eq!(a.json()["state"], "scheduled", "approved before its time: {}", a.text());
    assert!(
        now_unix_f64() < at as f64,
        "the test itself was too slow to see the page before {publish_at}; nothing is wrong with cong"
    );
    assert_eq!(w.page("/tin-tuc/bai-moi/").await.status, 404, "scheduled, not yet published");

    // Poll until served; it must not be served before its time.
    loop {
        let resp = w.page("/tin-tuc/bai-moi/").await;
        let seen_at = now_unix_f64();
        if resp.status == 200 {
            assert!(seen_at >= at as f64, "served at {seen_at}, before its publish_at {publish_at} ({at})");
            assert!(resp.text().contains("giả danh cơ quan thuế"), "{}", resp.text());
            break;
        }
        assert_eq!(resp.status, 404, "{}", resp.text());
        assert!(
            seen_at < (at + 10) as f64,
            "not served 10 s after its publish_at {publish_at}:\n{}",
            w.server.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let done = w.submission(id).await;
    assert_eq!(done["state"], "approved", "published at its time: {done}");
    assert!(done["published_at"].is_string(), "{done}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_the_published_text_is_served_not_the_working_copy() {
    let mut w = World::start();
    let lan = w.user("lan", "contributor", &["ais"]);
    let minh = w.user("minh", "approver", &["ais"]);
    let text = w.read(ABOUT);
    // An approved edit (so the published set is not the demo as it was)...
    w.write(ABOUT, &text.replace(ABOUT_OLD, ABOUT_NEW));
    let s = w.submit(&lan, &[ABOUT], "Sửa địa chỉ").await;
    assert_eq!(w.decide(&minh, id_of(&s), "approve", "").await.status, 200);
    let (page, _) = w.page_until("/gioi-thieu/", SERVED, |r| r.text().contains(ABOUT_NEW)).await;
    assert!(page.text().contains(ABOUT_NEW), "approved edit served");
    // ...then one nobody approved.
    let unapproved = "chính đặt tại nơi chưa được duyệt.";
    w.write(ABOUT, &text.replace(ABOUT_OLD, unapproved));
    w.write(NEW_PAGE, NEW_PAGE_TEXT);

    w.restart();
    let page = w.page("/gioi-thieu/").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains(ABOUT_NEW), "after the restart the published text is served:\n{}", page.text());
    assert!(!page.text().contains(unapproved), "after the restart the working copy must not be served");
    assert!(!page.text().contains(ABOUT_OLD), "nor the text from before the approval");
    assert_eq!(w.page("/tin-tuc/bai-moi/").await.status, 404, "an unapproved new page stays unpublished");
    let changes = w.api_json(&lan, "GET", "/api/sites/ais/changes", "", 200).await;
    assert_eq!(
        change_rows(&changes),
        [(ABOUT.to_string(), "modified".to_string()), (NEW_PAGE.to_string(), "added".to_string())],
        "the restart took nothing in: {changes}"
    );
}

/// The `phiên bản N` marker a page or file carries, if any.
fn version_in(text: &str) -> Option<u32> {
    let rest = &text[text.find(VERSION_MARK)? + VERSION_MARK.len()..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

const VERSION_MARK: &str = "Phiên bản kiểm thử số ";

/// What the registry file says is published for the two files, and the state of
/// submission `id`, read with a read-only connection of its own.
fn published_versions(db: &Path, files: [&str; 2], id: i64) -> ([Option<u32>; 2], String) {
    use rusqlite::{Connection, OpenFlags};
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open registry.db read-only");
    let version = |path: &str| -> Option<u32> {
        let bytes: Vec<u8> = conn
            .query_row(
                "SELECT b.bytes FROM published p JOIN blobs b ON b.sha256 = p.sha256 WHERE p.site = 'ais' AND p.path = ?1",
                [path],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("{path} is not published: {e}"));
        version_in(&String::from_utf8_lossy(&bytes))
    };
    let state: String =
        conn.query_row("SELECT state FROM submissions WHERE id = ?1", [id], |r| r.get(0)).expect("the submission");
    ([version(files[0]), version(files[1])], state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_killed_at_any_moment_publish_both_files_or_neither() {
    let mut w = World::start();
    let lan = w.user("lan", "contributor", &["ais"]);
    w.user("minh", "approver", &["ais"]);
    let files = [ABOUT, "content/lien-he.md"];
    let urls = ["/gioi-thieu/", "/lien-he/"];
    let originals = [w.read(files[0]), w.read(files[1])];
    let config = w.server.config.to_str().expect("utf-8 path").to_string();
    let db = w.registry_path();

    // What the public listener serves for both pages, once it is `want` (or the last seen).
    async fn served(w: &World, urls: [&str; 2], want: Option<u32>) -> [Option<u32>; 2] {
        let started = Instant::now();
        loop {
            let mut seen = [None; 2];
            for (i, url) in urls.iter().enumerate() {
                let resp = w.page(url).await;
                assert_eq!(resp.status, 200, "{url}");
                seen[i] = version_in(&resp.text());
            }
            if seen == [want, want] || started.elapsed() > PROPAGATION {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    let mut published: Option<u32> = None;
    let (mut completed, mut cut_short) = (0, 0);
    let mut full_run = Duration::from_millis(20);
    for n in 0..=20u32 {
        for (file, original) in files.iter().zip(&originals) {
            w.write(file, &format!("{original}\n\n{VERSION_MARK}{n}.\n"));
        }
        let s = w.submit(&lan, &files, &format!("phiên bản {n}")).await;
        let id = id_of(&s);
        let id_arg = id.to_string();
        let args = ["--config", config.as_str(), "content", "approve", id_arg.as_str(), "--as", "minh"];
        let mut child = cong_command(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn cong content approve");
        let started = Instant::now();
        if n == 0 {
            // The first runs to its end: how long an approval takes here sets the kill delays.
            let status = child.wait().expect("wait");
            assert!(status.success(), "cong content approve {id} --as minh failed: {status:?}");
            full_run = started.elapsed();
        } else {
            // From at once to twice a whole run, in 10 steps (a run's length varies a lot).
            let delay = full_run.mul_f64(f64::from(n % 11) / 5.0);
            std::thread::sleep(delay.min(Duration::from_millis(200)));
            let _ = child.kill();
            let _ = child.wait();
        }

        let (versions, state) = published_versions(&db, files, id);
        assert_eq!(versions[0], versions[1], "round {n}: the registry publishes a mix of versions ({state})");
        match state.as_str() {
            "approved" => {
                assert_eq!(versions[0], Some(n), "round {n}: approved, but the published files are older");
                completed += 1;
                published = Some(n);
            }
            "submitted" => {
                assert_eq!(versions[0], published, "round {n}: not approved, but the published files changed");
                cut_short += 1;
            }
            other => panic!("round {n}: submission {id} is {other}"),
        }
        let seen = served(&w, urls, published).await;
        assert_eq!(seen, [published, published], "round {n}: the server does not serve what the registry publishes");
    }
    eprintln!("approvals killed: {cut_short} before their commit, {completed} after (one approval takes {full_run:?})");

    {
        use rusqlite::{Connection, OpenFlags};
        let conn = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open read-only");
        let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("integrity_check");
        assert_eq!(check, "ok", "registry.db after the kills");
    }
    w.restart();
    let seen = served(&w, urls, published).await;
    assert_eq!(seen, [published, published], "after a restart the server serves the published pair");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_act_within_their_role_and_the_audit_names_them() {
    let w = World::start();
    let lan = w.user("lan", "contributor", &["ais"]);
    let minh = w.user("minh", "approver", &["ais"]);
    w.user("tuan", "approver", &["ais"]);

    let vpc = r#"{"label": "vpc", "name_vi": "Vụ Pháp chế", "membership": "shared"}"#;
    w.api_error(&lan, "POST", "/api/members", vpc, 403, "forbidden").await;
    w.api_error(&minh, "POST", "/api/members", vpc, 403, "forbidden").await;
    w.api_error(TOKEN, "GET", "/api/members/vpc", "", 404, "not_found").await;

    // One approval over the API, one with the CLI.
    w.write(NEW_PAGE, NEW_PAGE_TEXT);
    let s1 = w.submit(&lan, &[NEW_PAGE], "Bài mới").await;
    assert_eq!(w.decide(&minh, id_of(&s1), "approve", "").await.status, 200);
    let text = w.read(ABOUT);
    w.write(ABOUT, &text.replace(ABOUT_OLD, ABOUT_NEW));
    let s2 = w.submit(&lan, &[ABOUT], "Sửa địa chỉ").await;
    let out = w.cli(&["content", "approve", &id_of(&s2).to_string(), "--as", "tuan"]);
    out.expect_code(0);
    let (page, _) = w.page_until("/gioi-thieu/", PROPAGATION, |r| r.text().contains(ABOUT_NEW)).await;
    assert!(page.text().contains(ABOUT_NEW), "an approval from the CLI is served by the running server");

    let audit = w.api_json(TOKEN, "GET", "/api/audit?limit=1000", "", 200).await;
    let entries = audit["audit"].as_array().unwrap_or_else(|| panic!("no audit array: {audit}"));
    let find = |action: &str, id: i64| {
        entries
            .iter()
            .find(|e| e["action"] == action && e["detail"]["submission"] == id)
            .unwrap_or_else(|| panic!("no {action} entry for submission {id}: {audit}"))
    };
    for (id, approver) in [(id_of(&s1), "minh"), (id_of(&s2), "tuan")] {
        assert_eq!(find("submit", id)["actor"], "lan", "the submit names its author");
        let entry = find("approve", id);
        assert_eq!(entry["actor"], approver, "the approval names the approver: {entry}");
        assert_eq!(entry["label"], "ais", "{entry}");
    }
    assert!(
        entries.iter().any(|e| e["action"] == "publish_import" && e["reason"] == "imported demo"),
        "the first start published the demo as-is: {audit}"
    );

    // Disabled: the token stops working at once, and the CLI no longer acts as the user.
    w.api_json(&lan, "GET", "/api/sites/ais/changes", "", 200).await;
    w.cli(&["user", "disable", "lan"]).expect_code(0);
    let e = w.api_error(&lan, "GET", "/api/sites/ais/changes", "", 401, "unauthorized").await;
    assert!(e["error"]["message"].is_string(), "{e}");
    let again = w.read(ABOUT).replace(ABOUT_NEW, "chính đặt tại nơi khác.");
    w.write(ABOUT, &again);
    let out = w.cli(&["content", "submit", "ais", ABOUT, "--message", "x", "--as", "lan"]);
    out.expect_code(1);
    let listed = w.api_json(TOKEN, "GET", "/api/submissions?site=ais&state=submitted", "", 200).await;
    assert_eq!(listed["submissions"].as_array().map(Vec::len), Some(0), "a disabled user submits nothing: {listed}");
}
