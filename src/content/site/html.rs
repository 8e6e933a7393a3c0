//! Markdown to the HTML a page serves, through the editor safety net (DESIGN §19).
//!
//! pulldown-cmark renders the Markdown; ammonia then cleans the whole result down to the
//! allowed set below, so whatever an editor pastes (raw HTML is legal Markdown) a page
//! never carries script, frames, event handlers or `javascript:` links. Cleaning is
//! ammonia's job alone: a hand-written sanitizer is a classic source of holes. What it
//! removes is found again, for the editor, by reading the same input the way ammonia does:
//! raw HTML with html5ever's tokenizer (the parser ammonia uses), and the Markdown's own
//! links, images and heading attributes from pulldown-cmark's events, each with its line in
//! the file. A mistake in that reading can only make a report wrong, never a page unsafe.

use super::links::Link;
use crate::model::problem::Problem;
use ammonia::url::{ParseError, Url};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer};
use pulldown_cmark::{Event, LinkType, Options, Parser, Tag as MdTag, TagEnd};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

/// The tags a page's content may hold: text structure, lists, tables, links, images,
/// `details`, and the checkbox of a Markdown task list. Not the page's landmarks (`nav`,
/// `header`, `footer`, `main`, `aside`): those belong to the theme, and a second set inside
/// the content confuses screen readers. Not media players or forms: nothing to post to.
#[rustfmt::skip]
pub const TAGS: &[&str] = &[
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd", "del", "details",
    "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "input", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong", "sub",
    "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time", "tr", "u", "ul", "var", "wbr",
];

/// Tags removed together with everything inside them: what they hold is code, a frame's
/// fallback or styling, never text meant for the reader. `style` is among them: the
/// page's Content-Security-Policy (`style-src 'self'`) blocks inline CSS anyway, and CSS
/// in content could hide the footer Decree 42/2022 requires or load from another origin.
#[rustfmt::skip]
pub const REMOVED_WITH_CONTENT: &[&str] = &[
    "script", "style", "iframe", "object", "embed", "applet", "noscript", "noembed", "noframes", "template", "svg",
    "math", "form", "textarea", "select", "button",
];

/// Attributes any allowed tag may carry. `id` is kept for heading anchors and footnotes
/// (pages run no content script, so it cannot clobber anything).
pub const GENERIC_ATTRIBUTES: &[&str] = &["id", "class", "title", "lang", "dir"];

/// Attributes of particular tags. The checkbox of a task list keeps `type` only as
/// `checkbox` (see [`attribute_allowed`]). No `style` anywhere, for the reason above.
pub const TAG_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("a", &["href", "hreflang"]),
    ("img", &["src", "alt", "width", "height", "loading"]),
    ("td", &["colspan", "rowspan"]),
    ("th", &["colspan", "rowspan", "scope"]),
    ("ol", &["start", "reversed", "type"]),
    ("li", &["value"]),
    ("col", &["span"]),
    ("colgroup", &["span"]),
    ("time", &["datetime"]),
    ("details", &["open"]),
    ("input", &["checked", "disabled"]),
];

/// The schemes a link or image address may have; anything else (`javascript:`,
/// `vbscript:`, `data:`, …) is removed. `data:` too, images included: a pasted image
/// inlined as base64 (what a word processor puts on the clipboard) makes every page and
/// listing that shows it megabytes heavy and uncached; it belongs in `static/`.
pub const URL_SCHEMES: &[&str] = &["http", "https", "mailto", "tel"];

/// The Markdown extensions editors expect: tables, footnotes, strikethrough, task lists,
/// `{#id .class}` on headings.
const MARKDOWN: Options = Options::ENABLE_TABLES
    .union(Options::ENABLE_FOOTNOTES)
    .union(Options::ENABLE_STRIKETHROUGH)
    .union(Options::ENABLE_TASKLISTS)
    .union(Options::ENABLE_HEADING_ATTRIBUTES);

/// A page's body as served, and what the editor should fix in it.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// The cleaned HTML.
    pub html: String,
    /// What was removed, and images without alt text, each at its line of the file.
    pub lints: Vec<Problem>,
    /// Links and images to paths of the site, checked once every page has its URL.
    pub links: Vec<Link>,
}

