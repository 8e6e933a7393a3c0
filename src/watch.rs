//! Hot reload: watch `tenants/` and `themes/` (notify, debounced), sort each event into a
//! [`ChangeKind`] by its path, drop editor temp files, and turn a batch into a [`Plan`]:
//! which sites to rebuild, whether themes reload, or a full rescan. The plan is applied
//! off the request path and published as one new snapshot.

use crate::state::Live;
use notify::RecursiveMode;
use notify_debouncer_full::{new_debouncer, DebounceEventResult};
use std::collections::BTreeSet;
use std::path::{Component, Path};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// What one changed path means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    /// `tenants/<label>/site.toml`.
    SiteConfig(String),
    /// `tenants/<label>/content/...`.
    SiteContent(String),
    /// `tenants/<label>/templates/...`.
    SiteTemplates(String),
    /// `tenants/<label>/static/...`.
    SiteStatic(String),
    /// `tenants/<label>` itself (created, removed, renamed) or another file in it.
    SiteFolder(String),
    /// Anything under `themes/<name>/`.
    Theme(String),
}

/// What a batch of changes asks for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Site folders to rebuild (or drop, when gone).
    pub sites: BTreeSet<String>,
    /// Themes that changed: reload themes, rebuild the sites that use them.
    pub themes: BTreeSet<String>,
    /// Events were missed: reload everything.
    pub rescan: bool,
}

/// Sort a path into a change, or `None` for what does not matter (editor temp files,
/// hidden files, paths outside both roots).
pub fn classify(path: &Path, tenants: &Path, themes: &Path) -> Option<ChangeKind> {
    let name = path.file_name()?.to_string_lossy();
    if crate::files::is_editor_temp(&name) || name.starts_with('.') {
        return None;
    }
    if let Ok(rel) = path.strip_prefix(themes) {
        let first = normal_parts(rel).into_iter().next()?;
        return Some(ChangeKind::Theme(first));
    }
    let rel = path.strip_prefix(tenants).ok()?;
    let parts = normal_parts(rel);
    let label = parts.first()?.clone();
    Some(match (parts.get(1).map(String::as_str), parts.len()) {
        (Some("site.toml"), 2) => ChangeKind::SiteConfig(label),
        (Some("content"), _) => ChangeKind::SiteContent(label),
        (Some("templates"), _) => ChangeKind::SiteTemplates(label),
        (Some("static"), _) => ChangeKind::SiteStatic(label),
        _ => ChangeKind::SiteFolder(label),
    })
}

fn normal_parts(rel: &Path) -> Vec<String> {
    rel.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect()
}

impl Plan {
    /// Fold one change into the plan; every site-level kind rebuilds that one site.
    pub fn add(&mut self, change: ChangeKind) {
        match change {
            ChangeKind::Theme(name) => {
                self.themes.insert(name);
            }
            ChangeKind::SiteConfig(l)
            | ChangeKind::SiteContent(l)
            | ChangeKind::SiteTemplates(l)
            | ChangeKind::SiteStatic(l)
            | ChangeKind::SiteFolder(l) => {
                self.sites.insert(l);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.sites.is_empty() && self.themes.is_empty() && !self.rescan
    }
}

/// Apply a plan to the live state: rebuild, validate, publish once.
pub fn apply(live: &Live, plan: &Plan) {
    let config = &live.config;
    live.update(|sources| {
        if plan.rescan {
            tracing::info!("reloading every theme and site");
            sources.reload_themes(config);
            let gone: Vec<String> = sources
                .sites
                .keys()
                .filter(|l| !config.tenants_dir.join(l).join("site.toml").is_file())
                .cloned()
                .collect();
            for label in gone {
                sources.rebuild_site(config, &label);
            }
            return;
        }
        let mut sites = plan.sites.clone();
        if !plan.themes.is_empty() {
            sources.load_themes(config);
            // Rebuild every site whose theme chain touches a changed theme.
            for label in crate::site::list_folders(&config.tenants_dir) {
                let uses = sources.sites.get(&label).is_none_or(|s| {
                    let chain = sources
                        .themes
                        .chain(&s.config.theme)
                        .map(|c| c.iter().map(|t| t.name.clone()).collect::<Vec<_>>())
                        .unwrap_or_default();
                    chain.is_empty()
                        || plan.themes.iter().any(|t| chain.contains(t))
                        || plan.themes.contains(&s.config.theme)
                });
                if uses {
                    sites.insert(label);
                }
            }
        }
        for label in &sites {
            tracing::info!(site = %label, "rebuilding");
            sources.rebuild_site(config, label);
        }
    });
}

/// Watch the folders on a thread of its own until `stop` is dropped. Returns at once.
pub fn spawn(live: Arc<Live>, stop: mpsc::Receiver<()>) -> notify::Result<std::thread::JoinHandle<()>> {
    let (tx, rx) = mpsc::channel::<DebounceEventResult>();
    let debounce = Duration::from_millis(live.config.debounce_ms.max(10));
    let mut debouncer = new_debouncer(debounce, None, tx)?;
    for dir in [&live.config.tenants_dir, &live.config.themes_dir] {
        if dir.is_dir() {
            debouncer.watch(dir, RecursiveMode::Recursive)?;
        } else {
            tracing::warn!("{} does not exist; not watching it", dir.display());
        }
    }
    let handle = std::thread::Builder::new().name("cong-watch".into()).spawn(move || {
        let _keep = debouncer;
        // Events name paths under the folder as watched; a symlinked root must not be
        // resolved, or no event would classify.
        let (tenants, themes) = (live.config.tenants_dir.clone(), live.config.themes_dir.clone());
        loop {
            if !matches!(stop.try_recv(), Err(mpsc::TryRecvError::Empty)) {
                return;
            }
            let batch = match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(b) => b,
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            };
            let mut plan = Plan::default();
            add_batch(&mut plan, batch, &tenants, &themes);
            // Take whatever else is already queued, so a burst becomes one rebuild.
            while let Ok(more) = rx.try_recv() {
                add_batch(&mut plan, more, &tenants, &themes);
            }
            if !plan.is_empty() {
                tracing::debug!(?plan, "applying changes");
                apply(&live, &plan);
            }
        }
    })?;
    Ok(handle)
}

/// Reads are events too (inotify reports opens and closes); only writes, creations,
/// removals and renames change what is served. Reacting to reads would loop: a rebuild
/// reads every file of the site.
fn changes_content(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, EventKind};
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        _ => true,
    }
}

