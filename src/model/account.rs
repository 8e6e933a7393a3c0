//! Who may do what (docs/accounts.md): the roles of the regulation's people, a user's scope
//! of sites, and the rules every path (the CLI, the admin API, the web interface) asks
//! through the same functions. No I/O here: the store keeps users and their secrets.

use serde::{Deserialize, Serialize};

/// A user's role. Ordered from the most to the least trusted, but the rules below are
/// written out, not derived from the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything: members, users, force-publish with a reason.
    Admin,
    /// The editorial board: what an approver may on every site, and decides escalations.
    Board,
    /// The standing unit: reviews, approves, rejects and escalates on its sites.
    Approver,
    /// A unit's focal officer: submits changes for its sites.
    Contributor,
    /// A unit's case system: pushes dossier progress for its sites.
    Integration,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Admin, Role::Board, Role::Approver, Role::Contributor, Role::Integration];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Board => "board",
            Role::Approver => "approver",
            Role::Contributor => "contributor",
            Role::Integration => "integration",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user as every layer sees it (never with a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    /// The name shown in the audit log and the web interface.
    pub name: String,
    pub role: Role,
    /// The site labels in scope. For approvers, none listed means every site; for
    /// contributors and integrations, none listed means none.
    pub sites: Vec<String>,
    pub disabled: bool,
}

/// The name the audit log gives the break-glass environment token.
pub const ENV_TOKEN_USER: &str = "env-token";

/// The shortest password accepted for the web interface.
pub const MIN_PASSWORD_CHARS: usize = 12;

impl User {
    /// The break-glass admin of `[admin] token_env`.
    pub fn env_token() -> User {
        User {
            username: ENV_TOKEN_USER.into(),
            name: "break-glass token".into(),
            role: Role::Admin,
            sites: Vec::new(),
            disabled: false,
        }
    }

    /// Whether `label` is within this user's sites.
    pub fn in_scope(&self, label: &str) -> bool {
        match self.role {
            Role::Admin | Role::Board => true,
            Role::Approver => self.sites.is_empty() || self.sites.iter().any(|s| s == label),
            Role::Contributor | Role::Integration => self.sites.iter().any(|s| s == label),
        }
    }

    /// May submit changes (and answer questions) for `label`.
    pub fn may_submit(&self, label: &str) -> bool {
        !matches!(self.role, Role::Integration) && self.in_scope(label)
    }

    /// May review, approve, reject and escalate submissions for `label`.
    pub fn may_review(&self, label: &str) -> bool {
        matches!(self.role, Role::Admin | Role::Board | Role::Approver) && self.in_scope(label)
    }

    /// May decide a submission that was escalated to the editorial board.
    pub fn may_decide_escalated(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Board)
    }

    /// May manage members and users, and force-publish.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// May read the platform's state (members, audit, DNS, submissions in scope).
    pub fn may_read(&self) -> bool {
        self.role != Role::Integration
    }
}

/// Why a username, role or password is refused; each names the field and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("username \"{0}\" must be 2 to 32 of a-z, 0-9, '.', '_' and '-'")]
    Username(String),
    #[error("role \"{0}\" is not one of admin, board, approver, contributor, integration")]
    Role(String),
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    PasswordTooShort,
    #[error("site \"{0}\" is not a site label (a-z, 0-9 and '-')")]
    Site(String),
    #[error("the display name must be 1 to 120 characters without control characters")]
    Name,
}

impl AccountError {
    /// The request field this concerns.
    pub fn field(&self) -> &'static str {
        match self {
            AccountError::Username(_) => "username",
            AccountError::Role(_) => "role",
            AccountError::PasswordTooShort => "password",
            AccountError::Site(_) => "sites",
            AccountError::Name => "name",
        }
    }
}

/// `[a-z0-9._-]{2,32}`.
pub fn check_username(username: &str) -> Result<(), AccountError> {
    let ok = (2..=32).contains(&username.len())
        && username.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    // `env-token` names the break-glass token in the audit log; nobody else may.
    if ok && username != ENV_TOKEN_USER {
        Ok(())
    } else {
        Err(AccountError::Username(username.to_string()))
    }
}

/// At least [`MIN_PASSWORD_CHARS`] characters (not bytes: Vietnamese letters count once).
pub fn check_password(password: &str) -> Result<(), AccountError> {
    if password.chars().count() >= MIN_PASSWORD_CHARS {
        Ok(())
    } else {
        Err(AccountError::PasswordTooShort)
    }
}

/// A user as it will be stored: the username, display name and site labels checked.
pub fn check_user(user: &User) -> Result<(), AccountError> {
    check_username(&user.username)?;
    let name_ok = (1..=120).contains(&user.name.chars().count()) && !user.name.chars().any(char::is_control);
    if !name_ok {
        return Err(AccountError::Name);
    }
    for site in &user.sites {
        let ok = !site.is_empty()
            && site.len() <= 63
            && site.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(AccountError::Site(site.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, sites: &[&str]) -> User {
        User {
            username: "u".repeat(3),
            name: "U".into(),
            role,
            sites: sites.iter().map(|s| s.to_string()).collect(),
            disabled: false,
        }
    }

    #[test]
    fn scopes_follow_the_role_table() {
        // (role, sites, label, may_submit, may_review)
        let table = [
            (Role::Admin, vec![], "ais", true, true),
            (Role::Board, vec![], "ais", true, true),
            (Role::Approver, vec![], "ais", true, true),
            (Role::Approver, vec!["cbc"], "ais", false, false),
            (Role::Approver, vec!["cbc"], "cbc", true, true),
            (Role::Contributor, vec![], "ais", false, false),
            (Role::Contributor, vec!["cbc"], "ais", false, false),
            (Role::Contributor, vec!["cbc"], "cbc", true, false),
            (Role::Integration, vec!["cbc"], "cbc", false, false),
        ];
        for (role, sites, label, submit, review) in table {
            let u = user(role, &sites);
            assert_eq!(u.may_submit(label), submit, "{role} {sites:?} submit {label}");
            assert_eq!(u.may_review(label), review, "{role} {sites:?} review {label}");
        }
        assert!(user(Role::Board, &[]).may_decide_escalated());
        assert!(!user(Role::Approver, &[]).may_decide_escalated());
        assert!(!user(Role::Integration, &["cbc"]).may_read());
    }

    #[test]
    fn usernames_and_passwords() {
        for ok in ["an", "nguyen.van.a", "ttt_2", "a-b", &"x".repeat(32)] {
            assert_eq!(check_username(ok), Ok(()), "{ok}");
        }
        for bad in ["a", "An", "nguyễn", "a b", "a/b", &"x".repeat(33), "env-token", ""] {
            assert!(check_username(bad).is_err(), "{bad}");
        }
        assert!(check_password("mười hai ký").is_err(), "11 characters");
        assert_eq!(check_password("mười hai ký!"), Ok(()), "12 characters, more bytes");
        assert_eq!(Role::parse("board"), Some(Role::Board));
        assert_eq!(Role::parse("Board"), None);
    }
}
