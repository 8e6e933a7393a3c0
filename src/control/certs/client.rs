//! Talking to the ACME CA with instant-acme (ring only): the HTTPS client that trusts the
//! public roots plus `[acme] ca_root`, one account per directory URL persisted under
//! `<certs>/_acme/`, and one order for one name, answering HTTP-01 through the HTTP
//! listener or TLS-ALPN-01 through the HTTPS listener (see [`crate::snapshot::certs::Certs`]).

use super::AcmeError;
use crate::snapshot::certs::Certs;
use crate::store::certs::{write_atomic, Store};
use bytes::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, BodyWrapper, ChallengeType, Identifier, NewAccount, NewOrder,
    OrderStatus, RetryPolicy,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

type Http = Client<hyper_rustls::HttpsConnector<HttpConnector>, BodyWrapper<Bytes>>;

/// How long the CA may take to validate, then to issue.
const VALIDATION_TIMEOUT: Duration = Duration::from_secs(120);

/// An ACME CA, its account (created on first use) and the challenge type to answer.
pub struct AcmeClient {
    pub directory: String,
    contact: Vec<String>,
    challenge: ChallengeType,
    http: Http,
    account_path: PathBuf,
    account: tokio::sync::Mutex<Option<Account>>,
}

impl AcmeClient {
    /// Set up the client from `[acme]`; `base` anchors a relative `ca_root` path.
    pub fn new(acme: &crate::model::config::RawAcme, base: &Path, store: &Store) -> Result<AcmeClient, AcmeError> {
        let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        for cert in extra_roots(&acme.ca_root, base)? {
            roots.add(cert).map_err(|e| AcmeError::CaRoot { path: acme.ca_root.clone(), message: e.to_string() })?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| AcmeError::CaRoot { path: acme.ca_root.clone(), message: e.to_string() })?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector =
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_only().enable_http1().build();
        let challenge = if acme.challenge == "tls-alpn-01" { ChallengeType::TlsAlpn01 } else { ChallengeType::Http01 };
        Ok(AcmeClient {
            directory: acme.directory.clone(),
            contact: acme.contact.clone(),
            challenge,
            http: Client::builder(TokioExecutor::new()).build(connector),
            account_path: store.dir().join("_acme").join(account_file(&acme.directory)),
            account: tokio::sync::Mutex::new(None),
        })
    }

    /// The account for this directory: cached, else read from its file, else created.
    async fn account(&self) -> Result<Account, AcmeError> {
        let mut slot = self.account.lock().await;
        if let Some(account) = &*slot {
            return Ok(account.clone());
        }
        let builder = || Account::builder_with_http(Box::new(self.http.clone()));
        let account = match std::fs::read(&self.account_path) {
            Ok(bytes) => {
                let creds: AccountCredentials = serde_json::from_slice(&bytes)
                    .map_err(|e| AcmeError::Account { path: self.account_path.clone(), message: e.to_string() })?;
                builder().from_credentials(creds).await.map_err(|e| self.protocol(e))?
            }
            Err(_) => {
                let contact: Vec<&str> = self.contact.iter().map(String::as_str).collect();
                let new = NewAccount { contact: &contact, terms_of_service_agreed: true, only_return_existing: false };
                let (account, creds) =
                    builder().create(&new, self.directory.clone(), None).await.map_err(|e| self.protocol(e))?;
                let json = serde_json::to_vec_pretty(&creds).expect("credentials serialise");
                if let Some(dir) = self.account_path.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                write_atomic(&self.account_path, &json, 0o600)?;
                tracing::info!("ACME account {} created at {}", account.id(), self.directory);
                account
            }
        };
        *slot = Some(account.clone());
        Ok(account)
    }

    /// Forget an account the CA no longer knows (a test CA restarted), so the next attempt
    /// creates a new one.
    async fn forget_account(&self) {
        *self.account.lock().await = None;
        let _ = std::fs::remove_file(&self.account_path);
    }

    fn protocol(&self, source: instant_acme::Error) -> AcmeError {
        AcmeError::Protocol { directory: self.directory.clone(), message: error_chain(&source) }
    }

    /// Order a certificate for `name`; the challenge answers live in `certs` while the CA
    /// validates and are withdrawn when this returns (or is cancelled). PEM chain and key.
    pub async fn issue(&self, name: &str, certs: &Arc<Certs>) -> Result<(String, String), AcmeError> {
        let result = self.order(name, certs).await;
        if let Err(AcmeError::Protocol { message, .. }) = &result {
            if message.contains("accountDoesNotExist") {
                self.forget_account().await;
            }
        }
        result
    }

