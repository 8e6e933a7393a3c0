//! The public's questions, complaints and petitions end to end (docs/feedback.md), against
//! the real binary: `cong serve` on a private copy of the demo, the question form fetched
//! and posted over the public listener as a browser would (the hidden `form_token` taken
//! from the form page), the lookup and answers pages read as a visitor reads them, the admin
//! API called with the break-glass token (or a contributor's), and `/metrics`.
//!
//! A form token is good only from 3 s after it was issued, so every test fetches the forms
//! it needs first and waits once ([`ripe`], the one place that wait lives). Five POSTs per
//! client address and site an hour are allowed (refused ones count) and every request here
//! comes from 127.0.0.1, so each test runs its own server and spreads its POSTs over sites.

use crate::common::process::Server;
use crate::common::registry::{self, error_code, run_with_stdin};
use crate::common::{copy_demo, get, request, Conn, Proto, Resp};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The break-glass token of `[admin] token_env` (acts as an admin).
const TOKEN: &str = "feedback-test-token";
/// A short registry poll, so that a suspend shows at once.
const MORE: &str = "[reload]\ndebounce_ms = 50\nregistry_poll_ms = 50\n";
const AIS: &str = "ais.mic.gov.vn";
const CBC: &str = "cbc.mic.gov.vn";
const CDS: &str = "cds.mic.gov.vn";
const TTT: &str = "ttt.mic.gov.vn";
/// The ministry's own host (the zone's apex).
const APEX: &str = "mic.gov.vn";
/// The sender: names found nowhere in the demo, so that finding one in a page means a leak.
const NAME: &str = "Lê Thị Hồng Nhung Kiểm Thử";
const EMAIL: &str = "hong.nhung.kiemthu@example.vn";
const PHONE: &str = "0912.345.678";
/// How long after it was issued a form token becomes good (docs/feedback.md).
const TOKEN_MIN_AGE: Duration = Duration::from_secs(3);
/// The working days an item has (docs/feedback.md).
const DEADLINE_DAYS: usize = 15;
/// Every user's password (at least 12 characters).
const PASSWORD: &str = "mat-khau-du-dai-2026";
/// How long a suspend or a rating may take to show.
const PROPAGATION: Duration = Duration::from_secs(5);

/// One test's world: a temp folder with a copy of the demo, `cong.toml` and `data/`, and the
/// `cong serve` process on it.
struct World {
    dir: tempfile::TempDir,
    server: Server,
}

impl World {
    fn start() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_demo(dir.path());
        let server = Server::start(dir.path(), TOKEN, MORE);
        World { dir, server }
    }

    fn http(&self) -> SocketAddr {
        self.server.http
    }

    /// SIGKILL `cong serve` and wait until it is gone.
    fn kill(&mut self) {
        let _ = self.server.child.kill();
        let _ = self.server.child.wait();
    }

    /// Start `cong serve` again on the same folder (after [`World::kill`]).
    fn start_again(&mut self) {
        self.server = Server::start(self.dir.path(), TOKEN, MORE);
    }

    fn feedback_db(&self) -> PathBuf {
        self.dir.path().join("data/feedback.db")
    }

    /// An admin API call with `token`.
    async fn api_as(&self, token: &str, method: &str, path: &str, body: &str) -> Resp {
        let auth = format!("Bearer {token}");
        let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
        request(self.server.admin, method, "admin", path, &headers, body.as_bytes().to_vec()).await
    }

    /// An admin API call with the break-glass token that must answer `status` with JSON.
    async fn api(&self, method: &str, path: &str, body: &str, status: u16) -> Value {
        let resp = self.api_as(TOKEN, method, path, body).await;
        assert_eq!(resp.status, status, "{method} {path} {body}:\n{}", resp.text());
        resp.json()
    }

    /// The items of `GET /api/feedback?query`.
    async fn items(&self, query: &str) -> Vec<Value> {
        let list = self.api("GET", &format!("/api/feedback?{query}"), "", 200).await;
        list["items"].as_array().unwrap_or_else(|| panic!("no items array: {list}")).clone()
    }

    /// `GET /metrics` (admin listener).
    async fn metrics(&self) -> String {
        let resp = self.api_as(TOKEN, "GET", "/metrics", "").await;
        assert_eq!(resp.status, 200, "GET /metrics:\n{}", resp.text());
        resp.text()
    }

    /// `GET /hoi-dap/tra-cuu/?ma=CODE` on `host`.
    async fn lookup(&self, host: &str, code: &str) -> Resp {
        get(self.http(), host, &format!("/hoi-dap/tra-cuu/?ma={code}")).await
    }

    /// The question form of `host`, its token and when it came.
    async fn form(&self, host: &'static str) -> Form {
        open_form(self.http(), host).await
    }

    /// Send a valid question through `form` (as a browser on that host would, `Origin`
    /// included): the code of its `303`.
    async fn send(&self, form: &Form, title: &str, body: &str) -> String {
        let origin = format!("http://{}", form.host);
        let resp = post_form(self.http(), form.host, &question(form, title, body), &[("origin", &origin)]).await;
        code_of(&resp, form.host)
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
        run_with_stdin(&args, &format!("{PASSWORD}\n")).expect_code(0);
        let out = registry::cli(&self.server.config, &["user", "token", name]);
        out.expect_code(0);
        let token = out.stdout.lines().nth(1).unwrap_or_default().trim().to_string();
        assert!(token.starts_with("cong_"), "no token on the second line:\n{out}");
        token
    }
}

/// A question form as fetched from a site: its hidden token and when it arrived.
struct Form {
    host: &'static str,
    token: String,
    fetched: Instant,
}

