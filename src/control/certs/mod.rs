//! The certificate manager: keeps a certificate in the store and in [`Certs`] for every
//! name the platform serves (see [`schedule::desired_names`]), from an ACME CA
//! (`tls = "acme"`, [`client`]) or the local CA (`tls = "internal"`). It wakes on registry
//! changes (a new snapshot generation), on `cong cert renew` requests (files under
//! `<certs>/_renew/`), when a renewal or a back-off falls due, and every
//! `[acme] renew_check_secs`. Failures back off exponentially up to `retry_max_secs`, with
//! the error recorded in the name's `meta.json`; new orders are limited per minute.

pub mod client;
pub mod internal;
pub mod schedule;
pub mod status;

use crate::control::certs::internal::{CaError, LocalCa, LEAF_DAYS};
use crate::model::config::TlsMode;
use crate::snapshot::certs::Certs;
use crate::snapshot::Live;
use crate::store::certs::{now, Meta, Store, StoreError};
use client::AcmeClient;
use schedule::{Due, RateLimit, Reason};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// How often the manager looks for registry changes and renewal requests.
const TICK: Duration = Duration::from_millis(250);
/// Orders running at once.
const PARALLEL: usize = 4;

/// How many certificates the local CA's first issuance at a start serves at a time.
const INSTALL_BATCH: usize = 256;
/// An order that takes longer than this is abandoned (and backs off).
const ORDER_TIMEOUT: Duration = Duration::from_secs(300);

/// Why a certificate could not be had.
#[derive(Debug, thiserror::Error)]
pub enum AcmeError {
    #[error("ACME server {directory}: {message}")]
    Protocol { directory: String, message: String },
    #[error("{name}: the CA offers neither an http-01 nor a tls-alpn-01 challenge")]
    NoChallenge { name: String },
    #[error("{name}: validation failed: {detail}")]
    Invalid { name: String, detail: String },
    #[error("{name}: no certificate within {secs} s")]
    Timeout { name: String, secs: u64 },
    #[error("[acme] ca_root \"{path}\": {message}")]
    CaRoot { path: String, message: String },
    #[error("ACME account file {path}: {message}")]
    Account { path: std::path::PathBuf, message: String },
    #[error("challenge certificate: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ca(#[from] CaError),
}

/// Where certificates come from.
pub enum Issuer {
    Internal(LocalCa),
    Acme(AcmeClient),
}

impl Issuer {
    /// Get a PEM chain and key for `name`.
    async fn issue(&self, name: &str, certs: &Arc<Certs>) -> Result<(String, String), AcmeError> {
        match self {
            Issuer::Internal(ca) => Ok(ca.issue(name, LEAF_DAYS)?),
            Issuer::Acme(acme) => match tokio::time::timeout(ORDER_TIMEOUT, acme.issue(name, certs)).await {
                Ok(result) => result,
                Err(_) => Err(AcmeError::Timeout { name: name.into(), secs: ORDER_TIMEOUT.as_secs() }),
            },
        }
    }

    fn source(&self) -> (&'static str, Option<String>) {
        match self {
            Issuer::Internal(_) => ("internal", None),
            Issuer::Acme(acme) => ("acme", Some(acme.directory.clone())),
        }
    }
}

/// Back-off and order limits, from `[acme]`.
#[derive(Debug, Clone)]
struct Settings {
    check_every: Duration,
    retry_min: u64,
    retry_max: u64,
}

/// The manager's state; [`Manager::run`] is its loop.
pub struct Manager {
    live: Arc<Live>,
    certs: Arc<Certs>,
    store: Store,
    issuer: Arc<Issuer>,
    settings: Settings,
    limit: Option<RateLimit>,
    /// The generation the desired names were computed from, and the names.
    generation: u64,
    desired: BTreeSet<String>,
    metas: BTreeMap<String, Meta>,
    forced: BTreeSet<String>,
    running: BTreeSet<String>,
    /// When to look again without an event: the earliest renewal or retry, or the periodic check.
    next_look: Instant,
}

type Done = (String, Result<(String, String), AcmeError>);

