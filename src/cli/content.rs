//! `cong content`: publishing approval from the command line (docs/publishing.md). Each
//! step acts as the user named by `--as` and goes through [`crate::control::content`], as
//! the admin API's do; a running server publishes what is approved at its next registry
//! poll.

use super::Exit;
use crate::content::theme::ThemeSet;
use crate::control::content::{self, ContentError, Look};
use crate::model::account::User;
use crate::model::config::Config;
use crate::model::escape::Escaped;
use crate::model::submission::{Action, State};
use crate::store::registry::{Registry, RegistryError, Submission};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum ContentCommand {
    /// Show how each site's working copy differs from what is published.
    #[command(after_help = super::after_help("0 shown, 3 the registry could not be read", "cong content status ais"))]
    Status {
        /// One site (default: every site folder).
        label: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Submit changes of a site for approval.
    #[command(after_help = super::after_help(
        "0 submitted, 1 refused (nothing to submit, the working copy does not build, forbidden), 2 usage, \
         3 the registry could not be written",
        "cong content submit ais content/tin-tuc/hoi-nghi.md --message \"Tin hội nghị\" --as lan",
    ))]
    Submit {
        /// The site whose working copy holds the changes.
        label: String,
        /// Paths relative to the site folder (default: every change).
        paths: Vec<String>,
        /// What changed and why, for the approver.
        #[arg(long)]
        message: String,
        /// Publish at this time once approved (RFC 3339 with an offset).
        #[arg(long, value_name = "TIME")]
        publish_at: Option<String>,
        /// The user submitting.
        #[arg(long = "as", value_name = "USER")]
        user: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List submissions, newest first.
    #[command(after_help = super::after_help("0 listed, 3 the registry could not be read", "cong content submissions --state submitted"))]
    Submissions {
        /// Only this site's.
        #[arg(long)]
        site: Option<String>,
        /// Only those in this state: submitted, escalated, scheduled, approved, rejected,
        /// withdrawn, needs_review.
        #[arg(long, value_parser = parse_state)]
        state: Option<State>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one submission with its line diffs and history.
    #[command(after_help = super::after_help("0 shown, 1 no such submission, 3 the registry could not be read", "cong content show 12"))]
    Show {
        /// The submission's number.
        id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Approve a submission: it is published at once, or at its publish_at.
    #[command(after_help = super::after_help(
        "0 decided, 1 refused (forbidden, stale, already decided, a reason missing), 2 usage, \
         3 the registry could not be written",
        "cong content approve 12 --as hoa",
    ))]
    Approve(Decision),
    /// Reject a submission (a reason is required).
    #[command(after_help = super::after_help(
        "0 decided, 1 refused (forbidden, stale, already decided, a reason missing), 2 usage, \
         3 the registry could not be written",
        "cong content reject 12 --reason \"Sai số liệu\" --as hoa",
    ))]
    Reject(Decision),
    /// Send a submission to the editorial board (a reason is required).
    #[command(after_help = super::after_help(
        "0 decided, 1 refused (forbidden, stale, already decided, a reason missing), 2 usage, \
         3 the registry could not be written",
        "cong content escalate 12 --reason \"Cần Ban biên tập\" --as hoa",
    ))]
    Escalate(Decision),
    /// Take back your own submission.
    #[command(after_help = super::after_help(
        "0 decided, 1 refused (forbidden, stale, already decided, a reason missing), 2 usage, \
         3 the registry could not be written",
        "cong content withdraw 12 --as lan",
    ))]
    Withdraw(Decision),
    /// Publish every change of a site at once, before review (admin only).
    #[command(after_help = super::after_help(
        "0 published, 1 refused (not an admin, nothing to publish, the site does not build), 2 usage, \
         3 the registry could not be written",
        "cong content publish ais --force --reason \"Thông báo khẩn\" --as admin",
    ))]
    Publish {
        /// The site whose whole working copy is published.
        label: String,
        /// Required: publishing without approval is an exception.
        #[arg(long, required = true)]
        force: bool,
        /// Why it cannot wait for approval (kept in the audit log).
        #[arg(long)]
        reason: String,
        /// The admin publishing.
        #[arg(long = "as", value_name = "USER")]
        user: String,
    },
}

