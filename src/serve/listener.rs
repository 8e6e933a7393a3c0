//! Listeners: accept connections, speak HTTP/1.1 and HTTP/2 through hyper, hand each
//! request to the handler with the current snapshot, and shut down gracefully.

use crate::model::config::Limits;
use crate::model::label::Label;
use crate::serve::handler::{self, Body, Scheme};
use crate::serve::limits::{GuardedIo, RequestSeen};
use crate::serve::metrics::Metrics;
use crate::snapshot::Live;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
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
    /// Certificates and ACME answers (empty while TLS is off; see [`crate::snapshot::certs::start`]).
    pub certs: Arc<crate::snapshot::certs::Certs>,
    /// The public write path (questions, ratings), once `launch` has its writer running.
    pub desk: std::sync::OnceLock<crate::serve::feedback::Desk>,
}

/// The HTTP protocol settings for public listeners, from `[limits]`.
pub fn http_builder(limits: &Limits) -> auto::Builder<StreamsInline> {
    let mut builder = auto::Builder::new(StreamsInline);
    builder
        .http1()
        // No `header_read_timeout`: `limits::GuardedIo` keeps that deadline without a timer
        // per request (hyper's also closed keep-alive connections quiet for that long).
        .timer(TokioTimer::new())
        .header_read_timeout(None)
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

/// How hyper runs an HTTP/2 stream's answer: polled once at once, inside the connection's
/// task, and spawned as a task of its own only when it has to wait (a form, a streamed
/// file). A page from the snapshot is ready at the first poll, so its frames are queued
/// while the connection is still reading the streams that came with it, and go out
/// together in one write; spawned, every answer woke the connection for a write of its own.
#[derive(Debug, Clone, Copy)]
pub struct StreamsInline;

impl<F> hyper::rt::Executor<F> for StreamsInline
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        let mut fut = Box::pin(fut);
        // No waker yet: a stream that waits is polled again by its own task, which
        // registers the real one.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        if fut.as_mut().poll(&mut cx).is_pending() {
            tokio::spawn(fut);
        }
    }
}

/// Answer one request from the snapshot; `sni`: the TLS server name of an HTTPS
/// connection. Also says which member answered (for the metrics and the access log).
pub(crate) fn respond<'s>(
    app: &App,
    snap: &'s crate::snapshot::Snapshot,
    req: &Request<Incoming>,
    scheme: Scheme,
    sni: Option<&str>,
) -> (Response<Body>, Option<&'s Label>) {
    if let Some(resp) = crate::serve::limits::refuse_large_body(req, app.live.config.limits.max_body_bytes) {
        return (resp, None);
    }
    let ctx = handler::Ctx { scheme, sni, certs: Some(&app.certs) };
    handler::handle(snap, req, ctx)
}

/// Answer one request: the write path's pages (`feedback`) on a served site or the apex,
/// everything else through [`respond`]; then count it and write its access-log line. `seen`
/// learns when the request began and was answered (see [`RequestSeen`]).
///
/// A page from the snapshot (nearly every request) is answered here, before hyper polls:
/// the request is dropped at once, so hyper's read buffer is free again when it looks for
/// the connection's next bytes (held, it would copy the buffer on every request). Only the
/// two answers that wait (a form, a streamed file) become a boxed future.
pub(crate) fn serve_one(
    app: &Arc<App>,
    req: Request<Incoming>,
    scheme: Scheme,
    sni: Option<&str>,
    peer: std::net::IpAddr,
    seen: &RequestSeen,
) -> Answer {
    let started = std::time::Instant::now();
    // Kept only when the access log is on: cheap clones (shared bytes), taken before the
    // write path consumes the request.
    let logged = tracing::enabled!(target: "cong::access", tracing::Level::INFO).then(|| Seen::of(&req));
    let version = req.version();
    // One snapshot for the request; the member is borrowed from it until the request is
    // counted (a clone of its name would add to a count both cores write when they serve
    // the same member).
    let snap = app.live.snapshot();
    if let Some(target) = app.desk.get().and_then(|_| feedback_target(app, &snap, &req, scheme, sni)) {
        let app = app.clone();
        return Answer::Waiting(Box::pin(seen.answer(version, async move {
            let desk = app.desk.get().expect("a desk once set stays set");
            let member = target.1.clone();
            let resp = crate::serve::feedback::answer(desk, target, req, peer).await;
            done(&app, resp, Some(&member), started, logged)
        })));
    }
    let (resp, member) = respond(app, &snap, &req, scheme, sni);
    drop(req);
    if crate::serve::file::streams(&resp) {
        let (app, member) = (app.clone(), member.cloned());
        return Answer::Waiting(Box::pin(seen.answer(version, async move {
            let resp = crate::serve::file::fill(resp).await;
            done(&app, resp, member.as_ref(), started, logged)
        })));
    }
    seen.answered_at_once(version);
    Answer::Ready(std::future::ready(done(app, resp, member, started, logged)))
}

