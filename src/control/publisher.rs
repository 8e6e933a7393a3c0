//! The one publisher: it owns the sources behind the live snapshot and is the only writer
//! of [`Live`]. Every other writer (the file watcher, the registry follower, the admin API,
//! SIGHUP) sends it a [`Change`]. Site and theme builds run on a small pool of build
//! threads, outside any lock a request or the publisher needs; their outcomes come back as
//! messages. So a registry change is published at once, whatever is being built, and a
//! stuck build delays only its own site.
//!
//! The publisher is a thread of its own, not an async task: assembling a snapshot renders
//! and compresses the platform pages, work that must not sit on an async worker.

use crate::content::theme::ThemeSet;
use crate::control::watch::Plan;
use crate::model::config::{Config, Platform};
use crate::model::escape::Escaped;
use crate::model::member::Member;
use crate::model::problem::Problem;
use crate::snapshot::{assemble, build_site, BuildOutcome, Live, Sources};
use std::collections::{BTreeSet, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// What a writer asks of the publisher.
#[derive(Debug)]
pub enum Change {
    /// Rebuild the sites, themes or everything a plan names (the watcher, SIGHUP).
    Rebuild(Plan),
    /// The registry's members (the follower, the admin API).
    Members(Vec<Member>),
    /// `[platform]` display names re-read from cong.toml (SIGHUP); every page shows them,
    /// so every site is rebuilt.
    Platform(Platform),
    /// These sites' published sets were written out anew (an approval): build them.
    Published(Vec<String>),
    /// These sites' dossiers as now stored (a push, an import, by any process).
    Dossiers(std::collections::BTreeMap<String, Arc<crate::snapshot::SiteDossiers>>),
}

/// A message on the publisher's queue.
enum Msg {
    Change(Change, Option<oneshot::Sender<()>>),
    /// A site build finished on the pool.
    Site(String, BuildOutcome),
    /// The themes finished loading on the pool.
    Themes(ThemeSet, Vec<String>),
    Stop,
}

/// A handle for sending changes; cheap to clone, never blocks.
#[derive(Clone)]
pub struct Publisher {
    tx: Sender<Msg>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Publisher")
    }
}

impl Publisher {
    /// Start the publisher thread and its build pool, taking the live snapshot's sources as
    /// the starting point.
    pub fn spawn(live: Arc<Live>) -> std::io::Result<Publisher> {
        let (tx, rx) = mpsc::channel();
        let pool = Pool::spawn(build_threads(), tx.clone())?;
        let sources = Sources::of(&live.snapshot());
        let state = State::new(live, sources, pool);
        std::thread::Builder::new().name("cong-publish".into()).spawn(move || state.run(rx))?;
        Ok(Publisher { tx })
    }

    /// Send `change`; returns at once.
    pub fn send(&self, change: Change) {
        let _ = self.tx.send(Msg::Change(change, None));
    }

    /// Send `change` and wait until it is live: for members and names, the next snapshot;
    /// for rebuilds, until the builds it started (and any started since for the same
    /// sites) are published. Waits on a channel, never on a lock.
    pub async fn apply(&self, change: Change) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Change(change, Some(done))).is_ok() {
            let _ = wait.await;
        }
    }

    /// Stop the publisher. Builds in progress are abandoned, not waited for.
    pub fn stop(&self) {
        let _ = self.tx.send(Msg::Stop);
    }
}

/// How often finished site builds are published while others are still building, at the
/// most: with thousands of sites a snapshot takes long to put together, and the wait grows
/// to four times that, so publishing never takes more than a fifth of the builds' time.
const PUBLISH_EVERY: Duration = Duration::from_millis(100);

/// Two build threads at least, so one slow site never holds every other edit back; at most
/// four, so builds never crowd out the request path on a small machine.
fn build_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 4)
}

