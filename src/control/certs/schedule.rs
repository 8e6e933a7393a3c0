//! When to ask for a certificate, as pure functions: which names the platform must hold
//! certificates for, when a name is due (missing, a third of its lifetime left, forced),
//! the back-off after failures, and the limit on new orders per minute.

use crate::snapshot::routes::{Route, RouteTable};
use crate::store::certs::Meta;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Why a name is due now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// No certificate served for it.
    Missing,
    /// A third of its lifetime (or less) remains.
    Renewal,
    /// `cong cert renew` asked for it.
    Forced,
}

/// When a name needs an issuance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    Now(Reason),
    /// Not before this Unix time (renewal time, or the end of a back-off).
    At(u64),
}

/// The names to hold certificates for: every name of an active member that this platform
/// answers (shared members' names, own domains and aliases; independent members'
/// fourth-level names and aliases, for the HTTPS redirect). `platform`: the zone's own
/// names too (the directory), which the local CA covers but an ACME CA may not reach.
/// Only names in the routing table, which only the registry fills: a stranger's Host or
/// SNI never becomes an order.
pub fn desired_names(routes: &RouteTable, platform: bool) -> Vec<String> {
    routes
        .hosts()
        .into_iter()
        .filter(|(_, route)| match route {
            // An archived member's record stays served, over HTTPS like any site.
            Route::Site { .. } | Route::Canonical { .. } | Route::External { .. } | Route::Archived { .. } => true,
            Route::Apex => platform,
            Route::Pending { .. } | Route::Suspended { .. } => false,
        })
        .map(|(host, _)| host.to_string())
        .collect()
}

/// Is `meta`'s name due at `now` (Unix seconds)? `served`: a certificate is being served.
/// A forced renewal skips the back-off; otherwise a failing name waits out its back-off.
pub fn due(meta: &Meta, served: bool, forced: bool, now: u64) -> Due {
    if forced {
        return Due::Now(Reason::Forced);
    }
    if let Some(retry) = meta.next_retry.filter(|t| *t > now) {
        return Due::At(retry);
    }
    let (Some(from), Some(until)) = (meta.not_before, meta.not_after) else {
        return Due::Now(Reason::Missing);
    };
    if !served || until <= now {
        return Due::Now(Reason::Missing);
    }
    let renew_at = until - until.saturating_sub(from) / 3;
    if now >= renew_at {
        Due::Now(Reason::Renewal)
    } else {
        Due::At(renew_at)
    }
}

/// Seconds to wait after the `failures`-th failure in a row: `min`, doubled each time, at
/// most `max`.
pub fn backoff(failures: u32, min: u64, max: u64) -> u64 {
    let doublings = failures.saturating_sub(1).min(32);
    min.max(1).saturating_mul(1u64 << doublings).min(max.max(1))
}

/// At most `per_minute` new orders in any sliding minute.
#[derive(Debug)]
pub struct RateLimit {
    per_minute: usize,
    started: VecDeque<Instant>,
}

impl RateLimit {
    pub fn new(per_minute: u32) -> RateLimit {
        RateLimit { per_minute: usize::try_from(per_minute.max(1)).unwrap_or(usize::MAX), started: VecDeque::new() }
    }

    /// Take a slot at `now`, or say no.
    pub fn try_take(&mut self, now: Instant) -> bool {
        while self.started.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60)) {
            self.started.pop_front();
        }
        if self.started.len() >= self.per_minute {
            return false;
        }
        self.started.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::member::{Member, Membership, Status};

    fn meta(not_before: Option<u64>, not_after: Option<u64>, next_retry: Option<u64>) -> Meta {
        Meta { not_before, not_after, next_retry, ..Meta::default() }
    }

    #[test]
    fn due_table() {
        // A 90-day certificate from t=0: renewal from day 60.
        let day = 86_400;
        let m = meta(Some(0), Some(90 * day), None);
        let table = [
            (meta(None, None, None), true, false, 5, Due::Now(Reason::Missing)),
            (m.clone(), true, false, day, Due::At(60 * day)),
            (m.clone(), true, false, 60 * day, Due::Now(Reason::Renewal)),
            (m.clone(), false, false, day, Due::Now(Reason::Missing)),
            (m.clone(), true, false, 91 * day, Due::Now(Reason::Missing)),
            (m.clone(), true, true, day, Due::Now(Reason::Forced)),
            (meta(Some(0), Some(90 * day), Some(70 * day)), true, false, 65 * day, Due::At(70 * day)),
            (meta(None, None, Some(100)), false, false, 50, Due::At(100)),
            (meta(None, None, Some(100)), false, true, 50, Due::Now(Reason::Forced)),
            (meta(None, None, Some(100)), false, false, 100, Due::Now(Reason::Missing)),
        ];
        for (i, (meta, served, forced, now, want)) in table.into_iter().enumerate() {
            assert_eq!(due(&meta, served, forced, now), want, "row {i}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let got: Vec<u64> = (1..=7).map(|n| backoff(n, 60, 600)).collect();
        assert_eq!(got, [60, 120, 240, 480, 600, 600, 600]);
        assert_eq!(backoff(1000, 60, 21_600), 21_600, "no overflow");
    }

    #[test]
    fn rate_limit_slides() {
        let t0 = Instant::now();
        let mut limit = RateLimit::new(2);
        assert!(limit.try_take(t0));
        assert!(limit.try_take(t0 + Duration::from_secs(1)));
        assert!(!limit.try_take(t0 + Duration::from_secs(2)));
        assert!(limit.try_take(t0 + Duration::from_secs(60)), "the first slot is free again");
        assert!(!limit.try_take(t0 + Duration::from_secs(60)));
    }

    #[test]
    fn only_active_members_names_are_wanted() {
        let member = Member::sample;
        let members = [
            member("ais", Membership::Shared, Status::Active, &["ais.gov.vn"]),
            member("vncert", Membership::Independent, Status::Active, &["vncert.gov.vn"]),
            member("cbc", Membership::Shared, Status::Suspended, &[]),
            member("new", Membership::Shared, Status::Pending, &[]),
        ];
        let routes = RouteTable::build("mic.gov.vn", &members);
        assert_eq!(desired_names(&routes, false), ["ais.gov.vn", "ais.mic.gov.vn", "vncert.mic.gov.vn"]);
        assert_eq!(
            desired_names(&routes, true),
            ["ais.gov.vn", "ais.mic.gov.vn", "mic.gov.vn", "vncert.mic.gov.vn", "www.mic.gov.vn"]
        );
    }
}