/// Count an answered request and write its access-log line.
fn done(
    app: &App,
    resp: Response<Body>,
    member: Option<&Label>,
    started: std::time::Instant,
    seen: Option<Seen>,
) -> Response<Body> {
    let elapsed = started.elapsed();
    app.metrics.record(member, resp.status().as_u16(), elapsed);
    if let Some(seen) = seen {
        seen.log(&resp, member.map(|m| &**m), elapsed);
    }
    resp
}

/// The answer to one request, as hyper's service wants it: ready at once, or waiting on a
/// form's write or a file's open.
#[allow(clippy::large_enum_variant)] // the ready answer is nearly every one; boxing it would allocate each time
pub(crate) enum Answer {
    Ready(std::future::Ready<Response<Body>>),
    Waiting(std::pin::Pin<Box<dyn std::future::Future<Output = Response<Body>> + Send>>),
}

impl std::future::Future for Answer {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        match self.get_mut() {
            Answer::Ready(resp) => std::pin::Pin::new(resp).poll(cx).map(Ok),
            Answer::Waiting(fut) => fut.as_mut().poll(cx).map(Ok),
        }
    }
}

/// What the access log says about a request, kept from before it was answered.
struct Seen {
    method: http::Method,
    uri: http::Uri,
    host: Option<http::HeaderValue>,
    version: http::Version,
}

impl Seen {
    fn of(req: &Request<Incoming>) -> Seen {
        Seen {
            method: req.method().clone(),
            uri: req.uri().clone(),
            host: req.headers().get(http::header::HOST).cloned(),
            version: req.version(),
        }
    }

    /// One line: host, method, path, status, bytes, duration (until the response head is
    /// ready; a streamed file goes on after), member (`-` for none) and protocol.
    fn log(&self, resp: &Response<Body>, member: Option<&str>, elapsed: Duration) {
        use hyper::body::Body as _;
        let host = self.host.as_ref().and_then(|h| h.to_str().ok()).or(self.uri.host()).unwrap_or("-");
        let bytes = resp.body().size_hint().exact().unwrap_or_else(|| resp.body().size_hint().lower());
        let protocol = match self.version {
            http::Version::HTTP_10 => "HTTP/1.0",
            http::Version::HTTP_2 => "HTTP/2",
            _ => "HTTP/1.1",
        };
        tracing::info!(
            target: "cong::access",
            host = %crate::model::escape::Escaped(host),
            method = %self.method,
            path = %crate::model::escape::Escaped(self.uri.path()),
            status = resp.status().as_u16(),
            bytes,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            member = %member.unwrap_or("-"),
            protocol = %protocol,
            "access"
        );
    }
}

/// The write path's page `req` asks for, when the handler would serve content there: not a
/// plain-HTTP name redirected to HTTPS, not a misdirected HTTPS request.
fn feedback_target(
    app: &App,
    snap: &crate::snapshot::Snapshot,
    req: &Request<Incoming>,
    scheme: Scheme,
    sni: Option<&str>,
) -> Option<(crate::serve::feedback::Page, Label, String)> {
    let path = req.uri().path();
    if !(path.starts_with("/hoi-dap/") || path == "/_danh-gia") {
        return None;
    }
    let host = crate::model::host::normalize_host(handler::request_host(req)?).ok()?;
    match scheme {
        Scheme::Http if app.certs.redirects(&host) => return None,
        Scheme::Https if sni != Some(&*host) => return None,
        _ => {}
    }
    let zone_label = app.live.config.platform.zone.split('.').next().unwrap_or("mic").to_string();
    crate::serve::feedback::target(snap, &host, path, &zone_label)
}

/// Accept connections on `listener` until `shutdown` turns true, then drain.
pub async fn run_listener(listener: TcpListener, app: Arc<App>, scheme: Scheme, shutdown: watch::Receiver<bool>) {
    let limits = app.live.config.limits.clone();
    let builder = http_builder(&limits);
    accept_loop(listener, &limits, "HTTP", shutdown, |stream, permit, graceful| {
        let app = app.clone();
        let peer = stream.peer_addr().map_or(std::net::IpAddr::from([0, 0, 0, 0]), |a| a.ip());
        spawn_connection(&builder, stream, &limits, (Some(graceful), permit), |seen| {
            service_fn(move |req: Request<Incoming>| serve_one(&app, req, scheme, None, peer, &seen))
        });
    })
    .await;
}

