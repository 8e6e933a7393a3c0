//! The admin web interface (docs/web.md): server-rendered Vietnamese pages on the admin
//! listener, for the people who run the platform. Every action goes through the same code
//! as the JSON API (`control::content`, `control::membership`, the store), so a rule has one
//! home; this module only turns forms into those calls and their answers into pages.
//!
//! Sessions are cookies known to the store by their SHA-256; every form carries the
//! session's CSRF token; every action answers with a redirect (POST-redirect-GET). Pages
//! are never compressed (the admin listener compresses nothing), so BREACH cannot read the
//! CSRF token through a compression side channel. No script: the pages work in any browser.

mod forms;

use crate::control::admin::{content_error, parse_query, Admin};
use crate::control::content::{self, ContentError, Look};
use crate::control::membership::{self, AdmitError};
use crate::model::account::{Role, User};
use crate::model::member::Status as MemberStatus;
use crate::model::submission::{Action, State};
use crate::serve::handler::Body;
use crate::store::registry::{off_workers, Registry, RegistryError, Session};
use crate::store::secrets::constant_time_eq;
use bytes::Bytes;
use forms::Form;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use minijinja::Environment;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The session cookie. The admin listener speaks plain HTTP on a loopback or management
/// address, where the `__Host-` prefix (which needs `Secure`) cannot be used; the cookie is
/// still host-only (no `Domain`), `HttpOnly` and `SameSite=Strict`.
const COOKIE: &str = "cong";

const STYLE: &str = include_str!("style.css");

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("signin.html", include_str!("templates/signin.html")),
    ("dashboard.html", include_str!("templates/dashboard.html")),
    ("queue.html", include_str!("templates/queue.html")),
    ("submission.html", include_str!("templates/submission.html")),
    ("members.html", include_str!("templates/members.html")),
    ("member.html", include_str!("templates/member.html")),
    ("register.html", include_str!("templates/register.html")),
    ("sites.html", include_str!("templates/sites.html")),
    ("site.html", include_str!("templates/site.html")),
    ("edit.html", include_str!("templates/edit.html")),
    ("audit.html", include_str!("templates/audit.html")),
    ("certs.html", include_str!("templates/certs.html")),
    ("dns.html", include_str!("templates/dns.html")),
    ("users.html", include_str!("templates/users.html")),
    ("message.html", include_str!("templates/message.html")),
    ("inbox.html", include_str!("templates/inbox.html")),
    ("item.html", include_str!("templates/item.html")),
];

/// The words the pages show for the contract's codes.
fn vocabulary() -> Value {
    json!({
        "role_vi": { "admin": "quản trị", "board": "Ban biên tập", "approver": "người duyệt",
                     "contributor": "cán bộ đầu mối", "integration": "tích hợp" },
        "state_vi": { "submitted": "chờ duyệt", "escalated": "chuyển Ban biên tập", "scheduled": "đã duyệt, chờ giờ đăng",
                      "approved": "đã duyệt", "rejected": "bị từ chối", "withdrawn": "đã rút", "needs_review": "đã đăng, cần xem lại" },
        "status_vi": { "pending": "chờ kích hoạt", "active": "đang hoạt động", "suspended": "tạm dừng", "archived": "lưu trữ",
                       "passed": "đạt", "warning": "cảnh báo", "failed": "lỗi", "error": "không kiểm tra được",
                       "info": "thông tin", "not_tested": "không kiểm tra" },
        "change_vi": { "added": "thêm mới", "modified": "sửa", "deleted": "xoá" },
        "membership_vi": { "shared": "dùng chung hạ tầng", "independent": "vận hành độc lập" },
        "kind_vi": { "question": "câu hỏi", "complaint": "khiếu nại", "petition": "kiến nghị", "comment": "góp ý" },
        "fstate_vi": { "received": "đã tiếp nhận", "in_progress": "đang xử lý", "answered": "đã trả lời", "extended": "gia hạn",
                       "out_of_scope": "không thuộc thẩm quyền", "spam": "không hợp lệ" },
        "symbol": { "passed": "✓", "warning": "!", "failed": "✗", "error": "?", "info": "i", "not_tested": "–", "none": "–" },
    })
}

/// What a finished action says on the page it redirects to (`?tb=`); only these texts can
/// appear, so a link cannot make the interface say anything else.
const NOTICES: &[(&str, &str)] = &[
    ("saved", "Đã lưu vào bản làm việc. Gửi duyệt để đăng."),
    ("uploaded", "Đã tải tệp lên bản làm việc."),
    ("deleted", "Đã xoá khỏi bản làm việc. Gửi duyệt để gỡ khỏi trang."),
    ("submitted", "Đã gửi duyệt."),
    ("approved", "Đã duyệt và đăng."),
    ("scheduled", "Đã duyệt; sẽ đăng đúng giờ hẹn."),
    ("rejected", "Đã từ chối."),
    ("escalated", "Đã chuyển Ban biên tập."),
    ("withdrawn", "Đã rút lại."),
    ("registered", "Đã đăng ký thành viên (chờ kích hoạt)."),
    ("status", "Đã đổi trạng thái."),
    ("answered", "Đã gửi trả lời."),
    ("extended", "Đã gia hạn."),
    ("out_of_scope", "Đã ghi nhận: không thuộc thẩm quyền."),
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source).expect("the interface's templates parse");
        }
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        // As the sites' templates do: `/` needs no escaping in HTML text or quoted attributes.
        env.set_formatter(|out, state, value| match (state.auto_escape(), value.as_str()) {
            (minijinja::AutoEscape::Html, Some(s)) if !value.is_safe() => {
                out.write_str(&crate::content::render::html_escape(s)).map_err(minijinja::Error::from)
            }
            _ => minijinja::escape_formatter(out, state, value),
        });
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        for (key, value) in vocabulary().as_object().expect("an object") {
            env.add_global(key.clone(), minijinja::Value::from_serialize(value));
        }
        env
    })
}

/// A page being answered: who asks and what they sent.
struct Ctx {
    admin: Arc<Admin>,
    session: Option<Session>,
    query: HashMap<String, String>,
}

/// An error shown in the summary at the top, linking to its field.
fn field_error(field: &str, message: impl Into<String>) -> Value {
    json!({ "field": field, "message": message.into() })
}

impl Ctx {
    fn me(&self) -> &User {
        &self.session.as_ref().expect("signed in").user
    }

