//! `site.toml`: a member site's identity, names, contact data and theme choice.

use crate::model::config::toml_problem;
use crate::model::member::{Membership, Names};
use crate::model::problem::Problem;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The parsed `site.toml` of one tenant folder (read through `SiteToml`, its keys).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(from = "SiteToml")]
pub struct SiteConfig {
    /// The label (equal to the folder name), the unit's names, its kind and hosts; no servers.
    #[serde(flatten)]
    pub names: Names,
    /// Theme name under `themes/`; default `default`.
    pub theme: String,
    /// One sentence for the meta description.
    pub description: String,
    /// The person responsible for the portal (Decree 42/2022).
    pub responsible: Responsible,
    /// Contact data shown in every footer.
    pub contact: Contact,
    /// Navigation; empty: top-level pages and sections by weight.
    pub menu: Vec<MenuItem>,
    /// Free theme variables.
    pub vars: BTreeMap<String, String>,
}

/// `site.toml` as written: every key at the top level, unknown keys refused with their line
/// (`#[serde(flatten)]` cannot be combined with `deny_unknown_fields`, so the names are read
/// here and moved into [`Names`]).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteToml {
    /// The fourth-level label; must equal the folder name.
    label: String,
    /// The unit's name in Vietnamese.
    name_vi: String,
    /// The unit's name in English.
    #[serde(default)]
    name_en: String,
    /// `shared` (served here) or `independent` (its fourth-level name redirects away).
    #[serde(default = "shared")]
    membership: Membership,
    /// The unit's own domains (`ais.gov.vn`).
    #[serde(default)]
    own_domains: Vec<String>,
    /// Extra hostnames that redirect to the canonical host.
    #[serde(default)]
    aliases: Vec<String>,
    /// The host that serves the site; default the fourth-level name.
    #[serde(default)]
    canonical: Option<String>,
    /// Theme name under `themes/`; default `default`.
    #[serde(default = "default_theme")]
    theme: String,
    /// One sentence for the meta description.
    #[serde(default)]
    description: String,
    /// The person responsible for the portal (Decree 42/2022).
    #[serde(default)]
    responsible: Responsible,
    /// Contact data shown in every footer.
    #[serde(default)]
    contact: Contact,
    /// Navigation; empty: top-level pages and sections by weight.
    #[serde(default)]
    menu: Vec<MenuItem>,
    /// Free theme variables.
    #[serde(default)]
    vars: BTreeMap<String, String>,
}

impl From<SiteToml> for SiteConfig {
    fn from(t: SiteToml) -> SiteConfig {
        SiteConfig {
            names: Names {
                label: t.label,
                name_vi: t.name_vi,
                name_en: t.name_en,
                membership: t.membership,
                own_domains: t.own_domains,
                aliases: t.aliases,
                canonical: t.canonical,
                servers: Vec::new(),
            },
            theme: t.theme,
            description: t.description,
            responsible: t.responsible,
            contact: t.contact,
            menu: t.menu,
            vars: t.vars,
        }
    }
}

/// Người chịu trách nhiệm.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Responsible {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub title: String,
}

/// The footer's contact block.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// Cơ quan chủ quản (managing agency).
    #[serde(default)]
    pub agency: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
}

/// One navigation entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MenuItem {
    pub title: String,
    pub url: String,
}

fn shared() -> Membership {
    Membership::Shared
}

fn default_theme() -> String {
    "default".into()
}

/// Parse `site.toml` text; `file` names it in messages. Returns every problem found.
pub fn parse(text: &str, file: &str, folder_label: &str) -> Result<SiteConfig, Vec<Problem>> {
    let mut config: SiteConfig = toml::from_str(text).map_err(|e| vec![toml_problem(file, text, &e, 0)])?;
    let mut problems = Vec::new();
    let line_of = |key: &str| key_line(text, key).unwrap_or(1);
    let names = &mut config.names;
    if names.label != folder_label {
        let message = format!("label \"{}\" does not match the folder name \"{folder_label}\"", names.label);
        problems.push(Problem::in_file(file, message).at_line(line_of("label")).fix("rename one of them"));
    }
    if names.name_vi.trim().is_empty() {
        let problem = Problem::in_file(file, "name_vi is empty").at_line(line_of("name_vi"));
        problems.push(problem.fix("the unit's Vietnamese name is required"));
    }
    for (key, hosts) in [("own_domains", &mut names.own_domains), ("aliases", &mut names.aliases)] {
        for host in hosts.iter_mut() {
            *host = host.trim().trim_end_matches('.').to_ascii_lowercase();
            if !crate::model::naming::is_valid_hostname(host) {
                let message = format!("\"{host}\" is not a valid hostname");
                problems.push(Problem::in_file(file, message).at_line(line_of(key)).key(key));
            }
        }
    }
    if let Some(c) = names.canonical.as_mut() {
        *c = c.trim().trim_end_matches('.').to_ascii_lowercase();
    }
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems)
    }
}

/// The 1-based line where `key = ` is set at the start of a line, for messages.
pub fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            l.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str =
        "label = \"ais\"\nname_vi = \"Cục An toàn thông tin\"\nname_en = \"AIS\"\nown_domains = [\"AIS.gov.vn.\"]\n";

    #[test]
    fn good_site_toml_parses_and_normalises_hosts() {
        let c = parse(GOOD, "tenants/ais/site.toml", "ais").unwrap();
        assert_eq!(c.names.own_domains, vec!["ais.gov.vn"]);
        assert_eq!(c.theme, "default");
        assert_eq!(c.names.membership, Membership::Shared);
    }

    #[test]
    fn typo_in_key_gets_line_and_suggestion() {
        let text = format!("{GOOD}thme = \"x\"\n");
        let err = parse(&text, "tenants/ais/site.toml", "ais").unwrap_err();
        assert!(err[0].to_string().starts_with("tenants/ais/site.toml:5:1: unknown field `thme`"), "{err:?}");
        assert!(err[0].to_string().contains("did you mean \"theme\""), "{err:?}");
    }

    #[test]
    fn label_must_match_folder() {
        let err = parse(GOOD, "t/x/site.toml", "vnnic").unwrap_err();
        assert!(
            err[0].to_string().contains("t/x/site.toml:1: label \"ais\" does not match the folder name \"vnnic\""),
            "{err:?}"
        );
    }

    #[test]
    fn bad_own_domain_is_reported_with_its_line() {
        let text = GOOD.replace("AIS.gov.vn.", "ais gov");
        let err = parse(&text, "s.toml", "ais").unwrap_err();
        assert!(err[0].to_string().starts_with("s.toml:4: own_domains: \"ais gov\""), "{err:?}");
    }

    #[test]
    fn membership_must_be_known() {
        let text = format!("{GOOD}membership = \"shard\"\n");
        let err = parse(&text, "s.toml", "ais").unwrap_err();
        assert!(err[0].to_string().contains("s.toml:5:") && err[0].to_string().contains("shard"), "{err:?}");
    }
}
