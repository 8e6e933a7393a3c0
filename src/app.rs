//! Wiring: load the sites and the registry, start the listeners, the publisher and every
//! background writer, handle signals, and shut everything down through one signal.

use crate::control::follow::{follow_registry, refresh_members};
use crate::control::publisher::{Change, Publisher};
use crate::control::watch::Plan;
use crate::model::config::Config;
use crate::serve::handler::Scheme;
use crate::serve::limits::GuardedIo;
use crate::serve::listener::{accept_loop_under, http_builder, run_listener, App};
use crate::serve::metrics::Metrics;
use crate::snapshot::certs::{server_config, Certs, Resolver, StartingResolver};
use crate::snapshot::Live;
use crate::store::certs as store;
use crate::store::registry::Shared;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Why the TLS side could not start or a certificate could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("local CA: {0}")]
    Ca(#[from] rcgen::Error),
    #[error("ACME: {0}")]
    Acme(#[from] crate::control::certs::AcmeError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A server started in this process: its bound addresses and a way to stop it.
pub struct Running {
    pub http_addr: SocketAddr,
    /// The admin API, when a token is configured.
    pub admin_addr: Option<SocketAddr>,
    /// The HTTPS listener, when TLS is on.
    pub https_addr: Option<SocketAddr>,
    pub app: Arc<App>,
    /// The one writer of the live snapshot.
    pub publisher: Publisher,
    /// The one shutdown signal every listener and background task watches.
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The file watcher thread and the channel that stops it (dropping the sender).
    watcher: Option<(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
    /// True once every site's first build since the start has finished.
    ready: Arc<watch::Sender<bool>>,
}

/// Listeners bound by the caller (tests bind `127.0.0.1:0`).
pub struct Bound {
    pub http: TcpListener,
    pub admin: Option<TcpListener>,
    /// Served only with `[https] tls` other than "off".
    pub https: Option<TcpListener>,
}

impl Running {
    /// Start serving `live` on an already bound listener, with its publisher but without
    /// registry, watcher or admin API.
    pub fn start(live: Arc<Live>, http: TcpListener, certs: Arc<Certs>) -> std::io::Result<Running> {
        let http_addr = http.local_addr()?;
        let (shutdown, rx) = watch::channel(false);
        let publisher = Publisher::spawn(live.clone())?;
        let app = Arc::new(App { live, metrics: Arc::new(Metrics::default()), certs, desk: Default::default() });
        let tasks = vec![
            tokio::spawn(run_listener(http, app.clone(), Scheme::Http, rx.clone())),
            tokio::spawn(stop_publisher(publisher.clone(), rx)),
        ];
        let ready = Arc::new(watch::Sender::new(true));
        Ok(Running {
            http_addr,
            admin_addr: None,
            https_addr: None,
            app,
            publisher,
            shutdown,
            tasks,
            watcher: None,
            ready,
        })
    }

    /// Wait until every site's first build since the start has finished (at once when the
    /// sites were built before serving). Requests are answered meanwhile.
    pub async fn ready(&self) {
        let mut ready = self.ready.subscribe();
        let _ = ready.wait_for(|r| *r).await;
    }

    /// A receiver that turns true on shutdown, for background tasks.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Add a background task that ends on shutdown.
    pub fn add_task(&mut self, task: tokio::task::JoinHandle<()>) {
        self.tasks.push(task);
    }

    /// Stop accepting, let in-flight requests finish, wait for every task. Builds still
    /// running are abandoned: they hold no lock and publish nothing once the publisher
    /// has stopped, so a stuck build never holds the shutdown back.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        if let Some((stop, thread)) = self.watcher {
            drop(stop);
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        for t in self.tasks {
            let _ = t.await;
        }
    }

    /// Watch the site and theme folders and send what changes to the publisher; the
    /// returned receiver answers once the watches are in place (or could not be).
    pub fn start_watcher(&mut self) -> std::io::Result<std::sync::mpsc::Receiver<std::io::Result<()>>> {
        let (tx, rx) = std::sync::mpsc::channel();
        let (watching, watched) = std::sync::mpsc::channel();
        let thread = crate::control::watch::spawn(&self.app.live.config, self.publisher.clone(), rx, watching)?;
        self.watcher = Some((tx, thread));
        Ok(watched)
    }
}

/// Stop the publisher when the shutdown signal comes.
async fn stop_publisher(publisher: Publisher, mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.changed().await;
    publisher.stop();
}

/// Wait for Ctrl-C or SIGTERM.
pub async fn shutdown_requested() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Load sites and the registry (importing the site folders into a fresh data folder), then start
/// the public listener, the registry follower and, with a token, the admin API.
pub async fn launch(mut config: crate::model::config::Config, bound: Bound) -> anyhow::Result<Running> {
    use anyhow::Context;
    let admin_bound = bound.admin.is_some();
    let registry_path = config.registry_path();
    // Until the registry is loaded, the public port answers 503 with Retry-After: 1 on a
    // second handle of the same socket, instead of holding the connections it accepts.
    let (loaded, loading) = watch::channel(false);
    let http = bound.http.into_std()?;
    let interim = TcpListener::from_std(http.try_clone()?)?;
    let http = TcpListener::from_std(http)?;
    tokio::spawn(crate::serve::listener::answer_starting(interim, config.limits.clone(), loading));
    // The HTTPS port likewise, with the stored certificates, read meanwhile, until HTTPS
    // proper starts.
    let certs: Arc<Certs> = Arc::default();
    let (https_started, https_starting) = watch::channel(false);
    let (https, stored) = match bound.https.filter(|_| config.tls != crate::model::config::TlsMode::Off) {
        Some(https) => {
            let https = https.into_std()?;
            let interim = TcpListener::from_std(https.try_clone()?)?;
            let stored = load_certificates(&config, certs.clone(), interim, https_starting);
            (Some(TcpListener::from_std(https)?), Some(stored))
        }
        None => (None, None),
    };
    let load = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut registry = crate::store::registry::Registry::open(&config.registry_path())?;
        // The registry just opened says whether any user could sign in (see `admin_wanted`).
        let admin_on = admin_bound && (has_admin_token(&config) || registry.has_users()?);
        for lowered in fit_ceilings(&mut config, admin_on) {
            tracing::warn!("{lowered}");
        }
        // The published sets first: under approval they are what the sites are built from.
        crate::control::content::start(&mut registry, &config)?;
        // Serving starts at once; the publisher builds the sites behind (`Sources::starting`).
        let mut sources = crate::snapshot::Sources::starting(&config);
        // Imports the site folders into a fresh data folder only (their site.toml is all it
        // reads); a lost registry stays empty.
        // (Only a fresh or lost registry reads the folders' site.toml: a restart of thousands
        // of sites does not.)
        let read = std::time::Instant::now();
        crate::control::membership::first_start(&mut registry, &config, || crate::snapshot::folder_names(&config))?;
        tracing::debug!(took_ms = read.elapsed().as_millis(), "first start's import (if any) done");
        sources.members = registry.members()?;
        // What the units' case systems published, served from the first request on.
        sources.dossiers = Arc::new(crate::control::follow::read_dossiers(&registry, &mut Default::default())?);
        let registered: std::collections::HashSet<&str> =
            sources.members.iter().map(|m| m.names.label.as_str()).collect();
        // Every folder is pending at this point (`Sources::starting` listed them).
        for label in sources.pending.iter().filter(|l| !registered.contains(l.as_str())) {
            let label = crate::model::escape::Escaped(label);
            tracing::warn!("tenants/{label}: no registered member \"{label}\"; the folder is not served (cong member register {label} ...)");
        }
        let live = Live::new(config, sources).map_err(|e| anyhow::anyhow!(e))?;
        let registry: Shared = Arc::new(std::sync::Mutex::new(registry));
        Ok((Arc::new(live), registry, admin_on))
    })
    .await;
    loaded.send_replace(true);
    let (live, registry, admin_on) = load
        .context("loading the sites and the registry")?
        .with_context(|| format!("registry {}", registry_path.display()))?;
    let starting = !live.snapshot().pending.is_empty();
    let mut running = Running::start(live.clone(), http, certs)?;
    if starting {
        // The first builds, on the publisher's pool; `ready` turns true when all are done.
        let (ready, publisher) = (running.ready.clone(), running.publisher.clone());
        ready.send_replace(false);
        running.add_task(tokio::spawn(async move {
            publisher.apply(Change::Rebuild(Plan { rescan: true, ..Plan::default() })).await;
            ready.send_replace(true);
        }));
    }
    // The watches are added on the watch thread while the rest starts (see the end).
    let watched = running.start_watcher();
    // The public write path: one writer thread owns data/feedback.db for the listeners.
    match crate::control::feedback::spawn_writer(&live.config.data_dir.join("feedback.db")) {
        Ok(jobs) => {
            let _ = running.app.desk.set(crate::serve::feedback::Desk::new(jobs));
        }
        Err(e) => tracing::error!("{e}; the question forms answer as any unknown page"),
    }
    let publisher = running.publisher.clone();
    running.add_task(tokio::spawn(reload_on_sighup(
        live.config.clone(),
        registry.clone(),
        publisher.clone(),
        running.shutdown_signal(),
    )));
    let every = std::time::Duration::from_millis(live.config.registry_poll_ms);
    running.add_task(tokio::spawn(follow_registry(
        registry.clone(),
        publisher.clone(),
        Arc::new(live.config.clone()),
        every,
        running.shutdown_signal(),
    )));
    // The DNS compliance re-check (docs/dns-checks.md); off when the interval is 0.
    let dns = crate::control::dns::Service::new(live.config.clone(), registry.clone());
    running.add_task(tokio::spawn(crate::control::dns::service::periodic(dns.clone(), running.shutdown_signal())));
    let feedback = open_feedback(&live.config);
    if let Some(f) = &feedback {
        let retain = live.config.retain_personal_days;
        running.add_task(tokio::spawn(crate::control::feedback::erase_periodically(
            f.clone(),
            retain,
            running.shutdown_signal(),
        )));
    }
    if let Some(admin_listener) = bound.admin.filter(|_| admin_on) {
        running.admin_addr = Some(admin_listener.local_addr()?);
        let token = live.config.admin_token.as_deref().map(str::trim).filter(|t| !t.is_empty());
        if token.is_none() {
            tracing::info!(
                "admin API without a break-glass token: users sign in with their own tokens (cong user token); \
                 set the environment variable {} for one ([admin] token_env)",
                live.config.admin_token_env
            );
        }
        let admin = Arc::new(crate::control::admin::Admin {
            live: live.clone(),
            registry,
            publisher,
            metrics: running.app.metrics.clone(),
            token: token.map(str::to_string),
            dns,
            config: Arc::new(live.config.clone()),
            written: Arc::default(),
            feedback,
        });
        running.add_task(tokio::spawn(run_admin(admin_listener, admin, running.shutdown_signal())));
    } else if !admin_on {
        tracing::warn!(
            "admin API off: add a user (cong user add) or set the environment variable {} to a secret \
             token to turn it on ([admin] token_env)",
            live.config.admin_token_env
        );
    }
    if let (Some(https), Some(stored)) = (https, stored) {
        let store = stored.await.unwrap_or_else(|_| Err(std::io::Error::other("the store's reader stopped").into()));
        let store = store.context("reading the certificate store ([paths] certs)")?;
        start_https(&mut running, https, store, &https_started).await.context("starting HTTPS ([https], [acme])")?;
    }
    // Started: edits made from now on are seen.
    let watched = match watched {
        Ok(watched) => tokio::task::spawn_blocking(move || watched.recv()).await.ok().and_then(Result::ok),
        Err(e) => Some(Err(e)),
    };
    if let Some(Err(e)) = watched {
        tracing::warn!("cannot watch the site folders ({e}); edits need SIGHUP or a restart");
    }
    Ok(running)
}