impl Manager {
    /// Set up the issuer for `[https] tls`. With the local CA, every name due is issued
    /// before this returns, so HTTPS works from the first request.
    pub async fn new(live: Arc<Live>, certs: Arc<Certs>, store: Store) -> Result<Manager, AcmeError> {
        let config = &live.config;
        let issuer = match config.tls {
            TlsMode::Acme => {
                let base = config.source.as_deref().and_then(|p| p.parent()).unwrap_or(std::path::Path::new("."));
                Issuer::Acme(AcmeClient::new(&config.acme, base, &store)?)
            }
            _ => {
                let ca = LocalCa::open_or_create(&store)?;
                tracing::info!(
                    "tls = \"internal\": certificates come from the local CA {}; trust it in your browser to open https://<name>.localhost:{}/ (cong cert ca)",
                    ca.cert_path.display(),
                    config.https_public_port.unwrap_or(config.https_listen.port())
                );
                Issuer::Internal(ca)
            }
        };
        let settings = Settings {
            check_every: Duration::from_secs(config.acme.renew_check_secs.max(1)),
            retry_min: config.acme.retry_min_secs,
            retry_max: config.acme.retry_max_secs,
        };
        let limit = matches!(issuer, Issuer::Acme(_)).then(|| RateLimit::new(config.acme.orders_per_minute));
        let mut manager = Manager {
            live,
            certs,
            store,
            issuer: Arc::new(issuer),
            settings,
            limit,
            generation: 0,
            desired: BTreeSet::new(),
            metas: BTreeMap::new(),
            forced: BTreeSet::new(),
            running: BTreeSet::new(),
            next_look: Instant::now(),
        };
        if matches!(*manager.issuer, Issuer::Internal(_)) {
            // Served in batches: one change of the served map each (it is copied whole on
            // a change, so one per name was quadratic: seconds at 10,000 new names).
            let mut batch = Vec::new();
            for name in manager.plan() {
                let result = manager.issuer.issue(&name, &manager.certs).await;
                batch.extend(manager.finish(&name, result));
                if batch.len() >= INSTALL_BATCH {
                    manager.certs.install_all(std::mem::take(&mut batch));
                }
            }
            manager.certs.install_all(batch);
        }
        Ok(manager)
    }

