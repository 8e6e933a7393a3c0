//! Listeners: accept connections, speak HTTP/1.1 and HTTP/2 through hyper, hand each
//! request to the handler with the current snapshot, and shut down gracefully.

use crate::config::Limits;
use crate::handler::{self, Body, Scheme};
use crate::limits::GuardedIo;
use crate::metrics::Metrics;
use crate::state::Live;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

/// How long in-flight requests get to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// Everything a public listener needs per request.
pub struct App {
    pub live: Arc<Live>,
    pub metrics: Arc<Metrics>,
    /// Certificates and ACME answers (empty while TLS is off; see [`crate::tls::start`]).
    pub certs: Arc<crate::tls::Certs>,
}

/// The HTTP protocol settings for public listeners, from `[limits]`.
pub fn http_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_read_timeout_secs.max(1)))
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_headers(limits.max_headers);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.h2_max_concurrent_streams)
        .max_pending_accept_reset_streams(limits.h2_max_pending_reset_streams)
        // Streams the server had to reset (refused over the stream limit, malformed): the
        // same budget, so a client that ignores SETTINGS is cut off too.
        .max_local_error_reset_streams(limits.h2_max_pending_reset_streams)
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        // No PINGs: they would count as traffic and keep idle connections open; the idle
        // timeout in `limits::GuardedIo` closes dead peers instead.
        .keep_alive_interval(None);
    builder
}

/// Answer one request and count it; `sni`: the TLS server name of an HTTPS connection.
pub(crate) fn respond(app: &App, req: &Request<Incoming>, scheme: Scheme, sni: Option<&str>) -> Response<Body> {
    if let Some(resp) = crate::limits::refuse_large_body(req.headers(), app.live.config.limits.max_body_bytes) {
        app.metrics.record(None, resp.status().as_u16());
        return resp;
    }
    let snap = app.live.snapshot();
    let ctx = handler::Ctx { scheme, sni, certs: Some(&app.certs) };
    let (resp, member) = handler::handle(&snap, req, ctx);
    app.metrics.record(member.as_deref(), resp.status().as_u16());
    resp
}

/// Accept connections on `listener` until `shutdown` turns true, then drain.
pub async fn run_listener(listener: TcpListener, app: Arc<App>, scheme: Scheme, shutdown: watch::Receiver<bool>) {
    let limits = app.live.config.limits.clone();
    let builder = http_builder(&limits);
    accept_loop(listener, &limits, "HTTP", shutdown, |stream, permit, graceful| {
        let app = app.clone();
        // Idle and first-request deadlines on the socket itself (see `limits`).
        let (stream, seen) = GuardedIo::new(stream, &limits);
        let service = service_fn(move |req: Request<Incoming>| {
            seen.mark();
            let resp = respond(&app, &req, scheme, None);
            async move { Ok::<_, Infallible>(resp) }
        });
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service).into_owned());
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    })
    .await;
}

/// What every public listener shares: accept under the `[limits] max_connections` ceiling
/// until `shutdown` turns true, hand each connection with its slot to `serve` (which must
/// spawn, and watch the connection with `graceful`), then give open connections
/// [`DRAIN_TIMEOUT`] to finish.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    limits: &Limits,
    what: &str,
    mut shutdown: watch::Receiver<bool>,
    mut serve: impl FnMut(TcpStream, OwnedSemaphorePermit, &GracefulShutdown),
) {
    let graceful = GracefulShutdown::new();
    // Past the ceiling, connections wait in the kernel's accept queue until one closes.
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("semaphore never closed"),
            _ = shutdown.changed() => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    // EMFILE and the like: wait a little instead of spinning.
                    tracing::warn!("{what} accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        serve(stream, permit, &graceful);
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("some {what} connections did not finish within {DRAIN_TIMEOUT:?}"),
    }
}

