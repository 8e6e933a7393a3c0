//! Themes: templates and static files under `themes/<name>/`, with `extends` to fall back
//! on a parent theme. The default theme is embedded in the binary so cong runs anywhere;
//! a `themes/default/` folder on disk replaces the embedded copy.

use crate::content::files;
use crate::content::render::{self, CachePolicy, Prepared};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

/// One theme: its templates (name → source) and static files (path → bytes).
#[derive(Debug)]
pub struct Theme {
    pub name: String,
    pub parent: Option<String>,
    pub templates: BTreeMap<String, Template>,
    pub static_files: BTreeMap<String, Vec<u8>>,
}

/// A template's source and the file it came from, for messages.
#[derive(Debug, Clone)]
pub struct Template {
    pub source: String,
    pub path: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeToml {
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    description: String,
    #[serde(default)]
    extends: Option<String>,
}

/// All themes known to the platform.
#[derive(Debug, Default, Clone)]
pub struct ThemeSet {
    themes: HashMap<String, Arc<Theme>>,
    /// Theme → its chain's static files prepared once (compressed once) and shared by
    /// every site of that theme, instead of one copy per site.
    prepared: HashMap<String, Vec<(String, Arc<Prepared>)>>,
    /// SHA-256 of every theme's name, parent, templates and static files: a site built
    /// with other themes is not taken from the build cache (`content::site::cache`).
    fingerprint: [u8; 32],
}

macro_rules! embedded {
    ($($name:literal),*) => {
        &[$(($name, include_bytes!(concat!("../../themes/default/", $name)))),*]
    };
}

/// The default theme as compiled in.
const EMBEDDED_DEFAULT: &[(&str, &[u8])] = embedded!(
    "templates/base.html",
    "templates/partials/footer.html",
    "templates/index.html",
    "templates/page.html",
    "templates/section.html",
    "templates/404.html",
    "templates/directory.html",
    "templates/status.html",
    "static/style.css"
);

impl ThemeSet {
    /// Load the embedded default, then every folder under `dir`. Problems are
    /// `file:line: message`; a broken theme is left out, the others load.
    pub fn load(dir: &Path) -> (ThemeSet, Vec<String>) {
        let mut set = ThemeSet::default();
        set.themes.insert("default".into(), Arc::new(embedded_default()));
        let mut problems = Vec::new();
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.path().is_dir())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        for name in names.into_iter().filter(|n| !n.starts_with('.')) {
            match load_theme(&dir.join(&name), &display(dir, &name)) {
                Ok(theme) => {
                    set.themes.insert(name, Arc::new(theme));
                }
                Err(mut errs) => problems.append(&mut errs),
            }
        }
        set.fingerprint = fingerprint(&set.themes);
        let names: Vec<String> = set.themes.keys().cloned().collect();
        for name in names {
            if let Ok(chain) = set.chain(&name) {
                let files = prepare_static(&chain);
                set.prepared.insert(name, files);
            }
        }
        (set, problems)
    }

    /// See [`ThemeSet::fingerprint`]'s field: what the themes are, as one hash.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }

