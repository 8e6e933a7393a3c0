//! Request counters by member and status, rendered in the Prometheus text format.
//! The hot path takes a read lock and bumps an atomic; only a new (member, status) pair
//! takes the write lock.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

/// Counters shared by every listener.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: RwLock<HashMap<(String, u16), AtomicU64>>,
}

impl Metrics {
    /// Count one response for `member` (`-` for none: apex, unknown host, health).
    pub fn record(&self, member: Option<&str>, status: u16) {
        let member = member.unwrap_or("-");
        {
            let map = self.requests.read().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = map.get(&(member.to_string(), status)) {
                c.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        let mut map = self.requests.write().unwrap_or_else(|p| p.into_inner());
        map.entry((member.to_string(), status)).or_default().fetch_add(1, Ordering::Relaxed);
    }

    /// The counter for one pair, for tests and status pages.
    pub fn get(&self, member: &str, status: u16) -> u64 {
        let map = self.requests.read().unwrap_or_else(|p| p.into_inner());
        map.get(&(member.to_string(), status)).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Prometheus exposition text; `extra` is appended (gauges owned by others).
    pub fn render(&self, extra: &str) -> String {
        let map = self.requests.read().unwrap_or_else(|p| p.into_inner());
        let mut rows: Vec<_> = map.iter().map(|((m, s), c)| (m.as_str(), *s, c.load(Ordering::Relaxed))).collect();
        rows.sort();
        let mut out = String::from("# HELP cong_requests_total Responses sent, by member and HTTP status.\n# TYPE cong_requests_total counter\n");
        for (member, status, count) in rows {
            let _ = writeln!(out, "cong_requests_total{{member=\"{member}\",status=\"{status}\"}} {count}");
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
        assert_eq!(m.get("ais", 200), 2);
        let text = m.render("");
        assert!(text.contains("cong_requests_total{member=\"ais\",status=\"200\"} 2\n"), "{text}");
        assert!(text.contains("cong_requests_total{member=\"-\",status=\"404\"} 1\n"), "{text}");
    }
}
