//! Publishing approval at work (docs/publishing.md): the site folder is the working copy,
//! the registry keeps each site's published set, and what is served is built from the
//! published set written out under `data/published/<label>/`. Every path (the CLI, the
//! admin API, the web interface) goes through these functions, so each rule has one home:
//! who may do what in `model::submission`, the hashes and the atomic publish in the store,
//! the files here.

use crate::content::files::Folder;
use crate::content::site::{self, Site};
use crate::content::theme::ThemeSet;
use crate::model::account::User;
use crate::model::config::{Config, Platform};
use crate::model::problem::Problem;
use crate::model::submission::{self, Action, ChangeKind, PathError, State, CONTENT_ROOTS};
use crate::snapshot::{build_site_at, BuildOutcome};
use crate::store::registry::{FileChange, NewFile, NewSubmission, Registry, RegistryError, Submission};
use crate::store::secrets::sha256_hex;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Why a publishing step did not happen; [`ContentError::code`] is the stable code.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// Refused by the rules, stale, unknown submission or user, or a database error.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Path(#[from] PathError),
    #[error("publish_at \"{0}\" is not an RFC 3339 time with an offset (e.g. 2026-12-01T08:00:00+07:00)")]
    InvalidTime(String),
    #[error("nothing to submit for {site}: {why}")]
    NothingToSubmit { site: String, why: String },
    #[error("{site} would not build with these changes ({}); fix them and submit again", crate::model::count(problems.len(), "problem", "problems"))]
    BuildFailed { site: String, problems: Vec<Problem> },
    #[error("a force-publish needs a reason")]
    ReasonRequired,
    #[error("no site folder {0} (tenants/{0}/site.toml)")]
    NoSite(String),
    #[error("{what}: {error}")]
    Io { what: String, error: std::io::Error },
    /// `If-Match` named another version than the one in the working copy.
    #[error("{path} changed since you opened it (it is now {}); reload it and make your change again", now.as_deref().unwrap_or("deleted"))]
    Precondition { path: String, now: Option<String> },
    /// An upload whose content is not an allowed type, or does not match its name.
    #[error("{path}: {why}")]
    Upload { path: String, why: String },
    /// The member is archived: its site is kept as it was (docs/services.md).
    #[error("{0} is archived: its site is kept as it was when archived and takes no more changes")]
    Archived(String),
}

impl ContentError {
    /// The stable code of docs/publishing.md.
    pub fn code(&self) -> &'static str {
        match self {
            ContentError::Registry(RegistryError::Refused(r)) => r.code(),
            ContentError::Registry(RegistryError::Stale { .. }) => "stale",
            ContentError::Registry(RegistryError::NoSubmission { .. } | RegistryError::NoUser { .. }) => "not_found",
            ContentError::Registry(_) => "registry",
            ContentError::Path(_) => "invalid_path",
            ContentError::InvalidTime(_) => "invalid_time",
            ContentError::NothingToSubmit { .. } => "nothing_to_submit",
            ContentError::BuildFailed { .. } => "build_failed",
            ContentError::ReasonRequired => "reason_required",
            ContentError::NoSite(_) => "not_found",
            ContentError::Io { .. } => "io",
            ContentError::Precondition { .. } => "precondition_failed",
            ContentError::Upload { .. } => "invalid_upload",
            ContentError::Archived(_) => "archived",
        }
    }

    /// The problems a `build_failed` carries.
    pub fn problems(&self) -> &[Problem] {
        match self {
            ContentError::BuildFailed { problems, .. } => problems,
            _ => &[],
        }
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ContentError {
    let what = what.into();
    move |error| ContentError::Io { what, error }
}

/// The themes and names a candidate is built with: the running server's, or loaded by the CLI.
pub struct Look<'a> {
    pub themes: &'a ThemeSet,
    pub platform: &'a Platform,
}

/// The working copy of `label`: every content file (`site.toml` and what is under
/// `content/`, `static/`, `templates/`), read through the safe open with the build's caps.
/// Links and hidden or editor files are not part of it, as the build skips them.
pub fn working_copy(config: &Config, label: &str) -> Result<BTreeMap<String, Vec<u8>>, ContentError> {
    folder_files(config, &site_folder(config, label)?, label)
}

