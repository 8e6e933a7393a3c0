//! Users and API tokens in the registry file (docs/accounts.md). Passwords are kept as
//! argon2id hashes and tokens as SHA-256; neither is ever read back out. Every change is an
//! audit row naming who made it.

use super::{append_audit, rfc3339, Registry, RegistryError};
use crate::model::account::{self, Role, User};
use crate::store::secrets;
use rusqlite::{OptionalExtension, Row, TransactionBehavior};
use serde::Serialize;
use std::time::SystemTime;

/// One API token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub username: String,
    pub label: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

const USER_COLUMNS: &str = "username, name, role, sites, disabled";

fn user_from_row(row: &Row) -> rusqlite::Result<User> {
    let role: String = row.get(2)?;
    let sites: String = row.get(3)?;
    Ok(User {
        username: row.get(0)?,
        name: row.get(1)?,
        role: Role::parse(&role).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, format!("{role:?}").into())
        })?,
        sites: sites.split_whitespace().map(str::to_string).collect(),
        disabled: row.get(4)?,
    })
}

impl Registry {
    /// Add `user` with `password` (checked: username, name, sites, at least 12 characters).
    pub fn add_user(&mut self, user: &User, password: &str, actor: &str) -> Result<User, RegistryError> {
        account::check_user(user)?;
        account::check_password(password)?;
        let hash = secrets::hash_password(password);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let inserted = tx.execute(
            "INSERT INTO users (username, name, role, sites, password_hash, disabled, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)",
            (&user.username, &user.name, user.role.as_str(), user.sites.join(" "), &hash, rfc3339(SystemTime::now())),
        );
        match inserted {
            Err(e) if super::is_unique_violation(&e) => {
                return Err(RegistryError::UserExists { username: user.username.clone() })
            }
            other => other?,
        };
        let detail = serde_json::json!({ "role": user.role, "sites": user.sites, "name": user.name });
        append_audit(
            &tx,
            actor,
            "user_add",
            "",
            &serde_json::json!({ "user": user.username, "detail": detail }),
            None,
        )?;
        tx.commit()?;
        Ok(User { disabled: false, ..user.clone() })
    }

    /// Every user, sorted by username.
    pub fn users(&self) -> Result<Vec<User>, RegistryError> {
        let mut stmt = self.conn.prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY username"))?;
        let rows = stmt.query_map([], user_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Whether any user exists (enabled or not).
    pub fn has_users(&self) -> Result<bool, RegistryError> {
        Ok(self.conn.query_row("SELECT EXISTS (SELECT 1 FROM users)", [], |row| row.get(0))?)
    }

    /// The user with this name, disabled or not.
    pub fn user(&self, username: &str) -> Result<Option<User>, RegistryError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = ?1");
        Ok(self.conn.query_row(&sql, [username], user_from_row).optional()?)
    }

    /// The enabled user with this name, or `NoUser`.
    pub fn active_user(&self, username: &str) -> Result<User, RegistryError> {
        self.user(username)?
            .filter(|u| !u.disabled)
            .ok_or_else(|| RegistryError::NoUser { username: username.to_string() })
    }

    /// Disable a user: it can no longer sign in and its tokens stop working. Kept, so the
    /// audit log's rows that name it still mean something.
    pub fn disable_user(&mut self, username: &str, actor: &str) -> Result<User, RegistryError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute("UPDATE users SET disabled = 1 WHERE username = ?1 AND disabled = 0", [username])?;
        if changed == 0 {
            return Err(RegistryError::NoUser { username: username.to_string() });
        }
        tx.execute(
            "UPDATE tokens SET revoked_at = ?1 WHERE username = ?2 AND revoked_at IS NULL",
            (rfc3339(SystemTime::now()), username),
        )?;
        append_audit(&tx, actor, "user_disable", "", &serde_json::json!({ "user": username }), None)?;
        tx.commit()?;
        self.user(username)?.ok_or_else(|| RegistryError::NoUser { username: username.to_string() })
    }

    /// Replace a user's password (checked as in [`Registry::add_user`]).
    pub fn set_password(&mut self, username: &str, password: &str, actor: &str) -> Result<(), RegistryError> {
        account::check_password(password)?;
        let hash = secrets::hash_password(password);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if tx.execute("UPDATE users SET password_hash = ?1 WHERE username = ?2", (&hash, username))? == 0 {
            return Err(RegistryError::NoUser { username: username.to_string() });
        }
        append_audit(&tx, actor, "user_password", "", &serde_json::json!({ "user": username }), None)?;
        tx.commit()?;
        Ok(())
    }

    /// The enabled user whose password this is, or `None` (unknown user, disabled, wrong
    /// password: the caller cannot tell which, nor can whoever it answers).
    pub fn check_password(&self, username: &str, password: &str) -> Result<Option<User>, RegistryError> {
        let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = ?1");
        let found = self
            .conn
            .query_row(&sql, [username], |row| Ok((user_from_row(row)?, row.get::<_, String>(5)?)))
            .optional()?;
        Ok(found.filter(|(u, hash)| !u.disabled && secrets::verify_password(password, hash)).map(|(u, _)| u))
    }

