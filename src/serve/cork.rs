//! Write coalescing for HTTP/2 over TLS: the answers a connection's task makes in one poll
//! leave in one write.
//!
//! The h2 crate writes each DATA frame larger than 256 bytes with a write and a flush of its
//! own, and hyper's HTTP/2 server runs a full connection poll (read, write, flush) for every
//! stream it accepts. Ten streams that arrive together thus left as ten TLS writes, each a
//! system call and a TCP segment: a third of the CPU under load. [`Corked`] keeps what is
//! written during one poll of the connection's task in a buffer, and [`Uncorking`] (around
//! that task's future) has it written out early in the next poll, which it asks for at once.
//! Nothing waits longer than that one extra poll; a buffer past [`CAP`] is written at once.
//!
//! Only a connection that negotiated HTTP/2 is corked: HTTP/1.1 already writes each answer
//! once, and the extra poll would cost more than it saves.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Past this many buffered bytes, writes go out without waiting for the poll to end.
pub const CAP: usize = 128 * 1024;

/// What the IO and the task's future share (both live on the connection's one task).
#[derive(Debug, Default)]
struct Shared {
    /// A flush was put off during this poll: the task must be polled again.
    deferred: AtomicBool,
    /// A new poll began after a put-off flush: write the buffer out at the first chance.
    uncork: AtomicBool,
}

/// A connection's IO whose writes are held until its task's next poll (see the module).
pub struct Corked<T> {
    inner: T,
    buf: Vec<u8>,
    /// `None`: passes everything straight through.
    shared: Option<Arc<Shared>>,
}

/// The connection task's future, which uncorks its [`Corked`] IO once per poll.
pub struct Uncorking<F> {
    fut: Pin<Box<F>>,
    shared: Option<Arc<Shared>>,
}

/// Wrap `inner`, corked when `cork` (an HTTP/2 connection); `fut` is then to be driven
/// through [`Uncorking::new`] with the returned handle.
pub fn cork<T>(inner: T, cork: bool) -> (Corked<T>, Handle) {
    let shared = cork.then(Arc::default);
    (Corked { inner, buf: Vec::new(), shared: shared.clone() }, Handle(shared))
}

/// Ties a [`Corked`] IO to the future of the task that drives it.
#[derive(Debug)]
pub struct Handle(Option<Arc<Shared>>);

impl<F: Future> Uncorking<F> {
    pub fn new(fut: F, handle: Handle) -> Uncorking<F> {
        Uncorking { fut: Box::pin(fut), shared: handle.0 }
    }
}

impl<F: Future> Future for Uncorking<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let out = self.fut.as_mut().poll(cx);
        if let Some(shared) = &self.shared {
            if out.is_pending() && shared.deferred.swap(false, Ordering::Relaxed) {
                shared.uncork.store(true, Ordering::Relaxed);
                cx.waker().wake_by_ref();
            }
        }
        out
    }
}

