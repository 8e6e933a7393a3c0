//! HTTPS: what the TLS side serves. [`Certs`] holds one certificate per served name (from
//! the store, installed by the certificate manager of the control layer, `control::certs`) and the ACME challenge
//! answers; [`Resolver`] picks a certificate by SNI, exact names only, so an unknown name
//! gets a handshake alert and never another member's certificate. [`start`] wires the HTTPS
//! listener and the manager into a running server.

use crate::model::host::normalize_host;
use crate::snapshot::Live;
use arc_swap::ArcSwap;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, RwLock};

/// The ALPN protocol of TLS-ALPN-01 validation connections (RFC 8737).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// An HTTP-01 answer: the name it was issued for and the key authorization.
#[derive(Debug, Clone)]
struct Http01 {
    name: String,
    key_authorization: String,
}

/// Certificates by name and pending ACME challenges, shared by the listeners, the resolver
/// and the certificate manager. Empty (and inert) while TLS is off.
#[derive(Default)]
pub struct Certs {
    /// Name → certificate served for it; read on every handshake, replaced as a whole.
    served: ArcSwap<HashMap<String, Arc<CertifiedKey>>>,
    /// Name → TLS-ALPN-01 challenge certificate, only while an order waits for validation.
    alpn: RwLock<HashMap<String, Arc<CertifiedKey>>>,
    /// Token → HTTP-01 answer, only while an order waits for validation.
    http01: RwLock<HashMap<String, Http01>>,
    /// Port of `https://` redirects; 0 while no HTTPS listener runs (no redirects then).
    pub(crate) redirect_port: AtomicU16,
}

impl std::fmt::Debug for Certs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certs").field("served", &self.served.load().len()).finish_non_exhaustive()
    }
}

impl Certs {
    /// Serve `key` for `name` from now on; open connections keep the one they have.
    pub fn install(&self, name: &str, key: Arc<CertifiedKey>) {
        self.install_all(vec![(name.to_string(), key)]);
    }

    /// Serve every one of `keys` from now on, in one change of the map (a start installs
    /// the whole store: one [`Certs::install`] each would copy the map once per name).
    pub fn install_all(&self, keys: Vec<(String, Arc<CertifiedKey>)>) {
        self.served.rcu(|m| {
            let mut m = HashMap::clone(m);
            m.extend(keys.iter().cloned());
            m
        });
    }

    /// The certificate served for `name`.
    pub fn get(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        self.served.load().get(name).cloned()
    }

    /// Does plain HTTP for `name` redirect to HTTPS? Only with a certificate and a listener.
    #[inline]
    pub fn redirects(&self, name: &str) -> bool {
        self.redirect_port.load(Ordering::Relaxed) != 0 && self.served.load().contains_key(name)
    }

    /// The port `https://` redirects name (443 is left out of URLs).
    pub fn redirect_port(&self) -> u16 {
        self.redirect_port.load(Ordering::Relaxed)
    }

    /// Publish an HTTP-01 answer for `token` (a name being validated).
    pub fn add_http01(&self, token: &str, name: &str, key_authorization: &str) {
        let answer = Http01 { name: name.to_string(), key_authorization: key_authorization.to_string() };
        self.http01.write().unwrap_or_else(|p| p.into_inner()).insert(token.to_string(), answer);
    }

    /// The HTTP-01 answer for `token` requested on `host`; `None` for tokens not ours.
    pub fn http01(&self, host: &str, token: &str) -> Option<String> {
        let map = self.http01.read().unwrap_or_else(|p| p.into_inner());
        map.get(token).filter(|a| a.name == host).map(|a| a.key_authorization.clone())
    }

    /// Publish a TLS-ALPN-01 challenge certificate for `name`.
    pub fn add_alpn(&self, name: &str, key: Arc<CertifiedKey>) {
        self.alpn.write().unwrap_or_else(|p| p.into_inner()).insert(name.to_string(), key);
    }

    /// Withdraw every challenge answer for `name` (the order is over, either way).
    pub fn clear_challenges(&self, name: &str) {
        self.alpn.write().unwrap_or_else(|p| p.into_inner()).remove(name);
        self.http01.write().unwrap_or_else(|p| p.into_inner()).retain(|_, a| a.name != name);
    }

    fn alpn_cert(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        self.alpn.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }
}

/// Chooses the certificate for a handshake from the SNI name, exactly.
pub struct Resolver {
    pub certs: Arc<Certs>,
    pub live: Arc<Live>,
}

impl std::fmt::Debug for Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolver").field("certs", &self.certs).finish()
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        // No SNI, no certificate: a default one would show some member's names.
        let name = normalize_host(hello.server_name()?).ok()?;
        if hello.alpn().is_some_and(|mut protocols| protocols.any(|p| p == ACME_TLS_ALPN)) {
            return self.certs.alpn_cert(&name);
        }
        // Only names the routing table answers, even if the store holds more.
        self.live.snapshot().routes.lookup(&name)?;
        self.certs.get(&name)
    }
}

/// The resolver while a start loads the registry: there is no routing table yet, so any
/// name the store holds a certificate for is answered (with the start's 503, see
/// `serve::https::answer_starting`) rather than left to wait. No challenge is
/// pending before the certificate manager runs.
#[derive(Debug)]
pub struct StartingResolver(pub Arc<Certs>);

impl ResolvesServerCert for StartingResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.0.get(&normalize_host(hello.server_name()?).ok()?)
    }
}

/// The rustls server settings: ring only, TLS 1.3 and 1.2, ALPN h2, http/1.1 and acme-tls/1.
pub fn server_config(resolver: Arc<dyn ResolvesServerCert>) -> Result<Arc<ServerConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec(), ACME_TLS_ALPN.to_vec()];
    config.ticketer = rustls::crypto::ring::Ticketer::new()?;
    Ok(Arc::new(config))
}
