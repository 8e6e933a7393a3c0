//! The contract between the planes. What the serving side reads: one immutable
//! [`Snapshot`] (routing table, sites, platform pages) behind [`Live`], swapped in whole by
//! the publisher (`control::publisher`), so a request sees one whole version and never a
//! half-updated one. [`Sources`] are the inputs a snapshot is assembled from; the snapshot
//! keeps them, so the publisher can always start again from what is live.

pub mod certs;
pub mod routes;

use crate::content::platform::PlatformPages;
use crate::content::site::notice::{banner_for, Banner};
use crate::content::site::services::Listed;
use crate::content::site::{self, BuildInput, Site};
use crate::content::theme::ThemeSet;
use crate::model::config::{Config, Platform, TlsMode};
use crate::model::dossier::Dossier;
use crate::model::escape::Escaped;
use crate::model::label::Label;
use crate::model::member::{Member, Status};
use crate::model::problem::Problem;
use crate::model::FastMap;
use crate::snapshot::routes::RouteTable;
use arc_swap::ArcSwap;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// One complete, validated version of everything a request needs.
#[derive(Debug)]
pub struct Snapshot {
    /// Shared with the previous snapshot while the members are the same.
    pub routes: Arc<RouteTable>,
    /// Label → site, only for members whose site built.
    pub sites: FastMap<String, Arc<Site>>,
    /// The same sites by [`Label::id`], for the request path ([`Snapshot::served`]).
    sites_by_label: Vec<Option<Served>>,
    pub pages: Arc<PlatformPages>,
    pub members: Vec<Member>,
    /// Label → problems of a site folder that is not served (or served at its last good version).
    pub site_errors: BTreeMap<String, Vec<Problem>>,
    pub theme_errors: Vec<String>,
    /// Increases with every published snapshot.
    pub generation: u64,
    /// The [`Sources::themes_version`] the platform pages were rendered from.
    themes_version: u64,
    /// The themes and platform names the sites and pages were rendered with.
    pub themes: Arc<ThemeSet>,
    pub platform: Platform,
    /// Sites not built yet since the server started: they answer 503 with `Retry-After: 1`
    /// meanwhile. Empty once every first build has finished.
    pub pending: Arc<BTreeSet<String>>,
    /// Label → the dossiers its case system published (docs/services.md).
    pub dossiers: Arc<BTreeMap<String, Arc<SiteDossiers>>>,
    /// Every active unit's online public services, for the apex's `/dich-vu-cong/`.
    pub services: Arc<Vec<Listed>>,
}

impl Snapshot {
    /// The built site of the member a route names: an index, not a hash lookup.
    #[inline]
    pub fn site(&self, label: &Label) -> Option<&Arc<Site>> {
        Some(&self.served(label)?.site)
    }

    /// [`Snapshot::site`] with a copy of its paths' header beside it.
    #[inline]
    pub fn served(&self, label: &Label) -> Option<&Served> {
        self.sites_by_label.get(label.id())?.as_ref()
    }
}

/// A built site as the request path finds it: its paths first, a copy of the site's own
/// (the slots are shared), so that a request reaches a page from this dense array without
/// reading the `Site`, one more place in memory that at 10,000 sites is seldom in the CPU's
/// caches (issue #13, flatness). Aligned to its size, so that none of them spans two cache
/// lines (on the allocator's 16 bytes, every other one did).
#[derive(Debug, Clone)]
#[repr(align(32))]
pub struct Served {
    pub paths: crate::content::site::Paths,
    pub site: Arc<Site>,
}

const _: () = assert!(std::mem::size_of::<Option<Served>>() == 32, "two to a cache line, none across two");

/// One site's published dossiers, by code.
#[derive(Debug, Default)]
pub struct SiteDossiers {
    pub by_code: HashMap<String, Dossier>,
}

impl SiteDossiers {
    pub fn new(dossiers: Vec<Dossier>) -> SiteDossiers {
        SiteDossiers { by_code: dossiers.into_iter().map(|d| (d.code.clone(), d)).collect() }
    }
}