/// Keep what `label` serves now (its published set, or its folder where approval does not
/// apply) as its frozen copy under `data/archived/`, which it is served from once archived
/// (`Config::site_source`). False when there is nothing to keep (no site folder: an
/// independent member, or a site never published). Called before the status changes, so
/// an archived member never serves a later edit.
pub fn freeze(config: &Config, label: &str) -> Result<bool, ContentError> {
    let dir = config.site_source(label);
    if !dir.join("site.toml").is_file() {
        return Ok(false);
    }
    let shown = crate::content::site::shown_path(&dir);
    let folder = Folder::open(&dir, &shown).map_err(|p| ContentError::Io {
        what: p.to_string(),
        error: std::io::Error::other("cannot open the site folder"),
    })?;
    let files = folder_files(config, &folder, label)?;
    swap_in(&config.archived_dir(), label, &files)?;
    Ok(true)
}

/// Every content file of a site folder: `site.toml`, the catalogue, and what is under the
/// content roots, read through the safe open with the build's caps.
fn folder_files(config: &Config, folder: &Folder, label: &str) -> Result<BTreeMap<String, Vec<u8>>, ContentError> {
    let limits = &config.limits;
    let mut files = BTreeMap::new();
    let toml = folder.read("site.toml", limits.max_static_file_bytes).map_err(|e| ContentError::Io {
        what: format!("tenants/{label}/site.toml"),
        error: std::io::Error::other(e),
    })?;
    files.insert("site.toml".to_string(), toml);
    if let Ok(catalogue) = folder.read(submission::CONTENT_FILES[1], limits.max_static_file_bytes) {
        files.insert(submission::CONTENT_FILES[1].to_string(), catalogue);
    }
    for root in CONTENT_ROOTS {
        let (found, _refused) = folder.walk_within(root, limits.max_static_file_bytes, limits.max_site_bytes);
        for f in found {
            files.insert(format!("{root}/{}", f.rel), f.bytes);
        }
    }
    Ok(files)
}

/// The working copy's SHA-256 of each of `paths` of `label` (`None`: absent, a link or not
/// readable, as [`working_copy`] would leave it out), reading those files only. A site
/// folder removed altogether reads as every file deleted.
fn working_hashes<'a>(
    config: &Config,
    label: &str,
    paths: impl IntoIterator<Item = &'a str>,
) -> Result<HashMap<String, Option<String>>, ContentError> {
    let folder = match site_folder(config, label) {
        Ok(f) => Some(f),
        Err(ContentError::NoSite(_)) => None,
        Err(e) => return Err(e),
    };
    let cap = config.limits.max_static_file_bytes;
    Ok(paths
        .into_iter()
        .map(|p| {
            let sha = folder.as_ref().and_then(|f| f.read_path(p, cap).ok()).map(|b| sha256_hex(&b));
            (p.to_string(), sha)
        })
        .collect())
}

/// How the working copy of `label` differs from its published set, path by path.
pub fn changes(registry: &Registry, config: &Config, label: &str) -> Result<Vec<FileChange>, ContentError> {
    let working = working_copy(config, label)?;
    let published = registry.published(label)?;
    Ok(diff_sets(&working, &published))
}

fn diff_sets(working: &BTreeMap<String, Vec<u8>>, published: &BTreeMap<String, String>) -> Vec<FileChange> {
    let hashes: BTreeMap<&str, String> = working.iter().map(|(p, b)| (p.as_str(), sha256_hex(b))).collect();
    let mut paths: Vec<&str> = hashes.keys().copied().chain(published.keys().map(String::as_str)).collect();
    paths.sort_unstable();
    paths.dedup();
    paths
        .into_iter()
        .filter_map(|path| {
            let (w, p) = (hashes.get(path).map(String::as_str), published.get(path).map(String::as_str));
            ChangeKind::between(p, w).map(|change| FileChange {
                path: path.to_string(),
                change,
                sha256: w.map(str::to_string),
                published: p.map(str::to_string),
            })
        })
        .collect()
}

