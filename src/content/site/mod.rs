//! A member site: its folder (`tenants/<label>/`) loaded, validated and rendered into an
//! immutable [`Site`] snapshot that the request path reads without touching the disk.

pub mod accent;
mod build;
pub mod cache;
pub mod config;
pub mod content;
pub mod html;
pub mod links;
pub mod notice;
mod paths;
mod place;
pub mod scaffold;
pub mod services;

pub use build::{build, open_config, BuildInput};
pub use paths::Paths;

use crate::content::render::Prepared;
use crate::model::FastMap;
use std::path::Path;
use std::sync::Arc;

/// A site's paths (decoded, starting with `/`) and what each answers, while a build makes
/// them; frozen into [`Paths`] for the request path. A path of up to 23 bytes (`/`,
/// `/gioi-thieu/`, `/tin-tuc/`...) is kept in the slot itself, so a lookup compares it
/// without reading another place in memory (issue #13, flatness).
pub type Entries = FastMap<smol_str::SmolStr, Entry>;

/// What a path of a site answers.
#[derive(Debug, Clone)]
pub enum Entry {
    /// A prepared response (page, feed, static file).
    Page(Arc<Prepared>),
    /// A permanent redirect to another path of the same site (aliases, `/page/1/`).
    Redirect(String),
    /// A large static file left on disk, streamed when asked for.
    File(Arc<StaticFile>),
}

/// A static file served from disk: where it is, what it was when the site was built, and
/// the headers it is served with. The serving side opens it through
/// [`crate::content::files::open_checked`], so it serves that very file or nothing.
#[derive(Debug)]
pub struct StaticFile {
    /// The site folder (`tenants/ais`).
    pub dir: std::path::PathBuf,
    /// Under the site folder: `static/files/bao-cao.pdf`.
    pub rel: String,
    pub meta: crate::content::files::FileMeta,
    pub content_type: http::HeaderValue,
    /// Strong validator from the file's identity, size and modification time.
    pub etag: http::HeaderValue,
}

/// One rendered version of a site. Replaced whole on change, never edited in place.
///
/// A request for a page does not read it: the snapshot keeps a copy of the header of its
/// `entries` beside it (`snapshot::Served`); only a miss (the site's 404) and the pages
/// made per request come here.
#[derive(Debug)]
pub struct Site {
    /// Path (decoded, starting with `/`) → entry.
    pub entries: Paths,
    pub label: String,
    pub config: config::SiteConfig,
    /// The site's own themed 404 page.
    pub not_found: Arc<Prepared>,
    /// Problems that did not stop the site (a refused link, a skipped file).
    pub warnings: Vec<String>,
    /// What the editor safety net found in the content (DESIGN §19): removed HTML, images
    /// without alt text, links and images that lead nowhere, file names made into slugs.
    /// The site is served all the same (cleaned); `cong check` fails on any of them.
    pub lints: Vec<crate::model::problem::Problem>,
    /// How many pages (not static files) were rendered.
    pub page_count: usize,
    /// The online public services of `dich-vu-cong.toml` (empty without one).
    pub services: Vec<services::Service>,
    /// The theme's page with holes for a title and a main part: what the pages made per
    /// request (dossier lookup, statistics) are poured into.
    pub shell: Option<Shell>,
    /// The build cache key of the inputs it was made from (`None` when made without the
    /// cache): a rebuild whose inputs hash the same keeps this very site.
    pub built_from: Option<[u8; 32]>,
}

/// A page of the site's theme with markers where the title and the main part go.
#[derive(Debug, Clone)]
pub struct Shell {
    html: String,
}

impl Shell {
    /// What the title and the main part are written as when the shell is rendered.
    pub const TITLE: &'static str = "CONGSHELLTITLE";
    pub const MAIN: &'static str = "<!--CONGSHELLMAIN-->";

    pub fn new(html: String) -> Shell {
        Shell { html }
    }

    /// The shell as rendered, markers included.
    pub fn html(&self) -> &str {
        &self.html
    }

    /// The page with `title` (text, escaped here) and `main` (HTML) in place.
    pub fn wrap(&self, title: &str, main: &str) -> String {
        let title = crate::content::render::html_escape(title);
        self.html.replace(Shell::TITLE, &title).replacen(Shell::MAIN, main, 1)
    }
}

impl Site {
    /// The entry for a decoded request path.
    #[inline]
    pub fn lookup(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }
}

/// Why a site could not be built: every problem found, each `file:line: message`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct SiteError {
    pub label: String,
    pub problems: Vec<crate::model::problem::Problem>,
}

/// A path as people should read it in messages: relative to the working folder when it is
/// inside it.
pub fn shown_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let shown = cwd.as_deref().and_then(|c| path.strip_prefix(c).ok()).unwrap_or(path);
    shown.display().to_string()
}

/// The site folders under `tenants`: every folder with a `site.toml`, sorted by name.
pub fn list_folders(tenants: &Path) -> Vec<String> {
    let mut labels: Vec<String> = std::fs::read_dir(tenants)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().join("site.toml").is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    labels.sort();
    labels
}
