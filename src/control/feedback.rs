//! The admin side of the public's questions, complaints and petitions (docs/feedback.md):
//! the inbox, answers, extensions, forwarding, and the working-day calendar the 15-day
//! deadline is counted in. `data/feedback.db` is read and written off the async workers.

use crate::control::admin::{bad_param, forbidden, require, Admin, ApiError, ApiResult};
use crate::model::account::User;
use crate::model::time::Date;
use crate::serve::feedback::{Answered, Job, Status};
use crate::store::feedback::{Feedback, FeedbackError};
use http::StatusCode;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The feedback file as the server shares it.
pub type Shared = Arc<Mutex<Feedback>>;

/// The working days an item has from its receipt (Decree 43/2011 and its successors).
pub const DEADLINE_WORKING_DAYS: u32 = 15;

fn db_error(e: FeedbackError) -> ApiError {
    match e {
        FeedbackError::NotFound(code) => {
            ApiError(StatusCode::NOT_FOUND, "not_found", format!("no item with code {code}"), Some("code".into()))
        }
        other => ApiError(StatusCode::INTERNAL_SERVER_ERROR, "feedback", other.to_string(), None),
    }
}

async fn with<T: Send + 'static>(
    feedback: &Shared,
    f: impl FnOnce(&mut Feedback) -> Result<T, FeedbackError> + Send + 'static,
) -> Result<T, ApiError> {
    let feedback = feedback.clone();
    tokio::task::spawn_blocking(move || f(&mut feedback.lock().unwrap_or_else(|p| p.into_inner())))
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string(), None))?
        .map_err(db_error)
}

