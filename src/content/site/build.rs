//! Building a [`Site`] from its folder: read site.toml and content (placed by `place`),
//! pick the theme chain, compile every template, render every page once, prepare feeds and
//! static files, then hold every page's links against what the site serves (`links`).

use super::config::SiteConfig;
use super::content::{self, Date, Document};
use super::place::{read_content, Item};
use super::{shown_path, Entries, Entry, Paths, Site, SiteError};
use crate::content::files;
use crate::content::render::{self, CachePolicy, Prepared};
use crate::content::theme::ThemeSet;
use crate::model::config::{Budget, Platform};
use crate::model::problem::Problem;
use crate::model::FastMap;
use http::StatusCode;
use minijinja::{context, Environment, Value};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Pages per listing page when a section does not say.
const DEFAULT_PAGINATE_BY: usize = 10;

/// What building a site needs.
pub struct BuildInput<'a> {
    /// The site folder (`tenants/ais`).
    pub dir: &'a Path,
    pub themes: &'a ThemeSet,
    pub platform: &'a Platform,
    /// `https` or `http`, for absolute URLs in the sitemap and feed.
    pub scheme: &'a str,
    /// The version being replaced: unchanged responses are reused with their compressed forms.
    pub previous: Option<&'a Site>,
    /// What the build may use (`[limits]`).
    pub budget: Budget,
    /// The platform's banner on every page (maintenance notice, archived record).
    pub banner: Option<&'a super::notice::Banner>,
}

/// The page data templates see.
#[derive(Serialize, Clone)]
struct PageCtx<'a> {
    title: &'a str,
    description: &'a str,
    date: Option<String>,
    date_display: Option<String>,
    content: Value,
    summary: Value,
    url: &'a str,
    section_title: Option<&'a str>,
    section_url: Option<String>,
    extra: &'a std::collections::BTreeMap<String, toml::Value>,
}

#[derive(Serialize)]
struct SiteCtx<'a> {
    label: &'a str,
    host: String,
    base_url: String,
    name_vi: &'a str,
    name_en: &'a str,
    description: &'a str,
    responsible: &'a super::config::Responsible,
    contact: &'a super::config::Contact,
    menu: Vec<super::config::MenuItem>,
    vars: &'a std::collections::BTreeMap<String, String>,
}

/// The largest text file (site.toml, a page, a template) a build reads.
pub(super) const MAX_TEXT_BYTES: u64 = 4 << 20;

/// Open a site folder (every file of the site is then read through this one handle, see
/// `files`) and read its `site.toml`: the handle, the text (for lines in messages) and the
/// parsed configuration.
pub fn open_config(dir: &Path, label: &str) -> Result<(files::Folder, String, SiteConfig), Vec<Problem>> {
    let shown = shown_path(dir);
    let folder = files::Folder::open(dir, &shown).map_err(|p| vec![p])?;
    let text = folder.read_text("site.toml", MAX_TEXT_BYTES).map_err(|p| vec![p])?;
    let config = super::config::parse(&text, &format!("{shown}/site.toml"), label)?;
    Ok((folder, text, config))
}

/// `vars.accent` (see [`super::accent`]): a name becomes `vars.accent_name`, a colour the
/// stylesheet returned here and `vars.accent_stylesheet` for the templates to link; a
/// value that will not do is reported and left out.
fn apply_accent(config: &mut SiteConfig, text: &str, file: &str, lints: &mut Vec<Problem>) -> Option<String> {
    let value = config.vars.get("accent")?.clone();
    let line = super::config::key_line(text, "accent").unwrap_or(1);
    match super::accent::read(&value, file, line) {
        Ok(super::accent::Accent::Named(name)) => {
            config.vars.insert("accent_name".into(), name.into());
            None
        }
        Ok(super::accent::Accent::Colour { css }) => {
            config.vars.insert("accent_stylesheet".into(), super::accent::STYLESHEET.into());
            Some(css)
        }
        Err(problem) => {
            lints.push(problem);
            None
        }
    }
}

