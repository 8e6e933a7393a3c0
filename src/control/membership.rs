//! Admitting and changing members: every name a member carries is checked
//! ([`Names::validate`]) before the registry writes it. The CLI, the admin API and the
//! first-start import all go through here, so a name is judged the same way wherever it
//! is stored; a start with no member imports the site folders only into a fresh data
//! folder ([`first_start`]).

use crate::model::config::Config;
use crate::model::escape::Escaped;
use crate::model::member::{Member, Membership, Names, Status};
use crate::model::naming::{self, Code, Finding, NameIndex, NameReport, Proposal};
use crate::store::registry::{Found, Registration, Registry, RegistryError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The audit log's actor for what `cong serve` does on its own at start.
const FIRST_START: &str = "cong serve (first start)";

/// A registration as asked for (CLI flags or the admin API's JSON body): the raw form,
/// checked into [`Names`] by [`register`]. Flat and without `#[serde(flatten)]`, which
/// cannot be combined with `deny_unknown_fields`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub label: String,
    pub name_vi: String,
    #[serde(default)]
    pub name_en: String,
    pub membership: Option<Membership>,
    #[serde(default)]
    pub own_domains: Vec<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub canonical: Option<String>,
    #[serde(default)]
    pub servers: Vec<String>,
    #[serde(default)]
    pub override_reason: Option<String>,
}

impl Request {
    /// The names asked for, once the fields every registration needs are there: the unit's
    /// names trimmed; label and hosts as given (the naming rules and the registry
    /// normalise them).
    fn names(&self) -> Result<Names, AdmitError> {
        let membership = self.membership.ok_or(AdmitError::Invalid {
            field: "membership",
            message: "required: \"shared\" or \"independent\"".into(),
        })?;
        if self.name_vi.trim().is_empty() {
            return Err(AdmitError::Invalid {
                field: "name_vi",
                message: "required: the unit's name in Vietnamese".into(),
            });
        }
        Ok(Names {
            label: self.label.clone(),
            name_vi: self.name_vi.trim().to_string(),
            name_en: self.name_en.trim().to_string(),
            membership,
            own_domains: self.own_domains.clone(),
            aliases: self.aliases.clone(),
            canonical: self.canonical.clone(),
            servers: self.servers.clone(),
        })
    }
}

/// Why a registration did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AdmitError {
    /// The name breaks a rule of section 6 (codes in the report).
    #[error("the name is rejected: {}", codes(&.0.errors))]
    Rejected(Box<NameReport>),
    /// The name raises warnings and no override reason was given.
    #[error("the name raises warnings ({}); register again with an override reason to accept it", codes(&.0.warnings))]
    NeedsOverride(Box<NameReport>),
    /// A field is missing or wrong (not a naming rule).
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

fn codes(findings: &[Finding]) -> String {
    findings.iter().map(|f| f.code.as_str()).collect::<Vec<_>>().join(", ")
}

/// The naming index for the members already registered.
pub fn name_index(config: &Config, members: &[Member]) -> NameIndex {
    let mut index = NameIndex::new(&config.platform.zone, &config.platform.reserved);
    for m in members {
        add_to_index(&mut index, &m.names);
    }
    index
}

/// Record a member's label and hosts (own domains and aliases) as taken.
fn add_to_index(index: &mut NameIndex, names: &Names) {
    let hosts: Vec<String> = names.own_domains.iter().chain(&names.aliases).cloned().collect();
    index.add_member(&names.label, &hosts);
}

/// Check a proposed name against the rules and the registered members.
pub fn check_name(
    index: &NameIndex,
    name: &str,
    name_vi: Option<&str>,
    name_en: Option<&str>,
    own_domains: &[String],
) -> NameReport {
    naming::check(index, &Proposal { name, name_vi, name_en, own_domains, owner: None })
}

