//! The public's one write path (docs/feedback.md): the question form, its lookup page, the
//! published answers and page ratings on every served member site and the apex. Requests
//! are checked here (signed one-use form token, trap field, per-client rate limit, body
//! cap, content type, `Origin`); what passes is handed to the one writer (a thread of the
//! control side, holding `data/feedback.db`) through [`Desk`], and the answer (303 to the
//! lookup page) is sent only once the writer says the row is committed. The cached GET
//! path never comes here.

use crate::content::render::html_escape;
use crate::model::label::Label;
use crate::serve::form::field;
use crate::serve::handler::{full, Body};
use crate::snapshot::routes::Route;
use crate::snapshot::Snapshot;
use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// The largest form body accepted (413 beyond).
pub const MAX_BODY: usize = 16 * 1024;
/// The longest question, in characters.
pub const MAX_TEXT_CHARS: usize = 5_000;
/// Sends per client address and site per hour (refused ones count).
pub const SENDS_PER_HOUR: usize = 5;
/// A form token is good from 3 s to 2 h after it was issued.
const TOKEN_MIN_AGE: u64 = 3;
const TOKEN_MAX_AGE: u64 = 2 * 3600;

/// What the public sent, checked (the row the writer keeps).
pub use crate::store::feedback::NewItem as Sent;

/// What the lookup page may show of an item: never the name, e-mail or phone.
#[derive(Debug, Clone)]
pub struct Status {
    pub code: String,
    pub site: String,
    pub state: String,
    /// The day received, in Viet Nam (`2026-12-02`).
    pub received_at: String,
    pub due_date: String,
    pub title: String,
    /// The answer, when an approver made it public.
    pub answer: Option<String>,
}

/// A published question and its answer.
#[derive(Debug, Clone)]
pub struct Answered {
    pub code: String,
    pub title: String,
    pub body: String,
    pub answer: String,
    pub answered_at: String,
}

/// A request to the writer.
pub enum Job {
    /// Keep an item; the answer is its tracking code once committed.
    Send(Sent, oneshot::Sender<Result<String, String>>),
    Lookup(String, oneshot::Sender<Option<Status>>),
    Answers(String, oneshot::Sender<Vec<Answered>>),
    /// Count a rating: site, page path, useful, and a key naming the client and day (so one
    /// client's ratings of a page on a day count once).
    Rate(String, String, bool, String),
}

/// The serving side's handle on the write path: the writer's queue, the form-token key and
/// the rate limiter.
pub struct Desk {
    jobs: mpsc::Sender<Job>,
    key: ring::hmac::Key,
    sends: Mutex<HashMap<(IpAddr, String), VecDeque<Instant>>>,
}

/// The pages of the write path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Answers,
    Form,
    Lookup,
    Rate,
}

/// The write path's pages by path. Sites link to them, so the link check of the safety net
/// counts them as served (`content::site::links::PLATFORM_PATHS`; a test holds the two
/// together).
const PAGES: [(&str, Page); 4] = [
    ("/hoi-dap/", Page::Answers),
    ("/hoi-dap/gui/", Page::Form),
    ("/hoi-dap/tra-cuu/", Page::Lookup),
    ("/_danh-gia", Page::Rate),
];

/// The page of `path` on a host whose route serves content (a member's built site, or the
/// apex), with the label its codes carry; `None` for everything else, which the handler
/// answers as for GET.
pub fn target(snap: &Snapshot, host: &str, path: &str, zone_label: &str) -> Option<(Page, Label, String)> {
    let page = PAGES.iter().find(|(p, _)| *p == path)?.1;
    match snap.routes.lookup(host)? {
        Route::Site { label } => {
            let site = snap.site(label)?;
            if crate::serve::handler::in_maintenance(snap, label).is_some() {
                return None;
            }
            Some((page, label.clone(), site.config.names.name_vi.clone()))
        }
        Route::Apex => Some((page, Label::intern(zone_label), snap.platform.name_vi.clone())),
        _ => None,
    }
}