    /// Keep certificates fresh until `shutdown` turns true.
    pub async fn run(mut self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut tasks: JoinSet<Done> = JoinSet::new();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                    if let Ok((name, result)) = done {
                        self.serve(&name, result);
                    }
                }
                _ = shutdown.changed() => break,
            }
            for name in self.plan() {
                if let Issuer::Internal(ca) = &*self.issuer {
                    // Signing locally takes a millisecond: no task needed.
                    let result = ca.issue(&name, LEAF_DAYS).map_err(AcmeError::from);
                    self.serve(&name, result);
                    continue;
                }
                let (issuer, certs) = (self.issuer.clone(), self.certs.clone());
                tasks.spawn(async move {
                    let result = issuer.issue(&name, &certs).await;
                    (name, result)
                });
            }
        }
        tasks.abort_all();
    }

    /// Refresh what is wanted and return the names to issue now (marked as running).
    fn plan(&mut self) -> Vec<String> {
        let mut event = self.refresh_desired();
        for name in self.store.take_renewal_requests() {
            if self.desired.contains(&name) {
                tracing::info!("{name}: renewal requested");
                self.forced.insert(name);
                event = true;
            } else {
                let name = crate::model::escape::Escaped(&name);
                tracing::warn!("{name}: renewal requested, but it is not a name this platform serves; ignored");
            }
        }
        if !event && Instant::now() < self.next_look {
            return Vec::new();
        }
        let (now, mut start) = (now(), Vec::new());
        let mut next = Instant::now() + self.settings.check_every;
        let names: Vec<String> = self.desired.iter().filter(|n| !self.running.contains(*n)).cloned().collect();
        for name in names {
            let meta = self.metas.entry(name.clone()).or_insert_with(|| load_meta(&self.store, &name));
            let served = self.certs.get(&name).is_some();
            match schedule::due(meta, served, self.forced.contains(&name), now) {
                Due::At(t) => next = next.min(Instant::now() + Duration::from_secs(t.saturating_sub(now))),
                Due::Now(reason) => {
                    // Orders are limited (the CA's rate limits); the local CA is not.
                    let busy = self.running.len() >= PARALLEL;
                    let limited = self.limit.as_mut().is_some_and(|l| busy || !l.try_take(Instant::now()));
                    if limited {
                        next = next.min(Instant::now() + Duration::from_secs(1));
                        continue;
                    }
                    let why = match reason {
                        Reason::Missing => "no certificate yet",
                        Reason::Renewal => "a third of its lifetime left",
                        Reason::Forced => "renewal requested",
                    };
                    tracing::info!("{name}: requesting a certificate ({why})");
                    self.forced.remove(&name);
                    self.running.insert(name.clone());
                    start.push(name);
                }
            }
        }
        self.next_look = next;
        start
    }

    /// Recompute the desired names when the snapshot changed; true when they did.
    fn refresh_desired(&mut self) -> bool {
        let snap = self.live.snapshot();
        if snap.generation == self.generation {
            return false;
        }
        self.generation = snap.generation;
        let platform = matches!(*self.issuer, Issuer::Internal(_));
        let desired: BTreeSet<String> = schedule::desired_names(&snap.routes, platform)
            .into_iter()
            .filter(|n| self.store.name_dir(n).is_ok())
            .collect();
        if desired == self.desired {
            return false;
        }
        for gone in self.desired.difference(&desired) {
            tracing::info!("{gone}: no longer served by an active member; no more orders for it");
        }
        self.desired = desired;
        true
    }

    /// [`Manager::finish`] one issuance and serve its certificate at once.
    fn serve(&mut self, name: &str, result: Result<(String, String), AcmeError>) {
        if let Some((name, key)) = self.finish(name, result) {
            self.certs.install(&name, key);
        }
    }

    /// Record the outcome of one issuance: store the certificate and return it with its
    /// name, for the caller to serve, or back off.
    fn finish(
        &mut self,
        name: &str,
        result: Result<(String, String), AcmeError>,
    ) -> Option<(String, Arc<rustls::sign::CertifiedKey>)> {
        self.running.remove(name);
        let mut meta = self.metas.get(name).cloned().unwrap_or_else(|| load_meta(&self.store, name));
        meta.last_attempt = Some(now());
        let (source, directory) = self.issuer.source();
        meta.source = source.into();
        meta.directory = directory;
        let saved = result.and_then(|(chain, key)| Ok(self.store.save(name, &chain, &key, meta.clone())?));
        let mut served = None;
        match saved {
            Ok(loaded) => {
                served = Some((name.to_string(), loaded.key));
                tracing::info!(
                    "{name}: certificate from {} installed, valid until {}",
                    loaded.info.issuer,
                    utc(loaded.info.not_after)
                );
                meta = self.store.meta(name).unwrap_or(meta);
            }
            Err(e) => {
                meta.failures += 1;
                let wait = schedule::backoff(meta.failures, self.settings.retry_min, self.settings.retry_max);
                meta.next_retry = Some(now() + wait);
                meta.last_error = Some(e.to_string());
                tracing::warn!("{name}: {e}; attempt {} failed, next in {wait} s", meta.failures);
                if let Err(e) = self.store.save_meta(&meta) {
                    tracing::error!("{name}: cannot record the failure: {e}");
                }
            }
        }
        self.metas.insert(name.to_string(), meta);
        self.next_look = Instant::now();
        served
    }
}

fn load_meta(store: &Store, name: &str) -> Meta {
    store.meta(name).unwrap_or_else(|e| {
        tracing::warn!("{e}; starting its metadata afresh");
        Meta { name: name.to_string(), ..Meta::default() }
    })
}

/// Unix seconds as RFC 3339 UTC.
pub fn utc(secs: u64) -> String {
    crate::model::time::rfc3339_secs(secs)
}
