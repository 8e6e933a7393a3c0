//! The admin API (docs/admin-api.md) on its own listener: a bearer token on every call (a
//! user's API token, or the break-glass environment token), JSON in and out, errors as
//! `{"error": {"code", "message", "field"}}`. Each call is allowed or refused (403
//! `forbidden`) by the rules of `model::account`, and the audit names the user.

use crate::control::content::{self, ContentError, Look};
use crate::control::membership::{self, AdmitError};
use crate::model::account::{AccountError, Role, User};
use crate::model::member::{Membership, Status};
use crate::model::submission::{Action, Refusal, State};
use crate::serve::handler::Body;
use crate::serve::metrics::Metrics;
use crate::snapshot::Live;
use crate::store::registry::Submission;
use crate::store::registry::{Registry, RegistryError};
use crate::store::secrets::constant_time_eq;
use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// What the admin listener needs.
pub struct Admin {
    pub live: Arc<Live>,
    pub registry: crate::store::registry::Shared,
    /// Where member changes go to be published.
    pub publisher: crate::control::publisher::Publisher,
    pub metrics: Arc<Metrics>,
    /// The break-glass token of `[admin] token_env`, when set.
    pub token: Option<String>,
    /// The DNS compliance checker: its last results and a way to start one.
    pub dns: Arc<crate::control::dns::Service>,
    /// The running configuration, shared with the blocking threads publishing runs on.
    pub config: Arc<crate::model::config::Config>,
    /// The publications this listener has written out (see `content::write_published`).
    pub written: Arc<std::sync::Mutex<HashMap<String, i64>>>,
    /// `data/feedback.db` (docs/feedback.md); `None` when it could not be opened.
    pub feedback: Option<crate::control::feedback::Shared>,
}