/// Register a new member (pending) after every name it carries passes the rules, and its
/// override reason is plain text. Two processes racing for one label: the database's
/// uniqueness lets exactly one win; the other gets `taken`.
pub fn register(
    registry: &mut Registry,
    config: &Config,
    req: &Request,
    actor: &str,
) -> Result<(Member, NameReport), AdmitError> {
    let names = req.names()?;
    let index = name_index(config, &registry.members()?);
    let mut report = names.validate(&index);
    if let Some(finding) = req.override_reason.as_deref().and_then(|r| naming::check_text("override_reason", r)) {
        report.errors.push(finding);
        report.ok = false;
    }
    if !report.ok {
        return Err(AdmitError::Rejected(Box::new(report)));
    }
    let reason = req.override_reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    if !report.warnings.is_empty() && reason.is_none() {
        return Err(AdmitError::NeedsOverride(Box::new(report)));
    }
    let registration = Registration {
        names: Names { label: report.label.clone(), ..names },
        status: Status::Pending,
        override_reason: reason.map(str::to_string),
    };
    match registry.register(&registration, &config.platform.zone, actor) {
        Ok(member) => Ok((member, report)),
        Err(RegistryError::Taken { host, owner }) => {
            Err(AdmitError::Rejected(Box::new(taken_report(report, &host, &owner))))
        }
        Err(e) => Err(e.into()),
    }
}

/// Move a member to `to` (activate, suspend, archive). The reason, kept in the audit log,
/// must be plain text like every other text the registry stores.
///
/// Archiving first keeps what the member serves now as its frozen copy
/// (`control::content::freeze`): from then on that copy is served, read-only, and later
/// edits to the folder are not.
pub fn set_status(
    registry: &mut Registry,
    config: &Config,
    label: &str,
    to: Status,
    actor: &str,
    reason: Option<&str>,
) -> Result<Member, AdmitError> {
    if let Some(finding) = reason.and_then(|r| naming::check_text("reason", r)) {
        return Err(AdmitError::Invalid { field: "reason", message: finding.message });
    }
    let mut frozen = None;
    if to == Status::Archived {
        let label = crate::model::host::normalize_name(label);
        let current = registry.member(&label)?.ok_or_else(|| RegistryError::NotFound { label: label.clone() })?;
        if current.status != Status::Archived {
            crate::control::content::freeze(config, &label).map_err(|e| AdmitError::Invalid {
                field: "label",
                message: format!("cannot keep the site as archived: {e}"),
            })?;
            frozen = Some(config.archived_dir().join(&label));
        }
    }
    registry.set_status(label, to, actor, reason).map_err(|e| {
        // Not archived after all: the frozen copy must not be served in its stead.
        if let Some(dir) = &frozen {
            let _ = std::fs::remove_dir_all(dir);
        }
        e.into()
    })
}

/// The report of a name lost in a race: the database said `taken`.
fn taken_report(mut report: NameReport, host: &str, owner: &str) -> NameReport {
    let code = if host == report.name { Code::Taken } else { Code::OwnDomainTaken };
    report.errors.push(Finding {
        code,
        message: format!("\"{host}\" is already registered to member \"{owner}\""),
        field: None,
    });
    report.ok = false;
    report
}

/// What a start does about the registry ([`Found`]): in a fresh data folder (no member
/// was ever stored there) it imports the site folders; when the registry was lost (no
/// member, but the data folder's marker says it held some) it imports nothing, serves no
/// member, and says so in the log and the audit log; a registry with members is left as
/// it is.
pub fn first_start(
    registry: &mut Registry,
    config: &Config,
    folders: impl FnOnce() -> BTreeMap<String, Names>,
) -> Result<(), RegistryError> {
    match registry.found()? {
        Found::Members => Ok(()),
        Found::Fresh => {
            let folders = &folders();
            let n = import_sites(registry, config, folders)?;
            let of = folders.len();
            tracing::info!(
                "fresh data folder: imported {n} of {of} site folders as active members (see the audit log)"
            );
            Ok(())
        }
        Found::Lost { marker } => withhold_import(registry, &folders(), &marker),
    }
}