#[derive(clap::Args, Debug)]
pub struct Decision {
    /// The submission's number.
    id: i64,
    /// Why (required to reject or escalate).
    #[arg(long)]
    reason: Option<String>,
    /// The user deciding.
    #[arg(long = "as", value_name = "USER")]
    user: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn parse_state(s: &str) -> Result<State, String> {
    State::parse(s).ok_or_else(|| {
        format!("\"{s}\" is not one of submitted, escalated, scheduled, approved, rejected, withdrawn, needs_review")
    })
}

/// Say what went wrong (with each build problem) and pick the exit code: 1 for a refusal
/// or a submission that is wrong, 3 when it could not be finished.
fn fail(e: &ContentError) -> Exit {
    eprintln!("error: {} [{}]", Escaped(e), e.code());
    for p in e.problems() {
        eprintln!("  {}", Escaped(p));
    }
    match e {
        ContentError::Io { .. } | ContentError::Registry(RegistryError::Db(_) | RegistryError::Open { .. }) => {
            Exit::Incomplete
        }
        _ => Exit::Failed,
    }
}

/// `cong content ...`.
pub fn content(config: &Config, cmd: ContentCommand) -> Exit {
    let mut registry = match Registry::open(&config.registry_path()) {
        Ok(r) => r,
        Err(e) => return fail(&e.into()),
    };
    match run(&mut registry, config, cmd) {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn acting(registry: &Registry, username: &str) -> Result<User, ContentError> {
    Ok(registry.active_user(username)?)
}

fn run(registry: &mut Registry, config: &Config, cmd: ContentCommand) -> Result<Exit, ContentError> {
    match cmd {
        ContentCommand::Status { label, json } => {
            let labels = match label {
                Some(l) => vec![l],
                None => crate::content::site::list_folders(&config.tenants_dir),
            };
            let mut all = serde_json::Map::new();
            for label in labels {
                let changes = content::changes(registry, config, &label)?;
                if !json {
                    let n = changes.len();
                    outln!(
                        "{}: {}",
                        Escaped(&label),
                        if n == 0 { "as published".into() } else { crate::model::count(n, "change", "changes") }
                    );
                    for c in &changes {
                        outln!("  {:<9} {}", c.change.as_str(), Escaped(&c.path));
                    }
                }
                all.insert(label, serde_json::to_value(changes).expect("changes serialise"));
            }
            if json {
                outln!("{}", serde_json::to_string_pretty(&all).expect("JSON"));
            }
            Ok(Exit::Ok)
        }
        ContentCommand::Submit { label, paths, message, publish_at, user, json } => {
            let user = acting(registry, &user)?;
            let (themes, _) = ThemeSet::load(&config.themes_dir);
            let look = Look { themes: &themes, platform: &config.platform };
            let req =
                content::Request { label: &label, paths: &paths, message: &message, publish_at: publish_at.as_deref() };
            let s = content::submit(registry, config, &look, &user, &req)?;
            show_brief(&s, json, "submitted");
            Ok(Exit::Ok)
        }
        ContentCommand::Submissions { site, state, json } => {
            let list = registry.submissions(site.as_deref(), state)?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&list).expect("JSON"));
            } else {
                for s in &list {
                    outln!(
                        "{:>5} {:<12} {:<10} {:<16} {} ({})",
                        s.id,
                        s.state.as_str(),
                        Escaped(&s.site),
                        Escaped(&s.author),
                        Escaped(&s.message),
                        crate::model::count(s.files.len(), "file", "files")
                    );
                }
            }
            Ok(Exit::Ok)
        }
        ContentCommand::Show { id, json } => {
            let s = registry.submission(id)?;
            let diffs = content::diffs(registry, &s)?;
            let history = registry.submission_history(id)?;
            if json {
                let v = serde_json::json!({ "submission": s, "diffs": diffs, "history": history });
                outln!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
                return Ok(Exit::Ok);
            }
            outln!("submission {} for {}: {} by {}", s.id, Escaped(&s.site), s.state, Escaped(&s.author));
            outln!("message: {}", Escaped(&s.message));
            if let Some(at) = &s.publish_at {
                outln!("publish at: {}", Escaped(at));
            }
            for h in &history {
                let reason = h.reason.as_deref().map(|r| format!(": {}", Escaped(r))).unwrap_or_default();
                outln!("  {} {} {}{reason}", h.at, Escaped(&h.actor), h.action);
            }
            for d in diffs {
                match &d.diff {
                    Some(text) => {
                        for line in text.lines() {
                            outln!("{}", Escaped(line));
                        }
                    }
                    None => outln!(
                        "{} {} (binary, {} → {} bytes)",
                        d.change.as_str(),
                        Escaped(&d.path),
                        d.size_before.unwrap_or(0),
                        d.size_after.unwrap_or(0)
                    ),
                }
            }
            Ok(Exit::Ok)
        }
        ContentCommand::Approve(d) => decide(registry, config, d, Action::Approve),
        ContentCommand::Reject(d) => decide(registry, config, d, Action::Reject),
        ContentCommand::Escalate(d) => decide(registry, config, d, Action::Escalate),
        ContentCommand::Withdraw(d) => decide(registry, config, d, Action::Withdraw),
        ContentCommand::Publish { label, force: _, reason, user } => {
            let user = acting(registry, &user)?;
            let (themes, _) = ThemeSet::load(&config.themes_dir);
            let look = Look { themes: &themes, platform: &config.platform };
            let s = content::force_publish(registry, config, &look, &user, &label, Some(&reason))?;
            show_brief(&s, false, "force-published (needs review)");
            Ok(Exit::Ok)
        }
    }
}

fn decide(registry: &mut Registry, config: &Config, d: Decision, action: Action) -> Result<Exit, ContentError> {
    let user = acting(registry, &d.user)?;
    let s = content::decide(registry, config, &user, d.id, action, d.reason.as_deref())?;
    show_brief(&s, d.json, s.state.as_str());
    Ok(Exit::Ok)
}

fn show_brief(s: &Submission, json: bool, what: &str) {
    if json {
        outln!("{}", serde_json::to_string_pretty(s).expect("JSON"));
        return;
    }
    outln!(
        "submission {} for {}: {what} ({})",
        s.id,
        Escaped(&s.site),
        crate::model::count(s.files.len(), "file", "files")
    );
    for f in &s.files {
        outln!("  {:<9} {}", f.change.as_str(), Escaped(&f.path));
    }
}