/// An API error: status, stable code, message, and the field it concerns.
pub(crate) struct ApiError(pub StatusCode, pub &'static str, pub String, pub Option<String>);

pub(crate) type ApiResult = Result<(StatusCode, Value), ApiError>;

impl Admin {
    /// Answer one admin request.
    pub async fn handle<B>(self: Arc<Self>, req: Request<B>) -> Response<Body>
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        // Liveness answers on every listener, without a token (docs/architecture.md).
        if req.uri().path() == "/healthz" {
            return Response::builder()
                .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
                .body(crate::serve::handler::full(Bytes::from_static(b"ok\n")))
                .expect("valid response");
        }
        // The web interface: everything outside the JSON API (docs/web.md).
        let path = req.uri().path();
        if !(path.starts_with("/api/") || path == "/api" || path == "/metrics") {
            return crate::control::web::handle(self, req).await;
        }
        let user = match self.authenticate(req.headers()).await {
            Ok(Some(user)) => user,
            Ok(None) => {
                let mut resp = error_response(ApiError(StatusCode::UNAUTHORIZED, "unauthorized", "send Authorization: Bearer <token>: a user's API token (cong user token USERNAME) or the break-glass token of [admin] token_env".into(), None));
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
                return resp;
            }
            Err(e) => return error_response(e),
        };
        if !user.may_read() && !may_push_only(req.uri().path()) {
            return error_response(forbidden(&user, "read the platform's state"));
        }
        if req.method() == Method::GET
            && req.uri().path().starts_with("/api/sites/")
            && req.uri().path().contains("/preview/")
        {
            return self.preview(&req, &user).await;
        }
        if req.method() == Method::GET
            && req.uri().path().starts_with("/api/sites/")
            && req.uri().path().contains("/files/")
        {
            return self.read_file(&req, &user).await;
        }
        if req.uri().path() == "/metrics" && req.method() == Method::GET {
            let body =
                self.metrics.render(&(self.gauges() + &self.operations_gauges().await + &self.feedback_gauges().await));
            return Response::builder()
                .header(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                .body(crate::serve::handler::full(Bytes::from(body)))
                .expect("valid response");
        }
        match self.route(req, &user).await {
            // Written out on a blocking thread: an answer about thousands of members is a
            // megabyte of JSON, which on a runtime worker would hold up the public requests
            // queued behind it.
            Ok((status, value)) => tokio::task::spawn_blocking(move || json_response(status, &value))
                .await
                .unwrap_or_else(|e| error_response(internal(e))),
            Err(e) => error_response(e),
        }
    }

    /// Who sent this request: the break-glass token (compared in constant time), or the
    /// enabled user holding this API token; `None` without a valid token.
    async fn authenticate(&self, headers: &http::HeaderMap) -> Result<Option<User>, ApiError> {
        // The scheme name is case-insensitive (RFC 9110 section 11.1).
        let Some(given) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().to_string())
        else {
            return Ok(None);
        };
        if self.token.as_deref().is_some_and(|t| constant_time_eq(given.as_bytes(), t.as_bytes())) {
            return Ok(Some(User::env_token()));
        }
        if !given.starts_with("cong_") {
            return Ok(None);
        }
        self.with_registry(move |r| Ok(r.user_for_token(&given)?)).await
    }

    async fn route<B>(self: &Arc<Self>, req: Request<B>, user: &User) -> ApiResult
    where
        B: hyper::body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let path = req.uri().path().trim_end_matches('/').to_string();
        let query = parse_query(req.uri().query().unwrap_or(""));
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        match (req.method().clone(), segments.as_slice()) {
            (Method::GET, ["api", "members"]) => self.list(&query).await,
            (Method::POST, ["api", "members"]) => {
                require(user.is_admin(), user, "register members")?;
                let body: membership::Request = read_json(req, self.live.config.limits.max_admin_body_bytes).await?;
                self.register(body, user).await
            }
            (Method::GET, ["api", "members", label]) => self.show(label).await,
            (Method::POST, ["api", "members", label, "maintenance"]) => {
                require(user.is_admin(), user, "announce maintenance")?;
                let body: MaintenanceBody = read_json(req, self.live.config.limits.max_admin_body_bytes).await?;
                self.announce(label, body, user).await
            }
            (Method::DELETE, ["api", "members", label, "maintenance"]) => {
                require(user.is_admin(), user, "withdraw maintenance")?;
                let (l, actor) = (crate::model::host::normalize_name(label), user.username.clone());
                let removed = self.with_registry(move |r| Ok(r.cancel_maintenance(&l, &actor, None)?)).await?;
                self.refresh().await;
                Ok((StatusCode::OK, json!({ "label": label, "withdrawn": removed })))
            }
            (Method::POST, ["api", "members", label, action]) => {
                let to = match *action {
                    "activate" => Status::Active,
                    "suspend" => Status::Suspended,
                    "archive" => Status::Archived,
                    _ => return Err(not_found()),
                };
                require(user.is_admin(), user, "change a member's status")?;
                let body: ReasonBody = read_json_or_empty(req, self.live.config.limits.max_admin_body_bytes).await?;
                self.set_status(label, to, body.reason, user).await
            }
            (Method::GET, ["api", "sites", label, "changes"]) => self.changes(label, user).await,
            (Method::GET, ["api", "sites", label, "files"]) => {
                require(user.may_submit(label) || user.may_review(label), user, &format!("see the files of {label}"))?;
                let (config, l) = (self.config(), label.to_string());
                let files = self.with_content(move |_| content::list_files(&config, &l)).await?;
                Ok((StatusCode::OK, json!({ "site": label, "files": files })))
            }
            (Method::PUT, ["api", "sites", label, "files", rest @ ..]) if !rest.is_empty() => {
                let if_match = header_text(&req, header::IF_MATCH);
                let if_none = header_text(&req, header::IF_NONE_MATCH);
                // `If-None-Match: *`: create only, never replace.
                let condition = if if_none.as_deref() == Some("*") { Some("none".to_string()) } else { if_match };
                let bytes = read_body(req, self.live.config.limits.max_static_file_bytes).await?;
                let (config, user, l, path) = (self.config(), user.clone(), label.to_string(), rest.join("/"));
                let p = path.clone();
                let sha = self
                    .with_content(move |_| content::write_file(&config, &user, &l, &p, &bytes, condition.as_deref()))
                    .await?;
                Ok((StatusCode::OK, json!({ "path": path, "sha256": sha })))
            }
            (Method::DELETE, ["api", "sites", label, "files", rest @ ..]) if !rest.is_empty() => {
                let if_match = header_text(&req, header::IF_MATCH);
                let (config, user, l, path) = (self.config(), user.clone(), label.to_string(), rest.join("/"));
                let p = path.clone();
                self.with_content(move |_| content::delete_file(&config, &user, &l, &p, if_match.as_deref())).await?;
                Ok((StatusCode::OK, json!({ "path": path, "deleted": true })))
            }
            (Method::POST, ["api", "sites", label, "submissions"]) => {
                let body: SubmitBody = read_json(req, self.live.config.limits.max_admin_body_bytes).await?;
                self.submit(label, body, user).await
            }
            (Method::POST, ["api", "sites", label, "publish"]) => {
                let body: PublishBody = read_json(req, self.live.config.limits.max_admin_body_bytes).await?;
                if !body.force {
                    return Err(ApiError(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_field",
                        "publishing without approval needs \"force\": true (and a reason)".into(),
                        Some("force".into()),
                    ));
                }
                self.force_publish(label, body.reason, user).await
            }
            (Method::PUT, ["api", "sites", label, "dossiers", code]) => {
                may_push(user, label)?;
                let body: crate::model::dossier::Push =
                    read_json(req, self.live.config.limits.max_admin_body_bytes).await?;
                self.push_dossier(label, code, body).await
            }
            (Method::GET, ["api", "sites", label, "dossiers", code]) => {
                may_push(user, label)?;
                let (l, c) = (label.to_string(), code.to_string());
                match self.with_registry(move |r| Ok(r.dossier(&l, &c)?)).await? {
                    Some(d) => Ok((StatusCode::OK, dossier_json(label, &d))),
                    None => Err(ApiError(
                        StatusCode::NOT_FOUND,
                        "not_found",
                        format!("no dossier \"{code}\" for {label}"),
                        Some("code".into()),
                    )),
                }
            }
            (Method::GET, ["api", "submissions"]) => self.submissions(&query, user).await,
            (Method::GET, ["api", "submissions", id]) => self.submission(parse_id(id)?, user).await,
            (Method::POST, ["api", "submissions", id, action]) => {
                let action = Action::parse(action).ok_or_else(not_found)?;
                let body: ReasonBody = read_json_or_empty(req, self.live.config.limits.max_admin_body_bytes).await?;
                self.decide(parse_id(id)?, action, body.reason, user).await
            }
            (Method::GET, ["api", "working-days"]) => self.working_days(&query).await,
            (Method::GET, ["api", "holidays", year]) => self.holidays(year).await,
            (Method::PUT, ["api", "holidays", year]) => {
                let body = read_json(req, self.live.config.limits.max_admin_body_bytes).await?;
                self.set_holidays(year, body, user).await
            }
            (Method::GET, ["api", "feedback"]) => self.feedback_list(&query, user).await,
            (Method::GET, ["api", "feedback", code]) => self.feedback_item(code, user).await,
            (Method::POST, ["api", "feedback", code, "answer"]) => {
                let body = read_json(req, self.live.config.limits.max_admin_body_bytes).await?;
                self.feedback_answer(code, body, user).await
            }
            (Method::POST, ["api", "feedback", code, "start"]) => self.feedback_mark(code, false, user).await,
            (Method::POST, ["api", "feedback", code, "spam"]) => self.feedback_mark(code, true, user).await,
            (Method::POST, ["api", "feedback", code, "extend"]) => {
                let body = read_json(req, self.live.config.limits.max_admin_body_bytes).await?;
                self.feedback_extend(code, body, user).await
            }
            (Method::POST, ["api", "feedback", code, "out-of-scope"]) => {
                let body = read_json(req, self.live.config.limits.max_admin_body_bytes).await?;
                self.feedback_out_of_scope(code, body, user).await
            }
            (Method::GET, ["api", "users"]) => {
                require(user.is_admin(), user, "list users")?;
                self.list_users().await
            }
            (Method::POST, ["api", "users"]) => {
                require(user.is_admin(), user, "add users")?;
                let body: NewUser = read_json(req, self.live.config.limits.max_admin_body_bytes).await?;
                self.add_user(body, user).await
            }
            (Method::POST, ["api", "users", username, "disable"]) => {
                require(user.is_admin(), user, "disable users")?;
                self.disable_user(username, user).await
            }
            (Method::POST, ["api", "users", username, "tokens"]) => {
                require(user.is_admin() || user.username == *username, user, "make tokens for another user")?;
                let body: TokenBody = read_json_or_empty(req, self.live.config.limits.max_admin_body_bytes).await?;
                self.create_token(username, body.label.unwrap_or_default(), user).await
            }
            (Method::DELETE, ["api", "tokens", id]) => {
                let id: i64 = id.parse().map_err(|_| bad_param("id", "a token id (a whole number)"))?;
                self.revoke_token(id, user).await
            }
            (Method::GET, ["api", "names", "check"]) => self.check_name(&query).await,
            (Method::GET, ["api", "audit"]) => self.audit(&query).await,
            (Method::GET, ["api", "status"]) => self.status(&query).await,
            (Method::GET, ["api", "dns"]) => self.dns_report().await,
            (Method::POST, ["api", "dns", "check"]) => self.dns_check(&query).await,
            (_, ["api", ..]) | (_, ["metrics"]) => Err(ApiError(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{} is not allowed on {path}", req.method()),
                None,
            )),
            _ => Err(not_found()),
        }
    }

    /// Run a registry call on a blocking thread.
    async fn with_registry<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Registry) -> Result<T, AdmitError> + Send + 'static,
    ) -> Result<T, ApiError> {
        crate::store::registry::off_workers(&self.registry, f).await.map_err(internal)?.map_err(admit_error)
    }

    async fn list(&self, query: &HashMap<String, String>) -> ApiResult {
        let status = query
            .get("status")
            .map(|s| Status::parse(s).ok_or_else(|| bad_param("status", "pending, active, suspended or archived")))
            .transpose()?;
        let kind = query
            .get("membership")
            .map(|s| Membership::parse(s).ok_or_else(|| bad_param("membership", "shared or independent")))
            .transpose()?;
        let members = self.with_registry(|r| Ok(r.members()?)).await?;
        self.dns.refresh().await;
        let listed: Vec<Value> = members
            .iter()
            .filter(|m| status.is_none_or(|s| m.status == s) && kind.is_none_or(|k| m.names.membership == k))
            .map(|m| self.member_json(m))
            .collect();
        Ok((StatusCode::OK, json!({ "members": listed })))
    }

    async fn show(&self, label: &str) -> ApiResult {
        let l = label.to_string();
        match self.with_registry(move |r| Ok(r.member(&l)?)).await? {
            Some(m) => {
                self.dns.refresh().await;
                Ok((StatusCode::OK, self.member_json(&m)))
            }
            None => Err(ApiError(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no member \"{label}\""),
                Some("label".into()),
            )),
        }
    }

    async fn register(&self, req: membership::Request, user: &User) -> ApiResult {
        let config = self.live.config.clone();
        let actor = user.username.clone();
        let (member, report) = self.with_registry(move |r| membership::register(r, &config, &req, &actor)).await?;
        self.refresh().await;
        Ok((StatusCode::CREATED, json!({ "member": self.member_json(&member), "name_check": report })))
    }

    async fn set_status(&self, label: &str, to: Status, reason: Option<String>, user: &User) -> ApiResult {
        let l = label.to_string();
        let actor = user.username.clone();
        let config = self.live.config.clone();
        let member =
            self.with_registry(move |r| membership::set_status(r, &config, &l, to, &actor, reason.as_deref())).await?;
        self.refresh().await;
        Ok((StatusCode::OK, self.member_json(&member)))
    }

    async fn check_name(&self, q: &HashMap<String, String>) -> ApiResult {
        let name = q.get("name").cloned().unwrap_or_default();
        let own: Vec<String> = q.get("own_domain").map(|d| vec![d.clone()]).unwrap_or_default();
        let members = self.with_registry(|r| Ok(r.members()?)).await?;
        let index = membership::name_index(&self.live.config, &members);
        let report = membership::check_name(
            &index,
            &name,
            q.get("name_vi").map(String::as_str),
            q.get("name_en").map(String::as_str),
            &own,
        );
        Ok((StatusCode::OK, serde_json::to_value(report).expect("report serialises")))
    }

    async fn audit(&self, q: &HashMap<String, String>) -> ApiResult {
        let limit = q
            .get("limit")
            .map(|l| l.parse::<usize>().map_err(|_| bad_param("limit", "a whole number")))
            .transpose()?
            .unwrap_or(100);
        let entries = self.with_registry(move |r| Ok(r.audit(limit)?)).await?;
        Ok((StatusCode::OK, json!({ "audit": entries })))
    }

    /// Loaded sites, reload errors, members by status.
    /// `GET /api/status`, made on a blocking thread: with thousands of members it reads a
    /// certificate record per name. `?only=problems` lists only the sites and certificates
    /// that need someone.
    async fn status(self: &Arc<Self>, query: &HashMap<String, String>) -> ApiResult {
        let only_problems = match query.get("only").map(String::as_str) {
            None | Some("") => false,
            Some("problems") => true,
            Some(_) => return Err(bad_param("only", "\"problems\" (or left out, for everything)")),
        };
        let admin = self.clone();
        let value = tokio::task::spawn_blocking(move || admin.state(only_problems)).await.map_err(internal)?;
        Ok((StatusCode::OK, value))
    }

    /// The platform's state; `only_problems`: of the sites and certificates, only those with
    /// an error, a warning or a finding, and the names not valid (the counts stay whole).
    fn state(&self, only_problems: bool) -> Value {
        let snap = self.live.snapshot();
        let sites: Vec<Value> = snap
            .sites
            .values()
            .filter(|s| {
                !only_problems
                    || !s.warnings.is_empty()
                    || !s.lints.is_empty()
                    || snap.site_errors.contains_key(&s.label)
            })
            .map(|s| json!({ "label": s.label, "pages": s.page_count, "warnings": s.warnings, "lints": s.lints, "error": snap.site_errors.get(&s.label) }))
            .collect();
        let mut certificates = self.certificates();
        if only_problems {
            if let Some(Value::Array(names)) = certificates.get_mut("names") {
                names.retain(|row| !matches!(row.get("status").and_then(Value::as_str), Some("valid" | "not_served")));
            }
        }
        json!({
            "generation": snap.generation,
            // While the server starts, the sites not built yet (they answer 503 meanwhile).
            "starting": !snap.pending.is_empty(),
            "sites_built": snap.sites.len(),
            "sites_pending": snap.pending.len(),
            "zone": self.live.config.platform.zone,
            "members": snap.members.len(),
            "sites": sites,
            "site_errors": snap.site_errors,
            "theme_errors": snap.theme_errors,
            "certificates": certificates,
            "dns": self.dns.last().map(|r| json!({ "checked_at": r.checked_at, "summary": r.summary, "running": self.dns.is_running() })),
        })
    }

    /// `GET /api/dns`: every member's last DNS result, as one report.
    async fn dns_report(&self) -> ApiResult {
        self.dns.refresh().await;
        match self.dns.last() {
            Some(report) => Ok((StatusCode::OK, serde_json::to_value(&*report).expect("reports serialise"))),
            None => Err(ApiError(
                StatusCode::NOT_FOUND,
                "no_dns_report",
                "no DNS check has run yet; POST /api/dns/check starts one".into(),
                None,
            )),
        }
    }

    /// `POST /api/dns/check`: start a check in the background (202), or with `?wait=true`
    /// run one now and answer with its report (200).
    async fn dns_check(&self, q: &HashMap<String, String>) -> ApiResult {
        if q.get("wait").is_some_and(|w| !matches!(w.as_str(), "false" | "0")) {
            let report = self
                .dns
                .run_once()
                .await
                .map_err(|e| ApiError(StatusCode::SERVICE_UNAVAILABLE, "dns_check_failed", e.to_string(), None))?;
            return Ok((StatusCode::OK, serde_json::to_value(&*report).expect("reports serialise")));
        }
        let started = self.dns.start();
        let message = if started { "DNS check started" } else { "a DNS check is already running" };
        Ok((StatusCode::ACCEPTED, json!({ "started": started, "message": message, "report": "/api/dns" })))
    }

    fn member_json(&self, m: &crate::model::member::Member) -> Value {
        let snap = self.live.snapshot();
        let zone = &self.live.config.platform.zone;
        let n = &m.names;
        json!({
            "label": n.label, "name_vi": n.name_vi, "name_en": n.name_en, "membership": n.membership, "status": m.status,
            "fourth_level": m.fourth_level(zone), "own_domains": n.own_domains, "aliases": n.aliases,
            "canonical": n.canonical.clone().unwrap_or_else(|| m.fourth_level(zone)), "servers": n.servers,
            "site": { "loaded": snap.sites.contains_key(&n.label), "errors": snap.site_errors.get(&n.label) },
            "certificate": self.member_certificate(m),
            "dns": self.dns.member_state(&n.label),
            "maintenance": m.maintenance,
        })
    }

    fn gauges(&self) -> String {
        let snap = self.live.snapshot();
        let mut by_status: HashMap<&str, usize> = HashMap::new();
        for m in &snap.members {
            *by_status.entry(m.status.as_str()).or_default() += 1;
        }
        let mut out = String::from("# HELP cong_members Members by status.\n# TYPE cong_members gauge\n");
        for s in ["pending", "active", "suspended", "archived"] {
            out.push_str(&format!("cong_members{{status=\"{s}\"}} {}\n", by_status.get(s).unwrap_or(&0)));
        }
        out.push_str(&format!("# HELP cong_site_errors Site folders that do not build.\n# TYPE cong_site_errors gauge\ncong_site_errors {}\n", snap.site_errors.len()));
        out
    }

    /// Gauges read from the certificate store, the last DNS report and the registry:
    /// `cong_certificate_expiry_seconds{name}`, `cong_dns_status{member,status}` and
    /// `cong_submissions_waiting{site}`. The files and the registry are read off the async
    /// workers.
    async fn operations_gauges(&self) -> String {
        let store = crate::store::certs::Store::at(&self.live.config.certs_dir);
        let expiry = tokio::task::spawn_blocking(move || {
            let now = crate::model::time::now_secs();
            let mut rows: Vec<(String, i64)> = store
                .names()
                .into_iter()
                .filter_map(|name| {
                    let until = store.meta(&name).ok()?.not_after?;
                    Some((name, i64::try_from(until).unwrap_or(i64::MAX).saturating_sub_unsigned(now)))
                })
                .collect();
            rows.sort();
            rows
        })
        .await
        .unwrap_or_default();
        let waiting = crate::store::registry::off_workers(&self.registry, |r| r.waiting_by_site().unwrap_or_default())
            .await
            .unwrap_or_default();
        let mut out = String::from(
            "# HELP cong_certificate_expiry_seconds Seconds until the stored certificate of a name expires.\n\
             # TYPE cong_certificate_expiry_seconds gauge\n",
        );
        for (name, secs) in expiry {
            out.push_str(&format!("cong_certificate_expiry_seconds{{name=\"{name}\"}} {secs}\n"));
        }
        out.push_str("# HELP cong_dns_status The last DNS check of each member: 1 for its status.\n# TYPE cong_dns_status gauge\n");
        if let Some(report) = self.dns.last() {
            for m in &report.members {
                out.push_str(&format!(
                    "cong_dns_status{{member=\"{}\",status=\"{}\"}} 1\n",
                    m.label,
                    m.status.as_str()
                ));
            }
        }
        out.push_str("# HELP cong_submissions_waiting Submissions waiting for a decision.\n# TYPE cong_submissions_waiting gauge\n");
        for (site, n) in waiting {
            out.push_str(&format!("cong_submissions_waiting{{site=\"{site}\"}} {n}\n"));
        }
        out
    }

    /// Publish the registry's members now rather than at the next poll.
    pub(crate) async fn refresh(&self) {
        crate::control::follow::refresh_members(&self.registry, &self.publisher).await;
    }
}