/// Render `markdown`, the body of `file` starting at line `first_line` of it.
pub fn render(markdown: &str, file: &str, first_line: usize) -> Rendered {
    let mut scan = Scan::new(file, markdown, first_line);
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    let events = Parser::new_ext(markdown, MARKDOWN).into_offset_iter().map(|(event, range)| {
        scan.event(&event, range);
        event
    });
    pulldown_cmark::html::push_html(&mut raw, events);
    scan.finish();
    Rendered { html: CLEANER.clean(&raw).to_string(), lints: scan.lints, links: scan.links }
}

/// The one cleaner, configured from the constants above.
static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let set = |names: &[&'static str]| names.iter().copied().collect::<HashSet<_>>();
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(set(TAGS))
        .clean_content_tags(set(REMOVED_WITH_CONTENT))
        .generic_attributes(set(GENERIC_ATTRIBUTES))
        .tag_attributes(TAG_ATTRIBUTES.iter().map(|(tag, attrs)| (*tag, set(attrs))).collect())
        .tag_attribute_values(HashMap::from([("input", HashMap::from([("type", set(&["checkbox"]))]))]))
        .url_schemes(set(URL_SCHEMES))
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true);
    builder
});

/// Whether ammonia, configured as [`CLEANER`], keeps `attr="value"` on an allowed `tag`
/// (its address checked apart, by [`address`]).
pub fn attribute_allowed(tag: &str, attr: &str, value: &str) -> bool {
    GENERIC_ATTRIBUTES.contains(&attr)
        || TAG_ATTRIBUTES.iter().any(|(t, attrs)| *t == tag && attrs.contains(&attr))
        || (tag == "input" && attr == "type" && value.eq_ignore_ascii_case("checkbox"))
}

/// What an address in `href` or `src` is, decided as ammonia decides it.
#[derive(Debug, PartialEq, Eq)]
pub enum Address {
    /// With a scheme that is allowed: another site, an e-mail address, a phone number.
    Elsewhere,
    /// Without a scheme: a path of this site (or `//host/…`), kept and checked later.
    Relative,
    /// Removed: a scheme that is not allowed (named), or not an address at all (`None`).
    Removed(Option<String>),
}

/// Classify `url` the way ammonia does before keeping it.
pub fn address(url: &str) -> Address {
    match Url::parse(url) {
        Ok(u) if URL_SCHEMES.contains(&u.scheme()) => Address::Elsewhere,
        Ok(u) => Address::Removed(Some(u.scheme().to_string())),
        Err(ParseError::RelativeUrlWithoutBase) => Address::Relative,
        Err(_) => Address::Removed(None),
    }
}

/// Byte offset in the body → line in the file.
struct Lines {
    starts: Vec<usize>,
    first: usize,
}

impl Lines {
    fn new(text: &str, first: usize) -> Lines {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Lines { starts, first }
    }

    fn at(&self, offset: usize) -> usize {
        self.first + self.starts.partition_point(|&s| s <= offset) - 1
    }
}

/// What the parser's events show, gathered while pulldown-cmark renders.
struct Scan<'a> {
    file: &'a str,
    lines: Lines,
    /// An image being read: its line, and whether its alt text has any words yet.
    image: Option<(usize, bool)>,
    /// An HTML block being read (it comes a line per event): its first line and text.
    block: Option<(usize, String)>,
    lints: Vec<Problem>,
    links: Vec<Link>,
}

