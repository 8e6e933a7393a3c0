//! The checker inside a running server: a periodic re-check (`[dns] check_interval_secs`,
//! 0 turns it off), one run at a time, results kept in the registry, and the last of them
//! in memory for the admin API (`GET /api/dns`, the `dns` field of a member).

use super::{Report, ResolverError, Status};
use crate::model::config::Config;
use crate::model::member::Status as MemberStatus;
use crate::store::registry::{Registry, RegistryError};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// The longest wait before the first periodic run after start.
const FIRST_RUN_AFTER: Duration = Duration::from_secs(30);

/// Why a run did not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Resolver(#[from] ResolverError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("the DNS check task stopped: {0}")]
    Task(String),
}

/// The DNS checker of one server.
pub struct Service {
    config: Config,
    registry: Arc<Mutex<Registry>>,
    /// The last results as stored (every member's latest), assembled into one report.
    last: Mutex<Option<Arc<Report>>>,
    /// Held while a check runs, so two never overlap.
    running: Arc<tokio::sync::Mutex<()>>,
}

impl Service {
    pub fn new(config: Config, registry: Arc<Mutex<Registry>>) -> Arc<Service> {
        Arc::new(Service { config, registry, last: Mutex::new(None), running: Arc::default() })
    }

    /// Check every member that is not archived, store the results, and return them.
    /// Waits for a run already under way to finish first.
    pub async fn run_once(&self) -> Result<Arc<Report>, ServiceError> {
        let _turn = self.running.lock().await;
        self.run_locked().await
    }

    /// A run, with the `running` lock held by the caller.
    async fn run_locked(&self) -> Result<Arc<Report>, ServiceError> {
        let members = self.blocking(|r| r.members()).await?;
        let selected: Vec<_> = members.iter().filter(|m| m.status != MemberStatus::Archived).cloned().collect();
        let report = super::run(&self.config, &members, &selected, &[], &|_, _| {}).await?;
        let rows = report.to_stored();
        self.blocking(move |r| r.store_dns(&rows)).await?;
        self.refresh().await;
        let s = &report.summary;
        let line = format!(
            "DNS check: {} members: {} passed, {} warning, {} failed, {} error",
            report.members.len(),
            s.passed,
            s.warning,
            s.failed,
            s.error
        );
        if s.failed + s.error > 0 {
            tracing::warn!("{line} (GET /api/dns or cong dns check for the evidence)");
        } else {
            tracing::info!("{line}");
        }
        Ok(Arc::new(report))
    }

    /// Start a run in the background unless one is under way; whether one was started.
    pub fn start(self: &Arc<Self>) -> bool {
        let Ok(turn) = self.running.clone().try_lock_owned() else {
            return false;
        };
        let service = self.clone();
        tokio::spawn(async move {
            let _turn = turn;
            if let Err(e) = service.run_locked().await {
                tracing::error!("DNS check: {e}");
            }
        });
        true
    }

    /// Whether a check is under way.
    pub fn is_running(&self) -> bool {
        self.running.try_lock().is_err()
    }

    /// Re-read the stored results (another process, such as `cong dns check`, may have
    /// written newer ones).
    pub async fn refresh(&self) {
        match self.blocking(|r| r.last_dns()).await {
            Ok(rows) => {
                let report = Report::from_stored(&self.config.platform.zone, &rows).map(Arc::new);
                *self.last.lock().unwrap_or_else(|p| p.into_inner()) = report;
            }
            Err(e) => tracing::warn!("reading the stored DNS results: {e}"),
        }
    }

    /// The last results, every member's latest, if any check has run.
    pub fn last(&self) -> Option<Arc<Report>> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A member's DNS state for the admin API: status, when, and the ids of its failing
    /// checks; `null` when it has not been checked.
    pub fn member_state(&self, label: &str) -> Value {
        let Some(report) = self.last() else { return Value::Null };
        let Some(m) = report.members.iter().find(|m| m.label == label) else { return Value::Null };
        let problems: Vec<&str> =
            m.checks.iter().filter(|c| c.status == Status::Warning).map(|c| c.id.as_str()).collect();
        json!({
            "status": m.status,
            "checked_at": m.checked_at.as_deref().unwrap_or(&report.checked_at),
            "failing": m.failing(),
            "warnings": problems,
        })
    }

    /// A registry call on a blocking thread.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Registry) -> Result<T, RegistryError> + Send + 'static,
    ) -> Result<T, ServiceError> {
        crate::store::registry::off_workers(&self.registry, f)
            .await
            .map_err(|e| ServiceError::Task(e.to_string()))?
            .map_err(ServiceError::from)
    }
}

/// When the periodic re-check runs for `[dns] check_interval_secs`: the wait before the
/// first run (the interval, at most [`FIRST_RUN_AFTER`]) and the wait between runs; `None`
/// when the interval is 0, which turns the re-check off.
fn schedule(interval_secs: u64) -> Option<(Duration, Duration)> {
    let every = Duration::from_secs(interval_secs);
    (!every.is_zero()).then(|| (every.min(FIRST_RUN_AFTER), every))
}

/// The periodic re-check: first shortly after start, then every `[dns]
/// check_interval_secs`, until shutdown. Returns at once when the interval is 0.
pub async fn periodic(service: Arc<Service>, mut shutdown: watch::Receiver<bool>) {
    let Some((first, every)) = schedule(service.config.dns_check_interval_secs) else {
        return;
    };
    service.refresh().await;
    let mut wait = first;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
        tokio::select! {
            result = service.run_once() => {
                if let Err(e) = result {
                    tracing::error!("DNS check: {e}");
                }
            }
            _ = shutdown.changed() => return,
        }
        wait = every;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_run_follows_the_interval_and_zero_turns_the_recheck_off() {
        let secs = Duration::from_secs;
        assert_eq!(schedule(0), None, "0: off, not the default interval");
        assert_eq!(schedule(1), Some((secs(1), secs(1))), "a short interval runs first after itself");
        assert_eq!(schedule(30), Some((secs(30), secs(30))));
        assert_eq!(schedule(6 * 3600), Some((FIRST_RUN_AFTER, secs(6 * 3600))), "a long one first within 30 s");
    }
}
