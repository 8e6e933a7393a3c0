//! Links and images that lead nowhere (DESIGN §19): every path a page's Markdown or raw
//! HTML points at, resolved against the page's URL as a browser resolves it, and held
//! against what the built site serves (pages, section listings, aliases, static and theme
//! files, feeds, the sitemap) and the few paths the platform answers on every site. Run
//! once every page has its URL, so a link to a page later in the walk is not missed.

use super::{Entries, Entry};
use crate::model::problem::Problem;
use ammonia::url::Url;

/// A link or image in a page whose address has no scheme: a path of the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Its line in the content file.
    pub line: usize,
    /// As written (`../gioi-thieu/`, `/static/anh/a.png`).
    pub target: String,
    /// An image (`src`) rather than a link (`href`).
    pub image: bool,
}

/// What every member site answers that its folder does not hold: the question pages and
/// page ratings of the public write path (serve/feedback.rs, whose tests hold it to this
/// list) and the health check.
pub const PLATFORM_PATHS: &[&str] = &[
    "/hoi-dap/",
    "/hoi-dap/gui/",
    "/hoi-dap/tra-cuu/",
    "/_danh-gia",
    "/healthz",
    super::services::LOOKUP,
    super::services::STATISTICS,
];

/// A host no site has, to resolve paths against: what stays on it is a path of the site.
const HERE: &str = "http://site.invalid";

/// The decoded path `target` names when written on the page at `page_url`; `None` when it
/// names another host (`//example.vn/x`).
pub fn resolve(page_url: &str, target: &str) -> Option<String> {
    let here = Url::parse(HERE).ok()?;
    let url = here.join(page_url).ok()?.join(target).ok()?;
    if url.host_str() != here.host_str() {
        return None;
    }
    Some(percent_encoding::percent_decode_str(url.path()).decode_utf8_lossy().into_owned())
}

/// Whether a request for `path` gets an answer: an entry of the site (or one at `path/`,
/// which the request path redirects to), or a page of the platform.
pub fn served(path: &str, entries: &Entries) -> bool {
    entries.contains_key(path)
        || (!path.ends_with('/') && entries.contains_key(format!("{path}/").as_str()))
        || PLATFORM_PATHS.contains(&path)
}

/// Every link and image of the page `file` (served at `page_url`, its file in the folder
/// served at `folder_url`) that leads nowhere.
pub fn check(file: &str, page_url: &str, folder_url: &str, links: &[Link], entries: &Entries) -> Vec<Problem> {
    let mut problems = Vec::new();
    for link in links {
        let Some(path) = resolve(page_url, &link.target) else { continue };
        if served(&path, entries) {
            continue;
        }
        let shown = crate::model::escape::escape(&link.target);
        let at = if *shown == *path { String::new() } else { format!(" ({})", crate::model::escape::escape(&path)) };
        let (message, fix) = if link.image {
            (
                format!("image {shown}{at} is missing: the site serves no file there"),
                "put the file under static/ or correct the path".to_string(),
            )
        } else {
            (
                format!("link to {shown}{at} leads nowhere: the site serves nothing there"),
                "correct the link, or add the page it points to".to_string(),
            )
        };
        let fix = match suggestion(page_url, folder_url, &link.target, entries) {
            Some(better) => format!("did you mean {better}?"),
            None => fix,
        };
        problems.push(Problem::in_file(file, message).at_line(link.line).fix(fix));
    }
    problems
}

/// A served page the editor most likely meant: the link to a content file (`hoi-nghi.md`,
/// resolved from the folder the file is in) or to a name before it became a slug
/// (`/tin-tuc/Hội nghị/`), as the page's URL.
fn suggestion(page_url: &str, folder_url: &str, target: &str, entries: &Entries) -> Option<String> {
    let (base, target) = match target.split(['?', '#']).next().unwrap_or(target).strip_suffix(".md") {
        Some(stem) => (folder_url, stem),
        None => (page_url, target),
    };
    let path = resolve(base, target)?;
    let segments: Vec<String> = path.split('/').filter(|s| !s.is_empty()).map(crate::model::slug::slug).collect();
    let guess = if segments.is_empty() { "/".to_string() } else { format!("/{}/", segments.join("/")) };
    matches!(entries.get(guess.as_str()), Some(Entry::Page(_) | Entry::Redirect(_))).then_some(guess)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_resolve_as_a_browser_resolves_them() {
        for (page, target, want) in [
            ("/tin-tuc/abc/", "/gioi-thieu/", Some("/gioi-thieu/")),
            ("/tin-tuc/abc/", "../xyz/", Some("/tin-tuc/xyz/")),
            ("/tin-tuc/abc/", "anh.png", Some("/tin-tuc/abc/anh.png")),
            ("/tin-tuc/abc/", "/static/Báo cáo.pdf", Some("/static/Báo cáo.pdf")),
            ("/tin-tuc/abc/", "/static/B%C3%A1o%20c%C3%A1o.pdf", Some("/static/Báo cáo.pdf")),
            ("/tin-tuc/abc/", "/tin-tuc/?trang=2#cuoi", Some("/tin-tuc/")),
            ("/tin-tuc/abc/", "../../../../etc/passwd", Some("/etc/passwd")),
            ("/", "?q=1", Some("/")),
            ("/tin-tuc/abc/", "//example.vn/x", None),
        ] {
            assert_eq!(resolve(page, target).as_deref(), want, "{target:?} on {page}");
        }
    }

    fn page() -> Entry {
        use crate::content::render::{CachePolicy, Prepared};
        Entry::Page(std::sync::Arc::new(Prepared::html(http::StatusCode::OK, CachePolicy::Page, String::new())))
    }

    #[test]
    fn served_paths_pass_and_the_rest_is_reported_with_a_guess() {
        let entries: Entries = ["/", "/gioi-thieu/", "/tin-tuc/", "/tin-tuc/hoi-nghi/", "/static/a.png"]
            .into_iter()
            .map(|p| (p.into(), page()))
            .collect();
        let link = |line, target: &str, image| Link { line, target: target.into(), image };
        let links = [
            link(1, "/gioi-thieu", false),
            link(2, "../hoi-nghi/", false),
            link(3, "/static/a.png", true),
            link(4, "/hoi-dap/gui/", false),
            link(5, "/_danh-gia", false),
            link(6, "/tin-tuc/khong-co/", false),
            link(7, "/static/b.png", true),
            link(8, "hoi-nghi.md", false),
            link(9, "/tin-tuc/Hội nghị/", false),
            link(10, "/hoi-dap/khac/", false),
        ];
        let found = check("c/tin-tuc/a.md", "/tin-tuc/a/", "/tin-tuc/", &links, &entries);
        let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "c/tin-tuc/a.md:6: link to /tin-tuc/khong-co/ leads nowhere: the site serves nothing there (correct the link, or add the page it points to)",
                "c/tin-tuc/a.md:7: image /static/b.png is missing: the site serves no file there (put the file under static/ or correct the path)",
                "c/tin-tuc/a.md:8: link to hoi-nghi.md (/tin-tuc/a/hoi-nghi.md) leads nowhere: the site serves nothing there (did you mean /tin-tuc/hoi-nghi/?)",
                "c/tin-tuc/a.md:9: link to /tin-tuc/Hội nghị/ leads nowhere: the site serves nothing there (did you mean /tin-tuc/hoi-nghi/?)",
                "c/tin-tuc/a.md:10: link to /hoi-dap/khac/ leads nowhere: the site serves nothing there (correct the link, or add the page it points to)",
            ]
        );
    }
}
