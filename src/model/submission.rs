//! Publishing approval as rules (docs/publishing.md): the states of a submission, which
//! user may move it where, and which paths of a site folder are content. No I/O here; the
//! store keeps submissions and published sets, the control side reads the working copy.

use crate::model::account::User;
use serde::{Deserialize, Serialize};

/// Where a submission stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for an approver.
    Submitted,
    /// Sent to the editorial board with a reason; only `board` (or an admin) decides.
    Escalated,
    /// Approved, waiting for its `publish_at`.
    Scheduled,
    /// Approved and published.
    Approved,
    /// Refused with a reason.
    Rejected,
    /// Taken back by its author.
    Withdrawn,
    /// Force-published by an admin; an approver or the board reviews it after the fact.
    NeedsReview,
}

impl State {
    pub const ALL: [State; 7] = [
        State::Submitted,
        State::Escalated,
        State::Scheduled,
        State::Approved,
        State::Rejected,
        State::Withdrawn,
        State::NeedsReview,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Submitted => "submitted",
            State::Escalated => "escalated",
            State::Scheduled => "scheduled",
            State::Approved => "approved",
            State::Rejected => "rejected",
            State::Withdrawn => "withdrawn",
            State::NeedsReview => "needs_review",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Still waiting for a decision.
    pub fn is_open(self) -> bool {
        matches!(self, State::Submitted | State::Escalated | State::NeedsReview)
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a path differs from its published version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Modified => "modified",
            ChangeKind::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<ChangeKind> {
        [ChangeKind::Added, ChangeKind::Modified, ChangeKind::Deleted].into_iter().find(|c| c.as_str() == s)
    }

    /// The change from `published` to `working` (SHA-256 of each, `None` where absent).
    pub fn between(published: Option<&str>, working: Option<&str>) -> Option<ChangeKind> {
        match (published, working) {
            (None, Some(_)) => Some(ChangeKind::Added),
            (Some(_), None) => Some(ChangeKind::Deleted),
            (Some(p), Some(w)) if p != w => Some(ChangeKind::Modified),
            _ => None,
        }
    }
}

/// A decision asked of a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Approve,
    Reject,
    Escalate,
    Withdraw,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Escalate => "escalate",
            Action::Withdraw => "withdraw",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        [Action::Approve, Action::Reject, Action::Escalate, Action::Withdraw].into_iter().find(|a| a.as_str() == s)
    }
}

/// Why a step is refused: the stable codes of docs/publishing.md.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{user} ({role}) may not {what}")]
    Forbidden { user: String, role: String, what: String },
    #[error("{user} submitted this; someone else must approve it")]
    SelfApproval { user: String },
    #[error("the submission was escalated; only the editorial board (role board) decides it")]
    BoardRequired,
    #[error("the submission is {state} already")]
    AlreadyDecided { state: State },
    #[error("{action} needs a reason")]
    ReasonRequired { action: &'static str },
}

impl Refusal {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Forbidden { .. } => "forbidden",
            Refusal::SelfApproval { .. } => "self_approval",
            Refusal::BoardRequired => "board_required",
            Refusal::AlreadyDecided { .. } => "already_decided",
            Refusal::ReasonRequired { .. } => "reason_required",
        }
    }
}

fn forbidden(user: &User, what: &str) -> Refusal {
    Refusal::Forbidden { user: user.username.clone(), role: user.role.to_string(), what: what.to_string() }
}

/// The state `action` by `user` moves a submission of `site` by `author` in `state` to, or
/// why it may not. Approving gives [`State::Approved`]; the caller schedules it when its
/// time has not come. Staleness is the store's to check, against the files themselves.
pub fn decide(
    user: &User,
    site: &str,
    author: &str,
    state: State,
    action: Action,
    reason: Option<&str>,
) -> Result<State, Refusal> {
    let has_reason = reason.is_some_and(|r| !r.trim().is_empty());
    match action {
        Action::Withdraw => {
            if user.username != author && !user.is_admin() {
                return Err(forbidden(user, "withdraw another user's submission"));
            }
            if !matches!(state, State::Submitted | State::Escalated) {
                return Err(Refusal::AlreadyDecided { state });
            }
            Ok(State::Withdrawn)
        }
        Action::Approve | Action::Reject | Action::Escalate => {
            if !user.may_review(site) {
                return Err(forbidden(user, &format!("{} submissions for {site}", action.as_str())));
            }
            if !state.is_open() {
                return Err(Refusal::AlreadyDecided { state });
            }
            if state == State::Escalated && !user.may_decide_escalated() {
                return Err(Refusal::BoardRequired);
            }
            if action == Action::Approve && user.username == author {
                return Err(Refusal::SelfApproval { user: user.username.clone() });
            }
            match action {
                Action::Approve => Ok(State::Approved),
                Action::Reject if !has_reason => Err(Refusal::ReasonRequired { action: "reject" }),
                Action::Reject => Ok(State::Rejected),
                Action::Escalate if !has_reason => Err(Refusal::ReasonRequired { action: "escalate" }),
                Action::Escalate if state != State::Submitted => Err(Refusal::AlreadyDecided { state }),
                _ => Ok(State::Escalated),
            }
        }
    }
}

