//! Hot reload: watch `tenants/` and `themes/` (notify), sort each event into a
//! [`ChangeKind`] by its path, drop editor temp files, and gather changes into a [`Plan`]
//! (which sites to rebuild, whether themes reload, or a full rescan) until the folders have
//! been quiet for the debounce window ([`Pending`]). The plan goes to the publisher, which
//! builds off the request path and publishes.

use crate::control::publisher::{Change, Publisher};
use crate::model::config::Config;
use notify::{RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Component, Path};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
    if crate::content::files::is_editor_temp(&name) || name.starts_with('.') {
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

/// Changes gathered since the folders were last quiet. A batch is applied only once no
/// change has arrived for the whole debounce window, across every path: a rebuild started
/// while another file is mid-save (an in-place save truncates, then writes) would publish
/// that file half written. A folder that never goes quiet is still applied after
/// [`Pending::max_wait`], so steady writing cannot hold every edit back.
#[derive(Debug)]
pub struct Pending {
    pub plan: Plan,
    quiet: Duration,
    max_wait: Duration,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl Pending {
    pub fn new(quiet: Duration) -> Pending {
        Pending { plan: Plan::default(), quiet, max_wait: (quiet * 10).max(MAX_WAIT_FLOOR), first: None, last: None }
    }

    /// Record that `plan`'s changes were seen at `now`.
    pub fn add(&mut self, now: Instant, plan: Plan) {
        if plan.is_empty() {
            return;
        }
        self.plan.sites.extend(plan.sites);
        self.plan.themes.extend(plan.themes);
        self.plan.rescan |= plan.rescan;
        self.first.get_or_insert(now);
        self.last = Some(now);
    }

    /// How long to wait from `now` before the batch is due; `None` when nothing is pending.
    pub fn wait(&self, now: Instant) -> Option<Duration> {
        let (first, last) = (self.first?, self.last?);
        let due = (last + self.quiet).min(first + self.max_wait);
        Some(due.saturating_duration_since(now))
    }

    /// The batch, when it is due at `now`; the pending state starts over.
    pub fn take_due(&mut self, now: Instant) -> Option<Plan> {
        if self.wait(now)? > Duration::ZERO {
            return None;
        }
        self.first = None;
        self.last = None;
        Some(std::mem::take(&mut self.plan))
    }
}

/// The longest a change waits for the folders to go quiet, for short debounce windows.
const MAX_WAIT_FLOOR: Duration = Duration::from_secs(1);

/// Watch the folders on a thread of its own until `stop` is dropped. Returns at once; the
/// thread adds the watches first (a second or two for 10,000 sites, one per folder, which
/// must not hold up serving) and then sends on `watching` (an error: nothing is watched).
pub fn spawn(
    config: &Config,
    publisher: Publisher,
    stop: mpsc::Receiver<()>,
    watching: mpsc::Sender<notify::Result<()>>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let quiet = Duration::from_millis(config.debounce_ms.max(10));
    // Events name paths under the folder as watched; a symlinked root must not be
    // resolved, or no event would classify.
    let (tenants, themes) = (config.tenants_dir.clone(), config.themes_dir.clone());
    std::thread::Builder::new().name("cong-watch".into()).spawn(move || {
        let (tx, rx) = mpsc::channel::<notify::Result<notify::Event>>();
        let added = notify::recommended_watcher(move |event| {
            // The receiver is gone only when the watch thread has stopped.
            let _ = tx.send(event);
        })
        .and_then(|mut watcher| {
            for dir in [&tenants, &themes] {
                if dir.is_dir() {
                    watcher.watch(dir, RecursiveMode::Recursive)?;
                } else {
                    tracing::warn!("{} does not exist; not watching it", dir.display());
                }
            }
            Ok(watcher)
        });
        let _keep = match added {
            Ok(watcher) => {
                let _ = watching.send(Ok(()));
                watcher
            }
            Err(e) => {
                let _ = watching.send(Err(e));
                return;
            }
        };
        let mut pending = Pending::new(quiet);
        loop {
            if !matches!(stop.try_recv(), Err(mpsc::TryRecvError::Empty)) {
                return;
            }
            // Wake for the next event, when the batch is due, or to look at `stop`.
            let timeout = pending.wait(Instant::now()).unwrap_or(STOP_POLL).min(STOP_POLL);
            match rx.recv_timeout(timeout) {
                Ok(event) => {
                    let mut plan = Plan::default();
                    add_event(&mut plan, event, &tenants, &themes);
                    // Take whatever else is already queued in one go.
                    while let Ok(more) = rx.try_recv() {
                        add_event(&mut plan, more, &tenants, &themes);
                    }
                    pending.add(Instant::now(), plan);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
            if let Some(plan) = pending.take_due(Instant::now()) {
                tracing::debug!(?plan, "sending changes to the publisher");
                publisher.send(Change::Rebuild(plan));
            }
        }
    })
}

/// How often the watch thread looks whether it should stop.
const STOP_POLL: Duration = Duration::from_millis(100);

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

fn add_event(plan: &mut Plan, event: notify::Result<notify::Event>, tenants: &Path, themes: &Path) {
    match event {
        Ok(event) => {
            if event.need_rescan() {
                tracing::warn!("file watcher: events were lost; rescanning everything");
                plan.rescan = true;
            }
            if !changes_content(&event.kind) {
                return;
            }
            for path in &event.paths {
                if let Some(change) = classify(path, tenants, themes) {
                    plan.add(change);
                }
            }
        }
        Err(e) => {
            // Lost events (queue overflow, watch limits): only a full rescan is safe.
            tracing::warn!("file watcher: {e}; rescanning everything");
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

    fn site(label: &str) -> Plan {
        let mut plan = Plan::default();
        plan.add(ChangeKind::SiteContent(label.into()));
        plan
    }

    #[test]
    fn a_batch_waits_until_every_path_is_quiet() {
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        let mut pending = Pending::new(ms(200));
        assert_eq!(pending.wait(t0), None, "nothing pending");
        pending.add(t0, site("ais"));
        assert_eq!(pending.wait(t0), Some(ms(200)));
        // Another file changes inside the window: the window starts again from it.
        pending.add(t0 + ms(150), site("cbc"));
        assert_eq!(pending.take_due(t0 + ms(200)), None, "cbc changed 50 ms ago");
        assert_eq!(pending.wait(t0 + ms(200)), Some(ms(150)));
        let plan = pending.take_due(t0 + ms(350)).expect("quiet for 200 ms");
        assert_eq!(plan.sites.iter().collect::<Vec<_>>(), ["ais", "cbc"]);
        assert_eq!(pending.wait(t0 + ms(350)), None, "started over");
        // Empty plans (reads, temp files) do not hold a batch back.
        pending.add(t0 + ms(400), site("ais"));
        pending.add(t0 + ms(550), Plan::default());
        assert!(pending.take_due(t0 + ms(600)).is_some());
    }

    /// Lost events as notify reports them: the inotify queue overflowed (an event of kind
    /// `Other` flagged `Rescan`, with no path), a flagged event of any kind, or an error from
    /// the watcher. Any of them means a change may never be reported: a full rescan.
    #[test]
    fn lost_events_ask_for_a_full_rescan() {
        use notify::event::{AccessKind, AccessMode, EventKind, Flag, ModifyKind};
        let (t, th) = (Path::new("/srv/tenants"), Path::new("/srv/themes"));
        let article = std::path::PathBuf::from("/srv/tenants/ais/content/a.md");
        let lost: Vec<(&str, notify::Result<notify::Event>)> = vec![
            ("queue overflow", Ok(notify::Event::new(EventKind::Other).set_flag(Flag::Rescan))),
            (
                "a flagged read",
                Ok(notify::Event::new(EventKind::Access(AccessKind::Open(AccessMode::Read)))
                    .add_path(article.clone())
                    .set_flag(Flag::Rescan)),
            ),
            ("watcher error", Err(notify::Error::generic("inotify watch limit reached"))),
        ];
        for (what, event) in lost {
            let mut plan = Plan::default();
            add_event(&mut plan, event, t, th);
            assert!(plan.rescan && !plan.is_empty(), "{what}: {plan:?}");
        }
        // An ordinary event names its site and asks for no rescan.
        let mut plan = Plan::default();
        add_event(&mut plan, Ok(notify::Event::new(EventKind::Modify(ModifyKind::Any)).add_path(article)), t, th);
        assert!(!plan.rescan, "{plan:?}");
        assert_eq!(plan.sites.iter().collect::<Vec<_>>(), ["ais"]);

        // The rescan outlives the batch it arrived in, up to the plan the publisher gets.
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        let mut pending = Pending::new(ms(50));
        let mut lost = Plan::default();
        add_event(&mut lost, Err(notify::Error::generic("lost")), t, th);
        pending.add(t0, lost);
        pending.add(t0 + ms(10), site("cbc"));
        let plan = pending.take_due(t0 + ms(60)).expect("quiet for 50 ms");
        assert!(plan.rescan && plan.sites.contains("cbc"), "{plan:?}");
    }

    #[test]
    fn a_folder_that_never_goes_quiet_is_still_applied() {
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        let mut pending = Pending::new(ms(50));
        let mut applied = Vec::new();
        // A change every 30 ms for 3 s: never 50 ms of quiet.
        for step in 0..100u64 {
            let now = t0 + ms(step * 30);
            pending.add(now, site("ais"));
            if pending.take_due(now).is_some() {
                applied.push(step * 30);
            }
        }
        // Due 1 s after the first change of each batch (0 ms, then 1050 ms).
        assert_eq!(applied, [1020, 2070], "applied at the 1 s cap, twice");
    }
}
