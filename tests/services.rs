//! Online public services, dossier progress, maintenance windows and archived units
//! (docs/services.md), against the real binary: `cong serve` on a private copy of the demo,
//! the catalogue `dich-vu-cong.toml` published through approval, dossiers pushed over the
//! admin API with an `integration` user's token and imported from CSV by `cong dossier
//! import`, `cong member maintenance` and `cong member archive` as other processes, and
//! the public listener checked for what a visitor sees.

use crate::common::process::Server;
use crate::common::registry::{self, run_with_stdin, Out};
use crate::common::{copy_demo, get, request, wait_until, Resp};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const TOKEN: &str = "services-test-token";
const AIS: &str = "ais.mic.gov.vn";
const PASSWORD: &str = "mat-khau-du-dai-2026";
/// Short debounce and registry poll; approval as by default.
const MORE: &str = "[reload]\ndebounce_ms = 50\nregistry_poll_ms = 50\n";
/// Anything made by another process (the CLI) shows within this.
const PROPAGATION: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);

/// A catalogue of two services of `ais`, one fully online.
const CATALOGUE: &str = r#"[[service]]
code = "1.004227"
name = "Cấp giấy phép kinh doanh sản phẩm an toàn thông tin mạng"
sector = "An toàn thông tin mạng"
level = "full"
url = "https://dichvucong.mic.gov.vn/thu-tuc/1.004227"
fee = "Không"
processing_days = 30

[[service]]
code = "1.004230"
name = "Cấp giấy phép nhập khẩu sản phẩm an toàn thông tin mạng"
sector = "An toàn thông tin mạng"
level = "partial"
url = "https://dichvucong.mic.gov.vn/thu-tuc/1.004230"
fee = "Không"
processing_days = 10
"#;

struct World {
    dir: tempfile::TempDir,
    server: Server,
}