    /// The static files a site of `theme` serves at `/_theme/…`, shared: prepared when
    /// the themes were loaded (or now, for a set made otherwise).
    pub fn static_prepared(&self, theme: &str) -> Vec<(String, Arc<Prepared>)> {
        match self.prepared.get(theme) {
            Some(files) => files.clone(),
            None => self.chain(theme).map(|chain| prepare_static(&chain)).unwrap_or_default(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Theme>> {
        self.themes.get(name)
    }

    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.themes.keys().map(String::as_str).collect();
        names.sort();
        names
    }

    /// The theme and its ancestors, child first.
    pub fn chain(&self, name: &str) -> Result<Vec<Arc<Theme>>, String> {
        let mut chain: Vec<Arc<Theme>> = Vec::new();
        let mut next = Some(name.to_string());
        while let Some(n) = next {
            if chain.iter().any(|t| t.name == n) {
                return Err(format!("theme \"{name}\" extends itself through \"{n}\""));
            }
            let theme = self
                .themes
                .get(&n)
                .ok_or_else(|| format!("theme \"{n}\" does not exist (themes: {})", self.names().join(", ")))?;
            next = theme.parent.clone();
            chain.push(theme.clone());
        }
        Ok(chain)
    }

    /// Templates of a chain merged, child over parent: name → template.
    pub fn templates(chain: &[Arc<Theme>]) -> HashMap<String, Template> {
        let mut merged = HashMap::new();
        for theme in chain.iter().rev() {
            for (name, t) in &theme.templates {
                merged.insert(name.clone(), t.clone());
            }
        }
        merged
    }

    /// Static files of a chain merged, child over parent.
    pub fn static_files(chain: &[Arc<Theme>]) -> BTreeMap<&str, &[u8]> {
        let mut merged = BTreeMap::new();
        for theme in chain.iter().rev() {
            for (name, bytes) in &theme.static_files {
                merged.insert(name.as_str(), bytes.as_slice());
            }
        }
        merged
    }
}

fn fingerprint(themes: &HashMap<String, Arc<Theme>>) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut names: Vec<&String> = themes.keys().collect();
    names.sort();
    for name in names {
        let t = &themes[name];
        let parts = std::iter::once((name.as_str(), t.parent.as_deref().unwrap_or("").as_bytes()))
            .chain(t.templates.iter().map(|(n, tpl)| (n.as_str(), tpl.source.as_bytes())))
            .chain(t.static_files.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
        for (n, bytes) in parts {
            for b in [n.as_bytes(), bytes] {
                ctx.update(&(b.len() as u64).to_le_bytes());
                ctx.update(b);
            }
        }
    }
    let mut out = [0; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// A chain's static files as served at `/_theme/…`.
fn prepare_static(chain: &[Arc<Theme>]) -> Vec<(String, Arc<Prepared>)> {
    ThemeSet::static_files(chain)
        .into_iter()
        .map(|(rel, bytes)| {
            let url = format!("/_theme/{rel}");
            let prepared =
                Prepared::new(http::StatusCode::OK, render::content_type_for(&url), CachePolicy::Asset, bytes.to_vec());
            (url, Arc::new(prepared))
        })
        .collect()
}

fn display(dir: &Path, name: &str) -> String {
    let shown = crate::content::site::shown_path(&dir.join(name));
    if shown.is_empty() {
        name.to_string()
    } else {
        shown
    }
}

fn embedded_default() -> Theme {
    let mut theme =
        Theme { name: "default".into(), parent: None, templates: BTreeMap::new(), static_files: BTreeMap::new() };
    for (path, bytes) in EMBEDDED_DEFAULT {
        if let Some(name) = path.strip_prefix("templates/") {
            let source = String::from_utf8_lossy(bytes).into_owned();
            theme.templates.insert(name.into(), Template { source, path: format!("(embedded) themes/default/{path}") });
        } else if let Some(name) = path.strip_prefix("static/") {
            theme.static_files.insert(name.into(), bytes.to_vec());
        }
    }
    theme
}

/// The largest file a theme may hold.
const MAX_THEME_FILE_BYTES: u64 = 16 << 20;

fn load_theme(dir: &Path, shown: &str) -> Result<Theme, Vec<String>> {
    let file = format!("{shown}/theme.toml");
    let folder = files::Folder::open(dir, shown).map_err(|p| vec![p.to_string()])?;
    let text = folder
        .read_text("theme.toml", MAX_THEME_FILE_BYTES)
        .map_err(|p| vec![p.fix("every theme needs a theme.toml with name = \"...\"").to_string()])?;
    let meta: ThemeToml =
        toml::from_str(&text).map_err(|e| vec![crate::model::config::toml_error(&file, &text, &e, 0)])?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if meta.name != name {
        return Err(vec![format!("{file}:1: name \"{}\" does not match the folder \"{name}\"", meta.name)]);
    }
    let mut theme =
        Theme { name: meta.name, parent: meta.extends, templates: BTreeMap::new(), static_files: BTreeMap::new() };
    let mut problems = Vec::new();
    let (templates, refused) = folder.walk("templates", MAX_THEME_FILE_BYTES);
    problems.extend(refused.iter().map(ToString::to_string));
    for f in templates {
        match String::from_utf8(f.bytes) {
            Ok(source) => {
                theme
                    .templates
                    .insert(f.rel.clone(), Template { source, path: format!("{shown}/templates/{}", f.rel) });
            }
            Err(_) => problems.push(format!("{shown}/templates/{}: not UTF-8 text (save it as UTF-8)", f.rel)),
        }
    }
    let (statics, refused) = folder.walk("static", MAX_THEME_FILE_BYTES);
    problems.extend(refused.iter().map(ToString::to_string));
    for f in statics {
        theme.static_files.insert(f.rel, f.bytes);
    }
    if problems.is_empty() {
        Ok(theme)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of `themes/default/` is compiled in: a template added there (a partial,
    /// say) must also be listed in `EMBEDDED_DEFAULT`.
    #[test]
    fn embedded_default_is_complete() {
        let (set, problems) = ThemeSet::load(Path::new("/nonexistent"));
        assert!(problems.is_empty());
        let embedded = set.get("default").unwrap();
        let disk = load_theme(&Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default"), "themes/default").unwrap();
        assert_eq!(embedded.templates.keys().collect::<Vec<_>>(), disk.templates.keys().collect::<Vec<_>>());
        assert_eq!(embedded.static_files.keys().collect::<Vec<_>>(), disk.static_files.keys().collect::<Vec<_>>());
        assert!(embedded.templates.contains_key("partials/footer.html"));
    }

    #[test]
    fn child_theme_overrides_and_falls_back() {
        let dir = tempfile::tempdir().unwrap();
        let child = dir.path().join("con");
        std::fs::create_dir_all(child.join("templates")).unwrap();
        std::fs::write(child.join("theme.toml"), "name = \"con\"\nextends = \"default\"\n").unwrap();
        std::fs::write(child.join("templates/page.html"), "child").unwrap();
        let (set, problems) = ThemeSet::load(dir.path());
        assert!(problems.is_empty(), "{problems:?}");
        let chain = set.chain("con").unwrap();
        let merged = ThemeSet::templates(&chain);
        assert_eq!(merged["page.html"].source, "child");
        assert!(merged.contains_key("base.html"));
        assert!(ThemeSet::static_files(&chain).contains_key("style.css"));
    }

    /// Both themes render the footer from the one partial, and its English paragraph keeps
    /// its sentences apart (trim_blocks once ran them together: "…Truyền thông.Person").
    #[test]
    fn both_themes_render_the_one_footer() {
        let (set, problems) = ThemeSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("themes"));
        assert!(problems.is_empty(), "{problems:?}");
        let site = minijinja::context! {
            name_vi => "Cục An toàn thông tin",
            responsible => minijinja::context! { name => "Nguyễn Văn A", title => "Cục trưởng" },
            contact => minijinja::context! { agency => "Bộ Thông tin và Truyền thông", phone => "(024) 3556 0101" },
            vars => minijinja::context! { responsible_title_en => "Director General" },
        };
        let footer = |theme: &str| {
            let sources = ThemeSet::templates(&set.chain(theme).unwrap()).into_iter().map(|(n, t)| (n, t.source));
            let env = crate::content::render::environment(sources.collect());
            let platform = minijinja::context! { name_vi => "Bộ Thông tin và Truyền thông" };
            let html =
                env.get_template("base.html").unwrap().render(minijinja::context! { site, platform, now_year => 2025 });
            let html = html.unwrap_or_else(|e| panic!("{theme}: {e:#}"));
            html[html.find("<footer").unwrap()..].to_string()
        };
        let default_footer = footer("default");
        assert_eq!(footer("trangnhat"), default_footer);
        let text = default_footer.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            text.contains(
                "Managing agency: Bộ Thông tin và Truyền thông. Person responsible: Nguyễn Văn A, Director General. Tel: (024) 3556 0101. </p>"
            ),
            "{default_footer}"
        );
    }

    #[test]
    fn unknown_theme_and_cycles_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        for (name, parent) in [("a", "b"), ("b", "a")] {
            std::fs::create_dir_all(dir.path().join(name)).unwrap();
            std::fs::write(
                dir.path().join(name).join("theme.toml"),
                format!("name = \"{name}\"\nextends = \"{parent}\"\n"),
            )
            .unwrap();
        }
        let (set, _) = ThemeSet::load(dir.path());
        assert!(set.chain("a").unwrap_err().contains("extends itself"));
        assert!(set.chain("nope").unwrap_err().contains("theme \"nope\" does not exist"));
    }

    #[test]
    fn broken_theme_toml_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("x")).unwrap();
        std::fs::write(dir.path().join("x/theme.toml"), "name = \"x\"\nextend = \"default\"\n").unwrap();
        let (set, problems) = ThemeSet::load(dir.path());
        assert!(set.get("x").is_none());
        assert!(
            problems[0].contains("x/theme.toml:2:1: unknown field `extend`")
                && problems[0].contains("did you mean \"extends\""),
            "{problems:?}"
        );
    }
}