/// A server started in this process: its bound addresses and a way to stop it.
pub struct Running {
    pub http_addr: SocketAddr,
    /// The admin API, when a token is configured.
    pub admin_addr: Option<SocketAddr>,
    /// The HTTPS listener, when TLS is on.
    pub https_addr: Option<SocketAddr>,
    pub app: Arc<App>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The file watcher thread and the channel that stops it (dropping the sender).
    watcher: Option<(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
}

/// Listeners bound by the caller (tests bind `127.0.0.1:0`).
pub struct Bound {
    pub http: TcpListener,
    pub admin: Option<TcpListener>,
    /// Served only with `[https] tls` other than "off".
    pub https: Option<TcpListener>,
}

impl Running {
    /// Start serving `live` on an already bound listener, without registry or admin API.
    pub fn start(live: Arc<Live>, http: TcpListener) -> std::io::Result<Running> {
        let http_addr = http.local_addr()?;
        let (shutdown, rx) = watch::channel(false);
        let app = Arc::new(App { live, metrics: Arc::new(Metrics::default()), certs: Default::default() });
        let tasks = vec![tokio::spawn(run_listener(http, app.clone(), Scheme::Http, rx))];
        Ok(Running { http_addr, admin_addr: None, https_addr: None, app, shutdown, tasks, watcher: None })
    }

    /// A receiver that turns true on shutdown, for background tasks.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Add a background task that ends on shutdown.
    pub fn add_task(&mut self, task: tokio::task::JoinHandle<()>) {
        self.tasks.push(task);
    }

    /// Stop accepting, let in-flight requests finish, wait for every task.
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

    /// Watch the site and theme folders and rebuild what changes.
    pub fn start_watcher(&mut self) -> notify::Result<()> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = crate::watch::spawn(self.app.live.clone(), rx)?;
        self.watcher = Some((tx, thread));
        Ok(())
    }
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

/// Load sites and the registry (importing the demo sites into an empty one), then start
/// the public listener, the registry follower and, with a token, the admin API.
pub async fn launch(config: crate::config::Config, bound: Bound) -> anyhow::Result<Running> {
    use anyhow::Context;
    let registry_path = config.registry_path();
    let (live, registry) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut sources = crate::state::Sources::load(&config);
        let mut registry = crate::registry::Registry::open(&config.registry_path())?;
        if registry.is_empty()? {
            let n = crate::membership::import_sites(&mut registry, &config, &sources)?;
            tracing::info!("empty registry: imported {n} demo site folders as active members (see the audit log)");
        }
        sources.members = registry.members()?;
        for label in sources.sites.keys().filter(|l| !sources.members.iter().any(|m| &m.label == *l)) {
            tracing::warn!("tenants/{label}: no registered member \"{label}\"; the folder is not served (cong member register {label} ...)");
        }
        let live = Live::new(config, sources).map_err(|e| anyhow::anyhow!(e))?;
        Ok((Arc::new(live), Arc::new(std::sync::Mutex::new(registry))))
    })
    .await
    .context("loading the sites and the registry")?
    .with_context(|| format!("registry {}", registry_path.display()))?;
    let mut running = Running::start(live.clone(), bound.http)?;
    if let Err(e) = running.start_watcher() {
        tracing::warn!("cannot watch the site folders ({e}); edits need SIGHUP or a restart");
    }
    running.add_task(tokio::spawn(reload_on_sighup(live.clone(), registry.clone(), running.shutdown_signal())));
    running.add_task(tokio::spawn(crate::state::follow_registry(
        live.clone(),
        registry.clone(),
        running.shutdown_signal(),
    )));
    // The DNS compliance re-check (DESIGN.md section 11); off when the interval is 0.
    let dns = crate::dns_check::Service::new(live.config.clone(), registry.clone());
    running.add_task(tokio::spawn(crate::dns_check::service::periodic(dns.clone(), running.shutdown_signal())));
    if let Some(admin_listener) = bound.admin {
        let token_env = &live.config.admin_token_env;
        match std::env::var(token_env).ok().filter(|t| !t.trim().is_empty()) {
            Some(token) => {
                running.admin_addr = Some(admin_listener.local_addr()?);
                let admin = Arc::new(crate::admin::Admin { live: live.clone(), registry, metrics: running.app.metrics.clone(), token: token.trim().to_string(), dns });
                running.add_task(tokio::spawn(run_admin(admin_listener, admin, running.shutdown_signal())));
            }
            None => tracing::warn!("admin API off: set the environment variable {token_env} to a secret token to turn it on ([admin] token_env)"),
        }
    }
    if let Some(https) = bound.https {
        crate::tls::start(&mut running, https).await.context("starting HTTPS ([https], [acme])")?;
    }
    Ok(running)
}

