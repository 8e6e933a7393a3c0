//! The certificate store on disk (`[paths] certs`): per name `<name>/fullchain.pem`,
//! `<name>/key.pem` (mode 0600) and `<name>/meta.json` (issuer, validity, last attempt,
//! last error, next retry). Every file is written to a temporary name and renamed, so a
//! reader sees the old file or the new one, never half of one. `_ca/` holds the local CA,
//! `_acme/` the ACME accounts, `_renew/` renewal requests from `cong cert renew`.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A store problem, with the file it concerns.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("the certificate for {name} does not cover it (it names {sans})")]
    NotCovered { name: String, sans: String },
    #[error("\"{name}\" cannot be a certificate name in the store")]
    BadName { name: String },
}

/// What the store remembers about one name besides its certificate. Times are Unix seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Meta {
    pub name: String,
    /// Where the certificate came from: `acme` or `internal`.
    pub source: String,
    /// The ACME directory that issued it (ACME only).
    pub directory: Option<String>,
    /// Issuer distinguished name of the certificate in the store.
    pub issuer: String,
    /// Serial number, hex.
    pub serial: String,
    pub not_before: Option<u64>,
    pub not_after: Option<u64>,
    pub issued_at: Option<u64>,
    /// The last time an issuance was tried, successful or not.
    pub last_attempt: Option<u64>,
    /// Why the last attempt failed; `None` after a success.
    pub last_error: Option<String>,
    /// No new attempt before this time (back-off after failures).
    pub next_retry: Option<u64>,
    /// Failures in a row since the last success.
    pub failures: u32,
}

/// What a certificate says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub issuer: String,
    pub serial: String,
    pub not_before: u64,
    pub not_after: u64,
    /// DNS names of the subjectAltName extension.
    pub sans: Vec<String>,
}

impl CertInfo {
    /// Parse a DER certificate.
    pub fn parse(der: &[u8]) -> Result<CertInfo, String> {
        let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| format!("not a certificate: {e}"))?;
        let sans = match cert.subject_alternative_name() {
            Ok(Some(ext)) => ext
                .value
                .general_names
                .iter()
                .filter_map(|g| match g {
                    x509_parser::extensions::GeneralName::DNSName(n) => Some(n.to_ascii_lowercase()),
                    _ => None,
                })
                .collect(),
            Ok(None) => Vec::new(),
            Err(e) => return Err(format!("bad subjectAltName: {e}")),
        };
        let secs = |t: x509_parser::time::ASN1Time| u64::try_from(t.timestamp()).unwrap_or(0);
        Ok(CertInfo {
            issuer: cert.issuer().to_string(),
            serial: cert.raw_serial_as_string().replace(':', ""),
            not_before: secs(cert.validity().not_before),
            not_after: secs(cert.validity().not_after),
            sans,
        })
    }

    /// Does the certificate name `host` (exactly, or by a one-label wildcard)?
    pub fn covers(&self, host: &str) -> bool {
        self.sans.iter().any(|san| match san.strip_prefix("*.") {
            Some(parent) => host.split_once('.').is_some_and(|(first, rest)| !first.is_empty() && rest == parent),
            None => san == host,
        })
    }
}

/// A certificate ready to serve, with what it says about itself.
pub struct Loaded {
    pub key: Arc<CertifiedKey>,
    pub info: CertInfo,
}

/// The store folder.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    crate::model::time::now_secs()
}

