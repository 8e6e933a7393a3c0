//! The public's questions, complaints and petitions, their answers, page ratings and the
//! working-day calendar, in `data/feedback.db` (docs/feedback.md): a file apart from the
//! registry, since it holds personal data with a retention period of its own.

use crate::model::time::{Calendar, Date};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS items (
        code TEXT PRIMARY KEY,
        site TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('question', 'complaint', 'petition', 'comment')),
        name TEXT,
        email TEXT,
        phone TEXT,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN
            ('received', 'in_progress', 'answered', 'extended', 'out_of_scope', 'spam')),
        received_at TEXT NOT NULL,
        received_day TEXT NOT NULL,
        due_date TEXT NOT NULL,
        answer TEXT,
        answered_by TEXT,
        answered_at TEXT,
        public INTEGER NOT NULL DEFAULT 0,
        reason TEXT,
        forwarded_from TEXT,
        closed_at TEXT,
        erased_at TEXT
    );
    CREATE INDEX IF NOT EXISTS items_site ON items(site, state);
    CREATE TABLE IF NOT EXISTS ratings (
        site TEXT NOT NULL,
        path TEXT NOT NULL,
        day TEXT NOT NULL,
        useful INTEGER NOT NULL DEFAULT 0,
        not_useful INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (site, path, day)
    );
    -- Which client rated which page today, as one SHA-256 each; yesterday's are dropped.
    CREATE TABLE IF NOT EXISTS rating_keys (
        key TEXT PRIMARY KEY,
        day TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS days (
        day TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('off', 'work'))
    );
";

/// Why a feedback call failed.
#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    #[error("{path}: {source}")]
    Open { path: String, source: rusqlite::Error },
    #[error("feedback database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("no item with code {0}")]
    NotFound(String),
}

/// One kind of item the public sends.
pub const KINDS: [&str; 4] = ["question", "complaint", "petition", "comment"];

/// What the public form sent, checked.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub site: String,
    pub kind: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub title: String,
    pub body: String,
}

/// An item as the admin API shows it (personal data included, until erased).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Item {
    pub code: String,
    pub site: String,
    pub kind: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: String,
    pub body: String,
    pub state: String,
    pub received_at: String,
    /// The day received in Viet Nam, the day the deadline counts from.
    pub received_day: String,
    pub due_date: String,
    pub answer: Option<String>,
    pub answered_at: Option<String>,
    pub public: bool,
    pub reason: Option<String>,
    pub forwarded_from: Option<String>,
}

/// The open feedback file.
pub struct Feedback {
    conn: Connection,
}

/// Crockford's base-32 alphabet (no I, L, O, U).
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new tracking code for `site` received in `year`: `AIS-26-7K3M9QXD`.
pub fn new_code(site: &str, year: u16) -> String {
    let bytes = crate::store::secrets::random_bytes::<8>();
    let tail: String = bytes.iter().map(|b| CROCKFORD[usize::from(b & 31)] as char).collect();
    format!("{}-{:02}-{tail}", site.to_ascii_uppercase(), year % 100)
}

const ITEM_COLUMNS: &str = "code, site, kind, name, email, phone, title, body, state, received_at, due_date, \
                            answer, answered_at, public, reason, forwarded_from, received_day";

fn item_from_row(row: &rusqlite::Row) -> rusqlite::Result<Item> {
    Ok(Item {
        code: row.get(0)?,
        site: row.get(1)?,
        kind: row.get(2)?,
        name: row.get(3)?,
        email: row.get(4)?,
        phone: row.get(5)?,
        title: row.get(6)?,
        body: row.get(7)?,
        state: row.get(8)?,
        received_at: row.get(9)?,
        due_date: row.get(10)?,
        answer: row.get(11)?,
        answered_at: row.get(12)?,
        public: row.get(13)?,
        reason: row.get(14)?,
        forwarded_from: row.get(15)?,
        received_day: row.get(16)?,
    })
}

