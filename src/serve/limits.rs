//! Connection limits that hyper does not enforce by itself, applied between the accepted
//! socket and hyper: an idle timeout on every connection, and a deadline for a new
//! connection's first request (hyper's HTTP/1.1 header timeout starts only once the
//! protocol is sniffed, and HTTP/2 has none). Also the public listeners' body ceiling.

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
/// fails, so a peer that stops reading does not pin the connection either.
pub struct GuardedIo<T> {
    inner: T,
    idle: Duration,
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
    /// Wrap a freshly accepted connection.
    pub fn new(inner: T, limits: &Limits) -> (GuardedIo<T>, RequestSeen) {
        let now = Instant::now();
        let idle = Duration::from_secs(limits.idle_timeout_secs.max(1));
        let first_request_by = now + Duration::from_secs(limits.header_read_timeout_secs.max(1));
        let seen = Arc::new(AtomicBool::new(false));
        let timer = Box::pin(tokio::time::sleep_until(first_request_by.min(now + idle)));
        let io = GuardedIo { inner, idle, first_request_by, seen: seen.clone(), last: now, timer };
        (io, RequestSeen(seen))
    }

    fn deadline(&self) -> Instant {
        let idle_at = self.last + self.idle;
        if self.seen.load(Ordering::Relaxed) {
            idle_at
        } else {
            idle_at.min(self.first_request_by)
        }
    }

    /// Has the deadline passed? Registers the waker when it has not. Deadlines only move
    /// later, so the timer is re-armed only when it fires early, not on every byte.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            let deadline = self.deadline();
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
        .body(Body::new(Bytes::from_static(body.as_bytes())))
        .expect("static headers are valid");
    security_headers(resp.headers_mut());
    Some(resp)
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
    async fn a_peer_that_stops_reading_fails_the_write() {
        let (_client, server) = tokio::io::duplex(16);
        let (mut io, seen) = GuardedIo::new(server, &limits(1, 1));
        seen.mark();
        let err = tokio::time::timeout(Duration::from_secs(10), io.write_all(&[0u8; 64])).await;
        assert_eq!(err.expect("the write gives up").unwrap_err().kind(), io::ErrorKind::TimedOut);
    }
}