impl World {
    fn start(more: &str) -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_demo(dir.path());
        // The demo's own catalogue is replaced by the test's.
        std::fs::write(dir.path().join("tenants/ais/dich-vu-cong.toml"), CATALOGUE).unwrap();
        let server = Server::start(dir.path(), TOKEN, &format!("{MORE}{more}"));
        World { dir, server }
    }

    fn cli(&self, args: &[&str]) -> Out {
        registry::cli(&self.server.config, args)
    }

    /// An `integration` user of `site` and its API token.
    fn integration(&self, name: &str, site: &str) -> String {
        let config = self.server.config.to_str().unwrap();
        let args =
            ["--config", config, "user", "add", name, "--role", "integration", "--site", site, "--password-stdin"];
        run_with_stdin(&args, &format!("{PASSWORD}\n")).expect_code(0);
        let out = self.cli(&["user", "token", name]);
        out.expect_code(0);
        out.stdout.lines().nth(1).unwrap_or_default().trim().to_string()
    }

    async fn api(&self, token: &str, method: &str, path: &str, body: &str) -> Resp {
        let auth = format!("Bearer {token}");
        let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
        request(self.server.admin, method, "admin", path, &headers, body.as_bytes().to_vec()).await
    }

    async fn page(&self, host: &str, path: &str) -> Resp {
        get(self.server.http, host, path).await
    }

    /// Wait until `path` on `host` answers `status` with a body containing `text`.
    async fn until_shows(&self, host: &str, path: &str, status: u16, text: &str) -> Resp {
        let what = format!("{host}{path} answering {status} with {text:?}");
        wait_until(&what, PROPAGATION, POLL, async || {
            let r = self.page(host, path).await;
            if r.status == status && r.text().contains(text) {
                Ok(r)
            } else {
                Err(format!("{} {}", r.status, r.text().chars().take(300).collect::<String>()))
            }
        })
        .await
    }

    fn write(&self, label: &str, rel: &str, text: &str) {
        let path = self.dir.path().join("tenants").join(label).join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn dossier(service: &str, received: &str, due: &str, status: &str, completed: Option<&str>) -> String {
    let mut body =
        serde_json::json!({ "service_code": service, "received_at": received, "due_at": due, "status": status });
    if let Some(c) = completed {
        body["completed_at"] = Value::from(c);
    }
    body.to_string()
}

/// The cells of the statistics row of `service` in the table of `month` (`2026-11`).
fn statistics_row(html: &str, month: &str, service: &str) -> Vec<u32> {
    let table = html
        .split(&format!("data-month=\"{month}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no table for {month}:\n{html}"));
    let table = &table[..table.find("</table>").unwrap()];
    let row = table
        .split(&format!("<tr data-service=\"{service}\">"))
        .nth(1)
        .unwrap_or_else(|| panic!("no row {service}:\n{table}"));
    let row = &row[..row.find("</tr>").unwrap()];
    row.split("<td>").skip(1).map(|c| c[..c.find("</td>").unwrap()].parse().unwrap()).collect()
}

/// The catalogue goes through approval like any file; a bad one is refused with its line,
/// and the good one stays served. The apex lists every unit's services with a filter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalogue_is_published_through_approval_and_listed_on_the_apex() {
    let world = World::start("");
    // A fresh data folder publishes the demo as it is, the test's catalogue with it.
    let page = world.page(AIS, "/dich-vu-cong/").await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert!(html.contains("Cấp giấy phép kinh doanh sản phẩm an toàn thông tin mạng"), "{html}");
    assert!(html.contains("Dịch vụ công trực tuyến toàn trình") && html.contains("Dịch vụ công trực tuyến một phần"));
    assert!(html.contains("/_theme/style.css"), "poured into the site's theme: {html}");
    // The apex: every unit's services; the filter by level keeps the partial one only.
    let apex = world.page("mic.gov.vn", "/dich-vu-cong/").await;
    assert_eq!(apex.status, 200);
    assert!(apex.text().contains("2 / 2 dịch vụ công"), "{}", apex.text());
    let partial = world.page("mic.gov.vn", "/dich-vu-cong/?muc-do=partial").await.text();
    assert!(
        partial.contains("1 / 2 dịch vụ công")
            && partial.contains("1.004230")
            && !partial.contains("<td>1.004227</td>"),
        "{partial}"
    );
    assert!(partial.contains("href=\"https://ais.mic.gov.vn/dich-vu-cong/\""), "the unit is linked: {partial}");

    // An edit to the working copy is not served until approved.
    let edited = CATALOGUE.replace("processing_days = 10", "processing_days = 12");
    world.write("ais", "dich-vu-cong.toml", &edited);
    let status = world.cli(&["content", "status", "ais"]);
    status.expect_code(0);
    assert!(status.stdout.contains("dich-vu-cong.toml"), "the catalogue is content:\n{status}");
    assert!(world.page(AIS, "/dich-vu-cong/").await.text().contains("10 ngày làm việc"));
    // A bad catalogue: `cong check` names the file, line and key.
    let bad = CATALOGUE.replace("https://dichvucong.mic.gov.vn/thu-tuc/1.004230", "http://dichvucong.example.com/");
    world.write("ais", "dich-vu-cong.toml", &bad);
    let check = registry::cli(&world.server.config, &["check"]);
    assert_eq!(check.code, 1, "{check}");
    assert!(
        check.stdout.contains("dich-vu-cong.toml:15:") || check.stderr.contains("dich-vu-cong.toml:15:"),
        "{check}"
    );
    assert!(format!("{check}").contains("is not an https address"), "{check}");
    // Published anyway by force, it does not build: the last good catalogue stays served.
    let forced = world.api(TOKEN, "POST", "/api/sites/ais/publish", r#"{"force": true, "reason": "thử"}"#).await;
    assert_eq!(forced.status, 422, "a catalogue that does not build is not published: {}", forced.text());
    assert!(forced.text().contains("dich-vu-cong.toml:15:"), "{}", forced.text());
    assert!(world.page(AIS, "/dich-vu-cong/").await.text().contains("10 ngày làm việc"));
    // The good edit, published: served.
    world.write("ais", "dich-vu-cong.toml", &edited);
    let forced =
        world.api(TOKEN, "POST", "/api/sites/ais/publish", r#"{"force": true, "reason": "cập nhật thời hạn"}"#).await;
    assert_eq!(forced.status, 201, "{}", forced.text());
    world.until_shows(AIS, "/dich-vu-cong/", 200, "12 ngày làm việc").await;
}

/// A unit's case system pushes dossiers with its own token; the public finds each by code,
/// on time or late from `due_at`, and the statistics count it in the right month and column,
/// with one bar group per service in the SVG chart. Bad pushes and another site's token are
/// refused; a CSV file with a bad row imports nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dossiers_are_pushed_looked_up_counted_and_imported() {
    let world = World::start("");
    let token = world.integration("mot-cua-ais", "ais");
    let put = |code: &str| format!("/api/sites/ais/dossiers/{code}");
    let on_time = dossier(
        "1.004227",
        "2026-11-02T08:00:00+07:00",
        "2026-11-20T17:00:00+07:00",
        "completed",
        Some("2026-11-18T10:00:00+07:00"),
    );
    let r = world.api(&token, "PUT", &put("AIS-2611-0001"), &on_time).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["on_time"], true);
    let late = dossier(
        "1.004227",
        "2026-11-03T08:00:00+07:00",
        "2026-11-10T17:00:00+07:00",
        "completed",
        Some("2026-11-12T09:00:00Z"),
    );
    assert_eq!(world.api(&token, "PUT", &put("AIS-2611-0002"), &late).await.status, 201);
    let open = dossier("1.004230", "2026-11-04T08:00:00+07:00", "2099-01-01T00:00:00+07:00", "in_progress", None);
    assert_eq!(world.api(&token, "PUT", &put("AIS-2611-0003"), &open).await.status, 201);
    // Pushed again, the same code is updated (200), not added.
    assert_eq!(world.api(&token, "PUT", &put("AIS-2611-0003"), &open).await.status, 200);

    // The public lookup, on the unit's site, as soon as the push answered.
    let found = world.page(AIS, "/tra-cuu-ho-so/?ma=AIS-2611-0001").await;
    assert_eq!(found.status, 200, "{}", found.text());
    let text = found.text();
    assert!(
        text.contains("Cấp giấy phép kinh doanh sản phẩm an toàn thông tin mạng") && text.contains("Đúng hạn"),
        "{text}"
    );
    assert!(text.contains("10:00 18/11/2026"), "completed_at in Viet Nam time: {text}");
    let text = world.page(AIS, "/tra-cuu-ho-so/?ma=AIS-2611-0002").await.text();
    assert!(text.contains("Trễ hạn"), "completed after due_at: {text}");
    assert_eq!(world.page(AIS, "/tra-cuu-ho-so/?ma=KHONG-CO").await.status, 404);
    assert_eq!(
        world.page("vnnic.mic.gov.vn", "/tra-cuu-ho-so/?ma=AIS-2611-0001").await.status,
        404,
        "another unit's site"
    );

    // The statistics: November 2026, one row per service, and the chart as inline SVG.
    let stats = world.page(AIS, "/dich-vu-cong/thong-ke/").await;
    assert_eq!(stats.status, 200);
    let html = stats.text();
    // received, on time, late, in progress, overdue
    assert_eq!(statistics_row(&html, "2026-11", "1.004227"), [2, 1, 1, 0, 0], "{html}");
    assert_eq!(statistics_row(&html, "2026-11", "1.004230"), [1, 0, 0, 1, 0], "{html}");
    assert!(html.contains("<svg") && html.contains("role=\"img\""), "{html}");
    assert_eq!(html.matches("<g class=\"service\"").count(), 2, "one bar group per service: {html}");

    // Refused: another site's token, personal data, a time without offset, out of order.
    let other = world.api(&token, "PUT", "/api/sites/vnnic/dossiers/X-1", &open).await;
    assert_eq!(other.status, 403, "{}", other.text());
    let mut personal: Value = serde_json::from_str(&open).unwrap();
    personal["ho_ten"] = Value::from("Nguyễn Văn A");
    let r = world.api(&token, "PUT", &put("X-2"), &personal.to_string()).await;
    assert_eq!((r.status, r.json()["error"]["field"].as_str()), (422, Some("ho_ten")), "{}", r.text());
    let no_offset = dossier("1.004227", "2026-11-02T08:00:00", "2026-11-20T17:00:00+07:00", "received", None);
    let r = world.api(&token, "PUT", &put("X-3"), &no_offset).await;
    assert_eq!((r.status, r.json()["error"]["field"].as_str()), (422, Some("received_at")), "{}", r.text());
    let backwards = dossier(
        "1.004227",
        "2026-11-10T08:00:00+07:00",
        "2026-11-20T17:00:00+07:00",
        "completed",
        Some("2026-11-09T08:00:00+07:00"),
    );
    let r = world.api(&token, "PUT", &put("X-4"), &backwards).await;
    assert_eq!((r.status, r.json()["error"]["field"].as_str()), (422, Some("completed_at")), "{}", r.text());
    let bad_code = dossier("12345", "2026-11-02T08:00:00+07:00", "2026-11-20T17:00:00+07:00", "received", None);
    assert_eq!(world.api(&token, "PUT", &put("X-5"), &bad_code).await.status, 422);
    assert_eq!(world.page(AIS, "/tra-cuu-ho-so/?ma=X-4").await.status, 404, "nothing refused is shown");

    // CSV: a bad row names file, line and column, and nothing of the file is imported.
    let header = "code,service_code,received_at,due_at,status,completed_at\n";
    let good_row = "AIS-2612-0001,1.004230,2026-12-01T08:00:00+07:00,2026-12-15T17:00:00+07:00,received,\n";
    let bad_row = "AIS-2612-0002,1.004230,2026-12-01T08:00:00+07:00,2026-12-15T17:00:00+07:00,completed,2026-11-30T08:00:00+07:00\n";
    let csv = world.dir.path().join("ho-so.csv");
    std::fs::write(&csv, format!("{header}{good_row}{bad_row}")).unwrap();
    let out = world.cli(&["dossier", "import", "ais", csv.to_str().unwrap()]);
    out.expect_code(1);
    assert!(
        out.stderr.contains("ho-so.csv:3: column completed_at:")
            && out.stderr.contains("nothing from this file was imported"),
        "{out}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        world.page(AIS, "/tra-cuu-ho-so/?ma=AIS-2612-0001").await.status,
        404,
        "the good row was not imported either"
    );
    std::fs::write(&csv, format!("{header}{good_row}")).unwrap();
    world.cli(&["dossier", "import", "ais", csv.to_str().unwrap()]).expect_code(0);
    world.until_shows(AIS, "/tra-cuu-ho-so/?ma=AIS-2612-0001", 200, "Đã tiếp nhận").await;
}