impl Store {
    /// Open (and create) the store folder.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io { path: dir.to_path_buf(), source })?;
        Ok(Store { dir: dir.to_path_buf() })
    }

    /// A store that may not exist yet (for reading only).
    pub fn at(dir: &Path) -> Store {
        Store { dir: dir.to_path_buf() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The folder of `name`; names that could leave the store are refused.
    pub fn name_dir(&self, name: &str) -> Result<PathBuf, StoreError> {
        let ok = !name.is_empty()
            && !name.starts_with(['.', '_', '-'])
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && !name.contains("..");
        if ok {
            Ok(self.dir.join(name))
        } else {
            Err(StoreError::BadName { name: name.to_string() })
        }
    }

    /// Every name with a folder in the store, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.path().is_dir())
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| self.name_dir(n).is_ok())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The metadata of `name`; empty when there is none yet.
    pub fn meta(&self, name: &str) -> Result<Meta, StoreError> {
        let path = self.name_dir(name)?.join("meta.json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| StoreError::Invalid { path, message: format!("not valid metadata: {e}") }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Meta { name: name.to_string(), ..Meta::default() })
            }
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }

    /// Write the metadata of `meta.name`.
    pub fn save_meta(&self, meta: &Meta) -> Result<(), StoreError> {
        let dir = self.name_dir(&meta.name)?;
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io { path: dir.clone(), source })?;
        let json = serde_json::to_vec_pretty(meta).expect("metadata serialises");
        write_atomic(&dir.join("meta.json"), &json, 0o644)
    }

    /// Load the certificate of `name`: `None` when there is none, an error when the files
    /// are broken, do not match each other or do not cover the name.
    pub fn load(&self, name: &str) -> Result<Option<Loaded>, StoreError> {
        let dir = self.name_dir(name)?;
        let (chain_path, key_path) = (dir.join("fullchain.pem"), dir.join("key.pem"));
        let chain = match std::fs::read(&chain_path) {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::Io { path: chain_path, source }),
        };
        let key = std::fs::read(&key_path).map_err(|source| StoreError::Io { path: key_path.clone(), source })?;
        certified(name, &chain, &key).map(Some).map_err(|e| match e {
            StoreError::Invalid { message, .. } => StoreError::Invalid { path: dir, message },
            other => other,
        })
    }

    /// Every stored certificate that still serves: loaded, matching, covering, not expired.
    /// Problems are logged and the name left out (the manager will issue it again).
    pub fn load_served(&self) -> Vec<(String, Arc<CertifiedKey>)> {
        let now = now();
        let mut out = Vec::new();
        for name in self.names() {
            match self.load(&name) {
                Ok(Some(l)) if l.info.not_after > now => out.push((name, l.key)),
                Ok(Some(_)) => tracing::warn!("{}: the stored certificate has expired", self.dir.join(&name).display()),
                Ok(None) => {}
                Err(e) => tracing::warn!("certificate store: {e}; it will be issued again"),
            }
        }
        out
    }

    /// Check and write a new certificate for `name` (chain first, key 0600), then its
    /// metadata (errors and back-off cleared). Returns it ready to serve.
    pub fn save(&self, name: &str, chain_pem: &str, key_pem: &str, mut meta: Meta) -> Result<Loaded, StoreError> {
        let dir = self.name_dir(name)?;
        let loaded = certified(name, chain_pem.as_bytes(), key_pem.as_bytes())?;
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io { path: dir.clone(), source })?;
        // The key first: a crash between the two renames leaves a pair that does not match,
        // which loading detects (and the manager issues again), never a served mismatch.
        write_atomic(&dir.join("key.pem"), key_pem.as_bytes(), 0o600)?;
        write_atomic(&dir.join("fullchain.pem"), chain_pem.as_bytes(), 0o644)?;
        let info = &loaded.info;
        meta.name = name.to_string();
        meta.issuer = info.issuer.clone();
        meta.serial = info.serial.clone();
        meta.not_before = Some(info.not_before);
        meta.not_after = Some(info.not_after);
        meta.issued_at = Some(now());
        meta.last_error = None;
        meta.next_retry = None;
        meta.failures = 0;
        self.save_meta(&meta)?;
        Ok(loaded)
    }

    /// Ask the running server to renew `name` now (`cong cert renew`): a file under
    /// `_renew/`, which the manager picks up within a second and removes.
    pub fn request_renewal(&self, name: &str) -> Result<(), StoreError> {
        self.name_dir(name)?;
        let dir = self.dir.join("_renew");
        std::fs::create_dir_all(&dir).map_err(|source| StoreError::Io { path: dir.clone(), source })?;
        write_atomic(&dir.join(name), b"", 0o644)
    }

    /// Take the pending renewal requests (the manager's side of [`Store::request_renewal`]).
    pub fn take_renewal_requests(&self) -> Vec<String> {
        let dir = self.dir.join("_renew");
        let Ok(rd) = std::fs::read_dir(&dir) else { return Vec::new() };
        let mut names = Vec::new();
        for entry in rd.flatten() {
            let Ok(name) = entry.file_name().into_string() else { continue };
            if self.name_dir(&name).is_ok() && std::fs::remove_file(entry.path()).is_ok() {
                names.push(name);
            }
        }
        names
    }
}

