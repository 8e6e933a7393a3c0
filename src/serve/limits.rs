//! Connection limits applied between the accepted socket and hyper: an idle timeout on
//! public connections, and on every connection deadlines for request heads (the first one
//! from the accept, whatever the protocol; each later HTTP/1.1 head from its first byte).
//! Also the public listeners' body ceiling, and the connection ceilings fitted to the
//! process's open-file limit.

use crate::model::config::Limits;
use crate::serve::handler::{security_headers, Body};
use bytes::Bytes;
use http::header;
use http::{Response, StatusCode};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// A connection's IO with its clocks: it reads as closed (EOF) once no byte has moved
/// either way for `idle_timeout_secs`, when no request has arrived within
/// `header_read_timeout_secs` of the accept, or (HTTP/1.1) when a later request head is not
/// complete within `header_read_timeout_secs` of its first byte. A write that cannot
/// progress for as long fails, so a peer that stops reading does not pin the connection
/// either. Without the idle clock ([`GuardedIo::first_request_only`]) only the request-head
/// deadlines apply.
///
/// The head deadline lives here rather than in hyper (`header_read_timeout`), which made,
/// registered and dropped a timer for every request, and started it when the previous
/// request was read, so it closed every keep-alive connection quiet for that long.
pub struct GuardedIo<T> {
    inner: T,
    idle: Option<Duration>,
    head_timeout: Duration,
    /// Until the first request: the accept time plus the header read timeout.
    first_request_by: Instant,
    requests: Arc<Requests>,
    /// The first byte of a request head not complete yet, and how many requests had begun
    /// then (the head is complete once more have).
    head: Option<(Instant, u64)>,
    /// When a byte last moved.
    last: Instant,
    /// Fires at or before the current deadline, and never more than one head timeout after
    /// it was armed: a head opened later has its deadline after the timer's, so the timer is
    /// never moved on a request, only re-armed when it fires early.
    timer: Pin<Box<Sleep>>,
    /// The waker the timer last said `Pending` to, since it was last set: it will wake that
    /// one, so polling it again for the same is work for nothing.
    armed: Option<std::task::Waker>,
}

/// What the connection's service tells its socket: how many requests have begun and how
/// many were answered, and whether they come multiplexed (HTTP/2, no head deadline).
#[derive(Debug, Default)]
struct Requests {
    begun: AtomicU64,
    answered: AtomicU64,
    multiplexed: AtomicBool,
}

/// Held by the connection's service: marks each request whose head arrived.
#[derive(Clone, Debug)]
pub struct RequestSeen(Arc<Requests>);

/// Held while a request is being answered; dropped when its answer is ready (or the
/// request is abandoned). Bytes read meanwhile are its body, not a new head.
#[derive(Debug)]
#[must_use = "the request counts as answered when this is dropped"]
pub struct Answering(Arc<Requests>);

impl RequestSeen {
    /// A complete request head arrived; answer it while holding the returned guard.
    #[inline]
    pub fn begin(&self, version: http::Version) -> Answering {
        self.start(version);
        Answering(self.0.clone())
    }

    /// A request whose answer was ready at once (a page from the snapshot): it begins and
    /// is answered here, without a guard to hold.
    #[inline]
    pub fn answered_at_once(&self, version: http::Version) {
        self.start(version);
        self.0.answered.fetch_add(1, Ordering::Release);
    }

    #[inline]
    fn start(&self, version: http::Version) {
        if version >= http::Version::HTTP_2 {
            self.0.multiplexed.store(true, Ordering::Relaxed);
        }
        self.0.begun.fetch_add(1, Ordering::Release);
    }

    /// [`RequestSeen::begin`] now, and the request counts as answered once `answer` is done.
    pub fn answer<F: Future>(&self, version: http::Version, answer: F) -> impl Future<Output = F::Output> {
        let answering = self.begin(version);
        async move {
            let out = answer.await;
            drop(answering);
            out
        }
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.answered.fetch_add(1, Ordering::Release);
    }
}

impl<T> GuardedIo<T> {
    /// Wrap a freshly accepted public connection: every clock.
    pub fn new(inner: T, limits: &Limits) -> (GuardedIo<T>, RequestSeen) {
        let idle = Duration::from_secs(limits.idle_timeout_secs.max(1));
        Self::guard(inner, limits, Some(idle))
    }

