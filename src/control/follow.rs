//! Follow the registry: changes made by any process (the CLI, another server, this one's
//! admin API) reach the publisher as the new list of members. SQLite is read on the
//! blocking pool only; the publisher takes the list without waiting for any site build.

use crate::control::publisher::{Change, Publisher};
use crate::snapshot::SiteDossiers;
use crate::store::registry::{off_workers, Shared};
use std::time::Duration;

/// Read the registry's members and publish them; returns once they are live.
pub async fn refresh_members(registry: &Shared, publisher: &Publisher) {
    match off_workers(registry, |r| r.members()).await {
        Ok(Ok(members)) => publisher.apply(Change::Members(members)).await,
        Ok(Err(e)) => tracing::error!("reading the registry: {e}; serving the last known members"),
        Err(e) => tracing::error!("reading the registry: {e}"),
    }
}

/// Every site's dossiers whose version differs from `known` (all of them when `known` is
/// empty), with `known` brought up to date.
pub fn read_dossiers(
    registry: &crate::store::registry::Registry,
    known: &mut std::collections::BTreeMap<String, i64>,
) -> Result<std::collections::BTreeMap<String, std::sync::Arc<SiteDossiers>>, crate::store::registry::RegistryError> {
    let mut changed = std::collections::BTreeMap::new();
    for (site, version) in registry.dossier_versions()? {
        if known.get(&site) != Some(&version) {
            changed.insert(site.clone(), std::sync::Arc::new(SiteDossiers::new(registry.dossiers(&site)?)));
            known.insert(site, version);
        }
    }
    Ok(changed)
}

/// Read the dossiers that changed since `known` and publish them; returns once live.
pub async fn refresh_dossiers(
    registry: &Shared,
    publisher: &Publisher,
    known: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, i64>>>,
) {
    let read = off_workers(registry, move |r| {
        let mut known = known.lock().unwrap_or_else(|p| p.into_inner());
        read_dossiers(r, &mut known)
    })
    .await;
    match read {
        Ok(Ok(changed)) if !changed.is_empty() => publisher.apply(Change::Dossiers(changed)).await,
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!("reading dossiers: {e}"),
        Err(e) => tracing::warn!("reading dossiers: {e}"),
    }
}

/// Poll SQLite's cheap change marker every `every` and publish the members when it moves,
/// until `shutdown`. Each poll also publishes scheduled submissions whose time has come and
/// writes out published sets approved by any process (`control::content::catch_up`).
pub async fn follow_registry(
    registry: Shared,
    publisher: Publisher,
    config: std::sync::Arc<crate::model::config::Config>,
    every: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut last = None;
    let known = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::new()));
    let dossiers = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::new()));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        let (config, known) = (config.clone(), known.clone());
        let caught_up = off_workers(&registry, move |r| {
            let mut known = known.lock().unwrap_or_else(|p| p.into_inner());
            crate::control::content::catch_up(r, &config, &mut known)
        })
        .await;
        match caught_up {
            Ok(Ok(sites)) if !sites.is_empty() => publisher.apply(Change::Published(sites)).await,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!("publishing approved content: {e}"),
            Err(e) => tracing::warn!("publishing approved content: {e}"),
        }
        match off_workers(&registry, |r| r.change_marker()).await {
            Ok(Ok(m)) if Some(m) != last => {
                last = Some(m);
                refresh_members(&registry, &publisher).await;
                refresh_dossiers(&registry, &publisher, dossiers.clone()).await;
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!("polling the registry: {e}"),
            Err(e) => tracing::warn!("polling the registry: {e}"),
        }
    }
}