    /// A new API token for an enabled user: returns its id and the token, which is shown
    /// once and kept only as its SHA-256.
    pub fn create_token(&mut self, username: &str, label: &str, actor: &str) -> Result<(i64, String), RegistryError> {
        self.active_user(username)?;
        let token = secrets::new_token();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO tokens (username, label, sha256, created_at) VALUES (?1, ?2, ?3, ?4)",
            (username, label, secrets::sha256_hex(token.as_bytes()), rfc3339(SystemTime::now())),
        )?;
        let id = tx.last_insert_rowid();
        let detail = serde_json::json!({ "user": username, "token": id, "label": label });
        append_audit(&tx, actor, "token_create", "", &detail, None)?;
        tx.commit()?;
        Ok((id, token))
    }

    /// Revoke token `id`.
    pub fn revoke_token(&mut self, id: i64, actor: &str) -> Result<TokenInfo, RegistryError> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let changed = tx.execute(
            "UPDATE tokens SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
            (rfc3339(SystemTime::now()), id),
        )?;
        if changed == 0 {
            return Err(RegistryError::NoToken { id });
        }
        append_audit(&tx, actor, "token_revoke", "", &serde_json::json!({ "token": id }), None)?;
        tx.commit()?;
        self.token(id)?.ok_or(RegistryError::NoToken { id })
    }

    /// Token `id` as listed.
    pub fn token(&self, id: i64) -> Result<Option<TokenInfo>, RegistryError> {
        Ok(self.tokens_where("id = ?1", id.to_string())?.pop())
    }

    /// A user's tokens, revoked ones included, oldest first.
    pub fn tokens(&self, username: &str) -> Result<Vec<TokenInfo>, RegistryError> {
        self.tokens_where("username = ?1", username.to_string())
    }

    fn tokens_where(&self, condition: &str, value: String) -> Result<Vec<TokenInfo>, RegistryError> {
        let sql =
            format!("SELECT id, username, label, created_at, revoked_at FROM tokens WHERE {condition} ORDER BY id");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([value], |row| {
            Ok(TokenInfo {
                id: row.get(0)?,
                username: row.get(1)?,
                label: row.get(2)?,
                created_at: row.get(3)?,
                revoked_at: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The enabled user holding this (unrevoked) token.
    pub fn user_for_token(&self, token: &str) -> Result<Option<User>, RegistryError> {
        let sql = format!(
            "SELECT {} FROM tokens t JOIN users u ON u.username = t.username
             WHERE t.sha256 = ?1 AND t.revoked_at IS NULL AND u.disabled = 0",
            USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ")
        );
        Ok(self.conn.query_row(&sql, [secrets::sha256_hex(token.as_bytes())], user_from_row).optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(username: &str, role: Role, sites: &[&str]) -> User {
        User {
            username: username.into(),
            name: format!("Người dùng {username}"),
            role,
            sites: sites.iter().map(|s| s.to_string()).collect(),
            disabled: false,
        }
    }

    #[test]
    fn users_tokens_and_the_audit() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Registry::open(&dir.path().join("registry.db")).unwrap();
        let lan = user("lan", Role::Contributor, &["cbc", "ais"]);
        r.add_user(&lan, "mật khẩu đủ dài", "root").unwrap();
        assert!(matches!(r.add_user(&lan, "mật khẩu đủ dài", "root"), Err(RegistryError::UserExists { .. })));
        assert!(matches!(
            r.add_user(&user("x", Role::Board, &[]), "mật khẩu đủ dài", "root"),
            Err(RegistryError::Account(_))
        ));
        assert!(matches!(r.add_user(&user("minh", Role::Board, &[]), "ngắn", "root"), Err(RegistryError::Account(_))));
        assert_eq!(r.user("lan").unwrap().unwrap().sites, ["cbc", "ais"]);
        assert_eq!(r.check_password("lan", "mật khẩu đủ dài").unwrap().unwrap().username, "lan");
        assert!(r.check_password("lan", "sai mật khẩu rồi").unwrap().is_none());
        assert!(r.check_password("ai-do", "mật khẩu đủ dài").unwrap().is_none());

        let (id, token) = r.create_token("lan", "laptop", "lan").unwrap();
        assert_eq!(r.user_for_token(&token).unwrap().unwrap().username, "lan");
        assert!(r.user_for_token("cong_guess").unwrap().is_none());
        let stored: String =
            r.conn.query_row("SELECT sha256 FROM tokens WHERE id = ?1", [id], |row| row.get(0)).unwrap();
        assert_ne!(stored, token, "only the digest is kept");
        r.revoke_token(id, "lan").unwrap();
        assert!(r.user_for_token(&token).unwrap().is_none(), "a revoked token stops working");
        assert!(matches!(r.revoke_token(id, "lan"), Err(RegistryError::NoToken { .. })));

        let (_, second) = r.create_token("lan", "", "root").unwrap();
        assert!(r.disable_user("lan", "root").unwrap().disabled);
        assert!(r.user_for_token(&second).unwrap().is_none(), "a disabled user's tokens stop working");
        assert!(r.check_password("lan", "mật khẩu đủ dài").unwrap().is_none());
        assert!(matches!(r.create_token("lan", "", "root"), Err(RegistryError::NoUser { .. })));

        let actions: Vec<(String, String)> = r.audit(10).unwrap().into_iter().map(|e| (e.actor, e.action)).collect();
        let expected = ["user_disable", "token_create", "token_revoke", "token_create", "user_add"];
        assert_eq!(actions.iter().map(|(_, a)| a.as_str()).collect::<Vec<_>>(), expected);
        assert_eq!(actions[2].0, "lan", "the audit names who acted");
    }
}