/// One file of a working copy as listed.
#[derive(Debug, Clone, Serialize)]
pub struct WorkingFile {
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// Every file of the working copy of `label`, with its SHA-256 (the `If-Match` value).
pub fn list_files(config: &Config, label: &str) -> Result<Vec<WorkingFile>, ContentError> {
    Ok(working_copy(config, label)?
        .into_iter()
        .map(|(path, bytes)| WorkingFile { sha256: sha256_hex(&bytes), size: bytes.len() as u64, path })
        .collect())
}

fn may_edit(user: &User, label: &str) -> Result<(), ContentError> {
    if user.may_submit(label) {
        return Ok(());
    }
    Err(RegistryError::Refused(submission::Refusal::Forbidden {
        user: user.username.clone(),
        role: user.role.to_string(),
        what: format!("edit the files of {label}"),
    })
    .into())
}

fn site_folder(config: &Config, label: &str) -> Result<Folder, ContentError> {
    let dir = config.tenants_dir.join(label);
    if !dir.join("site.toml").is_file() {
        return Err(ContentError::NoSite(label.to_string()));
    }
    Folder::open(&dir, &format!("tenants/{label}")).map_err(|p| ContentError::Io {
        what: p.to_string(),
        error: std::io::Error::other("cannot open the site folder"),
    })
}

/// The file `path` of the working copy of `label` and its SHA-256.
pub fn read_file(config: &Config, user: &User, label: &str, path: &str) -> Result<(Vec<u8>, String), ContentError> {
    if !(user.may_submit(label) || user.may_review(label)) {
        may_edit(user, label)?;
    }
    submission::check_path(path)?;
    let bytes = site_folder(config, label)?
        .read_path(path, config.limits.max_static_file_bytes)
        .map_err(|e| ContentError::Io { what: format!("tenants/{label}/{path}"), error: std::io::Error::other(e) })?;
    let sha = sha256_hex(&bytes);
    Ok((bytes, sha))
}

/// Whether `if_match` (a SHA-256, `*` for "exists", or `None` for "no check") matches the
/// working copy's `current` version of `path` (`None`: absent).
fn check_if_match(path: &str, if_match: Option<&str>, current: Option<String>) -> Result<(), ContentError> {
    let ok = match if_match.map(|m| m.trim().trim_matches('"')) {
        None => true,
        Some("*") => current.is_some(),
        Some("") | Some("none") => current.is_none(),
        Some(want) => current.as_deref() == Some(want),
    };
    if ok {
        Ok(())
    } else {
        Err(ContentError::Precondition { path: path.to_string(), now: current })
    }
}

fn current_sha(folder: &Folder, path: &str, cap: u64) -> Option<String> {
    folder.read_path(path, cap).ok().map(|b| sha256_hex(&b))
}

/// Write `bytes` as `path` in the working copy of `label` (never through a link), when
/// `if_match` agrees with what is there (412 `precondition_failed` otherwise); the new SHA-256.
pub fn write_file(
    config: &Config,
    user: &User,
    label: &str,
    path: &str,
    bytes: &[u8],
    if_match: Option<&str>,
) -> Result<String, ContentError> {
    may_edit(user, label)?;
    submission::check_path(path)?;
    if bytes.len() as u64 > config.limits.max_static_file_bytes {
        return Err(ContentError::Upload {
            path: path.to_string(),
            why: format!(
                "{} bytes, over [limits] max_static_file_bytes ({})",
                bytes.len(),
                config.limits.max_static_file_bytes
            ),
        });
    }
    let folder = site_folder(config, label)?;
    check_if_match(path, if_match, current_sha(&folder, path, config.limits.max_static_file_bytes))?;
    folder.write_path(path, bytes).map_err(|e| ContentError::Io {
        what: format!("writing tenants/{label}/{path}"),
        error: std::io::Error::other(e),
    })?;
    Ok(sha256_hex(bytes))
}

/// Delete `path` from the working copy of `label` when `if_match` agrees (a change like any
/// other: the published page stays until the deletion is approved).
pub fn delete_file(
    config: &Config,
    user: &User,
    label: &str,
    path: &str,
    if_match: Option<&str>,
) -> Result<(), ContentError> {
    may_edit(user, label)?;
    submission::check_path(path)?;
    if path == "site.toml" {
        return Err(ContentError::Upload { path: path.into(), why: "site.toml cannot be deleted".into() });
    }
    let folder = site_folder(config, label)?;
    let current = current_sha(&folder, path, config.limits.max_static_file_bytes);
    if current.is_none() {
        return Err(ContentError::Precondition { path: path.to_string(), now: None });
    }
    check_if_match(path, if_match, current)?;
    folder.remove_path(path).map_err(|e| ContentError::Io {
        what: format!("deleting tenants/{label}/{path}"),
        error: std::io::Error::other(e),
    })
}

/// What a submission asks for.
pub struct Request<'a> {
    pub label: &'a str,
    /// The paths to submit; empty: every change.
    pub paths: &'a [String],
    pub message: &'a str,
    pub publish_at: Option<&'a str>,
}

