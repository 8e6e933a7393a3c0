//! The HTTPS listener: accept TCP, finish the TLS handshake within a timeout, then hand the
//! connection to the same hyper builder as plain HTTP, with the SNI name for the handler.
//! TLS-ALPN-01 validation connections (`acme-tls/1`) end after the handshake.

use crate::model::config::Limits;
use crate::model::host::normalize_host;
use crate::serve::cork::{cork, Uncorking};
use crate::serve::handler::Scheme;
use crate::serve::limits::GuardedIo;
use crate::serve::listener::{accept_loop, accept_loop_under, http_builder, serve_one, App};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

/// How long a client has to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS handshake within [`HANDSHAKE_TIMEOUT`]; `None` when it failed or timed out, and
/// for a TLS-ALPN-01 validation connection, which ends after it.
async fn handshake(acceptor: &TlsAcceptor, stream: TcpStream) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let mut tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        // Unknown SNI, no SNI, a scanner, a slow client: the alert is already sent.
        Ok(Err(e)) => {
            tracing::debug!("TLS handshake failed: {e}");
            return None;
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            return None;
        }
    };
    if tls.get_ref().1.alpn_protocol() == Some(crate::snapshot::certs::ACME_TLS_ALPN) {
        // The CA has seen the challenge certificate; there is nothing to serve.
        let _ = tls.shutdown().await;
        return None;
    }
    Some(tls)
}

/// Accept TLS connections on `listener` until `shutdown` turns true, then drain.
pub async fn run(listener: TcpListener, app: Arc<App>, acceptor: TlsAcceptor, shutdown: watch::Receiver<bool>) {
    let limits = app.live.config.limits.clone();
    let builder = Arc::new(http_builder(&limits));
    accept_loop(listener, &limits, "HTTPS", shutdown, |stream, permit, graceful| {
        let (app, acceptor, builder, watcher) = (app.clone(), acceptor.clone(), builder.clone(), graceful.watcher());
        let peer = stream.peer_addr().map_or(std::net::IpAddr::from([0, 0, 0, 0]), |a| a.ip());
        tokio::spawn(async move {
            let Some(tls) = handshake(&acceptor, stream).await else {
                return;
            };
            let conn = tls.get_ref().1;
            let sni: Option<Arc<str>> =
                conn.server_name().and_then(|s| normalize_host(s).ok()).map(|s| Arc::from(s.as_ref()));
            // HTTP/2: what one poll writes leaves in one write (see `cork`).
            let h2 = conn.alpn_protocol() == Some(b"h2");
            let (tls, corked) = cork(tls, h2);
            // Idle and first-request deadlines, as on plain HTTP (see `limits`).
            let (io, seen) = GuardedIo::new(tls, &app.live.config.limits);
            let service = service_fn(move |req: Request<Incoming>| {
                serve_one(&app, req, Scheme::Https, sni.as_deref(), peer, &seen)
            });
            let conn = builder.serve_connection(TokioIo::new(io), service).into_owned();
            let _ = Uncorking::new(watcher.watch(conn), corked).await;
            drop(permit);
        });
    })
    .await;
}

/// While a start loads the registry, the HTTPS port's twin of
/// [`crate::serve::listener::answer_starting`]: the handshake with a certificate from the
/// store (`acceptor`, see `snapshot::certs::StartingResolver`), then a 503 with
/// `Retry-After: 1` to every request, until `done` turns true. As there, a connection
/// taken before the end gets its answer (its handshake may finish after it).
pub async fn answer_starting(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    limits: Limits,
    done: watch::Receiver<bool>,
) {
    use crate::serve::listener::{starting_service, STARTING_CONNECTIONS};
    let (builder, limits) = (Arc::new(http_builder(&limits)), Arc::new(limits));
    accept_loop_under(listener, STARTING_CONNECTIONS, "HTTPS (starting)", done, |stream, permit, _| {
        let (acceptor, builder, limits) = (acceptor.clone(), builder.clone(), limits.clone());
        tokio::spawn(async move {
            let Some(tls) = handshake(&acceptor, stream).await else {
                return;
            };
            let (io, seen) = GuardedIo::new(tls, &limits);
            let _ = builder.serve_connection(TokioIo::new(io), starting_service(seen)).await;
            drop(permit);
        });
    })
    .await;
}