    /// Wrap a freshly accepted admin connection: the request-head deadlines only. Between
    /// requests the connection may stay silent (a request may rightly take long).
    pub fn first_request_only(inner: T, limits: &Limits) -> (GuardedIo<T>, RequestSeen) {
        Self::guard(inner, limits, None)
    }

    fn guard(inner: T, limits: &Limits, idle: Option<Duration>) -> (GuardedIo<T>, RequestSeen) {
        let now = Instant::now();
        let head_timeout = Duration::from_secs(limits.header_read_timeout_secs.max(1));
        let first_request_by = now + head_timeout;
        let requests = Arc::new(Requests::default());
        let first = idle.map_or(first_request_by, |idle| first_request_by.min(now + idle));
        let timer = Box::pin(tokio::time::sleep_until(first));
        let io = GuardedIo {
            inner,
            idle,
            head_timeout,
            first_request_by,
            requests: requests.clone(),
            head: None,
            last: now,
            timer,
            armed: None,
        };
        (io, RequestSeen(requests))
    }

    /// Bytes arrived at `now`: between two HTTP/1.1 requests they open a new head.
    fn read_at(&mut self, now: Instant) {
        self.last = now;
        let begun = self.requests.begun.load(Ordering::Acquire);
        if begun == 0 || self.head.is_some_and(|(_, n)| n == begun) {
            return; // the first head (its own deadline), or this head is still open
        }
        let between = self.requests.answered.load(Ordering::Acquire) == begun;
        self.head = (between && !self.requests.multiplexed.load(Ordering::Relaxed)).then_some((now, begun));
    }

    /// When the connection reads as closed; `None`: never (no idle clock, no head open).
    fn deadline(&self) -> Option<Instant> {
        let idle_at = self.idle.map(|idle| self.last + idle);
        let begun = self.requests.begun.load(Ordering::Acquire);
        let head_by = if begun == 0 {
            Some(self.first_request_by)
        } else {
            self.head.filter(|(_, n)| *n == begun).map(|(since, _)| since + self.head_timeout)
        };
        match (idle_at, head_by) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Has the deadline passed? Registers the waker when it has not. The clock is read only
    /// when the timer has fired or would fire too late; on a busy connection (the deadline
    /// only moves later) it is not read at all.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            let Some(deadline) = self.deadline() else {
                return false;
            };
            let on_time = !self.timer.is_elapsed() && self.timer.deadline() <= deadline;
            if on_time && self.wait(cx) {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            self.timer.as_mut().reset(deadline.min(now + self.head_timeout));
            self.armed = None;
            if self.wait(cx) {
                return false;
            }
        }
    }

    /// Wait on the timer, which has not fired since it was last set: `true` while it has
    /// not, and then it wakes `cx`'s task. Polled once per waker: it keeps the one it was
    /// given. Polled outside tokio's budget of work per task: out of budget, a `Sleep` says
    /// `Pending` without taking the waker, and `armed` would then promise a wake that never
    /// comes.
    fn wait(&mut self, cx: &mut Context<'_>) -> bool {
        if self.armed.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            return true;
        }
        let timer = std::pin::pin!(tokio::task::unconstrained(self.timer.as_mut()));
        let pending = timer.poll(cx).is_pending();
        if pending {
            self.armed = Some(cx.waker().clone());
        }
        pending
    }
}

/// The monotonic clock as of its last tick (a few milliseconds), for the times bytes moved:
/// read on every read and write, where the precise clock cost more than the rest of the
/// bookkeeping, and plenty for deadlines counted in seconds.
fn coarse_now() -> Instant {
    static START: OnceLock<(Instant, Duration)> = OnceLock::new();
    let (start, coarse_start) = *START.get_or_init(|| (Instant::now(), coarse_clock()));
    start + coarse_clock().saturating_sub(coarse_start)
}

fn coarse_clock() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::MonotonicCoarse);
    Duration::new(t.tv_sec.unsigned_abs(), t.tv_nsec as u32)
}

