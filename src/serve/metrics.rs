//! Request counters by member and status and a histogram of response times, rendered in
//! the Prometheus text format.
//! The hot path touches only its own thread's shard: its lock (taken by no other thread but
//! a render), the member's counter found by its label's number (an index, no hashing) and
//! the histogram. With one shared set, every request moved the same cache lines between the
//! cores. A 200 (nearly every answer) counts in a dense array of its own, 8 bytes a member
//! (80 KB at 10,000 members, which stays in a core's cache), the other statuses in the
//! member's full set (152 bytes).

use crate::model::label::Label;
use std::fmt::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The statuses counted one by one; anything else counts under its class (`2xx`, ...).
const STATUSES: [u16; 14] = [200, 201, 301, 304, 400, 401, 404, 405, 410, 413, 421, 431, 500, 503];

/// One member's counters: one slot per known status, then one per class 1xx..5xx.
#[derive(Debug, Default, Clone)]
struct Counters([u64; STATUSES.len() + 5]);

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

/// How many shards: threads beyond this share them (still correct, a little slower).
const SHARDS: usize = 16;

/// One thread's share of the counters, on cache lines of its own.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard(Mutex<Tally>);

#[derive(Debug, Default)]
struct Tally {
    /// 200s by [`Label::id`]; grown when a member of a higher number is first counted.
    ok: Vec<u64>,
    /// Every other status by [`Label::id`]; grown likewise.
    members: Vec<Counters>,
    /// Requests that concerned no member (apex, unknown host, health).
    no_member: Counters,
    /// Responses by the first bound they fit under; the last slot is `+Inf`.
    durations: [u64; DURATION_BOUNDS.len() + 1],
    /// The sum of response times, in microseconds.
    duration_sum_us: u64,
}

/// Counters shared by every listener.
#[derive(Debug, Default)]
pub struct Metrics {
    shards: [Shard; SHARDS],
}

/// This thread's shard: threads take the next one when they first count.
fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    INDEX.with(|i| *i)
}

impl Metrics {
    /// Count one response for `member` (`-` for none: apex, unknown host, health) that
    /// took `took` until its head was ready.
    pub fn record(&self, member: Option<&Label>, status: u16, took: std::time::Duration) {
        let secs = took.as_secs_f64();
        let bucket = DURATION_BOUNDS.iter().position(|b| secs <= *b).unwrap_or(DURATION_BOUNDS.len());
        let slot = Counters::slot(status);
        let mut tally = self.shards[shard_index()].0.lock().unwrap_or_else(|p| p.into_inner());
        tally.durations[bucket] += 1;
        tally.duration_sum_us =
            tally.duration_sum_us.saturating_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
        let counters = match member {
            Some(label) if status == 200 => {
                if tally.ok.len() <= label.id() {
                    tally.ok.resize(label.id() + 1, 0);
                }
                tally.ok[label.id()] += 1;
                return;
            }
            Some(label) => {
                if tally.members.len() <= label.id() {
                    tally.members.resize(label.id() + 1, Counters::default());
                }
                &mut tally.members[label.id()]
            }
            None => &mut tally.no_member,
        };
        counters.0[slot] += 1;
    }

    /// Every shard's counters added up: by member (sorted) and the histogram.
    fn total(&self) -> (std::collections::BTreeMap<String, Counters>, Tally) {
        let mut members = std::collections::BTreeMap::<String, Counters>::new();
        let mut sum = Tally::default();
        let texts = Label::all();
        for shard in &self.shards {
            let tally = shard.0.lock().unwrap_or_else(|p| p.into_inner());
            let named = tally.members.iter().enumerate().filter_map(|(id, c)| Some((&**texts.get(id)?, c)));
            let counted = named.chain([("-", &tally.no_member)]).filter(|(_, c)| c.0.iter().any(|n| *n > 0));
            for (member, counters) in counted {
                let into = members.entry(member.to_string()).or_default();
                for (a, b) in into.0.iter_mut().zip(counters.0) {
                    *a += b;
                }
            }
            let ok = Counters::slot(200);
            for (id, n) in tally.ok.iter().enumerate().filter(|(_, n)| **n > 0) {
                if let Some(member) = texts.get(id) {
                    members.entry(member.to_string()).or_default().0[ok] += n;
                }
            }
            for (a, b) in sum.durations.iter_mut().zip(tally.durations) {
                *a += b;
            }
            sum.duration_sum_us = sum.duration_sum_us.saturating_add(tally.duration_sum_us);
        }
        (members, sum)
    }