/// The inputs a snapshot is assembled from, kept to rebuild only what changed.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    pub themes: Arc<ThemeSet>,
    pub theme_errors: Vec<String>,
    /// Label → last good build of each site folder.
    pub sites: BTreeMap<String, Arc<Site>>,
    /// Label → why the folder's current state does not build.
    pub site_errors: BTreeMap<String, Vec<Problem>>,
    /// The members, from the registry.
    pub members: Vec<Member>,
    /// Bumped each time the themes are loaded, so a snapshot knows whether the platform
    /// pages it would inherit were rendered from the current ones.
    pub themes_version: u64,
    /// `[platform]` as pages show it: the running configuration's, with the display names
    /// SIGHUP re-read from cong.toml.
    pub platform: Platform,
    /// Sites whose first build since the start has not finished (see [`Snapshot::pending`]).
    pub pending: Arc<BTreeSet<String>>,
    /// Label → the banner its site was (or is being) built with.
    pub banners: BTreeMap<String, Banner>,
    /// See [`Snapshot::dossiers`].
    pub dossiers: Arc<BTreeMap<String, Arc<SiteDossiers>>>,
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
    /// The themes only, every served site folder pending: what a server starts serving
    /// with, before its sites are built (the publisher builds them; requests for them get
    /// 503 with `Retry-After: 1` until then, never a wait). Members are set by the caller.
    pub fn starting(config: &Config) -> Sources {
        let mut sources = Sources { platform: config.platform.clone(), ..Sources::default() };
        sources.load_themes(config);
        sources.pending = Arc::new(served_labels(config).into_iter().collect());
        sources
    }

    /// Load every theme and every site folder; members are set by the caller.
    pub fn load(config: &Config) -> Sources {
        let mut sources = Sources { platform: config.platform.clone(), ..Sources::default() };
        sources.load_themes(config);
        for label in served_labels(config) {
            sources.rebuild_site(config, &label);
        }
        sources
    }

    /// Rebuild one site from its folder and record the outcome (see [`build_site`]).
    pub fn rebuild_site(&mut self, config: &Config, label: &str) {
        let previous = self.sites.get(label).cloned();
        let banner = self.banners.get(label);
        let outcome = build_site(config, label, &self.themes, &self.platform, previous.as_ref(), banner);
        self.record(label, outcome);
    }

    /// Take `members`, and work out the banner each site carries at `now`; returns the
    /// sites whose banner changed (to be rebuilt).
    pub fn set_members(&mut self, members: Vec<Member>, now: i64) -> Vec<String> {
        self.members = members;
        self.refresh_banners(now)
    }

    /// The banners at `now` (a window may have ended); the sites whose banner changed.
    pub fn refresh_banners(&mut self, now: i64) -> Vec<String> {
        let banners = banners_at(&self.members, now);
        let changed: BTreeSet<String> = banners
            .iter()
            .filter(|(l, b)| self.banners.get(*l) != Some(b))
            .map(|(l, _)| l.clone())
            .chain(self.banners.keys().filter(|l| !banners.contains_key(*l)).cloned())
            .collect();
        self.banners = banners;
        changed.into_iter().collect()
    }

    /// When the next banner will change by itself: the end of the earliest window.
    pub fn next_banner_change(&self, now: i64) -> Option<i64> {
        self.members.iter().filter_map(|m| m.maintenance.as_ref()).map(|w| w.until).filter(|u| *u > now).min()
    }

    /// Take a build's outcome: a good build replaces the site; on failure the last good
    /// build stays and the problems are recorded; a folder that is gone removes the site.
    pub fn record(&mut self, label: &str, outcome: BuildOutcome) {
        if self.pending.contains(label) {
            Arc::make_mut(&mut self.pending).remove(label);
        }
        match outcome {
            BuildOutcome::Gone => {
                self.sites.remove(label);
                self.site_errors.remove(label);
            }
            BuildOutcome::Built(site) => {
                for w in &site.warnings {
                    tracing::warn!(site = %Escaped(label), "{}", Escaped(w));
                }
                // The editor safety net: served (cleaned) all the same, said once per build.
                for p in &site.lints {
                    tracing::warn!(site = %Escaped(label), "{}", Escaped(p));
                }
                self.sites.insert(label.to_string(), site);
                self.site_errors.remove(label);
            }
            BuildOutcome::Failed(problems) => {
                for p in &problems {
                    tracing::error!(site = %Escaped(label), "{}", Escaped(p));
                }
                let kept = if self.sites.contains_key(label) {
                    "the last good version stays online"
                } else {
                    "the site is not served"
                };
                tracing::error!(site = %Escaped(label), "site has {}; {kept}", crate::model::count(problems.len(), "problem", "problems"));
                self.site_errors.insert(label.to_string(), problems);
            }
        }
    }

    /// The sources a live snapshot was assembled from.
    pub fn of(snapshot: &Snapshot) -> Sources {
        Sources {
            themes: snapshot.themes.clone(),
            theme_errors: snapshot.theme_errors.clone(),
            sites: snapshot.sites.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            site_errors: snapshot.site_errors.clone(),
            members: snapshot.members.clone(),
            themes_version: snapshot.themes_version,
            platform: snapshot.platform.clone(),
            pending: snapshot.pending.clone(),
            banners: banners_at(&snapshot.members, crate::model::time::now_secs() as i64),
            dossiers: snapshot.dossiers.clone(),
        }
    }

    /// Load the themes from their folder, logging what does not load.
    pub fn load_themes(&mut self, config: &Config) {
        let (themes, errors) = ThemeSet::load(&config.themes_dir);
        self.set_themes(themes, errors);
    }

    /// Take newly loaded themes (and what did not load, which is logged).
    pub fn set_themes(&mut self, themes: ThemeSet, errors: Vec<String>) {
        self.themes = Arc::new(themes);
        self.theme_errors = errors;
        self.themes_version += 1;
        for e in &self.theme_errors {
            tracing::error!("{}", Escaped(e));
        }
    }

    /// Reload the themes and rebuild every site (a theme changed).
    pub fn reload_themes(&mut self, config: &Config) {
        self.load_themes(config);
        for label in served_labels(config) {
            self.rebuild_site(config, &label);
        }
    }
}

