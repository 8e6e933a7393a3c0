//! Large static files, streamed from disk (`Entry::File`): the handler answers with the
//! headers and a [`Stream`] marker (still no I/O on the request path's synchronous steps);
//! the listener then opens the file through the safe open, checked to be the very file
//! the site was built with, and sends it in chunks as a [`FileBody`]. Ranges apply.

use crate::content::site::StaticFile;
use crate::serve::handler::{finish, Body, Chunk};
use crate::serve::range;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode};
use hyper::body::Frame;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncSeekExt, ReadBuf};

/// Bytes read from disk per frame.
const CHUNK: usize = 64 * 1024;

/// Left in a response's extensions by the handler: which bytes of which file to send.
#[derive(Debug, Clone)]
pub struct Stream {
    pub file: Arc<StaticFile>,
    pub start: u64,
    pub len: u64,
}

/// The answer for a streamed file: 304, 416, or 200/206 with a [`Stream`] to fill in.
pub fn answer(f: &Arc<StaticFile>, headers: &HeaderMap, method: &Method) -> Response<Body> {
    let size = f.meta.size;
    let modified = crate::content::render::http_date(f.meta.mtime);
    let builder = Response::builder()
        .header(header::CONTENT_TYPE, f.content_type.clone())
        .header(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"))
        .header(header::ETAG, f.etag.clone())
        .header(header::LAST_MODIFIED, modified.clone())
        .header(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if crate::serve::handler::etag_matches(headers, &f.etag)
        || crate::serve::handler::unmodified_since(headers, &modified)
    {
        return finish(builder.status(StatusCode::NOT_MODIFIED), Bytes::new());
    }
    let (builder, start, len) = match range::asked(headers, &f.etag, size) {
        range::Asked::Whole => (builder.status(StatusCode::OK), 0, size),
        range::Asked::Part { start, end } => {
            let builder = builder
                .status(StatusCode::PARTIAL_CONTENT)
                .header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}"));
            (builder, start, end - start + 1)
        }
        range::Asked::Unsatisfiable => {
            let builder = builder
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                .header(header::CONTENT_LENGTH, 0);
            return finish(builder, Bytes::new());
        }
    };
    let mut resp = finish(builder.header(header::CONTENT_LENGTH, len), Bytes::new());
    if method != Method::HEAD {
        resp.extensions_mut().insert(Stream { file: f.clone(), start, len });
    }
    resp
}

/// Does `resp` stream a file ([`fill`] opens it)?
pub fn streams(resp: &Response<Body>) -> bool {
    resp.extensions().get::<Stream>().is_some()
}

/// Fill in the body of a response the handler marked with a [`Stream`]: open the file on
/// the blocking pool (the safe open, checked against the build), seek, stream. A file that
/// changed or went since the build answers 503 until the site is rebuilt with it.
pub async fn fill(mut resp: Response<Body>) -> Response<Body> {
    let Some(stream) = resp.extensions_mut().remove::<Stream>() else { return resp };
    let file = stream.file.clone();
    let opened =
        tokio::task::spawn_blocking(move || crate::content::files::open_checked(&file.dir, &file.rel, &file.meta))
            .await;
    let mut file = match opened {
        Ok(Ok(f)) => tokio::fs::File::from_std(f),
        Ok(Err(e)) => return unavailable(&format!("{}: {e}", stream.file.rel)),
        Err(e) => return unavailable(&e.to_string()),
    };
    if stream.start > 0 {
        if let Err(e) = file.seek(std::io::SeekFrom::Start(stream.start)).await {
            return unavailable(&e.to_string());
        }
    }
    *resp.body_mut() = http_body_util::Either::Right(Box::new(FileBody { file, remaining: stream.len }));
    resp
}

fn unavailable(why: &str) -> Response<Body> {
    tracing::warn!("a static file could not be streamed: {}", crate::model::escape::Escaped(why));
    let builder = Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .header(header::RETRY_AFTER, "1")
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store");
    finish(builder, Bytes::from_static("the file is being updated; try again in a moment\n".as_bytes()))
}

/// `remaining` bytes of an open file, in chunks.
#[derive(Debug)]
pub struct FileBody {
    file: tokio::fs::File,
    remaining: u64,
}

impl hyper::body::Body for FileBody {
    type Data = Chunk;
    type Error = std::io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Chunk>, std::io::Error>>> {
        let this = self.get_mut();
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        let want = usize::try_from(this.remaining).unwrap_or(CHUNK).min(CHUNK);
        let mut buf = vec![0u8; want];
        let mut read = ReadBuf::new(&mut buf);
        match Pin::new(&mut this.file).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) => {
                let n = read.filled().len();
                if n == 0 {
                    // Shorter than at the build: end the response with an error, never pad.
                    return Poll::Ready(Some(Err(std::io::ErrorKind::UnexpectedEof.into())));
                }
                this.remaining -= n as u64;
                buf.truncate(n);
                Poll::Ready(Some(Ok(Frame::data(Chunk::from(Bytes::from(buf))))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.remaining)
    }
}