/// A job for the build pool.
enum Job {
    Site {
        config: Arc<Config>,
        label: String,
        themes: Arc<ThemeSet>,
        platform: Platform,
        previous: Option<Arc<crate::content::site::Site>>,
        banner: Option<Box<crate::content::site::notice::Banner>>,
    },
    Themes {
        config: Arc<Config>,
    },
}

/// Build threads taking jobs from one queue. A panic in a build is caught and reported as
/// that site's error.
struct Pool {
    jobs: Sender<Job>,
}

impl Pool {
    fn spawn(threads: usize, results: Sender<Msg>) -> std::io::Result<Pool> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let (queue, results) = (queue.clone(), results.clone());
            std::thread::Builder::new().name(format!("cong-build-{i}")).spawn(move || loop {
                // The lock is held only while taking a job, never while building.
                let job = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
                let Ok(job) = job else { return };
                if results.send(run_job(job)).is_err() {
                    return;
                }
            })?;
        }
        Ok(Pool { jobs })
    }

    fn submit(&self, job: Job) {
        let _ = self.jobs.send(job);
    }
}

fn run_job(job: Job) -> Msg {
    match job {
        Job::Site { config, label, themes, platform, previous, banner } => {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                build_site(&config, &label, &themes, &platform, previous.as_ref(), banner.as_deref())
            }))
            .unwrap_or_else(|panic| {
                let what = panic_text(&*panic);
                let problem = Problem::in_file(
                    &format!("tenants/{label}"),
                    format!("the build stopped on an internal error ({what})"),
                );
                BuildOutcome::Failed(vec![problem.fix("please report it; the last good version stays online")])
            });
            Msg::Site(label, outcome)
        }
        Job::Themes { config } => {
            let (themes, errors) =
                std::panic::catch_unwind(|| ThemeSet::load(&config.themes_dir)).unwrap_or_else(|panic| {
                    (
                        ThemeSet::default(),
                        vec![format!("themes: loading stopped on an internal error ({})", panic_text(&*panic))],
                    )
                });
            Msg::Themes(themes, errors)
        }
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

/// A caller of [`Publisher::apply`] waiting for its change to be live.
struct Waiter {
    /// Sites whose builds must be published first.
    sites: BTreeSet<String>,
    /// Wait for the whole pool to go idle (theme reloads and rescans).
    idle: bool,
    done: oneshot::Sender<()>,
}

/// The publisher thread's state.
struct State {
    live: Arc<Live>,
    config: Arc<Config>,
    sources: Sources,
    pool: Pool,
    /// Sites being built, and sites changed again while being built (built again after).
    building: BTreeSet<String>,
    again: BTreeSet<String>,
    /// A theme load is running; `themes_again`: another was asked for meanwhile.
    loading_themes: bool,
    themes_again: bool,
    /// Themes changed since the last load, and whether the load is a full rescan: which
    /// sites to rebuild once the themes are in.
    changed_themes: BTreeSet<String>,
    rescan: bool,
    waiters: Vec<Waiter>,
    generation: u64,
}

impl State {
    fn new(live: Arc<Live>, sources: Sources, pool: Pool) -> State {
        let generation = live.snapshot().generation;
        let config = Arc::new(live.config.clone());
        State {
            live,
            config,
            sources,
            pool,
            building: BTreeSet::new(),
            again: BTreeSet::new(),
            loading_themes: false,
            themes_again: false,
            changed_themes: BTreeSet::new(),
            rescan: false,
            waiters: Vec::new(),
            generation,
        }
    }