impl<'a> Scan<'a> {
    fn new(file: &'a str, markdown: &str, first_line: usize) -> Scan<'a> {
        let lines = Lines::new(markdown, first_line);
        Scan { file, lines, image: None, block: None, lints: Vec::new(), links: Vec::new() }
    }

    fn event(&mut self, event: &Event, range: Range<usize>) {
        let line = self.lines.at(range.start);
        match event {
            // An e-mail autolink (`<a@b.vn>`) is written out as `mailto:`.
            Event::Start(MdTag::Link { link_type, dest_url, .. }) if *link_type != LinkType::Email => {
                self.address("a", "href", dest_url, line);
            }
            Event::Start(MdTag::Image { dest_url, .. }) => {
                self.address("img", "src", dest_url, line);
                self.image = Some((line, false));
            }
            Event::Text(t) | Event::Code(t) if !t.trim().is_empty() => {
                if let Some((_, words)) = &mut self.image {
                    *words = true;
                }
            }
            Event::End(TagEnd::Image) => {
                if let Some((at, false)) = self.image.take() {
                    self.no_alt(at, "write what the image shows between the brackets: ![Lễ khai mạc](…)");
                }
            }
            Event::Start(MdTag::Heading { level, attrs, .. }) => {
                let tag = level.to_string();
                for (name, value) in attrs {
                    let name = name.to_ascii_lowercase();
                    if !attribute_allowed(&tag, &name, value.as_deref().unwrap_or("")) {
                        self.removed_attribute(&tag, &name, line);
                    }
                }
            }
            Event::Html(text) => self.block.get_or_insert_with(|| (line, String::new())).1.push_str(text),
            Event::End(TagEnd::HtmlBlock) => self.finish(),
            Event::InlineHtml(text) => self.html(text, line),
            _ => {}
        }
    }

    /// Read an HTML block left open.
    fn finish(&mut self) {
        if let Some((line, text)) = self.block.take() {
            self.html(&text, line);
        }
    }

    /// Raw HTML starting at `line`: every start tag, as ammonia will treat it.
    fn html(&mut self, text: &str, line: usize) {
        for (offset, tag) in start_tags(text) {
            let at = line + offset;
            let name = &*tag.name;
            if REMOVED_WITH_CONTENT.contains(&name) {
                let fix = match name {
                    "script" | "noscript" => "pages cannot run scripts; delete it",
                    "style" => {
                        "the theme styles the pages, and the Content-Security-Policy blocks inline CSS; delete it"
                    }
                    "iframe" | "object" | "embed" | "applet" => {
                        "pages cannot embed other pages or plug-ins; write a link to it instead"
                    }
                    _ => "delete it, or write the content in Markdown",
                };
                self.lint(at, format!("<{name}> removed, with everything inside it"), fix);
                continue;
            }
            if !TAGS.contains(&name) {
                let message = format!("<{name}> is not an allowed tag: removed (the text inside it is kept)");
                self.lint(at, message, "write it in Markdown or with an allowed tag (tenants/README.md lists them)");
                continue;
            }
            for attr in &tag.attrs {
                let (attr_name, value) = (&*attr.name.local, &*attr.value);
                if !attribute_allowed(name, attr_name, value) {
                    self.removed_attribute(name, attr_name, at);
                } else if matches!(attr_name, "href" | "src") {
                    self.address(name, attr_name, value, at);
                }
            }
            if name == "img" && !tag.attrs.iter().any(|a| &*a.name.local == "alt") {
                self.no_alt(at, "add alt=\"what the image shows\" (alt=\"\" for a purely decorative image)");
            }
        }
    }

    /// An address in `attr` of `tag`: a removal reported, or a path kept to check.
    fn address(&mut self, tag: &str, attr: &str, url: &str, line: usize) {
        let scheme = match address(url) {
            Address::Elsewhere => return,
            Address::Relative => {
                let fragment_only = url.is_empty() || url.starts_with('#');
                if !fragment_only {
                    self.links.push(Link { line, target: url.to_string(), image: attr == "src" });
                }
                return;
            }
            Address::Removed(scheme) => scheme,
        };
        let shown = shown(url);
        let (message, fix) = match scheme {
            Some(s) => (
                format!("{attr}=\"{shown}\" removed from <{tag}>: {s}: addresses are not allowed"),
                if s == "data" && tag == "img" {
                    "put the image in static/ and write its path, /static/…".to_string()
                } else {
                    format!("use a path on this site or an address starting with {}", URL_SCHEMES.join(":, ") + ":")
                },
            ),
            None => (format!("{attr}=\"{shown}\" removed from <{tag}>: not an address"), "correct the address".into()),
        };
        self.lint(line, message, fix);
    }

    fn removed_attribute(&mut self, tag: &str, attr: &str, line: usize) {
        let (message, fix) = if attr.starts_with("on") {
            (format!("event handler {attr} removed from <{tag}>"), "pages cannot run scripts; delete it")
        } else if attr == "style" {
            (
                format!("style attribute removed from <{tag}>"),
                "the theme styles the pages, and the Content-Security-Policy blocks inline styles; delete it",
            )
        } else {
            (format!("attribute {attr} is not allowed on <{tag}>: removed"), "delete it")
        };
        self.lint(line, message, fix);
    }

    fn no_alt(&mut self, line: usize, fix: &str) {
        self.lint(line, "image without alt text: people who cannot see it are not told what it shows".into(), fix);
    }

    fn lint(&mut self, line: usize, message: String, fix: impl Into<String>) {
        self.lints.push(Problem::in_file(self.file, message).at_line(line).fix(fix));
    }
}

/// An address as a message shows it: control characters escaped, long ones cut.
fn shown(url: &str) -> String {
    let cut: String = url.chars().take(60).collect();
    let more = if cut.len() < url.len() { "…" } else { "" };
    format!("{}{more}", crate::model::escape::escape(&cut))
}

/// Every start tag of `html` with the line it starts on (0 for the first), as html5ever's
/// tokenizer reads them: what a script, style or textarea holds is text, not tags.
fn start_tags(html: &str) -> Vec<(usize, Tag)> {
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tokenizer = Tokenizer::new(StartTags::default(), Default::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let mut starts = TagStarts { lower: html.to_ascii_lowercase(), lines: Lines::new(html, 0), cursor: 0 };
    let tags = tokenizer.sink.0.into_inner();
    tags.into_iter().map(|(end_line, tag)| (starts.line(end_line, &tag.name), tag)).collect()
}

/// Where tags start. The tokenizer counts the line a tag ends on; one written over several
/// lines (`<p\n  onclick=…>`) is reported where it starts: the next `<name` after the
/// previous tag, up to the end of the line it ends on. The cursor only moves forward, so a
/// fragment is read once however many tags it has. Only a report's line depends on this.
struct TagStarts {
    lower: String,
    lines: Lines,
    cursor: usize,
}

impl TagStarts {
    fn line(&mut self, end_line: usize, name: &str) -> usize {
        let line_end = self.lines.starts.get(end_line + 1).map_or(self.lower.len(), |next| next - 1);
        let needle = format!("<{name}");
        let ends_name = |at: usize| {
            self.lower.as_bytes().get(at).is_none_or(|b| b.is_ascii_whitespace() || matches!(b, b'/' | b'>'))
        };
        let window = self.lower.get(self.cursor..line_end).unwrap_or("");
        let found = window.match_indices(&needle).map(|(i, _)| self.cursor + i).find(|&i| ends_name(i + needle.len()));
        match found {
            Some(at) => {
                self.cursor = at + needle.len();
                self.lines.at(at)
            }
            None => {
                // Not written as the tokenizer names it (a NUL in the name): the line it ends on.
                self.cursor = self.cursor.max(line_end);
                end_line
            }
        }
    }
}

/// A token sink that keeps start tags, and switches the tokenizer into raw text after the
/// tags whose content is not markup, as the tree builder ammonia runs does.
#[derive(Default)]
struct StartTags(RefCell<Vec<(usize, Tag)>>);

impl TokenSink for StartTags {
    type Handle = ();

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<()> {
        let Token::TagToken(tag) = token else { return TokenSinkResult::Continue };
        if tag.kind != TagKind::StartTag {
            return TokenSinkResult::Continue;
        }
        let next = match &*tag.name {
            "script" => TokenSinkResult::RawData(RawKind::ScriptData),
            "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
                TokenSinkResult::RawData(RawKind::Rawtext)
            }
            "textarea" | "title" => TokenSinkResult::RawData(RawKind::Rcdata),
            "plaintext" => TokenSinkResult::Plaintext,
            _ => TokenSinkResult::Continue,
        };
        let offset = usize::try_from(line.saturating_sub(1)).unwrap_or(usize::MAX);
        self.0.borrow_mut().push((offset, tag));
        next
    }
}

#[cfg(test)]
#[path = "html_tests.rs"]
mod tests;
