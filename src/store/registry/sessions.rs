//! Web interface sessions and the sign-in lock-out (docs/web.md). A session is known to the
//! store only by the SHA-256 of its cookie, so a copy of the database signs nobody in.

use super::{Registry, RegistryError};
use crate::model::account::User;
use crate::store::secrets::{hex, random_bytes, sha256_hex};
use rusqlite::OptionalExtension;

/// A session ends after this long without a request (12 hours).
pub const SESSION_IDLE_SECS: i64 = 12 * 3600;
/// Failed sign-ins counted for the lock-out, and how long it lasts (15 minutes).
pub const LOCKOUT_WINDOW_SECS: i64 = 15 * 60;
/// This many failures within the window lock the user out.
pub const LOCKOUT_FAILURES: i64 = 5;

/// A signed-in user and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
}

impl Registry {
    /// Start a session for `username`: the cookie value (shown once, to the browser) and the
    /// session's CSRF token.
    pub fn create_session(&mut self, username: &str, now: i64) -> Result<(String, String), RegistryError> {
        let cookie = hex(&random_bytes::<32>());
        let csrf = hex(&random_bytes::<32>());
        self.conn.execute("DELETE FROM sessions WHERE last_seen < ?1", [now - SESSION_IDLE_SECS])?;
        self.conn.execute(
            "INSERT INTO sessions (id_sha256, username, csrf, created_at, last_seen) VALUES (?1, ?2, ?3, ?4, ?4)",
            (sha256_hex(cookie.as_bytes()), username, &csrf, now),
        )?;
        Ok((cookie, csrf))
    }

    /// The session of this cookie, if it is live and its user enabled; its idle clock is
    /// restarted (at most once a minute, to spare writes).
    pub fn session(&mut self, cookie: &str, now: i64) -> Result<Option<Session>, RegistryError> {
        let id = sha256_hex(cookie.as_bytes());
        let found: Option<(String, String, i64)> = self
            .conn
            .query_row("SELECT username, csrf, last_seen FROM sessions WHERE id_sha256 = ?1", [&id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((username, csrf, last_seen)) = found else { return Ok(None) };
        if now - last_seen > SESSION_IDLE_SECS {
            self.conn.execute("DELETE FROM sessions WHERE id_sha256 = ?1", [&id])?;
            return Ok(None);
        }
        let Some(user) = self.user(&username)?.filter(|u| !u.disabled) else { return Ok(None) };
        if now - last_seen > 60 {
            self.conn.execute("UPDATE sessions SET last_seen = ?1 WHERE id_sha256 = ?2", (now, &id))?;
        }
        Ok(Some(Session { user, csrf }))
    }

    /// End the session of this cookie (sign-out).
    pub fn end_session(&mut self, cookie: &str) -> Result<(), RegistryError> {
        self.conn.execute("DELETE FROM sessions WHERE id_sha256 = ?1", [sha256_hex(cookie.as_bytes())])?;
        Ok(())
    }

    /// Whether `username` is locked out now: [`LOCKOUT_FAILURES`] failed sign-ins within
    /// the last [`LOCKOUT_WINDOW_SECS`].
    pub fn locked_out(&self, username: &str, now: i64) -> Result<bool, RegistryError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM signin_failures WHERE username = ?1 AND at > ?2",
            (username, now - LOCKOUT_WINDOW_SECS),
            |r| r.get(0),
        )?;
        Ok(n >= LOCKOUT_FAILURES)
    }

    /// Count a failed sign-in for `username` (known or not: the answer must not tell).
    pub fn signin_failed(&mut self, username: &str, now: i64) -> Result<(), RegistryError> {
        self.conn.execute("DELETE FROM signin_failures WHERE at <= ?1", [now - LOCKOUT_WINDOW_SECS])?;
        self.conn.execute("INSERT INTO signin_failures (username, at) VALUES (?1, ?2)", (username, now))?;
        Ok(())
    }

    /// A successful sign-in clears the user's failures.
    pub fn signin_succeeded(&mut self, username: &str) -> Result<(), RegistryError> {
        self.conn.execute("DELETE FROM signin_failures WHERE username = ?1", [username])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::account::Role;

    #[test]
    fn sessions_expire_and_lockouts_count() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Registry::open(&dir.path().join("registry.db")).unwrap();
        let user = User {
            username: "lan".into(),
            name: "Lan".into(),
            role: Role::Contributor,
            sites: vec!["ais".into()],
            disabled: false,
        };
        r.add_user(&user, "mật khẩu đủ dài", "t").unwrap();
        let (cookie, csrf) = r.create_session("lan", 1000).unwrap();
        let s = r.session(&cookie, 1000 + 3600).unwrap().expect("live session");
        assert_eq!((s.user.username.as_str(), s.csrf.as_str()), ("lan", csrf.as_str()));
        assert!(r.session("forged", 1000).unwrap().is_none());
        assert!(r.session(&cookie, 1000 + 3600 + SESSION_IDLE_SECS + 1).unwrap().is_none(), "idle for 12 h");
        let (cookie, _) = r.create_session("lan", 5000).unwrap();
        r.end_session(&cookie).unwrap();
        assert!(r.session(&cookie, 5001).unwrap().is_none(), "signed out");
        let (cookie, _) = r.create_session("lan", 6000).unwrap();
        r.disable_user("lan", "t").unwrap();
        assert!(r.session(&cookie, 6001).unwrap().is_none(), "a disabled user's session ends");

        for i in 0..LOCKOUT_FAILURES {
            assert!(!r.locked_out("minh", 10_000 + i).unwrap());
            r.signin_failed("minh", 10_000 + i).unwrap();
        }
        assert!(r.locked_out("minh", 10_010).unwrap());
        assert!(!r.locked_out("minh", 10_010 + LOCKOUT_WINDOW_SECS).unwrap(), "15 minutes later");
        r.signin_succeeded("minh").unwrap();
        assert!(!r.locked_out("minh", 10_010).unwrap());
    }
}