impl Desk {
    /// A desk sending to `jobs`, with a fresh key for form tokens (forms issued before a
    /// restart are refused with a request to send again, values kept).
    pub fn new(jobs: mpsc::Sender<Job>) -> Desk {
        let secret = crate::store::secrets::random_bytes::<32>();
        Desk { jobs, key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret), sends: Mutex::new(HashMap::new()) }
    }

    /// A form token for `site` issued at `now`: `issued.nonce.mac`.
    fn token(&self, site: &str, now: u64) -> String {
        let nonce = crate::store::secrets::hex(&crate::store::secrets::random_bytes::<12>());
        let mac = ring::hmac::sign(&self.key, format!("{site}|{now}|{nonce}").as_bytes());
        format!("{now}.{nonce}.{}", crate::store::secrets::hex(mac.as_ref()))
    }

    /// Whether `token` was issued by this desk for `site`, between 3 s and 2 h ago; its
    /// nonce (for the one-use check) when so.
    fn check_token(&self, token: &str, site: &str, now: u64) -> Result<String, &'static str> {
        let mut parts = token.split('.');
        let (Some(issued), Some(nonce), Some(mac), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("biểu mẫu không hợp lệ; hãy tải lại trang và gửi lại");
        };
        let issued: u64 = issued.parse().map_err(|_| "biểu mẫu không hợp lệ; hãy tải lại trang và gửi lại")?;
        let mac = (0..mac.len() / 2)
            .map(|i| u8::from_str_radix(mac.get(2 * i..2 * i + 2).unwrap_or("zz"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| "biểu mẫu không hợp lệ; hãy tải lại trang và gửi lại")?;
        ring::hmac::verify(&self.key, format!("{site}|{issued}|{nonce}").as_bytes(), &mac)
            .map_err(|_| "biểu mẫu không hợp lệ hoặc đã cũ; hãy tải lại trang và gửi lại")?;
        if now < issued + TOKEN_MIN_AGE {
            return Err("gửi quá nhanh; hãy đọc lại rồi gửi");
        }
        if now > issued + TOKEN_MAX_AGE {
            return Err("biểu mẫu đã quá 2 giờ; hãy tải lại trang và gửi lại");
        }
        Ok(nonce.to_string())
    }

    /// Count a send from `client` to `site`; false when it is over the hourly limit.
    fn allow(&self, client: IpAddr, site: &str) -> bool {
        let now = Instant::now();
        let mut sends = self.sends.lock().unwrap_or_else(|p| p.into_inner());
        if sends.len() > 100_000 {
            sends.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < Duration::from_secs(3600)));
        }
        let times = sends.entry((client, site.to_string())).or_default();
        while times.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(3600)) {
            times.pop_front();
        }
        times.push_back(now);
        times.len() <= SENDS_PER_HOUR
    }

    /// Seconds until `client` may send to `site` again.
    fn retry_after(&self, client: IpAddr, site: &str) -> u64 {
        let sends = self.sends.lock().unwrap_or_else(|p| p.into_inner());
        sends
            .get(&(client, site.to_string()))
            .and_then(|t| t.iter().rev().nth(SENDS_PER_HOUR - 1))
            .map_or(60, |t| 3600u64.saturating_sub(t.elapsed().as_secs()).max(1))
    }

    async fn ask<T>(&self, job: impl FnOnce(oneshot::Sender<T>) -> Job) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        self.jobs.send(job(tx)).await.ok()?;
        rx.await.ok()
    }
}

/// Used nonces, kept until their tokens expire, so a form is sent once.
static USED: Mutex<Option<HashMap<String, u64>>> = Mutex::new(None);