fn date_param(value: &str, field: &str) -> Result<Date, ApiError> {
    Date::parse(value).filter(|_| value.len() == 10).ok_or_else(|| bad_param(field, "a date written as 2026-12-01"))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct YearBody {
    #[serde(default)]
    off: Vec<String>,
    #[serde(default)]
    work: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnswerBody {
    pub(crate) answer: String,
    #[serde(default)]
    pub(crate) public: bool,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExtendBody {
    pub(crate) due_date: String,
    pub(crate) reason: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutOfScopeBody {
    pub(crate) reason: String,
    #[serde(default)]
    pub(crate) forward_to: Option<String>,
}

impl Admin {
    fn feedback(&self) -> Result<&Shared, ApiError> {
        self.feedback.as_ref().ok_or_else(|| {
            ApiError(
                StatusCode::SERVICE_UNAVAILABLE,
                "feedback_unavailable",
                "data/feedback.db could not be opened".into(),
                None,
            )
        })
    }

    /// The working-day calendar the admins keep (maintenance notices count on it too).
    pub(crate) async fn calendar(&self) -> Result<crate::model::time::Calendar, ApiError> {
        with(self.feedback()?, |f| f.calendar()).await
    }

    /// `GET /api/working-days?from=&days=`: the due date the items' deadline uses.
    pub(crate) async fn working_days(&self, q: &HashMap<String, String>) -> ApiResult {
        let from = date_param(q.get("from").map_or("", String::as_str), "from")?;
        let days: u32 = q
            .get("days")
            .and_then(|d| d.parse().ok())
            .filter(|d| *d <= 366)
            .ok_or_else(|| bad_param("days", "a whole number of working days, at most 366"))?;
        let calendar = with(self.feedback()?, |f| f.calendar()).await?;
        Ok((StatusCode::OK, json!({ "from": from.iso(), "days": days, "due": calendar.due(from, days).iso() })))
    }

    /// `GET /api/holidays/{year}`.
    pub(crate) async fn holidays(&self, year: &str) -> ApiResult {
        let year = parse_year(year)?;
        let (off, work) = with(self.feedback()?, move |f| f.year(year)).await?;
        Ok((StatusCode::OK, json!({ "year": year, "off": off, "work": work })))
    }

    /// `PUT /api/holidays/{year}` (admin): the year's days off and make-up working days.
    pub(crate) async fn set_holidays(&self, year: &str, body: YearBody, user: &User) -> ApiResult {
        require(user.is_admin(), user, "set the working-day calendar")?;
        let year = parse_year(year)?;
        let parse = |list: &[String], field: &str| -> Result<Vec<Date>, ApiError> {
            list.iter()
                .map(|s| {
                    let d = date_param(s, field)?;
                    if d.year != year {
                        return Err(ApiError(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "invalid_field",
                            format!("{s} is not in {year}"),
                            Some(field.into()),
                        ));
                    }
                    Ok(d)
                })
                .collect()
        };
        let (off, work) = (parse(&body.off, "off")?, parse(&body.work, "work")?);
        if let Some(d) = work.iter().find(|d| d.weekday() < 5) {
            return Err(ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                format!("{} is a weekday: a make-up working day falls on a Saturday or Sunday", d.iso()),
                Some("work".into()),
            ));
        }
        if let Some(d) = off.iter().find(|d| work.contains(d)) {
            return Err(ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                format!("{} is both off and a working day", d.iso()),
                Some("work".into()),
            ));
        }
        let (o, w) = (off.clone(), work.clone());
        with(self.feedback()?, move |f| f.set_year(year, &o, &w)).await?;
        let actor = user.username.clone();
        let detail = json!({ "year": year, "off": off.iter().map(|d| d.iso()).collect::<Vec<_>>(),
                             "work": work.iter().map(|d| d.iso()).collect::<Vec<_>>() });
        let _ =
            crate::store::registry::off_workers(&self.registry, move |r| r.note(&actor, "holidays", "", &detail, None))
                .await;
        self.holidays(&year.to_string()).await
    }

    /// `GET /api/feedback?site=&state=&overdue=true`: the items in the caller's scope.
    pub(crate) async fn feedback_list(&self, q: &HashMap<String, String>, user: &User) -> ApiResult {
        let site = q.get("site").cloned();
        let state = q.get("state").cloned();
        let overdue = q.get("overdue").is_some_and(|v| v == "true").then(Date::today);
        let items = with(self.feedback()?, move |f| f.items(site.as_deref(), state.as_deref(), overdue)).await?;
        let shown: Vec<Value> = items
            .iter()
            .filter(|i| user.may_submit(&i.site) || user.may_review(&i.site))
            .map(|i| serde_json::to_value(i).expect("items serialise"))
            .collect();
        Ok((StatusCode::OK, json!({ "items": shown })))
    }

    async fn item_in_scope(&self, code: &str, user: &User) -> Result<crate::store::feedback::Item, ApiError> {
        let c = code.to_string();
        let item = with(self.feedback()?, move |f| f.item(&c)).await?.ok_or_else(|| {
            ApiError(StatusCode::NOT_FOUND, "not_found", format!("no item with code {code}"), Some("code".into()))
        })?;
        if !(user.may_submit(&item.site) || user.may_review(&item.site)) {
            return Err(forbidden(user, &format!("handle items of {}", item.site)));
        }
        Ok(item)
    }

    /// `GET /api/feedback/{code}`.
    pub(crate) async fn feedback_item(&self, code: &str, user: &User) -> ApiResult {
        let item = self.item_in_scope(code, user).await?;
        Ok((StatusCode::OK, serde_json::to_value(item).expect("items serialise")))
    }

    /// `POST /api/feedback/{code}/answer`: contributors of the site and approvers answer;
    /// only approvers make an answer public.
    pub(crate) async fn feedback_answer(&self, code: &str, body: AnswerBody, user: &User) -> ApiResult {
        let item = self.item_in_scope(code, user).await?;
        if body.public {
            require(user.may_review(&item.site), user, "publish answers")?;
        }
        if body.answer.trim().is_empty() {
            return Err(ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                "the answer is empty".into(),
                Some("answer".into()),
            ));
        }
        let (c, by) = (item.code.clone(), user.username.clone());
        let now = crate::model::time::now_secs();
        let item = with(self.feedback()?, move |f| f.answer(&c, body.answer.trim(), body.public, &by, now)).await?;
        Ok((StatusCode::OK, serde_json::to_value(item).expect("items serialise")))
    }

    /// `POST /api/feedback/{code}/extend`: a new due date (after the current one) and why.
    pub(crate) async fn feedback_extend(&self, code: &str, body: ExtendBody, user: &User) -> ApiResult {
        let item = self.item_in_scope(code, user).await?;
        let due = date_param(&body.due_date, "due_date")?;
        if due.iso() <= item.due_date {
            return Err(ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                format!("the new due date must be after {}", item.due_date),
                Some("due_date".into()),
            ));
        }
        if body.reason.trim().is_empty() {
            return Err(ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reason_required",
                "an extension needs a reason".into(),
                Some("reason".into()),
            ));
        }
        let c = item.code.clone();
        let item = with(self.feedback()?, move |f| f.extend(&c, due, body.reason.trim())).await?;
        Ok((StatusCode::OK, serde_json::to_value(item).expect("items serialise")))
    }

    /// `POST /api/feedback/{code}/out-of-scope`: closed with a reason, or forwarded to
    /// another member (keeping its code).
    pub(crate) async fn feedback_out_of_scope(&self, code: &str, body: OutOfScopeBody, user: &User) -> ApiResult {
        let item = self.item_in_scope(code, user).await?;
        if body.reason.trim().is_empty() {
            return Err(ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                "reason_required",
                "say why it is out of scope".into(),
                Some("reason".into()),
            ));
        }
        if let Some(to) = &body.forward_to {
            let t = to.clone();
            let known = crate::store::registry::off_workers(&self.registry, move |r| r.member(&t))
                .await
                .ok()
                .and_then(Result::ok)
                .flatten()
                .is_some();
            if !known {
                return Err(ApiError(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_field",
                    format!("no member \"{to}\""),
                    Some("forward_to".into()),
                ));
            }
        }
        let (c, now) = (item.code.clone(), crate::model::time::now_secs());
        let item =
            with(self.feedback()?, move |f| f.out_of_scope(&c, body.reason.trim(), body.forward_to.as_deref(), now))
                .await?;
        Ok((StatusCode::OK, serde_json::to_value(item).expect("items serialise")))
    }

    /// `POST /api/feedback/{code}/start` (→ `in_progress`) and `.../spam` (closed as spam).
    pub(crate) async fn feedback_mark(&self, code: &str, spam: bool, user: &User) -> ApiResult {
        let item = self.item_in_scope(code, user).await?;
        let (c, now) = (item.code.clone(), crate::model::time::now_secs());
        let marked = with(self.feedback()?, move |f| if spam { f.spam(&c, now) } else { f.start(&c) }).await;
        match marked {
            Ok(item) => Ok((StatusCode::OK, serde_json::to_value(item).expect("items serialise"))),
            Err(e) if e.0 == StatusCode::NOT_FOUND => Err(ApiError(
                StatusCode::CONFLICT,
                "invalid_transition",
                format!("{code} is {}; only a received item is started", item.state),
                None,
            )),
            Err(e) => Err(e),
        }
    }

    /// `cong_feedback_open{site}` and `cong_feedback_overdue{site}`, read off the async workers.
    pub(crate) async fn feedback_gauges(&self) -> String {
        let Ok(feedback) = self.feedback() else { return String::new() };
        let counts = with(feedback, |f| f.counts(Date::today())).await.unwrap_or_default();
        let mut out = String::from("# HELP cong_feedback_open Questions, complaints and petitions not yet closed.\n# TYPE cong_feedback_open gauge\n");
        for (site, open, _) in &counts {
            out.push_str(&format!("cong_feedback_open{{site=\"{site}\"}} {open}\n"));
        }
        out.push_str(
            "# HELP cong_feedback_overdue Open items past their due date.\n# TYPE cong_feedback_overdue gauge\n",
        );
        for (site, _, overdue) in &counts {
            out.push_str(&format!("cong_feedback_overdue{{site=\"{site}\"}} {overdue}\n"));
        }
        out
    }
}

