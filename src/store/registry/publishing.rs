//! Published sets and submissions in the registry file (docs/publishing.md). A file's bytes
//! are kept once, by SHA-256; a site's published set maps each path to one of them; a
//! submission names the paths it changes with the hashes it was made from. Publishing is
//! one transaction: after a crash the published set is the old one or the new one, whole.

use super::{append_audit, rfc3339, AuditEntry, Registry, RegistryError};
use crate::model::account::User;
use crate::model::submission::{self, Action, ChangeKind, State};
use crate::store::secrets::sha256_hex;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

/// A file a new submission carries.
#[derive(Debug, Clone)]
pub struct NewFile {
    /// Relative to the site folder (`content/tin-tuc/a.md`).
    pub path: String,
    pub change: ChangeKind,
    /// The working copy's bytes; `None` for a deletion.
    pub bytes: Option<Vec<u8>>,
    /// The published SHA-256 the change was computed against; `None` for an addition.
    pub base: Option<String>,
}

/// A submission to record.
#[derive(Debug, Clone, Copy)]
pub struct NewSubmission<'a> {
    pub site: &'a str,
    pub author: &'a str,
    pub message: &'a str,
    /// As given, and as seconds since the epoch.
    pub publish_at: Option<(&'a str, i64)>,
    pub files: &'a [NewFile],
    pub state: State,
    /// Why (a force-publish).
    pub reason: Option<&'a str>,
}

/// A file of a stored submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubmissionFile {
    pub path: String,
    pub change: ChangeKind,
    /// The submitted bytes' SHA-256; `None` for a deletion.
    pub sha256: Option<String>,
    /// What was published when it was submitted; `None` for an addition.
    pub base_sha256: Option<String>,
    pub size: u64,
}

/// A submission as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Submission {
    pub id: i64,
    pub site: String,
    pub author: String,
    pub message: String,
    pub state: State,
    /// RFC 3339 as given; the submission is published at that time once approved.
    pub publish_at: Option<String>,
    pub created_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub reason: Option<String>,
    pub published_at: Option<String>,
    pub files: Vec<SubmissionFile>,
}

/// A path of the working copy and how it differs from the published set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    pub path: String,
    pub change: ChangeKind,
    /// The working copy's SHA-256; `None` when deleted there.
    pub sha256: Option<String>,
    /// The published SHA-256; `None` when not published.
    pub published: Option<String>,
}

const SUBMISSION_COLUMNS: &str = "id, site, author, message, state, publish_at, created_at, decided_by, \
                                  decided_at, reason, published_at";

fn submission_from_row(row: &Row) -> rusqlite::Result<Submission> {
    let state: String = row.get(4)?;
    Ok(Submission {
        id: row.get(0)?,
        site: row.get(1)?,
        author: row.get(2)?,
        message: row.get(3)?,
        state: State::parse(&state).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, format!("{state:?}").into())
        })?,
        publish_at: row.get(5)?,
        created_at: row.get(6)?,
        decided_by: row.get(7)?,
        decided_at: row.get(8)?,
        reason: row.get(9)?,
        published_at: row.get(10)?,
        files: Vec::new(),
    })
}

fn load_files(conn: &Connection, id: i64) -> rusqlite::Result<Vec<SubmissionFile>> {
    let mut stmt = conn.prepare(
        "SELECT path, change, sha256, base_sha256, size FROM submission_files WHERE submission_id = ?1 ORDER BY path",
    )?;
    let rows = stmt.query_map([id], |row| {
        let change: String = row.get(1)?;
        Ok(SubmissionFile {
            path: row.get(0)?,
            change: ChangeKind::parse(&change).unwrap_or(ChangeKind::Modified),
            sha256: row.get(2)?,
            base_sha256: row.get(3)?,
            size: row.get(4)?,
        })
    })?;
    rows.collect()
}

fn load_submission(conn: &Connection, id: i64) -> Result<Submission, RegistryError> {
    let sql = format!("SELECT {SUBMISSION_COLUMNS} FROM submissions WHERE id = ?1");
    let mut s =
        conn.query_row(&sql, [id], submission_from_row).optional()?.ok_or(RegistryError::NoSubmission { id })?;
    s.files = load_files(conn, id)?;
    Ok(s)
}

