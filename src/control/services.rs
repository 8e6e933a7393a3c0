//! Public services' rules that need the store (docs/services.md): announcing a
//! maintenance window at least 7 working days ahead (the calendar of `model::time`, with
//! the holidays the admins set), and taking dossier progress from a unit's case system, one
//! dossier (the admin API) or a CSV file (the command line) at a time. The command line and
//! the admin API both come here, so a window or a dossier is judged the same way.

use crate::model::dossier::{self, Dossier, Push};
use crate::model::member::{Status, Window};
use crate::model::time::{Calendar, Date};
use crate::store::registry::{Registry, RegistryError};

/// Working days a window must be announced ahead (Decree 224/2026).
pub const NOTICE_WORKING_DAYS: u32 = 7;
/// The longest window, to catch a mistyped date: 7 days.
pub const MAX_WINDOW_SECS: i64 = 7 * 86_400;

/// Why a window or a dossier was refused.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A field is wrong: which, and why (422 on the API, exit 2 on the command line).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Announced later than the rule allows, without `--emergency`.
    #[error("{0}")]
    TooLate(String),
    /// A CSV file with a bad row: nothing of the file was imported.
    #[error("{file}:{line}: {column}{message}; nothing from this file was imported")]
    Csv { file: String, line: usize, column: String, message: String },
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

fn invalid(field: &str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid { field: field.to_string(), message: message.into() }
}

/// What an announcement asks for, as typed.
pub struct Announce<'a> {
    pub label: &'a str,
    pub from: &'a str,
    pub until: &'a str,
    pub reason: &'a str,
    pub emergency: bool,
}

/// Check and store a maintenance window for an active member. The window may start on the
/// 7th working day after today (in Viet Nam) at the earliest, unless `emergency`.
pub fn announce(
    registry: &mut Registry,
    calendar: &Calendar,
    a: &Announce,
    actor: &str,
    now: i64,
) -> Result<Window, ServiceError> {
    let time = |field: &str, value: &str| {
        crate::model::time::parse_rfc3339(value).ok_or_else(|| {
            invalid(field, format!("\"{value}\" is not a time with an offset; write it like 2026-12-20T22:00:00+07:00"))
        })
    };
    let (from, until) = (time("from", a.from)?, time("until", a.until)?);
    if until <= from {
        return Err(invalid("until", "must be after --from"));
    }
    if until - from > MAX_WINDOW_SECS {
        return Err(invalid(
            "until",
            "a window lasts at most 7 days; announce a longer outage as several windows, or suspend the member",
        ));
    }
    if until <= now {
        return Err(invalid("until", "is in the past"));
    }
    let reason = a.reason.trim();
    if reason.is_empty() {
        return Err(invalid("reason", "required: the public reads it in the notice"));
    }
    if let Some(f) = crate::model::naming::check_text("reason", reason) {
        return Err(invalid("reason", f.message));
    }
    let label = crate::model::host::normalize_name(a.label);
    let member = registry.member(&label)?.ok_or_else(|| RegistryError::NotFound { label: label.clone() })?;
    if member.status != Status::Active {
        return Err(invalid(
            "label",
            format!("member \"{label}\" is {}; only an active member's site has windows", member.status),
        ));
    }
    let earliest = calendar.due(Date::at_vn(u64::try_from(now).unwrap_or(0)), NOTICE_WORKING_DAYS);
    let starts = Date::at_vn(u64::try_from(from).unwrap_or(0));
    if !a.emergency && starts < earliest {
        return Err(ServiceError::TooLate(format!(
            "a window must be announced at least {NOTICE_WORKING_DAYS} working days ahead: announced today, it may start on {} at the earliest (it starts on {}); \
             for an unplanned outage add --emergency",
            earliest.iso(),
            starts.iso()
        )));
    }
    let window = Window { from, until, reason: reason.to_string(), announced_at: now, emergency: a.emergency };
    registry.announce_maintenance(&label, &window, actor)?;
    Ok(window)
}

/// The member a dossier belongs to must exist.
fn require_member(registry: &Registry, label: &str) -> Result<String, ServiceError> {
    let label = crate::model::host::normalize_name(label);
    match registry.member(&label)? {
        Some(_) => Ok(label),
        None => Err(ServiceError::Registry(RegistryError::NotFound { label })),
    }
}

/// Store one dossier pushed for `label`; the dossier and whether it is new.
pub fn push(
    registry: &mut Registry,
    label: &str,
    code: &str,
    body: &Push,
    now: i64,
) -> Result<(Dossier, bool), ServiceError> {
    let label = require_member(registry, label)?;
    let dossier = body.check(code).map_err(|e| invalid(e.field, e.message))?;
    let added = registry.put_dossiers(&label, std::slice::from_ref(&dossier), now)?;
    Ok((dossier, added == 1))
}

/// Import a CSV file of dossiers for `label`, all or nothing: (imported, new).
pub fn import_csv(
    registry: &mut Registry,
    label: &str,
    file: &str,
    text: &str,
    now: i64,
) -> Result<(usize, usize), ServiceError> {
    let label = require_member(registry, label)?;
    let dossiers = dossier::parse_csv(text).map_err(|(line, column, message)| ServiceError::Csv {
        file: file.to_string(),
        line,
        column: if column.is_empty() { String::new() } else { format!("column {column}: ") },
        message,
    })?;
    let added = registry.put_dossiers(&label, &dossiers, now)?;
    Ok((dossiers.len(), added))
}
