//! The registry: the SQLite file (`data/registry.db`) that is the truth about names — which
//! member owns which hostname, its kind and status, and who changed what. The CLI and the
//! admin API write here; the server reads it into its routing table, never on a request.
//!
//! Durability: WAL with `synchronous=NORMAL`. A committed (acknowledged) change survives the
//! process being killed, SIGKILL included; only a power loss or OS crash can drop the last
//! few commits, which leaves the file consistent. Admin actions are rare and repeatable, so
//! that trade is acceptable.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use rusqlite::types::Type;
use rusqlite::{ffi, Connection, ErrorCode, OptionalExtension, Row, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::model::member::{Member, Membership, Names, Status};

mod accounts;
mod marker;
mod publishing;
mod services;
mod sessions;
pub use accounts::TokenInfo;
pub use marker::{Found, MARKER};
pub use publishing::{FileChange, NewFile, NewSubmission, Submission, SubmissionFile};
pub use sessions::{Session, SESSION_IDLE_SECS};

/// Schema migrations, applied in order; `PRAGMA user_version` counts how many have run.
/// Append only: a released entry never changes.
const MIGRATIONS: &[&str] = &[
    // Version 1.
    "CREATE TABLE members (
        id INTEGER PRIMARY KEY,
        label TEXT NOT NULL UNIQUE CHECK (label = lower(label)),
        name_vi TEXT NOT NULL,
        name_en TEXT NOT NULL,
        membership TEXT NOT NULL CHECK (membership IN ('shared', 'independent')),
        status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'suspended', 'archived')),
        canonical TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    -- The primary key makes the database itself refuse a hostname held twice.
    CREATE TABLE names (
        host TEXT PRIMARY KEY CHECK (host = lower(host)),
        member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('fourth_level', 'own_domain', 'alias'))
    );
    CREATE INDEX names_member ON names(member_id);
    -- A member has exactly one fourth-level name.
    CREATE UNIQUE INDEX names_one_fourth_level ON names(member_id) WHERE kind = 'fourth_level';
    CREATE TABLE servers (
        member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
        address TEXT NOT NULL,
        UNIQUE (member_id, address)
    );
    -- No foreign key to members: the log must outlive anything it talks about.
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        label TEXT NOT NULL,
        detail TEXT NOT NULL,
        reason TEXT
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    // Version 2: each member's last DNS compliance result (docs/dns-checks.md). No foreign
    // key: a result is about a label, and is replaced by the next check of it.
    "CREATE TABLE dns_results (
        label TEXT PRIMARY KEY CHECK (label = lower(label)),
        checked_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('passed', 'warning', 'failed', 'error')),
        report TEXT NOT NULL
    );",
    // Version 3: users and their API tokens (docs/accounts.md). A token is kept as its
    // SHA-256 only; a user is disabled, never deleted, so the audit log's names stay meaningful.
    "CREATE TABLE users (
        username TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'board', 'approver', 'contributor', 'integration')),
        sites TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE TABLE tokens (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL REFERENCES users(username),
        label TEXT NOT NULL,
        sha256 TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );",
    // Version 4: publishing approval (docs/publishing.md). Files by SHA-256 once each; the
    // published set per site; submissions and their files. `publications` counts each
    // site's published versions, so a server notices a change made by any process.
    "CREATE TABLE blobs (
        sha256 TEXT PRIMARY KEY,
        bytes BLOB NOT NULL
    );
    CREATE TABLE published (
        site TEXT NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL REFERENCES blobs(sha256),
        PRIMARY KEY (site, path)
    );
    CREATE TABLE publications (
        site TEXT PRIMARY KEY,
        generation INTEGER NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY,
        site TEXT NOT NULL,
        author TEXT NOT NULL,
        message TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN
            ('submitted', 'escalated', 'scheduled', 'approved', 'rejected', 'withdrawn', 'needs_review')),
        publish_at TEXT,
        publish_at_unix INTEGER,
        created_at TEXT NOT NULL,
        decided_by TEXT,
        decided_at TEXT,
        reason TEXT,
        published_at TEXT
    );
    CREATE INDEX submissions_site ON submissions(site, state);
    CREATE TABLE submission_files (
        submission_id INTEGER NOT NULL REFERENCES submissions(id),
        path TEXT NOT NULL,
        change TEXT NOT NULL CHECK (change IN ('added', 'modified', 'deleted')),
        sha256 TEXT REFERENCES blobs(sha256),
        base_sha256 TEXT,
        size INTEGER NOT NULL,
        PRIMARY KEY (submission_id, path)
    );
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );",
    // Version 5: web interface sessions (kept by the SHA-256 of the cookie) and failed
    // sign-ins, for the lock-out (docs/web.md).
    "CREATE TABLE sessions (
        id_sha256 TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES users(username),
        csrf TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen INTEGER NOT NULL
    );
    CREATE TABLE signin_failures (
        username TEXT NOT NULL,
        at INTEGER NOT NULL
    );
    CREATE INDEX signin_failures_user ON signin_failures(username, at);",
    // Version 6: announced maintenance windows (one per member) and the progress of
    // dossiers pushed by the units' case systems (docs/services.md). Times in Unix seconds.
    "CREATE TABLE maintenance (
        label TEXT PRIMARY KEY,
        starts_at INTEGER NOT NULL,
        ends_at INTEGER NOT NULL CHECK (ends_at > starts_at),
        reason TEXT NOT NULL,
        announced_at INTEGER NOT NULL,
        emergency INTEGER NOT NULL,
        actor TEXT NOT NULL
    );
    CREATE TABLE dossiers (
        site TEXT NOT NULL,
        code TEXT NOT NULL,
        service_code TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        due_at INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('received', 'in_progress', 'needs_more', 'completed', 'returned')),
        completed_at INTEGER,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (site, code)
    );
    CREATE TABLE dossier_changes (
        site TEXT PRIMARY KEY,
        seq INTEGER NOT NULL
    );",
];