    /// Render `template` with the base context (who, the CSRF token, the notice) and `vars`.
    fn page(&self, status: StatusCode, template: &str, title: &str, nav: &str, vars: Value) -> Response<Body> {
        let notice = self.query.get("tb").and_then(|k| NOTICES.iter().find(|(key, _)| key == k)).map(|(_, text)| *text);
        let mut ctx = json!({
            "title": title,
            "nav": nav,
            "me": self.session.as_ref().map(|s| &s.user),
            "csrf": self.session.as_ref().map(|s| s.csrf.as_str()),
            "notice": notice,
            "zone": self.admin.live.config.platform.zone,
            "errors": [],
            "bad": {},
        });
        if let (Some(base), Value::Object(more)) = (ctx.as_object_mut(), vars) {
            base.extend(more);
        }
        // Each field named in the error summary is marked where it stands.
        if ctx["bad"].as_object().is_some_and(|b| b.is_empty()) {
            let bad: serde_json::Map<String, Value> = ctx["errors"]
                .as_array()
                .map(|errors| {
                    errors
                        .iter()
                        .filter_map(|e| Some((e["field"].as_str()?.to_string(), e["message"].clone())))
                        .collect()
                })
                .unwrap_or_default();
            ctx["bad"] = Value::Object(bad);
        }
        let rendered =
            environment().get_template(template).and_then(|t| t.render(minijinja::Value::from_serialize(&ctx)));
        match rendered {
            Ok(html) => html_response(status, html),
            Err(e) => {
                tracing::error!("admin interface: rendering {template}: {e:#}");
                html_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "<!doctype html><title>Lỗi</title><p>Lỗi hệ thống.".into(),
                )
            }
        }
    }

    fn message(&self, status: StatusCode, title: &str, message: &str, back: &str) -> Response<Body> {
        self.page(status, "message.html", title, "", json!({ "message": message, "back": back }))
    }

    fn forbidden(&self) -> Response<Body> {
        self.message(StatusCode::FORBIDDEN, "Không có quyền", "Tài khoản của bạn không được làm việc này.", "/")
    }

    fn not_found(&self) -> Response<Body> {
        self.message(StatusCode::NOT_FOUND, "Không tìm thấy", "Không có trang này.", "/")
    }

    /// A publishing error as a page: the API's status and code, in words.
    fn content_failed(&self, e: ContentError, back: &str) -> Response<Body> {
        let api = content_error(e);
        let title = match api.1 {
            "forbidden" => "Không có quyền",
            "self_approval" => "Không tự duyệt bài của mình",
            "board_required" => "Cần Ban biên tập quyết định",
            "stale" => "Bài đã cũ",
            "already_decided" => "Bài đã được quyết định",
            "reason_required" => "Cần nêu lý do",
            "build_failed" => "Trang không dựng được",
            "nothing_to_submit" => "Không có gì để gửi",
            "precondition_failed" => "Tệp đã bị sửa",
            _ => "Không thực hiện được",
        };
        self.message(api.0, title, &format!("{} [{}]", api.2, api.1), back)
    }

    async fn registry<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Registry) -> Result<T, ContentError> + Send + 'static,
    ) -> Result<T, ContentError> {
        off_workers(&self.admin.registry, f).await.map_err(|e| ContentError::Io {
            what: "the registry".into(),
            error: std::io::Error::other(e.to_string()),
        })?
    }
}

fn html_response(status: StatusCode, html: String) -> Response<Body> {
    let mut resp = Response::new(crate::serve::handler::full(Bytes::from(html)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    resp
}

/// 303 to `location` (POST-redirect-GET).
fn redirect(location: &str) -> Response<Body> {
    let mut resp = Response::new(crate::serve::handler::full(Bytes::new()));
    *resp.status_mut() = StatusCode::SEE_OTHER;
    resp.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/")));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Only a path on this host (`/x`), never `//other` or a full URL.
fn local_path(next: &str) -> &str {
    // Browsers drop tabs and newlines from URLs (`/\t/evil` is `//evil`): no control
    // character, space or backslash at all.
    let plain = !next.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    if plain && next.starts_with('/') && !next.starts_with("//") {
        next
    } else {
        "/"
    }
}

fn now() -> i64 {
    i64::try_from(crate::model::time::now_secs()).unwrap_or(i64::MAX)
}

/// Answer one request for the web interface.
pub async fn handle<B>(admin: Arc<Admin>, req: Request<B>) -> Response<Body>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    if path == "/_web/style.css" {
        let mut resp = Response::new(crate::serve::handler::full(Bytes::from_static(STYLE.as_bytes())));
        resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
        return resp;
    }
    let query = parse_query(req.uri().query().unwrap_or(""));
    let cookie = req
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| forms::cookie(c, COOKIE))
        .map(str::to_string);
    let session = match &cookie {
        Some(c) => {
            let c = c.clone();
            off_workers(&admin.registry, move |r| r.session(&c, now())).await.ok().and_then(Result::ok).flatten()
        }
        None => None,
    };
    let ctx = Ctx { admin: admin.clone(), session, query };
    let form = if method == Method::POST {
        match read_form(&admin, req).await {
            Ok(f) => f,
            Err(resp) => return resp,
        }
    } else {
        Form::default()
    };
    let segments: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();

    match (&method, segs.as_slice()) {
        (&Method::GET, ["dang-nhap"]) if ctx.session.is_some() => return redirect("/"),
        (&Method::GET, ["dang-nhap"]) => return signin_page(&ctx, "", StatusCode::OK, Vec::new()),
        (&Method::POST, ["dang-nhap"]) => return signin(&ctx, &form).await,
        _ => {}
    }
    let Some(session) = &ctx.session else {
        if method == Method::GET {
            let next: String =
                percent_encoding::utf8_percent_encode(&path, percent_encoding::NON_ALPHANUMERIC).collect();
            return redirect(&format!("/dang-nhap?tiep={next}"));
        }
        return redirect("/dang-nhap");
    };
    if method == Method::POST
        && segs.as_slice() == ["dang-xuat"]
        && constant_time_eq(form.get("csrf").as_bytes(), session.csrf.as_bytes())
    {
        return signout(&ctx, cookie.as_deref()).await;
    }
    if session.user.role == Role::Integration {
        return ctx.message(
            StatusCode::FORBIDDEN,
            "Không dùng được giao diện này",
            "Tài khoản tích hợp chỉ gửi dữ liệu qua API.",
            "/dang-nhap",
        );
    }
    if method == Method::POST && !constant_time_eq(form.get("csrf").as_bytes(), session.csrf.as_bytes()) {
        return ctx.message(
            StatusCode::FORBIDDEN,
            "Thiếu mã chống giả mạo",
            "Biểu mẫu thiếu mã chống giả mạo (CSRF) hoặc mã đã hết hạn. Hãy tải lại trang và làm lại.",
            "/",
        );
    }
    match (&method, segs.as_slice()) {
        (&Method::POST, ["dang-xuat"]) => signout(&ctx, cookie.as_deref()).await,
        (&Method::GET, []) => dashboard(&ctx).await,
        (&Method::GET, ["duyet"]) => queue(&ctx).await,
        (&Method::GET, ["duyet", id]) => match id.parse() {
            Ok(id) => submission(&ctx, id).await,
            Err(_) => ctx.not_found(),
        },
        (&Method::GET, ["duyet", id, "xem-truoc", rest @ ..]) => match id.parse() {
            Ok(id) => {
                let slash = if path.ends_with('/') && !rest.is_empty() { "/" } else { "" };
                preview(&ctx, id, &format!("/{}{slash}", rest.join("/"))).await
            }
            Err(_) => ctx.not_found(),
        },
        (&Method::POST, ["duyet", id, action]) => match (id.parse(), Action::parse(action)) {
            (Ok(id), Some(action)) => decide(&ctx, id, action, &form).await,
            _ => ctx.not_found(),
        },
        (&Method::GET, ["thanh-vien"]) => members(&ctx).await,
        (&Method::GET, ["thanh-vien", "dang-ky"]) => register_page(&ctx, &Form::default(), None, &[]),
        (&Method::POST, ["thanh-vien", "dang-ky"]) => register(&ctx, &form).await,
        (&Method::GET, ["thanh-vien", label]) => member(&ctx, label).await,
        (&Method::POST, ["thanh-vien", label, action]) => member_status(&ctx, label, action, &form).await,
        (&Method::GET, ["don-vi"]) => sites(&ctx),
        (&Method::GET, ["don-vi", label]) => site(&ctx, label, Vec::new(), StatusCode::OK).await,
        (&Method::GET, ["don-vi", label, "sua"]) => edit_page(&ctx, label).await,
        (&Method::POST, ["don-vi", label, "sua"]) => save_page(&ctx, label, &form).await,
        (&Method::POST, ["don-vi", label, "tai-len"]) => upload(&ctx, label, form).await,
        (&Method::POST, ["don-vi", label, "xoa"]) => delete(&ctx, label, &form).await,
        (&Method::POST, ["don-vi", label, "gui-duyet"]) => submit(&ctx, label, &form).await,
        (&Method::GET, ["hoi-dap"]) => inbox(&ctx).await,
        (&Method::GET, ["hoi-dap", code]) => item(&ctx, code).await,
        (&Method::POST, ["hoi-dap", code, action]) => item_action(&ctx, code, action, &form).await,
        (&Method::GET, ["nhat-ky"]) => audit(&ctx).await,
        (&Method::GET, ["chung-chi"]) => certificates(&ctx),
        (&Method::GET, ["dns"]) => dns(&ctx).await,
        (&Method::GET, ["nguoi-dung"]) => users(&ctx).await,
        _ => ctx.not_found(),
    }
}

/// The form of a POST: URL-encoded, or multipart (uploads) up to the static file cap.
async fn read_form<B>(admin: &Admin, req: Request<B>) -> Result<Form, Response<Body>>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let limits = &admin.live.config.limits;
    let multipart = forms::boundary(&content_type).map(str::to_string);
    let limit =
        if multipart.is_some() { limits.max_static_file_bytes + 64 * 1024 } else { limits.max_admin_body_bytes };
    let body = match Limited::new(req.into_body(), usize::try_from(limit).unwrap_or(usize::MAX)).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => {
            return Err(html_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("<!doctype html><html lang=\"vi\"><title>Tệp quá lớn</title><p>Dữ liệu gửi lên quá {limit} byte.</p></html>"),
            ))
        }
    };
    Ok(match multipart {
        Some(b) => Form::multipart(&body, &b).unwrap_or_default(),
        None => Form::urlencoded(&body),
    })
}