/// The configuration and the catalogue of the site in `input.dir`, from the bytes of its
/// `site.toml` and `dich-vu-cong.toml`, derived as a build derives them; `None` when
/// either does not parse (the cache then builds instead).
pub(super) fn config_and_services(
    input: &BuildInput,
    site_toml: &[u8],
    catalogue: Option<&[u8]>,
) -> Option<(SiteConfig, Vec<super::services::Service>)> {
    let label = input.dir.file_name()?.to_string_lossy().into_owned();
    let shown = shown_path(input.dir);
    let (text, file) = (std::str::from_utf8(site_toml).ok()?, format!("{shown}/site.toml"));
    let mut config = super::config::parse(text, &file, &label).ok()?;
    apply_accent(&mut config, text, &file, &mut Vec::new());
    let services = match catalogue {
        Some(bytes) => {
            let file = format!("{shown}/{}", super::services::FILE);
            super::services::parse(std::str::from_utf8(bytes).ok()?, &file).ok()?
        }
        None => Vec::new(),
    };
    Some((config, services))
}

/// Build the site in `input.dir`; every problem is reported, not only the first.
pub fn build(input: &BuildInput) -> Result<Site, SiteError> {
    let label = input.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let shown = shown_path(input.dir);
    let fail = |problems: Vec<Problem>| SiteError { label: label.clone(), problems };
    let toml_file = format!("{shown}/site.toml");
    let (folder, text, mut config) = open_config(input.dir, &label).map_err(&fail)?;
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let mut lints = Vec::new();
    let accent_css = apply_accent(&mut config, &text, &toml_file, &mut lints);
    let items = read_content(&folder, MAX_TEXT_BYTES, &mut problems, &mut lints);
    let services = read_services(&folder, &shown, &mut problems);
    let theme_line = super::config::key_line(&text, "theme").unwrap_or(1);
    let (env, paths) = match environment(input, &folder, &config, theme_line, &mut warnings) {
        Ok(x) => x,
        Err(mut errs) => {
            problems.append(&mut errs);
            return Err(fail(problems));
        }
    };
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    let mut renderer = Renderer {
        input,
        config: &config,
        env: &env,
        paths: &paths,
        items: &items,
        entries: FastMap::default(),
        problems: Vec::new(),
        page_count: 0,
        aliases: Vec::new(),
        started: std::time::Instant::now(),
        timed_out: false,
    };
    renderer.render_all();
    let not_found = renderer.not_found();
    // Kept only where a page is poured into it (a site with a catalogue): a few KB a site.
    let shell = if services.is_empty() { None } else { renderer.shell() };
    if let (Some(shell), false) = (&shell, services.is_empty()) {
        renderer.add_page(
            super::services::PAGE,
            shell.wrap("Dịch vụ công trực tuyến", &super::services::catalogue_main(&services)),
        );
    }
    let Renderer { mut entries, problems, page_count, started, .. } = renderer;
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    add_static(input, &folder, &config, &mut entries, &mut warnings);
    if let Some(css) = accent_css {
        let prev = input.previous.and_then(|p| match p.entries.get(super::accent::STYLESHEET) {
            Some(Entry::Page(p)) => Some(p),
            _ => None,
        });
        let css = Prepared::reuse_or_new(
            prev,
            StatusCode::OK,
            "text/css; charset=utf-8",
            CachePolicy::Page,
            css.into_bytes(),
        );
        entries.insert(super::accent::STYLESHEET.into(), Entry::Page(css));
    }
    if input.banner.is_some() {
        let prev = input.previous.and_then(|p| match p.entries.get(super::notice::STYLESHEET) {
            Some(Entry::Page(p)) => Some(p),
            _ => None,
        });
        let css = super::notice::Banner::css().as_bytes().to_vec();
        let css = Prepared::reuse_or_new(prev, StatusCode::OK, "text/css; charset=utf-8", CachePolicy::Page, css);
        entries.insert(super::notice::STYLESHEET.into(), Entry::Page(css));
    }
    lints.extend(check_links(&items, &entries));
    lints.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    let not_found = not_found.map_err(|e| fail(vec![e]))?;
    let budget = input.budget;
    // Everything the site holds: pages, feeds, theme and static files, streamed ones too.
    let total: u64 = entries
        .values()
        .map(|e| match e {
            Entry::Page(p) => p.len,
            Entry::File(f) => f.meta.size,
            Entry::Redirect(_) => 0,
        })
        .sum::<u64>()
        + not_found.len;
    if total > budget.max_site_bytes {
        let message = format!("the site is {total} bytes, over the limit of {}", budget.max_site_bytes);
        return Err(fail(vec![
            Problem::in_file(&shown, message).fix("remove large files or raise [limits] max_site_bytes")
        ]));
    }
    if started.elapsed() > budget.deadline {
        let message = format!("the build took longer than {} s", budget.deadline.as_secs());
        return Err(fail(vec![Problem::in_file(&shown, message).fix("raise [limits] build_deadline_secs")]));
    }
    let entries = Paths::from(entries);
    Ok(Site { label, config, entries, not_found, warnings, lints, page_count, services, shell, built_from: None })
}