/// `data/feedback.db`, shared by the admin API; `None` (logged) when it cannot be opened.
fn open_feedback(config: &Config) -> Option<crate::control::feedback::Shared> {
    let path = config.data_dir.join("feedback.db");
    match crate::store::feedback::Feedback::open(&path) {
        Ok(f) => Some(Arc::new(std::sync::Mutex::new(f))),
        Err(e) => {
            tracing::error!("{e}; questions and the working-day calendar are unavailable");
            None
        }
    }
}

/// The admin listener: HTTP/1.1 and HTTP/2, every request through [`crate::control::admin::Admin`],
/// under its own small ceiling (`[limits] admin_max_connections`, so that silent clients of
/// the admin port cannot use up the files the public listeners need) and the public
/// listeners' header timeout and first-request deadline. No idle deadline on the socket
/// once a request arrived: `POST /api/dns/check?wait=true` may rightly keep a connection
/// silent for as long as a check of every member takes.
async fn run_admin(listener: TcpListener, admin: Arc<crate::control::admin::Admin>, shutdown: watch::Receiver<bool>) {
    let limits = admin.live.config.limits.clone();
    let builder = http_builder(&limits);
    accept_loop_under(listener, limits.admin_max_connections, "admin", shutdown, |stream, permit, graceful| {
        let admin = admin.clone();
        let (stream, seen) = GuardedIo::first_request_only(stream, &limits);
        let service = service_fn(move |req: Request<Incoming>| {
            let admin = admin.clone();
            seen.answer(req.version(), async move { Ok::<_, Infallible>(admin.handle(req).await) })
        });
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service).into_owned());
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    })
    .await;
}

