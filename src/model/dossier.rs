//! Dossier progress (*công khai tiến độ giải quyết hồ sơ*, docs/services.md): what a
//! unit's case system may publish about one dossier, checked before anything is stored.
//! Only these fields exist, so no personal data can come in: a body or CSV column beyond
//! them is refused. The monthly statistics are computed here too. No I/O.

use crate::model::time::{parse_rfc3339, Date};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a dossier stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Received,
    InProgress,
    NeedsMore,
    Completed,
    Returned,
}

impl State {
    pub const ALL: [State; 5] =
        [State::Received, State::InProgress, State::NeedsMore, State::Completed, State::Returned];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Received => "received",
            State::InProgress => "in_progress",
            State::NeedsMore => "needs_more",
            State::Completed => "completed",
            State::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// How the public page says it.
    pub fn vi(self) -> &'static str {
        match self {
            State::Received => "Đã tiếp nhận",
            State::InProgress => "Đang giải quyết",
            State::NeedsMore => "Cần bổ sung hồ sơ",
            State::Completed => "Đã giải quyết xong",
            State::Returned => "Đã trả lại hồ sơ",
        }
    }

    /// Whether the unit is done with the dossier.
    pub fn finished(self) -> bool {
        matches!(self, State::Completed | State::Returned)
    }
}

/// One dossier as stored and shown: codes and times only (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dossier {
    pub code: String,
    pub service_code: String,
    pub received_at: i64,
    pub due_at: i64,
    pub status: State,
    pub completed_at: Option<i64>,
}

/// The body of `PUT /api/sites/{label}/dossiers/{code}` and one CSV row: exactly these
/// fields (docs/services.md).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Push {
    pub service_code: String,
    pub received_at: String,
    pub due_at: String,
    pub status: String,
    #[serde(default)]
    pub completed_at: Option<String>,
}

/// The fields a push carries, in the order of a CSV header (`code` first).
pub const CSV_COLUMNS: [&str; 6] = ["code", "service_code", "received_at", "due_at", "status", "completed_at"];

/// What is wrong with a push: the field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Invalid {
    Invalid { field, message: message.into() }
}

/// A dossier code as case systems write them (`H12.22-261201-0001`): 1 to 64 of letters,
/// digits and `.`, `-`, `_`, `/`.
pub fn check_code(code: &str) -> Result<(), Invalid> {
    let ok = (1..=64).contains(&code.len())
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/'));
    if ok {
        Ok(())
    } else {
        Err(invalid("code", format!("\"{code}\" is not a dossier code: 1 to 64 letters, digits, '.', '-', '_' or '/'")))
    }
}

/// A national procedure code (*mã thủ tục hành chính*): a digit, a dot and six digits
/// (`1.004227`), optionally followed by a local suffix of letters, digits and dots
/// (`1.004227.000.00.00.H12`).
pub fn check_procedure_code(code: &str) -> bool {
    let b = code.as_bytes();
    let head = b.len() >= 8 && b[0].is_ascii_digit() && b[1] == b'.' && b[2..8].iter().all(u8::is_ascii_digit);
    let tail = &b[b.len().min(8)..];
    head && code.len() <= 64
        && (tail.is_empty()
            || (tail[0] == b'.'
                && tail.last() != Some(&b'.')
                && tail[1..].iter().all(|c| c.is_ascii_alphanumeric() || *c == b'.')))
}

impl Push {
    /// Check every field and the order of the times: `received_at` ≤ `due_at`, and
    /// `completed_at` (required for `completed` and `returned`, refused otherwise) not
    /// before `received_at`.
    pub fn check(&self, code: &str) -> Result<Dossier, Invalid> {
        check_code(code)?;
        if !check_procedure_code(&self.service_code) {
            return Err(invalid(
                "service_code",
                format!("\"{}\" is not a national procedure code (like 1.004227)", self.service_code),
            ));
        }
        let time = |field: &'static str, value: &str| {
            parse_rfc3339(value).ok_or_else(|| {
                invalid(
                    field,
                    format!("\"{value}\" is not an RFC 3339 time with an offset (like 2026-12-01T08:30:00+07:00)"),
                )
            })
        };
        let received_at = time("received_at", &self.received_at)?;
        let due_at = time("due_at", &self.due_at)?;
        let status = State::parse(&self.status).ok_or_else(|| {
            invalid(
                "status",
                format!("\"{}\" is not one of received, in_progress, needs_more, completed, returned", self.status),
            )
        })?;
        if due_at < received_at {
            return Err(invalid("due_at", "is before received_at"));
        }
        let completed = self.completed_at.as_deref().filter(|s| !s.is_empty());
        let completed_at = match (status.finished(), completed) {
            (true, Some(c)) => Some(time("completed_at", c)?),
            (true, None) => {
                return Err(invalid("completed_at", format!("required when status is {}", status.as_str())))
            }
            (false, Some(_)) => {
                return Err(invalid("completed_at", format!("must be empty while status is {}", status.as_str())))
            }
            (false, None) => None,
        };
        if completed_at.is_some_and(|c| c < received_at) {
            return Err(invalid("completed_at", "is before received_at: completed before it was received"));
        }
        Ok(Dossier {
            code: code.to_string(),
            service_code: self.service_code.clone(),
            received_at,
            due_at,
            status,
            completed_at,
        })
    }
}

