//! Request counters by member and status, rendered in the Prometheus text format.
//! The hot path takes a read lock, finds the member by `&str` (no allocation) and bumps
//! an atomic; only a member seen for the first time takes the write lock.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

/// The statuses counted one by one; anything else counts under its class (`2xx`, ...).
const STATUSES: [u16; 14] = [200, 201, 301, 304, 400, 401, 404, 405, 410, 413, 421, 431, 500, 503];

/// One member's counters: one slot per known status, then one per class 1xx..5xx.
#[derive(Debug, Default)]
struct Counters([AtomicU64; STATUSES.len() + 5]);

impl Counters {
    fn slot(status: u16) -> usize {
        STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or_else(|| STATUSES.len() + usize::from((status / 100).clamp(1, 5) - 1))
    }

    fn label(slot: usize) -> String {
        STATUSES.get(slot).map_or_else(|| format!("{}xx", slot - STATUSES.len() + 1), |s| s.to_string())
    }
}

/// Counters shared by every listener.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: RwLock<HashMap<String, Counters>>,
}

impl Metrics {
    /// Count one response for `member` (`-` for none: apex, unknown host, health).
    pub fn record(&self, member: Option<&str>, status: u16) {
        let member = member.unwrap_or("-");
        let slot = Counters::slot(status);
        {
            let map = self.requests.read().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = map.get(member) {
                c.0[slot].fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        let mut map = self.requests.write().unwrap_or_else(|p| p.into_inner());
        map.entry(member.to_string()).or_default().0[slot].fetch_add(1, Ordering::Relaxed);
    }

    /// The counter for one pair, for tests and status pages.
    pub fn get(&self, member: &str, status: u16) -> u64 {
        let map = self.requests.read().unwrap_or_else(|p| p.into_inner());
        map.get(member).map_or(0, |c| c.0[Counters::slot(status)].load(Ordering::Relaxed))
    }

    /// Prometheus exposition text; `extra` is appended (gauges owned by others).
    pub fn render(&self, extra: &str) -> String {
        let map = self.requests.read().unwrap_or_else(|p| p.into_inner());
        let mut members: Vec<&String> = map.keys().collect();
        members.sort();
        let mut out = String::from(
            "# HELP cong_requests_total Responses sent, by member and HTTP status.\n# TYPE cong_requests_total counter\n",
        );
        for member in members {
            for (slot, count) in map[member].0.iter().enumerate() {
                let count = count.load(Ordering::Relaxed);
                if count > 0 {
                    let status = Counters::label(slot);
                    let _ = writeln!(out, "cong_requests_total{{member=\"{member}\",status=\"{status}\"}} {count}");
                }
            }
        }
        out.push_str(extra);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_renders() {
        let m = Metrics::default();
        m.record(Some("ais"), 200);
        m.record(Some("ais"), 200);
        m.record(None, 404);
        m.record(Some("ais"), 418);
        assert_eq!(m.get("ais", 200), 2);
        assert_eq!(m.get("ais", 404), 0);
        let text = m.render("");
        assert!(text.contains("cong_requests_total{member=\"ais\",status=\"200\"} 2\n"), "{text}");
        assert!(text.contains("cong_requests_total{member=\"-\",status=\"404\"} 1\n"), "{text}");
        assert!(text.contains("cong_requests_total{member=\"ais\",status=\"4xx\"} 1\n"), "{text}");
    }
}