impl<T: AsyncRead + Unpin> AsyncRead for GuardedIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.read_at(coarse_now());
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            // Reading nothing more is how hyper and h2 learn to close a quiet connection.
            Poll::Pending if self.expired(cx) => Poll::Ready(Ok(())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> GuardedIo<T> {
    fn wrote(&mut self, cx: &mut Context<'_>, r: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if let Poll::Ready(Ok(n)) = r {
            if n > 0 {
                self.last = coarse_now();
            }
        }
        self.give_up_when_stalled(cx, r)
    }

    /// A write, flush or shutdown that cannot progress past the deadline fails. (A flush or
    /// a shutdown writes too: what `cork` held back, what TLS holds.)
    fn give_up_when_stalled<R>(&mut self, cx: &mut Context<'_>, r: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        match r {
            Poll::Pending if self.expired(cx) => {
                Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the peer stopped reading")))
            }
            other => other,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for GuardedIo<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.wrote(cx, r)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.wrote(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.give_up_when_stalled(cx, r)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.give_up_when_stalled(cx, r)
    }
}

/// A public portal takes no request bodies: one declared larger than `max` bytes gets 413
/// and the connection is closed without reading it. Smaller bodies are never read either
/// (the handler answers GET/HEAD and refuses the rest with 405). A request that says it has
/// no body (every GET a browser sends) is let through without reading its headers.
pub fn refuse_large_body<B: hyper::body::Body>(req: &http::Request<B>, max: u64) -> Option<Response<Body>> {
    if req.body().is_end_stream() {
        return None;
    }
    let declared = req.headers().get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse::<u64>().ok()?;
    if declared <= max {
        return None;
    }
    let body = "request body too large\n";
    let mut resp = Response::builder()
        .status(StatusCode::PAYLOAD_TOO_LARGE)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::CONNECTION, "close")
        .header(header::CONTENT_LENGTH, body.len())
        .body(crate::serve::handler::full(Bytes::from_static(body.as_bytes())))
        .expect("static headers are valid");
    security_headers(resp.headers_mut());
    Some(resp)
}

/// File descriptors kept out of every connection ceiling: stdio, the listening sockets,
/// the registry (SQLite, its journal), site, theme and certificate files being read, the
/// file watcher, and outgoing sockets for ACME and DNS checks.
pub const FILES_RESERVE: u64 = 64;

/// The connection ceilings a process may keep open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ceilings {
    /// `[limits] max_connections`, for each public listener.
    pub max_connections: usize,
    /// `[limits] admin_max_connections`.
    pub admin_max_connections: usize,
}