fn add_batch(plan: &mut Plan, batch: DebounceEventResult, tenants: &Path, themes: &Path) {
    match batch {
        Ok(events) => {
            for event in events {
                if event.need_rescan() {
                    plan.rescan = true;
                }
                if !changes_content(&event.kind) {
                    continue;
                }
                for path in &event.paths {
                    if let Some(change) = classify(path, tenants, themes) {
                        plan.add(change);
                    }
                }
            }
        }
        Err(errors) => {
            // Lost events (queue overflow, watch limits): only a full rescan is safe.
            for e in errors {
                tracing::warn!("file watcher: {e}; rescanning everything");
            }
            plan.rescan = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        let t = Path::new("/srv/tenants");
        let th = Path::new("/srv/themes");
        let s = |l: &str| l.to_string();
        let table: Vec<(&str, Option<ChangeKind>)> = vec![
            ("/srv/tenants/ais/site.toml", Some(ChangeKind::SiteConfig(s("ais")))),
            ("/srv/tenants/ais/content/tin-tuc/a.md", Some(ChangeKind::SiteContent(s("ais")))),
            ("/srv/tenants/ais/content/_index.md", Some(ChangeKind::SiteContent(s("ais")))),
            ("/srv/tenants/ais/templates/page.html", Some(ChangeKind::SiteTemplates(s("ais")))),
            ("/srv/tenants/ais/static/images/logo.svg", Some(ChangeKind::SiteStatic(s("ais")))),
            ("/srv/tenants/vpc", Some(ChangeKind::SiteFolder(s("vpc")))),
            ("/srv/tenants/ais/notes.txt", Some(ChangeKind::SiteFolder(s("ais")))),
            ("/srv/themes/default/templates/base.html", Some(ChangeKind::Theme(s("default")))),
            ("/srv/themes/trangnhat/static/style.css", Some(ChangeKind::Theme(s("trangnhat")))),
            ("/srv/tenants/ais/content/.a.md.swp", None),
            ("/srv/tenants/ais/content/a.md~", None),
            ("/srv/tenants/ais/content/#a.md#", None),
            ("/srv/tenants/ais/content/a.md.tmp", None),
            ("/srv/tenants/ais/content/a.md___jb_tmp___", None),
            ("/srv/tenants/ais/content/4913", None),
            ("/srv/other/file.md", None),
            ("/srv/tenants", None),
        ];
        for (path, want) in table {
            assert_eq!(classify(Path::new(path), t, th), want, "{path}");
        }
    }

    #[test]
    fn a_batch_becomes_one_plan() {
        let mut plan = Plan::default();
        for c in [
            ChangeKind::SiteContent("ais".into()),
            ChangeKind::SiteStatic("ais".into()),
            ChangeKind::Theme("default".into()),
            ChangeKind::SiteConfig("cbc".into()),
        ] {
            plan.add(c);
        }
        assert_eq!(plan.sites.iter().collect::<Vec<_>>(), ["ais", "cbc"]);
        assert_eq!(plan.themes.iter().collect::<Vec<_>>(), ["default"]);
        assert!(!plan.rescan && !plan.is_empty());
        assert!(Plan::default().is_empty());
    }
}