/// Publishing approval (docs/publishing.md): every rule is in `control::content`.
impl Admin {
    /// Run a publishing step on a blocking thread with the registry.
    async fn with_content<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Registry) -> Result<T, ContentError> + Send + 'static,
    ) -> Result<T, ApiError> {
        crate::store::registry::off_workers(&self.registry, f).await.map_err(internal)?.map_err(content_error)
    }

    async fn changes(&self, label: &str, user: &User) -> ApiResult {
        require(user.may_submit(label) || user.may_review(label), user, &format!("see the changes of {label}"))?;
        let (config, l) = (self.config(), label.to_string());
        let changes = self.with_content(move |r| content::changes(r, &config, &l)).await?;
        Ok((StatusCode::OK, json!({ "site": label, "changes": changes })))
    }

    async fn submit(&self, label: &str, body: SubmitBody, user: &User) -> ApiResult {
        let (config, snap, user, l) = (self.config(), self.live.snapshot_arc(), user.clone(), label.to_string());
        let s = self
            .with_content(move |r| {
                let look = Look { themes: &snap.themes, platform: &snap.platform };
                let req = content::Request {
                    label: &l,
                    paths: &body.paths,
                    message: &body.message,
                    publish_at: body.publish_at.as_deref(),
                };
                content::submit(r, &config, &look, &user, &req)
            })
            .await?;
        Ok((StatusCode::CREATED, submission_json(&s)))
    }

    async fn force_publish(&self, label: &str, reason: Option<String>, user: &User) -> ApiResult {
        let (config, snap, user, l) = (self.config(), self.live.snapshot_arc(), user.clone(), label.to_string());
        let s = self
            .with_content(move |r| {
                let look = Look { themes: &snap.themes, platform: &snap.platform };
                content::force_publish(r, &config, &look, &user, &l, reason.as_deref())
            })
            .await?;
        self.publish_now().await?;
        Ok((StatusCode::CREATED, submission_json(&s)))
    }

    async fn submissions(&self, q: &HashMap<String, String>, user: &User) -> ApiResult {
        let state = q
            .get("state")
            .map(|s| {
                State::parse(s).ok_or_else(|| {
                    bad_param("state", "submitted, escalated, scheduled, approved, rejected, withdrawn or needs_review")
                })
            })
            .transpose()?;
        let site = q.get("site").cloned();
        let list = self.with_content(move |r| Ok(r.submissions(site.as_deref(), state)?)).await?;
        let visible: Vec<Value> = list.iter().filter(|s| user.in_scope(&s.site)).map(submission_json).collect();
        Ok((StatusCode::OK, json!({ "submissions": visible })))
    }

    async fn submission(&self, id: i64, user: &User) -> ApiResult {
        let (s, diffs, history) = self
            .with_content(move |r| {
                let s = r.submission(id)?;
                let diffs = content::diffs(r, &s)?;
                Ok((s, diffs, r.submission_history(id)?))
            })
            .await?;
        require(user.in_scope(&s.site), user, &format!("see submissions for {}", s.site))?;
        let mut v = submission_json(&s);
        v["diffs"] = json!(diffs);
        v["history"] = json!(history);
        Ok((StatusCode::OK, v))
    }

    async fn decide(&self, id: i64, action: Action, reason: Option<String>, user: &User) -> ApiResult {
        let (config, user) = (self.config(), user.clone());
        let s = self.with_content(move |r| content::decide(r, &config, &user, id, action, reason.as_deref())).await?;
        if s.state == State::Approved {
            self.publish_now().await?;
        }
        Ok((StatusCode::OK, submission_json(&s)))
    }

    /// Write out what was just published and wait until it is served.
    pub(crate) async fn publish_now(&self) -> Result<(), ApiError> {
        let (config, known) = (self.config(), self.written.clone());
        let sites = self
            .with_content(move |r| {
                content::write_published(r, &config, &mut known.lock().unwrap_or_else(|p| p.into_inner()))
            })
            .await?;
        if !sites.is_empty() {
            self.publisher.apply(crate::control::publisher::Change::Published(sites)).await;
        }
        Ok(())
    }

    /// `GET /api/sites/{label}/preview/{path}?submission={id}`: the page as it would be
    /// with the submission (or the whole working copy), on this listener only.
    async fn preview<B>(&self, req: &Request<B>, user: &User) -> Response<Body> {
        let path = req.uri().path();
        let rest = path.trim_start_matches("/api/sites/");
        let Some((label, page)) = rest.split_once("/preview") else {
            return error_response(not_found());
        };
        if let Err(e) = require(user.may_submit(label) || user.may_review(label), user, &format!("preview {label}")) {
            return error_response(e);
        }
        let query = parse_query(req.uri().query().unwrap_or(""));
        let id = match query.get("submission").map(|s| parse_id(s)).transpose() {
            Ok(id) => id,
            Err(e) => return error_response(e),
        };
        let page = percent_encoding::percent_decode_str(if page.is_empty() { "/" } else { page })
            .decode_utf8_lossy()
            .into_owned();
        let (config, snap, l) = (self.config(), self.live.snapshot_arc(), label.to_string());
        let built = self
            .with_content(move |r| {
                let look = Look { themes: &snap.themes, platform: &snap.platform };
                content::preview(r, &config, &look, &l, id)
            })
            .await;
        let site = match built {
            Ok(Ok(site)) => site,
            Ok(Err(problems)) => {
                let message = format!("{label} does not build with these changes");
                return json_response(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &json!({ "error": { "code": "build_failed", "message": message, "field": null, "problems": problems } }),
                );
            }
            Err(e) => return error_response(e),
        };
        let entry = site.lookup(&page).or_else(|| site.lookup(&format!("{}/", page.trim_end_matches('/'))));
        let prepared = match entry {
            Some(crate::content::site::Entry::Page(p)) => p.clone(),
            _ => site.not_found.clone(),
        };
        Response::builder()
            .status(prepared.status)
            .header(header::CONTENT_TYPE, prepared.content_type.clone())
            .header(header::CACHE_CONTROL, "no-store")
            .header("x-robots-tag", "noindex")
            .body(crate::serve::handler::full(prepared.body()))
            .expect("valid response")
    }

    /// `GET /api/sites/{label}/files/{path}`: the working copy's bytes, `ETag` its SHA-256.
    async fn read_file<B>(&self, req: &Request<B>, user: &User) -> Response<Body> {
        let rest = req.uri().path().trim_start_matches("/api/sites/");
        let Some((label, path)) = rest.split_once("/files/") else {
            return error_response(not_found());
        };
        let path = percent_encoding::percent_decode_str(path).decode_utf8_lossy().into_owned();
        let (config, user, l, p) = (self.config(), user.clone(), label.to_string(), path.clone());
        match self.with_content(move |_| content::read_file(&config, &user, &l, &p)).await {
            Ok((bytes, sha)) => Response::builder()
                .header(header::CONTENT_TYPE, crate::content::render::content_type_for(&path))
                .header(header::ETAG, format!("\"{sha}\""))
                .header(header::CACHE_CONTROL, "no-store")
                .body(crate::serve::handler::full(Bytes::from(bytes)))
                .expect("valid response"),
            Err(e) => error_response(e),
        }
    }

    fn config(&self) -> Arc<crate::model::config::Config> {
        self.config.clone()
    }
}