fn first_use(nonce: &str, now: u64) -> bool {
    let mut used = USED.lock().unwrap_or_else(|p| p.into_inner());
    let used = used.get_or_insert_with(HashMap::new);
    if used.len() > 50_000 {
        used.retain(|_, expires| *expires > now);
    }
    used.insert(nonce.to_string(), now + TOKEN_MAX_AGE).is_none()
}

/// Answer a request for one of the write path's pages.
pub async fn answer<B>(
    desk: &Desk,
    (which, site, site_name): (Page, Label, String),
    req: Request<B>,
    client: IpAddr,
) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let now = crate::model::time::now_secs();
    let method = req.method().clone();
    let query = req.uri().query().unwrap_or("").to_string();
    match (which, &method) {
        (Page::Form, &Method::GET) | (Page::Form, &Method::HEAD) => {
            form_page(StatusCode::OK, &site_name, &desk.token(&site, now), &Fields::default(), &[])
        }
        (Page::Form, &Method::POST) => send(desk, &site, &site_name, req, client, now).await,
        (Page::Lookup, &Method::GET) | (Page::Lookup, &Method::HEAD) => {
            let code = field(&query, "ma").trim().to_ascii_uppercase();
            let status =
                if code.is_empty() { None } else { desk.ask(|tx| Job::Lookup(code.clone(), tx)).await.flatten() };
            // Another site's code is not shown here.
            let status = status.filter(|s| s.site == *site);
            lookup_page(&site_name, &code, status.as_ref())
        }
        (Page::Answers, &Method::GET) | (Page::Answers, &Method::HEAD) => {
            let answers = desk.ask(|tx| Job::Answers(site.to_string(), tx)).await.unwrap_or_default();
            answers_page(&site_name, &answers)
        }
        (Page::Rate, &Method::POST) => {
            let Ok(body) = read_form(req).await else {
                return page(StatusCode::PAYLOAD_TOO_LARGE, &site_name, "Quá lớn", "<p>Dữ liệu gửi lên quá lớn.</p>");
            };
            let (path, useful) = (field(&body, "path"), field(&body, "useful"));
            if !path.starts_with('/') || path.len() > 512 || !matches!(useful.as_str(), "yes" | "no") {
                return page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &site_name,
                    "Lỗi: đánh giá",
                    "<p>Đánh giá không hợp lệ.</p>",
                );
            }
            let day = crate::model::time::Date::at_vn(now).iso();
            let key = crate::store::secrets::sha256_hex(format!("{client}|{site}|{path}|{day}").as_bytes());
            let _ = desk.jobs.send(Job::Rate(site.to_string(), path, useful == "yes", key)).await;
            let mut resp = Response::new(full(Bytes::new()));
            *resp.status_mut() = StatusCode::NO_CONTENT;
            resp
        }
        _ => {
            let allow = match which {
                Page::Form => "GET, HEAD, POST",
                Page::Rate => "POST",
                _ => "GET, HEAD",
            };
            let mut resp = page_html(
                StatusCode::METHOD_NOT_ALLOWED,
                &site_name,
                "Không hỗ trợ",
                "<p>Phương thức không được hỗ trợ.</p>",
            );
            resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
            resp
        }
    }
}

/// The form's values, kept when it is shown again.
#[derive(Debug, Default)]
struct Fields {
    kind: String,
    name: String,
    email: String,
    phone: String,
    title: String,
    body: String,
    consent: bool,
}

