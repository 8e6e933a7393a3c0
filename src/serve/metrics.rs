//! Request counters by member and status and a histogram of response times, rendered in
//! the Prometheus text format.
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

/// Upper bounds of the response-time histogram, in seconds.
const DURATION_BOUNDS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// Counters shared by every listener.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: RwLock<HashMap<String, Counters>>,
    /// Responses by the first bound they fit under; the last slot is `+Inf`.
    durations: [AtomicU64; DURATION_BOUNDS.len() + 1],
    /// The sum of response times, in microseconds.
    duration_sum_us: AtomicU64,
}

impl Metrics {
    /// Count one response for `member` (`-` for none: apex, unknown host, health) that
    /// took `took` until its head was ready.
    pub fn record(&self, member: Option<&str>, status: u16, took: std::time::Duration) {
        let secs = took.as_secs_f64();
        let bucket = DURATION_BOUNDS.iter().position(|b| secs <= *b).unwrap_or(DURATION_BOUNDS.len());
        self.durations[bucket].fetch_add(1, Ordering::Relaxed);
        self.duration_sum_us.fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
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
        drop(map);
        out.push_str(
            "# HELP cong_request_duration_seconds Time until a response's head was ready.\n\
             # TYPE cong_request_duration_seconds histogram\n",
        );
        let mut cumulative = 0;
        for (slot, count) in self.durations.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            let le = DURATION_BOUNDS.get(slot).map_or_else(|| "+Inf".to_string(), ToString::to_string);
            let _ = writeln!(out, "cong_request_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let sum = self.duration_sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ =
            writeln!(out, "cong_request_duration_seconds_sum {sum}\ncong_request_duration_seconds_count {cumulative}");
        let _ = writeln!(
            out,
            "# HELP cong_build_info The running version.\n# TYPE cong_build_info gauge\ncong_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
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
        let ms = std::time::Duration::from_millis;
        m.record(Some("ais"), 200, ms(0));
        m.record(Some("ais"), 200, ms(3));
        m.record(None, 404, ms(30));
        m.record(Some("ais"), 418, ms(9000));
        assert_eq!(m.get("ais", 200), 2);
        assert_eq!(m.get("ais", 404), 0);
        let text = m.render("");
        assert!(text.contains("cong_requests_total{member=\"ais\",status=\"200\"} 2\n"), "{text}");
        assert!(text.contains("cong_requests_total{member=\"-\",status=\"404\"} 1\n"), "{text}");
        assert!(text.contains("cong_requests_total{member=\"ais\",status=\"4xx\"} 1\n"), "{text}");
        for (le, count) in [("0.0005", 1), ("0.0025", 1), ("0.005", 2), ("0.05", 3), ("5", 3), ("+Inf", 4)] {
            let line = format!("cong_request_duration_seconds_bucket{{le=\"{le}\"}} {count}\n");
            assert!(text.contains(&line), "{line} in {text}");
        }
        assert!(text.contains("cong_request_duration_seconds_sum 9.033\n"), "{text}");
        assert!(text.contains("cong_request_duration_seconds_count 4\n"), "{text}");
        assert!(text.contains("cong_build_info{version=\""), "{text}");
    }
}