fn signin_page(ctx: &Ctx, username: &str, status: StatusCode, errors: Vec<Value>) -> Response<Body> {
    let next = ctx.query.get("tiep").map_or("/", |n| local_path(n));
    ctx.page(status, "signin.html", "Đăng nhập", "", json!({ "username": username, "next": next, "errors": errors }))
}

/// `POST /dang-nhap`: 5 failures for a user within 15 minutes lock it for 15 minutes (429).
async fn signin(ctx: &Ctx, form: &Form) -> Response<Body> {
    let (username, password) = (form.get("username").trim().to_string(), form.get("password").to_string());
    let next = local_path(form.get("tiep")).to_string();
    let u = username.clone();
    let outcome = ctx
        .registry(move |r| {
            let now = now();
            if r.locked_out(&u, now)? {
                return Ok(Err(true));
            }
            match r.check_password(&u, &password)? {
                Some(user) => {
                    r.signin_succeeded(&u)?;
                    let (cookie, _) = r.create_session(&user.username, now)?;
                    Ok(Ok(cookie))
                }
                None => {
                    r.signin_failed(&u, now)?;
                    Ok(Err(r.locked_out(&u, now)?))
                }
            }
        })
        .await;
    match outcome {
        Ok(Ok(cookie)) => {
            let mut resp = redirect(&next);
            let value = format!("{COOKIE}={cookie}; HttpOnly; SameSite=Strict; Path=/");
            resp.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&value).expect("hex cookie"));
            resp
        }
        Ok(Err(true)) => {
            let mut resp = signin_page(
                ctx,
                &username,
                StatusCode::TOO_MANY_REQUESTS,
                vec![field_error("username", "Đăng nhập sai quá 5 lần: tài khoản tạm khoá 15 phút.")],
            );
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("900"));
            resp
        }
        Ok(Err(false)) => signin_page(
            ctx,
            &username,
            StatusCode::UNAUTHORIZED,
            vec![field_error("password", "Sai tên đăng nhập hoặc mật khẩu.")],
        ),
        Err(e) => ctx.content_failed(e, "/dang-nhap"),
    }
}

async fn signout(ctx: &Ctx, cookie: Option<&str>) -> Response<Body> {
    if let Some(c) = cookie.map(str::to_string) {
        let _ = ctx.registry(move |r| Ok(r.end_session(&c)?)).await;
    }
    let mut resp = redirect("/dang-nhap");
    let expired = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    resp.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&expired).expect("valid cookie"));
    resp
}

/// The submissions `user` may see: those of its sites (its own, and for reviewers all).
fn visible(user: &User, s: &crate::store::registry::Submission) -> bool {
    user.in_scope(&s.site) || s.author == user.username
}

async fn dashboard(ctx: &Ctx) -> Response<Body> {
    let me = ctx.me().clone();
    let waiting = match ctx.registry(|r| Ok(r.submissions(None, None)?)).await {
        Ok(list) => list.into_iter().filter(|s| s.state.is_open() && visible(&me, s)).collect::<Vec<_>>(),
        Err(e) => return ctx.content_failed(e, "/"),
    };
    let soon = now() + 14 * 86_400;
    let certs = ctx.admin.certificates();
    let expiring: Vec<&Value> = certs["names"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter(|r| {
                    let ends = r["not_after"].as_str().and_then(crate::model::time::parse_rfc3339);
                    ends.is_some_and(|t| t < soon) || matches!(r["status"].as_str(), Some("expired" | "failing"))
                })
                .collect()
        })
        .unwrap_or_default();
    ctx.admin.dns.refresh().await;
    let dns_failing: Vec<String> = ctx
        .admin
        .dns
        .last()
        .map(|r| r.members.iter().filter(|m| m.status.as_str() == "failed").map(|m| m.label.clone()).collect())
        .unwrap_or_default();
    let items =
        ctx.admin.feedback_list(&HashMap::new(), ctx.me()).await.map(|(_, v)| v["items"].clone()).unwrap_or_default();
    let (today, soon) = (
        crate::model::time::Date::today(),
        crate::model::time::Date::from_days(crate::model::time::Date::today().days_since_epoch() + 3),
    );
    let open: Vec<&Value> = items
        .as_array()
        .map(|a| {
            a.iter().filter(|i| matches!(i["state"].as_str(), Some("received" | "in_progress" | "extended"))).collect()
        })
        .unwrap_or_default();
    let overdue = open.iter().filter(|i| i["due_date"].as_str().is_some_and(|d| d < today.iso().as_str())).count();
    let due_soon = open.iter().filter(|i| i["due_date"].as_str().is_some_and(|d| d <= soon.iso().as_str())).count();
    ctx.page(
        StatusCode::OK,
        "dashboard.html",
        "Tổng quan",
        "home",
        json!({ "waiting": waiting, "expiring": expiring, "dns_failing": dns_failing,
                "questions_due": due_soon, "questions_overdue": overdue }),
    )
}