impl<T: AsyncWrite + Unpin> Corked<T> {
    /// Write the whole buffer out; `Pending` leaves the rest for later (the inner IO has
    /// registered the waker).
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut written = 0;
        let result = loop {
            if written == self.buf.len() {
                break Poll::Ready(Ok(()));
            }
            match Pin::new(&mut self.inner).poll_write(cx, &self.buf[written..]) {
                Poll::Ready(Ok(0)) => break Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => written += n,
                Poll::Ready(Err(e)) => break Poll::Ready(Err(e)),
                Poll::Pending => break Poll::Pending,
            }
        };
        self.buf.drain(..written);
        if self.buf.is_empty() {
            // Given back: an idle connection holds no buffer (there may be thousands).
            self.buf = Vec::new();
            if let Some(shared) = &self.shared {
                shared.uncork.store(false, Ordering::Relaxed);
            }
        }
        result
    }

    /// The buffer must go out now: a new poll began after a put-off flush.
    fn uncorking(&self) -> bool {
        !self.buf.is_empty() && self.shared.as_ref().is_some_and(|s| s.uncork.load(Ordering::Relaxed))
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for Corked<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        // The first IO of a poll: what the last poll wrote goes out before anything is read.
        if self.uncorking() {
            match self.drain(cx) {
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                // TLS may still hold records of it: push them too.
                Poll::Ready(Ok(())) => {
                    if let Poll::Ready(Err(e)) = Pin::new(&mut self.inner).poll_flush(cx) {
                        return Poll::Ready(Err(e));
                    }
                }
                Poll::Pending => {}
            }
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Corked<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[io::IoSlice::new(data)])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.shared.is_none() {
            return Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        }
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        if self.uncorking() || self.buf.len() + len > CAP {
            std::task::ready!(self.drain(cx))?;
        }
        if len > CAP {
            return Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        }
        for b in bufs {
            self.buf.extend_from_slice(b);
        }
        Poll::Ready(Ok(len))
    }

    fn is_write_vectored(&self) -> bool {
        self.shared.is_some() || self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &self.shared {
            // Put off until the task's next poll, which `Uncorking` asks for.
            Some(shared) if !self.buf.is_empty() && !shared.uncork.load(Ordering::Relaxed) => {
                shared.deferred.store(true, Ordering::Relaxed);
                Poll::Ready(Ok(()))
            }
            _ => {
                std::task::ready!(self.drain(cx))?;
                Pin::new(&mut self.inner).poll_flush(cx)
            }
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        std::task::ready!(self.drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Writes and flushes in one poll of the task reach the peer together, early in the
    /// task's next poll, which the task asks for by itself.
    #[tokio::test]
    async fn one_poll_of_writes_leaves_in_one_write() {
        let (ours, mut peer) = tokio::io::duplex(1 << 20);
        let (mut io, handle) = cork(ours, true);
        let task = Uncorking::new(
            async move {
                for i in 0..10u8 {
                    io.write_all(&[i; 100]).await.unwrap();
                    io.flush().await.unwrap();
                }
                // A poll that waits: the put-off flush has to happen in the next one, by a
                // read (as h2 reads first on every poll).
                let mut byte = [0u8; 1];
                io.read_exact(&mut byte).await.unwrap();
                assert_eq!(byte[0], 42);
                io.shutdown().await.unwrap();
            },
            handle,
        );
        let task = tokio::spawn(task);
        let mut got = vec![0u8; 1000];
        // The task asks for its next poll itself: nothing else would wake it.
        tokio::time::timeout(std::time::Duration::from_secs(5), peer.read_exact(&mut got))
            .await
            .expect("written out without another event")
            .unwrap();
        for (i, chunk) in got.chunks(100).enumerate() {
            assert!(chunk.iter().all(|b| usize::from(*b) == i), "chunk {i} is in order");
        }
        peer.write_all(&[42]).await.unwrap();
        task.await.unwrap();
        let mut rest = Vec::new();
        peer.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    }

    /// Nothing written stays in the buffer: a flush in the same poll as the writes is put
    /// off, the buffer is still empty towards the peer until the next poll, then all of it
    /// arrives.
    #[tokio::test]
    async fn a_put_off_flush_is_done_in_the_next_poll() {
        let (ours, mut peer) = tokio::io::duplex(1 << 20);
        let (mut io, handle) = cork(ours, true);
        let mut polls = 0;
        let mut task = Uncorking::new(
            std::future::poll_fn(move |cx| {
                polls += 1;
                let mut io = Pin::new(&mut io);
                if polls == 1 {
                    assert!(io.as_mut().poll_write(cx, b"hello").is_ready());
                    assert!(io.as_mut().poll_flush(cx).is_ready());
                }
                // Every poll reads first, as h2 does.
                let mut space = [0u8; 8];
                let mut buf = ReadBuf::new(&mut space);
                match io.as_mut().poll_read(cx, &mut buf) {
                    Poll::Ready(_) => Poll::Ready(polls),
                    Poll::Pending => Poll::Pending,
                }
            }),
            handle,
        );
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(Pin::new(&mut task).poll(&mut cx).is_pending());
        let mut got = [0u8; 5];
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), peer.read_exact(&mut got)).await.is_err(),
            "held during the poll that wrote it"
        );
        assert!(Pin::new(&mut task).poll(&mut cx).is_pending());
        peer.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"hello");
    }

    /// An HTTP/1.1 connection is not corked: a write goes straight through.
    #[tokio::test]
    async fn uncorked_passes_through() {
        let (ours, mut peer) = tokio::io::duplex(1 << 20);
        let (mut io, _handle) = cork(ours, false);
        io.write_all(b"now").await.unwrap();
        let mut got = [0u8; 3];
        peer.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"now");
    }

    /// Once written out, the buffer is given back: idle connections hold none.
    #[tokio::test]
    async fn a_drained_buffer_is_given_back() {
        let (ours, mut peer) = tokio::io::duplex(1 << 20);
        let (mut io, _handle) = cork(ours, true);
        io.write_all(&[1u8; 50_000]).await.unwrap();
        assert!(io.buf.capacity() >= 50_000, "held until the poll ends");
        io.shutdown().await.unwrap();
        assert_eq!(io.buf.capacity(), 0);
        let mut got = Vec::new();
        peer.read_to_end(&mut got).await.unwrap();
        assert_eq!(got.len(), 50_000);
    }

    /// Past the cap, writes go out without waiting for the poll to end.
    #[tokio::test]
    async fn past_the_cap_writes_go_out() {
        let (ours, mut peer) = tokio::io::duplex(4 * CAP);
        let (mut io, _handle) = cork(ours, true);
        let chunk = vec![7u8; CAP / 2 + 1];
        io.write_all(&chunk).await.unwrap();
        io.write_all(&chunk).await.unwrap();
        let mut got = vec![0u8; chunk.len()];
        peer.read_exact(&mut got).await.unwrap();
        assert_eq!(got, chunk);
    }
}
