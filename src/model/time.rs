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

/// `secs` (Unix seconds, as the store keeps times) as RFC 3339 UTC.
pub fn rfc3339_at(secs: i64) -> String {
    rfc3339_secs(u64::try_from(secs).unwrap_or(0))
}

/// A time as people read it, in Viet Nam: `08:30 01/12/2026`.
pub fn display_vn(secs: i64) -> String {
    let local = secs + VN_OFFSET_SECS as i64;
    let d = Date::from_days(local.div_euclid(86_400));
    let rem = local.rem_euclid(86_400);
    format!("{:02}:{:02} {:02}/{:02}/{:04}", rem / 3600, rem % 3600 / 60, d.day, d.month, d.year)
}

/// An RFC 3339 date-time with its offset (`2026-12-01T08:00:00+07:00`, `…Z`; fractions of
/// a second are dropped) as seconds since the Unix epoch. Without an offset, or with a
/// field out of range, `None`: a local time alone does not say when.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |range| num_in(s, range);
    let date = Date { year: num(0..4)? as u16, month: num(5..7)? as u8, day: num(8..10)? as u8 };
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let valid = (1..=12).contains(&date.month)
        && date.day >= 1
        && i64::from(date.day) <= date.month_len()
        && hh < 24
        && mm < 60
        && ss < 61;
    if !valid {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = (num_in(rest, 1..3)?, num_in(rest, 4..6)?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    Some(date.days_since_epoch() * 86_400 + hh * 3600 + mm * 60 + ss.min(59) - offset)
}

fn num_in(s: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = s.get(range)?;
    part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
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
        if !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        let date = Date { year, month, day };
        // A day past the month's end (`2027-02-30`) does not exist.
        (i64::from(day) <= date.month_len()).then_some(date)
    }
}

/// Working days as the regulation counts them (docs/feedback.md): Monday to Friday, minus
/// the days the government declares off (Tết, national holidays and the days swapped for
/// them), plus the Saturdays declared working days in exchange. Admins set both lists per
/// year, since holidays follow the lunar calendar and swaps are decided yearly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    pub off: std::collections::BTreeSet<Date>,
    pub work: std::collections::BTreeSet<Date>,
}

impl Date {
    /// 0 = Monday … 6 = Sunday.
    pub fn weekday(self) -> u8 {
        // 1970-01-01 was a Thursday (3).
        (self.days_since_epoch() + 3).rem_euclid(7) as u8
    }

    /// How many days this date's month has.
    pub fn month_len(self) -> i64 {
        let next = if self.month == 12 {
            Date { year: self.year + 1, month: 1, day: 1 }
        } else {
            Date { month: self.month + 1, day: 1, ..self }
        };
        next.days_since_epoch() - Date { day: 1, ..self }.days_since_epoch()
    }

    /// The next calendar day.
    pub fn next(self) -> Date {
        Date::from_days(self.days_since_epoch() + 1)
    }
}

impl Calendar {
    /// Whether `d` is a working day.
    pub fn is_working(&self, d: Date) -> bool {
        if self.work.contains(&d) {
            return true;
        }
        d.weekday() < 5 && !self.off.contains(&d)
    }

    /// The due date of something received on `received` with `days` working days: day 1 is
    /// the first working day after the day of receipt, so the due date is the `days`-th
    /// working day after it.
    pub fn due(&self, received: Date, days: u32) -> Date {
        let mut d = received;
        let mut counted = 0;
        while counted < days {
            d = d.next();
            if self.is_working(d) {
                counted += 1;
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn dates_that_do_not_exist_are_refused() {
        for bad in ["2027-02-29", "2027-02-30", "2027-04-31", "2027-13-01", "2027-00-10", "2027-01-00"] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        for good in ["2028-02-29", "2027-12-31", "2027-04-30"] {
            assert_eq!(Date::parse(good).map(Date::iso).as_deref(), Some(good));
        }
    }

    #[test]
    fn working_days_count_from_the_day_after_receipt() {
        let plain = Calendar::default();
        assert_eq!(d("2026-12-01").weekday(), 1, "a Tuesday");
        // Received on a Tuesday: day 1 is Wednesday; 15 working days are three weeks.
        assert_eq!(plain.due(d("2026-12-01"), 15).iso(), "2026-12-22");
        // Received on a Saturday: day 1 is Monday.
        assert_eq!(plain.due(d("2026-12-05"), 1).iso(), "2026-12-07");
        // Over the year boundary, with New Year's Day off.
        let new_year = Calendar { off: [d("2027-01-01")].into(), work: Default::default() };
        assert_eq!(new_year.due(d("2026-12-24"), 15).iso(), "2027-01-15");
        assert_eq!(plain.due(d("2026-12-24"), 15).iso(), "2027-01-14");
        // A Tết week off (2027: 5–11 February) and a make-up Saturday (30 January) worked.
        let tet = Calendar {
            off: ["2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"].into_iter().map(d).collect(),
            work: [d("2027-01-30")].into(),
        };
        assert!(tet.is_working(d("2027-01-30")), "a make-up Saturday counts");
        assert!(!tet.is_working(d("2027-02-08")));
        // Received Thursday 28 January: Fri 29, Sat 30 (make-up), Mon 1 … Thu 4 = 6 days,
        // then the Tết week, then Fri 12 onward.
        assert_eq!(tet.due(d("2027-01-28"), 6).iso(), "2027-02-04");
        assert_eq!(tet.due(d("2027-01-28"), 7).iso(), "2027-02-12");
        assert_eq!(tet.due(d("2027-01-28"), 15).iso(), "2027-02-24");
        assert_eq!(plain.due(d("2027-01-28"), 15).iso(), "2027-02-18");
    }

    #[test]
    fn times_are_shown_in_viet_nam() {
        assert_eq!(display_vn(parse_rfc3339("2026-12-01T01:30:00Z").unwrap()), "08:30 01/12/2026");
    }

    #[test]
    fn rfc3339_with_offsets() {
        let at = |s: &str| parse_rfc3339(s);
        assert_eq!(at("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(at("1970-01-01T07:00:00+07:00"), Some(0));
        assert_eq!(at("2026-12-01T08:00:00.250+07:00"), at("2026-12-01T01:00:00Z"));
        assert_eq!(rfc3339_secs(at("2028-02-29T23:59:59-01:30").unwrap() as u64), "2028-03-01T01:29:59Z");
        for bad in [
            "2026-12-01T08:00:00",
            "2026-12-01 08:00",
            "2026-13-01T08:00:00Z",
            "2026-02-30T08:00:00Z",
            "2026-12-01T24:00:00Z",
            "2026-12-01T08:00:00+7:00",
            "2026-12-01T08:00:00.Z",
            "ngày mai",
            "",
        ] {
            assert_eq!(at(bad), None, "{bad}");
        }
    }

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