/// Parse a PEM chain and key into something rustls serves, checking that the key belongs to
/// the first certificate and that the certificate covers `name`.
pub fn certified(name: &str, chain_pem: &[u8], key_pem: &[u8]) -> Result<Loaded, StoreError> {
    let invalid = |message: String| StoreError::Invalid { path: PathBuf::from(name), message };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| invalid(format!("fullchain.pem: {e}")))?;
    let leaf = chain.first().ok_or_else(|| invalid("fullchain.pem: no certificate".into()))?;
    let info = CertInfo::parse(leaf).map_err(|e| invalid(format!("fullchain.pem: {e}")))?;
    if !info.covers(name) {
        return Err(StoreError::NotCovered { name: name.to_string(), sans: info.sans.join(", ") });
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| invalid(format!("key.pem: {e}")))?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key).map_err(|e| invalid(format!("key.pem: {e}")))?;
    let key = CertifiedKey::new(chain, signing);
    key.keys_match().map_err(|e| invalid(format!("key.pem does not belong to the certificate: {e}")))?;
    Ok(Loaded { key: Arc::new(key), info })
}

/// Write `bytes` to a temporary file beside `path` with `mode`, flush it to disk, and
/// rename it over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), StoreError> {
    let io = |source| StoreError::Io { path: path.to_path_buf(), source };
    let dir = path.parent().unwrap_or(Path::new("."));
    let file_name = path.file_name().map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{file_name}.tmp-{}-{n}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let result = (|| {
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(sans: &[&str]) -> CertInfo {
        CertInfo {
            issuer: String::new(),
            serial: String::new(),
            not_before: 0,
            not_after: 0,
            sans: sans.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn coverage_table() {
        let table = [
            (&["ais.mic.gov.vn"][..], "ais.mic.gov.vn", true),
            (&["ais.mic.gov.vn"][..], "vnnic.mic.gov.vn", false),
            (&["*.mic.gov.vn"][..], "ais.mic.gov.vn", true),
            (&["*.mic.gov.vn"][..], "mic.gov.vn", false),
            (&["*.mic.gov.vn"][..], "a.ais.mic.gov.vn", false),
            (&["ais.gov.vn", "ais.mic.gov.vn"][..], "ais.mic.gov.vn", true),
            (&[][..], "ais.mic.gov.vn", false),
        ];
        for (sans, host, want) in table {
            assert_eq!(info(sans).covers(host), want, "{sans:?} {host}");
        }
    }

    #[test]
    fn names_that_leave_the_store_are_refused() {
        let store = Store::at(Path::new("/tmp/certs"));
        for bad in ["", "../x", "_ca", ".hidden", "a/b", "A.B", "a..b", "-x"] {
            assert!(store.name_dir(bad).is_err(), "{bad:?}");
        }
        assert!(store.name_dir("ais.mic.gov.vn").is_ok());
    }

    #[test]
    fn a_saved_certificate_loads_back_with_a_private_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let name = "ais.mic.gov.vn";
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap().self_signed(&key).unwrap();
        let meta = Meta { source: "internal".into(), ..Meta::default() };
        store.save(name, &cert.pem(), &key.serialize_pem(), meta).unwrap();
        let loaded = store.load(name).unwrap().expect("stored");
        assert!(loaded.info.covers(name));
        assert_eq!(store.meta(name).unwrap().not_after, Some(loaded.info.not_after));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(name).join("key.pem")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join(name))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "no temporary files stay behind");
    }

    #[test]
    fn a_certificate_for_another_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["vnnic.mic.gov.vn".into()]).unwrap().self_signed(&key).unwrap();
        let err = store.save("ais.mic.gov.vn", &cert.pem(), &key.serialize_pem(), Meta::default()).err().unwrap();
        assert!(matches!(err, StoreError::NotCovered { .. }), "{err}");
        assert!(!dir.path().join("ais.mic.gov.vn").exists(), "nothing written");
    }

    #[test]
    fn renewal_requests_are_taken_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.request_renewal("ais.mic.gov.vn").unwrap();
        assert_eq!(store.take_renewal_requests(), vec!["ais.mic.gov.vn".to_string()]);
        assert!(store.take_renewal_requests().is_empty());
    }
}