/// `t` seconds from now as RFC 3339 in Viet Nam time.
fn at(from_now: i64) -> String {
    let secs = cong::model::time::now_secs() as i64 + from_now + 7 * 3600;
    let utc = cong::model::time::rfc3339_secs(secs as u64);
    format!("{}+07:00", utc.trim_end_matches('Z'))
}

/// A window announced too late is refused without `--emergency`; one announced properly
/// puts the notice on every page and can be withdrawn; an emergency window shows the
/// notice, then 503 with `Retry-After` and the time of return, then the site is back by
/// itself, the notice gone, with no command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_maintenance_window_is_announced_kept_and_over_by_itself() {
    let world = World::start("");
    let reason = "Nâng cấp hệ thống máy chủ";
    let soon =
        world.cli(&["member", "maintenance", "ais", "--from", &at(86_400), "--until", &at(90_000), "--reason", reason]);
    soon.expect_code(1);
    assert!(soon.stderr.contains("7 working days") && soon.stderr.contains("--emergency"), "{soon}");
    let no_offset = world.cli(&[
        "member",
        "maintenance",
        "ais",
        "--from",
        "2027-01-20T22:00:00",
        "--until",
        &at(90_000),
        "--reason",
        reason,
    ]);
    no_offset.expect_code(2);
    assert!(no_offset.stderr.contains("--from"), "{no_offset}");

    // The admin API applies the same rule, and answers once the notice is served.
    let too_soon = serde_json::json!({ "from": at(86_400), "until": at(90_000), "reason": reason }).to_string();
    let r = world.api(TOKEN, "POST", "/api/members/vnnic/maintenance", &too_soon).await;
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (422, Some("too_late")), "{}", r.text());
    let far =
        serde_json::json!({ "from": at(30 * 86_400), "until": at(30 * 86_400 + 3600), "reason": reason }).to_string();
    let r = world.api(TOKEN, "POST", "/api/members/vnnic/maintenance", &far).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(
        world.page("vnnic.mic.gov.vn", "/").await.text().contains("Thông báo bảo trì"),
        "served when the API answered"
    );
    let member = world.api(TOKEN, "GET", "/api/members/vnnic", "").await.json();
    assert_eq!(member["maintenance"]["reason"], reason, "{member}");
    let r = world.api(TOKEN, "DELETE", "/api/members/vnnic/maintenance", "").await;
    assert_eq!(r.json()["withdrawn"], true, "{}", r.text());
    assert!(
        !world.page("vnnic.mic.gov.vn", "/").await.text().contains("Thông báo bảo trì"),
        "withdrawn when the API answered"
    );

    // Four weeks ahead: allowed; the notice is on every page from now.
    let far = world.cli(&[
        "member",
        "maintenance",
        "ais",
        "--from",
        &at(28 * 86_400),
        "--until",
        &at(28 * 86_400 + 7200),
        "--reason",
        reason,
    ]);
    far.expect_code(0);
    let home = world.until_shows(AIS, "/", 200, "Thông báo bảo trì").await;
    assert!(home.text().contains(reason) && home.text().contains("/_site/notice.css"), "{}", home.text());
    assert!(world.page(AIS, "/gioi-thieu/").await.text().contains("Thông báo bảo trì"), "every page");
    assert_eq!(world.page(AIS, "/_site/notice.css").await.status, 200);
    assert!(!world.page("vnnic.mic.gov.vn", "/").await.text().contains("Thông báo bảo trì"), "only that unit");
    world.cli(&["member", "maintenance", "ais", "--cancel"]).expect_code(0);
    wait_until("the notice withdrawn", PROPAGATION, POLL, async || {
        let t = world.page(AIS, "/").await.text();
        if t.contains("Thông báo bảo trì") {
            Err("still there".to_string())
        } else {
            Ok(())
        }
    })
    .await;

    // An emergency window starting in a few seconds.
    let (from, until) = (at(4), at(9));
    world
        .cli(&["member", "maintenance", "ais", "--from", &from, "--until", &until, "--reason", reason, "--emergency"])
        .expect_code(0);
    world.until_shows(AIS, "/", 200, "Thông báo bảo trì").await;
    let down = world.until_shows(AIS, "/gioi-thieu/", 503, "hoạt động trở lại").await;
    let retry: u64 = down.header("retry-after").parse().expect("Retry-After in seconds");
    assert!((1..=9).contains(&retry), "Retry-After: {retry}");
    assert_eq!(world.page("vnnic.mic.gov.vn", "/").await.status, 200, "other units stay up");
    // Back by itself, the notice gone.
    let back = wait_until("back after the window", Duration::from_secs(20), POLL, async || {
        let r = world.page(AIS, "/gioi-thieu/").await;
        if r.status == 200 && !r.text().contains("Thông báo bảo trì") {
            Ok(r)
        } else {
            Err(format!("{}", r.status))
        }
    })
    .await;
    assert!(back.text().contains("Giới thiệu") || back.status == 200);
}