/// `GET /hoi-dap/gui/` on `host`: 200 and a form with a hidden `form_token`.
async fn open_form(http: SocketAddr, host: &'static str) -> Form {
    let resp = get(http, host, "/hoi-dap/gui/").await;
    let fetched = Instant::now();
    let page = resp.text();
    assert_eq!(resp.status, 200, "GET {host}/hoi-dap/gui/:\n{page}");
    assert!(page.contains("<form method=\"post\" action=\"/hoi-dap/gui/\">"), "the page has the form:\n{page}");
    let token = attr_value(&page, "name=\"form_token\"")
        .unwrap_or_else(|| panic!("no hidden form_token on {host}/hoi-dap/gui/:\n{page}"));
    assert!(!token.is_empty(), "an empty form_token:\n{page}");
    Form { host, token, fetched }
}

/// The `value="..."` of the first tag holding `mark`.
fn attr_value(page: &str, mark: &str) -> Option<String> {
    let at = page.find(mark)?;
    let tag_start = page[..at].rfind('<')?;
    let tag = &page[tag_start..tag_start + page[tag_start..].find('>')?];
    let rest = &tag[tag.find("value=\"")? + 7..];
    Some(rest[..rest.find('"')?].to_string())
}

/// Wait until every one of `forms` is old enough to be sent: the one wait of this module.
async fn ripe(forms: &[&Form]) {
    let latest = forms.iter().map(|f| f.fetched).max().expect("at least one form");
    // The server reads its clock (whole seconds) before the form reaches us, so 3 s after
    // its arrival the token is at least 3 s old; a little more for the clock's resolution.
    let good = latest + TOKEN_MIN_AGE + Duration::from_millis(20);
    tokio::time::sleep_until(good.into()).await;
}