/// Serve one accepted plain-HTTP connection with the service `make` gives for its
/// [`RequestSeen`], under the idle and first-request deadlines on the socket itself (see
/// `limits`), watched by `graceful`; its slot (`permit`) is freed when it ends.
fn spawn_connection<S>(
    builder: &auto::Builder<StreamsInline>,
    stream: TcpStream,
    limits: &Limits,
    (graceful, permit): (Option<&GracefulShutdown>, OwnedSemaphorePermit),
    make: impl FnOnce(RequestSeen) -> S,
) where
    S: hyper::service::Service<Request<Incoming>, Response = Response<Body>, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    let (stream, seen) = GuardedIo::new(stream, limits);
    let conn = builder.serve_connection(TokioIo::new(stream), make(seen)).into_owned();
    // Under the listener's graceful shutdown, or (a start's answer) left to finish.
    let watcher = graceful.map(GracefulShutdown::watcher);
    tokio::spawn(async move {
        let _ = match watcher {
            Some(watcher) => watcher.watch(conn).await,
            None => conn.await,
        };
        drop(permit);
    });
}

/// While a start loads the registry (a fresh data folder imports every site folder first:
/// a second at 10,000), the public port is bound but nothing serves it yet. This answers
/// every request on it at once with a 503 and `Retry-After: 1` instead of leaving the
/// connection to wait, until `done` turns true; then the listener proper takes the port
/// over. A connection taken before that gets its answer whenever its request comes: it is
/// not under the loop's graceful shutdown, which closes a connection still waiting for its
/// first request, and a client that connected just before the end would see its
/// connection close unanswered. Each is bounded by the header timeout of `limits`.
pub async fn answer_starting(listener: TcpListener, limits: Limits, done: watch::Receiver<bool>) {
    let builder = http_builder(&limits);
    // Each answer is instant and closes its connection: a few slots do, and the load's own
    // files (site.toml, SQLite) keep the rest of the open-file limit.
    accept_loop_under(listener, STARTING_CONNECTIONS, "HTTP (starting)", done, |stream, permit, _| {
        spawn_connection(&builder, stream, &limits, (None, permit), starting_service);
    })
    .await;
}

/// How many connections [`answer_starting`] (and its HTTPS twin) holds open at once.
pub(crate) const STARTING_CONNECTIONS: usize = 64;

/// The service of a connection taken while a start loads the registry: [`starting`] to
/// every request.
pub(crate) fn starting_service(
    seen: RequestSeen,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Body>,
    Error = Infallible,
    Future = std::future::Ready<Result<Response<Body>, Infallible>>,
> + Send
       + 'static {
    service_fn(move |req: Request<Incoming>| {
        seen.answered_at_once(req.version());
        std::future::ready(Ok(starting(req.version())))
    })
}

/// The answer of [`answer_starting`]: no theme is loaded yet, so a page of its own. Over
/// HTTP/1 the connection closes after it, so the client's next request reaches the
/// listener proper.
fn starting(version: http::Version) -> Response<Body> {
    const PAGE: &str =
        "<!doctype html>\n<html lang=\"vi\">\n<head><meta charset=\"utf-8\"><title>Đang khởi động</title></head>\n\
        <body><main><h1>Cổng thông tin đang khởi động</h1>\n<p>Xin vui lòng thử lại sau giây lát.</p>\n\
        <p lang=\"en\">The portal is starting; please try again in a moment.</p></main></body>\n</html>\n";
    let mut builder = Response::builder()
        .status(hyper::StatusCode::SERVICE_UNAVAILABLE)
        .header(http::header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(http::header::CACHE_CONTROL, "no-store")
        .header(http::header::RETRY_AFTER, "1");
    if version < http::Version::HTTP_2 {
        builder = builder.header(http::header::CONNECTION, "close");
    }
    handler::finish(builder, bytes::Bytes::from_static(PAGE.as_bytes()))
}

/// What every public listener shares: [`accept_loop_under`] the `[limits] max_connections`
/// ceiling.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    limits: &Limits,
    what: &str,
    shutdown: watch::Receiver<bool>,
    serve: impl FnMut(TcpStream, OwnedSemaphorePermit, &GracefulShutdown),
) {
    accept_loop_under(listener, limits.max_connections, what, shutdown, serve).await;
}

/// What every listener shares: accept with at most `ceiling` connections open until
/// `shutdown` turns true, hand each connection with its slot to `serve` (which must spawn,
/// and watch the connection with `graceful`), then give open connections
/// [`DRAIN_TIMEOUT`] to finish.
pub(crate) async fn accept_loop_under(
    listener: TcpListener,
    ceiling: usize,
    what: &str,
    mut shutdown: watch::Receiver<bool>,
    mut serve: impl FnMut(TcpStream, OwnedSemaphorePermit, &GracefulShutdown),
) {
    let graceful = GracefulShutdown::new();
    // Past the ceiling, connections wait in the kernel's accept queue until one closes.
    let slots = Arc::new(Semaphore::new(ceiling.max(1)));
    loop {
        // Shutdown first: once it is asked for, no connection is taken (at a start's end the
        // listener proper is already accepting on the same socket).
        let permit = tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            p = slots.clone().acquire_owned() => p.expect("semaphore never closed"),
        };
        let stream = tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(e) => {
                    // EMFILE and the like: wait a little instead of spinning.
                    tracing::warn!("{what} accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
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