/// Submit changes of `req.label` as `user`: refused when the user may not, a path is not a
/// content path, `publish_at` is not a time with an offset, nothing differs, or the site
/// would not build with them (the same problems `cong check` gives).
pub fn submit(
    registry: &mut Registry,
    config: &Config,
    look: &Look,
    user: &User,
    req: &Request,
) -> Result<Submission, ContentError> {
    if !user.may_submit(req.label) {
        return Err(RegistryError::Refused(submission::Refusal::Forbidden {
            user: user.username.clone(),
            role: user.role.to_string(),
            what: format!("submit changes for {}", req.label),
        })
        .into());
    }
    let publish_at = parse_publish_at(req.publish_at)?;
    let files = pick_changes(registry, config, req.label, req.paths)?;
    check_builds(registry, config, look, req.label, &files)?;
    let publish_at = publish_at.as_ref().map(|(s, t)| (s.as_str(), *t));
    Ok(registry.create_submission(&NewSubmission {
        site: req.label,
        author: &user.username,
        message: req.message,
        publish_at,
        files: &files,
        state: State::Submitted,
        reason: None,
    })?)
}

/// Force-publish every change of `label` at once (admin only, with a reason); the
/// submission stays `needs_review` until an approver or the board approves it.
pub fn force_publish(
    registry: &mut Registry,
    config: &Config,
    look: &Look,
    user: &User,
    label: &str,
    reason: Option<&str>,
) -> Result<Submission, ContentError> {
    if !user.is_admin() {
        return Err(RegistryError::Refused(submission::Refusal::Forbidden {
            user: user.username.clone(),
            role: user.role.to_string(),
            what: "force-publish".into(),
        })
        .into());
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty()).ok_or(ContentError::ReasonRequired)?;
    let files = pick_changes(registry, config, label, &[])?;
    check_builds(registry, config, look, label, &files)?;
    let message = format!("force-published: {reason}");
    Ok(registry.create_submission(&NewSubmission {
        site: label,
        author: &user.username,
        message: &message,
        publish_at: None,
        files: &files,
        state: State::NeedsReview,
        reason: Some(reason),
    })?)
}

fn parse_publish_at(at: Option<&str>) -> Result<Option<(String, i64)>, ContentError> {
    match at.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => crate::model::time::parse_rfc3339(s)
            .map(|t| Some((s.to_string(), t)))
            .ok_or_else(|| ContentError::InvalidTime(s.to_string())),
    }
}

/// The changes of `label` restricted to `paths` (all when empty), with the bytes to submit.
fn pick_changes(
    registry: &Registry,
    config: &Config,
    label: &str,
    paths: &[String],
) -> Result<Vec<NewFile>, ContentError> {
    for p in paths {
        submission::check_path(p)?;
    }
    let mut working = working_copy(config, label)?;
    let published = registry.published(label)?;
    let all = diff_sets(&working, &published);
    let picked: Vec<FileChange> = all.into_iter().filter(|c| paths.is_empty() || paths.contains(&c.path)).collect();
    if picked.is_empty() {
        let why = if paths.is_empty() {
            "the working copy is the same as what is published".to_string()
        } else {
            format!("{} the same as published", paths.join(", ") + if paths.len() == 1 { " is" } else { " are" })
        };
        return Err(ContentError::NothingToSubmit { site: label.to_string(), why });
    }
    Ok(picked
        .into_iter()
        .map(|c| NewFile {
            bytes: c.sha256.as_ref().and_then(|_| working.remove(&c.path)),
            path: c.path,
            change: c.change,
            base: c.published,
        })
        .collect())
}