    async fn order(&self, name: &str, certs: &Arc<Certs>) -> Result<(String, String), AcmeError> {
        let account = self.account().await?;
        let ids = [Identifier::Dns(name.to_string())];
        let mut order = account.new_order(&NewOrder::new(&ids)).await.map_err(|e| self.protocol(e))?;
        let _withdraw = Withdraw { certs: certs.clone(), name: name.to_string() };
        let mut authorizations = order.authorizations();
        while let Some(authz) = authorizations.next().await {
            let mut authz = authz.map_err(|e| self.protocol(e))?;
            match authz.status {
                AuthorizationStatus::Pending => {}
                AuthorizationStatus::Valid => continue,
                other => {
                    return Err(AcmeError::Invalid { name: name.into(), detail: format!("authorization {other:?}") })
                }
            }
            let kind = if authz.challenges.iter().any(|c| c.r#type == self.challenge) {
                self.challenge.clone()
            } else {
                other_kind(&self.challenge)
            };
            let mut challenge =
                authz.challenge(kind.clone()).ok_or_else(|| AcmeError::NoChallenge { name: name.into() })?;
            let key_authorization = challenge.key_authorization();
            if kind == ChallengeType::Http01 {
                certs.add_http01(&challenge.token, name, key_authorization.as_str());
            } else {
                let cert = alpn_certificate(name, key_authorization.digest().as_ref())?;
                certs.add_alpn(name, Arc::new(cert));
            }
            challenge.set_ready().await.map_err(|e| self.protocol(e))?;
        }
        let retry = RetryPolicy::new().timeout(VALIDATION_TIMEOUT);
        let status = order.poll_ready(&retry).await.map_err(|e| self.protocol(e))?;
        if status != OrderStatus::Ready {
            return Err(AcmeError::Invalid { name: name.into(), detail: self.why_invalid(&mut order).await });
        }
        let key_pem = order.finalize().await.map_err(|e| self.protocol(e))?;
        let chain_pem = order.poll_certificate(&retry).await.map_err(|e| self.protocol(e))?;
        Ok((chain_pem, key_pem))
    }

    /// The CA's reason for an invalid order: the first challenge error it reports.
    async fn why_invalid(&self, order: &mut instant_acme::Order) -> String {
        let mut authorizations = order.authorizations();
        while let Some(Ok(mut authz)) = authorizations.next().await {
            if let Ok(state) = authz.refresh().await {
                if let Some(problem) = state.challenges.iter().find_map(|c| c.error.as_ref()) {
                    return problem.to_string();
                }
            }
        }
        "the order became invalid".into()
    }
}

/// Withdraws a name's challenge answers when an order ends, however it ends.
struct Withdraw {
    certs: Arc<Certs>,
    name: String,
}

impl Drop for Withdraw {
    fn drop(&mut self) {
        self.certs.clear_challenges(&self.name);
    }
}

fn other_kind(kind: &ChallengeType) -> ChallengeType {
    if *kind == ChallengeType::Http01 {
        ChallengeType::TlsAlpn01
    } else {
        ChallengeType::Http01
    }
}

/// The TLS-ALPN-01 certificate (RFC 8737): self-signed, the name as its only SAN, and the
/// key authorization's digest in the critical acmeIdentifier extension.
fn alpn_certificate(name: &str, digest: &[u8]) -> Result<CertifiedKey, AcmeError> {
    let mut params = rcgen::CertificateParams::new(vec![name.to_string()])?;
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let signing = rustls::crypto::ring::sign::any_supported_type(&der)
        .map_err(|e| AcmeError::Invalid { name: name.into(), detail: e.to_string() })?;
    Ok(CertifiedKey::new(vec![cert.der().clone()], signing))
}

/// `[acme] ca_root`: inline PEM, or a PEM file relative to `base`; empty: none.
fn extra_roots(ca_root: &str, base: &Path) -> Result<Vec<CertificateDer<'static>>, AcmeError> {
    if ca_root.trim().is_empty() {
        return Ok(Vec::new());
    }
    let err = |message: String| AcmeError::CaRoot { path: ca_root.to_string(), message };
    let pem = if ca_root.contains("-----BEGIN") {
        ca_root.as_bytes().to_vec()
    } else {
        std::fs::read(base.join(ca_root)).map_err(|e| err(e.to_string()))?
    };
    let certs: Vec<_> =
        CertificateDer::pem_slice_iter(&pem).collect::<Result<_, _>>().map_err(|e| err(e.to_string()))?;
    if certs.is_empty() {
        return Err(err("no PEM certificate in it".into()));
    }
    Ok(certs)
}

/// The account file of a directory URL: its host, readable, plus a stable hash of the URL
/// (FNV-1a: the same on every build, unlike std's hasher).
pub fn account_file(directory: &str) -> String {
    let hash =
        directory.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let host = directory.split("://").nth(1).unwrap_or(directory).split('/').next().unwrap_or("");
    let host: String =
        host.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' }).collect();
    format!("{host}-{hash:016x}.json")
}

/// An error with its causes, `a: b: c` (hyper's "client error (Connect)" alone says little).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_files_differ_per_directory_and_stay_stable() {
        let le = account_file("https://acme-v02.api.letsencrypt.org/directory");
        assert!(le.starts_with("acme-v02.api.letsencrypt.org-"), "{le}");
        assert_eq!(le, account_file("https://acme-v02.api.letsencrypt.org/directory"));
        assert_ne!(le, account_file("https://acme-staging-v02.api.letsencrypt.org/directory"));
        assert_ne!(account_file("https://127.0.0.1:14000/dir"), account_file("https://127.0.0.1:14001/dir"));
        assert!(account_file("https://127.0.0.1:14000/dir").starts_with("127.0.0.1_14000-"));
    }

    #[test]
    fn challenge_certificates_cover_the_name_with_the_acme_extension() {
        let cert = alpn_certificate("ais.mic.gov.vn", &[7u8; 32]).unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(&cert.cert[0]).unwrap();
        let ext = parsed
            .extensions()
            .iter()
            .find(|e| e.oid.to_id_string() == "1.3.6.1.5.5.7.1.31")
            .expect("acmeIdentifier extension");
        assert!(ext.critical);
        let info = crate::store::certs::CertInfo::parse(&cert.cert[0]).unwrap();
        assert_eq!(info.sans, ["ais.mic.gov.vn"]);
    }
}
