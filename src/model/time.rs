//! The one calendar: dates, times as RFC 3339, and the day in Viet Nam (Asia/Ho_Chi_Minh,
//! UTC+7 all year). Proleptic Gregorian arithmetic after Howard Hinnant; no I/O but the
//! clock in [`now_secs`].

use std::time::{SystemTime, UNIX_EPOCH};

/// Asia/Ho_Chi_Minh is UTC+7 and has no daylight saving.
pub const VN_OFFSET_SECS: u64 = 7 * 3600;

/// Seconds since the Unix epoch, now.
pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `secs` after the epoch as RFC 3339 UTC to the second: `2026-11-29T01:00:00Z`.
pub fn rfc3339_secs(secs: u64) -> String {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    format!("{}T{hh:02}:{mm:02}:{ss:02}Z", Date::from_days(days).iso())
}

/// `t` as RFC 3339 UTC to the second.
pub fn rfc3339(t: SystemTime) -> String {
    rfc3339_secs(t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// `2024-05-12`.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `12/05/2024`, as Vietnamese readers write dates.
    pub fn display_vi(self) -> String {
        format!("{:02}/{:02}/{:04}", self.day, self.month, self.year)
    }

    /// RFC 2822 at midnight UTC, for RSS: `Sun, 12 May 2024 00:00:00 +0000`.
    pub fn rfc2822(self) -> String {
        const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let weekday = DAYS[(self.days_since_epoch() + 3).rem_euclid(7) as usize];
        let month = MONTHS[usize::from(self.month - 1)];
        format!("{weekday}, {:02} {month} {:04} 00:00:00 +0000", self.day, self.year)
    }

    /// Days since 1970-01-01 (a Thursday), by Howard Hinnant's civil-from-days inverse.
    pub fn days_since_epoch(self) -> i64 {
        let (y, m, d) = (i64::from(self.year), i64::from(self.month), i64::from(self.day));
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// Today's date in Viet Nam (UTC+7, no daylight saving).
    pub fn today() -> Date {
        Date::at_vn(now_secs())
    }

    /// The date in Viet Nam at `secs` after the Unix epoch.
    pub fn at_vn(secs: u64) -> Date {
        Date::from_days((secs + VN_OFFSET_SECS).div_euclid(86_400) as i64)
    }

    /// The date `days` after 1970-01-01 (Howard Hinnant's civil-from-days).
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Date { year, month, day }
    }

    /// `2024-05-12` (anything after the tenth character is ignored).
    pub fn parse(s: &str) -> Option<Date> {
        let s = s.get(..10)?;
        let mut it = s.split('-');
        let year = it.next()?.parse().ok()?;
        let month: u8 = it.next()?.parse().ok()?;
        let day: u8 = it.next()?.parse().ok()?;
        ((1..=12).contains(&month) && (1..=31).contains(&day)).then_some(Date { year, month, day })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip() {
        for days in [0, 59, 365, 11_016, 20_586, 30_000] {
            assert_eq!(Date::from_days(days).days_since_epoch(), days);
        }
        assert_eq!(Date::from_days(20_586).iso(), "2026-05-13");
    }

    #[test]
    fn rfc2822_weekdays() {
        let d = |year, month, day| Date { year, month, day }.rfc2822();
        assert_eq!(d(2024, 5, 12), "Sun, 12 May 2024 00:00:00 +0000");
        assert_eq!(d(1970, 1, 1), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(d(2026, 11, 29), "Sun, 29 Nov 2026 00:00:00 +0000");
        assert_eq!(d(2000, 2, 29), "Tue, 29 Feb 2000 00:00:00 +0000");
    }

    #[test]
    fn rfc3339_table() {
        assert_eq!(rfc3339_secs(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_secs(1_795_395_600), "2026-11-23T01:00:00Z");
        assert_eq!(rfc3339_secs(951_782_400 + 86_399), "2000-02-29T23:59:59Z");
    }

    #[test]
    fn the_day_turns_at_midnight_in_viet_nam() {
        // 2026-12-31T16:59:59Z is 23:59:59 in Ha Noi; one second later it is 2027.
        let last = 1_798_736_399;
        assert_eq!(Date::at_vn(last).iso(), "2026-12-31");
        assert_eq!(Date::at_vn(last + 1).iso(), "2027-01-01");
        assert_eq!(rfc3339_secs(last + 1), "2026-12-31T17:00:00Z");
    }
}