/// On a fresh start, the site folders become active members, so the platform serves them
/// with no other step. Each folder's names are checked as a registration's are: a folder
/// that breaks a rule is not imported (the log and the audit log name each code and field)
/// and the others still are; warnings are accepted with the import as the reason, which
/// the audit log keeps.
fn import_sites(
    registry: &mut Registry,
    config: &Config,
    folders: &BTreeMap<String, Names>,
) -> Result<usize, RegistryError> {
    let mut index = name_index(config, &registry.members()?);
    // Judged one after the other (each against those accepted before it), then stored in
    // one transaction: thousands of folders import in one commit.
    let mut accepted: Vec<(String, Registration)> = Vec::new();
    for names in folders.values() {
        let file = crate::content::site::shown_path(&config.tenants_dir.join(&names.label).join("site.toml"));
        let report = names.validate(&index);
        if !report.ok {
            refuse_import(registry, &file, names, &report)?;
            continue;
        }
        let mut reason = format!("site folder imported from {file} into a fresh data folder on first start");
        if !report.warnings.is_empty() {
            reason.push_str(&format!("; naming warnings accepted: {}", codes(&report.warnings)));
        }
        let names = Names { label: report.label.clone(), ..names.clone() };
        add_to_index(&mut index, &names);
        accepted.push((file, Registration { names, status: Status::Active, override_reason: Some(reason) }));
    }
    let registrations: Vec<Registration> = accepted.iter().map(|(_, r)| r.clone()).collect();
    let outcomes = registry.register_all(&registrations, &config.platform.zone, FIRST_START)?;
    let mut imported = 0;
    for ((file, _), outcome) in accepted.iter().zip(outcomes) {
        match outcome {
            Ok(_) => imported += 1,
            Err(RegistryError::Taken { host, owner }) => {
                let (file, host, owner) = (Escaped(file), Escaped(&host), Escaped(&owner));
                tracing::warn!("{file}: not imported: \"{host}\" is already registered to \"{owner}\"")
            }
            Err(e) => return Err(e),
        }
    }
    Ok(imported)
}

/// A site folder refused at import: each error in the log with its code and field, and one
/// `refuse_import` entry in the audit log.
fn refuse_import(registry: &mut Registry, file: &str, names: &Names, report: &NameReport) -> Result<(), RegistryError> {
    for f in &report.errors {
        let field = f.field.as_deref().unwrap_or("-");
        tracing::warn!("{}: not imported: {} ({field}): {}", Escaped(file), f.code, f.message);
    }
    let detail = serde_json::json!({ "file": file, "errors": report.errors });
    let reason = format!("not imported on first start: {}", codes(&report.errors));
    registry.note(FIRST_START, "refuse_import", &names.label, &detail, Some(&reason))
}

/// A lost registry: nothing is imported, the error says what to do, the audit log keeps a
/// `withhold_import` entry.
fn withhold_import(
    registry: &mut Registry,
    folders: &BTreeMap<String, Names>,
    marker: &Path,
) -> Result<(), RegistryError> {
    let db = registry.path().display().to_string();
    let marker = marker.display().to_string();
    tracing::error!(
        "{db} has no members, but this data folder has held members ({marker} exists): the registry was lost or deleted. \
         The site folders are not imported, which would put suspended and archived members back online; no member is served. \
         Restore {db} from a backup and restart; or register and activate the members again (cong member register, cong member activate); \
         or, only to import every site folder as an active member, delete {marker} and restart"
    );
    let folders: Vec<&String> = folders.keys().collect();
    let detail = serde_json::json!({ "registry": db, "marker": marker, "folders_not_imported": folders });
    let reason = "registry.db missing or empty in a data folder that has held members: site folders not imported; restore registry.db from a backup";
    registry.note(FIRST_START, "withhold_import", "", &detail, Some(reason))
}

/// Who is acting, for the audit log: the login name behind the CLI.
pub fn cli_actor() -> String {
    let user = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("{user} (cli)")
}