/// Re-read cong.toml (SIGHUP): a file that does not load changes nothing; changed keys that
/// need a restart are named in the log. Returns the `[platform]` the pages should show: the
/// running one with the file's display names.
fn reread_config(config: &crate::model::config::Config) -> Option<crate::model::config::Platform> {
    // Running on the built-in defaults: there is no file to re-read.
    let path = config.source.as_ref()?;
    let mut new = crate::model::config::Config::from_file(path)
        .inspect_err(|e| tracing::error!("{e}; the running configuration stays"))
        .ok()?;
    // The running ceilings were fitted to the open-file limit at start: compare like with like.
    fit_ceilings(&mut new, admin_wanted(config));
    for key in config.restart_needed(&new) {
        tracing::warn!("{}: {key} changed; restart cong to apply it", path.display());
    }
    Some(crate::model::config::Platform {
        name_vi: new.platform.name_vi,
        name_en: new.platform.name_en,
        ..config.platform.clone()
    })
}

/// SIGHUP: re-read cong.toml, rescan every theme and site folder and re-read the registry,
/// each sent to the publisher. The handler is installed before this returns (a SIGHUP with
/// none installed would end the process); the future serves the signals until shutdown.
fn reload_on_sighup(
    config: Config,
    registry: Shared,
    publisher: Publisher,
    mut shutdown: watch::Receiver<bool>,
) -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .inspect_err(|e| tracing::warn!("cannot handle SIGHUP ({e}); reloads come from the file watcher only"))
        .ok();
    async move {
        #[cfg(unix)]
        if let Some(mut hup) = hup {
            loop {
                tokio::select! {
                    _ = hup.recv() => {}
                    _ = shutdown.changed() => return,
                }
                tracing::info!("SIGHUP: reloading cong.toml, themes, sites and members");
                let mut reloading = vec![sd_notify::NotifyState::Reloading];
                reloading.extend(sd_notify::NotifyState::monotonic_usec_now().ok());
                tell_systemd(&reloading);
                let c = config.clone();
                if let Ok(Some(platform)) = tokio::task::spawn_blocking(move || reread_config(&c)).await {
                    // New names rebuild every site with them; no separate rescan needed.
                    publisher.send(Change::Platform(platform));
                }
                // Waited for, so systemd hears READY when the rebuilt sites are served.
                publisher.apply(Change::Rebuild(Plan { rescan: true, ..Plan::default() })).await;
                refresh_members(&registry, &publisher).await;
                tell_systemd(&[sd_notify::NotifyState::Ready]);
            }
        }
        let _ = (config, registry, publisher, shutdown.changed().await);
    }
}