async fn queue(ctx: &Ctx) -> Response<Body> {
    let me = ctx.me().clone();
    let state = ctx.query.get("state").and_then(|s| State::parse(s));
    let list = match ctx.registry(move |r| Ok(r.submissions(None, state)?)).await {
        Ok(list) => list,
        Err(e) => return ctx.content_failed(e, "/"),
    };
    let shown: Vec<_> =
        list.into_iter().filter(|s| visible(&me, s) && (state.is_some() || s.state.is_open())).collect();
    let states: Vec<&str> = State::ALL.iter().map(|s| s.as_str()).collect();
    ctx.page(
        StatusCode::OK,
        "queue.html",
        "Duyệt bài",
        "queue",
        json!({ "submissions": shown, "states": states, "state": state.map(State::as_str) }),
    )
}

/// The public URL path of a content file (`content/tin-tuc/a.md` → `/tin-tuc/a/`).
fn page_url(path: &str) -> Option<String> {
    let rel = path.strip_prefix("content/")?.strip_suffix(".md")?;
    let rel = rel.strip_suffix("_index").unwrap_or(rel).trim_end_matches('/');
    Some(if rel.is_empty() { "/".into() } else { format!("/{rel}/") })
}

async fn submission(ctx: &Ctx, id: i64) -> Response<Body> {
    let loaded = ctx
        .registry(move |r| {
            let s = r.submission(id)?;
            let diffs = content::diffs(r, &s)?;
            Ok((s, diffs, r.submission_history(id)?))
        })
        .await;
    let (s, diffs, history) = match loaded {
        Ok(x) => x,
        Err(ContentError::Registry(RegistryError::NoSubmission { .. })) => return ctx.not_found(),
        Err(e) => return ctx.content_failed(e, "/duyet"),
    };
    let me = ctx.me();
    if !visible(me, &s) {
        return ctx.forbidden();
    }
    let can_decide = me.may_review(&s.site)
        && s.state.is_open()
        && s.author != me.username
        && (s.state != State::Escalated || me.may_decide_escalated());
    let can_withdraw = s.author == me.username && matches!(s.state, State::Submitted | State::Escalated);
    let stale = if matches!(s.state, State::Submitted | State::Escalated) {
        let (config, sub) = (ctx.admin.config.clone(), s.clone());
        ctx.registry(move |r| content::stale_path(r, &config, &sub)).await.ok().flatten()
    } else {
        None
    };
    let diffs: Vec<Value> = diffs
        .iter()
        .map(|d| {
            let mut v = serde_json::to_value(d).expect("diffs serialise");
            if d.change != crate::model::submission::ChangeKind::Deleted {
                v["url"] = json!(page_url(&d.path));
            }
            let lines: Vec<Value> = d
                .diff
                .as_deref()
                .unwrap_or("")
                .lines()
                .map(|l| {
                    let kind = match l.as_bytes().first() {
                        Some(b'+') if !l.starts_with("+++") => Some("add"),
                        Some(b'-') if !l.starts_with("---") => Some("del"),
                        _ => None,
                    };
                    json!({ "kind": kind, "text": l })
                })
                .collect();
            v["lines"] = json!(lines);
            v
        })
        .collect();
    let title = format!("Bài gửi duyệt #{}", s.id);
    ctx.page(
        StatusCode::OK,
        "submission.html",
        &title,
        "queue",
        json!({ "s": s, "diffs": diffs, "history": history, "can_decide": can_decide, "can_withdraw": can_withdraw,
                "stale": stale }),
    )
}

async fn preview(ctx: &Ctx, id: i64, page: &str) -> Response<Body> {
    let s = match ctx.registry(move |r| Ok(r.submission(id)?)).await {
        Ok(s) => s,
        Err(_) => return ctx.not_found(),
    };
    if !visible(ctx.me(), &s) {
        return ctx.forbidden();
    }
    let (config, snap, label) = (ctx.admin.config.clone(), ctx.admin.live.snapshot_arc(), s.site.clone());
    let built = ctx
        .registry(move |r| {
            let look = Look { themes: &snap.themes, platform: &snap.platform };
            content::preview(r, &config, &look, &label, Some(id))
        })
        .await;
    match built {
        Ok(Ok(site)) => {
            let entry = site.lookup(page);
            let prepared = match entry {
                Some(crate::content::site::Entry::Page(p)) => p.clone(),
                _ => site.not_found.clone(),
            };
            let mut resp = html_response(prepared.status, String::from_utf8_lossy(&prepared.body()).into_owned());
            resp.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
            resp
        }
        Ok(Err(problems)) => {
            let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
            ctx.message(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Trang không dựng được",
                &text.join("; "),
                &format!("/duyet/{id}"),
            )
        }
        Err(e) => ctx.content_failed(e, &format!("/duyet/{id}")),
    }
}

async fn decide(ctx: &Ctx, id: i64, action: Action, form: &Form) -> Response<Body> {
    let (config, user, reason) = (ctx.admin.config.clone(), ctx.me().clone(), form.get("reason").to_string());
    let decided = ctx
        .registry(move |r| {
            content::decide(r, &config, &user, id, action, Some(reason.as_str()).filter(|r| !r.trim().is_empty()))
        })
        .await;
    match decided {
        Ok(s) => {
            if s.state == State::Approved {
                if let Err(e) = ctx.admin.publish_now().await {
                    tracing::error!("publishing submission {id}: {}", e.2);
                }
            }
            let notice = match s.state {
                State::Approved => "approved",
                State::Scheduled => "scheduled",
                State::Rejected => "rejected",
                State::Escalated => "escalated",
                State::Withdrawn => "withdrawn",
                _ => "submitted",
            };
            redirect(&format!("/duyet/{id}?tb={notice}"))
        }
        Err(e) => ctx.content_failed(e, &format!("/duyet/{id}")),
    }
}