/// The catalogue of online public services, when the folder has one.
fn read_services(folder: &files::Folder, shown: &str, problems: &mut Vec<Problem>) -> Vec<super::services::Service> {
    let file = format!("{shown}/{}", super::services::FILE);
    match folder.read(super::services::FILE, MAX_TEXT_BYTES) {
        Err(files::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            problems.push(e.problem(&file));
            Vec::new()
        }
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => super::services::parse(&text, &file).unwrap_or_else(|mut found| {
                problems.append(&mut found);
                Vec::new()
            }),
            Err(_) => {
                problems.push(Problem::in_file(&file, "is not UTF-8 text").fix("save it as UTF-8"));
                Vec::new()
            }
        },
    }
}

/// Every link and image of every page that leads nowhere: run once the site holds all it
/// serves, so a link to a page placed later, or to a static file, is found.
fn check_links(items: &[Item], entries: &Entries) -> Vec<Problem> {
    let mut lints = Vec::new();
    for item in items {
        let folder_url = if item.section.is_empty() { "/".to_string() } else { format!("/{}/", item.section) };
        lints.extend(super::links::check(&item.file, &item.url, &folder_url, &item.doc.links, entries));
    }
    lints
}

/// The site's template environment: site overrides over the theme chain, all compiled.
fn environment(
    input: &BuildInput,
    folder: &files::Folder,
    config: &SiteConfig,
    line: usize,
    warnings: &mut Vec<String>,
) -> Result<(Environment<'static>, HashMap<String, String>), Vec<Problem>> {
    let shown = &folder.shown;
    let chain = input
        .themes
        .chain(&config.theme)
        .map_err(|e| vec![Problem::in_file(&format!("{shown}/site.toml"), e).at_line(line).key("theme")])?;
    let mut sources: HashMap<String, String> = HashMap::new();
    let mut paths: HashMap<String, String> = HashMap::new();
    for (name, t) in ThemeSet::templates(&chain) {
        sources.insert(name.clone(), t.source);
        paths.insert(name, t.path);
    }
    let (overrides, refused) = folder.walk("templates", MAX_TEXT_BYTES);
    warnings.extend(refused.iter().map(ToString::to_string));
    for f in overrides {
        let source = String::from_utf8(f.bytes).map_err(|_| {
            vec![Problem::in_file(&format!("{shown}/templates/{}", f.rel), "not UTF-8 text").fix("save it as UTF-8")]
        })?;
        paths.insert(f.rel.clone(), format!("{shown}/templates/{}", f.rel));
        sources.insert(f.rel, source);
    }
    let names: Vec<String> = sources.keys().cloned().collect();
    let mut env = render::environment(sources);
    if input.budget.fuel > 0 {
        env.set_fuel(Some(input.budget.fuel));
    }
    env.add_global("platform", Value::from_serialize(input.platform));
    env.add_global("now_year", Value::from(crate::content::site::content::Date::today().year));
    let mut problems = Vec::new();
    for name in &names {
        if let Err(e) = env.get_template(name) {
            problems.push(render::template_error(&e, &paths, name));
        }
    }
    if problems.is_empty() {
        Ok((env, paths))
    } else {
        Err(problems)
    }
}