async fn send<B>(desk: &Desk, site: &str, site_name: &str, req: Request<B>, client: IpAddr, now: u64) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    if !desk.allow(client, site) {
        let mut resp = page(
            StatusCode::TOO_MANY_REQUESTS,
            site_name,
            "Lỗi: gửi quá nhiều lần",
            "<p>Bạn đã gửi quá 5 lần trong một giờ. Xin thử lại sau.</p>",
        );
        let retry = desk.retry_after(client, site).to_string();
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_str(&retry).expect("digits"));
        return resp;
    }
    // The Origin a browser sends must be this host (a form posted from elsewhere is refused).
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("").to_string();
    if let Some(origin) = req.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
        if !origin_host.eq_ignore_ascii_case(&host) && !host.is_empty() {
            return page(
                StatusCode::FORBIDDEN,
                site_name,
                "Lỗi: nguồn gửi",
                "<p>Biểu mẫu phải được gửi từ chính trang này.</p>",
            );
        }
    }
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return page(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            site_name,
            "Lỗi: định dạng",
            "<p>Biểu mẫu phải gửi dạng application/x-www-form-urlencoded.</p>",
        );
    }
    let Ok(body) = read_form(req).await else {
        return page(StatusCode::PAYLOAD_TOO_LARGE, site_name, "Lỗi: quá dài", "<p>Nội dung gửi lên quá 16 KiB.</p>");
    };
    let fields = Fields {
        kind: field(&body, "kind"),
        name: field(&body, "name").trim().to_string(),
        email: field(&body, "email").trim().to_string(),
        phone: field(&body, "phone").trim().to_string(),
        title: field(&body, "title").trim().to_string(),
        body: field(&body, "body").trim().to_string(),
        consent: field(&body, "consent") == "yes",
    };
    let mut errors: Vec<(&str, String)> = Vec::new();
    if !field(&body, "website").is_empty() {
        errors.push(("title", "Biểu mẫu không hợp lệ.".into()));
    }
    match desk.check_token(&field(&body, "form_token"), site, now) {
        Ok(nonce) if !first_use(&nonce, now) => {
            errors.push(("title", "Biểu mẫu này đã được gửi; hãy tải lại trang để gửi câu hỏi mới.".into()))
        }
        Ok(_) => {}
        Err(why) => errors.push(("title", why.to_string())),
    }
    if !["question", "complaint", "petition", "comment"].contains(&fields.kind.as_str()) {
        errors.push(("kind", "Chọn loại: câu hỏi, khiếu nại, kiến nghị hoặc góp ý.".into()));
    }
    if fields.name.is_empty() || fields.name.chars().count() > 120 || fields.name.chars().any(char::is_control) {
        errors.push(("name", "Nhập họ và tên (tối đa 120 ký tự).".into()));
    }
    let email_ok = fields.email.len() <= 254
        && fields.email.split_once('@').is_some_and(|(u, d)| !u.is_empty() && d.contains('.') && !d.starts_with('.'))
        && !fields.email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !email_ok {
        errors.push(("email", "Nhập địa chỉ thư điện tử, ví dụ ten@example.vn.".into()));
    }
    if fields.phone.len() > 20 || !fields.phone.chars().all(|c| c.is_ascii_digit() || " +().-".contains(c)) {
        errors.push(("phone", "Số điện thoại chỉ gồm chữ số (tối đa 20 ký tự).".into()));
    }
    if fields.title.is_empty() || fields.title.chars().count() > 200 {
        errors.push(("title", "Nhập tiêu đề (tối đa 200 ký tự).".into()));
    }
    let body_chars = fields.body.chars().count();
    if body_chars == 0 || body_chars > MAX_TEXT_CHARS {
        errors.push(("body", format!("Nhập nội dung (tối đa {MAX_TEXT_CHARS} ký tự; hiện có {body_chars}).")));
    }
    if !fields.consent {
        errors.push(("consent", "Cần đồng ý cho phép xử lý dữ liệu cá nhân (Nghị định 13/2023/NĐ-CP) để gửi.".into()));
    }
    if !errors.is_empty() {
        return form_page(StatusCode::UNPROCESSABLE_ENTITY, site_name, &desk.token(site, now), &fields, &errors);
    }
    let sent = Sent {
        site: site.to_string(),
        kind: fields.kind.clone(),
        name: fields.name.clone(),
        email: fields.email.clone(),
        phone: fields.phone.clone(),
        title: fields.title.clone(),
        body: fields.body.clone(),
    };
    match desk.ask(|tx| Job::Send(sent, tx)).await {
        Some(Ok(code)) => {
            let mut resp = Response::new(full(Bytes::new()));
            *resp.status_mut() = StatusCode::SEE_OTHER;
            let location = format!("/hoi-dap/tra-cuu/?ma={code}");
            resp.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&location).expect("a code is ASCII"));
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        _ => page(
            StatusCode::SERVICE_UNAVAILABLE,
            site_name,
            "Lỗi: chưa nhận được",
            "<p>Hệ thống chưa ghi nhận được câu hỏi của bạn. Xin gửi lại sau ít phút.</p>",
        ),
    }
}