fn header_text<B>(req: &Request<B>, name: header::HeaderName) -> Option<String> {
    req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

fn submission_json(s: &Submission) -> Value {
    serde_json::to_value(s).expect("submissions serialise")
}

fn parse_id(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| bad_param("id", "a whole number"))
}

/// A publishing error as the API answers it (docs/publishing.md): 403 for the rules, 409
/// for stale and decided submissions, 422 for what must be fixed, with the build's
/// problems under `error.problems`.
pub(crate) fn content_error(e: ContentError) -> ApiError {
    let code = e.code();
    let status = match code {
        "forbidden" | "self_approval" | "board_required" => StatusCode::FORBIDDEN,
        "stale" | "already_decided" | "archived" => StatusCode::CONFLICT,
        "precondition_failed" => StatusCode::PRECONDITION_FAILED,
        "not_found" => StatusCode::NOT_FOUND,
        "registry" | "io" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let field = match &e {
        ContentError::Path(_) => Some("paths"),
        ContentError::InvalidTime(_) => Some("publish_at"),
        ContentError::ReasonRequired
        | ContentError::Registry(RegistryError::Refused(Refusal::ReasonRequired { .. })) => Some("reason"),
        _ => None,
    };
    let mut message = e.to_string();
    for p in e.problems() {
        message.push_str(&format!("\n{p}"));
    }
    ApiError(status, code, message, field.map(str::to_string))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitBody {
    #[serde(default)]
    paths: Vec<String>,
    message: String,
    #[serde(default)]
    publish_at: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishBody {
    #[serde(default)]
    force: bool,
    #[serde(default)]
    reason: Option<String>,
}

/// Users and their tokens (docs/accounts.md).
impl Admin {
    async fn list_users(&self) -> ApiResult {
        let users = self.with_registry(|r| Ok(r.users()?)).await?;
        Ok((StatusCode::OK, json!({ "users": users })))
    }

    /// `POST /api/users`: 201 with the user, and the generated password once when none was sent.
    async fn add_user(&self, body: NewUser, actor: &User) -> ApiResult {
        let role = Role::parse(&body.role).ok_or_else(|| {
            ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                AccountError::Role(body.role.clone()).to_string(),
                Some("role".into()),
            )
        })?;
        let new = User {
            name: body.name.unwrap_or_else(|| body.username.clone()),
            username: body.username,
            role,
            sites: body.sites,
            disabled: false,
        };
        let generated = body.password.is_none().then(crate::store::secrets::new_password);
        let password = body.password.or_else(|| generated.clone()).unwrap_or_default();
        let by = actor.username.clone();
        let user = self.with_registry(move |r| Ok(r.add_user(&new, &password, &by)?)).await?;
        Ok((StatusCode::CREATED, json!({ "user": user, "password": generated })))
    }

    async fn disable_user(&self, username: &str, actor: &User) -> ApiResult {
        let (u, by) = (username.to_string(), actor.username.clone());
        let user = self.with_registry(move |r| Ok(r.disable_user(&u, &by)?)).await?;
        Ok((StatusCode::OK, json!({ "user": user })))
    }

    /// `POST /api/users/{u}/tokens`: 201 with the token, shown this once.
    async fn create_token(&self, username: &str, label: String, actor: &User) -> ApiResult {
        let (u, by) = (username.to_string(), actor.username.clone());
        let (id, token) = self.with_registry(move |r| Ok(r.create_token(&u, &label, &by)?)).await?;
        Ok((StatusCode::CREATED, json!({ "id": id, "token": token, "username": username })))
    }

    /// `DELETE /api/tokens/{id}`: an admin revokes any token, a user its own.
    async fn revoke_token(&self, id: i64, actor: &User) -> ApiResult {
        let owner = self.with_registry(move |r| Ok(r.token(id)?)).await?.map(|t| t.username);
        let Some(owner) = owner else {
            return Err(ApiError(StatusCode::NOT_FOUND, "not_found", format!("no token {id}"), Some("id".into())));
        };
        require(actor.is_admin() || actor.username == owner, actor, "revoke another user's token")?;
        let by = actor.username.clone();
        let token = self.with_registry(move |r| Ok(r.revoke_token(id, &by)?)).await?;
        Ok((StatusCode::OK, json!({ "token": token })))
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    username: String,
    role: String,
    #[serde(default)]
    sites: Vec<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    #[serde(default)]
    label: Option<String>,
}

/// 403 `forbidden` unless `allowed`, naming the user, its role and what it tried.
pub(crate) fn require(allowed: bool, user: &User, what: &str) -> Result<(), ApiError> {
    if allowed {
        Ok(())
    } else {
        Err(forbidden(user, what))
    }
}

pub(crate) fn forbidden(user: &User, what: &str) -> ApiError {
    ApiError(StatusCode::FORBIDDEN, "forbidden", format!("{} ({}) may not {what}", user.username, user.role), None)
}

/// Paths an `integration` user may call: pushing dossier progress (docs/admin-api.md).
fn may_push_only(path: &str) -> bool {
    path.starts_with("/api/sites/") && path.contains("/dossiers/")
}

/// A refusal of `control::services` as the API answers it (docs/admin-api.md).
fn service_error(e: crate::control::services::ServiceError) -> ApiError {
    use crate::control::services::ServiceError;
    match e {
        ServiceError::Invalid { field, message } => {
            ApiError(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message, Some(field))
        }
        ServiceError::TooLate(message) => {
            ApiError(StatusCode::UNPROCESSABLE_ENTITY, "too_late", message, Some("from".into()))
        }
        ServiceError::Registry(e) => admit_error(AdmitError::Registry(e)),
        other => ApiError(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", other.to_string(), None),
    }
}

/// `POST /api/members/{label}/maintenance`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MaintenanceBody {
    from: String,
    until: String,
    reason: String,
    #[serde(default)]
    emergency: bool,
}

impl Admin {
    /// Announce a maintenance window (the rules of `control::services`); the notice is on
    /// the member's pages when this answers.
    async fn announce(&self, label: &str, body: MaintenanceBody, user: &User) -> ApiResult {
        use crate::control::services::{self, Announce};
        let calendar = self.calendar().await?;
        let (l, actor) = (label.to_string(), user.username.clone());
        let announced = crate::store::registry::off_workers(&self.registry, move |r| {
            let a = Announce {
                label: &l,
                from: &body.from,
                until: &body.until,
                reason: &body.reason,
                emergency: body.emergency,
            };
            services::announce(r, &calendar, &a, &actor, crate::model::time::now_secs() as i64)
        })
        .await
        .map_err(internal)?;
        let window = announced.map_err(service_error)?;
        self.refresh().await;
        Ok((StatusCode::CREATED, json!({ "label": crate::model::host::normalize_name(label), "maintenance": window })))
    }
}

/// Who may push dossiers for `label`: an admin, or an `integration` user of that site.
fn may_push(user: &User, label: &str) -> Result<(), ApiError> {
    let allowed = user.is_admin() || (user.role == Role::Integration && user.in_scope(label));
    require(allowed, user, &format!("push dossiers for {label}"))
}

/// A dossier as the API shows it: times in RFC 3339 UTC.
fn dossier_json(site: &str, d: &crate::model::dossier::Dossier) -> Value {
    use crate::model::time::rfc3339_at as rfc3339;
    json!({
        "site": site,
        "code": d.code,
        "service_code": d.service_code,
        "received_at": rfc3339(d.received_at),
        "due_at": rfc3339(d.due_at),
        "status": d.status,
        "completed_at": d.completed_at.map(rfc3339),
        "on_time": d.on_time(),
    })
}

impl Admin {
    /// Store a pushed dossier, then publish the site's dossiers; answers once the public
    /// lookup shows it.
    async fn push_dossier(&self, label: &str, code: &str, body: crate::model::dossier::Push) -> ApiResult {
        use crate::control::services::{self, ServiceError};
        let (l, c) = (label.to_string(), code.to_string());
        let pushed = crate::store::registry::off_workers(&self.registry, move |r| {
            let now = crate::model::time::now_secs() as i64;
            let (dossier, new) = services::push(r, &l, &c, &body, now)?;
            let all = r.dossiers(&crate::model::host::normalize_name(&l))?;
            Ok::<_, ServiceError>((dossier, new, all))
        })
        .await
        .map_err(internal)?;
        let (dossier, new, all) = pushed.map_err(service_error)?;
        let site = crate::model::host::normalize_name(label);
        let mut changed = std::collections::BTreeMap::new();
        changed.insert(site.clone(), Arc::new(crate::snapshot::SiteDossiers::new(all)));
        self.publisher.apply(crate::control::publisher::Change::Dossiers(changed)).await;
        let status = if new { StatusCode::CREATED } else { StatusCode::OK };
        Ok((status, dossier_json(&site, &dossier)))
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    #[serde(default)]
    reason: Option<String>,
}

/// Certificate state, read from the store (see [`crate::control::certs::status`]).
impl Admin {
    /// `tls` mode and one row per served or stored name, for GET /api/status.
    pub(crate) fn certificates(&self) -> Value {
        use crate::control::certs::{internal::LocalCa, status};
        use crate::store::certs::Store;
        let config = &self.live.config;
        let store = Store::at(&config.certs_dir);
        let wanted = status::wanted_names(config, &self.live.snapshot().members);
        let ca = (config.tls == crate::model::config::TlsMode::Internal).then(|| LocalCa::path_in(&store));
        json!({ "tls": format!("{:?}", config.tls).to_lowercase(), "local_ca": ca, "names": status::rows(&store, &wanted) })
    }

    /// A member's certificates: the worst status of its names, and each name's row.
    fn member_certificate(&self, m: &crate::model::member::Member) -> Value {
        use crate::control::certs::status;
        use crate::store::certs::Store;
        let config = &self.live.config;
        let store = Store::at(&config.certs_dir);
        let wanted = status::wanted_names(config, std::slice::from_ref(m));
        let mut names: Vec<String> = std::iter::once(m.fourth_level(&config.platform.zone))
            .chain(m.names.own_domains.iter().cloned())
            .chain(m.names.aliases.iter().cloned())
            .filter(|n| wanted.contains(n) || store.name_dir(n).is_ok_and(|d| d.is_dir()))
            .collect();
        names.dedup();
        let rows: Vec<_> = names.iter().map(|n| status::row(&store, n, wanted.contains(n))).collect();
        json!({ "status": status::worst(rows.iter().map(|r| r.status)), "names": rows })
    }
}

fn admit_error(e: AdmitError) -> ApiError {
    match e {
        AdmitError::Rejected(report) => {
            let first = report.errors.first();
            let status = if first.is_some_and(|f| {
                matches!(f.code, crate::model::naming::Code::Taken | crate::model::naming::Code::OwnDomainTaken)
            }) {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let code = first.map_or("rejected", |f| f.code.as_str());
            let message = report.errors.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join("; ");
            ApiError(status, code, message, first.and_then(|f| f.field.clone()).or(Some("label".into())))
        }
        AdmitError::NeedsOverride(report) => {
            let message = report
                .warnings
                .iter()
                .map(|f| format!("{}: {}", f.code.as_str(), f.message))
                .collect::<Vec<_>>()
                .join("; ");
            ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                "override_required",
                format!("{message}; send override_reason to register anyway"),
                Some("override_reason".into()),
            )
        }
        AdmitError::Invalid { field, message } => {
            ApiError(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message, Some(field.into()))
        }
        AdmitError::Registry(RegistryError::NotFound { label }) => {
            ApiError(StatusCode::NOT_FOUND, "not_found", format!("no member \"{label}\""), Some("label".into()))
        }
        AdmitError::Registry(e @ RegistryError::InvalidTransition { .. }) => {
            ApiError(StatusCode::CONFLICT, "invalid_transition", e.to_string(), Some("status".into()))
        }
        AdmitError::Registry(e @ (RegistryError::NoUser { .. } | RegistryError::NoToken { .. })) => {
            ApiError(StatusCode::NOT_FOUND, "not_found", e.to_string(), None)
        }
        AdmitError::Registry(e @ RegistryError::UserExists { .. }) => {
            ApiError(StatusCode::CONFLICT, "taken", e.to_string(), Some("username".into()))
        }
        AdmitError::Registry(RegistryError::Account(e)) => {
            ApiError(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", e.to_string(), Some(e.field().into()))
        }
        AdmitError::Registry(e) => ApiError(StatusCode::INTERNAL_SERVER_ERROR, "registry", e.to_string(), None),
    }
}

fn not_found() -> ApiError {
    ApiError(StatusCode::NOT_FOUND, "not_found", "no such endpoint (see docs/admin-api.md)".into(), None)
}

/// A failure of ours (a thread that panicked, a store that broke): 500.
fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string(), None)
}

pub(crate) fn bad_param(field: &str, expected: &str) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, "invalid_parameter", format!("{field} must be {expected}"), Some(field.into()))
}

/// Read a JSON body of at most `limit` bytes: 413 beyond, 400 for broken JSON, 422 for
/// unknown or mistyped fields.
async fn read_json<B, T>(req: Request<B>, limit: u64) -> Result<T, ApiError>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
    T: serde::de::DeserializeOwned,
{
    let bytes = read_body(req, limit).await?;
    parse_json(&bytes)
}

async fn read_json_or_empty<B, T>(req: Request<B>, limit: u64) -> Result<T, ApiError>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
    T: serde::de::DeserializeOwned + Default,
{
    let bytes = read_body(req, limit).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse_json(&bytes)
}

async fn read_body<B>(req: Request<B>, limit: u64) -> Result<Bytes, ApiError>
where
    B: hyper::body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let too_large = || {
        ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body is over {limit} bytes ([limits] max_admin_body_bytes)"),
            None,
        )
    };
    if req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > limit)
    {
        return Err(too_large());
    }
    let limited = Limited::new(req.into_body(), usize::try_from(limit).unwrap_or(usize::MAX));
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(too_large()),
        Err(e) => {
            Err(ApiError(StatusCode::BAD_REQUEST, "bad_body", format!("cannot read the request body: {e}"), None))
        }
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        match inner.classify() {
            serde_json::error::Category::Data => {
                // An unknown field is named by serde itself; a mistyped one by its path.
                let unknown = message.strip_prefix("unknown field `").and_then(|r| r.split('`').next());
                let field = unknown.map(str::to_string).or_else(|| (path != ".").then_some(path));
                ApiError(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message, field)
            }
            _ => ApiError(StatusCode::BAD_REQUEST, "invalid_json", message, None),
        }
    })
}

