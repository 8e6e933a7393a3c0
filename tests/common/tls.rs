//! Harness for the HTTPS and ACME tests: a real `cong` with an HTTPS listener, a rustls
//! client (ring) that checks certificates against a given root, and Pebble with its DNS
//! server (`pebble-challtestsrv`, which answers every name with 127.0.0.1) on free ports,
//! pointed at cong's listeners, and a relay that counts the nonces Pebble rejects. Every wait is bounded. Part of the `common` harness: its
//! HTTP client, and [`super::registry`] for the test's world.

use super::registry::{Env, HTTP_TIMEOUT};
use super::{bounded, Conn, Proto, Resp};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::client::TlsStream;

/// Append `text` to the env's `cong.toml` (new sections: `[https]`, `[acme]`).
pub fn add_config(env: &Env, text: &str) {
    let mut config = std::fs::read_to_string(&env.config_path).expect("read cong.toml");
    config.push('\n');
    config.push_str(text);
    std::fs::write(&env.config_path, config).expect("write cong.toml");
}

/// Listeners bound in advance (Pebble must know the ports before cong starts).
pub struct Ports {
    pub http: TcpListener,
    pub https: TcpListener,
    pub admin: TcpListener,
}

impl Ports {
    pub async fn bind() -> Ports {
        use super::bind;
        Ports { http: bind().await, https: bind().await, admin: bind().await }
    }

    pub fn http_port(&self) -> u16 {
        self.http.local_addr().unwrap().port()
    }

    pub fn https_port(&self) -> u16 {
        self.https.local_addr().unwrap().port()
    }
}

/// Launch cong for `env` on `ports`, HTTPS included.
pub async fn launch(env: &Env, ports: Ports) -> cong::app::Running {
    let bound = cong::app::Bound { http: ports.http, admin: Some(ports.admin), https: Some(ports.https) };
    let running = super::launch_on(env.config(), bound).await;
    assert!(running.https_addr.is_some(), "the HTTPS listener runs");
    running
}

/// A root store holding `pem`'s certificates.
pub fn roots(pem: &[u8]) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        roots.add(cert.expect("PEM certificate")).expect("root added");
    }
    assert!(!roots.is_empty(), "no certificate in the root PEM");
    roots
}

/// A TLS connection to `addr` for `sni`, verified against `roots`, offering `alpn`.
pub async fn connect(
    addr: SocketAddr,
    sni: &str,
    roots: &rustls::RootCertStore,
    alpn: &[&[u8]],
) -> std::io::Result<TlsStream<TcpStream>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots.clone())
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = ServerName::try_from(sni.to_string()).expect("server name");
    tokio::time::timeout(HTTP_TIMEOUT, async { connector.connect(name, TcpStream::connect(addr).await?).await })
        .await
        .unwrap_or_else(|_| panic!("TLS to {sni}: no handshake within {HTTP_TIMEOUT:?}"))
}

/// The leaf certificate the server presented.
pub fn peer_leaf(tls: &TlsStream<TcpStream>) -> cong::store::certs::CertInfo {
    let certs = tls.get_ref().1.peer_certificates().expect("server certificates");
    cong::store::certs::CertInfo::parse(&certs[0]).expect("leaf parses")
}

/// A request on an open TLS connection (HTTP/1.1 with Host, or HTTP/2 when negotiated).
pub async fn send(tls: TlsStream<TcpStream>, host: &str, path: &str) -> Resp {
    let proto = if tls.get_ref().1.alpn_protocol() == Some(b"h2") { Proto::H2 } else { Proto::H1 };
    let exchange = async { Conn::handshake(tls, proto, "https").await?.get(host, path).await };
    bounded(&format!("https://{host}{path}"), exchange).await
}

/// GET `https://host/path` with SNI = `host`, verified against `roots`, HTTP/1.1.
pub async fn https_get(addr: SocketAddr, host: &str, path: &str, roots: &rustls::RootCertStore) -> Resp {
    let tls = connect(addr, host, roots, &[b"http/1.1"]).await.unwrap_or_else(|e| panic!("TLS to {host}: {e}"));
    send(tls, host, path).await
}

/// Wait until `check` holds, polling every 100 ms, for at most `limit`.
pub async fn eventually(limit: Duration, what: &str, check: impl AsyncFnMut() -> Result<(), String>) {
    super::wait_until(what, limit, Duration::from_millis(100), check).await
}