/// The published set of `label` with `files` applied, as path → bytes.
fn candidate(
    registry: &Registry,
    label: &str,
    files: impl IntoIterator<Item = (String, Option<Vec<u8>>)>,
) -> Result<BTreeMap<String, Vec<u8>>, ContentError> {
    let mut set = BTreeMap::new();
    for (path, sha) in registry.published(label)? {
        if let Some(bytes) = registry.blob(&sha)? {
            set.insert(path, bytes);
        }
    }
    for (path, bytes) in files {
        match bytes {
            Some(b) => set.insert(path, b),
            None => set.remove(&path),
        };
    }
    Ok(set)
}

/// Build `files` as site `label` in a scratch folder; the problems name the files as the
/// site folder does (`tenants/<label>/…`).
fn build_candidate(
    config: &Config,
    look: &Look,
    label: &str,
    files: &BTreeMap<String, Vec<u8>>,
) -> Result<BuildOutcome, ContentError> {
    let scratch = Scratch::new(config)?;
    let dir = scratch.path.join(label);
    write_tree(&dir, files)?;
    let outcome = build_site_at(config, &dir, look.themes, look.platform, None, None);
    let shown = site::shown_path(&dir);
    Ok(match outcome {
        BuildOutcome::Failed(problems) => BuildOutcome::Failed(
            problems
                .into_iter()
                .map(|mut p| {
                    if let Some(rest) = p.file.strip_prefix(&shown) {
                        p.file = format!("tenants/{label}{rest}");
                    }
                    p
                })
                .collect(),
        ),
        other => other,
    })
}

fn check_builds(
    registry: &Registry,
    config: &Config,
    look: &Look,
    label: &str,
    files: &[NewFile],
) -> Result<(), ContentError> {
    if registry.member(label)?.is_some_and(|m| m.status == crate::model::member::Status::Archived) {
        return Err(ContentError::Archived(label.to_string()));
    }
    let set = candidate(registry, label, files.iter().map(|f| (f.path.clone(), f.bytes.clone())))?;
    match build_candidate(config, look, label, &set)? {
        BuildOutcome::Built(_) => Ok(()),
        BuildOutcome::Failed(problems) => Err(ContentError::BuildFailed { site: label.to_string(), problems }),
        BuildOutcome::Gone => Err(ContentError::BuildFailed {
            site: label.to_string(),
            problems: vec![Problem::in_file(&format!("tenants/{label}/site.toml"), "the submission deletes site.toml")
                .fix("keep site.toml: a site cannot be served without it")],
        }),
    }
}

/// The site as it would be with submission `id` (or, with `None`, with the whole working
/// copy): for the preview on the admin listener.
pub fn preview(
    registry: &Registry,
    config: &Config,
    look: &Look,
    label: &str,
    id: Option<i64>,
) -> Result<Result<std::sync::Arc<Site>, Vec<Problem>>, ContentError> {
    let set = match id {
        None => working_copy(config, label)?,
        Some(id) => {
            let s = registry.submission(id)?;
            if s.site != label {
                return Err(RegistryError::NoSubmission { id }.into());
            }
            let mut files = Vec::new();
            for f in s.files {
                let bytes = match &f.sha256 {
                    Some(sha) => registry.blob(sha)?,
                    None => None,
                };
                files.push((f.path, bytes));
            }
            candidate(registry, label, files)?
        }
    };
    Ok(match build_candidate(config, look, label, &set)? {
        BuildOutcome::Built(site) => Ok(site),
        BuildOutcome::Failed(problems) => Err(problems),
        BuildOutcome::Gone => Err(vec![Problem::in_file(&format!("tenants/{label}/site.toml"), "no site.toml")]),
    })
}

