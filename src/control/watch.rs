//! Hot reload: watch `tenants/` and `themes/` (inotify), sort each event into a
//! [`ChangeKind`] by its path, drop editor temp files, and gather changes into a [`Plan`]
//! (which sites to rebuild, whether themes reload, or a full rescan) until the folders have
//! been quiet for the debounce window ([`Pending`]). The plan goes to the publisher, which
//! builds off the request path and publishes.

use crate::control::publisher::{Change, Publisher};
use crate::model::config::Config;
use rustix::fs::inotify::{self, ReadFlags, WatchFlags};
use std::collections::{BTreeSet, HashMap};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
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
/// thread adds the watches first (one per folder, about half a second for 10,000 sites,
/// which must not hold up serving) and then sends on `watching` (an error: nothing is
/// watched).
pub fn spawn(
    config: &Config,
    publisher: Publisher,
    stop: mpsc::Receiver<()>,
    watching: mpsc::Sender<std::io::Result<()>>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let quiet = Duration::from_millis(config.debounce_ms.max(10));
    // Events name paths under the folder as watched; a symlinked root must not be
    // resolved, or no event would classify.
    let (tenants, themes) = (config.tenants_dir.clone(), config.themes_dir.clone());
    std::thread::Builder::new().name("cong-watch".into()).spawn(move || {
        let mut tree = match Tree::new() {
            Ok(tree) => tree,
            Err(e) => {
                let _ = watching.send(Err(e));
                return;
            }
        };
        for dir in [&tenants, &themes] {
            if !dir.is_dir() {
                tracing::warn!("{} does not exist; not watching it", dir.display());
            } else if let Err(e) = tree.add(dir, true) {
                let _ = watching.send(Err(std::io::Error::new(e.kind(), format!("{}: {e}", dir.display()))));
                return;
            }
        }
        let _ = watching.send(Ok(()));
        let mut pending = Pending::new(quiet);
        let mut buf = vec![std::mem::MaybeUninit::<u8>::uninit(); 64 * 1024];
        loop {
            if !matches!(stop.try_recv(), Err(mpsc::TryRecvError::Empty)) {
                return;
            }
            // Wake for the next event, when the batch is due, or to look at `stop`.
            let timeout = pending.wait(Instant::now()).unwrap_or(STOP_POLL).min(STOP_POLL);
            let mut plan = Plan::default();
            match tree.wait(timeout) {
                Ok(true) => {
                    // Everything queued in one go.
                    for change in tree.read(&mut buf) {
                        change.add_to(&mut plan, &tenants, &themes);
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::error!("file watcher: {e}; edits need SIGHUP or a restart");
                    return;
                }
            }
            pending.add(Instant::now(), plan);
            if let Some(plan) = pending.take_due(Instant::now()) {
                tracing::debug!(?plan, "sending changes to the publisher");
                publisher.send(Change::Rebuild(plan));
            }
        }
    })
}

/// How often the watch thread looks whether it should stop.
const STOP_POLL: Duration = Duration::from_millis(100);

/// What a watch reports: only what changes what is served (writes, creations, removals,
/// renames, permissions). Not opens or reads: a build reads every file of a site, so at
/// 10,000 sites a start's reads alone overflowed the kernel's queue (16,384 events) and
/// forced a full rescan, and a rebuild's reads must never look like edits. (The `notify`
/// crate this replaces watches opens, with no way to turn them off.)
fn mask() -> WatchFlags {
    WatchFlags::CREATE
        | WatchFlags::DELETE
        | WatchFlags::MODIFY
        | WatchFlags::CLOSE_WRITE
        | WatchFlags::MOVED_FROM
        | WatchFlags::MOVED_TO
        | WatchFlags::ATTRIB
        | WatchFlags::DELETE_SELF
        | WatchFlags::MOVE_SELF
        | WatchFlags::ONLYDIR
}

/// A hidden name (`.git`): never content, so a folder of that name is not watched.
fn hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().starts_with(b".")
}

/// One inotify instance watching folder trees: a watch per folder (inotify is not
/// recursive), added again under a folder created or moved in, dropped with a folder gone.
struct Tree {
    fd: rustix::fd::OwnedFd,
    /// The folder of each watch, to name an event's path.
    dirs: HashMap<i32, PathBuf>,
}

/// What one event means to the plan.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// This path was created, written, removed, renamed or had its permissions changed.
    Changed(PathBuf),
    /// Events were lost (the queue overflowed, or a new folder could not be watched): only
    /// a full rescan is safe.
    Lost(String),
}

impl Seen {
    fn add_to(self, plan: &mut Plan, tenants: &Path, themes: &Path) {
        match self {
            Seen::Changed(path) => {
                if let Some(change) = classify(&path, tenants, themes) {
                    plan.add(change);
                }
            }
            Seen::Lost(why) => {
                tracing::warn!("file watcher: {why}; rescanning everything");
                plan.rescan = true;
            }
        }
    }
}