fn published_in(conn: &Connection, site: &str) -> rusqlite::Result<BTreeMap<String, String>> {
    let mut stmt = conn.prepare("SELECT path, sha256 FROM published WHERE site = ?1 ORDER BY path")?;
    let rows = stmt.query_map([site], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

/// Keep `bytes` once by its SHA-256; returns the digest.
fn put_blob(tx: &Transaction, bytes: &[u8]) -> rusqlite::Result<String> {
    let sha = sha256_hex(bytes);
    tx.execute("INSERT OR IGNORE INTO blobs (sha256, bytes) VALUES (?1, ?2)", params![sha, bytes])?;
    Ok(sha)
}

/// Make a submission's files the published ones of `site` and count a new publication.
fn apply(tx: &Transaction, site: &str, files: &[SubmissionFile], now: &str) -> rusqlite::Result<()> {
    for f in files {
        match &f.sha256 {
            None => tx.execute("DELETE FROM published WHERE site = ?1 AND path = ?2", (site, &f.path))?,
            Some(sha) => tx.execute(
                "INSERT OR REPLACE INTO published (site, path, sha256) VALUES (?1, ?2, ?3)",
                (site, &f.path, sha),
            )?,
        };
    }
    bump(tx, site, now)
}

fn bump(tx: &Transaction, site: &str, now: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO publications (site, generation, at) VALUES (?1, 1, ?2)
         ON CONFLICT (site) DO UPDATE SET generation = generation + 1, at = excluded.at",
        (site, now),
    )?;
    Ok(())
}

fn files_detail(files: &[SubmissionFile]) -> serde_json::Value {
    files.iter().map(|f| serde_json::json!({ "path": f.path, "change": f.change, "sha256": f.sha256 })).collect()
}

impl Registry {
    /// The published set of `site`: path → SHA-256.
    pub fn published(&self, site: &str) -> Result<BTreeMap<String, String>, RegistryError> {
        Ok(published_in(&self.conn, site)?)
    }

    /// Every site with a published set, with how many times it has been published.
    pub fn publications(&self) -> Result<Vec<(String, i64)>, RegistryError> {
        let mut stmt = self.conn.prepare("SELECT site, generation FROM publications ORDER BY site")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A file's bytes by SHA-256.
    pub fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, RegistryError> {
        Ok(self.conn.query_row("SELECT bytes FROM blobs WHERE sha256 = ?1", [sha256], |r| r.get(0)).optional()?)
    }

    /// Whether the site folders have been taken in as published sets once (on the first
    /// start of a data folder, or of this version on an older one).
    pub fn publishing_started(&self) -> Result<bool, RegistryError> {
        let v: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'publishing_started'", [], |r| r.get(0))
            .optional()?;
        Ok(v.is_some())
    }

    /// Take every site folder in as its published set, as it is (`files` per site), with one
    /// audit row each giving `reason`; then mark publishing started. One transaction.
    pub fn import_published(
        &mut self,
        sites: &BTreeMap<String, Vec<(String, Vec<u8>)>>,
        actor: &str,
        reason: &str,
    ) -> Result<(), RegistryError> {
        let now = rfc3339(SystemTime::now());
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for (site, files) in sites {
            tx.execute("DELETE FROM published WHERE site = ?1", [site])?;
            for (path, bytes) in files {
                let sha = put_blob(&tx, bytes)?;
                tx.execute("INSERT INTO published (site, path, sha256) VALUES (?1, ?2, ?3)", (site, path, &sha))?;
            }
            bump(&tx, site, &now)?;
            let detail = serde_json::json!({ "files": files.len() });
            append_audit(&tx, actor, "publish_import", site, &detail, Some(reason))?;
        }
        tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('publishing_started', ?1)", [&now])?;
        tx.commit()?;
        self.own_writes += 1;
        Ok(())
    }

    /// Record a submission, in its `state` (`submitted`, or `needs_review` for a
    /// force-publish, which is published in the same transaction).
    pub fn create_submission(&mut self, new: &NewSubmission) -> Result<Submission, RegistryError> {
        let NewSubmission { site, author, message, publish_at, files, state, reason } = *new;
        let now = rfc3339(SystemTime::now());
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let published_at = (state == State::NeedsReview).then_some(now.as_str());
        tx.execute(
            "INSERT INTO submissions (site, author, message, state, publish_at, publish_at_unix, created_at, reason,
                                      published_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                site,
                author,
                message,
                state.as_str(),
                publish_at.map(|p| p.0),
                publish_at.map(|p| p.1),
                now,
                reason,
                published_at
            ],
        )?;
        let id = tx.last_insert_rowid();
        for f in files {
            let sha = f.bytes.as_deref().map(|b| put_blob(&tx, b)).transpose()?;
            let size = f.bytes.as_ref().map_or(0, Vec::len) as i64;
            tx.execute(
                "INSERT INTO submission_files (submission_id, path, change, sha256, base_sha256, size)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, f.path, f.change.as_str(), sha, f.base, size],
            )?;
        }
        let stored = load_submission(&tx, id)?;
        let action = if state == State::NeedsReview {
            apply(&tx, site, &stored.files, &now)?;
            "force_publish"
        } else {
            "submit"
        };
        let detail = serde_json::json!({ "submission": id, "files": files_detail(&stored.files), "message": message });
        append_audit(&tx, author, action, site, &detail, reason)?;
        tx.commit()?;
        self.own_writes += 1;
        Ok(stored)
    }

    /// Submission `id` with its files.
    pub fn submission(&self, id: i64) -> Result<Submission, RegistryError> {
        load_submission(&self.conn, id)
    }

    /// How many submissions wait for a decision (submitted or escalated), by site: a count,
    /// not the submissions and their files (`/metrics` asks on every scrape).
    pub fn waiting_by_site(&self) -> Result<BTreeMap<String, usize>, RegistryError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT site, COUNT(*) FROM submissions WHERE state IN (?1, ?2) GROUP BY site ORDER BY site",
        )?;
        let rows = stmt.query_map(params![State::Submitted.as_str(), State::Escalated.as_str()], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        let mut waiting = BTreeMap::new();
        for row in rows {
            let (site, n) = row?;
            waiting.insert(site, usize::try_from(n).unwrap_or(0));
        }
        Ok(waiting)
    }

    /// Submissions, newest first, of one site and in one state when given.
    pub fn submissions(&self, site: Option<&str>, state: Option<State>) -> Result<Vec<Submission>, RegistryError> {
        let sql = format!(
            "SELECT {SUBMISSION_COLUMNS} FROM submissions
             WHERE (?1 IS NULL OR site = ?1) AND (?2 IS NULL OR state = ?2) ORDER BY id DESC"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params![site, state.map(State::as_str)], submission_from_row)?;
        let mut list: Vec<Submission> = rows.collect::<Result<_, _>>()?;
        for s in &mut list {
            s.files = load_files(&self.conn, s.id)?;
        }
        Ok(list)
    }

    /// Every audit row about submission `id`, oldest first.
    pub fn submission_history(&self, id: i64) -> Result<Vec<AuditEntry>, RegistryError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, at, actor, action, label, detail, reason FROM audit
             WHERE json_valid(detail) AND json_extract(detail, '$.submission') = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([id], super::audit_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// `user` decides submission `id`. `working` holds the working copy's SHA-256 of each of
    /// its paths now (`None`: absent); approving publishes at once (one transaction) unless
    /// its `publish_at` is after `now_unix`, when it is scheduled. A submission whose files
    /// changed since, in the working copy or in the published set, is `Stale`.
    pub fn decide(
        &mut self,
        id: i64,
        user: &User,
        action: Action,
        reason: Option<&str>,
        working: &HashMap<String, Option<String>>,
        now_unix: i64,
    ) -> Result<Submission, RegistryError> {
        let now = rfc3339(SystemTime::now());
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = load_submission(&tx, id)?;
        let mut to = submission::decide(user, &current.site, &current.author, current.state, action, reason)?;
        let reviewed_after_the_fact = current.state == State::NeedsReview;
        let mut published_at = current.published_at.clone();
        if to == State::Approved && !reviewed_after_the_fact {
            let published = published_in(&tx, &current.site)?;
            for f in &current.files {
                let in_working = working.get(&f.path).cloned().flatten();
                if in_working != f.sha256 || published.get(&f.path) != f.base_sha256.as_ref() {
                    return Err(RegistryError::Stale { id, path: f.path.clone() });
                }
            }
            let at: Option<i64> =
                tx.query_row("SELECT publish_at_unix FROM submissions WHERE id = ?1", [id], |r| r.get(0))?;
            if at.is_some_and(|at| at > now_unix) {
                to = State::Scheduled;
            } else {
                apply(&tx, &current.site, &current.files, &now)?;
                published_at = Some(now.clone());
            }
        }
        tx.execute(
            "UPDATE submissions SET state = ?1, decided_by = ?2, decided_at = ?3, reason = ?4, published_at = ?5
             WHERE id = ?6",
            params![to.as_str(), user.username, now, reason, published_at, id],
        )?;
        let verb = match (action, to) {
            (Action::Approve, State::Scheduled) => "schedule",
            (Action::Approve, _) if reviewed_after_the_fact => "review",
            _ => action.as_str(),
        };
        let detail = serde_json::json!({ "submission": id, "state": to, "files": files_detail(&current.files) });
        append_audit(&tx, &user.username, verb, &current.site, &detail, reason)?;
        let decided = load_submission(&tx, id)?;
        tx.commit()?;
        self.own_writes += 1;
        Ok(decided)
    }

    /// Publish every scheduled submission whose time has come; returns the sites published.
    pub fn publish_due(&mut self, now_unix: i64) -> Result<Vec<String>, RegistryError> {
        let due: Vec<i64> = {
            let mut stmt = self.conn.prepare(
                "SELECT id FROM submissions WHERE state = 'scheduled' AND publish_at_unix <= ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([now_unix], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut sites = Vec::new();
        for id in due {
            let now = rfc3339(SystemTime::now());
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let s = load_submission(&tx, id)?;
            if s.state != State::Scheduled {
                continue;
            }
            apply(&tx, &s.site, &s.files, &now)?;
            tx.execute("UPDATE submissions SET state = 'approved', published_at = ?1 WHERE id = ?2", params![now, id])?;
            let detail = serde_json::json!({ "submission": id, "state": State::Approved, "publish_at": s.publish_at });
            append_audit(&tx, "cong serve (scheduled)", "publish", &s.site, &detail, None)?;
            tx.commit()?;
            self.own_writes += 1;
            sites.push(s.site);
        }
        Ok(sites)
    }
}