/// The body of a form POST, at most [`MAX_BODY`] bytes.
async fn read_form<B>(req: Request<B>) -> Result<String, ()>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(());
    }
    let bytes = Limited::new(req.into_body(), MAX_BODY).collect().await.map_err(|_| ())?.to_bytes();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

const KINDS: [(&str, &str); 4] =
    [("question", "Câu hỏi"), ("complaint", "Khiếu nại"), ("petition", "Kiến nghị"), ("comment", "Góp ý")];

const STATES: [(&str, &str); 6] = [
    ("received", "Đã tiếp nhận"),
    ("in_progress", "Đang xử lý"),
    ("answered", "Đã trả lời"),
    ("extended", "Gia hạn"),
    ("out_of_scope", "Không thuộc thẩm quyền"),
    ("spam", "Không hợp lệ"),
];

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:760px;margin:0 auto;padding:16px;color:#1d1d1b}\
label{display:block;font-weight:600;margin:12px 0 4px}input[type=text],input[type=email],select,textarea{font:inherit;\
width:100%;padding:6px;border:2px solid #1d1d1b}textarea{min-height:200px}button{font:inherit;font-weight:600;\
background:#00703c;color:#fff;border:0;padding:8px 16px;margin-top:12px}.error-summary{border:4px solid #b3261e;\
padding:8px 16px}.field-error{color:#b3261e;font-weight:600;margin:0}.trap{position:absolute;left:-10000px}\
a{color:#1d4e89}";

fn page(status: StatusCode, site_name: &str, title: &str, main: &str) -> Response<Body> {
    page_html(status, site_name, title, main)
}

fn page_html(status: StatusCode, site_name: &str, title: &str, main: &str) -> Response<Body> {
    let html = format!(
        "<!doctype html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{} — {}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<header><p><a href=\"/\">{}</a> · <a href=\"/hoi-dap/\">Hỏi đáp</a> · \
         <a href=\"/hoi-dap/gui/\">Gửi câu hỏi</a> · <a href=\"/hoi-dap/tra-cuu/\">Tra cứu</a></p></header>\n\
         <main>\n{main}\n</main>\n</body>\n</html>\n",
        html_escape(title),
        html_escape(site_name),
        html_escape(site_name),
    );
    let mut resp = Response::new(full(Bytes::from(html)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    crate::serve::handler::security_headers(h);
    // These pages carry their few lines of style inline; no script anywhere.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; style-src 'unsafe-inline'; script-src 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    resp
}

fn form_page(
    status: StatusCode,
    site_name: &str,
    token: &str,
    f: &Fields,
    errors: &[(&str, String)],
) -> Response<Body> {
    let e = html_escape;
    let mut main = String::new();
    let title = if errors.is_empty() {
        "Gửi câu hỏi, khiếu nại, kiến nghị"
    } else {
        "Lỗi: Gửi câu hỏi, khiếu nại, kiến nghị"
    };
    main.push_str("<h1>Gửi câu hỏi, khiếu nại, kiến nghị</h1>\n");
    if !errors.is_empty() {
        main.push_str("<div class=\"error-summary\" role=\"alert\"><h2>Có lỗi cần sửa</h2><ul>");
        for (field, message) in errors {
            main.push_str(&format!("<li><a href=\"#{field}\">{}</a></li>", e(message)));
        }
        main.push_str("</ul></div>\n");
    }
    let err = |name: &str| {
        errors
            .iter()
            .filter(|(f, _)| *f == name)
            .map(|(_, m)| format!("<p class=\"field-error\">{}</p>", e(m)))
            .collect::<String>()
    };
    main.push_str(&format!(
        "<p>Câu trả lời trong 15 ngày làm việc. Bạn sẽ nhận một mã để tra cứu.</p>\n\
         <form method=\"post\" action=\"/hoi-dap/gui/\">\n<input type=\"hidden\" name=\"form_token\" value=\"{}\">\n\
         <div class=\"trap\" aria-hidden=\"true\"><label for=\"website\">Để trống ô này</label>\
         <input type=\"text\" id=\"website\" name=\"website\" tabindex=\"-1\" autocomplete=\"off\"></div>\n\
         <label for=\"kind\">Loại</label>{}<select id=\"kind\" name=\"kind\">",
        e(token),
        err("kind")
    ));
    for (value, label) in KINDS {
        let selected = if f.kind == value || (f.kind.is_empty() && value == "question") { " selected" } else { "" };
        main.push_str(&format!("<option value=\"{value}\"{selected}>{label}</option>"));
    }
    main.push_str("</select>\n");
    for (name, label, kind, value, auto) in [
        ("name", "Họ và tên", "text", &f.name, "name"),
        ("email", "Thư điện tử", "email", &f.email, "email"),
        ("phone", "Điện thoại (không bắt buộc)", "text", &f.phone, "tel"),
        ("title", "Tiêu đề", "text", &f.title, "off"),
    ] {
        main.push_str(&format!(
            "<label for=\"{name}\">{label}</label>{}<input type=\"{kind}\" id=\"{name}\" name=\"{name}\" value=\"{}\" autocomplete=\"{auto}\">\n",
            err(name),
            e(value)
        ));
    }
    main.push_str(&format!(
        "<label for=\"body\">Nội dung (tối đa {MAX_TEXT_CHARS} ký tự)</label>{}<textarea id=\"body\" name=\"body\">{}</textarea>\n\
         {}<p><input type=\"checkbox\" id=\"consent\" name=\"consent\" value=\"yes\"{}> <label for=\"consent\" style=\"display:inline\">\
         Tôi đồng ý để cơ quan xử lý dữ liệu cá nhân của tôi để trả lời (Nghị định 13/2023/NĐ-CP).</label></p>\n\
         <button type=\"submit\">Gửi</button>\n</form>",
        err("body"),
        e(&f.body),
        err("consent"),
        if f.consent { " checked" } else { "" }
    ));
    page(status, site_name, title, &main)
}

fn lookup_page(site_name: &str, code: &str, status: Option<&Status>) -> Response<Body> {
    let e = html_escape;
    let mut main = format!(
        "<h1>Tra cứu câu hỏi</h1>\n<form method=\"get\" action=\"/hoi-dap/tra-cuu/\"><label for=\"ma\">Mã tra cứu</label>\
         <input type=\"text\" id=\"ma\" name=\"ma\" value=\"{}\"><button type=\"submit\">Tra cứu</button></form>\n",
        e(code)
    );
    let http_status = match (code.is_empty(), status) {
        (true, _) => StatusCode::OK,
        (false, None) => {
            main.push_str("<p>Không tìm thấy mã này.</p>");
            StatusCode::NOT_FOUND
        }
        (false, Some(s)) => {
            let state = STATES.iter().find(|(k, _)| *k == s.state).map_or(s.state.as_str(), |(_, v)| v);
            main.push_str(&format!(
                "<h2>{}</h2>\n<dl><dt>Mã</dt><dd>{}</dd><dt>Trạng thái</dt><dd>{}</dd><dt>Ngày nhận</dt><dd>{}</dd>\
                 <dt>Hạn trả lời</dt><dd>{}</dd></dl>\n",
                e(&s.title),
                e(&s.code),
                e(state),
                e(&s.received_at),
                e(&s.due_date)
            ));
            if let Some(answer) = &s.answer {
                main.push_str(&format!("<h2>Trả lời</h2>\n<div>{}</div>\n", e(answer).replace('\n', "<br>")));
            }
            StatusCode::OK
        }
    };
    page(http_status, site_name, "Tra cứu câu hỏi", &main)
}

fn answers_page(site_name: &str, answers: &[Answered]) -> Response<Body> {
    let e = html_escape;
    let mut main = String::from("<h1>Hỏi đáp</h1>\n<p><a href=\"/hoi-dap/gui/\">Gửi câu hỏi</a></p>\n");
    if answers.is_empty() {
        main.push_str("<p>Chưa có câu trả lời nào được công bố.</p>");
    }
    for a in answers {
        main.push_str(&format!(
            "<article><h2>{}</h2><p>{}</p><h3>Trả lời ({})</h3><div>{}</div></article>\n",
            e(&a.title),
            e(&a.body).replace('\n', "<br>"),
            e(&a.answered_at),
            e(&a.answer).replace('\n', "<br>")
        ));
    }
    page(StatusCode::OK, site_name, "Hỏi đáp", &main)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A member's page may link to the question form: the link check must not call it
    /// broken.
    #[test]
    fn the_link_check_knows_every_page_of_the_write_path() {
        for (path, _) in PAGES {
            assert!(
                crate::content::site::links::PLATFORM_PATHS.contains(&path),
                "{path} is missing from PLATFORM_PATHS"
            );
        }
    }

    #[test]
    fn tokens_are_signed_timed_and_used_once() {
        let (tx, _rx) = mpsc::channel(1);
        let desk = Desk::new(tx);
        let t = desk.token("ais", 1000);
        assert!(desk.check_token(&t, "ais", 1001).is_err(), "too fresh");
        assert!(desk.check_token(&t, "ais", 1000 + 2 * 3600 + 1).is_err(), "too old");
        assert!(desk.check_token(&t, "cbc", 1010).is_err(), "another site's");
        // The MAC's last digit changed (to another digit than it is).
        let flipped = if t.ends_with('0') { '1' } else { '0' };
        let forged = format!("{}{flipped}", &t[..t.len() - 1]);
        assert!(desk.check_token(&forged, "ais", 1010).is_err(), "a changed MAC");
        let nonce = desk.check_token(&t, "ais", 1010).unwrap();
        assert!(first_use(&nonce, 1010));
        assert!(!first_use(&nonce, 1011), "used once");
        let other = Desk::new(mpsc::channel(1).0);
        assert!(other.check_token(&t, "ais", 1010).is_err(), "another key (a restart)");
    }

    #[test]
    fn five_sends_an_hour() {
        let desk = Desk::new(mpsc::channel(1).0);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..SENDS_PER_HOUR {
            assert!(desk.allow(ip, "ais"));
        }
        assert!(!desk.allow(ip, "ais"), "the sixth");
        assert!(desk.allow(ip, "cbc"), "per site");
        assert!(desk.retry_after(ip, "ais") > 3000);
    }

    #[test]
    fn pages_escape_what_the_public_wrote() {
        let a = Answered {
            code: "AIS-26-X".into(),
            title: "<script>alert(1)</script>".into(),
            body: "a & b".into(),
            answer: "<b>đáp</b>".into(),
            answered_at: "2026-12-01".into(),
        };
        let resp = answers_page("Cục <An toàn>", &[a]);
        let body = futures_body(resp);
        assert!(
            body.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
                || body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{body}"
        );
        assert!(!body.contains("<script>"));
        assert!(body.contains("&lt;b&gt;đáp"));
    }

    fn futures_body(resp: Response<Body>) -> String {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let bytes = rt.block_on(async { resp.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default() });
        String::from_utf8_lossy(&bytes).into_owned()
    }
}