struct Renderer<'a> {
    input: &'a BuildInput<'a>,
    config: &'a SiteConfig,
    env: &'a Environment<'static>,
    paths: &'a HashMap<String, String>,
    items: &'a [Item],
    entries: Entries,
    problems: Vec<Problem>,
    page_count: usize,
    /// (old path, new path, file): added after every page, never over one.
    aliases: Vec<(String, String, String)>,
    /// When the build began, for the deadline; whether it passed.
    started: std::time::Instant,
    timed_out: bool,
}

impl Renderer<'_> {
    fn render_all(&mut self) {
        let site = Value::from_serialize(self.site_ctx());
        let sections = section_titles(self.items);
        for item in self.items {
            if item.url != "/" && item.url != format!("/{}/", item.section) {
                self.render_page(item, &site, &sections);
            }
        }
        self.render_sections(&site, &sections);
        self.render_home(&site, &sections);
        for (alias, url, file) in std::mem::take(&mut self.aliases) {
            match self.entries.entry(alias.into()) {
                std::collections::hash_map::Entry::Occupied(taken) => self.problems.push(
                    Problem::in_file(&file, format!("alias \"{}\" is already a page", taken.key()))
                        .key("aliases")
                        .fix("remove it from aliases"),
                ),
                std::collections::hash_map::Entry::Vacant(free) => {
                    free.insert(Entry::Redirect(url));
                }
            }
        }
        self.feeds();
    }

    fn site_ctx(&self) -> SiteCtx<'_> {
        let c = self.config;
        let n = &c.names;
        let host = n.canonical.clone().unwrap_or_else(|| format!("{}.{}", n.label, self.input.platform.zone));
        SiteCtx {
            label: &n.label,
            base_url: format!("{}://{host}", self.input.scheme),
            host,
            name_vi: &n.name_vi,
            name_en: &n.name_en,
            description: &c.description,
            responsible: &c.responsible,
            contact: &c.contact,
            menu: if c.menu.is_empty() { self.default_menu() } else { c.menu.clone() },
            vars: &c.vars,
        }
    }

    /// Top-level pages and sections, by weight then title.
    fn default_menu(&self) -> Vec<super::config::MenuItem> {
        let mut top: Vec<&Item> =
            self.items.iter().filter(|i| i.url != "/" && i.url.matches('/').count() == 2).collect();
        top.sort_by(|a, b| (a.doc.front.weight, &a.doc.front.title).cmp(&(b.doc.front.weight, &b.doc.front.title)));
        let mut menu = vec![super::config::MenuItem { title: "Trang chủ".into(), url: "/".into() }];
        menu.extend(
            top.into_iter().map(|i| super::config::MenuItem { title: i.doc.front.title.clone(), url: i.url.clone() }),
        );
        menu
    }

    fn render_page(&mut self, item: &Item, site: &Value, sections: &Sections) {
        let template = item.doc.front.template.as_deref().unwrap_or("page.html");
        let ctx = context! { site => site, page => Value::from_serialize(page_ctx(item, sections)), current_path => &item.url };
        self.render_to(template, ctx, &item.url, item);
        for alias in &item.doc.front.aliases {
            let alias = if alias.starts_with('/') { alias.clone() } else { format!("/{alias}") };
            self.aliases.push((alias, item.url.clone(), item.file.clone()));
        }
    }

    /// Render `template` into the entry at `url`; a failure is recorded against `item`'s file.
    fn render_to(&mut self, template: &str, ctx: Value, url: &str, item: &Item) {
        let tmpl = match self.env.get_template(template) {
            Ok(t) => t,
            Err(_) => {
                let line = item.doc.template_line.unwrap_or(1);
                let mut known: Vec<&String> = self.paths.keys().collect();
                known.sort();
                let known = known.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
                let problem = Problem::in_file(&item.file, format!("template \"{template}\" not found"));
                self.problems.push(problem.at_line(line).fix(format!("templates: {known}")));
                return;
            }
        };
        if self.out_of_time(item) {
            return;
        }
        let budget = self.input.budget;
        let mut page = render::Capped::new(budget.max_page_bytes);
        match tmpl.render_captured_to(ctx, &mut page) {
            Ok(_) => {
                let html = self.with_banner(page.into_inner());
                let prev = self.previous(url);
                let prepared =
                    Prepared::reuse_or_new(prev, StatusCode::OK, "text/html; charset=utf-8", CachePolicy::Page, html);
                self.entries.insert(url.into(), Entry::Page(prepared));
                self.page_count += 1;
            }
            Err(_) if page.overflowed() => {
                let message = format!("the page {url} is over {} bytes", budget.max_page_bytes);
                let fix = "a template loops too much, or raise [limits] max_page_bytes";
                self.problems.push(Problem::in_file(&item.file, message).fix(fix));
            }
            Err(e) => {
                let problem = render::template_error(&e, self.paths, &item.file);
                self.problems.push(if e.kind() == minijinja::ErrorKind::OutOfFuel {
                    problem.fix("a template does too much work for one page; simplify it or raise [limits] build_fuel")
                } else {
                    problem
                });
            }
        }
    }

    /// Past the deadline, say so once and render nothing more.
    fn out_of_time(&mut self, item: &Item) -> bool {
        if self.started.elapsed() <= self.input.budget.deadline {
            return false;
        }
        if !self.timed_out {
            self.timed_out = true;
            let secs = self.input.budget.deadline.as_secs();
            let message = format!("the build took longer than {secs} s (stopped at this page)");
            self.problems.push(Problem::in_file(&item.file, message).fix("raise [limits] build_deadline_secs"));
        }
        true
    }

    fn previous(&self, url: &str) -> Option<&Arc<Prepared>> {
        match self.input.previous?.entries.get(url)? {
            Entry::Page(p) => Some(p),
            Entry::Redirect(_) | Entry::File(_) => None,
        }
    }

    fn render_sections(&mut self, site: &Value, sections: &Sections) {
        let items = self.items;
        let index_items: Vec<&Item> =
            items.iter().filter(|i| !i.section.is_empty() && i.file.ends_with("/_index.md")).collect();
        for item in index_items {
            let pages = pages_of(self.items, &item.section);
            let per = item.doc.front.paginate_by.unwrap_or(DEFAULT_PAGINATE_BY).max(1);
            let total = pages.len().div_ceil(per).max(1);
            let template = item.doc.front.template.as_deref().unwrap_or("section.html");
            let page_url = |n: usize| if n == 1 { item.url.clone() } else { format!("{}page/{n}/", item.url) };
            for n in 1..=total {
                let chunk: Vec<Value> = pages
                    .iter()
                    .skip((n - 1) * per)
                    .take(per)
                    .map(|p| Value::from_serialize(page_ctx(p, sections)))
                    .collect();
                let paginator = context! {
                    current => n, total => total,
                    prev_url => (n > 1).then(|| page_url(n - 1)),
                    next_url => (n < total).then(|| page_url(n + 1)),
                    pages => (1..=total).map(|k| context! { number => k, url => page_url(k) }).collect::<Vec<_>>(),
                };
                let section = context! {
                    title => &item.doc.front.title, description => &item.doc.front.description,
                    content => Value::from_safe_string(item.doc.html.clone()), url => &item.url, pages => chunk,
                };
                let url = page_url(n);
                let ctx = context! { site => site, section => section, paginator => paginator, current_path => &url };
                self.render_to(template, ctx, &url, item);
            }
            self.entries.insert(format!("{}page/1/", item.url).into(), Entry::Redirect(item.url.clone()));
        }
    }

    fn render_home(&mut self, site: &Value, sections: &Sections) {
        let mut dated: Vec<&Item> =
            self.items.iter().filter(|i| i.doc.date.is_some() && !i.file.ends_with("_index.md")).collect();
        dated.sort_by_key(|i| std::cmp::Reverse(i.doc.date));
        let latest: Vec<Value> = dated.iter().take(5).map(|p| Value::from_serialize(page_ctx(p, sections))).collect();
        // No content/_index.md: a home page titled with the unit's name (built directly,
        // not as TOML text, which a backslash in the name would break).
        let front = content::FrontMatter { title: self.config.names.name_vi.clone(), ..Default::default() };
        let fallback = Item {
            file: format!("{}/content/_index.md", shown_path(self.input.dir)),
            section: String::new(),
            url: "/".into(),
            doc: Document {
                front,
                date: None,
                html: String::new(),
                summary: String::new(),
                template_line: None,
                slug_line: None,
                lints: Vec::new(),
                links: Vec::new(),
            },
        };
        let home = self.items.iter().find(|i| i.url == "/").unwrap_or(&fallback);
        let template = home.doc.front.template.as_deref().unwrap_or("index.html");
        let ctx = context! { site => site, page => Value::from_serialize(page_ctx(home, sections)), latest => latest, current_path => "/" };
        self.render_to(template, ctx, "/", home);
    }

    /// The site's themed 404 page.
    fn not_found(&self) -> Result<Arc<Prepared>, Problem> {
        let site = Value::from_serialize(self.site_ctx());
        let cap = self.input.budget.max_page_bytes;
        let mut page = render::Capped::new(cap);
        let rendered = self
            .env
            .get_template("404.html")
            .and_then(|t| t.render_captured_to(context! { site => site, current_path => "" }, &mut page));
        match rendered {
            Ok(_) => {}
            Err(_) if page.overflowed() => {
                let message = format!("the 404 page is over {cap} bytes");
                return Err(Problem::in_file("404.html", message).fix("raise [limits] max_page_bytes"));
            }
            Err(e) => return Err(render::template_error(&e, self.paths, "404.html")),
        }
        let html = String::from_utf8_lossy(&self.with_banner(page.into_inner())).into_owned();
        Ok(Arc::new(Prepared::html(StatusCode::NOT_FOUND, CachePolicy::NoStore, html)))
    }

    /// `html` with the platform's banner, when the site carries one.
    fn with_banner(&self, html: Vec<u8>) -> Vec<u8> {
        match self.input.banner {
            Some(banner) => super::notice::inject(&String::from_utf8_lossy(&html), banner).into_bytes(),
            None => html,
        }
    }

    /// The theme's `page.html` with markers for the title and the main part (see
    /// [`super::Shell`]); `None` when the theme cannot render it so.
    fn shell(&self) -> Option<super::Shell> {
        let site = Value::from_serialize(self.site_ctx());
        let extra = std::collections::BTreeMap::new();
        let page = PageCtx {
            title: super::Shell::TITLE,
            description: "",
            date: None,
            date_display: None,
            content: Value::from_safe_string(super::Shell::MAIN.to_string()),
            summary: Value::from_safe_string(String::new()),
            url: "",
            section_title: None,
            section_url: None,
            extra: &extra,
        };
        let mut out = render::Capped::new(self.input.budget.max_page_bytes);
        let ctx = context! { site => site, page => Value::from_serialize(page), current_path => "" };
        self.env.get_template("page.html").ok()?.render_captured_to(ctx, &mut out).ok()?;
        let html = String::from_utf8(self.with_banner(out.into_inner())).ok()?;
        html.contains(super::Shell::MAIN).then(|| super::Shell::new(html))
    }

    /// A page made by the platform (the catalogue), unless the site has its own there.
    fn add_page(&mut self, url: &str, html: String) {
        if self.entries.contains_key(url) {
            return;
        }
        let prepared = Prepared::reuse_or_new(
            self.previous(url),
            StatusCode::OK,
            "text/html; charset=utf-8",
            CachePolicy::Page,
            html.into_bytes(),
        );
        self.entries.insert(url.into(), Entry::Page(prepared));
    }

    /// `/sitemap.xml`, `/rss.xml` (dated pages, newest first) and `/robots.txt`.
    fn feeds(&mut self) {
        let base =
            Value::from_serialize(self.site_ctx()).get_attr("base_url").map(|v| v.to_string()).unwrap_or_default();
        let mut urls: Vec<&str> = self
            .entries
            .iter()
            .filter(|(url, e)| matches!(e, Entry::Page(_)) && !is_pagination(url))
            .map(|(u, _)| u.as_str())
            .collect();
        urls.sort();
        let lastmod: HashMap<&str, Date> =
            self.items.iter().filter_map(|i| Some((i.url.as_str(), i.doc.date?))).collect();
        let mut sitemap = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
        for url in urls {
            let lm = lastmod.get(url).map(|d| format!("<lastmod>{}</lastmod>", d.iso())).unwrap_or_default();
            sitemap.push_str(&format!("  <url><loc>{}</loc>{lm}</url>\n", render::xml_escape(&format!("{base}{url}"))));
        }
        sitemap.push_str("</urlset>\n");
        let rss = self.rss(&base);
        let robots = format!("User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n");
        for (url, ct, body) in [
            ("/sitemap.xml", "application/xml; charset=utf-8", sitemap),
            ("/rss.xml", "application/rss+xml; charset=utf-8", rss),
            ("/robots.txt", "text/plain; charset=utf-8", robots),
        ] {
            let prepared =
                Prepared::reuse_or_new(self.previous(url), StatusCode::OK, ct, CachePolicy::Page, body.into_bytes());
            self.entries.insert(url.into(), Entry::Page(prepared));
        }
    }

    /// The news feed: the `tin-tuc` section when the site has one, else every dated page.
    fn rss(&self, base: &str) -> String {
        let news = self.items.iter().any(|i| i.section == "tin-tuc");
        let mut dated: Vec<&Item> = self
            .items
            .iter()
            .filter(|i| i.doc.date.is_some() && !i.file.ends_with("_index.md") && (!news || i.section == "tin-tuc"))
            .collect();
        dated.sort_by(|a, b| b.doc.date.cmp(&a.doc.date).then(a.url.cmp(&b.url)));
        let esc = render::xml_escape;
        let mut out = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\">\n<channel>\n<title>{}</title>\n<link>{}/</link>\n<description>{}</description>\n<language>vi</language>\n",
            esc(&self.config.names.name_vi), esc(base), esc(if self.config.description.is_empty() { &self.config.names.name_vi } else { &self.config.description })
        );
        for item in dated.into_iter().take(20) {
            let link = esc(&format!("{base}{}", item.url));
            let date = item.doc.date.map(Date::rfc2822).unwrap_or_default();
            let description =
                if item.doc.front.description.is_empty() { &item.doc.summary } else { &item.doc.front.description };
            out.push_str(&format!("<item><title>{}</title><link>{link}</link><guid>{link}</guid><pubDate>{date}</pubDate><description>{}</description></item>\n", esc(&item.doc.front.title), esc(description)));
        }
        out.push_str("</channel>\n</rss>\n");
        out
    }
}