/// The admin listener: HTTP/1.1 and HTTP/2, every request through [`crate::admin::Admin`],
/// under the public listeners' connection ceiling and header timeout. No idle deadline on
/// the socket: `POST /api/dns/check?wait=true` may rightly keep a connection silent for
/// as long as a check of every member takes.
async fn run_admin(listener: TcpListener, admin: Arc<crate::admin::Admin>, shutdown: watch::Receiver<bool>) {
    let limits = admin.live.config.limits.clone();
    let builder = http_builder(&limits);
    accept_loop(listener, &limits, "admin", shutdown, |stream, permit, graceful| {
        let admin = admin.clone();
        let service = service_fn(move |req: Request<Incoming>| {
            let admin = admin.clone();
            async move { Ok::<_, Infallible>(admin.handle(req).await) }
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
fn reread_config(config: &crate::config::Config) -> Option<crate::config::Platform> {
    // Running on the built-in defaults: there is no file to re-read.
    let path = config.source.as_ref()?;
    let new = crate::config::Config::from_file(path)
        .inspect_err(|e| tracing::error!("{e}; the running configuration stays"))
        .ok()?;
    for key in config.restart_needed(&new) {
        tracing::warn!("{}: {key} changed; restart cong to apply it", path.display());
    }
    Some(crate::config::Platform {
        name_vi: new.platform.name_vi,
        name_en: new.platform.name_en,
        ..config.platform.clone()
    })
}

/// SIGHUP: re-read cong.toml, rescan every theme and site folder and re-read the registry.
/// The handler is installed before this returns (a SIGHUP with none installed would end
/// the process); the future serves the signals until shutdown.
fn reload_on_sighup(
    live: Arc<Live>,
    registry: Arc<std::sync::Mutex<crate::registry::Registry>>,
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
                let l = live.clone();
                let plan = crate::watch::Plan { rescan: true, ..Default::default() };
                let _ = tokio::task::spawn_blocking(move || {
                    let platform = reread_config(&l.config);
                    // One publish: the new names and the rescan that renders with them.
                    l.update(|sources| {
                        if let Some(platform) = platform {
                            sources.platform = platform;
                        }
                        crate::watch::apply_to(sources, &l.config, &plan)
                    })
                })
                .await;
                crate::state::refresh_members(&live, &registry).await;
            }
        }
        let _ = (live, registry, shutdown.changed().await);
    }
}

/// `cong serve`: bind the configured listeners, serve until Ctrl-C or SIGTERM.
pub async fn serve(config: crate::config::Config) -> anyhow::Result<()> {
    use anyhow::Context;
    let addr = config.http_listen;
    let http = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} ([http] listen, or --listen)"))?;
    let admin = if std::env::var(&config.admin_token_env).is_ok_and(|t| !t.trim().is_empty()) {
        let a = config.admin_listen;
        Some(TcpListener::bind(a).await.with_context(|| format!("cannot listen on {a} ([admin] listen)"))?)
    } else {
        None
    };
    let zone = config.platform.zone.clone();
    let https = if config.tls == crate::config::TlsMode::Off {
        None
    } else {
        let a = config.https_listen;
        Some(TcpListener::bind(a).await.with_context(|| format!("cannot listen on {a} ([https] listen)"))?)
    };
    let running = launch(config, Bound { http, admin, https }).await?;
    let sites = running.app.live.snapshot().sites.len();
    // The bound address: with port 0 in [http] listen, the one the system chose.
    let addr = running.http_addr;
    tracing::info!(
        "serving {sites} sites on http://{addr}/ (try http://{zone}.localhost:{}/ for the directory)",
        addr.port()
    );
    if let Some(a) = running.https_addr {
        tracing::info!("HTTPS on https://{a}/ (certificates: cong cert list)");
    }
    if let Some(a) = running.admin_addr {
        tracing::info!("admin API on http://{a}/api/");
    }
    shutdown_requested().await;
    tracing::info!("shutting down: letting in-flight requests finish");
    running.stop().await;
    Ok(())
}