impl Tree {
    fn new() -> std::io::Result<Tree> {
        let fd = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)?;
        Ok(Tree { fd, dirs: HashMap::new() })
    }

    /// Watch `dir` and every folder under it, skipping hidden ones (`.git`: nothing a build
    /// reads) and symbolic links (the builds refuse them). `root` follows a symlinked root.
    fn add(&mut self, dir: &Path, root: bool) -> std::io::Result<()> {
        let mut stack = vec![dir.to_path_buf()];
        let mut first = true;
        while let Some(dir) = stack.pop() {
            let flags = if first && root { mask() } else { mask() | WatchFlags::DONT_FOLLOW };
            first = false;
            match inotify::add_watch(&self.fd, &dir, flags) {
                Ok(wd) => {
                    self.dirs.insert(wd, dir.clone());
                }
                // Gone, or replaced by a file or a link, since it was listed.
                Err(rustix::io::Errno::NOENT | rustix::io::Errno::NOTDIR | rustix::io::Errno::LOOP) if !root => {
                    continue
                }
                Err(e) => return Err(e.into()),
            }
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            for entry in entries.flatten() {
                if !hidden(&entry.file_name()) && entry.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(entry.path());
                }
            }
        }
        Ok(())
    }

    /// Stop watching `dir` and the folders under it (moved away: a watch follows the
    /// folder, so its events would name the old path).
    fn remove(&mut self, dir: &Path) {
        let gone: Vec<i32> = self.dirs.iter().filter(|(_, d)| d.starts_with(dir)).map(|(wd, _)| *wd).collect();
        for wd in gone {
            self.dirs.remove(&wd);
            let _ = inotify::remove_watch(&self.fd, wd);
        }
    }

    /// Wait up to `timeout` for events; `true` when there are some.
    fn wait(&self, timeout: Duration) -> std::io::Result<bool> {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let timeout = Timespec {
            tv_sec: i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
            tv_nsec: i64::from(timeout.subsec_nanos()),
        };
        match poll(&mut [PollFd::new(&self.fd, PollFlags::IN)], Some(&timeout)) {
            Ok(n) => Ok(n > 0),
            Err(rustix::io::Errno::INTR) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Read every queued event, keeping the watches in step with the folders.
    fn read(&mut self, buf: &mut [std::mem::MaybeUninit<u8>]) -> Vec<Seen> {
        let mut raw = Vec::new();
        let mut reader = inotify::Reader::new(&self.fd, buf);
        loop {
            match reader.next() {
                Ok(event) => raw.push((
                    event.wd(),
                    event.events(),
                    event.file_name().map(|n| std::ffi::OsStr::from_bytes(n.to_bytes()).to_os_string()),
                )),
                Err(rustix::io::Errno::INTR) => continue,
                // EAGAIN: the queue is empty.
                Err(_) => break,
            }
        }
        let mut seen = Vec::new();
        for (wd, flags, name) in raw {
            if flags.contains(ReadFlags::QUEUE_OVERFLOW) {
                seen.push(Seen::Lost("the event queue overflowed".into()));
                continue;
            }
            if flags.contains(ReadFlags::IGNORED) {
                self.dirs.remove(&wd);
                continue;
            }
            let Some(dir) = self.dirs.get(&wd) else { continue };
            let path = match name {
                Some(name) => dir.join(name),
                None => dir.clone(),
            };
            if flags.contains(ReadFlags::ISDIR) {
                if flags.contains(ReadFlags::MOVED_FROM) {
                    self.remove(&path);
                }
                if flags.intersects(ReadFlags::CREATE | ReadFlags::MOVED_TO) && !path.file_name().is_some_and(hidden) {
                    if let Err(e) = self.add(&path, false) {
                        seen.push(Seen::Lost(format!("cannot watch {} ({e})", path.display())));
                    }
                }
            }
            seen.push(Seen::Changed(path));
        }
        seen
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

    /// Everything queued on `tree` within a second of the first event.
    fn seen(tree: &mut Tree) -> Vec<Seen> {
        let mut buf = vec![std::mem::MaybeUninit::<u8>::uninit(); 64 * 1024];
        let mut all = Vec::new();
        let until = Instant::now() + Duration::from_secs(1);
        while Instant::now() < until {
            if tree.wait(Duration::from_millis(50)).unwrap() {
                all.extend(tree.read(&mut buf));
            } else if !all.is_empty() {
                break;
            }
        }
        all
    }

    fn changed(seen: &[Seen]) -> BTreeSet<PathBuf> {
        seen.iter().filter_map(|s| if let Seen::Changed(p) = s { Some(p.clone()) } else { None }).collect()
    }

    /// The real kernel: writes, new folders (watched at once, down to their subfolders),
    /// removals and renames are seen with their paths; reading a file is not an event; a
    /// folder moved away is no longer watched; hidden folders are not watched.
    #[test]
    fn the_watch_sees_changes_and_not_reads() {
        let root = tempfile::tempdir().unwrap();
        let tenants = root.path().join("tenants");
        std::fs::create_dir_all(tenants.join("ais/content")).unwrap();
        std::fs::create_dir_all(tenants.join("ais/.git")).unwrap();
        std::fs::write(tenants.join("ais/content/a.md"), "a").unwrap();
        let mut tree = Tree::new().unwrap();
        tree.add(&tenants, true).unwrap();
        assert_eq!(tree.dirs.len(), 3, "tenants, ais, ais/content; not .git: {:?}", tree.dirs);

        assert!(std::fs::read(tenants.join("ais/content/a.md")).is_ok());
        std::fs::write(tenants.join("ais/.git/index"), "x").unwrap();
        assert!(!tree.wait(Duration::from_millis(200)).unwrap(), "a read and a hidden folder: no event");

        std::fs::write(tenants.join("ais/content/a.md"), "b").unwrap();
        assert_eq!(changed(&seen(&mut tree)), BTreeSet::from([tenants.join("ais/content/a.md")]));

        // A new site folder, made as `cong new` or a copy would: its subfolders are watched.
        std::fs::create_dir_all(tenants.join("vpc/content/tin-tuc")).unwrap();
        let got = changed(&seen(&mut tree));
        assert!(got.contains(&tenants.join("vpc")), "{got:?}");
        std::fs::write(tenants.join("vpc/content/tin-tuc/b.md"), "b").unwrap();
        assert_eq!(changed(&seen(&mut tree)), BTreeSet::from([tenants.join("vpc/content/tin-tuc/b.md")]));

        // Renamed within the tree: events name the new path.
        std::fs::rename(tenants.join("vpc"), tenants.join("cbc")).unwrap();
        let got = changed(&seen(&mut tree));
        assert!(got.contains(&tenants.join("vpc")) && got.contains(&tenants.join("cbc")), "{got:?}");
        std::fs::write(tenants.join("cbc/content/tin-tuc/b.md"), "c").unwrap();
        assert_eq!(changed(&seen(&mut tree)), BTreeSet::from([tenants.join("cbc/content/tin-tuc/b.md")]));

        // Moved out of the tree: its later events are not the tree's.
        std::fs::rename(tenants.join("cbc"), root.path().join("away")).unwrap();
        assert_eq!(changed(&seen(&mut tree)), BTreeSet::from([tenants.join("cbc")]));
        std::fs::write(root.path().join("away/content/tin-tuc/b.md"), "d").unwrap();
        assert!(changed(&seen(&mut tree)).is_empty());

        // Removed: seen, and its watches dropped.
        std::fs::remove_dir_all(tenants.join("ais")).unwrap();
        let got = changed(&seen(&mut tree));
        assert!(got.contains(&tenants.join("ais")), "{got:?}");
        assert_eq!(tree.dirs.len(), 1, "only tenants/ is left: {:?}", tree.dirs);
    }

    /// More events than the kernel queues at once: the overflow asks for a full rescan, and
    /// the rescan outlives the batch it arrived in, up to the plan the publisher gets.
    #[test]
    fn lost_events_ask_for_a_full_rescan() {
        let root = tempfile::tempdir().unwrap();
        let mut tree = Tree::new().unwrap();
        tree.add(root.path(), true).unwrap();
        let queued: usize = std::fs::read_to_string("/proc/sys/fs/inotify/max_queued_events")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(16384);
        // Each file is two events (created, closed after writing).
        for i in 0..queued / 2 + 100 {
            std::fs::File::create(root.path().join(format!("{i}.md"))).unwrap();
        }
        let seen = seen(&mut tree);
        assert!(seen.iter().any(|s| matches!(s, Seen::Lost(_))), "{} events, no overflow", seen.len());

        let (t, th) = (Path::new("/srv/tenants"), Path::new("/srv/themes"));
        let mut plan = Plan::default();
        Seen::Changed("/srv/tenants/ais/content/a.md".into()).add_to(&mut plan, t, th);
        assert!(!plan.rescan, "{plan:?}");
        assert_eq!(plan.sites.iter().collect::<Vec<_>>(), ["ais"]);
        let ms = Duration::from_millis;
        let t0 = Instant::now();
        let mut pending = Pending::new(ms(50));
        let mut lost = Plan::default();
        Seen::Lost("the event queue overflowed".into()).add_to(&mut lost, t, th);
        assert!(lost.rescan && !lost.is_empty());
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