type Sections<'i> = HashMap<&'i str, (&'i str, String)>;

/// Section folder → (title, url).
fn section_titles(items: &[Item]) -> Sections<'_> {
    let mut map = HashMap::new();
    for item in items.iter().filter(|i| !i.section.is_empty() && i.file.ends_with("/_index.md")) {
        map.insert(item.section.as_str(), (item.doc.front.title.as_str(), item.url.clone()));
    }
    map
}

fn page_ctx<'i>(item: &'i Item, sections: &Sections<'i>) -> PageCtx<'i> {
    let section = sections.get(item.section.as_str());
    PageCtx {
        title: &item.doc.front.title,
        description: &item.doc.front.description,
        date: item.doc.date.map(Date::iso),
        date_display: item.doc.date.map(Date::display_vi),
        content: Value::from_safe_string(item.doc.html.clone()),
        summary: Value::from_safe_string(item.doc.summary.clone()),
        url: &item.url,
        section_title: section.map(|s| s.0),
        section_url: section.map(|s| s.1.clone()),
        extra: &item.doc.front.extra,
    }
}

/// Pages of a section folder, newest first, then by weight and title.
fn pages_of<'i>(items: &'i [Item], section: &str) -> Vec<&'i Item> {
    let mut pages: Vec<&Item> =
        items.iter().filter(|i| i.section == section && !i.file.ends_with("/_index.md")).collect();
    pages.sort_by(|a, b| {
        b.doc
            .date
            .cmp(&a.doc.date)
            .then(a.doc.front.weight.cmp(&b.doc.front.weight))
            .then(a.doc.front.title.cmp(&b.doc.front.title))
    });
    pages
}