/// Tell the service manager (dist/cong.service, `Type=notify`) where the server is: READY
/// once every listener is up, RELOADING and READY around a SIGHUP, STOPPING at shutdown.
/// Without `NOTIFY_SOCKET` in the environment this does nothing.
fn tell_systemd(states: &[sd_notify::NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!("cannot notify the service manager (NOTIFY_SOCKET): {e}");
    }
}

/// Does the admin listener run: with a break-glass token set, or once any user exists (who
/// signs in with a token of its own)? With neither, nobody could use it, so it stays shut.
fn admin_wanted(config: &Config) -> bool {
    let path = config.registry_path();
    has_admin_token(config)
        || (path.is_file()
            && crate::store::registry::Registry::open(&path).and_then(|r| r.has_users()).unwrap_or(false))
}

/// Is the break-glass token of `[admin] token_env` set?
fn has_admin_token(config: &Config) -> bool {
    config.admin_token.as_deref().is_some_and(|t| !t.trim().is_empty())
}

/// Raise the soft open-file limit to the hard limit, once, at the start of `cong serve`:
/// every connection is a file, and past the limit `accept` fails on every listener at once.
fn raise_open_file_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let Rlimit { current, maximum } = getrlimit(Resource::Nofile);
    let shown = |v: Option<u64>| v.map_or("unlimited".to_string(), |v| v.to_string());
    if current == maximum {
        tracing::info!("open-file limit {} (hard limit {})", shown(current), shown(maximum));
        return;
    }
    match setrlimit(Resource::Nofile, Rlimit { current: maximum, maximum }) {
        Ok(()) => tracing::info!("open-file limit raised from {} to the hard limit {}", shown(current), shown(maximum)),
        Err(e) => tracing::warn!(
            "cannot raise the open-file limit from {} to the hard limit {}: {e}",
            shown(current),
            shown(maximum)
        ),
    }
}