/// What `register` is asked to record: a new member and all its names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The label, the unit's names, its kind, hosts and servers.
    #[serde(flatten)]
    pub names: Names,
    /// `Pending` normally; `Active` for demo sites imported on a fresh start.
    pub status: Status,
    /// Why a name with naming warnings was accepted; recorded in the audit log.
    pub override_reason: Option<String>,
}

/// Why a registry call failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The file could not be opened, configured or migrated.
    #[error("{path}: cannot open the registry: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    /// The folder that should hold the file could not be created.
    #[error("{path}: cannot create the registry folder: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    /// A hostname (or the label's fourth-level name) belongs to another member.
    #[error("\"{host}\" is already registered to member \"{owner}\"")]
    Taken { host: String, owner: String },
    /// No member has this label.
    #[error("no member \"{label}\"")]
    NotFound { label: String },
    /// The status change is not allowed from the member's current status.
    #[error("member \"{label}\" is {from}; cannot {action}")]
    InvalidTransition { label: String, from: Status, action: &'static str },
    /// Anything else SQLite reported.
    #[error("registry database error: {0}")]
    Db(#[from] rusqlite::Error),
    /// A user name already in use.
    #[error("user \"{username}\" already exists")]
    UserExists { username: String },
    /// No user (or no enabled user) has this name.
    #[error("no user \"{username}\"")]
    NoUser { username: String },
    /// No token has this id (or it is revoked already).
    #[error("no active token {id}")]
    NoToken { id: i64 },
    /// No submission has this id.
    #[error("no submission {id}")]
    NoSubmission { id: i64 },
    /// A submission's files changed since it was made (in the working copy, or published by
    /// another submission since).
    #[error("submission {id} is stale: {path} changed since it was submitted; submit again")]
    Stale { id: i64, path: String },
    /// A step the approval rules refuse.
    #[error(transparent)]
    Refused(#[from] crate::model::submission::Refusal),
    /// A username, role, site list or password that breaks the rules.
    #[error(transparent)]
    Account(#[from] crate::model::account::AccountError),
    /// The file was written by a newer cong; refuse rather than misread it.
    #[error("{path}: registry schema version {found} is newer than this cong understands ({supported})")]
    TooNew { path: PathBuf, found: i64, supported: i64 },
}

/// The registry as a running server shares it between its background writers.
pub type Shared = std::sync::Arc<std::sync::Mutex<Registry>>;

/// Run `f` on the shared registry on tokio's blocking pool: an async worker must never
/// wait on the registry's lock or on SQLite. The error is a panic inside `f`.
pub async fn off_workers<T: Send + 'static>(
    registry: &Shared,
    f: impl FnOnce(&mut Registry) -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    let registry = registry.clone();
    tokio::task::spawn_blocking(move || f(&mut registry.lock().unwrap_or_else(|p| p.into_inner()))).await
}

/// One member's last DNS check as the registry keeps it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DnsResult {
    pub label: String,
    /// RFC 3339, UTC.
    pub checked_at: String,
    /// The member's overall status: `passed`, `warning`, `failed` or `error`.
    pub status: String,
    /// The member's part of the report (`dns_check::MemberReport`), as JSON.
    pub report: serde_json::Value,
}

/// One line of the append-only audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    /// RFC 3339, UTC (`2025-01-31T08:00:00Z`).
    pub at: String,
    /// Who did it (a CLI user, `admin api`, `cong serve (first start)`).
    pub actor: String,
    /// `register`, `activate`, `suspend`, `archive`; on a start, `refuse_import` (a site
    /// folder that breaks the rules) and `withhold_import` (a lost registry).
    pub action: String,
    pub label: String,
    /// What changed, as JSON.
    pub detail: serde_json::Value,
    pub reason: Option<String>,
}