/// `/tin-tuc/page/2/`: a listing page, not content of its own.
fn is_pagination(url: &str) -> bool {
    let trimmed = url.trim_end_matches('/');
    match trimmed.rsplit_once('/') {
        Some((head, n)) => head.ends_with("/page") && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

/// Site files at `/static/…`, theme files at `/_theme/…`, kept in memory.
fn add_static(
    input: &BuildInput,
    folder: &files::Folder,
    config: &SiteConfig,
    entries: &mut Entries,
    warnings: &mut Vec<String>,
) {
    // A site's own files carry their modification time (`Last-Modified`); theme files
    // are served by their ETag alone.
    let add = |url: String, bytes: Vec<u8>, modified: Option<i64>, entries: &mut Entries| {
        let prev = input.previous.and_then(|p| match p.entries.get(url.as_str()) {
            Some(Entry::Page(p)) => Some(p),
            _ => None,
        });
        let content_type = render::content_type_for(&url);
        let prepared = match modified {
            Some(t) => Prepared::reuse_or_new_file(prev, content_type, bytes, t),
            None => Prepared::reuse_or_new(prev, StatusCode::OK, content_type, CachePolicy::Asset, bytes),
        };
        entries.insert(url.into(), Entry::Page(prepared));
    };
    // Theme files are the same bytes for every site of a theme: shared, compressed once.
    for (url, prepared) in input.themes.static_prepared(&config.theme) {
        entries.insert(url.into(), Entry::Page(prepared));
    }
    let budget = input.budget;
    // Reading stops once the site's total is reached: the total check then fails the build.
    let (found, refused) = folder.walk_streaming(
        "static",
        budget.max_static_file_bytes,
        budget.max_site_bytes,
        budget.stream_static_over_bytes,
    );
    warnings.extend(refused.iter().map(ToString::to_string));
    for f in found {
        let url = format!("/static/{}", f.rel);
        match f.stream {
            Some(meta) => {
                let etag = format!("\"f{:x}-{:x}-{:x}.{:x}\"", meta.ino, meta.size, meta.mtime, meta.mtime_nsec);
                let file = super::StaticFile {
                    dir: input.dir.to_path_buf(),
                    rel: format!("static/{}", f.rel),
                    meta,
                    content_type: http::HeaderValue::from_static(render::content_type_for(&url)),
                    etag: http::HeaderValue::from_str(&etag).expect("hex digits and quotes"),
                };
                entries.insert(url.into(), Entry::File(Arc::new(file)));
            }
            None => add(url, f.bytes, Some(f.stamp.meta.mtime), entries),
        }
    }
}

#[cfg(test)]
#[path = "budget_tests.rs"]
mod budget_tests;

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzz/fuzz_targets/site_toml.rs (`name_vi = "Cụ\\c An toàn thông tin"`): a
    /// site without content/_index.md whose name held a backslash panicked the build, and
    /// with it `cong check` and the reload thread.
    #[test]
    fn a_name_with_toml_escapes_titles_the_generated_home_page() {
        for name_vi in ["Cụ\\c An toàn thông tin", "Cục \"An toàn\"\nthông tin \\u00e9 '''"] {
            let dir = tempfile::tempdir().unwrap();
            let site = dir.path().join("ais");
            std::fs::create_dir_all(site.join("content")).unwrap();
            let text = format!("label = \"ais\"\nname_vi = {}\n", toml::Value::String(name_vi.into()));
            std::fs::write(site.join("site.toml"), text).unwrap();
            let (themes, _) = ThemeSet::load(&dir.path().join("no-themes"));
            let platform = crate::model::config::parse("", "t.toml", dir.path()).unwrap().platform;
            let input = BuildInput {
                banner: None,
                dir: &site,
                themes: &themes,
                platform: &platform,
                scheme: "https",
                previous: None,
                budget: Default::default(),
            };
            let built = build(&input).unwrap_or_else(|e| panic!("{name_vi:?}: {e}"));
            let Some(Entry::Page(home)) = built.lookup("/") else { panic!("{name_vi:?}: no home page") };
            let body = home.body();
            let html = String::from_utf8_lossy(&body);
            assert!(html.contains(&render::html_escape(name_vi)), "{name_vi:?}:\n{html}");
        }
    }
}
