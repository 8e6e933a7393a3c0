//! One Markdown file of a site: TOML front matter between `+++` lines, then the body,
//! rendered to HTML through the editor safety net ([`super::html`]).

use crate::model::config::toml_problem;
use crate::model::problem::Problem;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The front matter keys (as Zola has them), plus `paginate_by` for sections.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub date: Option<DateValue>,
    #[serde(default)]
    pub description: String,
    /// Drafts are never served.
    #[serde(default)]
    pub draft: bool,
    /// Order in menus and undated lists; lower first.
    #[serde(default)]
    pub weight: i64,
    /// Replaces the file name in the URL.
    #[serde(default)]
    pub slug: Option<String>,
    /// A template other than `page.html` / `section.html`.
    #[serde(default)]
    pub template: Option<String>,
    /// Old paths that redirect here (`/tin/cu/`).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Sections only: pages per listing page.
    #[serde(default)]
    pub paginate_by: Option<usize>,
    /// Free data for templates.
    #[serde(default)]
    pub extra: BTreeMap<String, toml::Value>,
}

/// `date = 2024-05-12` (a TOML date) or `date = "2024-05-12"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum DateValue {
    Toml(toml::value::Datetime),
    Text(String),
}

pub use crate::model::time::Date;

/// A parsed content file: front matter, rendered HTML and a summary.
#[derive(Debug, Clone)]
pub struct Document {
    pub front: FrontMatter,
    pub date: Option<Date>,
    /// The body rendered to HTML.
    pub html: String,
    /// The first paragraph's HTML.
    pub summary: String,
    /// The line in the file where `template = ` is set, for messages.
    pub template_line: Option<usize>,
    /// The line in the file where `slug = ` is set, for messages.
    pub slug_line: Option<usize>,
    /// What the safety net removed from the body, and images without alt text.
    pub lints: Vec<Problem>,
    /// Links and images to paths of the site, checked once the whole site is placed.
    pub links: Vec<super::links::Link>,
}

/// Parse one content file; `file` names it in messages.
pub fn parse(text: &str, file: &str) -> Result<Document, Problem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        // Most often a save caught half way (editors truncate, then write): an error keeps
        // the last good version online instead of publishing a blank page.
        return Err(Problem::in_file(file, "the file is empty")
            .fix("write the page (front matter with a title) or delete the file"));
    }
    let (front_text, body) = split_front_matter(text, file)?;
    let front: FrontMatter = toml::from_str(front_text).map_err(|e| toml_problem(file, front_text, &e, 1))?;
    let date = match &front.date {
        None => None,
        Some(value) => Some(to_date(value).ok_or_else(|| {
            let line = super::config::key_line(front_text, "date").map_or(2, |l| l + 1);
            Problem::in_file(file, "not a calendar date").at_line(line).key("date").fix("write it as 2024-05-12")
        })?),
    };
    let template_line = super::config::key_line(front_text, "template").map(|l| l + 1);
    let slug_line = super::config::key_line(front_text, "slug").map(|l| l + 1);
    // The body is a suffix of the text: its first line is one past the lines before it.
    let body_line = text[..text.len() - body.len()].matches('\n').count() + 1;
    let super::html::Rendered { html, lints, links } = super::html::render(body, file, body_line);
    let summary = first_paragraph(&html).to_string();
    Ok(Document { front, date, html, summary, template_line, slug_line, lints, links })
}

fn to_date(value: &DateValue) -> Option<Date> {
    match value {
        DateValue::Toml(dt) => dt.date.map(|d| Date { year: d.year, month: d.month, day: d.day }),
        DateValue::Text(s) => Date::parse(s),
    }
}