pub(crate) fn parse_query(q: &str) -> HashMap<String, String> {
    crate::serve::form::pairs(q).collect()
}

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    let body = serde_json::to_vec_pretty(value).expect("JSON values serialise");
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(crate::serve::handler::full(Bytes::from(body)))
        .expect("valid response")
}

fn error_response(e: ApiError) -> Response<Body> {
    let ApiError(status, code, message, field) = e;
    json_response(status, &json!({ "error": { "code": code, "message": message, "field": field } }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode() {
        let q = parse_query("name=C%E1%BB%A5c+B%C3%A1o&x=&y");
        assert_eq!(q["name"], "Cục Báo");
        assert_eq!(q["x"], "");
        assert_eq!(q["y"], "");
    }

    #[test]
    fn json_errors_are_classified() {
        let e = parse_json::<ReasonBody>(b"{\"reason\": \"x\"").err().unwrap();
        assert_eq!((e.0, e.1), (StatusCode::BAD_REQUEST, "invalid_json"));
        let e = parse_json::<ReasonBody>(b"{\"raeson\": \"x\"}").err().unwrap();
        assert_eq!((e.0, e.1, e.3.as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("raeson")));
        let e = parse_json::<ReasonBody>(b"{\"reason\": 7}").err().unwrap();
        assert_eq!((e.0, e.1, e.3.as_deref()), (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", Some("reason")));
    }
}