impl Dossier {
    /// *đúng hạn* or *trễ hạn* once finished, `None` while open.
    pub fn on_time(&self) -> Option<bool> {
        self.completed_at.map(|c| c <= self.due_at)
    }

    /// Open past its due time at `now`.
    pub fn overdue(&self, now: i64) -> bool {
        !self.status.finished() && self.due_at < now
    }

    /// The month of receipt in Viet Nam, `2026-12`.
    pub fn month(&self) -> String {
        let d = Date::at_vn(u64::try_from(self.received_at).unwrap_or(0));
        format!("{:04}-{:02}", d.year, d.month)
    }
}

/// One cell row of the statistics: dossiers of one service received in one month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub received: u32,
    pub on_time: u32,
    pub late: u32,
    pub in_progress: u32,
    pub overdue: u32,
}

/// Per service code, per month of receipt: received, completed on time, completed late,
/// still open and not due, open past due at `now`. A returned dossier counts as received
/// only.
pub fn statistics<'a>(dossiers: impl IntoIterator<Item = &'a Dossier>, now: i64) -> BTreeMap<(String, String), Counts> {
    let mut stats: BTreeMap<(String, String), Counts> = BTreeMap::new();
    for d in dossiers {
        let c = stats.entry((d.service_code.clone(), d.month())).or_default();
        c.received += 1;
        match (d.status, d.on_time()) {
            (State::Completed, Some(true)) => c.on_time += 1,
            (State::Completed, _) => c.late += 1,
            (State::Returned, _) => {}
            _ if d.overdue(now) => c.overdue += 1,
            _ => c.in_progress += 1,
        }
    }
    stats
}

/// A CSV record: the line it starts on and its fields.
pub type Record = (usize, Vec<String>);

/// One CSV record's fields, split by RFC 4180 (quotes, doubled quotes, commas and line
/// breaks inside quotes), with the line each record starts on.
pub fn csv_records(text: &str) -> Result<Vec<Record>, (usize, String)> {
    let mut records = Vec::new();
    let (mut field, mut fields) = (String::new(), Vec::new());
    let (mut line, mut start, mut quoted, mut was_quoted) = (1, 1, false, false);
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                line += usize::from(c == '\n');
                field.push(c);
            }
            (false, '"') if field.is_empty() && !was_quoted => (quoted, was_quoted) = (true, true),
            (false, '"') => return Err((line, "a quote inside an unquoted field; quote the whole field".into())),
            (false, ',') => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
                if !(fields.len() == 1 && fields[0].is_empty()) {
                    records.push((start, std::mem::take(&mut fields)));
                }
                fields.clear();
                line += 1;
                start = line;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err((start, "a quoted field is not closed".into()));
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((start, fields));
    }
    Ok(records)
}

