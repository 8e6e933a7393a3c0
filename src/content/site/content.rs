//! One Markdown file of a site: TOML front matter between `+++` lines, then the body,
//! rendered to HTML with pulldown-cmark.

use crate::config::toml_error;
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

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// `2024-05-12`.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `12/05/2024`, as Vietnamese readers write dates.
    pub fn display_vi(self) -> String {
        format!("{:02}/{:02}/{:04}", self.day, self.month, self.year)
    }

    /// RFC 2822 at midnight UTC, for RSS: `Sun, 12 May 2024 00:00:00 +0000`.
    pub fn rfc2822(self) -> String {
        const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let weekday = DAYS[(self.days_since_epoch() + 3).rem_euclid(7) as usize];
        let month = MONTHS[usize::from(self.month - 1)];
        format!("{weekday}, {:02} {month} {:04} 00:00:00 +0000", self.day, self.year)
    }

    /// Days since 1970-01-01 (a Thursday), by Howard Hinnant's civil-from-days inverse.
    fn days_since_epoch(self) -> i64 {
        let (y, m, d) = (i64::from(self.year), i64::from(self.month), i64::from(self.day));
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Today's date in UTC.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Date::from_days((secs / 86_400) as i64)
    }

    /// The date `days` after 1970-01-01 (Howard Hinnant's civil-from-days).
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Date { year, month, day }
    }

    fn parse(s: &str) -> Option<Date> {
        let s = s.get(..10)?;
        let mut it = s.split('-');
        let year = it.next()?.parse().ok()?;
        let month: u8 = it.next()?.parse().ok()?;
        let day: u8 = it.next()?.parse().ok()?;
        ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(Date { year, month, day })
    }
}

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
}

/// Parse one content file; `file` names it in messages.
pub fn parse(text: &str, file: &str) -> Result<Document, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        // Most often a save caught half way (editors truncate, then write): an error keeps
        // the last good version online instead of publishing a blank page.
        return Err(format!(
            "{file}: the file is empty; write the page (front matter with a title) or delete the file"
        ));
    }
    let (front_text, body) = split_front_matter(text, file)?;
    let front: FrontMatter = toml::from_str(front_text).map_err(|e| toml_error(file, front_text, &e, 1))?;
    let date = match &front.date {
        None => None,
        Some(value) => Some(to_date(value).ok_or_else(|| {
            let line = super::config::key_line(front_text, "date").map_or(2, |l| l + 1);
            format!("{file}:{line}: date is not a calendar date (write it as 2024-05-12)")
        })?),
    };
    let template_line = super::config::key_line(front_text, "template").map(|l| l + 1);
    let html = markdown_to_html(body);
    let summary = first_paragraph(&html).to_string();
    Ok(Document { front, date, html, summary, template_line })
}

fn to_date(value: &DateValue) -> Option<Date> {
    match value {
        DateValue::Toml(dt) => dt.date.map(|d| Date { year: d.year, month: d.month, day: d.day }),
        DateValue::Text(s) => Date::parse(s),
    }
}

/// Split `+++\n<toml>\n+++\n<body>`; a file without front matter is all body.
fn split_front_matter<'a>(text: &'a str, file: &str) -> Result<(&'a str, &'a str), String> {
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
    Err(format!("{file}:1: front matter is not closed: add a line with only +++ after the TOML"))
}

/// Markdown to HTML with the extensions editors expect (tables, footnotes, strikethrough).
pub fn markdown_to_html(markdown: &str) -> String {
    use pulldown_cmark::{html, Options, Parser};
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES;
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, Parser::new_ext(markdown, options));
    out
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
        assert_eq!(err, "a.md:3: date is not a calendar date (write it as 2024-05-12)");
    }

    #[test]
    fn unterminated_front_matter_is_an_error() {
        let err = parse("+++\ntitle = \"x\"\nbody\n", "content/x.md").unwrap_err();
        assert!(err.starts_with("content/x.md:1: front matter is not closed"), "{err}");
    }

    #[test]
    fn bad_toml_reports_the_file_line() {
        let err = parse("+++\ntitle = \"x\"\ntitel = \"y\"\n+++\n", "c/x.md").unwrap_err();
        assert!(err.starts_with("c/x.md:3:1: unknown field `titel`"), "{err}");
        assert!(err.contains("did you mean \"title\""), "{err}");
    }

    #[test]
    fn an_empty_file_is_an_error_not_a_blank_page() {
        for text in ["", "\n", " \n\t\n", "\u{feff}"] {
            let err = parse(text, "content/x.md").unwrap_err();
            assert!(err.starts_with("content/x.md: the file is empty;"), "{text:?}: {err}");
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

    #[test]
    fn days_round_trip() {
        for days in [0, 59, 365, 11_016, 20_586, 30_000] {
            assert_eq!(Date::from_days(days).days_since_epoch(), days);
        }
        assert_eq!(Date::from_days(20_586).iso(), "2026-05-13");
    }

    #[test]
    fn rfc2822_weekdays() {
        let d = |year, month, day| Date { year, month, day }.rfc2822();
        assert_eq!(d(2024, 5, 12), "Sun, 12 May 2024 00:00:00 +0000");
        assert_eq!(d(1970, 1, 1), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(d(2026, 11, 29), "Sun, 29 Nov 2026 00:00:00 +0000");
        assert_eq!(d(2000, 2, 29), "Tue, 29 Feb 2000 00:00:00 +0000");
    }
}