/// An archived unit stays readable: 200 with the platform's banner, `noindex` as a header
/// and in the page, no forms, and an edit made to its folder after archiving is not served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archived_member_stays_readable_and_frozen() {
    // Approval off: an edit would be served straight from the folder, were it not archived.
    let world = World::start("[publishing]\napproval = \"off\"\n");
    let host = "ttt.mic.gov.vn";
    let before = world.page(host, "/").await;
    assert_eq!(before.status, 200);
    world.cli(&["member", "archive", "ttt", "--reason", "sáp nhập"]).expect_code(0);
    let archived = world.until_shows(host, "/", 200, "Trang lưu trữ").await;
    assert_eq!(archived.header("x-robots-tag"), "noindex");
    assert!(archived.text().contains("<meta name=\"robots\" content=\"noindex\">"), "{}", archived.text());
    // No forms: the question form is not offered, and a post is refused.
    assert_eq!(world.page(host, "/hoi-dap/gui/").await.status, 404);
    let post = request(
        world.server.http,
        "POST",
        host,
        "/hoi-dap/gui/",
        &[("content-type", "application/x-www-form-urlencoded")],
        b"a=b".to_vec(),
    )
    .await;
    assert_eq!(post.status, 405, "{}", post.text());
    // An edit after archiving is not published; an edit to another unit is (the witness).
    let index = world.dir.path().join("tenants/ttt/content/_index.md");
    let mut text = std::fs::read_to_string(&index).unwrap();
    text.push_str("\nDÒNG SỬA SAU KHI LƯU TRỮ\n");
    std::fs::write(&index, text).unwrap();
    let witness = world.dir.path().join("tenants/vnnic/content/_index.md");
    let mut w = std::fs::read_to_string(&witness).unwrap();
    w.push_str("\nNHÂN CHỨNG\n");
    std::fs::write(&witness, w).unwrap();
    world.until_shows("vnnic.mic.gov.vn", "/", 200, "NHÂN CHỨNG").await;
    let after = world.page(host, "/").await;
    assert_eq!(after.status, 200);
    assert!(!after.text().contains("DÒNG SỬA SAU KHI LƯU TRỮ"), "an edit after archiving was served");
    assert!(Path::new(&world.dir.path().join("data/archived/ttt/site.toml")).is_file());
    // The directory no longer lists it as active.
    assert!(!world.page("mic.gov.vn", "/").await.text().contains("ttt.mic.gov.vn"));
}