/// A CSV file of dossiers: a header naming `code` and the push fields (any order; an
/// unknown column is refused, so no personal data comes in), then one dossier a row. The
/// first bad row fails the whole file: `(line, column, message)`.
pub fn parse_csv(text: &str) -> Result<Vec<Dossier>, (usize, String, String)> {
    let records = csv_records(text).map_err(|(line, m)| (line, String::new(), m))?;
    let mut rows = records.into_iter();
    let Some((_, header)) = rows.next() else {
        return Err((
            1,
            String::new(),
            format!("the file is empty; the first line names the columns: {}", CSV_COLUMNS.join(",")),
        ));
    };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
    for h in &header {
        if !CSV_COLUMNS.contains(&h.as_str()) {
            return Err((
                1,
                h.clone(),
                format!("unknown column; the columns are {} (no personal data)", CSV_COLUMNS.join(", ")),
            ));
        }
    }
    for required in &CSV_COLUMNS[..5] {
        if !header.iter().any(|h| h == required) {
            return Err((1, required.to_string(), "missing column".into()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut dossiers = Vec::new();
    for (line, fields) in rows {
        if fields.len() != header.len() {
            let message = format!("{} fields where the header has {}", fields.len(), header.len());
            return Err((line, String::new(), message));
        }
        let get = |name: &str| header.iter().position(|h| h == name).map(|i| fields[i].trim().to_string());
        let push = Push {
            service_code: get("service_code").unwrap_or_default(),
            received_at: get("received_at").unwrap_or_default(),
            due_at: get("due_at").unwrap_or_default(),
            status: get("status").unwrap_or_default(),
            completed_at: get("completed_at"),
        };
        let code = get("code").unwrap_or_default();
        let dossier = push.check(&code).map_err(|e| (line, e.field.to_string(), e.message))?;
        if !seen.insert(code.clone()) {
            return Err((line, "code".into(), format!("\"{code}\" appears twice in the file")));
        }
        dossiers.push(dossier);
    }
    Ok(dossiers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(status: &str, completed: Option<&str>) -> Push {
        Push {
            service_code: "1.004227".into(),
            received_at: "2026-12-01T08:00:00+07:00".into(),
            due_at: "2026-12-10T17:00:00+07:00".into(),
            status: status.into(),
            completed_at: completed.map(str::to_string),
        }
    }

    #[test]
    fn a_push_is_checked_field_by_field() {
        let d = push("completed", Some("2026-12-09T10:00:00+07:00")).check("H12-0001").unwrap();
        assert_eq!(d.on_time(), Some(true));
        assert_eq!(d.month(), "2026-12");
        let late = push("completed", Some("2026-12-11T10:00:00+07:00")).check("H12-0002").unwrap();
        assert_eq!(late.on_time(), Some(false));
        let field = |p: Push, code: &str| p.check(code).unwrap_err().field;
        assert_eq!(field(push("received", None), "bad code!"), "code");
        assert_eq!(field(Push { service_code: "12345".into(), ..push("received", None) }, "a"), "service_code");
        assert_eq!(
            field(Push { received_at: "2026-12-01T08:00:00".into(), ..push("received", None) }, "a"),
            "received_at"
        );
        assert_eq!(field(push("done", None), "a"), "status");
        assert_eq!(field(push("completed", None), "a"), "completed_at");
        assert_eq!(field(push("in_progress", Some("2026-12-02T08:00:00+07:00")), "a"), "completed_at");
        let before = push("completed", Some("2026-11-30T08:00:00+07:00")).check("a").unwrap_err();
        assert_eq!(before.field, "completed_at");
        assert!(before.message.contains("before received_at"), "{}", before.message);
        assert_eq!(field(Push { due_at: "2026-11-01T08:00:00+07:00".into(), ..push("received", None) }, "a"), "due_at");
    }

    #[test]
    fn procedure_codes() {
        for ok in ["1.004227", "2.002162", "1.004227.000.00.00.H12"] {
            assert!(check_procedure_code(ok), "{ok}");
        }
        for bad in ["", "1.00422", "1004227", "a.004227", "1.004227-x", "1.004227."] {
            assert!(!check_procedure_code(bad), "{bad}");
        }
    }

    #[test]
    fn statistics_count_by_service_month_and_outcome() {
        let mk = |code: &str, status: &str, completed: Option<&str>| push(status, completed).check(code).unwrap();
        let all = [
            mk("a", "completed", Some("2026-12-09T10:00:00+07:00")),
            mk("b", "completed", Some("2026-12-12T10:00:00+07:00")),
            mk("c", "in_progress", None),
            mk("d", "needs_more", None),
            mk("e", "returned", Some("2026-12-02T10:00:00+07:00")),
        ];
        let before_due = parse_rfc3339("2026-12-05T00:00:00+07:00").unwrap();
        let s = statistics(&all, before_due);
        let c = &s[&("1.004227".to_string(), "2026-12".to_string())];
        assert_eq!(*c, Counts { received: 5, on_time: 1, late: 1, in_progress: 2, overdue: 0 });
        let after_due = parse_rfc3339("2026-12-20T00:00:00+07:00").unwrap();
        let c = &statistics(&all, after_due)[&("1.004227".to_string(), "2026-12".to_string())];
        assert_eq!((c.in_progress, c.overdue), (0, 2));
    }

    #[test]
    fn csv_names_the_bad_row_and_column() {
        let good = "code,service_code,received_at,due_at,status,completed_at\r\n\
                    H-1,1.004227,2026-12-01T08:00:00+07:00,2026-12-10T17:00:00+07:00,received,\r\n\
                    \"H-2\",1.004227,2026-12-01T08:00:00+07:00,2026-12-10T17:00:00+07:00,completed,2026-12-03T08:00:00+07:00\r\n";
        let rows = parse_csv(good).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].code, "H-2");
        let bad = good.replace("2026-12-03T08:00:00+07:00", "2026-11-03T08:00:00+07:00");
        assert_eq!(parse_csv(&bad).unwrap_err().0, 3);
        assert_eq!(parse_csv(&bad).unwrap_err().1, "completed_at");
        let personal = "code,service_code,received_at,due_at,status,ho_ten\n";
        assert_eq!(parse_csv(personal).unwrap_err().1, "ho_ten");
        let quoted = "a,\"b,\"\"c\"\"\nd\"\n";
        assert_eq!(csv_records(quoted).unwrap(), vec![(1, vec!["a".to_string(), "b,\"c\"\nd".to_string()])]);
    }
}
