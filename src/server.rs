//! Listeners: accept connections, speak HTTP/1.1 and HTTP/2 through hyper, hand each
//! request to the handler with the current snapshot, and shut down gracefully.

use crate::config::Limits;
use crate::handler::{self, Body, Scheme};
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
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// How long in-flight requests get to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// Everything a public listener needs per request.
pub struct App {
    pub live: Arc<Live>,
    pub metrics: Arc<Metrics>,
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
        .max_header_list_size(u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX))
        .keep_alive_interval(Some(Duration::from_secs(limits.idle_timeout_secs.max(1))))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
}

/// Answer one request and count it.
fn respond(app: &App, req: &Request<Incoming>, scheme: Scheme) -> Response<Body> {
    let snap = app.live.snapshot();
    let (resp, member) = handler::handle(&snap, req, scheme);
    app.metrics.record(member.as_deref(), resp.status().as_u16());
    resp
}

/// Accept connections on `listener` until `shutdown` turns true, then drain.
pub async fn run_listener(listener: TcpListener, app: Arc<App>, scheme: Scheme, mut shutdown: watch::Receiver<bool>) {
    let limits = app.live.config.limits.clone();
    let builder = Arc::new(http_builder(&limits));
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let idle = Duration::from_secs(limits.idle_timeout_secs.max(1));
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("semaphore never closed"),
            _ = shutdown.changed() => break,
        };
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and the like: wait a little instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = service_fn(move |req: Request<Incoming>| {
            let resp = respond(&app, &req, scheme);
            async move { Ok::<_, Infallible>(resp) }
        });
        let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // Idle keep-alive connections are bounded by the overall idle timeout below
            // only when they never send anything; hyper's header timeout covers the rest.
            let _ = conn.await;
            drop(permit);
            let _ = idle;
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("some connections did not finish within {DRAIN_TIMEOUT:?}"),
    }
}

/// A server started in this process: its bound address and a way to stop it.
pub struct Running {
    pub http_addr: SocketAddr,
    pub app: Arc<App>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Running {
    /// Start serving `live` on an already bound listener (tests bind `127.0.0.1:0`).
    pub fn start(live: Arc<Live>, http: TcpListener) -> std::io::Result<Running> {
        let http_addr = http.local_addr()?;
        let (shutdown, rx) = watch::channel(false);
        let app = Arc::new(App { live, metrics: Arc::new(Metrics::default()) });
        let tasks = vec![tokio::spawn(run_listener(http, app.clone(), Scheme::Http, rx))];
        Ok(Running { http_addr, app, shutdown, tasks })
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
        for t in self.tasks {
            let _ = t.await;
        }
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

/// `cong serve`: load everything, bind the listeners, serve until Ctrl-C or SIGTERM.
pub async fn serve(config: crate::config::Config) -> anyhow::Result<()> {
    use anyhow::Context;
    let addr = config.http_listen;
    let live = tokio::task::spawn_blocking(move || {
        let mut sources = crate::state::Sources::load(&config);
        sources.members = crate::state::members_from_sites(&sources);
        Live::new(config, sources)
    })
    .await
    .context("loading the sites")?
    .map_err(|e| anyhow::anyhow!(e))?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} ([http] listen, or --listen)"))?;
    let snap = live.snapshot();
    tracing::info!("serving {} sites on http://{addr}/", snap.sites.len());
    if let Some(first) = snap.sites.keys().min() {
        tracing::info!(
            "open http://{first}.{}.localhost:{}/ in a browser, or the directory at http://{}.localhost:{}/",
            live.config.platform.zone,
            addr.port(),
            live.config.platform.zone,
            addr.port()
        );
    }
    drop(snap);
    let running = Running::start(Arc::new(live), listener)?;
    shutdown_requested().await;
    tracing::info!("shutting down: letting in-flight requests finish");
    running.stop().await;
    Ok(())
}
