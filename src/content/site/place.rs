//! Where each content file of a site is served (DESIGN §7): its folders name the section,
//! its file name (or `slug`) the page. Every name is made a slug on the way (`Hội nghị An
//! toàn 2026.md` → `/hoi-nghi-an-toan-2026/`), so no URL or sitemap entry carries a space
//! or a capital; a name that had to change is served all the same and reported, as the
//! editor safety net's other findings are (DESIGN §19).

use super::content::{self, Document};
use crate::content::files;
use crate::model::problem::Problem;
use crate::model::slug::slug;
use std::collections::{HashMap, HashSet};

/// A content file placed in the site tree.
pub(super) struct Item {
    /// Where it came from (`content/tin-tuc/a.md`), for messages.
    pub file: String,
    /// The section it belongs to: its folder's path made a slug (`tin-tuc`, `` for the root).
    pub section: String,
    pub url: String,
    pub doc: Document,
}

/// Read every `.md` under `content/`, placing each in its section. What the safety net
/// finds in a file, and a name made into a slug, go to `lints`.
pub(super) fn read_content(
    folder: &files::Folder,
    max_bytes: u64,
    problems: &mut Vec<Problem>,
    lints: &mut Vec<Problem>,
) -> Vec<Item> {
    let shown = &folder.shown;
    let (found, refused) = folder.walk("content", max_bytes);
    problems.extend(refused);
    let mut items: Vec<Item> = Vec::new();
    let mut renamed_folders = HashSet::new();
    // URL → the file served there, to find two files at one URL.
    let mut placed: HashMap<String, String> = HashMap::new();
    for f in found.into_iter().filter(|f| f.rel.ends_with(".md")) {
        let file = format!("{shown}/content/{}", f.rel);
        let text = match String::from_utf8(f.bytes) {
            Ok(t) => t,
            Err(_) => {
                problems.push(Problem::in_file(&file, "not UTF-8 text").fix("content must be UTF-8 text"));
                continue;
            }
        };
        let mut doc = match content::parse(&text, &file) {
            Ok(doc) => doc,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        if doc.front.draft {
            continue;
        }
        let (folder_rel, name) = f.rel.rsplit_once('/').unwrap_or(("", &f.rel));
        let section = match section_of(folder_rel, &format!("{shown}/content"), &mut renamed_folders, lints) {
            Ok(section) => section,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let url = match page_url(&section, name.strip_suffix(".md").unwrap_or(name), &doc, &file, lints) {
            Ok(url) => url,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        if let Some(other) = placed.insert(url.clone(), file.clone()) {
            let message = format!("served at {url}, where {other} is served too: one hides the other");
            lints.push(Problem::in_file(&file, message).fix("rename one of the two files, or give one another slug"));
        }
        lints.append(&mut doc.lints);
        items.push(Item { file, section, url, doc });
    }
    items
}

/// The section a content folder (`tin-tuc`, `` for the root) serves, each folder name made
/// a slug; a folder whose name changed is reported once, and one with nothing to make a
/// slug of is an error.
fn section_of(
    folder_rel: &str,
    content: &str,
    renamed: &mut HashSet<String>,
    lints: &mut Vec<Problem>,
) -> Result<String, Problem> {
    let mut section = Vec::new();
    for (i, name) in folder_rel.split('/').filter(|n| !n.is_empty()).enumerate() {
        let slug = slug(name);
        let path = folder_rel.split('/').take(i + 1).collect::<Vec<_>>().join("/");
        if slug.is_empty() {
            return Err(Problem::in_file(
                &format!("{content}/{path}"),
                "the folder name has no letter or digit to make a URL of",
            )
            .fix("rename the folder, for example to tin-tuc"));
        }
        section.push(slug);
        if section.last().map(String::as_str) != Some(name) && renamed.insert(path.clone()) {
            let url = format!("/{}/", section.join("/"));
            let message = format!("the folder name \"{name}\" is not a URL: served as {url}");
            lints.push(
                Problem::in_file(&format!("{content}/{path}"), message)
                    .fix(format!("rename the folder to {}", section[i])),
            );
        }
    }
    Ok(section.join("/"))
}

/// The URL of a content file named `stem` in `section`: the section's own for `_index`,
/// else the `slug` key or the file name, made a slug. A name that had to change is served
/// at its slug and reported (DESIGN §19); one with nothing to make a slug of is an error.
fn page_url(
    section: &str,
    stem: &str,
    doc: &Document,
    file: &str,
    lints: &mut Vec<Problem>,
) -> Result<String, Problem> {
    let under = |slug: &str| if section.is_empty() { format!("/{slug}/") } else { format!("/{section}/{slug}/") };
    if stem == "_index" {
        return Ok(if section.is_empty() { "/".to_string() } else { format!("/{section}/") });
    }
    if let Some(given) = doc.front.slug.as_deref() {
        let line = doc.slug_line.unwrap_or(1);
        let slug = slug(given);
        if given.contains('/') || given.contains("..") || slug.is_empty() {
            let message = format!("\"{given}\" must be one path segment without / and with a letter or digit");
            return Err(Problem::in_file(file, message).at_line(line).key("slug"));
        }
        if slug != given {
            let message = format!("\"{given}\" is not a URL: served at {}", under(&slug));
            lints.push(
                Problem::in_file(file, message).at_line(line).key("slug").fix(format!("write slug = \"{slug}\"")),
            );
        }
        return Ok(under(&slug));
    }
    let slug = slug(stem);
    if slug.is_empty() {
        return Err(Problem::in_file(file, "the file name has no letter or digit to make a URL of")
            .fix("rename the file, for example to hoi-nghi-2026.md"));
    }
    if slug != stem {
        let message = format!("the file name \"{stem}.md\" is not a URL: served at {}", under(&slug));
        lints.push(Problem::in_file(file, message).fix(format!("rename the file to {slug}.md")));
    }
    Ok(under(&slug))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Place the files `(path under content/, text)` of a site in a temporary folder.
    fn place(files: &[(&str, &str)]) -> (Vec<(String, String)>, Vec<String>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let path = dir.path().join("content").join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let folder = files::Folder::open(dir.path(), "s").unwrap();
        let (mut problems, mut lints) = (Vec::new(), Vec::new());
        let items = read_content(&folder, 1 << 20, &mut problems, &mut lints);
        let placed = items.into_iter().map(|i| (i.file, i.url)).collect();
        let shown = |ps: Vec<Problem>| ps.iter().map(ToString::to_string).collect();
        (placed, shown(problems), shown(lints))
    }

    #[test]
    fn names_are_served_at_their_slugs_and_each_change_reported_once() {
        let (mut placed, problems, mut lints) = place(&[
            ("Thông báo/_index.md", "+++\ntitle = \"Thông báo\"\n+++\n"),
            ("Thông báo/Lịch nghỉ Tết.md", "+++\ntitle = \"Lịch nghỉ\"\n+++\n"),
            ("Thông báo/hop-giao-ban.md", "+++\ntitle = \"Họp\"\n+++\n"),
            ("gioi-thieu.md", "+++\ntitle = \"Giới thiệu\"\n+++\n"),
            ("a.md", "+++\ntitle = \"A\"\nslug = \"Trang A\"\n+++\n"),
        ]);
        placed.sort();
        lints.sort();
        assert_eq!(problems, Vec::<String>::new());
        assert_eq!(
            placed,
            [
                ("s/content/Thông báo/Lịch nghỉ Tết.md".to_string(), "/thong-bao/lich-nghi-tet/".to_string()),
                ("s/content/Thông báo/_index.md".into(), "/thong-bao/".into()),
                ("s/content/Thông báo/hop-giao-ban.md".into(), "/thong-bao/hop-giao-ban/".into()),
                ("s/content/a.md".into(), "/trang-a/".into()),
                ("s/content/gioi-thieu.md".into(), "/gioi-thieu/".into()),
            ]
        );
        assert_eq!(
            lints,
            [
                "s/content/Thông báo/Lịch nghỉ Tết.md: the file name \"Lịch nghỉ Tết.md\" is not a URL: served at /thong-bao/lich-nghi-tet/ (rename the file to lich-nghi-tet.md)",
                "s/content/Thông báo: the folder name \"Thông báo\" is not a URL: served as /thong-bao/ (rename the folder to thong-bao)",
                "s/content/a.md:3: slug: \"Trang A\" is not a URL: served at /trang-a/ (write slug = \"trang-a\")",
            ]
        );
    }

    #[test]
    fn two_files_at_one_url_are_reported_and_a_name_without_letters_is_an_error() {
        let (_, problems, lints) = place(&[
            ("Hội nghị.md", "+++\ntitle = \"Một\"\n+++\n"),
            ("hoi-nghi.md", "+++\ntitle = \"Hai\"\n+++\n"),
            ("###.md", "+++\ntitle = \"Ba\"\n+++\n"),
            ("b.md", "+++\ntitle = \"Bốn\"\nslug = \"../x\"\n+++\n"),
        ]);
        assert!(
            lints
                .iter()
                .any(|l| l.contains("served at /hoi-nghi/, where s/content/") && l.contains("one hides the other")),
            "{lints:#?}"
        );
        assert_eq!(
            problems,
            [
                "s/content/###.md: the file name has no letter or digit to make a URL of (rename the file, for example to hoi-nghi-2026.md)",
                "s/content/b.md:3: slug: \"../x\" must be one path segment without / and with a letter or digit",
            ]
        );
    }
}