async fn members(ctx: &Ctx) -> Response<Body> {
    let status = ctx.query.get("status").and_then(|s| MemberStatus::parse(s));
    let q = ctx.query.get("q").cloned().unwrap_or_default();
    let zone = ctx.admin.live.config.platform.zone.clone();
    let list = match ctx.registry(|r| Ok(r.members()?)).await {
        Ok(list) => list,
        Err(e) => return ctx.content_failed(e, "/"),
    };
    let needle = crate::model::naming::strip_diacritics(&q).to_lowercase();
    let shown: Vec<Value> = list
        .iter()
        .filter(|m| status.is_none_or(|s| m.status == s))
        .filter(|m| {
            needle.is_empty()
                || m.names.label.contains(&needle)
                || crate::model::naming::strip_diacritics(&m.names.name_vi).to_lowercase().contains(&needle)
        })
        .map(|m| {
            json!({ "label": m.names.label, "name_vi": m.names.name_vi, "membership": m.names.membership,
                    "status": m.status, "fourth_level": m.fourth_level(&zone) })
        })
        .collect();
    ctx.page(
        StatusCode::OK,
        "members.html",
        "Thành viên",
        "members",
        json!({ "members": shown, "status": status.map(MemberStatus::as_str), "q": q }),
    )
}

async fn member(ctx: &Ctx, label: &str) -> Response<Body> {
    let l = label.to_string();
    let found = match ctx.registry(move |r| Ok(r.member(&l)?)).await {
        Ok(m) => m,
        Err(e) => return ctx.content_failed(e, "/thanh-vien"),
    };
    let Some(m) = found else { return ctx.not_found() };
    let zone = &ctx.admin.live.config.platform.zone;
    let actions: Vec<(&str, &str)> = match m.status {
        MemberStatus::Pending | MemberStatus::Suspended => vec![("activate", "Kích hoạt"), ("archive", "Lưu trữ")],
        MemberStatus::Active => vec![("suspend", "Tạm dừng"), ("archive", "Lưu trữ")],
        MemberStatus::Archived => Vec::new(),
    };
    let n = &m.names;
    let view = json!({ "label": n.label, "name_vi": n.name_vi, "name_en": n.name_en, "membership": n.membership,
        "status": m.status, "fourth_level": m.fourth_level(zone), "own_domains": n.own_domains, "aliases": n.aliases,
        "servers": n.servers });
    ctx.page(StatusCode::OK, "member.html", &n.name_vi.clone(), "members", json!({ "m": view, "actions": actions }))
}

async fn member_status(ctx: &Ctx, label: &str, action: &str, form: &Form) -> Response<Body> {
    if !ctx.me().is_admin() {
        return ctx.forbidden();
    }
    let to = match action {
        "activate" => MemberStatus::Active,
        "suspend" => MemberStatus::Suspended,
        "archive" => MemberStatus::Archived,
        _ => return ctx.not_found(),
    };
    let (l, actor, reason) = (label.to_string(), ctx.me().username.clone(), form.get("reason").trim().to_string());
    let config = ctx.admin.live.config.clone();
    let changed = off_workers(&ctx.admin.registry, move |r| {
        membership::set_status(r, &config, &l, to, &actor, Some(reason.as_str()).filter(|r| !r.is_empty()))
    })
    .await;
    match changed {
        Ok(Ok(_)) => {
            ctx.admin.refresh().await;
            redirect(&format!("/thanh-vien/{label}?tb=status"))
        }
        Ok(Err(e)) => ctx.message(
            StatusCode::CONFLICT,
            "Không đổi được trạng thái",
            &e.to_string(),
            &format!("/thanh-vien/{label}"),
        ),
        Err(e) => ctx.message(StatusCode::INTERNAL_SERVER_ERROR, "Lỗi hệ thống", &e.to_string(), "/thanh-vien"),
    }
}

fn register_page(
    ctx: &Ctx,
    form: &Form,
    report: Option<&crate::model::naming::NameReport>,
    errors: &[Value],
) -> Response<Body> {
    if !ctx.me().is_admin() {
        return ctx.forbidden();
    }
    let bad: serde_json::Map<String, Value> =
        errors.iter().filter_map(|e| Some((e["field"].as_str()?.to_string(), e["message"].clone()))).collect();
    let f = json!({
        "label": form.get("label"), "name_vi": form.get("name_vi"), "name_en": form.get("name_en"),
        "membership": if form.get("membership").is_empty() { "shared" } else { form.get("membership") },
        "own_domains": form.get("own_domains"), "servers": form.get("servers"), "override_reason": form.get("override_reason"),
    });
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    ctx.page(
        status,
        "register.html",
        "Đăng ký thành viên",
        "members",
        json!({ "f": f, "report": report, "errors": errors, "bad": bad }),
    )
}

/// The form's field for a naming finding's field (`name` is the label box).
fn form_field(field: Option<&str>) -> &str {
    match field {
        None | Some("name") => "label",
        Some(f) if f.starts_with("own_domains") => "own_domains",
        Some(f) if f.starts_with("servers") => "servers",
        Some(f) => f,
    }
}

async fn register(ctx: &Ctx, form: &Form) -> Response<Body> {
    if !ctx.me().is_admin() {
        return ctx.forbidden();
    }
    let request = membership::Request {
        label: form.get("label").trim().to_string(),
        name_vi: form.get("name_vi").to_string(),
        name_en: form.get("name_en").to_string(),
        membership: crate::model::member::Membership::parse(form.get("membership")),
        own_domains: form.lines("own_domains"),
        aliases: form.lines("aliases"),
        canonical: None,
        servers: form.lines("servers"),
        override_reason: Some(form.get("override_reason").trim().to_string()).filter(|r| !r.is_empty()),
    };
    let (config, actor) = (ctx.admin.config.clone(), ctx.me().username.clone());
    if form.get("hanh-dong") == "kiem-tra" {
        let req = request.clone();
        let report = off_workers(&ctx.admin.registry, move |r| {
            r.members().map(|members| {
                let index = membership::name_index(&config, &members);
                membership::check_name(&index, &req.label, Some(&req.name_vi), Some(&req.name_en), &req.own_domains)
            })
        })
        .await;
        return match report {
            Ok(Ok(report)) => register_page(ctx, form, Some(&report), &[]),
            _ => ctx.message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Lỗi hệ thống",
                "Không đọc được sổ đăng ký.",
                "/thanh-vien",
            ),
        };
    }
    let label = request.label.clone();
    let done = off_workers(&ctx.admin.registry, move |r| membership::register(r, &config, &request, &actor)).await;
    match done {
        Ok(Ok(_)) => {
            ctx.admin.refresh().await;
            redirect(&format!("/thanh-vien/{}?tb=registered", crate::model::host::normalize_name(&label)))
        }
        Ok(Err(AdmitError::Rejected(report))) => {
            let errors: Vec<Value> = report
                .errors
                .iter()
                .map(|f| field_error(form_field(f.field.as_deref()), format!("{}: {}", f.code.as_str(), f.message)))
                .collect();
            register_page(ctx, form, Some(&report), &errors)
        }
        Ok(Err(AdmitError::NeedsOverride(report))) => {
            let codes: Vec<&str> = report.warnings.iter().map(|f| f.code.as_str()).collect();
            let errors = vec![field_error(
                "override_reason",
                format!("Tên có cảnh báo ({}): nêu lý do chấp nhận để đăng ký.", codes.join(", ")),
            )];
            register_page(ctx, form, Some(&report), &errors)
        }
        Ok(Err(AdmitError::Invalid { field, message })) => {
            register_page(ctx, form, None, &[field_error(field, format!("{field}: {message}"))])
        }
        Ok(Err(e)) => register_page(ctx, form, None, &[field_error("label", e.to_string())]),
        Err(e) => ctx.message(StatusCode::INTERNAL_SERVER_ERROR, "Lỗi hệ thống", &e.to_string(), "/thanh-vien"),
    }
}

