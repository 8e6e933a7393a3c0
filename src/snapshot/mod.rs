//! What the serving side reads: one immutable [`Snapshot`] (routing table, sites, platform
//! pages) assembled from the current [`Sources`] and swapped in atomically, so a request
//! sees one whole version and never a half-updated one.

use crate::config::{Config, Platform, TlsMode};
use crate::member::{Member, Status};
use crate::platform::PlatformPages;
use crate::router::RouteTable;
use crate::site::{self, BuildInput, Site};
use crate::theme::ThemeSet;
use arc_swap::ArcSwap;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One complete, validated version of everything a request needs.
#[derive(Debug)]
pub struct Snapshot {
    pub routes: RouteTable,
    /// Label → site, only for members whose site built.
    pub sites: HashMap<String, Arc<Site>>,
    pub pages: Arc<PlatformPages>,
    pub members: Vec<Member>,
    /// Label → problems of a site folder that is not served (or served at its last good version).
    pub site_errors: BTreeMap<String, Vec<String>>,
    pub theme_errors: Vec<String>,
    /// Increases with every published snapshot.
    pub generation: u64,
    /// The [`Sources::themes_version`] the platform pages were rendered from.
    themes_version: u64,
}

/// The inputs a snapshot is assembled from, kept to rebuild only what changed.
#[derive(Debug, Default)]
pub struct Sources {
    pub themes: ThemeSet,
    pub theme_errors: Vec<String>,
    /// Label → last good build of each site folder.
    pub sites: BTreeMap<String, Arc<Site>>,
    /// Label → why the folder's current state does not build.
    pub site_errors: BTreeMap<String, Vec<String>>,
    /// The members, from the registry.
    pub members: Vec<Member>,
    /// Bumped each time the themes are loaded, so a snapshot knows whether the platform
    /// pages it would inherit were rendered from the current ones.
    pub themes_version: u64,
    /// `[platform]` as pages show it: the running configuration's, with the display names
    /// SIGHUP re-read from cong.toml.
    pub platform: Platform,
}

/// The scheme absolute URLs in sitemaps and feeds use.
pub fn scheme(config: &Config) -> &'static str {
    if config.tls == TlsMode::Off {
        "http"
    } else {
        "https"
    }
}

impl Sources {
    /// Load every theme and every site folder; members are set by the caller.
    pub fn load(config: &Config) -> Sources {
        let mut sources = Sources { platform: config.platform.clone(), ..Sources::default() };
        sources.load_themes(config);
        for label in site::list_folders(&config.tenants_dir) {
            sources.rebuild_site(config, &label);
        }
        sources
    }

    /// Rebuild one site from its folder. On failure the last good build stays and the
    /// error is recorded; a folder that is gone removes the site.
    pub fn rebuild_site(&mut self, config: &Config, label: &str) {
        let dir = config.tenants_dir.join(label);
        if !dir.join("site.toml").is_file() {
            self.sites.remove(label);
            self.site_errors.remove(label);
            return;
        }
        let previous = self.sites.get(label).cloned();
        let input = BuildInput {
            dir: &dir,
            themes: &self.themes,
            platform: &self.platform,
            scheme: scheme(config),
            previous: previous.as_deref(),
        };
        match site::build(&input) {
            Ok(site) => {
                for w in &site.warnings {
                    tracing::warn!(site = label, "{w}");
                }
                self.sites.insert(label.to_string(), Arc::new(site));
                self.site_errors.remove(label);
            }
            Err(e) => {
                for p in &e.problems {
                    tracing::error!(site = label, "{p}");
                }
                let kept =
                    if previous.is_some() { "the last good version stays online" } else { "the site is not served" };
                tracing::error!(site = label, "site has {} problem(s); {kept}", e.problems.len());
                self.site_errors.insert(label.to_string(), e.problems);
            }
        }
    }

    /// Load the themes from their folder, logging what does not load.
    pub fn load_themes(&mut self, config: &Config) {
        let (themes, errors) = ThemeSet::load(&config.themes_dir);
        self.themes = themes;
        self.theme_errors = errors;
        self.themes_version += 1;
        for e in &self.theme_errors {
            tracing::error!("{e}");
        }
    }

    /// Reload the themes and rebuild every site (a theme changed).
    pub fn reload_themes(&mut self, config: &Config) {
        self.load_themes(config);
        let labels: Vec<String> = site::list_folders(&config.tenants_dir);
        for label in labels {
            self.rebuild_site(config, &label);
        }
    }
}