/// The folders of a site that are content, besides `site.toml`.
pub const CONTENT_ROOTS: [&str; 3] = ["content", "static", "templates"];

/// The files directly in a site folder that are content: `site.toml` (required) and the
/// catalogue of online public services (docs/services.md).
pub const CONTENT_FILES: [&str; 2] = ["site.toml", "dich-vu-cong.toml"];

/// Why a path cannot be part of a submission.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("path \"{path}\": {why}")]
pub struct PathError {
    pub path: String,
    pub why: &'static str,
}

/// A path relative to the site folder that a submission may carry: `site.toml`, or a file
/// under `content/`, `static/` or `templates/`, with no empty, `.` or `..` part, no
/// backslash or control character, and no hidden name.
pub fn check_path(path: &str) -> Result<(), PathError> {
    let refuse = |why| Err(PathError { path: path.to_string(), why });
    if CONTENT_FILES.contains(&path) {
        return Ok(());
    }
    if path.chars().any(|c| c.is_control() || c == '\\') {
        return refuse("has a control character or a backslash");
    }
    let parts: Vec<&str> = path.split('/').collect();
    if parts.iter().any(|p| p.is_empty() || *p == "." || *p == "..") {
        return refuse("must be relative to the site folder, without empty, \".\" or \"..\" parts");
    }
    if !CONTENT_ROOTS.contains(&parts[0]) || parts.len() < 2 {
        return refuse("must be site.toml, dich-vu-cong.toml or a file under content/, static/ or templates/");
    }
    if parts.iter().any(|p| p.starts_with('.')) {
        return refuse("hidden names are not part of a site");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::account::Role;

    fn user(name: &str, role: Role, sites: &[&str]) -> User {
        User {
            username: name.into(),
            name: name.into(),
            role,
            sites: sites.iter().map(|s| s.to_string()).collect(),
            disabled: false,
        }
    }

    #[test]
    fn who_may_decide_what() {
        let lan = user("lan", Role::Contributor, &["ais"]);
        let minh = user("minh", Role::Approver, &["ais"]);
        let other = user("hung", Role::Approver, &["cbc"]);
        let board = user("ha", Role::Board, &[]);
        let code = |r: Result<State, Refusal>| r.map_err(|e| e.code());
        use Action::*;
        use State::*;
        // (user, state, action, reason, outcome)
        type Row<'a> = (&'a User, State, Action, Option<&'a str>, Result<State, &'a str>);
        let table: Vec<Row> = vec![
            (&minh, Submitted, Approve, None, Ok(Approved)),
            (&lan, Submitted, Approve, None, Err("forbidden")),
            (&other, Submitted, Approve, None, Err("forbidden")),
            (&minh, Submitted, Reject, None, Err("reason_required")),
            (&minh, Submitted, Reject, Some("sai chính tả"), Ok(Rejected)),
            (&minh, Submitted, Escalate, Some(" "), Err("reason_required")),
            (&minh, Submitted, Escalate, Some("nhạy cảm"), Ok(Escalated)),
            (&minh, Escalated, Approve, None, Err("board_required")),
            (&board, Escalated, Approve, None, Ok(Approved)),
            (&board, Escalated, Reject, Some("không đăng"), Ok(Rejected)),
            (&minh, Approved, Approve, None, Err("already_decided")),
            (&minh, Rejected, Reject, Some("x"), Err("already_decided")),
            (&minh, NeedsReview, Approve, None, Ok(Approved)),
            (&lan, Submitted, Withdraw, None, Ok(Withdrawn)),
            (&minh, Submitted, Withdraw, None, Err("forbidden")),
            (&lan, Approved, Withdraw, None, Err("already_decided")),
        ];
        for (u, state, action, reason, want) in table {
            assert_eq!(code(decide(u, "ais", "lan", state, action, reason)), want, "{} {state} {action:?}", u.username);
        }
        assert_eq!(code(decide(&minh, "ais", "minh", Submitted, Approve, None)), Err("self_approval"));
    }

    #[test]
    fn paths_inside_the_site_only() {
        for ok in ["site.toml", "content/tin-tuc/a.md", "static/logo.svg", "templates/page.html", "content/index.md"] {
            assert_eq!(check_path(ok), Ok(()), "{ok}");
        }
        for bad in [
            "../ais/site.toml",
            "content/../../etc/passwd",
            "/etc/passwd",
            "content//a.md",
            "content/./a.md",
            "content",
            "cong.toml",
            "data/registry.db",
            "content/.git/config",
            "content/a\nb.md",
            "content\\a.md",
            "",
        ] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
        assert_eq!(ChangeKind::between(None, Some("a")), Some(ChangeKind::Added));
        assert_eq!(ChangeKind::between(Some("a"), None), Some(ChangeKind::Deleted));
        assert_eq!(ChangeKind::between(Some("a"), Some("b")), Some(ChangeKind::Modified));
        assert_eq!(ChangeKind::between(Some("a"), Some("a")), None);
    }
}