/// The fields of a valid question sent with `form`'s token.
fn question(form: &Form, title: &str, body: &str) -> Vec<(String, String)> {
    [
        ("kind", "question"),
        ("name", NAME),
        ("email", EMAIL),
        ("phone", PHONE),
        ("title", title),
        ("body", body),
        ("consent", "yes"),
        ("form_token", &form.token),
        ("website", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `fields` with `name` set to `value` (added when missing) or, with `None`, removed.
fn with(mut fields: Vec<(String, String)>, name: &str, value: Option<&str>) -> Vec<(String, String)> {
    fields.retain(|(k, _)| k != name);
    if let Some(v) = value {
        fields.push((name.to_string(), v.to_string()));
    }
    fields
}

/// `application/x-www-form-urlencoded` as a browser writes it.
fn urlencode(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!("{}={}", utf8_percent_encode(k, NON_ALPHANUMERIC), utf8_percent_encode(v, NON_ALPHANUMERIC))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `POST /hoi-dap/gui/` on `host` with `fields` as a form, plus `headers`.
async fn post_form(http: SocketAddr, host: &str, fields: &[(String, String)], headers: &[(&str, &str)]) -> Resp {
    let mut all = vec![("content-type", "application/x-www-form-urlencoded")];
    all.extend_from_slice(headers);
    request(http, "POST", host, "/hoi-dap/gui/", &all, urlencode(fields).into_bytes()).await
}

/// The tracking code of a `303` to the lookup page.
fn code_of(resp: &Resp, host: &str) -> String {
    assert_eq!(resp.status, 303, "POST {host}/hoi-dap/gui/ must answer 303:\n{}", resp.text());
    let location = resp.header("location");
    let code = location
        .strip_prefix("/hoi-dap/tra-cuu/?ma=")
        .unwrap_or_else(|| panic!("the 303 must lead to the lookup page, not {location:?}"));
    code.to_string()
}

/// Whether `code` is `LABEL-YY-XXXXXXXX` with eight characters of Crockford's base 32
/// (`^AIS-\d\d-[0-9A-HJKMNP-TV-Z]{8}$` for `ais`).
fn is_code(code: &str, label: &str, yy: &str) -> bool {
    let Some(tail) = code.strip_prefix(&format!("{}-{yy}-", label.to_ascii_uppercase())) else { return false };
    tail.len() == 8 && tail.bytes().all(|b| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b))
}

/// The `<title>` of an HTML page.
fn title_of(page: &str) -> &str {
    let start = page.find("<title>").map_or(0, |i| i + 7);
    let end = page[start..].find("</title>").map_or(start, |i| start + i);
    &page[start..end]
}

/// The value of `name{site="site"}` in a metrics text; `None` when the line is missing.
fn gauge(metrics: &str, name: &str, site: &str) -> Option<i64> {
    let prefix = format!("{name}{{site=\"{site}\"}} ");
    metrics.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.trim().parse().expect("a whole number"))
}

/// A date as (year, month, day).
type Ymd = (i64, u32, u32);

/// The date in Viet Nam (UTC+7, no daylight saving) `offset_days` from now, computed here
/// (Howard Hinnant's civil-from-days) and not with the crate's own calendar, so that a bug
/// there cannot cancel out.
fn vn_day(offset_days: i64) -> Ymd {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs() as i64;
    civil((secs + 7 * 3600).div_euclid(86_400) + offset_days)
}

fn civil(days: i64) -> Ymd {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

fn iso((y, m, d): Ymd) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

/// The `n`-th weekday after today in Viet Nam (no holidays set): the due date of an item
/// received today on a fresh server.
fn weekdays_after_today(n: usize) -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs() as i64;
    let today = (secs + 7 * 3600).div_euclid(86_400);
    // 1970-01-01 was a Thursday: (days + 3) % 7 is 0 on Mondays.
    let due = (today + 1..).filter(|d| (d + 3).rem_euclid(7) < 5).nth(n - 1).expect("a weekday");
    iso(civil(due))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_sent_through_the_form_is_found_by_its_code_without_personal_data() {
    let w = World::start();
    let form = w.form(AIS).await;
    let page = get(w.http(), AIS, "/hoi-dap/gui/").await.text();
    for part in
        ["name=\"consent\" value=\"yes\"", "name=\"website\"", "name=\"title\"", "name=\"body\"", "name=\"email\""]
    {
        assert!(page.contains(part), "the form has {part}:\n{page}");
    }
    let received = vn_day(0);
    ripe(&[&form]).await;
    let title = "Hỏi về thủ tục cấp phép dịch vụ chứng thực chữ ký số";
    let code = w.send(&form, title, "Xin hỏi hồ sơ gồm những gì và nộp ở đâu?\nXin cảm ơn.").await;
    let yy = format!("{:02}", received.0 % 100);
    assert!(is_code(&code, "ais", &yy), "the code {code:?} is not ^AIS-{yy}-[0-9A-HJKMNP-TV-Z]{{8}}$");
    let due = weekdays_after_today(DEADLINE_DAYS);

    let resp = w.lookup(AIS, &code).await;
    let page = resp.text();
    assert_eq!(resp.status, 200, "the lookup page of {code}:\n{page}");
    assert!(page.contains(title), "the lookup page shows the title:\n{page}");
    assert!(page.contains("Đã tiếp nhận"), "the lookup page says the item was received:\n{page}");
    assert!(page.contains(&due), "the lookup page shows the due date {due} (15 working days):\n{page}");
    for personal in [NAME, EMAIL, PHONE, "hong.nhung.kiemthu"] {
        assert!(!page.contains(personal), "the lookup page shows the sender's {personal:?}:\n{page}");
    }
    let lower = w.lookup(AIS, &code.to_lowercase()).await;
    assert_eq!(lower.status, 200, "lookups ignore case:\n{}", lower.text());
    assert!(lower.text().contains(title), "lookups ignore case:\n{}", lower.text());
    let elsewhere = w.lookup(CBC, &code).await;
    assert_eq!(elsewhere.status, 404, "a code of ais is not found on cbc:\n{}", elsewhere.text());
    assert!(!elsewhere.text().contains(title), "cbc shows nothing of ais's item:\n{}", elsewhere.text());

    let items = w.items("site=ais").await;
    assert_eq!(items.len(), 1, "the admin API lists the one item: {items:?}");
    let item = &items[0];
    assert_eq!(item["code"], code.as_str(), "{item}");
    assert_eq!((&item["name"], &item["email"], &item["phone"]), (&NAME.into(), &EMAIL.into(), &PHONE.into()), "{item}");
    assert_eq!(
        (&item["title"], &item["state"], &item["kind"]),
        (&title.into(), &"received".into(), &"question".into())
    );
    assert_eq!(item["due_date"], due.as_str(), "{item}");
    assert_eq!(w.api("GET", &format!("/api/feedback/{code}"), "", 200).await, *item, "one item, one shape");
    assert!(w.items("site=cbc").await.is_empty(), "nothing for cbc");
    let metrics = w.metrics().await;
    assert_eq!(gauge(&metrics, "cong_feedback_open", "ais"), Some(1), "{metrics}");
    assert_eq!(gauge(&metrics, "cong_feedback_overdue", "ais"), Some(0), "{metrics}");

    // The date received, as the deadline counts it: the day in Viet Nam (between 00:00 and
    // 07:00 there, the UTC date is the day before).
    let (y, m, d) = received;
    let (iso_day, vi_day) = (iso(received), format!("{d:02}/{m:02}/{y:04}"));
    assert!(
        page.contains(&iso_day) || page.contains(&vi_day),
        "the lookup page must show the date received in Viet Nam ({iso_day} or {vi_day}); it shows \
         Ngày nhận as {:?}:\n{page}",
        page.split("<dt>Ngày nhận</dt><dd>").nth(1).and_then(|r| r.split("</dd>").next()).unwrap_or("?")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_dates_follow_the_working_day_calendar_set_by_admins() {
    let w = World::start();
    let empty = w.api("GET", "/api/holidays/2027", "", 200).await;
    assert_eq!(empty, serde_json::json!({"year": 2027, "off": [], "work": []}), "no days set yet");
    let plain = w.api("GET", "/api/working-days?from=2027-01-28&days=15", "", 200).await;
    assert_eq!(plain["due"], "2027-02-18", "15 weekdays after Thursday 28 January 2027: {plain}");

    let tet = r#"{"off": ["2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"],
                  "work": ["2027-01-30"]}"#;
    let set = w.api("PUT", "/api/holidays/2027", tet, 200).await;
    let expected = serde_json::json!({
        "year": 2027,
        "off": ["2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"],
        "work": ["2027-01-30"],
    });
    assert_eq!(set, expected, "PUT answers the year's lists");
    assert_eq!(w.api("GET", "/api/holidays/2027", "", 200).await, expected, "GET shows what was set");

    let due = w.api("GET", "/api/working-days?from=2027-01-28&days=15", "", 200).await;
    assert_eq!(
        due,
        serde_json::json!({"from": "2027-01-28", "days": 15, "due": "2027-02-24"}),
        "Fri 29, the make-up Saturday 30, Mon 1 – Thu 4, the Tết week off, then Fri 12 onward"
    );
    let new_year = w.api("GET", "/api/working-days?from=2026-12-24&days=15", "", 200).await;
    assert_eq!(new_year["due"], "2027-01-15", "over the year's end with 1 January off: {new_year}");

    // Refusals: each names the list at fault, and changes nothing.
    let refusals = [
        (r#"{"off": [], "work": ["2027-02-03"]}"#, 422, "work", "a Wednesday as a make-up working day"),
        (r#"{"off": ["2026-12-31"], "work": []}"#, 422, "off", "a day of 2026 in 2027's list"),
        (r#"{"off": [], "work": ["2028-01-01"]}"#, 422, "work", "a day of 2028 in 2027's list"),
        (r#"{"off": ["2027-01-30"], "work": ["2027-01-30"]}"#, 422, "work", "a day both off and worked"),
    ];
    for (body, status, field, what) in refusals {
        let v = w.api("PUT", "/api/holidays/2027", body, status).await;
        assert_eq!(error_code(&v), "invalid_field", "{what}: {v}");
        assert_eq!(v["error"]["field"], field, "{what}: the error names {field}: {v}");
    }
    assert_eq!(w.api("GET", "/api/holidays/2027", "", 200).await, expected, "the refusals changed nothing");

    let lan = w.user("lan", "contributor", &["ais"]);
    let resp = w.api_as(&lan, "PUT", "/api/holidays/2027", r#"{"off": [], "work": []}"#).await;
    assert_eq!(resp.status, 403, "a contributor may not set the calendar:\n{}", resp.text());
    assert_eq!(error_code(&resp.json()), "forbidden");
    assert_eq!(w.api("GET", "/api/holidays/2027", "", 200).await, expected, "the contributor changed nothing");

    // PUT replaces the year's lists.
    w.api("PUT", "/api/holidays/2027", r#"{"off": ["2027-01-01"]}"#, 200).await;
    let replaced = w.api("GET", "/api/holidays/2027", "", 200).await;
    assert_eq!(replaced, serde_json::json!({"year": 2027, "off": ["2027-01-01"], "work": []}), "replaced");
    let due = w.api("GET", "/api/working-days?from=2027-01-28&days=15", "", 200).await;
    assert_eq!(due["due"], "2027-02-18", "without Tết set, plain weekdays again: {due}");

    // A day that does not exist (there is no 30 February) is no date of the year: both
    // places that take a date must refuse it, naming the field.
    let mut accepted = Vec::new();
    let put = w.api_as(TOKEN, "PUT", "/api/holidays/2027", r#"{"off": ["2027-02-30"], "work": []}"#).await;
    if !(matches!(put.status, 400 | 422) && put.json()["error"]["field"] == "off") {
        accepted.push(format!("PUT /api/holidays/2027 off [\"2027-02-30\"] answered {}: {}", put.status, put.text()));
    }
    let from = w.api_as(TOKEN, "GET", "/api/working-days?from=2027-02-30&days=15", "").await;
    if !(matches!(from.status, 400 | 422) && from.json()["error"]["field"] == "from") {
        accepted.push(format!(
            "GET /api/working-days?from=2027-02-30&days=15 answered {}: {}",
            from.status,
            from.text()
        ));
    }
    assert!(accepted.is_empty(), "2027-02-30 must be refused (400 or 422 naming the field):\n{}", accepted.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overdue_items_are_listed_and_counted() {
    let mut w = World::start();
    let (f1, f2, before_restart) = tokio::join!(w.form(AIS), w.form(AIS), w.form(AIS));
    ripe(&[&f1, &f2, &before_restart]).await;
    let late = w.send(&f1, "Câu hỏi đã quá hạn", "Nội dung câu hỏi quá hạn.").await;
    let on_time = w.send(&f2, "Câu hỏi hạn hôm nay", "Nội dung câu hỏi hạn hôm nay.").await;
    assert!(w.items("overdue=true").await.is_empty(), "nothing is overdue on the day it arrives");

    // The deadline is 15 working days and a test cannot wait that long, and no API moves a
    // due date back (extend only moves it later): so with the server stopped, the items'
    // due dates are set in data/feedback.db itself, one to yesterday (overdue) and one to
    // today (due today is not yet overdue), and the server started again.
    w.kill();
    let (yesterday, today) = (iso(vn_day(-1)), iso(vn_day(0)));
    {
        let db = rusqlite::Connection::open(w.feedback_db()).expect("open data/feedback.db");
        for (code, due) in [(&late, &yesterday), (&on_time, &today)] {
            let n = db.execute("UPDATE items SET due_date = ?1 WHERE code = ?2", (due, code)).expect("update");
            assert_eq!(n, 1, "the item {code} is in data/feedback.db");
        }
    }
    w.start_again();

    // A form opened before the restart is refused, asking to send again, its values kept.
    let title = "Câu hỏi viết trước khi khởi động lại";
    let resp = post_form(w.http(), AIS, &question(&before_restart, title, "Nội dung giữ lại."), &[]).await;
    let page = resp.text();
    assert_eq!(resp.status, 422, "a form of before the restart:\n{page}");
    assert!(title_of(&page).starts_with("Lỗi: "), "{}", title_of(&page));
    assert!(page.contains(&format!("value=\"{title}\"")) && page.contains("Nội dung giữ lại."), "values kept:\n{page}");
    assert!(page.contains("gửi lại"), "the page asks to send again:\n{page}");

    let overdue = w.items("overdue=true").await;
    let codes: Vec<&str> = overdue.iter().map(|i| i["code"].as_str().unwrap_or_default()).collect();
    if iso(vn_day(0)) != today {
        eprintln!("the day turned in Viet Nam during the test; the overdue checks are skipped");
        return;
    }
    assert_eq!(codes, [late.as_str()], "overdue=true lists the item due yesterday, not the one due today");
    assert_eq!(overdue[0]["due_date"], yesterday.as_str());
    assert_eq!(w.items("site=ais&overdue=true").await, overdue, "with site=ais too");
    assert!(w.items("site=cbc&overdue=true").await.is_empty(), "nothing of cbc");
    let all = w.items("site=ais").await;
    let order: Vec<&str> = all.iter().map(|i| i["code"].as_str().unwrap_or_default()).collect();
    assert_eq!(order, [late.as_str(), on_time.as_str()], "oldest due first");
    let metrics = w.metrics().await;
    assert_eq!(gauge(&metrics, "cong_feedback_open", "ais"), Some(2), "two open items:\n{metrics}");
    assert_eq!(gauge(&metrics, "cong_feedback_overdue", "ais"), Some(1), "one overdue item:\n{metrics}");

    // An extension: a new due date and a reason; the lookup page says Gia hạn and the date.
    let new_due = iso(vn_day(20));
    let body = serde_json::json!({"due_date": new_due, "reason": "Cần lấy ý kiến của cơ quan khác"}).to_string();
    let extended = w.api("POST", &format!("/api/feedback/{late}/extend"), &body, 200).await;
    assert_eq!((&extended["state"], &extended["due_date"]), (&"extended".into(), &new_due.as_str().into()));
    let page = w.lookup(AIS, &late).await.text();
    assert!(page.contains("Gia hạn") && page.contains(&new_due), "the lookup page shows the extension:\n{page}");
    assert!(w.items("overdue=true").await.is_empty(), "extended past today, it is no longer overdue");
    let metrics = w.metrics().await;
    assert_eq!(gauge(&metrics, "cong_feedback_open", "ais"), Some(2), "an extended item is open:\n{metrics}");
    assert_eq!(gauge(&metrics, "cong_feedback_overdue", "ais"), Some(0), "{metrics}");
    let earlier = serde_json::json!({"due_date": today, "reason": "x"}).to_string();
    let v = w.api("POST", &format!("/api/feedback/{late}/extend"), &earlier, 422).await;
    assert_eq!(v["error"]["field"], "due_date", "an extension must move the date later: {v}");

    // Forwarded to another member: it keeps its code and counts there.
    let body = r#"{"reason": "Thuộc thẩm quyền Cục Báo chí", "forward_to": "cbc"}"#;
    let moved = w.api("POST", &format!("/api/feedback/{on_time}/out-of-scope"), body, 200).await;
    assert_eq!(
        (&moved["site"], &moved["forwarded_from"], &moved["code"]),
        (&"cbc".into(), &"ais".into(), &on_time.as_str().into())
    );
    let there = w.lookup(CBC, &on_time).await;
    assert_eq!(there.status, 200, "cbc finds the forwarded item by its code:\n{}", there.text());
    assert!(there.text().contains("Đã tiếp nhận"), "received again at cbc:\n{}", there.text());
    let metrics = w.metrics().await;
    assert_eq!(gauge(&metrics, "cong_feedback_open", "ais"), Some(1), "{metrics}");
    assert_eq!(gauge(&metrics, "cong_feedback_open", "cbc"), Some(1), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sixth_send_within_an_hour_is_refused_for_that_site_only() {
    let w = World::start();
    let (good, other, apex) = tokio::join!(w.form(AIS), w.form(CBC), w.form(APEX));
    ripe(&[&good, &other, &apex]).await;
    // Five refused sends (no consent, no token): they count.
    let bad = with(question(&good, "Gửi thiếu", "Thiếu đồng ý"), "consent", None);
    let bad = with(bad, "form_token", None);
    for n in 1..=5 {
        let resp = post_form(w.http(), AIS, &bad, &[]).await;
        assert_eq!(resp.status, 422, "send {n} of 5 is refused for its fields, not limited:\n{}", resp.text());
    }
    // The sixth is refused however good it is.
    let resp = post_form(w.http(), AIS, &question(&good, "Lần thứ sáu", "Câu hỏi hợp lệ"), &[]).await;
    assert_eq!(resp.status, 429, "the sixth send within the hour:\n{}", resp.text());
    let retry: u64 = resp
        .header("retry-after")
        .parse()
        .unwrap_or_else(|_| panic!("a 429 needs Retry-After in seconds, not {:?}", resp.header("retry-after")));
    assert!((1..=3600).contains(&retry), "Retry-After {retry} must be within the hour");
    assert!(title_of(&resp.text()).starts_with("Lỗi"), "the page says it is an error: {}", title_of(&resp.text()));
    let seventh = post_form(w.http(), AIS, &question(&good, "Lần thứ bảy", "Câu hỏi hợp lệ"), &[]).await;
    assert_eq!(seventh.status, 429, "still refused:\n{}", seventh.text());
    assert!(w.items("site=ais").await.is_empty(), "nothing refused was kept");

    // Another site, same client: accepted.
    let code = w.send(&other, "Câu hỏi gửi Cục Báo chí", "Nội dung").await;
    assert!(code.starts_with("CBC-"), "{code}");
    assert_eq!(w.items("site=cbc").await.len(), 1, "cbc kept its question");
    // The apex takes questions for the ministry, with the zone's first label in the code.
    let code = w.send(&apex, "Câu hỏi gửi Bộ", "Nội dung").await;
    let yy = format!("{:02}", vn_day(0).0 % 100);
    assert!(is_code(&code, "mic", &yy), "the apex's code {code:?} is not MIC-{yy}-XXXXXXXX");
    let page = w.lookup(APEX, &code).await;
    assert_eq!(page.status, 200, "the apex finds its code:\n{}", page.text());
    assert!(page.text().contains("Câu hỏi gửi Bộ"), "{}", page.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_public_wrote_is_shown_escaped_and_without_the_sender() {
    let w = World::start();
    let form = w.form(AIS).await;
    ripe(&[&form]).await;
    let script = "<script>alert(1)</script>";
    let title = format!("Câu hỏi {script} & \"trích dẫn\"");
    let body = format!("Nội dung {script}\nDòng thứ hai <img src=x onerror=alert(2)>");
    let code = w.send(&form, &title, &body).await;

    let empty = get(w.http(), AIS, "/hoi-dap/").await;
    assert_eq!(empty.status, 200);
    assert!(!empty.text().contains("Câu hỏi &lt;script"), "nothing is public before it is answered publicly");

    let answer = serde_json::json!({"answer": "Xin trả lời: <b>không</b> chạy mã.", "public": true}).to_string();
    let answered = w.api("POST", &format!("/api/feedback/{code}/answer"), &answer, 200).await;
    assert_eq!((&answered["state"], &answered["public"]), (&"answered".into(), &true.into()), "{answered}");

    let resp = get(w.http(), AIS, "/hoi-dap/").await;
    let page = resp.text();
    assert_eq!(resp.status, 200, "{page}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;"), "the question is shown, escaped:\n{page}");
    assert!(page.contains("&lt;b&gt;không&lt;"), "the answer is shown, escaped:\n{page}");
    for raw in ["<script>alert", "<img src=x", "<b>không"] {
        assert!(!page.contains(raw), "/hoi-dap/ shows {raw:?} unescaped:\n{page}");
    }
    for personal in [NAME, EMAIL, PHONE, "hong.nhung.kiemthu"] {
        assert!(!page.contains(personal), "/hoi-dap/ shows the sender's {personal:?}:\n{page}");
    }
    let lookup = w.lookup(AIS, &code).await.text();
    assert!(
        lookup.contains("Đã trả lời") && lookup.contains("&lt;b&gt;không"),
        "the lookup shows the answer:\n{lookup}"
    );
    assert!(!lookup.contains("<script>alert") && !lookup.contains("<b>không"), "escaped on the lookup page:\n{lookup}");
    let other = get(w.http(), CBC, "/hoi-dap/").await.text();
    assert!(!other.contains("alert(1)"), "cbc's /hoi-dap/ shows nothing of ais:\n{other}");

    // Who may see and answer it: a contributor of another site sees nothing of it, a
    // contributor of the site answers but may not publish.
    let (lan, binh) = (w.user("lan", "contributor", &["ais"]), w.user("binh", "contributor", &["cbc"]));
    let list = w.api_as(&binh, "GET", "/api/feedback", "").await;
    assert_eq!((list.status, list.json()["items"].as_array().map(Vec::len)), (200, Some(0)), "{}", list.text());
    for (method, path, body) in [
        ("GET", format!("/api/feedback/{code}"), ""),
        ("POST", format!("/api/feedback/{code}/answer"), r#"{"answer": "Trả lời của đơn vị khác", "public": false}"#),
    ] {
        let resp = w.api_as(&binh, method, &path, body).await;
        assert_eq!(resp.status, 403, "a contributor of cbc: {method} {path}:\n{}", resp.text());
        assert!(!resp.text().contains(EMAIL), "no personal data in the refusal");
    }
    let mine = w.api_as(&lan, "GET", &format!("/api/feedback/{code}"), "").await;
    assert_eq!((mine.status, mine.json()["email"].as_str()), (200, Some(EMAIL)), "{}", mine.text());
    let publish = r#"{"answer": "Câu trả lời mới", "public": true}"#;
    let resp = w.api_as(&lan, "POST", &format!("/api/feedback/{code}/answer"), publish).await;
    assert_eq!(resp.status, 403, "a contributor may not make an answer public:\n{}", resp.text());
    let page = get(w.http(), AIS, "/hoi-dap/").await.text();
    assert!(!page.contains("Câu trả lời mới"), "the refused answer is not shown:\n{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_sends_keep_the_values_and_keep_nothing() {
    let w = World::start();
    let (f_consent, f_trap, f_cross, f_cbc) = tokio::join!(w.form(AIS), w.form(AIS), w.form(AIS), w.form(CBC));
    ripe(&[&f_consent, &f_trap, &f_cross, &f_cbc]).await;
    let title = "Tiêu đề cần giữ lại khi lỗi";
    let body = "Nội dung cần giữ lại khi lỗi.";

    // ais (4 sends): no consent, the trap filled, then the form shown again sent right, twice.
    let resp = post_form(w.http(), AIS, &with(question(&f_consent, title, body), "consent", None), &[]).await;
    let page = resp.text();
    assert_eq!(resp.status, 422, "no consent:\n{page}");
    assert!(title_of(&page).starts_with("Lỗi: "), "the title starts with Lỗi: {:?}", title_of(&page));
    assert!(page.contains(&format!("value=\"{title}\"")), "the title is kept:\n{page}");
    assert!(page.contains(&format!(">{body}</textarea>")), "the text is kept:\n{page}");
    assert!(page.contains(&format!("value=\"{EMAIL}\"")), "the e-mail is kept:\n{page}");
    assert!(page.contains("href=\"#consent\""), "the error summary links to the consent box:\n{page}");
    let again = Form {
        host: AIS,
        token: attr_value(&page, "name=\"form_token\"").expect("the form again has a token"),
        fetched: Instant::now(),
    };
    assert_ne!(again.token, f_consent.token, "the form shown again carries a fresh token");

    let trap = with(question(&f_trap, title, body), "website", Some("http://spam.example"));
    let resp = post_form(w.http(), AIS, &trap, &[]).await;
    assert_eq!(resp.status, 422, "a filled trap:\n{}", resp.text());
    assert!(title_of(&resp.text()).starts_with("Lỗi: "));

    // ttt (5 sends): a token too fresh, another site's token, too big, not a form, another origin.
    let fresh = w.form(TTT).await;
    let resp = post_form(w.http(), TTT, &question(&fresh, title, body), &[]).await;
    assert!(fresh.fetched.elapsed() < TOKEN_MIN_AGE, "the check needs a token younger than 3 s");
    assert_eq!(resp.status, 422, "a token younger than 3 s:\n{}", resp.text());
    let resp = post_form(w.http(), TTT, &question(&f_cross, title, body), &[]).await;
    assert_eq!(resp.status, 422, "a token of ais sent to ttt:\n{}", resp.text());
    let big = question(&f_cross, title, &"a".repeat(17 * 1024));
    let resp = post_form(w.http(), TTT, &big, &[]).await;
    assert_eq!(resp.status, 413, "a body over 16 KiB:\n{}", resp.text());
    let json = serde_json::json!({"kind": "question", "title": title}).to_string();
    let resp =
        request(w.http(), "POST", TTT, "/hoi-dap/gui/", &[("content-type", "application/json")], json.into_bytes())
            .await;
    assert_eq!(resp.status, 415, "JSON instead of a form:\n{}", resp.text());
    let resp = post_form(w.http(), TTT, &question(&f_cross, title, body), &[("origin", "https://evil.example")]).await;
    assert_eq!(resp.status, 403, "Origin: https://evil.example:\n{}", resp.text());
    assert!(w.items("").await.is_empty(), "nothing refused was kept");

    // The form shown again, sent once it is old enough: accepted once, refused when reused.
    ripe(&[&again]).await;
    let code = w.send(&again, title, body).await;
    let resp = post_form(w.http(), AIS, &question(&again, title, body), &[]).await;
    assert_eq!(resp.status, 422, "a token used already:\n{}", resp.text());
    assert!(resp.text().contains(&format!("value=\"{title}\"")), "values kept on a reused token");
    let items = w.items("").await;
    assert_eq!(items.len(), 1, "one item, sent once: {items:?}");
    assert_eq!(items[0]["code"], code.as_str());

    // A suspended member's host answers the form as it answers any path.
    w.api("POST", "/api/members/cbc/suspend", r#"{"reason": "bảo trì"}"#, 200).await;
    let deadline = Instant::now() + PROPAGATION;
    let home = loop {
        let home = get(w.http(), CBC, "/").await;
        if home.status != 200 || Instant::now() > deadline {
            break home;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(home.status, 503, "suspended cbc answers 503:\n{}", home.text());
    let form = get(w.http(), CBC, "/hoi-dap/gui/").await;
    assert_eq!(form.status, home.status, "GET /hoi-dap/gui/ on suspended cbc:\n{}", form.text());
    assert!(!form.text().contains("form_token"), "no form on a suspended host");
    let lookup = w.lookup(CBC, "CBC-26-00000000").await;
    assert_eq!(lookup.status, home.status, "the lookup page on suspended cbc:\n{}", lookup.text());
    // The visitor who opened cbc's form before the suspend sends it now.
    let resp = post_form(w.http(), CBC, &question(&f_cbc, title, body), &[]).await;
    let elsewhere = request(w.http(), "POST", CBC, "/gioi-thieu/", &[], Vec::new()).await;
    assert_eq!(resp.status, elsewhere.status, "POST /hoi-dap/gui/ on suspended cbc answers as a POST elsewhere");
    assert_eq!(
        resp.status,
        home.status,
        "POST /hoi-dap/gui/ on suspended cbc must answer as the suspended host does ({} with Retry-After, the \
         suspension page), not {} (a POST elsewhere there: {}):\n{}",
        home.status,
        resp.status,
        elsewhere.status,
        resp.text()
    );
    assert!(w.items("site=cbc").await.is_empty(), "nothing kept for suspended cbc");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_when_the_server_is_killed() {
    /// SIGKILLs: each round sends four questions at once and kills the server as soon as
    /// the first is acknowledged, while the others are still in flight. Each round costs a
    /// start and the 3 s a form takes to ripen, so 7 rounds keep the module under a minute.
    const ROUNDS: usize = 7;
    const AT_ONCE: usize = 4;
    let mut w = World::start();
    let mut acknowledged: Vec<(String, String)> = Vec::new();
    for round in 0..ROUNDS {
        // Forms first (a form of before the restart is refused), the checks while they ripen.
        let mut forms = Vec::new();
        for _ in 0..AT_ONCE {
            forms.push(w.form(AIS).await);
        }
        for (code, title) in &acknowledged {
            let page = w.lookup(AIS, code).await;
            assert_eq!(
                page.status,
                200,
                "round {round}: {code} acknowledged before a SIGKILL is lost:\n{}",
                page.text()
            );
            assert!(page.text().contains(title.as_str()), "round {round}: {code} shows its title");
        }
        let listed = w.items("site=ais").await;
        for (code, _) in &acknowledged {
            assert!(listed.iter().any(|i| i["code"] == code.as_str()), "round {round}: the admin API lost {code}");
        }
        ripe(&forms.iter().collect::<Vec<_>>()).await;

        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for (n, form) in forms.iter().enumerate() {
            let title = format!("Câu hỏi vòng {round} số {n}");
            let fields = question(form, &title, "Nội dung cần được giữ lại.");
            let (http, tx) = (w.http(), tx.clone());
            tokio::spawn(async move {
                let body = urlencode(&fields).into_bytes();
                let exchange = async {
                    let mut conn = Conn::open(http, Proto::H1).await?;
                    let headers = [("content-type", "application/x-www-form-urlencoded")];
                    conn.request("POST", AIS, "/hoi-dap/gui/", &headers, body).await
                };
                let _ = tx.send((title, tokio::time::timeout(Duration::from_secs(20), exchange).await));
            });
        }
        drop(tx);
        let mut killed = false;
        while let Some((title, result)) = rx.recv().await {
            match result {
                Ok(Ok(resp)) if resp.status == 303 => {
                    if !killed {
                        w.kill();
                        killed = true;
                    }
                    acknowledged.push((code_of(&resp, AIS), title));
                }
                Ok(Ok(resp)) => panic!("round {round}: a valid send answered {}:\n{}", resp.status, resp.text()),
                // Cut off by the kill: never acknowledged, so nothing is promised.
                Ok(Err(_)) if killed => {}
                other => panic!("round {round}: a send failed before any kill: {other:?}"),
            }
        }
        assert!(killed, "round {round}: no send was acknowledged");
        w.start_again();
    }
    for (code, title) in &acknowledged {
        let page = w.lookup(AIS, code).await;
        assert_eq!(page.status, 200, "{code} acknowledged before a SIGKILL is lost:\n{}", page.text());
        assert!(page.text().contains(title.as_str()), "{code} shows its title");
        let item = w.api("GET", &format!("/api/feedback/{code}"), "", 200).await;
        assert_eq!((&item["title"], &item["email"]), (&title.as_str().into(), &EMAIL.into()), "{item}");
    }
    assert!(acknowledged.len() >= ROUNDS, "at least one acknowledged a round: {acknowledged:?}");
    eprintln!("{} of {} sends acknowledged before {ROUNDS} SIGKILLs, none lost", acknowledged.len(), ROUNDS * AT_ONCE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_rated_once_per_client_and_day() {
    let w = World::start();
    let rate = |host: &'static str, body: &'static str| {
        let http = w.http();
        async move {
            let headers = [("content-type", "application/x-www-form-urlencoded")];
            request(http, "POST", host, "/_danh-gia", &headers, body.as_bytes().to_vec()).await
        }
    };
    let resp = rate(AIS, "path=%2Fgioi-thieu%2F&useful=yes").await;
    assert_eq!(resp.status, 204, "a rating:\n{}", resp.text());
    assert!(resp.body.is_empty(), "204 has no body");
    let resp = rate(AIS, "path=%2Fgioi-thieu%2F&useful=no").await;
    assert_eq!(resp.status, 204, "a second rating of the same page by the same client:\n{}", resp.text());
    let resp = rate(CDS, "path=/gioi-thieu/&useful=no").await;
    assert_eq!(resp.status, 204, "another site:\n{}", resp.text());
    for bad in
        ["path=%2Fgioi-thieu%2F&useful=maybe", "path=%2Fgioi-thieu%2F", "path=gioi-thieu&useful=yes", "useful=yes"]
    {
        let resp = rate(AIS, bad).await;
        assert_eq!(resp.status, 422, "{bad}:\n{}", resp.text());
        assert!(title_of(&resp.text()).starts_with("Lỗi"), "{bad}: {}", title_of(&resp.text()));
    }
    let resp = request(w.http(), "GET", AIS, "/_danh-gia", &[], Vec::new()).await;
    assert_eq!(resp.status, 405, "only POST:\n{}", resp.text());

    // No API shows the counts yet: read them from data/feedback.db (the server is the writer;
    // WAL lets a reader in). One rating per page, client and day: the first one counts.
    let db = rusqlite::Connection::open(w.feedback_db()).expect("open data/feedback.db");
    let deadline = Instant::now() + PROPAGATION;
    let counts = loop {
        let mut stmt =
            db.prepare("SELECT site, path, day, useful, not_useful FROM ratings ORDER BY site").expect("prepare");
        let rows: Vec<(String, String, String, i64, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        if rows.len() >= 2 || Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let today = iso(vn_day(0));
    let expected = [
        ("ais".to_string(), "/gioi-thieu/".to_string(), today.clone(), 1, 0),
        ("cds".to_string(), "/gioi-thieu/".to_string(), today, 0, 1),
    ];
    assert_eq!(counts, expected, "one rating per page, client and day");
    let keys: Vec<String> = db
        .prepare("SELECT key FROM rating_keys")
        .expect("prepare")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(keys.len(), 2, "{keys:?}");
    for key in keys {
        assert!(key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()), "a SHA-256, not the client: {key}");
    }
}

/// The public pages in a real browser: the form filled and sent as a visitor would, on the
/// `.localhost` name of a member site, the lookup page it lands on and the published
/// answers, each with no axe-core violation.
#[tokio::test(flavor = "multi_thread")]
async fn the_public_pages_work_in_a_browser_and_pass_axe() {
    use crate::common::browser::{describe, Browser};
    let Some(b) = Browser::start().await else { return };
    let world = World::start();
    let base = format!("http://ais.mic.gov.vn.localhost:{}", world.http().port());
    b.goto(&format!("{base}/hoi-dap/gui/")).await;
    assert_eq!(b.title().await, "Gửi câu hỏi, khiếu nại, kiến nghị — Cục An toàn thông tin");
    let violations = b.axe().await;
    assert!(violations.is_empty(), "the form page:\n{}", describe(&violations));
    b.fill("#name", NAME).await;
    b.fill("#email", EMAIL).await;
    b.fill("#title", "Hỏi qua trình duyệt").await;
    b.fill("#body", "Thủ tục cấp phép sản phẩm an toàn thông tin gồm những bước nào?").await;
    b.click("#consent").await;
    // The token is good from 3 s after the form was issued.
    tokio::time::sleep(TOKEN_MIN_AGE + Duration::from_millis(200)).await;
    b.click("form button[type=submit]").await;
    b.wait_for("dl").await;
    let url = b.current_url().await;
    assert!(url.contains("/hoi-dap/tra-cuu/?ma=AIS-"), "landed on {url}");
    let text = b.text().await;
    assert!(text.contains("Hỏi qua trình duyệt") && text.contains("Đã tiếp nhận"), "{text}");
    assert!(!text.contains(EMAIL) && !text.contains(NAME), "no personal data on the lookup page:\n{text}");
    let violations = b.axe().await;
    assert!(violations.is_empty(), "the lookup page:\n{}", describe(&violations));
    b.screenshot("feedback-lookup").await;
    b.goto(&format!("{base}/hoi-dap/")).await;
    let violations = b.axe().await;
    assert!(violations.is_empty(), "the answers page:\n{}", describe(&violations));
}

/// The questions inbox of the admin web interface in a real browser: an approver of the
/// site finds the question, answers it and makes the answer public, and the public page
/// shows it; every page passes axe.
#[tokio::test(flavor = "multi_thread")]
async fn the_inbox_answers_a_question_in_a_browser() {
    use crate::common::browser::{describe, Browser};
    let Some(b) = Browser::start().await else { return };
    let world = World::start();
    world.user("minh", "approver", &["ais"]);
    let form = world.form(AIS).await;
    ripe(&[&form]).await;
    let code = world.send(&form, "Hỏi về thủ tục", "Thủ tục gồm những bước nào?").await;
    let admin = format!("http://127.0.0.1:{}", world.server.admin.port());
    b.goto(&format!("{admin}/dang-nhap?tiep=%2Fhoi-dap")).await;
    b.fill("#username", "minh").await;
    b.fill("#password", PASSWORD).await;
    b.click("form button[type=submit]").await;
    b.wait_for("table").await;
    let list = b.text().await;
    assert!(list.contains(&code) && list.contains("Hỏi về thủ tục"), "the inbox lists the question:\n{list}");
    let violations = b.axe().await;
    assert!(violations.is_empty(), "the inbox:\n{}", describe(&violations));
    b.goto(&format!("{admin}/hoi-dap/{code}")).await;
    let item = b.text().await;
    assert!(item.contains(EMAIL) && item.contains("Thủ tục gồm những bước nào?"), "the item, sender included:\n{item}");
    let violations = b.axe().await;
    assert!(violations.is_empty(), "the item page:\n{}", describe(&violations));
    b.fill("#answer", "Gồm ba bước: nộp hồ sơ, thẩm định, cấp phép.").await;
    b.click("#public").await;
    b.click("form[action$='/answer'] button[type=submit]").await;
    b.wait_for(".notice").await;
    assert!(b.text().await.contains("Đã gửi trả lời"), "{}", b.text().await);
    let public = get(world.http(), AIS, "/hoi-dap/").await.text();
    assert!(public.contains("Gồm ba bước") && public.contains("Hỏi về thủ tục"), "published:\n{public}");
    assert!(!public.contains(EMAIL) && !public.contains(NAME), "no personal data on /hoi-dap/:\n{public}");
}
