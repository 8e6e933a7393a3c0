//! `cong site new`: a working site folder for a new member, filled in from the registry
//! where the member is registered, ready for `cong check`.

use crate::model::config::Platform;
use crate::model::member::Member;
use std::path::{Path, PathBuf};

/// Create `tenants/<label>/` with site.toml, a home page, an introduction, a news section
/// with a first article, and a contact page. Refuses to touch an existing folder.
pub fn create(
    tenants: &Path,
    label: &str,
    theme: &str,
    member: Option<&Member>,
    platform: &Platform,
) -> Result<PathBuf, String> {
    let index = crate::model::naming::NameIndex::new(&platform.zone, &platform.reserved);
    let report = crate::model::naming::check(
        &index,
        &crate::model::naming::Proposal { name: label, name_vi: None, name_en: None, own_domains: &[], owner: None },
    );
    if !report.ok {
        let why: Vec<String> = report.errors.iter().map(|f| format!("{}: {}", f.code.as_str(), f.message)).collect();
        return Err(format!("\"{label}\" cannot be a site folder: {}", why.join("; ")));
    }
    let label = report.label.as_str();
    let dir = tenants.join(label);
    if dir.exists() {
        return Err(format!(
            "{} already exists; choose another label or edit that folder",
            crate::content::site::shown_path(&dir)
        ));
    }
    let member = member.map(|m| &m.names);
    let name_vi = member.map_or_else(|| format!("Đơn vị {label}"), |m| m.name_vi.clone());
    let name_en = member.map_or_else(String::new, |m| m.name_en.clone());
    let membership = member.map_or("shared", |m| m.membership.as_str());
    let own = member
        .map_or_else(String::new, |m| m.own_domains.iter().map(|d| format!("\"{d}\"")).collect::<Vec<_>>().join(", "));
    let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let site_toml = format!(
        "label = \"{label}\"\nname_vi = \"{}\"\nname_en = \"{}\"\nmembership = \"{membership}\"\nown_domains = [{own}]\ntheme = \"{theme}\"\ndescription = \"Cổng thông tin điện tử {}\"\n\n[responsible]\nname = \"\"\ntitle = \"\"\n\n[contact]\nagency = \"{}\"\naddress = \"\"\nphone = \"\"\nemail = \"info@{label}.{}\"\n",
        q(&name_vi), q(&name_en), q(&name_vi), q(&platform.name_vi), platform.zone
    );
    let today = crate::content::site::content::Date::today().iso();
    let files = [
        ("site.toml", site_toml),
        ("content/_index.md", format!("+++\ntitle = \"{}\"\n+++\nChào mừng đến với Cổng thông tin điện tử của {name_vi}.\n", q(&name_vi))),
        ("content/gioi-thieu.md", "+++\ntitle = \"Giới thiệu\"\nweight = 1\n+++\n## Chức năng, nhiệm vụ\n\n## Cơ cấu tổ chức\n\n## Lãnh đạo\n\n## English: Organisation and contact\n".to_string()),
        ("content/tin-tuc/_index.md", "+++\ntitle = \"Tin tức\"\nweight = 2\npaginate_by = 10\n+++\n".to_string()),
        ("content/tin-tuc/ra-mat-cong-thong-tin.md", format!("+++\ntitle = \"Ra mắt Cổng thông tin điện tử\"\ndate = {today}\n+++\n{name_vi} ra mắt Cổng thông tin điện tử tại {label}.{}.\n", platform.zone)),
        ("content/lien-he.md", "+++\ntitle = \"Liên hệ\"\nweight = 9\n+++\nĐịa chỉ, điện thoại và thư điện tử của đơn vị.\n".to_string()),
    ];
    for (rel, text) in files {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().expect("files are inside the folder"))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    std::fs::create_dir_all(dir.join("static")).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::site::{build, BuildInput};
    use crate::content::theme::ThemeSet;

    #[test]
    fn a_new_site_builds_and_an_existing_one_is_refused() {
        let config = crate::model::config::parse("", "t", Path::new(".")).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let dir = create(tmp.path(), "Vpc", "default", None, &config.platform).unwrap();
        assert!(dir.ends_with("vpc"));
        let (themes, _) = ThemeSet::load(Path::new("/nonexistent"));
        let site = build(&BuildInput {
            banner: None,
            dir: &dir,
            themes: &themes,
            platform: &config.platform,
            scheme: "http",
            previous: None,
            budget: Default::default(),
        })
        .unwrap();
        assert!(site.lookup("/tin-tuc/ra-mat-cong-thong-tin/").is_some());
        assert!(site.lookup("/gioi-thieu/").is_some());
        assert_eq!(site.lints, [], "a new site passes the editor safety net");
        let err = create(tmp.path(), "vpc", "default", None, &config.platform).unwrap_err();
        assert!(err.contains("already exists"), "{err}");
    }

    #[test]
    fn invalid_labels_are_refused_with_the_rule() {
        let config = crate::model::config::parse("", "t", Path::new(".")).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let err = create(tmp.path(), "cục báo chí", "default", None, &config.platform).unwrap_err();
        assert!(err.contains("diacritics"), "{err}");
        let err = create(tmp.path(), "www", "default", None, &config.platform).unwrap_err();
        assert!(err.contains("reserved"), "{err}");
    }
}