/// Members as the site folders describe them, all active: for development and for the
/// first import into an empty registry.
pub fn members_from_sites(sources: &Sources) -> Vec<Member> {
    sources
        .sites
        .values()
        .map(|s| {
            let c = &s.config;
            Member {
                label: c.label.clone(),
                name_vi: c.name_vi.clone(),
                name_en: c.name_en.clone(),
                membership: c.membership,
                status: Status::Active,
                own_domains: c.own_domains.clone(),
                aliases: c.aliases.clone(),
                canonical: c.canonical.clone(),
                servers: Vec::new(),
            }
        })
        .collect()
}

/// Build a snapshot from the sources. The platform pages (directory, status pages, theme
/// files, each compressed) are taken from `previous` when neither the members nor the
/// themes changed since: an edit to one site re-renders that site only.
pub fn assemble(
    config: &Config,
    sources: &Sources,
    generation: u64,
    previous: Option<&Snapshot>,
) -> Result<Snapshot, String> {
    let pages = match previous {
        Some(p) if p.themes_version == sources.themes_version && p.members == sources.members => p.pages.clone(),
        _ => Arc::new(PlatformPages::render(&sources.themes, &sources.platform, &sources.members, scheme(config))?),
    };
    Ok(Snapshot {
        routes: RouteTable::build(&config.platform.zone, &sources.members),
        sites: sources.sites.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        pages,
        members: sources.members.clone(),
        site_errors: sources.site_errors.clone(),
        theme_errors: sources.theme_errors.clone(),
        generation,
        themes_version: sources.themes_version,
    })
}

/// The live state of a running server: the published snapshot and the sources behind it.
pub struct Live {
    pub config: Config,
    snapshot: ArcSwap<Snapshot>,
    sources: Mutex<Sources>,
    generation: AtomicU64,
}

impl Live {
    /// Assemble the first snapshot.
    pub fn new(config: Config, sources: Sources) -> Result<Live, String> {
        let first = assemble(&config, &sources, 1, None)?;
        Ok(Live {
            config,
            snapshot: ArcSwap::from_pointee(first),
            sources: Mutex::new(sources),
            generation: AtomicU64::new(1),
        })
    }

    /// The current snapshot; cheap, lock-free.
    #[inline]
    pub fn snapshot(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.snapshot.load()
    }

    /// Change the sources with `f`, then publish a new snapshot. Serialised: two updates
    /// never interleave. When the platform pages fail to render, the old snapshot stays.
    pub fn update<R>(&self, f: impl FnOnce(&mut Sources) -> R) -> R {
        let mut sources = self.sources.lock().unwrap_or_else(|p| p.into_inner());
        let out = f(&mut sources);
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let previous = self.snapshot.load_full();
        match assemble(&self.config, &sources, generation, Some(&previous)) {
            Ok(snap) => self.snapshot.store(Arc::new(snap)),
            Err(e) => tracing::error!("{e}; keeping the previous version"),
        }
        out
    }
}

/// Read the registry's members and publish them (off the async threads).
pub async fn refresh_members(live: &Arc<Live>, registry: &Arc<Mutex<crate::registry::Registry>>) {
    let registry = registry.clone();
    let members =
        tokio::task::spawn_blocking(move || registry.lock().unwrap_or_else(|p| p.into_inner()).members()).await;
    match members {
        Ok(Ok(members)) => {
            let changed = live.snapshot().members != members;
            if changed {
                live.update(|s| s.members = members);
            }
        }
        Ok(Err(e)) => tracing::error!("reading the registry: {e}; serving the last known members"),
        Err(e) => tracing::error!("reading the registry: {e}"),
    }
}

/// Follow registry changes made by any process (the CLI, another server): poll SQLite's
/// cheap change marker and republish the routing when it moves.
pub async fn follow_registry(
    live: Arc<Live>,
    registry: Arc<Mutex<crate::registry::Registry>>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let every = std::time::Duration::from_millis(live.config.registry_poll_ms);
    let mut last = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        let r = registry.clone();
        let marker =
            tokio::task::spawn_blocking(move || r.lock().unwrap_or_else(|p| p.into_inner()).change_marker()).await;
        match marker {
            Ok(Ok(m)) if Some(m) != last => {
                last = Some(m);
                refresh_members(&live, &registry).await;
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!("polling the registry: {e}"),
            Err(e) => tracing::warn!("polling the registry: {e}"),
        }
    }
}
