//! Admitting and changing members: the naming rules applied before the registry writes.
//! The CLI and the admin API both go through here, so a name is judged the same way
//! wherever it is registered.

use crate::model::config::Config;
use crate::model::member::{Member, Membership, Names, Status};
use crate::model::naming::{self, Code, Finding, NameIndex, NameReport, Proposal};
use crate::snapshot::Sources;
use crate::store::registry::{Registration, Registry, RegistryError};
use serde::Deserialize;

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
    for m in members.iter().map(|m| &m.names) {
        let hosts: Vec<String> = m.own_domains.iter().chain(&m.aliases).cloned().collect();
        index.add_member(&m.label, &hosts);
    }
    index
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

/// Register a new member (pending) after the naming rules pass. Two processes racing
/// for one label: the database's uniqueness lets exactly one win; the other gets `taken`.
pub fn register(
    registry: &mut Registry,
    config: &Config,
    req: &Request,
    actor: &str,
) -> Result<(Member, NameReport), AdmitError> {
    let names = req.names()?;
    let index = name_index(config, &registry.members()?);
    let name_en = Some(req.name_en.as_str()).filter(|s| !s.trim().is_empty());
    let mut report = check_name(&index, &req.label, Some(&req.name_vi), name_en, &req.own_domains);
    check_aliases(&index, req, &mut report);
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

/// Aliases are hostnames outside the zone, held to the own-domain rules: one inside the
/// zone would give the member a second fourth-level name, which section 6 rules out.
fn check_aliases(index: &NameIndex, req: &Request, report: &mut NameReport) {
    if req.aliases.is_empty() {
        return;
    }
    let alias_report = naming::check(
        index,
        &Proposal { name: &req.label, name_vi: None, name_en: None, own_domains: &req.aliases, owner: None },
    );
    for mut finding in alias_report
        .errors
        .into_iter()
        .filter(|f| matches!(f.code, Code::OwnDomainInvalid | Code::OwnDomainInZone | Code::OwnDomainTaken))
    {
        finding.field = finding.field.map(|f| f.replace("own_domains", "aliases"));
        finding.message = finding.message.replace("own domain", "alias");
        report.errors.push(finding);
        report.ok = false;
    }
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

/// On a fresh start, the demo site folders become active members, so the platform serves
/// them with no other step; the audit log records the import with its reason.
pub fn import_sites(registry: &mut Registry, config: &Config, sources: &Sources) -> Result<usize, RegistryError> {
    let mut imported = 0;
    for site in sources.sites.values() {
        let c = &site.config;
        let registration = Registration {
            names: c.names.clone(),
            status: Status::Active,
            override_reason: Some(format!(
                "demo site imported from tenants/{}/site.toml into an empty registry on first start",
                c.names.label
            )),
        };
        match registry.register(&registration, &config.platform.zone, "cong serve (first start)") {
            Ok(_) => imported += 1,
            Err(RegistryError::Taken { host, owner }) => {
                tracing::warn!(
                    "tenants/{}: not imported: \"{host}\" is already registered to \"{owner}\"",
                    c.names.label
                )
            }
            Err(e) => return Err(e),
        }
    }
    Ok(imported)
}

/// Who is acting, for the audit log: the login name behind the CLI.
pub fn cli_actor() -> String {
    let user = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("{user} (cli)")
}
