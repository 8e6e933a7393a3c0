//! Connection limits that hyper does not enforce by itself, applied between the accepted
//! socket and hyper: an idle timeout on public connections, and on every connection a
//! deadline for its first request (hyper's HTTP/1.1 header timeout starts only once the
//! protocol is sniffed, and HTTP/2 has none). Also the public listeners' body ceiling, and
//! the connection ceilings fitted to the process's open-file limit.

use crate::model::config::Limits;
use crate::serve::handler::{security_headers, Body};
use bytes::Bytes;
use http::header::{self, HeaderMap};
use http::{Response, StatusCode};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// A connection's IO with two clocks: it reads as closed (EOF) once no byte has moved
/// either way for `idle_timeout_secs`, or when no request has arrived within
/// `header_read_timeout_secs` of the accept. A write that cannot progress for as long
/// fails, so a peer that stops reading does not pin the connection either. Without the
/// idle clock ([`GuardedIo::first_request_only`]) only the first-request deadline applies.
pub struct GuardedIo<T> {
    inner: T,
    idle: Option<Duration>,
    /// Until the first request: the accept time plus the header read timeout.
    first_request_by: Instant,
    seen: Arc<AtomicBool>,
    /// When a byte last moved.
    last: Instant,
    /// Fires at or before the current deadline; re-armed lazily when it fires early.
    timer: Pin<Box<Sleep>>,
}

/// Held by the connection's service: marks that a complete request head arrived.
#[derive(Clone, Debug)]
pub struct RequestSeen(Arc<AtomicBool>);

impl RequestSeen {
    #[inline]
    pub fn mark(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

impl<T> GuardedIo<T> {
    /// Wrap a freshly accepted public connection: both clocks.
    pub fn new(inner: T, limits: &Limits) -> (GuardedIo<T>, RequestSeen) {
        let idle = Duration::from_secs(limits.idle_timeout_secs.max(1));
        Self::guard(inner, limits, Some(idle))
    }

    /// Wrap a freshly accepted admin connection: the first-request deadline only. Once a
    /// request arrived the connection may stay silent (a request may rightly take long).
    pub fn first_request_only(inner: T, limits: &Limits) -> (GuardedIo<T>, RequestSeen) {
        Self::guard(inner, limits, None)
    }

    fn guard(inner: T, limits: &Limits, idle: Option<Duration>) -> (GuardedIo<T>, RequestSeen) {
        let now = Instant::now();
        let first_request_by = now + Duration::from_secs(limits.header_read_timeout_secs.max(1));
        let seen = Arc::new(AtomicBool::new(false));
        let first = idle.map_or(first_request_by, |idle| first_request_by.min(now + idle));
        let timer = Box::pin(tokio::time::sleep_until(first));
        let io = GuardedIo { inner, idle, first_request_by, seen: seen.clone(), last: now, timer };
        (io, RequestSeen(seen))
    }

    /// When the connection reads as closed; `None`: never (no idle clock, request seen).
    fn deadline(&self) -> Option<Instant> {
        let idle_at = self.idle.map(|idle| self.last + idle);
        if self.seen.load(Ordering::Relaxed) {
            idle_at
        } else {
            Some(idle_at.map_or(self.first_request_by, |at| at.min(self.first_request_by)))
        }
    }

    /// Has the deadline passed? Registers the waker when it has not. Deadlines only move
    /// later, so the timer is re-armed only when it fires early, not on every byte.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            let Some(deadline) = self.deadline() else {
                return false;
            };
            if Instant::now() >= deadline {
                return true;
            }
            if self.timer.deadline() != deadline {
                self.timer.as_mut().reset(deadline);
            }
            if self.timer.as_mut().poll(cx).is_pending() {
                return false;
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for GuardedIo<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    self.last = Instant::now();
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
        match r {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.last = Instant::now();
                }
                Poll::Ready(Ok(n))
            }
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
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A public portal takes no request bodies: one declared larger than `max` bytes gets 413
/// and the connection is closed without reading it. Smaller bodies are never read either
/// (the handler answers GET/HEAD and refuses the rest with 405).
pub fn refuse_large_body(headers: &HeaderMap, max: u64) -> Option<Response<Body>> {
    let declared = headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse::<u64>().ok()?;
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
        let mut h = HeaderMap::new();
        assert!(refuse_large_body(&h, 10).is_none(), "no body");
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("10"));
        assert!(refuse_large_body(&h, 10).is_none(), "at the limit");
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("11"));
        let resp = refuse_large_body(&h, 10).expect("over the limit");
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
        // The first-request deadline (1 s) no longer applies once a request was seen.
        let (mut io, seen) = GuardedIo::new(server, &limits(1, 2));
        seen.mark();
        let mut buf = [0u8; 8];
        let started = Instant::now();
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(900)).await;
            client.write_all(b"x").await.unwrap();
            assert_eq!(io.read(&mut buf).await.unwrap(), 1, "traffic keeps the connection open");
        }
        assert!(started.elapsed() > Duration::from_secs(2), "open past both timeouts while busy");
        let eof = tokio::time::timeout(Duration::from_secs(10), io.read(&mut buf)).await;
        assert_eq!(eof.expect("closed after idle_timeout_secs of silence").unwrap(), 0);
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
        seen.mark();
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
        seen.mark();
        let err = tokio::time::timeout(Duration::from_secs(10), io.write_all(&[0u8; 64])).await;
        assert_eq!(err.expect("the write gives up").unwrap_err().kind(), io::ErrorKind::TimedOut);
    }
}