/// The soft open-file limit; `None` when unlimited.
fn open_file_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

/// Lower the connection ceilings of `config` so that, with `admin` when the admin listener
/// runs, they fit under the process's open-file limit (see
/// [`crate::serve::limits::fit_to_open_files`]); what was lowered, for the log.
fn fit_ceilings(config: &mut Config, admin: bool) -> Vec<String> {
    let Some(open_files) = open_file_limit() else {
        return Vec::new();
    };
    let public = 1 + usize::from(config.tls != crate::model::config::TlsMode::Off);
    let fit = crate::serve::limits::fit_to_open_files(&config.limits, public, admin, open_files);
    let limits = &mut config.limits;
    let mut lowered = Vec::new();
    let reserve = crate::serve::limits::FILES_RESERVE;
    for (key, value, fitted) in [
        ("max_connections", &mut limits.max_connections, fit.max_connections),
        ("admin_max_connections", &mut limits.admin_max_connections, fit.admin_max_connections),
    ] {
        if fitted < *value {
            lowered.push(format!(
                "[limits] {key} lowered from {value} to {fitted}: the open-file limit {open_files} must hold \
                 every connection and {reserve} other files (raise the hard limit: ulimit -Hn, systemd \
                 LimitNOFILE=; or set {key} lower)"
            ));
            *value = fitted;
        }
    }
    lowered
}

/// `cong serve`: bind the configured listeners, serve until Ctrl-C or SIGTERM.
pub async fn serve(config: crate::model::config::Config) -> anyhow::Result<()> {
    use anyhow::Context;
    raise_open_file_limit();
    let addr = config.http_listen;
    let http = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} ([http] listen, or --listen)"))?;
    let admin = if admin_wanted(&config) {
        let a = config.admin_listen;
        Some(TcpListener::bind(a).await.with_context(|| format!("cannot listen on {a} ([admin] listen)"))?)
    } else {
        None
    };
    let zone = config.platform.zone.clone();
    let https = if config.tls == crate::model::config::TlsMode::Off {
        None
    } else {
        let a = config.https_listen;
        Some(TcpListener::bind(a).await.with_context(|| format!("cannot listen on {a} ([https] listen)"))?)
    };
    let running = launch(config, Bound { http, admin, https }).await?;
    if let Some(a) = running.https_addr {
        tracing::info!("HTTPS on https://{a}/ (certificates: cong cert list)");
    }
    if let Some(a) = running.admin_addr {
        tracing::info!("admin API on http://{a}/api/");
    }
    let building = running.app.live.snapshot().pending.len();
    if building > 0 {
        tracing::info!(
            "answering on http://{}/ while {building} sites are built (each 503 with Retry-After: 1 until built)",
            running.http_addr
        );
        tokio::select! {
            _ = running.ready() => {}
            _ = shutdown_requested() => {
                tracing::info!("shutting down before every site was built");
                running.stop().await;
                return Ok(());
            }
        }
    }
    let sites = running.app.live.snapshot().sites.len();
    // The bound address: with port 0 in [http] listen, the one the system chose. Logged
    // when it is true: every site built (or found broken).
    let addr = running.http_addr;
    tracing::info!(
        "serving {sites} sites on http://{addr}/ (try http://{zone}.localhost:{}/ for the directory)",
        addr.port()
    );
    tell_systemd(&[sd_notify::NotifyState::Ready, sd_notify::NotifyState::Status(&format!("serving {sites} sites"))]);
    shutdown_requested().await;
    tell_systemd(&[sd_notify::NotifyState::Stopping]);
    tracing::info!("shutting down: letting in-flight requests finish");
    running.stop().await;
    Ok(())
}