/// The site folders `user` may edit or review.
fn labels_for(ctx: &Ctx) -> Vec<String> {
    let me = ctx.me();
    crate::content::site::list_folders(&ctx.admin.config.tenants_dir)
        .into_iter()
        .filter(|l| me.may_submit(l) || me.may_review(l))
        .collect()
}

fn sites(ctx: &Ctx) -> Response<Body> {
    ctx.page(StatusCode::OK, "sites.html", "Nội dung đơn vị", "sites", json!({ "labels": labels_for(ctx) }))
}

async fn site(ctx: &Ctx, label: &str, errors: Vec<Value>, status: StatusCode) -> Response<Body> {
    let me = ctx.me().clone();
    if !(me.may_submit(label) || me.may_review(label)) {
        return ctx.forbidden();
    }
    let (config, l) = (ctx.admin.config.clone(), label.to_string());
    let listed =
        ctx.registry(move |r| Ok((content::list_files(&config, &l)?, content::changes(r, &config, &l)?))).await;
    let (files, changes) = match listed {
        Ok(x) => x,
        Err(ContentError::NoSite(_)) => return ctx.not_found(),
        Err(e) => return ctx.content_failed(e, "/don-vi"),
    };
    let (pages, others): (Vec<_>, Vec<_>) =
        files.into_iter().partition(|f| f.path.starts_with("content/") && f.path.ends_with(".md"));
    let max_upload_mb = ctx.admin.config.limits.max_static_file_bytes / (1024 * 1024);
    let title = format!("Nội dung của {label}");
    ctx.page(
        status,
        "site.html",
        &title,
        "sites",
        json!({ "label": label, "pages": pages, "others": others, "changes": changes, "errors": errors,
                "max_upload_mb": max_upload_mb, "can_edit": me.may_submit(label) }),
    )
}

/// The edit form's fields for a page file: its front matter's title, date and description,
/// and the body.
fn page_fields(text: &str) -> (toml::Table, String) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(rest) = text.strip_prefix("+++\n").or_else(|| text.strip_prefix("+++\r\n")) {
        let mut offset = 0;
        for line in rest.split_inclusive('\n') {
            if line.trim_end() == "+++" {
                let table = rest[..offset].parse::<toml::Table>().unwrap_or_default();
                return (table, rest[offset + line.len()..].trim_start_matches(['\r', '\n']).to_string());
            }
            offset += line.len();
        }
    }
    (toml::Table::new(), text.to_string())
}

async fn edit_page(ctx: &Ctx, label: &str) -> Response<Body> {
    let me = ctx.me().clone();
    if !me.may_submit(label) {
        return ctx.forbidden();
    }
    let path = ctx.query.get("duong-dan").cloned().unwrap_or_default();
    let mut f = json!({ "path": "", "slug": "", "title": "", "date": crate::model::time::Date::today().iso(),
                        "description": "", "body": "", "sha256": "" });
    if !path.is_empty() {
        let (config, l, p) = (ctx.admin.config.clone(), label.to_string(), path.clone());
        match ctx.registry(move |_| content::read_file(&config, &me, &l, &p)).await {
            Ok((bytes, sha)) => {
                let (front, body) = page_fields(&String::from_utf8_lossy(&bytes));
                let text = |k: &str| {
                    front.get(k).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).unwrap_or_default()
                };
                f = json!({ "path": path, "title": text("title"), "date": text("date"), "description": text("description"),
                            "body": body, "sha256": sha });
            }
            Err(e) => return ctx.content_failed(e, &format!("/don-vi/{label}")),
        }
    }
    let title = if path.is_empty() { "Trang mới".to_string() } else { format!("Sửa {path}") };
    ctx.page(StatusCode::OK, "edit.html", &title, "sites", json!({ "label": label, "f": f }))
}