    /// Take messages until stopped; publish once per batch of what is queued. When a
    /// maintenance window ends, its notice goes without any message: the sites it was on
    /// are rebuilt then.
    fn run(mut self, rx: Receiver<Msg>) {
        let mut batch = VecDeque::new();
        // Site builds that finished but are not published yet, and when the last
        // snapshot was: while thousands of sites are built (a start), their outcomes are
        // published together every PUBLISH_EVERY instead of one snapshot per site, each of
        // which copies the whole site table.
        let mut unpublished = false;
        let mut last_publish = Instant::now();
        let mut every = PUBLISH_EVERY;
        loop {
            let now = crate::model::time::now_secs() as i64;
            let banner_wait = self
                .sources
                .next_banner_change(now)
                .map(|at| Duration::from_secs(u64::try_from(at - now).unwrap_or(0).max(1)));
            let publish_wait = unpublished.then(|| every.saturating_sub(last_publish.elapsed()));
            let first = match banner_wait.into_iter().chain(publish_wait).min() {
                Some(wait) => rx.recv_timeout(wait),
                None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            };
            let mut urgent = false;
            match first {
                Ok(first) => batch.push_back(first),
                // A window may have ended: its notice goes (cheap when none has).
                Err(mpsc::RecvTimeoutError::Timeout) => self.rebuild_banners(),
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
            batch.extend(rx.try_iter());
            for msg in batch.drain(..) {
                match msg {
                    Msg::Stop => return,
                    msg => {
                        // A writer's change (members, dossiers, names) is served at once.
                        let change = matches!(msg, Msg::Change(..));
                        let changed = self.handle(msg);
                        unpublished |= changed;
                        urgent |= change && changed;
                    }
                }
            }
            let idle = self.building.is_empty() && !self.loading_themes;
            if unpublished && (urgent || idle || last_publish.elapsed() >= every) {
                let started = Instant::now();
                // A bug while assembling must not end the only writer of the snapshot: the
                // last good snapshot stays and the next change tries again.
                let published = std::panic::catch_unwind(AssertUnwindSafe(|| self.publish()));
                if let Err(panic) = published {
                    tracing::error!(
                        "publishing stopped on an internal error ({}); keeping the previous version",
                        panic_text(&*panic)
                    );
                }
                unpublished = false;
                last_publish = Instant::now();
                every = PUBLISH_EVERY.max(started.elapsed() * 4);
            }
            // Waiters are answered only once what they wait for is live.
            if !unpublished {
                self.wake_waiters(true);
            }
        }
    }

    /// Apply one message to the sources; true when what is served may have changed.
    fn handle(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::Change(change, done) => self.change(change, done),
            Msg::Site(label, outcome) => {
                self.building.remove(&label);
                self.sources.record(&label, outcome);
                if self.again.remove(&label) {
                    self.build(&label);
                }
                true
            }
            Msg::Themes(themes, errors) => {
                self.loading_themes = false;
                self.sources.set_themes(themes, errors);
                if std::mem::take(&mut self.themes_again) {
                    self.load_themes();
                } else {
                    self.after_themes();
                }
                true
            }
            Msg::Stop => false,
        }
    }

    fn change(&mut self, change: Change, done: Option<oneshot::Sender<()>>) -> bool {
        let mut waiter = done.map(|done| Waiter { sites: BTreeSet::new(), idle: false, done });
        let changed = match change {
            Change::Members(members) => {
                let changed = self.sources.members != members;
                // A banner that comes or goes (a window, an archive) rebuilds the site; the
                // caller waits for it.
                let now = crate::model::time::now_secs() as i64;
                let rebuilt = self.sources.set_members(members, now);
                for label in &rebuilt {
                    self.build(label);
                }
                if let Some(w) = &mut waiter {
                    w.sites.extend(rebuilt);
                }
                changed
            }
            Change::Dossiers(dossiers) => {
                let all = Arc::make_mut(&mut self.sources.dossiers);
                all.extend(dossiers);
                true
            }
            Change::Platform(platform) => {
                if self.sources.platform != platform {
                    self.sources.platform = platform;
                    self.rescan = true;
                    self.load_themes();
                    if let Some(w) = &mut waiter {
                        w.idle = true;
                    }
                }
                true
            }
            Change::Published(labels) => {
                for label in &labels {
                    self.build(label);
                }
                if let Some(w) = &mut waiter {
                    w.sites.extend(labels);
                }
                false
            }
            Change::Rebuild(mut plan) => {
                // Under approval an edit to a site folder changes the working copy, not
                // what is served: only an approval (`Published`) rebuilds such a site.
                plan.sites.retain(|label| !self.config.approval_applies(label));
                if plan.rescan || !plan.themes.is_empty() {
                    self.rescan |= plan.rescan;
                    self.changed_themes.extend(plan.themes.iter().cloned());
                    self.load_themes();
                    if let Some(w) = &mut waiter {
                        w.idle = true;
                    }
                }
                for label in &plan.sites {
                    self.build(label);
                }
                if let Some(w) = &mut waiter {
                    w.sites.extend(plan.sites);
                }
                false
            }
        };
        if let Some(w) = waiter {
            self.waiters.push(w);
        }
        changed
    }