/// Start the one writer of the public write path: a thread of its own holding a
/// connection to `path`, answering the listeners' [`Job`]s in order. A question is
/// acknowledged (and the listener answers 303) only once its row is committed.
pub fn spawn_writer(path: &std::path::Path) -> Result<tokio::sync::mpsc::Sender<Job>, FeedbackError> {
    let mut feedback = Feedback::open(path)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Job>(256);
    std::thread::Builder::new()
        .name("cong-feedback".into())
        .spawn(move || {
            while let Some(job) = rx.blocking_recv() {
                run_job(&mut feedback, job);
            }
        })
        .map_err(|e| FeedbackError::Open {
            path: path.display().to_string(),
            source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
        })?;
    Ok(tx)
}

fn run_job(feedback: &mut Feedback, job: Job) {
    let now = crate::model::time::now_secs();
    match job {
        Job::Send(item, reply) => {
            let result = feedback.insert(&item, now).map_err(|e| {
                tracing::error!("keeping a question for {}: {e}", crate::model::escape::Escaped(&item.site));
                e.to_string()
            });
            let _ = reply.send(result);
        }
        Job::Lookup(code, reply) => {
            let status = feedback.item(&code).ok().flatten().map(|i| Status {
                answer: i.answer.filter(|_| i.public && i.state == "answered"),
                code: i.code,
                site: i.site,
                state: i.state,
                received_at: i.received_day,
                due_date: i.due_date,
                title: i.title,
            });
            let _ = reply.send(status);
        }
        Job::Answers(site, reply) => {
            let answers = feedback
                .public_answers(&site)
                .unwrap_or_default()
                .into_iter()
                .map(|i| Answered {
                    code: i.code,
                    title: i.title,
                    body: i.body,
                    answer: i.answer.unwrap_or_default(),
                    answered_at: i.answered_at.unwrap_or_default(),
                })
                .collect();
            let _ = reply.send(answers);
        }
        Job::Rate(site, path, useful, key) => {
            let day = Date::at_vn(now).iso();
            if let Err(e) = feedback.rate(&site, &path, &day, useful, &key) {
                tracing::warn!("counting a rating: {e}");
            }
        }
    }
}

/// Erase the personal data of items closed more than `[feedback] retain_personal_days` ago,
/// at start and then every hour, until `shutdown`.
pub async fn erase_periodically(feedback: Shared, retain_days: u64, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    loop {
        let now = crate::model::time::now_secs();
        let before = crate::model::time::rfc3339_secs(now.saturating_sub(retain_days.saturating_mul(86_400)));
        match with(&feedback, move |f| f.erase_personal(&before, now)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("erased the personal data of {n} item(s) closed over {retain_days} days ago"),
            Err(e) => tracing::warn!("erasing personal data: {}", e.2),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
            _ = shutdown.changed() => return,
        }
    }
}

fn parse_year(year: &str) -> Result<u16, ApiError> {
    year.parse().ok().filter(|y| (2000..=2100).contains(y)).ok_or_else(|| bad_param("year", "a year such as 2027"))
}