/// The page file the form describes: the old front matter with title, date and
/// description replaced, then the body.
fn page_text(old: &str, form: &Form) -> Result<String, Vec<Value>> {
    let (mut front, _) = page_fields(old);
    let mut errors = Vec::new();
    let title = form.get("title").trim();
    if title.is_empty() {
        errors.push(field_error("title", "Cần có tiêu đề."));
    }
    front.insert("title".into(), toml::Value::String(title.to_string()));
    let date = form.get("date").trim();
    match crate::model::time::Date::parse(date).filter(|_| date.len() == 10) {
        Some(d) => {
            let value = format!("d = {}", d.iso()).parse::<toml::Table>().ok().and_then(|mut t| t.remove("d"));
            front.insert("date".into(), value.unwrap_or(toml::Value::String(d.iso())));
        }
        None if date.is_empty() => {
            front.remove("date");
        }
        None => errors.push(field_error("date", "Ngày phải có dạng năm-tháng-ngày, ví dụ 2026-12-01.")),
    }
    let description = form.get("description").trim();
    if description.is_empty() {
        front.remove("description");
    } else {
        front.insert("description".into(), toml::Value::String(description.to_string()));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let body = form.get("body").replace("\r\n", "\n");
    Ok(format!("+++\n{}+++\n\n{}\n", toml::to_string(&front).unwrap_or_default(), body.trim_end()))
}

async fn save_page(ctx: &Ctx, label: &str, form: &Form) -> Response<Body> {
    let me = ctx.me().clone();
    if !me.may_submit(label) {
        return ctx.forbidden();
    }
    let mut errors = Vec::new();
    let path = if form.get("path").is_empty() {
        let slug = form.get("slug").trim().trim_matches('/');
        let parts: Vec<Option<String>> = slug.split('/').map(crate::model::slug::slug_file_name).collect();
        if slug.is_empty() || parts.iter().any(Option::is_none) {
            errors
                .push(field_error("slug", "Đường dẫn chỉ gồm chữ, số và dấu gạch ngang, ví dụ tin-tuc/hoi-nghi-2026."));
            String::new()
        } else {
            format!("content/{}.md", parts.into_iter().flatten().collect::<Vec<_>>().join("/"))
        }
    } else {
        form.get("path").to_string()
    };
    let (config, l, p) = (ctx.admin.config.clone(), label.to_string(), path.clone());
    let old = if form.get("sha256").is_empty() {
        String::new()
    } else {
        let user = me.clone();
        match ctx.registry(move |_| content::read_file(&config, &user, &l, &p)).await {
            Ok((bytes, _)) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(_) => String::new(),
        }
    };
    let text = match page_text(&old, form) {
        Ok(t) if errors.is_empty() => t,
        Ok(_) => String::new(),
        Err(mut e) => {
            errors.append(&mut e);
            String::new()
        }
    };
    let preview = form.get("hanh-dong") == "xem-truoc";
    if !errors.is_empty() || preview {
        let (_, body) = page_fields(&text);
        let html = (errors.is_empty()).then(|| crate::content::site::content::markdown_to_html(&body));
        let f = json!({ "path": form.get("path"), "slug": form.get("slug"), "title": form.get("title"), "date": form.get("date"),
                        "description": form.get("description"), "body": form.get("body"), "sha256": form.get("sha256") });
        let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
        return ctx.page(
            status,
            "edit.html",
            "Sửa trang",
            "sites",
            json!({ "label": label, "f": f, "errors": errors, "preview": html }),
        );
    }
    let condition = if form.get("sha256").is_empty() { "none".to_string() } else { form.get("sha256").to_string() };
    let (config, l, p) = (ctx.admin.config.clone(), label.to_string(), path.clone());
    match ctx.registry(move |_| content::write_file(&config, &me, &l, &p, text.as_bytes(), Some(&condition))).await {
        Ok(_) => redirect(&format!("/don-vi/{label}?tb=saved")),
        Err(ContentError::Precondition { .. }) => {
            let f = json!({ "path": form.get("path"), "slug": form.get("slug"), "title": form.get("title"), "date": form.get("date"),
                            "description": form.get("description"), "body": form.get("body"), "sha256": form.get("sha256") });
            let errors = vec![field_error(
                "body",
                "Trang này đã bị người khác sửa hoặc đã có trang cùng đường dẫn sau khi bạn mở. Chép nội dung của bạn, tải lại trang rồi sửa lại.",
            )];
            ctx.page(
                StatusCode::PRECONDITION_FAILED,
                "edit.html",
                "Sửa trang",
                "sites",
                json!({ "label": label, "f": f, "errors": errors }),
            )
        }
        Err(e) => ctx.content_failed(e, &format!("/don-vi/{label}")),
    }
}

async fn upload(ctx: &Ctx, label: &str, form: Form) -> Response<Body> {
    let me = ctx.me().clone();
    if !me.may_submit(label) {
        return ctx.forbidden();
    }
    let Some(file) = form.files.into_iter().find(|f| f.field == "file") else {
        return site(
            ctx,
            label,
            vec![field_error("file", "Chọn một tệp để tải lên.")],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let Some(name) = crate::model::slug::slug_file_name(&file.name) else {
        return site(
            ctx,
            label,
            vec![field_error("file", "Tên tệp không dùng được.")],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    if let Err(why) = forms::check_upload(&name, &file.bytes) {
        return site(ctx, label, vec![field_error("file", why)], StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let is_image = matches!(name.rsplit_once('.').map(|(_, e)| e), Some("png" | "jpg" | "jpeg" | "gif" | "webp"));
    let path = format!("static/{}/{name}", if is_image { "anh" } else { "tai-lieu" });
    let (config, l) = (ctx.admin.config.clone(), label.to_string());
    let p = path.clone();
    match ctx.registry(move |_| content::write_file(&config, &me, &l, &p, &file.bytes, Some("none"))).await {
        Ok(_) => redirect(&format!("/don-vi/{label}?tb=uploaded")),
        Err(ContentError::Precondition { .. }) => {
            let msg = format!("Đã có tệp {path}; đổi tên tệp rồi tải lên lại.");
            site(ctx, label, vec![field_error("file", msg)], StatusCode::CONFLICT).await
        }
        Err(e) => site(ctx, label, vec![field_error("file", e.to_string())], StatusCode::UNPROCESSABLE_ENTITY).await,
    }
}

async fn delete(ctx: &Ctx, label: &str, form: &Form) -> Response<Body> {
    let (config, me, l) = (ctx.admin.config.clone(), ctx.me().clone(), label.to_string());
    let (path, sha) = (form.get("path").to_string(), form.get("sha256").to_string());
    match ctx.registry(move |_| content::delete_file(&config, &me, &l, &path, Some(&sha))).await {
        Ok(()) => redirect(&format!("/don-vi/{label}?tb=deleted")),
        Err(e) => ctx.content_failed(e, &format!("/don-vi/{label}")),
    }
}

async fn submit(ctx: &Ctx, label: &str, form: &Form) -> Response<Body> {
    let message = form.get("message").trim().to_string();
    if message.is_empty() {
        return site(ctx, label, vec![field_error("message", "Cần mô tả thay đổi.")], StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    }
    // `datetime-local` gives Viet Nam's wall clock without an offset.
    let at = form.get("publish_at").trim();
    let publish_at = match at.len() {
        0 => None,
        16 => Some(format!("{at}:00+07:00")),
        _ => Some(format!("{at}+07:00")),
    };
    let (config, snap, me, l) =
        (ctx.admin.config.clone(), ctx.admin.live.snapshot_arc(), ctx.me().clone(), label.to_string());
    let done = ctx
        .registry(move |r| {
            let look = Look { themes: &snap.themes, platform: &snap.platform };
            let req = content::Request { label: &l, paths: &[], message: &message, publish_at: publish_at.as_deref() };
            content::submit(r, &config, &look, &me, &req)
        })
        .await;
    match done {
        Ok(s) => redirect(&format!("/duyet/{}?tb=submitted", s.id)),
        Err(e) => {
            let mut errors: Vec<Value> = e.problems().iter().map(|p| field_error("message", p.to_string())).collect();
            if errors.is_empty() {
                errors.push(field_error("message", e.to_string()));
            }
            site(ctx, label, errors, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// An admin API answer as a page: the JSON's value, or the error in words.
fn api_failed(ctx: &Ctx, e: crate::control::admin::ApiError, back: &str) -> Response<Body> {
    ctx.message(e.0, "Không thực hiện được", &format!("{} [{}]", e.2, e.1), back)
}

async fn inbox(ctx: &Ctx) -> Response<Body> {
    let mut q = HashMap::new();
    let overdue = ctx.query.get("overdue").is_some_and(|v| v == "true");
    if overdue {
        q.insert("overdue".to_string(), "true".to_string());
    }
    match ctx.admin.feedback_list(&q, ctx.me()).await {
        Ok((_, v)) => ctx.page(
            StatusCode::OK,
            "inbox.html",
            "Hỏi đáp",
            "inbox",
            json!({ "items": v["items"], "overdue": overdue, "today": crate::model::time::Date::today().iso() }),
        ),
        Err(e) => api_failed(ctx, e, "/"),
    }
}

async fn item(ctx: &Ctx, code: &str) -> Response<Body> {
    match ctx.admin.feedback_item(code, ctx.me()).await {
        Ok((_, v)) => {
            let site = v["site"].as_str().unwrap_or("").to_string();
            let open = matches!(v["state"].as_str(), Some("received" | "in_progress" | "extended"));
            let title = format!("Câu hỏi {code}");
            ctx.page(
                StatusCode::OK,
                "item.html",
                &title,
                "inbox",
                json!({ "i": v, "open": open, "can_publish": ctx.me().may_review(&site) }),
            )
        }
        Err(e) if e.0 == StatusCode::NOT_FOUND => ctx.not_found(),
        Err(e) => api_failed(ctx, e, "/hoi-dap"),
    }
}

async fn item_action(ctx: &Ctx, code: &str, action: &str, form: &Form) -> Response<Body> {
    use crate::control::feedback::{AnswerBody, ExtendBody, OutOfScopeBody};
    let me = ctx.me();
    let done = match action {
        "answer" => {
            let body = AnswerBody { answer: form.get("answer").to_string(), public: form.get("public") == "yes" };
            ctx.admin.feedback_answer(code, body, me).await.map(|_| "answered")
        }
        "extend" => {
            let body =
                ExtendBody { due_date: form.get("due_date").to_string(), reason: form.get("reason").to_string() };
            ctx.admin.feedback_extend(code, body, me).await.map(|_| "extended")
        }
        "out-of-scope" => {
            let forward = Some(form.get("forward_to").trim().to_string()).filter(|f| !f.is_empty());
            let body = OutOfScopeBody { reason: form.get("reason").to_string(), forward_to: forward };
            ctx.admin.feedback_out_of_scope(code, body, me).await.map(|_| "out_of_scope")
        }
        _ => return ctx.not_found(),
    };
    match done {
        Ok(notice) => redirect(&format!("/hoi-dap/{code}?tb={notice}")),
        Err(e) => api_failed(ctx, e, &format!("/hoi-dap/{code}")),
    }
}

async fn audit(ctx: &Ctx) -> Response<Body> {
    let me = ctx.me().clone();
    let entries = match ctx.registry(|r| Ok(r.audit(1000)?)).await {
        Ok(e) => e,
        Err(e) => return ctx.content_failed(e, "/"),
    };
    let q = |k: &str| ctx.query.get(k).cloned().unwrap_or_default();
    let (member, user, action) = (q("member"), q("user"), q("action"));
    let shown: Vec<_> = entries
        .into_iter()
        // A contributor reads its own sites' rows only.
        .filter(|e| me.role != Role::Contributor || me.sites.contains(&e.label))
        .filter(|e| member.is_empty() || e.label == member)
        .filter(|e| user.is_empty() || e.actor.contains(&user))
        .filter(|e| action.is_empty() || e.action == action)
        .take(300)
        .collect();
    ctx.page(
        StatusCode::OK,
        "audit.html",
        "Nhật ký",
        "audit",
        json!({ "entries": shown, "member": member, "user": user, "action": action }),
    )
}

fn certificates(ctx: &Ctx) -> Response<Body> {
    let certs = ctx.admin.certificates();
    ctx.page(StatusCode::OK, "certs.html", "Chứng chỉ", "certs", json!({ "tls": certs["tls"], "rows": certs["names"] }))
}

/// The DNS report as a grid: members down, checks across, each cell the worst status of that
/// check over the member's names, with the evidence and the fix.
async fn dns(ctx: &Ctx) -> Response<Body> {
    ctx.admin.dns.refresh().await;
    let Some(report) = ctx.admin.dns.last() else {
        return ctx.page(StatusCode::OK, "dns.html", "Kiểm tra DNS", "dns", json!({ "checked_at": null }));
    };
    let mut checks: Vec<String> = Vec::new();
    for m in &report.members {
        for c in &m.checks {
            if !checks.contains(&c.id) {
                checks.push(c.id.clone());
            }
        }
    }
    let rank = |s: &str| match s {
        "failed" => 5,
        "error" => 4,
        "warning" => 3,
        "info" => 2,
        "passed" => 1,
        _ => 0,
    };
    let grid: Vec<Value> = report
        .members
        .iter()
        .map(|m| {
            let cells: Vec<Value> = checks
                .iter()
                .map(|id| {
                    let mine: Vec<_> = m.checks.iter().filter(|c| &c.id == id).collect();
                    let worst = mine.iter().map(|c| c.status.as_str()).max_by_key(|s| rank(s)).unwrap_or("none");
                    let evidence: Vec<String> =
                        mine.iter().map(|c| format!("{}: {} {}", c.name, c.message, c.evidence.join(" · "))).collect();
                    let fix = mine.iter().find_map(|c| c.fix.clone());
                    json!({ "check": id, "status": worst, "evidence": evidence.join(" | "), "fix": fix })
                })
                .collect();
            json!({ "label": m.label, "status": m.status.as_str(), "cells": cells })
        })
        .collect();
    ctx.page(
        StatusCode::OK,
        "dns.html",
        "Kiểm tra DNS",
        "dns",
        json!({ "checked_at": report.checked_at, "checks": checks, "grid": grid }),
    )
}

async fn users(ctx: &Ctx) -> Response<Body> {
    if !ctx.me().is_admin() {
        return ctx.forbidden();
    }
    match ctx.registry(|r| Ok(r.users()?)).await {
        Ok(users) => ctx.page(StatusCode::OK, "users.html", "Người dùng", "users", json!({ "users": users })),
        Err(e) => ctx.content_failed(e, "/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_its_empty_page() {
        let env = environment();
        for (name, _) in TEMPLATES {
            env.get_template(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn page_files_round_trip() {
        let old = "+++\ntitle = \"Cũ\"\nweight = 3\n\n[extra]\nanh = \"a.png\"\n+++\n\nThân bài cũ.\n";
        let form = Form::urlencoded(
            "title=M%E1%BB%9Bi&date=2026-12-01&description=&body=D%C3%B2ng+1%0D%0AD%C3%B2ng+2".as_bytes(),
        );
        let text = page_text(old, &form).unwrap();
        let doc = crate::content::site::content::parse(&text, "t.md").unwrap();
        assert_eq!(doc.front.title, "Mới");
        assert_eq!(doc.front.weight, 3, "other keys are kept");
        assert_eq!(doc.front.extra["anh"].as_str(), Some("a.png"));
        assert_eq!(doc.date.unwrap().iso(), "2026-12-01");
        assert!(text.ends_with("Dòng 1\nDòng 2\n"), "{text}");
        let bad = Form::urlencoded(b"title=&date=01/12/2026");
        let errors = page_text(old, &bad).unwrap_err();
        let fields: Vec<&str> = errors.iter().filter_map(|e| e["field"].as_str()).collect();
        assert_eq!(fields, ["title", "date"]);
        assert_eq!(page_url("content/tin-tuc/a.md").as_deref(), Some("/tin-tuc/a/"));
        assert_eq!(page_url("content/_index.md").as_deref(), Some("/"));
        assert_eq!(page_url("content/tin-tuc/_index.md").as_deref(), Some("/tin-tuc/"));
        assert_eq!(page_url("static/a.png"), None);
        assert_eq!(local_path("//evil.example/x"), "/");
        assert_eq!(local_path("/\t/evil.example/"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
        assert_eq!(local_path("/duyet/3"), "/duyet/3");
    }
}