/// Fit the ceilings of `limits` under an open-file limit of `open_files`: `public` public
/// listeners each up to `max_connections`, the admin listener (when `admin`) up to
/// `admin_max_connections`, and [`FILES_RESERVE`]. Past the limit `accept` fails with
/// EMFILE on every listener at once, so a flood on one would silence the others. What
/// does not fit is lowered: the admin listener to at most a quarter of the room, the public
/// listeners share the rest; never below 1 (a limit this small cannot be kept).
pub fn fit_to_open_files(limits: &Limits, public: usize, admin: bool, open_files: u64) -> Ceilings {
    let wanted =
        Ceilings { max_connections: limits.max_connections, admin_max_connections: limits.admin_max_connections };
    let room = usize::try_from(open_files.saturating_sub(FILES_RESERVE)).unwrap_or(usize::MAX);
    let admin_wants = if admin { wanted.admin_max_connections } else { 0 };
    let need = wanted.max_connections.saturating_mul(public).saturating_add(admin_wants);
    if need <= room {
        return wanted;
    }
    let admin_gets = if admin { admin_wants.min(room / 4).max(1) } else { wanted.admin_max_connections };
    let public_room = room.saturating_sub(if admin { admin_gets } else { 0 });
    let each = (public_room / public.max(1)).max(1);
    Ceilings { max_connections: wanted.max_connections.min(each), admin_max_connections: admin_gets }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn limits(header: u64, idle: u64) -> Limits {
        Limits { header_read_timeout_secs: header, idle_timeout_secs: idle, ..Limits::default() }
    }

    #[test]
    fn only_declared_bodies_over_the_limit_are_refused() {
        // A body still to come, as hyper hands over a request that declared one.
        let mut req = http::Request::new(http_body_util::Full::new(Bytes::from_static(b"x")));
        assert!(refuse_large_body(&req, 10).is_none(), "no body");
        req.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from_static("10"));
        assert!(refuse_large_body(&req, 10).is_none(), "at the limit");
        req.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from_static("11"));
        let resp = refuse_large_body(&req, 10).expect("over the limit");
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(resp.headers()[header::CONNECTION], "close");
        assert_eq!(resp.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }

    #[tokio::test]
    async fn a_connection_that_never_sends_a_request_reads_as_closed() {
        let (mut client, server) = tokio::io::duplex(64);
        let (mut io, _seen) = GuardedIo::new(server, &limits(1, 60));
        client.write_all(b"GE").await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(io.read(&mut buf).await.unwrap(), 2);
        let eof = tokio::time::timeout(Duration::from_secs(10), io.read(&mut buf)).await;
        assert_eq!(eof.expect("closed at the first-request deadline").unwrap(), 0);
    }

    #[tokio::test]
    async fn after_a_request_only_silence_closes() {
        let (mut client, server) = tokio::io::duplex(64);
        // The first-request deadline (1 s) no longer applies once a request was seen; bytes
        // read while it is being answered are its body.
        let (mut io, seen) = GuardedIo::new(server, &limits(1, 2));
        let answering = seen.begin(http::Version::HTTP_11);
        let mut buf = [0u8; 8];
        let started = Instant::now();
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(900)).await;
            client.write_all(b"x").await.unwrap();
            assert_eq!(io.read(&mut buf).await.unwrap(), 1, "traffic keeps the connection open");
        }
        assert!(started.elapsed() > Duration::from_secs(2), "open past both timeouts while busy");
        drop(answering);
        let quiet = Instant::now();
        let eof = tokio::time::timeout(Duration::from_secs(10), io.read(&mut buf)).await;
        assert_eq!(eof.expect("closed after idle_timeout_secs of silence").unwrap(), 0);
        assert!(
            quiet.elapsed() >= Duration::from_millis(1500),
            "the idle clock, not the head's ({:?})",
            quiet.elapsed()
        );
    }

    #[tokio::test]
    async fn a_later_head_must_be_complete_within_the_header_timeout_of_its_first_byte() {
        let (mut client, server) = tokio::io::duplex(64);
        let (mut io, seen) = GuardedIo::new(server, &limits(1, 60));
        drop(seen.begin(http::Version::HTTP_11));
        let mut buf = [0u8; 8];
        // Quiet between requests for longer than the header timeout: still open.
        let quiet = tokio::time::timeout(Duration::from_millis(1500), io.read(&mut buf)).await;
        assert!(quiet.is_err(), "a quiet keep-alive connection was closed by the header timeout: {quiet:?}");
        // A head dribbled a byte every 400 ms: closed about 1 s after its first byte.
        let first_byte = Instant::now();
        let eof = loop {
            client.write_all(b"G").await.unwrap();
            assert_eq!(io.read(&mut buf).await.unwrap(), 1);
            // As hyper does with an incomplete head: read on, and wait.
            match tokio::time::timeout(Duration::from_millis(400), io.read(&mut buf)).await {
                Ok(Ok(0)) => break first_byte.elapsed(),
                Ok(other) => panic!("{other:?}"),
                Err(_) => {}
            }
            assert!(first_byte.elapsed() < Duration::from_secs(5), "the dribbled head was never cut off");
        };
        assert!(eof >= Duration::from_millis(900), "cut off by the head deadline, not before ({eof:?})");

        // HTTP/2 multiplexes: its frames between requests open no head.
        let (mut client, server) = tokio::io::duplex(64);
        let (mut io, seen) = GuardedIo::new(server, &limits(1, 60));
        drop(seen.begin(http::Version::HTTP_2));
        for _ in 0..4 {
            client.write_all(b"f").await.unwrap();
            assert_eq!(io.read(&mut buf).await.unwrap(), 1);
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    }

    /// A busy connection's task can run out of tokio's budget of work per poll; a read that
    /// finds nothing then must still leave the timer holding the waker, or the deadline
    /// passes without anyone noticing.
    #[tokio::test]
    async fn a_read_made_out_of_budget_still_closes_at_the_deadline() {
        let (_client, server) = tokio::io::duplex(64);
        let (mut io, _seen) = GuardedIo::new(server, &limits(1, 60));
        let mut buf = [0u8; 8];
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        for _ in 0..1000 {
            tx.send(()).unwrap();
        }
        let pending = std::future::poll_fn(|cx| {
            while tokio::task::coop::has_budget_remaining() {
                let _ = rx.poll_recv(cx);
            }
            let mut read = ReadBuf::new(&mut buf);
            Poll::Ready(Pin::new(&mut io).poll_read(cx, &mut read).is_pending())
        })
        .await;
        assert!(pending, "nothing to read yet");
        let eof = tokio::time::timeout(Duration::from_secs(10), io.read(&mut buf)).await;
        assert_eq!(eof.expect("closed at the first-request deadline").unwrap(), 0);
    }

    #[tokio::test]
    async fn without_the_idle_clock_only_the_first_request_deadline_closes() {
        let (_client, server) = tokio::io::duplex(64);
        let (mut io, _seen) = GuardedIo::first_request_only(server, &limits(1, 1));
        let mut buf = [0u8; 8];
        let eof = tokio::time::timeout(Duration::from_secs(10), io.read(&mut buf)).await;
        assert_eq!(eof.expect("closed at the first-request deadline").unwrap(), 0);

        let (_client, server) = tokio::io::duplex(64);
        let (mut io, seen) = GuardedIo::first_request_only(server, &limits(1, 1));
        drop(seen.begin(http::Version::HTTP_11));
        // Silent past both timeouts: still open, as an admin request may take that long.
        let open = tokio::time::timeout(Duration::from_millis(2500), io.read(&mut buf)).await;
        assert!(open.is_err(), "a connection with a request read as closed: {open:?}");
    }

    #[test]
    fn the_ceilings_fit_under_the_open_file_limit() {
        // (max_connections, admin_max_connections, public listeners, admin on, open files)
        // -> (max_connections, admin_max_connections)
        let table = [
            // Room enough: nothing changes.
            ((10_000, 64, 1, true, 1 << 20), (10_000, 64)),
            ((10_000, 64, 2, true, 20_128), (10_000, 64)),
            ((100, 64, 1, true, 228), (100, 64)),
            // One file short: the public ceiling gives way, the admin one fits its quarter.
            ((100, 16, 1, true, 179), (99, 16)),
            // The admin ceiling over a quarter of the room is lowered to it.
            ((100, 64, 1, true, 227), (100, 40)),
            // The repro: 256 files, 192 of them for connections; admin gets a quarter.
            ((10_000, 64, 1, true, 256), (144, 48)),
            ((10_000, 16, 1, true, 256), (176, 16)),
            // HTTPS too: two public listeners share what the admin one leaves.
            ((10_000, 64, 2, true, 1024), (448, 64)),
            // No admin listener: its ceiling is not counted and stays as configured.
            ((10_000, 64, 1, false, 256), (192, 64)),
            // Less than the reserve: every ceiling is 1, the least a listener can serve.
            ((10_000, 64, 2, true, 50), (1, 1)),
        ];
        for ((max, admin_max, public, admin, open_files), (want_max, want_admin)) in table {
            let limits = Limits { max_connections: max, admin_max_connections: admin_max, ..Limits::default() };
            let got = fit_to_open_files(&limits, public, admin, open_files);
            let want = Ceilings { max_connections: want_max, admin_max_connections: want_admin };
            assert_eq!(got, want, "{max} + {admin_max} (admin {admin}) x {public} under {open_files}");
            if open_files > FILES_RESERVE + public as u64 {
                let used = got.max_connections * public + if admin { got.admin_max_connections } else { 0 };
                assert!(used as u64 + FILES_RESERVE <= open_files, "{used} connections under {open_files}");
            }
        }
    }

    #[tokio::test]
    async fn a_peer_that_stops_reading_fails_the_write() {
        let (_client, server) = tokio::io::duplex(16);
        let (mut io, seen) = GuardedIo::new(server, &limits(1, 1));
        let _answering = seen.begin(http::Version::HTTP_11);
        let err = tokio::time::timeout(Duration::from_secs(10), io.write_all(&[0u8; 64])).await;
        assert_eq!(err.expect("the write gives up").unwrap_err().kind(), io::ErrorKind::TimedOut);
    }

    /// HTTP/2 over TLS writes into `cork`'s buffer and waits in the flush: a peer that stops
    /// reading fails the flush as it fails a write.
    #[tokio::test]
    async fn a_peer_that_stops_reading_fails_the_flush() {
        let (_client, server) = tokio::io::duplex(16);
        let (corked, handle) = crate::serve::cork::cork(server, true);
        let (mut io, seen) = GuardedIo::new(corked, &limits(1, 1));
        let task = crate::serve::cork::Uncorking::new(
            async move {
                let _answering = seen.begin(http::Version::HTTP_2);
                io.write_all(&[0u8; 64]).await.expect("held in the buffer");
                io.flush().await.expect("put off until the next poll");
                tokio::task::yield_now().await;
                io.flush().await
            },
            handle,
        );
        let err = tokio::time::timeout(Duration::from_secs(10), task).await;
        assert_eq!(err.expect("the flush gives up").unwrap_err().kind(), io::ErrorKind::TimedOut);
    }
}