    /// Build `label` on the pool, or again after the build already running.
    fn build(&mut self, label: &str) {
        if self.building.contains(label) {
            self.again.insert(label.to_string());
            return;
        }
        tracing::info!(site = %Escaped(label), "rebuilding");
        self.building.insert(label.to_string());
        self.pool.submit(Job::Site {
            config: self.config.clone(),
            label: label.to_string(),
            themes: self.sources.themes.clone(),
            platform: self.sources.platform.clone(),
            previous: self.sources.sites.get(label).cloned(),
            banner: self.sources.banners.get(label).cloned().map(Box::new),
        });
    }

    /// A window ended: rebuild the sites whose notice goes.
    fn rebuild_banners(&mut self) {
        let now = crate::model::time::now_secs() as i64;
        for label in self.sources.refresh_banners(now) {
            self.build(&label);
        }
    }

    fn load_themes(&mut self) {
        if self.loading_themes {
            self.themes_again = true;
            return;
        }
        self.loading_themes = true;
        self.pool.submit(Job::Themes { config: self.config.clone() });
    }

    /// The themes are in: rebuild every site on a rescan, else the sites whose theme chain
    /// touches a changed theme (or cannot be resolved).
    fn after_themes(&mut self) {
        let folders = crate::snapshot::served_labels(&self.config);
        let changed = std::mem::take(&mut self.changed_themes);
        let all = std::mem::take(&mut self.rescan);
        if all {
            tracing::info!("reloading every theme and site");
        }
        let mut labels: BTreeSet<String> =
            folders.into_iter().filter(|label| all || self.uses_any(label, &changed)).collect();
        if all {
            // Sites whose folder is gone are dropped by their build.
            labels.extend(self.sources.sites.keys().cloned());
        }
        for label in labels {
            self.build(&label);
        }
    }

    fn uses_any(&self, label: &str, changed: &BTreeSet<String>) -> bool {
        let Some(site) = self.sources.sites.get(label) else { return true };
        let chain: Vec<String> = self
            .sources
            .themes
            .chain(&site.config.theme)
            .map(|c| c.iter().map(|t| t.name.clone()).collect())
            .unwrap_or_default();
        chain.is_empty() || changed.contains(&site.config.theme) || changed.iter().any(|t| chain.contains(t))
    }

    fn publish(&mut self) {
        self.generation += 1;
        let previous = self.live.snapshot();
        match assemble(&self.config, &self.sources, self.generation, Some(&previous)) {
            Ok(snapshot) => self.live.store(snapshot),
            Err(e) => tracing::error!("{}; keeping the previous version", Escaped(e)),
        }
    }

    /// Answer the waiters whose change is live.
    fn wake_waiters(&mut self, _published: bool) {
        let idle = self.building.is_empty() && !self.loading_themes;
        let (building, again) = (&self.building, &self.again);
        let (ready, waiting): (Vec<Waiter>, Vec<Waiter>) =
            std::mem::take(&mut self.waiters).into_iter().partition(|w| {
                if w.idle {
                    idle
                } else {
                    w.sites.iter().all(|s| !building.contains(s) && !again.contains(s))
                }
            });
        self.waiters = waiting;
        for w in ready {
            let _ = w.done.send(());
        }
    }
}