impl Feedback {
    /// Open (creating) `path`, WAL with `synchronous=FULL`: an item acknowledged to the
    /// public survives a power loss too, not only a crash.
    pub fn open(path: &Path) -> Result<Feedback, FeedbackError> {
        let shown = path.display().to_string();
        let open_err = |source| FeedbackError::Open { path: shown.clone(), source };
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(open_err)?;
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)).map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(open_err)?;
        conn.execute_batch(SCHEMA).map_err(open_err)?;
        Ok(Feedback { conn })
    }

    /// The working-day calendar the admins set.
    pub fn calendar(&self) -> Result<Calendar, FeedbackError> {
        let mut cal = Calendar::default();
        let mut stmt = self.conn.prepare("SELECT day, kind FROM days")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (day, kind) = row?;
            if let Some(d) = Date::parse(&day) {
                if kind == "off" {
                    cal.off.insert(d)
                } else {
                    cal.work.insert(d)
                };
            }
        }
        Ok(cal)
    }

    /// Replace `year`'s `off` and `work` days (each in that year; the caller checked).
    pub fn set_year(&mut self, year: u16, off: &[Date], work: &[Date]) -> Result<(), FeedbackError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM days WHERE day LIKE ?1", [format!("{year:04}-%")])?;
        for (days, kind) in [(off, "off"), (work, "work")] {
            for d in days {
                tx.execute("INSERT OR REPLACE INTO days (day, kind) VALUES (?1, ?2)", (d.iso(), kind))?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// `year`'s days: (off, work), sorted.
    pub fn year(&self, year: u16) -> Result<(Vec<String>, Vec<String>), FeedbackError> {
        let mut stmt = self.conn.prepare("SELECT day, kind FROM days WHERE day LIKE ?1 ORDER BY day")?;
        let rows =
            stmt.query_map([format!("{year:04}-%")], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let (mut off, mut work) = (Vec::new(), Vec::new());
        for row in rows {
            let (day, kind) = row?;
            if kind == "off" {
                off.push(day)
            } else {
                work.push(day)
            };
        }
        Ok((off, work))
    }

    /// Keep `item`, received at `now_secs`, due 15 working days later; its tracking code.
    /// Committed before this returns.
    pub fn insert(&mut self, item: &NewItem, now_secs: u64) -> Result<String, FeedbackError> {
        let received = Date::at_vn(now_secs);
        let due = self.calendar()?.due(received, 15);
        let at = crate::model::time::rfc3339_secs(now_secs);
        loop {
            let code = new_code(&item.site, received.year);
            let inserted = self.conn.execute(
                "INSERT INTO items (code, site, kind, name, email, phone, title, body, state, received_at,
                                    received_day, due_date)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'received', ?9, ?10, ?11)",
                params![
                    code,
                    item.site,
                    item.kind,
                    item.name,
                    item.email,
                    Some(item.phone.as_str()).filter(|p| !p.is_empty()),
                    item.title,
                    item.body,
                    at,
                    received.iso(),
                    due.iso()
                ],
            );
            match inserted {
                Ok(_) => return Ok(code),
                // A code already given (8 random base-32 characters: rare): draw another.
                Err(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::ConstraintViolation => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The item with `code`.
    pub fn item(&self, code: &str) -> Result<Option<Item>, FeedbackError> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE code = ?1");
        Ok(self.conn.query_row(&sql, [code.to_ascii_uppercase()], item_from_row).optional()?)
    }

    /// Items of one site and state when given, oldest due first; `overdue_on`: only those
    /// still open whose due date is before that day.
    pub fn items(
        &self,
        site: Option<&str>,
        state: Option<&str>,
        overdue_on: Option<Date>,
    ) -> Result<Vec<Item>, FeedbackError> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM items
             WHERE (?1 IS NULL OR site = ?1) AND (?2 IS NULL OR state = ?2)
               AND (?3 IS NULL OR (state IN ('received', 'in_progress', 'extended') AND due_date < ?3))
             ORDER BY due_date, code"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params![site, state, overdue_on.map(Date::iso)], item_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Answers published on `site`, newest first.
    pub fn public_answers(&self, site: &str) -> Result<Vec<Item>, FeedbackError> {
        let sql = format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE site = ?1 AND state = 'answered' AND public = 1
             ORDER BY answered_at DESC, code"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([site], item_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn update(&mut self, code: &str, sql: &str, values: &[&dyn rusqlite::ToSql]) -> Result<Item, FeedbackError> {
        let code = code.to_ascii_uppercase();
        let mut all: Vec<&dyn rusqlite::ToSql> = values.to_vec();
        all.push(&code);
        if self.conn.execute(sql, all.as_slice())? == 0 {
            return Err(FeedbackError::NotFound(code));
        }
        self.item(&code)?.ok_or(FeedbackError::NotFound(code))
    }

    /// Answer `code`; `public` puts the question and answer on the site's `/hoi-dap/`.
    pub fn answer(
        &mut self,
        code: &str,
        answer: &str,
        public: bool,
        by: &str,
        now_secs: u64,
    ) -> Result<Item, FeedbackError> {
        let at = crate::model::time::rfc3339_secs(now_secs);
        let sql = "UPDATE items SET state = 'answered', answer = ?1, public = ?2, answered_by = ?3, answered_at = ?4,
                   closed_at = ?4 WHERE code = ?5";
        self.update(code, sql, &[&answer, &public, &by, &at])
    }

    /// Mark `code` as being worked on (`in_progress`), from `received` or `extended`.
    pub fn start(&mut self, code: &str) -> Result<Item, FeedbackError> {
        let sql = "UPDATE items SET state = 'in_progress' WHERE code = ?1 AND state IN ('received', 'in_progress')";
        self.update(code, sql, &[])
    }

    /// Close `code` as spam (not an item for anybody): no answer, no deadline.
    pub fn spam(&mut self, code: &str, now_secs: u64) -> Result<Item, FeedbackError> {
        let at = crate::model::time::rfc3339_secs(now_secs);
        let sql = "UPDATE items SET state = 'spam', closed_at = ?1 WHERE code = ?2";
        self.update(code, sql, &[&at])
    }

    /// Move `code`'s due date to `due` with a reason.
    pub fn extend(&mut self, code: &str, due: Date, reason: &str) -> Result<Item, FeedbackError> {
        let sql = "UPDATE items SET state = 'extended', due_date = ?1, reason = ?2 WHERE code = ?3";
        self.update(code, sql, &[&due.iso(), &reason])
    }

    /// Not for this unit: closed with a reason, or forwarded to `forward_to` (it keeps its code).
    pub fn out_of_scope(
        &mut self,
        code: &str,
        reason: &str,
        forward_to: Option<&str>,
        now_secs: u64,
    ) -> Result<Item, FeedbackError> {
        let at = crate::model::time::rfc3339_secs(now_secs);
        match forward_to {
            Some(site) => {
                let sql = "UPDATE items SET state = 'received', forwarded_from = site, site = ?1, reason = ?2 WHERE code = ?3";
                self.update(code, sql, &[&site, &reason])
            }
            None => {
                let sql = "UPDATE items SET state = 'out_of_scope', reason = ?1, closed_at = ?2 WHERE code = ?3";
                self.update(code, sql, &[&reason, &at])
            }
        }
    }

    /// Erase the name, e-mail and phone of items closed before `before` (RFC 3339); how many.
    pub fn erase_personal(&mut self, before: &str, now_secs: u64) -> Result<usize, FeedbackError> {
        let at = crate::model::time::rfc3339_secs(now_secs);
        Ok(self.conn.execute(
            "UPDATE items SET name = NULL, email = NULL, phone = NULL, erased_at = ?1
             WHERE closed_at IS NOT NULL AND closed_at < ?2 AND erased_at IS NULL",
            (at, before),
        )?)
    }

    /// Count a rating of `path` on `site` for `day`, once per `key` (a digest of the client,
    /// page and day); false when that client had rated it already.
    pub fn rate(&mut self, site: &str, path: &str, day: &str, useful: bool, key: &str) -> Result<bool, FeedbackError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM rating_keys WHERE day < ?1", [day])?;
        if tx.execute("INSERT OR IGNORE INTO rating_keys (key, day) VALUES (?1, ?2)", (key, day))? == 0 {
            return Ok(false);
        }
        let column = if useful { "useful" } else { "not_useful" };
        tx.execute(
            &format!(
                "INSERT INTO ratings (site, path, day, {column}) VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT (site, path, day) DO UPDATE SET {column} = {column} + 1"
            ),
            (site, path, day),
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// The ratings of `site`: (path, day, useful, not useful), newest day first.
    pub fn ratings(&self, site: &str) -> Result<Vec<(String, String, i64, i64)>, FeedbackError> {
        let mut stmt = self
            .conn
            .prepare("SELECT path, day, useful, not_useful FROM ratings WHERE site = ?1 ORDER BY day DESC, path")?;
        let rows = stmt.query_map([site], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Open and overdue items per site, for the metrics: (site, open, overdue).
    pub fn counts(&self, today: Date) -> Result<Vec<(String, i64, i64)>, FeedbackError> {
        let mut stmt = self.conn.prepare(
            "SELECT site, COUNT(*), SUM(CASE WHEN due_date < ?1 THEN 1 ELSE 0 END) FROM items
             WHERE state IN ('received', 'in_progress', 'extended') GROUP BY site ORDER BY site",
        )?;
        let rows = stmt.query_map([today.iso()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(site: &str, title: &str) -> NewItem {
        NewItem {
            site: site.into(),
            kind: "question".into(),
            name: "Nguyễn Văn A".into(),
            email: "a@example.vn".into(),
            phone: String::new(),
            title: title.into(),
            body: "Nội dung".into(),
        }
    }

    #[test]
    fn items_codes_deadlines_and_erasure() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = Feedback::open(&dir.path().join("feedback.db")).unwrap();
        // Tuesday 1 December 2026, 10:00 in Viet Nam.
        let now = crate::model::time::parse_rfc3339("2026-12-01T10:00:00+07:00").unwrap() as u64;
        let code = f.insert(&item("ais", "Hỏi"), now).unwrap();
        assert!(code.starts_with("AIS-26-") && code.len() == 15, "{code}");
        assert!(code[7..].bytes().all(|b| CROCKFORD.contains(&b)), "{code}");
        let got = f.item(&code.to_lowercase()).unwrap().unwrap();
        assert_eq!((got.state.as_str(), got.due_date.as_str()), ("received", "2026-12-22"));
        // Holidays set later move the deadline of items received later.
        let d = |s| Date::parse(s).unwrap();
        f.set_year(2026, &[d("2026-12-02")], &[d("2026-12-05")]).unwrap();
        let later = f.insert(&item("ais", "Hỏi nữa"), now).unwrap();
        assert_eq!(f.item(&later).unwrap().unwrap().due_date, "2026-12-22", "one off, one worked Saturday");
        assert_eq!(f.year(2026).unwrap(), (vec!["2026-12-02".into()], vec!["2026-12-05".into()]));

        let overdue = f.items(None, None, Some(d("2026-12-23"))).unwrap();
        assert_eq!(overdue.len(), 2);
        assert!(f.items(None, None, Some(d("2026-12-22"))).unwrap().is_empty(), "due today is not overdue");
        assert_eq!(f.counts(d("2026-12-23")).unwrap(), [("ais".to_string(), 2, 2)]);

        assert_eq!(f.start(&code).unwrap().state, "in_progress");
        let answered = f.answer(&code, "Trả lời", true, "minh", now + 3600).unwrap();
        assert!(matches!(f.start(&code), Err(FeedbackError::NotFound(_))), "an answered item is not reopened");
        assert_eq!((answered.state.as_str(), answered.public), ("answered", true));
        assert_eq!(f.public_answers("ais").unwrap().len(), 1);
        let moved = f.out_of_scope(&later, "thuộc Cục Báo chí", Some("cbc"), now).unwrap();
        assert_eq!((moved.site.as_str(), moved.forwarded_from.as_deref()), ("cbc", Some("ais")));
        assert!(matches!(f.answer("AIS-26-XXXXXXXX", "x", false, "m", now), Err(FeedbackError::NotFound(_))));

        assert!(f.rate("ais", "/gioi-thieu/", "2026-12-01", true, "k1").unwrap());
        assert!(!f.rate("ais", "/gioi-thieu/", "2026-12-01", false, "k1").unwrap(), "one client, one rating a day");
        assert!(f.rate("ais", "/gioi-thieu/", "2026-12-01", false, "k2").unwrap());
        assert_eq!(f.ratings("ais").unwrap(), [("/gioi-thieu/".into(), "2026-12-01".into(), 1, 1)]);

        assert_eq!(f.erase_personal("2027-01-01T00:00:00Z", now).unwrap(), 1, "only closed items");
        let erased = f.item(&code).unwrap().unwrap();
        assert_eq!((erased.name, erased.email), (None, None));
        assert_eq!(erased.answer.as_deref(), Some("Trả lời"), "the answer stays");
    }
}
