//! The limit `scripts/bench` holds cong against: a bare hyper server that answers the same
//! bytes per Host and path from memory and does nothing else (no routing table, no
//! validators, no compression choice, no metrics). What cong does on top of this costs the
//! difference between the two.
//!
//! `cargo run --release --example bare -- --addr 127.0.0.1:PORT --www DIR [--header "N: v"]...`
//! serves `DIR/<host>/<path>` (a folder's page as `index.html`), the way `scripts/bench`
//! saves cong's pages for nginx.

use bytes::Bytes;
use clap::Parser;
use http::{header, HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

#[derive(Parser, Debug)]
struct Args {
    /// Where to listen (loopback only).
    #[arg(long)]
    addr: SocketAddr,
    /// The saved pages: one folder per host.
    #[arg(long)]
    www: std::path::PathBuf,
    /// A header sent with every page, as `Name: value`; repeat for more.
    #[arg(long = "header")]
    headers: Vec<String>,
}

/// Host and decoded path → the page.
type Pages = HashMap<(String, String), Bytes>;

fn load(www: &Path) -> std::io::Result<Pages> {
    fn walk(host: &str, dir: &Path, url: &str, pages: &mut Pages) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type()?.is_dir() {
                walk(host, &entry.path(), &format!("{url}{name}/"), pages)?;
            } else {
                let path = if name == "index.html" { url.to_string() } else { format!("{url}{name}") };
                pages.insert((host.to_string(), path), Bytes::from(std::fs::read(entry.path())?));
            }
        }
        Ok(())
    }
    let mut pages = Pages::new();
    for entry in std::fs::read_dir(www)? {
        let entry = entry?;
        let host = entry.file_name().to_string_lossy().into_owned();
        walk(&host, &entry.path(), "/", &mut pages)?;
    }
    Ok(pages)
}

fn answer(pages: &Pages, headers: &[(HeaderName, HeaderValue)], req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let path = percent_encoding::percent_decode_str(req.uri().path()).decode_utf8_lossy();
    let Some(body) = pages.get(&(host.to_string(), path.into_owned())) else {
        let mut resp = Response::new(Full::new(Bytes::from_static(b"not found\n")));
        *resp.status_mut() = StatusCode::NOT_FOUND;
        return resp;
    };
    let mut resp = Response::new(Full::new(body.clone()));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    for (name, value) in headers {
        h.insert(name.clone(), value.clone());
    }
    resp
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    assert!(args.addr.ip().is_loopback(), "--addr must be a loopback address");
    let pages = Arc::new(load(&args.www)?);
    let headers: Arc<Vec<(HeaderName, HeaderValue)>> = Arc::new(
        args.headers
            .iter()
            .filter_map(|h| {
                let (name, value) = h.split_once(':')?;
                Some((HeaderName::try_from(name.trim()).ok()?, HeaderValue::try_from(value.trim()).ok()?))
            })
            .collect(),
    );
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    eprintln!("bare: {} pages on http://{}/", pages.len(), args.addr);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let (pages, headers) = (pages.clone(), headers.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let resp = answer(&pages, &headers, &req);
                async move { Ok::<_, Infallible>(resp) }
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