/// A free TCP port on 127.0.0.1 (bound and released; the OS does not hand it out again at once).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Pebble's settings for one test.
#[derive(Debug, Clone)]
pub struct PebbleOpts {
    pub http_port: u16,
    pub tls_port: u16,
    /// The percentage of good nonces Pebble rejects as bad (`PEBBLE_WFE_NONCEREJECT`; its
    /// default is 5), so that the client must retry on badNonce; 0 for none.
    pub nonce_reject: u8,
    /// certificateValidityPeriod in seconds (Pebble's default: years).
    pub validity_secs: Option<u64>,
    /// The ACME port, when the test needs to know it before Pebble starts.
    pub listen_port: Option<u16>,
}

/// Pebble and its DNS server, killed on drop.
pub struct Pebble {
    children: Vec<Child>,
    pub directory: String,
    /// Where the ACME API (the directory) listens.
    pub acme: SocketAddr,
    pub management: SocketAddr,
    /// The root of Pebble's own HTTPS certificate (generated here): `[acme] ca_root`.
    pub https_root: PathBuf,
    pub log: PathBuf,
}

/// The pebble binaries, or a panic that says how to get them (CI installs them).
fn pebble_bin(name: &str) -> String {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().expect("sh");
    let path = String::from_utf8_lossy(&found.stdout).trim().to_string();
    assert!(
        !path.is_empty(),
        "{name} is not installed: install the Debian package `pebble` (scripts/test does it); the ACME tests do not skip"
    );
    path
}

impl Pebble {
    /// Start the DNS server and Pebble in `dir`, and wait until the directory answers.
    pub fn start(dir: &Path, opts: &PebbleOpts) -> Pebble {
        let (https_root, cert, key) = pebble_https_cert(dir);
        let dns_port = super::free_udp_tcp_port();
        let log = dir.join("pebble.log");
        let dns_log = std::fs::File::create(dir.join("dns.log")).unwrap();
        let dns = Command::new(pebble_bin("pebble-challtestsrv"))
            .args(["-dns01", &format!("127.0.0.1:{dns_port}"), "-http01", "", "-https01", "", "-tlsalpn01", ""])
            .args(["-management", &format!("127.0.0.1:{}", free_port()), "-defaultIPv6", ""])
            .stdout(dns_log.try_clone().unwrap())
            .stderr(dns_log)
            .spawn()
            .expect("start pebble-challtestsrv");
        let listen = opts.listen_port.unwrap_or_else(free_port);
        let management: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let mut pebble = serde_json::json!({
            "listenAddress": format!("127.0.0.1:{listen}"),
            "managementListenAddress": management.to_string(),
            "certificate": cert, "privateKey": key,
            "httpPort": opts.http_port, "tlsPort": opts.tls_port,
            "ocspResponderURL": "", "externalAccountBindingRequired": false,
        });
        if let Some(secs) = opts.validity_secs {
            pebble["certificateValidityPeriod"] = secs.into();
        }
        let config = dir.join("pebble-config.json");
        std::fs::write(&config, serde_json::json!({ "pebble": pebble }).to_string()).unwrap();
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(pebble_bin("pebble"));
        cmd.arg("-config").arg(&config).args(["-dnsserver", &format!("127.0.0.1:{dns_port}")]);
        cmd.env("PEBBLE_VA_NOSLEEP", "1").stdout(out.try_clone().unwrap()).stderr(out).stdin(Stdio::null());
        cmd.env("PEBBLE_WFE_NONCEREJECT", opts.nonce_reject.to_string());
        let child = cmd.spawn().expect("start pebble");
        let directory = format!("https://127.0.0.1:{listen}/dir");
        let acme = SocketAddr::from(([127, 0, 0, 1], listen));
        let p = Pebble { children: vec![dns, child], directory, acme, management, https_root, log };
        p.wait_ready(listen);
        p
    }