/// Label → the banner its pages carry at `now` (see `content::site::notice`).
pub fn banners_at(members: &[Member], now: i64) -> BTreeMap<String, Banner> {
    members.iter().filter_map(|m| Some((m.names.label.clone(), banner_for(m, now)?))).collect()
}

/// The sites there is something to build for: each published set under approval, each
/// site folder where approval does not apply (`[publishing]`).
pub fn served_labels(config: &Config) -> Vec<String> {
    let mut labels: Vec<String> = site::list_folders(&config.tenants_dir)
        .into_iter()
        .filter(|label| !config.approval_applies(label))
        .chain(site::list_folders(&config.published_dir()).into_iter().filter(|label| config.approval_applies(label)))
        .chain(site::list_folders(&config.archived_dir()))
        .collect();
    labels.sort();
    labels.dedup();
    labels
}

/// The names each served site folder declares in its `site.toml`, read without building
/// the site (a fresh data folder imports them while the sites are built behind). A folder
/// whose `site.toml` does not read or parse is left out; its build reports why.
pub fn folder_names(config: &Config) -> BTreeMap<String, crate::model::member::Names> {
    let mut names = BTreeMap::new();
    for label in served_labels(config) {
        if let Ok((_, _, parsed)) = site::open_config(&config.site_source(&label), &label) {
            names.insert(label, parsed.names);
        }
    }
    names
}

/// What building one site folder gave.
#[derive(Debug)]
pub enum BuildOutcome {
    /// The folder (or its `site.toml`) is gone: the site is dropped.
    Gone,
    Built(Arc<Site>),
    /// Why it does not build, one `file:line: message` each.
    Failed(Vec<Problem>),
}

/// Build the site `label` with `themes` from what it serves: its published set when
/// approval applies, else its folder (`Config::site_source`); `previous` lends its
/// unchanged responses. A site whose inputs hash as when it was last built is taken from
/// the build cache instead, and a good build is kept there (`content::site::cache`;
/// `Config::build_cache_file`). It reads the folder and the cache file, writes the cache
/// file, and nothing else: it runs on a build thread, outside any lock.
pub fn build_site(
    config: &Config,
    label: &str,
    themes: &ThemeSet,
    platform: &Platform,
    previous: Option<&Arc<Site>>,
    banner: Option<&Banner>,
) -> BuildOutcome {
    let dir = config.site_source(label);
    let cache = config.build_cache_file(label);
    if !dir.join("site.toml").is_file() {
        if let Some(cache) = &cache {
            let _ = std::fs::remove_file(cache);
        }
        return BuildOutcome::Gone;
    }
    let input = BuildInput {
        dir: &dir,
        themes,
        platform,
        scheme: scheme(config),
        previous: previous.map(|p| &**p),
        budget: config.limits.budget(),
        banner,
    };
    // The key first: files that change during the build give another key, never this one.
    let started = std::time::Instant::now();
    let Some(cache) = cache else { return build_input(&input) };
    let kept = site::cache::read(&cache);
    let key = site::cache::key(&input, kept.as_ref());
    // The inputs hash as when the served site was made (a rescan, a file touched, saved
    // unchanged): keep it, reading and allocating nothing.
    if let (Some(previous), Some(key)) = (previous, &key) {
        if previous.built_from == Some(key.hash()) {
            return BuildOutcome::Built(previous.clone());
        }
    }
    if let Some(site) = key.as_ref().zip(kept.as_ref()).and_then(|(k, kept)| site::cache::load(kept, k, &input)) {
        tracing::debug!(site = %site.label, pages = site.page_count, took_ms = started.elapsed().as_millis(), "taken from the build cache");
        return BuildOutcome::Built(Arc::new(site));
    }
    let mut outcome = build_input(&input);
    if let (BuildOutcome::Built(site), Some(key)) = (&mut outcome, key) {
        match site::cache::store(&cache, &key, site) {
            Ok(()) => {
                if let Some(site) = Arc::get_mut(site) {
                    site.built_from = Some(key.hash());
                }
            }
            Err(e) => {
                tracing::warn!(site = %site.label, "cannot keep the build in {}: {e}; the next start builds it again", cache.display())
            }
        }
    }
    outcome
}