/// Decide submission `id` as `user`; approving checks the working copy has not changed since.
pub fn decide(
    registry: &mut Registry,
    config: &Config,
    user: &User,
    id: i64,
    action: Action,
    reason: Option<&str>,
) -> Result<Submission, ContentError> {
    let s = registry.submission(id)?;
    let working = working_hashes(config, &s.site, s.files.iter().map(|f| f.path.as_str()))?;
    let now = i64::try_from(crate::model::time::now_secs()).unwrap_or(i64::MAX);
    Ok(registry.decide(id, user, action, reason.map(str::trim).filter(|r| !r.is_empty()), &working, now)?)
}

/// The first path of `s` that changed since it was submitted (in the working copy, or in the
/// published set), which makes approving it answer `stale`; `None` when none did.
pub fn stale_path(registry: &Registry, config: &Config, s: &Submission) -> Result<Option<String>, ContentError> {
    let working = working_hashes(config, &s.site, s.files.iter().map(|f| f.path.as_str()))?;
    let published = registry.published(&s.site)?;
    Ok(s.files
        .iter()
        .find(|f| working[&f.path] != f.sha256 || published.get(&f.path) != f.base_sha256.as_ref())
        .map(|f| f.path.clone()))
}

/// One file of a submission as a reviewer reads it.
#[derive(Debug, Clone, Serialize)]
pub struct FileDiff {
    pub path: String,
    pub change: ChangeKind,
    pub size_before: Option<u64>,
    pub size_after: Option<u64>,
    /// A unified line diff for text files; `None` for binary ones (compare the sizes).
    pub diff: Option<String>,
}

/// The line diff of each text file of `s`, the sizes of binary ones.
pub fn diffs(registry: &Registry, s: &Submission) -> Result<Vec<FileDiff>, ContentError> {
    let mut out = Vec::new();
    for f in &s.files {
        let before = f.base_sha256.as_deref().map(|h| registry.blob(h)).transpose()?.flatten();
        let after = f.sha256.as_deref().map(|h| registry.blob(h)).transpose()?.flatten();
        let text = |b: &Option<Vec<u8>>| match b {
            None => Some(String::new()),
            Some(bytes) if !bytes.contains(&0) => String::from_utf8(bytes.clone()).ok(),
            Some(_) => None,
        };
        let diff = match (text(&before), text(&after)) {
            (Some(a), Some(b)) => Some(
                similar::TextDiff::from_lines(&a, &b)
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{}", f.path), &format!("b/{}", f.path))
                    .to_string(),
            ),
            _ => None,
        };
        out.push(FileDiff {
            path: f.path.clone(),
            change: f.change,
            size_before: before.as_ref().map(|b| b.len() as u64),
            size_after: after.as_ref().map(|b| b.len() as u64),
            diff,
        });
    }
    Ok(out)
}

/// The name of the file inside a written-out published set that says which publication it
/// is (hidden, so the build never reads it as content).
const GENERATION_FILE: &str = ".generation";