/// An open registry file. One connection, no statements kept between calls, so it is `Send`
/// and can live behind a `Mutex` in a blocking thread.
#[derive(Debug)]
pub struct Registry {
    conn: Connection,
    path: PathBuf,
    /// Commits made through this connection: `PRAGMA data_version` does not see them.
    own_writes: i64,
}

impl Registry {
    /// Opens (creating if needed) the registry at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, RegistryError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| RegistryError::CreateDir { path: dir.to_path_buf(), source })?;
        }
        let open_err = |source| RegistryError::Open { path: path.to_path_buf(), source };
        let mut conn = Connection::open(path).map_err(open_err)?;
        configure(&conn).map_err(open_err)?;
        migrate(&mut conn, path)?;
        Ok(Registry { conn, path: path.to_path_buf(), own_writes: 0 })
    }

    /// The file this registry lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records a new member with its fourth-level name (`label.zone`), own domains, aliases
    /// and servers, in one transaction with one `register` audit row. Hosts are stored
    /// lower-case without a trailing dot; a host repeated within the registration is kept
    /// once, under its first kind. A host held by any member (or a label already registered)
    /// fails with `Taken`, naming the holder; nothing is written then.
    pub fn register(&mut self, reg: &Registration, zone: &str, actor: &str) -> Result<Member, RegistryError> {
        // IMMEDIATE takes the write lock up front, so concurrent registrations of one label
        // queue behind each other (busy_timeout) and the later ones meet the constraint.
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let member = register_in(&tx, reg, zone, actor)?;
        tx.commit()?;
        self.own_writes += 1;
        self.mark_in_use();
        Ok(member)
    }

    /// [`Registry::register`] for many registrations in one transaction (a first start's
    /// import of thousands of folders: one commit instead of one each). Each registration
    /// stands alone: one that fails (a name taken) writes nothing of its own and the others
    /// are still stored; each outcome is returned in order.
    pub fn register_all(
        &mut self,
        regs: &[Registration],
        zone: &str,
        actor: &str,
    ) -> Result<Vec<Result<Member, RegistryError>>, RegistryError> {
        let mut tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcomes = Vec::with_capacity(regs.len());
        for reg in regs {
            let mut one = tx.savepoint()?;
            let outcome = register_in(&one, reg, zone, actor);
            if outcome.is_ok() {
                one.commit()?;
            } else {
                one.rollback()?;
            }
            outcomes.push(outcome);
        }
        tx.commit()?;
        if outcomes.iter().any(Result::is_ok) {
            self.own_writes += 1;
            self.mark_in_use();
        }
        Ok(outcomes)
    }

    /// Every member, sorted by label, with its own domains, aliases and servers.
    pub fn members(&self) -> Result<Vec<Member>, RegistryError> {
        Ok(load_members(&self.conn, None)?)
    }

    /// The member with this label, if any.
    pub fn member(&self, label: &str) -> Result<Option<Member>, RegistryError> {
        let label = normalize_host(label);
        Ok(load_members(&self.conn, Some(&label))?.pop())
    }

    /// Moves a member to `to` and records it in the audit log (`activate`, `suspend`,
    /// `archive`). Allowed: pending→active, active→suspended, suspended→active, and any
    /// non-archived status→archived. Archived is final; the same status again is refused.
    pub fn set_status(
        &mut self,
        label: &str,
        to: Status,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<Member, RegistryError> {
        let label = normalize_host(label);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let from = tx
            .query_row("SELECT status FROM members WHERE label = ?1", [&label], |row| parse_col(row, 0, Status::parse))
            .optional()?
            .ok_or_else(|| RegistryError::NotFound { label: label.clone() })?;
        let action = verb(to);
        if !transition_allowed(from, to) {
            return Err(RegistryError::InvalidTransition { label, from, action });
        }
        tx.execute(
            "UPDATE members SET status = ?1, updated_at = ?2 WHERE label = ?3",
            (to.as_str(), rfc3339(SystemTime::now()), &label),
        )?;
        let detail = serde_json::json!({ "from": from, "to": to });
        append_audit(&tx, actor, action, &label, &detail, reason)?;
        let member = load_one(&tx, &label)?;
        tx.commit()?;
        self.own_writes += 1;
        Ok(member)
    }

    /// The last `limit` audit entries, newest first.
    pub fn audit(&self, limit: usize) -> Result<Vec<AuditEntry>, RegistryError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare(
            "SELECT id, at, actor, action, label, detail, reason
             FROM audit ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], audit_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Append an audit entry that changes no member (a site folder refused at the
    /// first-start import, an import withheld). Not counted in
    /// [`Registry::change_marker`]: what is served does not change.
    pub fn note(
        &mut self,
        actor: &str,
        action: &str,
        label: &str,
        detail: &serde_json::Value,
        reason: Option<&str>,
    ) -> Result<(), RegistryError> {
        Ok(append_audit(&self.conn, actor, action, label, detail, reason)?)
    }

    /// True when no member is registered (see [`Registry::found`]).
    pub fn is_empty(&self) -> Result<bool, RegistryError> {
        let any: bool = self.conn.query_row("SELECT EXISTS (SELECT 1 FROM members)", [], |row| row.get(0))?;
        Ok(!any)
    }

    /// A number that changes whenever any connection, in any process, commits; compare it
    /// for equality to decide whether to reload. `PRAGMA data_version` only moves for
    /// commits by *other* connections, so this connection's own commits are counted
    /// separately: `(data_version << 32) + own commits`.
    pub fn change_marker(&self) -> Result<i64, RegistryError> {
        let data_version: i64 = self.conn.pragma_query_value(None, "data_version", |row| row.get(0))?;
        Ok(data_version.wrapping_shl(32).wrapping_add(self.own_writes))
    }

    /// Keep these DNS results, each replacing its member's previous one, in one
    /// transaction. Not counted in [`Registry::change_marker`]: they do not change routing.
    pub fn store_dns(&mut self, results: &[DnsResult]) -> Result<(), RegistryError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for r in results {
            tx.execute(
                "INSERT OR REPLACE INTO dns_results (label, checked_at, status, report) VALUES (?1, ?2, ?3, ?4)",
                (&r.label, &r.checked_at, &r.status, r.report.to_string()),
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Every member's last DNS result, sorted by label.
    pub fn last_dns(&self) -> Result<Vec<DnsResult>, RegistryError> {
        let mut stmt = self.conn.prepare("SELECT label, checked_at, status, report FROM dns_results ORDER BY label")?;
        let rows = stmt.query_map([], |row| {
            let report: String = row.get(3)?;
            Ok(DnsResult {
                label: row.get(0)?,
                checked_at: row.get(1)?,
                status: row.get(2)?,
                report: serde_json::from_str(&report).unwrap_or(serde_json::Value::String(report)),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// SQLite's own consistency check: `"ok"` when the file is sound, else its findings,
    /// one per line.
    pub fn integrity_check(&self) -> Result<String, RegistryError> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let lines = stmt.query_map([], |row| row.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
        Ok(lines.join("\n"))
    }
}

/// How long a call waits for another connection's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Per-connection settings; see the module note on durability.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    // First, so that everything after it waits for another process instead of failing.
    conn.busy_timeout(BUSY_TIMEOUT)?;
    enable_wal(conn)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", true)
}

/// Switches the file to WAL (a lasting property of the file). SQLite answers "busy" at once,
/// without the busy handler, when two connections make that switch on a new file together,
/// so retry here within the same time budget.
fn enable_wal(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        let set = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0));
        match set {
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other.map(drop),
        }
    }
}

/// Applies the migrations this file has not seen yet, all in one transaction.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), RegistryError> {
    let open_err = |source| RegistryError::Open { path: path.to_path_buf(), source };
    let supported = MIGRATIONS.len() as i64;
    let version = |conn: &Connection| conn.pragma_query_value(None, "user_version", |r| r.get(0));
    let found: i64 = version(conn).map_err(open_err)?;
    if found == supported {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(open_err)?;
    // Read again under the write lock: another process may have migrated meanwhile.
    let found: i64 = version(&tx).map_err(open_err)?;
    let Some(done) = usize::try_from(found).ok().filter(|&n| n <= MIGRATIONS.len()) else {
        return Err(RegistryError::TooNew { path: path.to_path_buf(), found, supported });
    };
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        tx.execute_batch(sql).map_err(open_err)?;
        tx.pragma_update(None, "user_version", index as i64 + 1).map_err(open_err)?;
    }
    tx.commit().map_err(open_err)
}

/// The one spelling a host is stored and found by (see [`crate::model::host`]).
fn normalize_host(host: &str) -> String {
    crate::model::host::normalize_name(host)
}

/// The registration as it will be stored (and shown in the audit detail).
/// One registration inside the caller's transaction (see [`Registry::register`]).
fn register_in(conn: &Connection, reg: &Registration, zone: &str, actor: &str) -> Result<Member, RegistryError> {
    let reg = normalized(reg);
    let fourth_level = format!("{}.{}", reg.names.label, normalize_host(zone));
    let now = rfc3339(SystemTime::now());
    let member_id = insert_member(conn, &reg, &now).map_err(|e| {
        if is_unique_violation(&e) {
            RegistryError::Taken { host: fourth_level.clone(), owner: reg.names.label.clone() }
        } else {
            e.into()
        }
    })?;
    for (host, kind) in names_of(&reg.names, &fourth_level) {
        insert_name(conn, member_id, &host, kind)?;
    }
    for address in &reg.names.servers {
        conn.execute("INSERT OR IGNORE INTO servers (member_id, address) VALUES (?1, ?2)", (member_id, address))?;
    }
    let detail = serde_json::to_value(&reg).unwrap_or(serde_json::Value::Null);
    let reason = reg.override_reason.as_deref();
    append_audit(conn, actor, "register", &reg.names.label, &detail, reason)?;
    load_one(conn, &reg.names.label)
}

fn normalized(reg: &Registration) -> Registration {
    Registration { names: reg.names.normalized(), ..reg.clone() }
}

/// Every hostname of the registration with its kind, each host once.
fn names_of(names: &Names, fourth_level: &str) -> Vec<(String, &'static str)> {
    let mut seen = HashSet::new();
    std::iter::once((fourth_level.to_string(), "fourth_level"))
        .chain(names.own_domains.iter().map(|h| (h.clone(), "own_domain")))
        .chain(names.aliases.iter().map(|h| (h.clone(), "alias")))
        .filter(|(host, _)| seen.insert(host.clone()))
        .collect()
}

fn insert_member(conn: &Connection, reg: &Registration, now: &str) -> rusqlite::Result<i64> {
    let n = &reg.names;
    conn.execute(
        "INSERT INTO members
            (label, name_vi, name_en, membership, status, canonical, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        (&n.label, &n.name_vi, &n.name_en, n.membership.as_str(), reg.status.as_str(), &n.canonical, now),
    )?;
    Ok(conn.last_insert_rowid())
}

/// Inserts one name; if the database says the host is held, reports who holds it.
fn insert_name(conn: &Connection, member_id: i64, host: &str, kind: &str) -> Result<(), RegistryError> {
    let inserted =
        conn.execute("INSERT INTO names (host, member_id, kind) VALUES (?1, ?2, ?3)", (host, member_id, kind));
    match inserted {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => {
            let owner = conn.query_row(
                "SELECT m.label FROM names n JOIN members m ON m.id = n.member_id
                 WHERE n.host = ?1",
                [host],
                |row| row.get(0),
            )?;
            Err(RegistryError::Taken { host: host.to_string(), owner })
        }
        Err(e) => Err(e.into()),
    }
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

fn append_audit(
    conn: &Connection,
    actor: &str,
    action: &str,
    label: &str,
    detail: &serde_json::Value,
    reason: Option<&str>,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO audit (at, actor, action, label, detail, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        (rfc3339(SystemTime::now()), actor, action, label, detail.to_string(), reason),
    )?;
    Ok(())
}

/// An audit row selected as `id, at, actor, action, label, detail, reason`.
fn audit_from_row(row: &Row) -> rusqlite::Result<AuditEntry> {
    let detail: String = row.get(5)?;
    Ok(AuditEntry {
        id: row.get(0)?,
        at: row.get(1)?,
        actor: row.get(2)?,
        action: row.get(3)?,
        label: row.get(4)?,
        // Written by us as JSON; keep a hand-edited value visible rather than fail.
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
        reason: row.get(6)?,
    })
}

/// The life-cycle rules; anything not listed is refused.
fn transition_allowed(from: Status, to: Status) -> bool {
    use Status::*;
    matches!((from, to), (Pending | Suspended, Active) | (Active, Suspended) | (Pending | Active | Suspended, Archived))
}

/// The audit action (and error wording) for moving to `to`.
fn verb(to: Status) -> &'static str {
    match to {
        Status::Pending => "return to pending",
        Status::Active => "activate",
        Status::Suspended => "suspend",
        Status::Archived => "archive",
    }
}

/// Reads a text column through one of the model's `parse` functions.
fn parse_col<T>(row: &Row, idx: usize, parse: fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    let text: String = row.get(idx)?;
    parse(&text).ok_or_else(|| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, format!("{text:?}").into()))
}

/// A member just written in this transaction.
fn load_one(conn: &Connection, label: &str) -> Result<Member, RegistryError> {
    load_members(conn, Some(label))?.pop().ok_or_else(|| RegistryError::NotFound { label: label.to_string() })
}

/// Members sorted by label (all, or the one with `label`), with names and servers filled in.
fn load_members(conn: &Connection, label: Option<&str>) -> rusqlite::Result<Vec<Member>> {
    // Two statements, not `?1 IS NULL OR label = ?1`: SQLite cannot use the label's index
    // for that, and a scan of every member per lookup made a first start's import of
    // thousands of folders quadratic.
    let mut stmt = match label {
        Some(_) => conn.prepare_cached(
            "SELECT id, label, name_vi, name_en, membership, status, canonical FROM members WHERE label = ?1",
        )?,
        None => conn.prepare_cached(
            "SELECT id, label, name_vi, name_en, membership, status, canonical FROM members
             WHERE ?1 IS NULL ORDER BY label",
        )?,
    };
    let rows = stmt.query_map([label], |row| {
        let member = Member {
            names: Names {
                label: row.get(1)?,
                name_vi: row.get(2)?,
                name_en: row.get(3)?,
                membership: parse_col(row, 4, Membership::parse)?,
                own_domains: Vec::new(),
                aliases: Vec::new(),
                canonical: row.get(6)?,
                servers: Vec::new(),
            },
            status: parse_col(row, 5, Status::parse)?,
            maintenance: None,
        };
        Ok((row.get::<_, i64>(0)?, member))
    })?;
    let mut members = Vec::new();
    let mut index = HashMap::new();
    for row in rows {
        let (id, member) = row?;
        index.insert(id, members.len());
        members.push(member);
    }
    fill_names_and_servers(conn, label, &index, &mut members)?;
    services::fill_windows(conn, &mut members)?;
    Ok(members)
}

/// Adds own domains, aliases and servers in the order they were registered (rowid order,
/// which VACUUM keeps relative).
fn fill_names_and_servers(
    conn: &Connection,
    label: Option<&str>,
    index: &HashMap<i64, usize>,
    members: &mut [Member],
) -> rusqlite::Result<()> {
    // One member: by its id, through the names' member index (see `load_members`).
    let one = match (label, index.keys().next()) {
        (Some(_), Some(&id)) if index.len() == 1 => Some(id),
        (Some(_), _) => return Ok(()),
        (None, _) => None,
    };
    let mut stmt = match one {
        Some(_) => conn.prepare_cached(
            "SELECT member_id, kind, value FROM (
                 SELECT member_id, kind, host AS value, 0 AS part, rowid AS seq FROM names WHERE member_id = ?1
                 UNION ALL
                 SELECT member_id, 'server', address, 1, rowid FROM servers WHERE member_id = ?1
             ) ORDER BY part, seq",
        )?,
        None => conn.prepare_cached(
            "SELECT x.member_id, x.kind, x.value FROM (
                 SELECT member_id, kind, host AS value, 0 AS part, rowid AS seq FROM names
                 UNION ALL
                 SELECT member_id, 'server', address, 1, rowid FROM servers
             ) x WHERE ?1 IS NULL ORDER BY x.part, x.seq",
        )?,
    };
    let mut rows = stmt.query([one])?;
    while let Some(row) = rows.next()? {
        let Some(&at) = index.get(&row.get::<_, i64>(0)?) else {
            continue;
        };
        let member = &mut members[at].names;
        let list = match row.get_ref(1)?.as_str()? {
            "own_domain" => &mut member.own_domains,
            "alias" => &mut member.aliases,
            "server" => &mut member.servers,
            _ => continue, // the fourth-level name is derived from the label
        };
        list.push(row.get(2)?);
    }
    Ok(())
}

pub use crate::model::time::rfc3339;

#[cfg(test)]
mod tests;
