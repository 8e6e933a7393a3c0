//! `cong check`: validate the config, every theme and every site folder, and report each
//! problem as `file:line: message` with the fix. Exit 1 when anything is wrong, the
//! editor safety net's findings included (DESIGN §19: a site with them is served, cleaned,
//! but does not pass the check).

use crate::content::platform::PlatformPages;
use crate::model::config::Config;
use crate::model::count;
use crate::model::escape::Escaped;
use crate::model::problem::Problem;
use crate::snapshot::{members_from_sites, Sources};
use serde::Serialize;

/// The outcome for one site folder.
#[derive(Debug, Serialize)]
pub struct SiteReport {
    pub label: String,
    pub ok: bool,
    pub pages: usize,
    /// Why the site does not build, each with `file`, `line`, `column`, `key`, `message`
    /// and `fix`.
    pub errors: Vec<Problem>,
    pub warnings: Vec<String>,
    /// What the editor safety net found in a site that builds (removed HTML, images without
    /// alt text, links that lead nowhere, file names made into slugs), the same fields.
    pub lints: Vec<Problem>,
}

/// Everything `cong check` found.
#[derive(Debug, Serialize)]
pub struct Report {
    pub ok: bool,
    pub config: String,
    pub theme_errors: Vec<String>,
    pub platform_errors: Vec<String>,
    /// Problems opening the registry (when it exists).
    pub registry_errors: Vec<String>,
    /// Registry and site folders that disagree (not fatal: the registry decides).
    pub registry_warnings: Vec<String>,
    pub sites: Vec<SiteReport>,
}

/// Check everything `config` points at. Sites are checked in their folders (the working
/// copies editors change), also where approval serves a published set: what is checked
/// is what would be submitted next.
pub fn run(config: &Config) -> Report {
    let mut folders = config.clone();
    folders.publishing.approval_required = false;
    folders.build_cache = false;
    let sources = Sources::load(&folders);
    let mut sites: Vec<SiteReport> = sources
        .sites
        .iter()
        .map(|(label, s)| SiteReport {
            label: label.clone(),
            ok: s.lints.is_empty(),
            pages: s.page_count,
            errors: vec![],
            warnings: s.warnings.clone(),
            lints: s.lints.clone(),
        })
        .collect();
    for (label, errors) in &sources.site_errors {
        sites.push(SiteReport {
            label: label.clone(),
            ok: false,
            pages: 0,
            errors: errors.clone(),
            warnings: vec![],
            lints: vec![],
        });
    }
    sites.sort_by(|a, b| a.label.cmp(&b.label));
    let platform_errors =
        match PlatformPages::render(&sources.themes, &config.platform, &members_from_sites(&sources), "https") {
            Ok(_) => vec![],
            Err(e) => vec![e],
        };
    let (registry_errors, registry_warnings) = compare_registry(config, &sources);
    let ok = sources.theme_errors.is_empty()
        && platform_errors.is_empty()
        && registry_errors.is_empty()
        && sites.iter().all(|s| s.ok);
    Report {
        ok,
        config: config.source.as_ref().map_or("(built-in defaults)".into(), |p| p.display().to_string()),
        theme_errors: sources.theme_errors,
        platform_errors,
        registry_errors,
        registry_warnings,
        sites,
    }
}

/// Hold the site folders against the registry, when there is one (a check never creates it).
fn compare_registry(config: &Config, sources: &Sources) -> (Vec<String>, Vec<String>) {
    let path = config.registry_path();
    if !path.exists() {
        return (vec![], vec![]);
    }
    let members = match crate::store::registry::Registry::open(&path).and_then(|r| r.members()) {
        Ok(m) => m,
        Err(e) => return (vec![e.to_string()], vec![]),
    };
    let mut warnings = Vec::new();
    for label in crate::content::site::list_folders(&config.tenants_dir) {
        if !members.iter().any(|m| m.names.label == label) {
            warnings.push(format!(
                "tenants/{label}: no registered member \"{label}\", so the folder is not served (cong member register {label} ...)"
            ));
        }
    }
    for m in members.iter().filter(|m| m.status == crate::model::member::Status::Active).map(|m| &m.names) {
        let shared = m.membership == crate::model::member::Membership::Shared;
        if shared && !config.tenants_dir.join(&m.label).join("site.toml").is_file() {
            warnings.push(format!(
                "member \"{}\" is active but tenants/{}/ has no site.toml: its names answer 503 (cong site new {})",
                m.label, m.label, m.label
            ));
        }
        if let Some(site) = sources.sites.get(&m.label) {
            if site.config.names.membership != m.membership {
                warnings.push(format!(
                    "tenants/{}/site.toml: membership = \"{}\" but the registry says \"{}\"; the registry decides",
                    m.label, site.config.names.membership, m.membership
                ));
            }
        }
    }
    (vec![], warnings)
}

impl Report {
    /// The report for people: problems first, then one line per site, then a summary.
    pub fn human(&self) -> String {
        let mut out = String::new();
        // What tenants wrote (file names, links) is shown escaped: it never forges a line.
        for e in self.theme_errors.iter().chain(&self.platform_errors).chain(&self.registry_errors) {
            out.push_str(&format!("error: {}\n", Escaped(e)));
        }
        for w in &self.registry_warnings {
            out.push_str(&format!("warning: {}\n", Escaped(w)));
        }
        for s in &self.sites {
            for e in s.errors.iter().chain(&s.lints) {
                out.push_str(&format!("error: {}\n", Escaped(e)));
            }
            for w in &s.warnings {
                out.push_str(&format!("warning: {}\n", Escaped(w)));
            }
        }
        for s in &self.sites {
            let verdict = if !s.errors.is_empty() {
                format!("FAILED ({})", count(s.errors.len(), "problem", "problems"))
            } else if !s.lints.is_empty() {
                let (lints, pages) = (count(s.lints.len(), "problem", "problems"), count(s.pages, "page", "pages"));
                format!("FAILED ({lints} in the content; served cleaned, {pages})")
            } else {
                format!("ok ({})", count(s.pages, "page", "pages"))
            };
            out.push_str(&format!("site {:<12} {verdict}\n", s.label));
        }
        let bad = self.sites.iter().filter(|s| !s.errors.is_empty()).count();
        let linted = self.sites.iter().filter(|s| s.errors.is_empty() && !s.lints.is_empty()).count();
        let other = self.theme_errors.len() + self.platform_errors.len() + self.registry_errors.len();
        out.push_str(&format!(
            "config {}: {} checked, {bad} with errors, {linted} with content to fix, {}\n",
            self.config,
            count(self.sites.len(), "site", "sites"),
            count(other, "other problem", "other problems"),
        ));
        out
    }
}