    fn wait_ready(&self, listen: u16) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", listen)).is_err()
            || std::net::TcpStream::connect(self.management).is_err()
        {
            assert!(Instant::now() < deadline, "pebble did not start:\n{}", self.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The root that signs issued certificates, from the management API (`/roots/0`).
    pub async fn issuing_root(&self) -> rustls::RootCertStore {
        let pem = std::fs::read(&self.https_root).unwrap();
        let tls = connect(self.management, "127.0.0.1", &roots(&pem), &[b"http/1.1"]).await.expect("management TLS");
        let resp = send(tls, "127.0.0.1", "/roots/0").await;
        assert_eq!(resp.status, 200, "GET /roots/0: {}", resp.text());
        roots(&resp.body)
    }

    /// Did Pebble's log name `name`? It logs every validation attempt with the name's URL.
    pub fn log_mentions(&self, name: &str) -> bool {
        self.log_text().contains(name)
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A TLS relay in front of Pebble's ACME API that counts the `badNonce` problems Pebble
/// answers: Pebble logs no rejected nonce, and instant-acme retries them inside one call,
/// so neither side's log shows them. It presents Pebble's own HTTPS certificate (so a
/// client that trusts Pebble trusts it) and passes the bytes on unchanged; Pebble builds
/// its URLs from the Host header, so the client goes on talking through the relay.
pub struct AcmeRelay {
    /// The directory URL through the relay, for `[acme] directory`.
    pub directory: String,
    bad_nonces: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl AcmeRelay {
    /// Listen on a free port and relay each connection to `pebble`, started in `dir`.
    pub async fn start(dir: &Path, pebble: &Pebble) -> AcmeRelay {
        let (ca, cert, key) = pebble_https_cert(dir);
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(&cert).expect("read cert").map(|c| c.expect("PEM certificate")).collect();
        let key = PrivateKeyDer::from_pem_file(&key).expect("PEM key");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("relay certificate");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = super::bind().await;
        let port = listener.local_addr().expect("relay address").port();
        let (upstream, roots) = (pebble.acme, roots(&std::fs::read(ca).expect("read Pebble's HTTPS CA")));
        let bad_nonces = Arc::new(AtomicUsize::new(0));
        let counter = bad_nonces.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, roots, counter) = (acceptor.clone(), roots.clone(), counter.clone());
                tokio::spawn(async move {
                    let Ok(client) = acceptor.accept(tcp).await else { return };
                    // HTTP/1.1 on both legs, so the bytes mean the same on each.
                    let Ok(pebble) = connect(upstream, "127.0.0.1", &roots, &[b"http/1.1"]).await else { return };
                    relay(client, pebble, &counter).await;
                });
            }
        });
        AcmeRelay { directory: format!("https://127.0.0.1:{port}/dir"), bad_nonces, task }
    }

    /// How many badNonce problems Pebble has answered through the relay so far.
    pub fn bad_nonces(&self) -> usize {
        self.bad_nonces.load(Ordering::Relaxed)
    }
}

impl Drop for AcmeRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Pass bytes both ways until each side is done, counting the badNonce problem type in
/// what the server sends (kept across reads, so one split between two reads still counts).
async fn relay<C, S>(client: C, server: S, bad_nonces: &AtomicUsize)
where
    C: AsyncRead + AsyncWrite + Unpin,
    S: AsyncRead + AsyncWrite + Unpin,
{
    const BAD_NONCE: &[u8] = b"urn:ietf:params:acme:error:badNonce";
    let (mut client_rd, mut client_wr) = tokio::io::split(client);
    let (mut server_rd, mut server_wr) = tokio::io::split(server);
    let up = async {
        let _ = tokio::io::copy(&mut client_rd, &mut server_wr).await;
        let _ = server_wr.shutdown().await;
    };
    let down = async {
        let (mut buf, mut seen) = (vec![0u8; 16 * 1024], Vec::new());
        loop {
            let n = match server_rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            seen.extend_from_slice(&buf[..n]);
            bad_nonces.fetch_add(seen.windows(BAD_NONCE.len()).filter(|w| *w == BAD_NONCE).count(), Ordering::Relaxed);
            seen.drain(..seen.len().saturating_sub(BAD_NONCE.len() - 1));
            if client_wr.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = client_wr.shutdown().await;
    };
    tokio::join!(up, down);
}

/// A CA and a certificate for `127.0.0.1`/`localhost`, for Pebble's own HTTPS (the Debian
/// package ships none), made once per folder. Returns (CA path, cert path, key path).
pub fn pebble_https_cert(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let paths = (dir.join("pebble-https-ca.pem"), dir.join("pebble-https.pem"), dir.join("pebble-https-key.pem"));
    if paths.0.is_file() && paths.1.is_file() && paths.2.is_file() {
        return paths;
    }
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "pebble test HTTPS CA");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    std::fs::write(&paths.0, ca_cert.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    paths
}
