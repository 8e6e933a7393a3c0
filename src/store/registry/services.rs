//! Maintenance windows and dossier progress (docs/services.md): one window per member,
//! read with the members; dossiers per site, pushed one at a time or imported a file at a
//! time, each change numbered so a server notices what moved.

use super::{append_audit, Registry, RegistryError};
use crate::model::dossier::{Dossier, State};
use crate::model::member::{Member, Window};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use std::collections::BTreeMap;

/// Attach to each member the window that has not ended yet.
pub(super) fn fill_windows(conn: &Connection, members: &mut [Member]) -> rusqlite::Result<()> {
    let now = i64::try_from(crate::model::time::now_secs()).unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(
        "SELECT label, starts_at, ends_at, reason, announced_at, emergency FROM maintenance WHERE ends_at > ?1",
    )?;
    let mut rows = stmt.query([now])?;
    while let Some(row) = rows.next()? {
        let label: String = row.get(0)?;
        // Members come sorted by label (one member, or every member).
        if let Ok(at) = members.binary_search_by(|m| m.names.label.as_str().cmp(&label)) {
            members[at].maintenance = Some(Window {
                from: row.get(1)?,
                until: row.get(2)?,
                reason: row.get(3)?,
                announced_at: row.get(4)?,
                emergency: row.get(5)?,
            });
        }
    }
    Ok(())
}

impl Registry {
    /// Announce `window` for `label`, replacing any window announced before; the audit log
    /// keeps it with `actor`.
    pub fn announce_maintenance(&mut self, label: &str, window: &Window, actor: &str) -> Result<(), RegistryError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: Option<i64> =
            tx.query_row("SELECT id FROM members WHERE label = ?1", [label], |r| r.get(0)).optional()?;
        if exists.is_none() {
            return Err(RegistryError::NotFound { label: label.to_string() });
        }
        tx.execute(
            "INSERT OR REPLACE INTO maintenance (label, starts_at, ends_at, reason, announced_at, emergency, actor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            (label, window.from, window.until, &window.reason, window.announced_at, window.emergency, actor),
        )?;
        let detail = serde_json::json!({
            "from": crate::model::time::rfc3339_at(window.from),
            "until": crate::model::time::rfc3339_at(window.until),
            "emergency": window.emergency,
        });
        append_audit(&tx, actor, "announce maintenance", label, &detail, Some(&window.reason))?;
        tx.commit()?;
        self.own_writes += 1;
        Ok(())
    }

    /// Withdraw `label`'s window; false when it had none.
    pub fn cancel_maintenance(
        &mut self,
        label: &str,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<bool, RegistryError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let removed = tx.execute("DELETE FROM maintenance WHERE label = ?1", [label])?;
        if removed > 0 {
            append_audit(&tx, actor, "cancel maintenance", label, &serde_json::json!({}), reason)?;
        }
        tx.commit()?;
        self.own_writes += 1;
        Ok(removed > 0)
    }

    /// Store `dossiers` of `site`, all or none (a file imports whole), each replacing the
    /// dossier of the same code. Returns how many were new.
    pub fn put_dossiers(&mut self, site: &str, dossiers: &[Dossier], now: i64) -> Result<usize, RegistryError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut seq: i64 = tx.query_row("SELECT COALESCE(MAX(seq), 0) FROM dossier_changes", [], |r| r.get(0))?;
        let mut added = 0;
        {
            let mut existing = tx.prepare_cached("SELECT 1 FROM dossiers WHERE site = ?1 AND code = ?2")?;
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO dossiers
                     (site, code, service_code, received_at, due_at, status, completed_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for d in dossiers {
                if !existing.exists((site, &d.code))? {
                    added += 1;
                }
                put.execute((
                    site,
                    &d.code,
                    &d.service_code,
                    d.received_at,
                    d.due_at,
                    d.status.as_str(),
                    d.completed_at,
                    now,
                ))?;
            }
        }
        seq += 1;
        tx.execute("INSERT OR REPLACE INTO dossier_changes (site, seq) VALUES (?1, ?2)", (site, seq))?;
        tx.commit()?;
        self.own_writes += 1;
        Ok(added)
    }

    /// One dossier of `site`.
    pub fn dossier(&self, site: &str, code: &str) -> Result<Option<Dossier>, RegistryError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT code, service_code, received_at, due_at, status, completed_at FROM dossiers
             WHERE site = ?1 AND code = ?2",
        )?;
        Ok(stmt.query_row((site, code), dossier_from_row).optional()?)
    }

    /// Every dossier of `site`, by code.
    pub fn dossiers(&self, site: &str) -> Result<Vec<Dossier>, RegistryError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT code, service_code, received_at, due_at, status, completed_at FROM dossiers
             WHERE site = ?1 ORDER BY code",
        )?;
        let rows = stmt.query_map([site], dossier_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Site → the number of its last dossier change: what a server compares to know which
    /// sites' dossiers to read again.
    pub fn dossier_versions(&self) -> Result<BTreeMap<String, i64>, RegistryError> {
        let mut stmt = self.conn.prepare_cached("SELECT site, seq FROM dossier_changes")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn dossier_from_row(row: &rusqlite::Row) -> rusqlite::Result<Dossier> {
    Ok(Dossier {
        code: row.get(0)?,
        service_code: row.get(1)?,
        received_at: row.get(2)?,
        due_at: row.get(3)?,
        status: super::parse_col(row, 4, State::parse)?,
        completed_at: row.get(5)?,
    })
}