    /// The counter for one pair (`-` for no member), for tests and status pages.
    pub fn get(&self, member: &str, status: u16) -> u64 {
        let slot = Counters::slot(status);
        let id = match member {
            "-" => None,
            // Never counted under a label nobody has used: nothing to add up.
            named => match Label::find(named) {
                Some(label) => Some(label.id()),
                None => return 0,
            },
        };
        self.shards
            .iter()
            .map(|shard| {
                let tally = shard.0.lock().unwrap_or_else(|p| p.into_inner());
                let counters = match id {
                    Some(id) if status == 200 => return tally.ok.get(id).copied().unwrap_or(0),
                    Some(id) => tally.members.get(id),
                    None => Some(&tally.no_member),
                };
                counters.map_or(0, |c| c.0[slot])
            })
            .sum()
    }

    /// Prometheus exposition text; `extra` is appended (gauges owned by others).
    pub fn render(&self, extra: &str) -> String {
        let (members, tally) = self.total();
        let mut out = String::from(
            "# HELP cong_requests_total Responses sent, by member and HTTP status.\n# TYPE cong_requests_total counter\n",
        );
        for (member, counters) in &members {
            for (slot, count) in counters.0.iter().enumerate() {
                if *count > 0 {
                    let status = Counters::label(slot);
                    let _ = writeln!(out, "cong_requests_total{{member=\"{member}\",status=\"{status}\"}} {count}");
                }
            }
        }
        out.push_str(
            "# HELP cong_request_duration_seconds Time until a response's head was ready.\n\
             # TYPE cong_request_duration_seconds histogram\n",
        );
        let mut cumulative = 0;
        for (slot, count) in tally.durations.iter().enumerate() {
            cumulative += count;
            let le = DURATION_BOUNDS.get(slot).map_or_else(|| "+Inf".to_string(), ToString::to_string);
            let _ = writeln!(out, "cong_request_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let sum = tally.duration_sum_us as f64 / 1e6;
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
        m.record(Some(&"ais".into()), 200, ms(0));
        m.record(Some(&"ais".into()), 200, ms(3));
        m.record(None, 404, ms(30));
        m.record(Some(&"ais".into()), 418, ms(9000));
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

    /// Counts made on many threads (each its own shard, some sharing one) add up.
    #[test]
    fn counts_from_many_threads_add_up() {
        let m = Metrics::default();
        let vnnic = Label::intern("vnnic");
        std::thread::scope(|s| {
            for _ in 0..(SHARDS + 4) {
                s.spawn(|| {
                    for _ in 0..100 {
                        m.record(Some(&vnnic), 200, std::time::Duration::from_micros(100));
                        m.record(None, 503, std::time::Duration::from_millis(2));
                    }
                });
            }
        });
        let n = (SHARDS + 4) as u64 * 100;
        assert_eq!((m.get("vnnic", 200), m.get("-", 503)), (n, n));
        let text = m.render("");
        assert!(text.contains(&format!("cong_requests_total{{member=\"vnnic\",status=\"200\"}} {n}\n")), "{text}");
        assert!(text.contains(&format!("cong_request_duration_seconds_count {}\n", 2 * n)), "{text}");
        assert!(text.contains(&format!("cong_request_duration_seconds_bucket{{le=\"0.0005\"}} {n}\n")), "{text}");
    }
}
