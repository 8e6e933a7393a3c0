//! Follow the registry: changes made by any process (the CLI, another server, this one's
//! admin API) reach the publisher as the new list of members. SQLite is read on the
//! blocking pool only; the publisher takes the list without waiting for any site build.

use crate::control::publisher::{Change, Publisher};
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

/// Poll SQLite's cheap change marker every `every` and publish the members when it moves,
/// until `shutdown`.
pub async fn follow_registry(
    registry: Shared,
    publisher: Publisher,
    every: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut last = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        match off_workers(&registry, |r| r.change_marker()).await {
            Ok(Ok(m)) if Some(m) != last => {
                last = Some(m);
                refresh_members(&registry, &publisher).await;
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!("polling the registry: {e}"),
            Err(e) => tracing::warn!("polling the registry: {e}"),
        }
    }
}