/// Read the certificate store of `config` into `certs` on a blocking thread, then answer
/// the HTTPS port (`interim`, a handle of its socket) with the start's 503 until `done`
/// turns true. The store, or why it cannot be opened, comes back on the receiver.
fn load_certificates(
    config: &Config,
    certs: Arc<Certs>,
    interim: TcpListener,
    done: watch::Receiver<bool>,
) -> tokio::sync::oneshot::Receiver<Result<store::Store, TlsError>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (dir, limits) = (config.certs_dir.clone(), config.limits.clone());
    tokio::spawn(async move {
        let read = tokio::task::spawn_blocking(move || -> Result<_, TlsError> {
            let store = store::Store::open(&dir)?;
            certs.install_all(store.load_served());
            let acceptor = tokio_rustls::TlsAcceptor::from(server_config(Arc::new(StartingResolver(certs)))?);
            Ok((store, acceptor))
        })
        .await;
        let (store, acceptor) = match read {
            Ok(Ok(read)) => read,
            Ok(Err(e)) => return drop(tx.send(Err(e))),
            Err(e) => return drop(tx.send(Err(TlsError::Io(std::io::Error::other(e))))),
        };
        let _ = tx.send(Ok(store));
        crate::serve::https::answer_starting(interim, acceptor, limits, done).await;
    });
    rx
}

/// Turn HTTPS on for a running server whose certificates `store` holds (already installed
/// in its `certs`): start the HTTPS listener on `https`, tell `started` (the start's answer
/// on that port then ends), then the certificate manager (local CA or ACME, from `[https]
/// tls`). The local CA issues every missing certificate before this returns; the names
/// the store held are served meanwhile (10,000 new names take minutes of key generation
/// and disk flushes). With `tls = "off"` nothing starts.
pub async fn start_https(
    running: &mut Running,
    https: TcpListener,
    store: store::Store,
    started: &watch::Sender<bool>,
) -> Result<(), TlsError> {
    let app = running.app.clone();
    let config = &app.live.config;
    if config.tls == crate::model::config::TlsMode::Off {
        return Ok(());
    }
    let addr = https.local_addr()?;
    let resolver = Arc::new(Resolver { certs: app.certs.clone(), live: app.live.clone() });
    let acceptor = tokio_rustls::TlsAcceptor::from(server_config(resolver)?);
    running.https_addr = Some(addr);
    running.add_task(tokio::spawn(crate::serve::https::run(https, app.clone(), acceptor, running.shutdown_signal())));
    started.send_replace(true);
    let manager = crate::control::certs::Manager::new(app.live.clone(), app.certs.clone(), store).await?;
    let port = config.https_public_port.unwrap_or(addr.port());
    app.certs.redirect_port.store(port, Ordering::Relaxed);
    running.add_task(tokio::spawn(manager.run(running.shutdown_signal())));
    Ok(())
}

/// Log output on stderr, as `[log]` says: lines for people or one JSON object per line,
/// with the access log (target `cong::access`, level info) unless `access = false`.
/// `RUST_LOG` takes the full directive syntax (`cong=debug,hyper=warn`); without it,
/// `default` applies (`info` for the server). Installs the global subscriber once; later
/// calls do nothing.
pub fn init_logging(log: crate::model::config::Log, default: &str) {
    use tracing_subscriber::EnvFilter;
    let asked = std::env::var("RUST_LOG").ok().filter(|s| !s.trim().is_empty());
    let mut filter = match asked.as_deref().map(EnvFilter::try_new) {
        Some(Ok(filter)) => filter,
        Some(Err(e)) => {
            eprintln!("warning: RUST_LOG: {e} (write directives like \"info\" or \"cong=debug,hyper=warn\"); using \"{default}\"");
            EnvFilter::new(default)
        }
        None => EnvFilter::new(default),
    };
    if !log.access {
        filter = filter.add_directive("cong::access=off".parse().expect("a valid directive"));
    }
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if log.json {
        builder.json().flatten_event(true).with_current_span(false).try_init()
    } else {
        builder
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none())
            .try_init()
    };
}