/// [`build_site`] from the folder `dir` (its name is the label): a published set, a site
/// folder, or a submission's candidate being checked or previewed.
pub fn build_site_at(
    config: &Config,
    dir: &std::path::Path,
    themes: &ThemeSet,
    platform: &Platform,
    previous: Option<&Site>,
    banner: Option<&Banner>,
) -> BuildOutcome {
    if !dir.join("site.toml").is_file() {
        return BuildOutcome::Gone;
    }
    let input =
        BuildInput { dir, themes, platform, scheme: scheme(config), previous, budget: config.limits.budget(), banner };
    build_input(&input)
}

/// Build what `input` names (see [`build_site_at`]).
fn build_input(input: &BuildInput) -> BuildOutcome {
    let started = std::time::Instant::now();
    match site::build(input) {
        Ok(site) => {
            tracing::debug!(site = %site.label, pages = site.page_count, took_ms = started.elapsed().as_millis(), "built");
            BuildOutcome::Built(Arc::new(site))
        }
        Err(e) => BuildOutcome::Failed(e.problems),
    }
}

/// Members as the site folders describe them, all active: for development and for the
/// first import into an empty registry.
pub fn members_from_sites(sources: &Sources) -> Vec<Member> {
    sources
        .sites
        .values()
        .map(|s| Member { names: s.config.names.clone(), status: Status::Active, maintenance: None })
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
    let same_members = previous.is_some_and(|p| p.members == sources.members);
    let pages = match previous {
        Some(p) if p.themes_version == sources.themes_version && same_members => p.pages.clone(),
        _ => Arc::new(PlatformPages::render(&sources.themes, &sources.platform, &sources.members, scheme(config))?),
    };
    let routes = match previous {
        Some(p) if same_members => p.routes.clone(),
        _ => Arc::new(RouteTable::build(&config.platform.zone, &sources.members)),
    };
    let mut sites_by_label = Vec::new();
    let labels = Label::intern_all(sources.sites.keys().map(String::as_str));
    for (label, site) in labels.iter().zip(sources.sites.values()) {
        let id = label.id();
        if sites_by_label.len() <= id {
            sites_by_label.resize(id + 1, None);
        }
        sites_by_label[id] = Some(Served { paths: site.entries.clone(), site: site.clone() });
    }
    Ok(Snapshot {
        routes,
        sites: sources.sites.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        sites_by_label,
        pages,
        members: sources.members.clone(),
        site_errors: sources.site_errors.clone(),
        theme_errors: sources.theme_errors.clone(),
        generation,
        themes_version: sources.themes_version,
        themes: sources.themes.clone(),
        platform: sources.platform.clone(),
        pending: sources.pending.clone(),
        dossiers: sources.dossiers.clone(),
        services: Arc::new(listed_services(config, sources)),
    })
}

/// Every active unit's services with its name and host, by unit then code.
fn listed_services(config: &Config, sources: &Sources) -> Vec<Listed> {
    let mut listed = Vec::new();
    for m in sources.members.iter().filter(|m| m.status == Status::Active) {
        let Some(site) = sources.sites.get(&m.names.label) else { continue };
        let host = m.names.canonical.clone().unwrap_or_else(|| m.fourth_level(&config.platform.zone));
        for service in &site.services {
            listed.push(Listed {
                label: m.names.label.clone(),
                unit: m.names.name_vi.clone(),
                host: host.clone(),
                service: service.clone(),
            });
        }
    }
    listed.sort_by(|a, b| (&a.unit, &a.service.code).cmp(&(&b.unit, &b.service.code)));
    listed
}

/// The live state of a running server: the configuration and the published snapshot.
/// Only the publisher (`control::publisher`) stores a new snapshot; requests load it.
pub struct Live {
    pub config: Config,
    snapshot: ArcSwap<Snapshot>,
}

impl Live {
    /// Assemble the first snapshot.
    pub fn new(config: Config, sources: Sources) -> Result<Live, String> {
        let first = assemble(&config, &sources, 1, None)?;
        Ok(Live { config, snapshot: ArcSwap::from_pointee(first) })
    }

    /// The current snapshot; cheap, lock-free.
    #[inline]
    pub fn snapshot(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.snapshot.load()
    }

    /// The current snapshot as an owned `Arc`, to keep across an await or a thread.
    pub fn snapshot_arc(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Swap in a new snapshot (the publisher's job).
    pub fn store(&self, snapshot: Snapshot) {
        self.snapshot.store(Arc::new(snapshot));
    }
}