/// Split `+++\n<toml>\n+++\n<body>`; a file without front matter is all body.
fn split_front_matter<'a>(text: &'a str, file: &str) -> Result<(&'a str, &'a str), Problem> {
    let first_line_end = text.find('\n').unwrap_or(text.len());
    if text[..first_line_end].trim_end() != "+++" {
        return Ok(("", text));
    }
    let rest = &text[(first_line_end + 1).min(text.len())..];
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "+++" {
            return Ok((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    Err(Problem::in_file(file, "front matter is not closed").at_line(1).fix("add a line with only +++ after the TOML"))
}

/// Markdown to HTML as a page serves it (tables, footnotes, strikethrough, task lists;
/// raw HTML cleaned to the allowed set), for previews that need no report.
pub fn markdown_to_html(markdown: &str) -> String {
    super::html::render(markdown, "", 1).html
}

fn first_paragraph(html: &str) -> &str {
    match (html.find("<p>"), html.find("</p>")) {
        (Some(start), Some(end)) if start < end => &html[start..end + 4],
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_and_body() {
        let doc = parse("+++\ntitle = \"Hội nghị\"\ndate = 2024-05-12\n+++\nĐoạn **một**.\n\nHai.\n", "a.md").unwrap();
        assert_eq!(doc.front.title, "Hội nghị");
        assert_eq!(doc.date.unwrap().iso(), "2024-05-12");
        assert_eq!(doc.summary, "<p>Đoạn <strong>một</strong>.</p>");
        assert!(doc.html.contains("<p>Hai.</p>"));
    }

    #[test]
    fn string_dates_are_accepted_and_bad_ones_named() {
        let doc = parse("+++\ndate = \"2023-01-31\"\n+++\n", "a.md").unwrap();
        assert_eq!(doc.date.unwrap().display_vi(), "31/01/2023");
        let err = parse("+++\ntitle = \"x\"\ndate = \"hôm qua\"\n+++\n", "a.md").unwrap_err();
        assert_eq!((err.file.as_str(), err.line, err.key.as_deref()), ("a.md", Some(3), Some("date")));
        assert_eq!(err.to_string(), "a.md:3: date: not a calendar date (write it as 2024-05-12)");
    }

    #[test]
    fn unterminated_front_matter_is_an_error() {
        let err = parse("+++\ntitle = \"x\"\nbody\n", "content/x.md").unwrap_err().to_string();
        assert!(err.starts_with("content/x.md:1: front matter is not closed"), "{err}");
    }

    #[test]
    fn bad_toml_reports_the_file_line() {
        let err = parse("+++\ntitle = \"x\"\ntitel = \"y\"\n+++\n", "c/x.md").unwrap_err().to_string();
        assert!(err.starts_with("c/x.md:3:1: unknown field `titel`"), "{err}");
        assert!(err.contains("did you mean \"title\""), "{err}");
    }

    #[test]
    fn an_empty_file_is_an_error_not_a_blank_page() {
        for text in ["", "\n", " \n\t\n", "\u{feff}"] {
            let err = parse(text, "content/x.md").unwrap_err();
            assert_eq!(err.line, None, "{text:?}");
            assert!(err.to_string().starts_with("content/x.md: the file is empty (write the page"), "{text:?}: {err}");
        }
    }

    #[test]
    fn no_front_matter_is_all_body() {
        let doc = parse("# Tiêu đề\n", "x.md").unwrap();
        assert!(doc.html.contains("<h1>Tiêu đề</h1>"));
    }

    #[test]
    fn tables_render() {
        assert!(markdown_to_html("|a|b|\n|-|-|\n|1|2|\n").contains("<table>"));
    }

    /// Lines the safety net reports count the front matter: the body's first line is the
    /// one after the closing `+++`.
    #[test]
    fn lints_name_the_line_in_the_file() {
        let text = "+++\ntitle = \"x\"\n+++\nMột.\n\n![](/static/a.png)\n\n<script>alert(1)</script>\n";
        let doc = parse(text, "content/a.md").unwrap();
        let shown: Vec<String> = doc.lints.iter().map(|p| p.to_string()).collect();
        assert!(shown[0].starts_with("content/a.md:6: image without alt text"), "{shown:?}");
        assert!(shown[1].starts_with("content/a.md:8: <script> removed"), "{shown:?}");
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert_eq!((doc.links[0].line, doc.links[0].target.as_str()), (6, "/static/a.png"));
        assert!(!doc.html.contains("script") && !doc.html.contains("alert"), "{}", doc.html);
        let bare = parse("\n<img src=\"/a.png\">\n", "b.md").unwrap();
        assert_eq!(bare.lints[0].line, Some(2), "no front matter: the body is the whole file");
    }
}