/// The public pages in a real browser, each with no axe-core violation: the catalogue, the
/// lookup form used as a visitor would, the statistics with their chart, and the apex's
/// list filtered through its form.
#[tokio::test(flavor = "multi_thread")]
async fn the_public_service_pages_work_in_a_browser_and_pass_axe() {
    use crate::common::browser::{describe, Browser};
    let Some(b) = Browser::start().await else { return };
    let world = World::start("");
    let token = world.integration("mot-cua-ais", "ais");
    let body = dossier(
        "1.004227",
        "2026-11-02T08:00:00+07:00",
        "2026-11-20T17:00:00+07:00",
        "completed",
        Some("2026-11-18T10:00:00+07:00"),
    );
    assert_eq!(world.api(&token, "PUT", "/api/sites/ais/dossiers/AIS-2611-0001", &body).await.status, 201);
    let port = world.server.http.port();
    let base = format!("http://ais.mic.gov.vn.localhost:{port}");

    b.goto(&format!("{base}/dich-vu-cong/")).await;
    assert!(b.title().await.starts_with("Dịch vụ công trực tuyến"), "{}", b.title().await);
    let violations = b.axe().await;
    assert!(violations.is_empty(), "the catalogue:\n{}", describe(&violations));

    b.goto(&format!("{base}/tra-cuu-ho-so/")).await;
    b.fill("#ma", "AIS-2611-0001").await;
    b.submit_and_load("form.lookup").await;
    b.wait_for("dl.dossier").await;
    assert!(b.current_url().await.contains("/tra-cuu-ho-so/?ma=AIS-2611-0001"));
    assert_eq!(b.find_text("dd.outcome").await, "Đúng hạn");
    let violations = b.axe().await;
    assert!(violations.is_empty(), "the lookup:\n{}", describe(&violations));

    b.goto(&format!("{base}/dich-vu-cong/thong-ke/")).await;
    assert!(b.exists("figure.chart svg").await, "the chart is drawn");
    let violations = b.axe().await;
    assert!(violations.is_empty(), "the statistics:\n{}", describe(&violations));
    b.screenshot("services-statistics").await;

    b.goto(&format!("http://mic.gov.vn.localhost:{port}/dich-vu-cong/")).await;
    b.execute("document.querySelector('#muc-do').value = 'partial';", vec![]).await;
    b.submit_and_load("form.filter").await;
    b.wait_for("p[role=status]").await;
    assert!(b.current_url().await.contains("muc-do=partial"));
    assert!(b.text().await.contains("1 / 2 dịch vụ công"), "{}", b.text().await);
    let violations = b.axe().await;
    assert!(violations.is_empty(), "the apex list:\n{}", describe(&violations));

    // An archived unit's page with the platform's banner.
    world.cli(&["member", "archive", "ttt", "--reason", "sáp nhập"]).expect_code(0);
    world.until_shows("ttt.mic.gov.vn", "/", 200, "Trang lưu trữ").await;
    b.goto(&format!("http://ttt.mic.gov.vn.localhost:{port}/")).await;
    assert!(b.find_text(".cong-notice").await.starts_with("Trang lưu trữ."));
    let violations = b.axe().await;
    assert!(violations.is_empty(), "an archived page:\n{}", describe(&violations));
}
