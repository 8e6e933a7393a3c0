//! `tls = "internal"`: a local certificate authority for development. Created on first use
//! at `<certs>/_ca/ca.pem` (key `ca-key.pem`, 0600); it signs a leaf per served name, valid
//! for the name and its `.localhost` twin, so `https://ais.mic.gov.vn.localhost:8443/` works
//! once a developer trusts `ca.pem` in the browser.

use crate::store::certs::{now, write_atomic, Store, StoreError};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::path::PathBuf;
use std::time::Duration;

/// How long a leaf lives; renewed when a third remains, like an ACME certificate.
pub const LEAF_DAYS: u64 = 90;
const CA_YEARS: u64 = 10;
const DAY: u64 = 86_400;

/// The local CA, loaded or created.
pub struct LocalCa {
    issuer: Issuer<'static, KeyPair>,
    /// Where the CA certificate is, for people to trust it.
    pub cert_path: PathBuf,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCa").field("cert_path", &self.cert_path).finish_non_exhaustive()
    }
}

/// Why the local CA cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {message}")]
    Key { path: PathBuf, message: String },
    #[error("signing: {0}")]
    Sign(#[from] rcgen::Error),
}

/// The CA's own parameters. They must stay the same from run to run: a reloaded CA signs
/// with the subject written here, which must match the certificate made the first time.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "cong");
    dn.push(DnType::CommonName, "cong local development CA");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    params
}

/// `secs` after the Unix epoch, in rcgen's date type.
fn at(secs: u64, params: &mut CertificateParams, until: u64) {
    params.not_before = rcgen::date_time_ymd(1970, 1, 1) + Duration::from_secs(secs);
    params.not_after = rcgen::date_time_ymd(1970, 1, 1) + Duration::from_secs(until);
}

impl LocalCa {
    /// The CA certificate path in a store (whether or not it exists yet).
    pub fn path_in(store: &Store) -> PathBuf {
        store.dir().join("_ca").join("ca.pem")
    }

    /// Load the CA from the store, or create it there.
    pub fn open_or_create(store: &Store) -> Result<LocalCa, CaError> {
        let dir = store.dir().join("_ca");
        let (cert_path, key_path) = (dir.join("ca.pem"), dir.join("ca-key.pem"));
        if cert_path.is_file() && key_path.is_file() {
            let pem = std::fs::read_to_string(&key_path)
                .map_err(|e| CaError::Key { path: key_path.clone(), message: e.to_string() })?;
            let key =
                KeyPair::from_pem(&pem).map_err(|e| CaError::Key { path: key_path.clone(), message: e.to_string() })?;
            return Ok(LocalCa { issuer: Issuer::new(ca_params(), key), cert_path });
        }
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io { path: dir.clone(), source })?;
        let key = KeyPair::generate()?;
        let mut params = ca_params();
        let start = now().saturating_sub(DAY);
        at(start, &mut params, start + CA_YEARS * 365 * DAY);
        let cert = params.self_signed(&key)?;
        write_atomic(&key_path, key.serialize_pem().as_bytes(), 0o600)?;
        write_atomic(&cert_path, cert.pem().as_bytes(), 0o644)?;
        tracing::info!("created a local CA for tls = \"internal\": {}", cert_path.display());
        Ok(LocalCa { issuer: Issuer::new(params, key), cert_path })
    }

    /// A leaf for `name` (and `name.localhost`): PEM chain and PEM key.
    pub fn issue(&self, name: &str, days: u64) -> Result<(String, String), CaError> {
        let mut params = CertificateParams::new(vec![name.to_string(), format!("{name}.localhost")])?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let start = now().saturating_sub(3600);
        at(start, &mut params, start + days * DAY);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok((cert.pem(), key.serialize_pem()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reloaded_ca_signs_leaves_that_chain_to_the_first_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let first = LocalCa::open_or_create(&store).unwrap();
        let ca_pem = std::fs::read_to_string(&first.cert_path).unwrap();
        let again = LocalCa::open_or_create(&store).unwrap();
        assert_eq!(std::fs::read_to_string(&again.cert_path).unwrap(), ca_pem, "the CA is created once");
        let (chain, key) = again.issue("ais.mic.gov.vn", LEAF_DAYS).unwrap();
        let loaded = crate::store::certs::certified("ais.mic.gov.vn", chain.as_bytes(), key.as_bytes()).unwrap();
        assert!(loaded.info.covers("ais.mic.gov.vn.localhost"));
        assert!(loaded.info.issuer.contains("cong local development CA"), "{}", loaded.info.issuer);
        // Verify the leaf against the CA with rustls' own verifier.
        use rustls::client::danger::ServerCertVerifier;
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(rustls::pki_types::CertificateDer::from_pem_slice(ca_pem.as_bytes()).unwrap()).unwrap();
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            rustls::client::WebPkiServerVerifier::builder_with_provider(roots.into(), provider).build().unwrap();
        let server_name = rustls::pki_types::ServerName::try_from("ais.mic.gov.vn").unwrap();
        let now = rustls::pki_types::UnixTime::now();
        verifier.verify_server_cert(&loaded.key.cert[0], &[], &server_name, &[], now).expect("chains to the CA");
    }
}