/// Which publication of `label` is written out under `data/published/`, if any.
pub fn written_generation(config: &Config, label: &str) -> Option<i64> {
    let path = config.published_dir().join(label).join(GENERATION_FILE);
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Write every published set whose folder is not its latest publication; returns the
/// sites written (to be rebuilt). `known` remembers what was written, so a poll costs one
/// query and no file reads when nothing changed.
pub fn write_published(
    registry: &Registry,
    config: &Config,
    known: &mut HashMap<String, i64>,
) -> Result<Vec<String>, ContentError> {
    let mut written = Vec::new();
    for (label, generation) in registry.publications()? {
        if known.get(&label) == Some(&generation) {
            continue;
        }
        if written_generation(config, &label) != Some(generation) {
            let mut files = BTreeMap::new();
            for (path, sha) in registry.published(&label)? {
                if let Some(bytes) = registry.blob(&sha)? {
                    files.insert(path, bytes);
                }
            }
            files.insert(GENERATION_FILE.to_string(), generation.to_string().into_bytes());
            swap_in(&config.published_dir(), &label, &files)?;
            written.push(label.clone());
        }
        known.insert(label, generation);
    }
    Ok(written)
}

/// Publish the scheduled submissions whose time has come and write out what changed since
/// `known`; the sites to rebuild. The registry follower calls this on every poll.
pub fn catch_up(
    registry: &mut Registry,
    config: &Config,
    known: &mut HashMap<String, i64>,
) -> Result<Vec<String>, ContentError> {
    let now = i64::try_from(crate::model::time::now_secs()).unwrap_or(i64::MAX);
    registry.publish_due(now)?;
    write_published(registry, config, known)
}

/// Write `files` as `root/<label>` in one step: into a hidden folder beside it, then
/// exchanged with the old folder (`renameat2(RENAME_EXCHANGE)`), so a build sees the old set
/// or the new one, never a mix; the old one is removed after.
fn swap_in(root: &Path, label: &str, files: &BTreeMap<String, Vec<u8>>) -> Result<(), ContentError> {
    std::fs::create_dir_all(root).map_err(io(format!("creating {}", root.display())))?;
    let fresh = root.join(format!(".{label}.{}.new", std::process::id()));
    let _ = std::fs::remove_dir_all(&fresh);
    write_tree(&fresh, files)?;
    let dest = root.join(label);
    if dest.is_dir() {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        renameat_with(CWD, &fresh, CWD, &dest, RenameFlags::EXCHANGE)
            .map_err(|e| ContentError::Io { what: format!("swapping in {}", dest.display()), error: e.into() })?;
        std::fs::remove_dir_all(&fresh).map_err(io(format!("removing the old {}", dest.display())))?;
    } else {
        std::fs::rename(&fresh, &dest).map_err(io(format!("moving {} into place", dest.display())))?;
    }
    Ok(())
}

/// Write `files` (path → bytes, paths checked) under `dir`.
fn write_tree(dir: &Path, files: &BTreeMap<String, Vec<u8>>) -> Result<(), ContentError> {
    std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    for (path, bytes) in files {
        if path != GENERATION_FILE {
            submission::check_path(path)?;
        }
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
        }
        std::fs::write(&target, bytes).map_err(io(format!("writing {}", target.display())))?;
    }
    Ok(())
}

/// A scratch folder under `data/tmp/`, removed when dropped.
struct Scratch {
    path: PathBuf,
}

impl Scratch {
    fn new(config: &Config) -> Result<Scratch, ContentError> {
        let base = config.data_dir.join("tmp");
        std::fs::create_dir_all(&base).map_err(io(format!("creating {}", base.display())))?;
        let path = base.join(crate::store::secrets::hex(&crate::store::secrets::random_bytes::<8>()));
        std::fs::create_dir(&path).map_err(io(format!("creating {}", path.display())))?;
        Ok(Scratch { path })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// At start: take every site folder in as its published set once (a fresh data folder, or
/// the first start with approval on of a registry with members), then write out every
/// published set that is not written yet. A lost registry imports nothing: the working
/// copies may hold what nobody approved.
pub fn start(registry: &mut Registry, config: &Config) -> Result<(), ContentError> {
    use crate::store::registry::Found;
    let _ = std::fs::remove_dir_all(config.data_dir.join("tmp"));
    let fresh = match registry.found()? {
        Found::Fresh => Some(true),
        Found::Members => Some(false),
        Found::Lost { .. } => None,
    };
    // With approval off nothing is built from published sets; they are taken in when it is
    // first turned on, from the folders as they are then.
    let wanted = config.publishing.approval_required && !registry.publishing_started()?;
    if let Some(fresh) = fresh.filter(|_| wanted) {
        let mut sites = BTreeMap::new();
        for label in site::list_folders(&config.tenants_dir) {
            match working_copy(config, &label) {
                Ok(files) => {
                    sites.insert(label, files.into_iter().collect::<Vec<_>>());
                }
                Err(e) => tracing::warn!("tenants/{}: not published: {e}", crate::model::escape::Escaped(&label)),
            }
        }
        let reason = if fresh { "imported demo" } else { "approval turned on: published as the folders were" };
        registry.import_published(&sites, "cong serve (first start)", reason)?;
        tracing::info!("published {} site folder(s) as they are ({reason})", sites.len());
    }
    write_published(registry, config, &mut HashMap::new())?;
    Ok(())
}
