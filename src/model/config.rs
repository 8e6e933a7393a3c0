//! `cong.toml`: raw serde structs (every key defaulted, unknown keys rejected), validated
//! into [`Config`]. A pure [`parse`] plus [`Config::from_file`]; errors name file, line and key.

use crate::model::problem::Problem;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A configuration problem: file, line, key, message and fix; people read it as
/// `cong.toml:4:1: unknown field ...` (see [`Problem`]).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub Box<Problem>);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Raw {
    platform: RawPlatform,
    paths: RawPaths,
    http: RawHttp,
    https: RawHttps,
    acme: RawAcme,
    admin: RawAdmin,
    dns: RawDns,
    limits: Limits,
    reload: RawReload,
    publishing: RawPublishing,
    feedback: RawFeedback,
    log: RawLog,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawLog {
    format: String,
    access: bool,
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog { format: "text".into(), access: true }
    }
}

/// `[log]`: how log lines are written and whether each request gets one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Log {
    /// `format = "json"`: one JSON object per line; `"text"`: lines for people.
    pub json: bool,
    /// `access`: one line per request (target `cong::access`).
    pub access: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawFeedback {
    retain_personal_days: u64,
}

impl Default for RawFeedback {
    fn default() -> Self {
        RawFeedback { retain_personal_days: 1825 }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawPlatform {
    zone: String,
    name_vi: String,
    name_en: String,
    addresses: Vec<String>,
    cname_target: Option<String>,
    reserved: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawPaths {
    tenants: PathBuf,
    themes: PathBuf,
    certs: PathBuf,
    data: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawHttp {
    listen: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawHttps {
    listen: String,
    tls: String,
    /// The port clients reach HTTPS on, for `http://` → `https://` redirects (behind port
    /// forwarding); default: the port of `listen`. 443 is left out of URLs.
    public_port: Option<u16>,
}

#[derive(Debug, Deserialize, Clone, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RawAcme {
    /// ACME directory URL.
    pub directory: String,
    /// `mailto:` contacts for the ACME account.
    pub contact: Vec<String>,
    /// Extra PEM root to trust for the ACME server's own HTTPS (test CAs), besides the
    /// public roots: a file (relative to the config file) or inline PEM; empty: none.
    pub ca_root: String,
    /// Challenge to answer: "http-01" (HTTP listener, port 80) or "tls-alpn-01" (HTTPS
    /// listener, port 443); the other is used when the CA does not offer this one.
    pub challenge: String,
    /// Seconds between checks for certificates to issue or renew (registry changes and
    /// `cong cert renew` are picked up within a second regardless).
    pub renew_check_secs: u64,
    /// Most new orders per minute, all names together (CA rate limits).
    pub orders_per_minute: u32,
    /// First back-off after a failed order, doubled per failure in a row.
    pub retry_min_secs: u64,
    /// Longest back-off between attempts for one name.
    pub retry_max_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawAdmin {
    listen: String,
    token_env: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawDns {
    resolvers: Vec<String>,
    caa_issuers: Vec<String>,
    check_interval_secs: u64,
    allow_private: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawPublishing {
    approval: Option<String>,
    exempt: Vec<String>,
}

/// `[publishing]`: whether what a site folder holds is served only once approved
/// (docs/publishing.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publishing {
    /// `approval = "required"` (the default): sites are served from their published sets.
    pub approval_required: bool,
    /// Sites served straight from their folders even so.
    pub exempt: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawReload {
    debounce_ms: u64,
    registry_poll_ms: u64,
}

/// Protective limits on the listeners (a hostile client must not hurt others).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Seconds a client has to send its whole request head (slowloris), on every listener;
    /// also the deadline for a new connection's first request.
    pub header_read_timeout_secs: u64,
    /// Largest request head in bytes; larger gets 431.
    pub max_header_bytes: usize,
    /// Most header fields in one request; more gets 431.
    pub max_headers: usize,
    /// Largest request body in bytes on the public listeners (413 beyond).
    pub max_body_bytes: u64,
    /// Largest request body in bytes on the admin API (413 beyond).
    pub max_admin_body_bytes: u64,
    /// Seconds an idle keep-alive connection is kept open.
    pub idle_timeout_secs: u64,
    /// Most open connections per public listener (HTTP, HTTPS); further ones wait in the
    /// kernel backlog. Lowered at start when the open-file limit cannot hold it.
    pub max_connections: usize,
    /// Most open connections on the admin listener, its own small ceiling so that clients
    /// of the admin port never use up what the public listeners need.
    pub admin_max_connections: usize,
    /// Most concurrent HTTP/2 streams per connection.
    pub h2_max_concurrent_streams: u32,
    /// Most HTTP/2 streams a client may reset before the connection is closed.
    pub h2_max_pending_reset_streams: usize,
    /// Budget of one site build: template fuel (minijinja instructions) per rendered page;
    /// 0 turns the fuel off (only for trusted templates).
    pub build_fuel: u64,
    /// Budget of one site build: the largest rendered page, in bytes.
    pub max_page_bytes: u64,
    /// Budget of one site build: the largest file in `static/`, in bytes.
    pub max_static_file_bytes: u64,
    /// Budget of one site build: every page and file of a site together, in bytes.
    pub max_site_bytes: u64,
    /// Static files larger than this many bytes stay on disk and are streamed (with byte
    /// ranges) instead of held in memory.
    pub stream_static_over_bytes: u64,
    /// Budget of one site build: seconds of wall-clock time; past it the build stops with
    /// an error and the last good version stays online.
    pub build_deadline_secs: u64,
}

/// What one site build may use (from `[limits]`); over any of it is that site's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub fuel: u64,
    pub max_page_bytes: u64,
    pub max_static_file_bytes: u64,
    pub max_site_bytes: u64,
    pub stream_static_over_bytes: u64,
    pub deadline: std::time::Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Limits::default().budget()
    }
}

impl Limits {
    /// The site build budget these limits set.
    pub fn budget(&self) -> Budget {
        Budget {
            fuel: self.build_fuel,
            max_page_bytes: self.max_page_bytes,
            max_static_file_bytes: self.max_static_file_bytes,
            max_site_bytes: self.max_site_bytes,
            stream_static_over_bytes: self.stream_static_over_bytes,
            deadline: std::time::Duration::from_secs(self.build_deadline_secs.max(1)),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout_secs: 10,
            max_header_bytes: 16 * 1024,
            max_headers: 64,
            max_body_bytes: 64 * 1024,
            max_admin_body_bytes: 64 * 1024,
            idle_timeout_secs: 60,
            max_connections: 10_000,
            admin_max_connections: 64,
            h2_max_concurrent_streams: 128,
            h2_max_pending_reset_streams: 32,
            build_fuel: 20_000_000,
            max_page_bytes: 8 << 20,
            max_static_file_bytes: 64 << 20,
            max_site_bytes: 1 << 30,
            stream_static_over_bytes: 1 << 20,
            build_deadline_secs: 120,
        }
    }
}

impl Default for RawPlatform {
    fn default() -> Self {
        RawPlatform {
            zone: "mic.gov.vn".into(),
            name_vi: "Bộ Thông tin và Truyền thông".into(),
            name_en: "Ministry of Information and Communications".into(),
            addresses: vec!["127.0.0.1".into()],
            cname_target: Some("portal.mic.gov.vn".into()),
            reserved: Vec::new(),
        }
    }
}

impl Default for RawPaths {
    fn default() -> Self {
        RawPaths { tenants: "tenants".into(), themes: "themes".into(), certs: "certs".into(), data: "data".into() }
    }
}

impl Default for RawHttp {
    fn default() -> Self {
        RawHttp { listen: "127.0.0.1:8080".into() }
    }
}

impl Default for RawHttps {
    fn default() -> Self {
        RawHttps { listen: "127.0.0.1:8443".into(), tls: "off".into(), public_port: None }
    }
}

impl Default for RawAcme {
    fn default() -> Self {
        RawAcme {
            directory: "https://acme-v02.api.letsencrypt.org/directory".into(),
            contact: Vec::new(),
            ca_root: String::new(),
            challenge: "http-01".into(),
            renew_check_secs: 3600,
            orders_per_minute: 10,
            retry_min_secs: 60,
            retry_max_secs: 6 * 3600,
        }
    }
}

impl Default for RawAdmin {
    fn default() -> Self {
        RawAdmin { listen: "127.0.0.1:9090".into(), token_env: "CONG_ADMIN_TOKEN".into() }
    }
}

impl Default for RawDns {
    fn default() -> Self {
        RawDns {
            resolvers: Vec::new(),
            caa_issuers: vec!["letsencrypt.org".into()],
            check_interval_secs: 6 * 3600,
            allow_private: false,
        }
    }
}

impl Default for RawReload {
    fn default() -> Self {
        RawReload { debounce_ms: 200, registry_poll_ms: 250 }
    }
}

/// How the HTTPS listener gets its certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Off,
    Internal,
    Acme,
}

/// The platform itself: its zone and names.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Platform {
    /// The zone members live under (`mic.gov.vn`), lower-case, no trailing dot.
    pub zone: String,
    pub name_vi: String,
    pub name_en: String,
    /// Where shared members' names must point (DNS check).
    pub addresses: Vec<String>,
    /// A name shared members may CNAME to instead.
    pub cname_target: Option<String>,
    /// Labels reserved on top of the built-in list.
    pub reserved: Vec<String>,
}

/// Validated configuration: every path absolute, every address parsed.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this came from; `None` for the built-in defaults.
    pub source: Option<PathBuf>,
    pub platform: Platform,
    pub tenants_dir: PathBuf,
    pub themes_dir: PathBuf,
    pub certs_dir: PathBuf,
    pub data_dir: PathBuf,
    pub http_listen: SocketAddr,
    pub https_listen: SocketAddr,
    /// `[https] public_port`: the port in `https://` redirects; `None`: the listener's.
    pub https_public_port: Option<u16>,
    pub tls: TlsMode,
    pub acme: RawAcme,
    pub admin_listen: SocketAddr,
    pub admin_token_env: String,
    /// The admin API's bearer token. Never read from the file: the command line reads the
    /// environment variable `admin_token_env` once, at start, and sets it here.
    pub admin_token: Option<String>,
    pub dns_resolvers: Vec<SocketAddr>,
    pub caa_issuers: Vec<String>,
    pub dns_check_interval_secs: u64,
    pub dns_allow_private: bool,
    pub limits: Limits,
    pub debounce_ms: u64,
    pub registry_poll_ms: u64,
    pub publishing: Publishing,
    /// `[feedback] retain_personal_days`: how long after an item is closed its sender's name,
    /// e-mail and phone are kept.
    pub retain_personal_days: u64,
    pub log: Log,
    /// Keep each served site's build under `data/cache/` and take it from there while its
    /// inputs are the same (content::site::cache). Not a `cong.toml` key: true for a
    /// server, false for `cong check`, which writes nothing.
    pub build_cache: bool,
}

impl Config {
    /// Whether `label` is served from its published set (approval applies) rather than
    /// straight from its folder.
    pub fn approval_applies(&self, label: &str) -> bool {
        self.publishing.approval_required && !self.publishing.exempt.iter().any(|e| e == label)
    }

    /// Where the published sets are written out as folders, one per site.
    pub fn published_dir(&self) -> PathBuf {
        self.data_dir.join("published")
    }

    /// Where the build of `label` is kept, when the build cache is on.
    pub fn build_cache_file(&self, label: &str) -> Option<PathBuf> {
        self.build_cache.then(|| self.data_dir.join("cache").join(format!("{label}.site")))
    }

    /// Where archived members' sites are kept, one frozen copy per label (written when
    /// the member is archived, never after).
    pub fn archived_dir(&self) -> PathBuf {
        self.data_dir.join("archived")
    }

    /// The folder `label` is built from: its frozen copy once archived, else its published
    /// set when approval applies, else its site folder (the working copy).
    pub fn site_source(&self, label: &str) -> PathBuf {
        // An archived member is served as it was when archived, whatever happens after.
        let archived = self.archived_dir().join(label);
        if archived.join("site.toml").is_file() {
            return archived;
        }
        if self.approval_applies(label) {
            self.published_dir().join(label)
        } else {
            self.tenants_dir.join(label)
        }
    }

    /// Read and validate `path`; relative paths inside resolve against its folder.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError(Box::new(Problem::in_file(&path.display().to_string(), format!("cannot read: {e}"))))
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = if base.as_os_str().is_empty() { PathBuf::from(".") } else { base };
        // Absolute, so messages can show paths relative to where the user stands.
        let base = base.canonicalize().unwrap_or(base);
        let mut config = parse(&text, &path.display().to_string(), &base)?;
        config.source = Some(path.to_path_buf());
        Ok(config)
    }

    /// `--config FILE`, else `./cong.toml` where it exists, else the built-in defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        match explicit {
            Some(path) => Config::from_file(path),
            None if Path::new("cong.toml").exists() => Config::from_file(Path::new("cong.toml")),
            None => {
                let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
                parse("", "(defaults)", &cwd)
            }
        }
    }

    /// The registry database file.
    pub fn registry_path(&self) -> PathBuf {
        self.data_dir.join("registry.db")
    }

    /// The keys that differ between the running configuration and `new` and that only a
    /// restart applies: listeners, paths, the zone and what is read once at start-up. The
    /// platform's display names (`[platform] name_vi`, `name_en`) apply on SIGHUP.
    pub fn restart_needed(&self, new: &Config) -> Vec<&'static str> {
        let (a, b) = (self, new);
        let keys: [(&'static str, bool); 25] = [
            ("[platform] zone", a.platform.zone == b.platform.zone),
            ("[platform] addresses", a.platform.addresses == b.platform.addresses),
            ("[platform] cname_target", a.platform.cname_target == b.platform.cname_target),
            ("[platform] reserved", a.platform.reserved == b.platform.reserved),
            ("[paths] tenants", a.tenants_dir == b.tenants_dir),
            ("[paths] themes", a.themes_dir == b.themes_dir),
            ("[paths] certs", a.certs_dir == b.certs_dir),
            ("[paths] data", a.data_dir == b.data_dir),
            ("[http] listen", a.http_listen == b.http_listen),
            ("[https] listen", a.https_listen == b.https_listen),
            ("[https] public_port", a.https_public_port == b.https_public_port),
            ("[https] tls", a.tls == b.tls),
            ("[acme]", a.acme == b.acme),
            ("[admin] listen", a.admin_listen == b.admin_listen),
            ("[admin] token_env", a.admin_token_env == b.admin_token_env),
            ("[dns] resolvers", a.dns_resolvers == b.dns_resolvers),
            ("[dns] caa_issuers", a.caa_issuers == b.caa_issuers),
            ("[dns] check_interval_secs", a.dns_check_interval_secs == b.dns_check_interval_secs),
            ("[dns] allow_private", a.dns_allow_private == b.dns_allow_private),
            ("[limits]", a.limits == b.limits),
            ("[reload] debounce_ms", a.debounce_ms == b.debounce_ms),
            ("[reload] registry_poll_ms", a.registry_poll_ms == b.registry_poll_ms),
            ("[publishing]", a.publishing == b.publishing),
            ("[feedback] retain_personal_days", a.retain_personal_days == b.retain_personal_days),
            ("[log]", a.log == b.log),
        ];
        keys.into_iter().filter(|(_, same)| !same).map(|(key, _)| key).collect()
    }
}

/// Parse and validate config text; `file` names it in messages, `base` anchors relative paths.
pub fn parse(text: &str, file: &str, base: &Path) -> Result<Config, ConfigError> {
    let raw: Raw = toml::from_str(text).map_err(|e| ConfigError(Box::new(toml_problem(file, text, &e, 0))))?;
    validate(raw, text, file, base)
}

fn validate(raw: Raw, text: &str, file: &str, base: &Path) -> Result<Config, ConfigError> {
    let bad = |key: &str, msg: String| {
        let key = format!("[{key}");
        let problem = Problem::in_file(file, msg).key(&key);
        // Point at the line where the key is set, when it is set in the file.
        let problem = match section_key_line(text, &key) {
            Some(line) => problem.at(line, 1),
            None => problem,
        };
        ConfigError(Box::new(problem))
    };
    let zone = raw.platform.zone.trim().trim_end_matches('.').to_ascii_lowercase();
    if !crate::model::naming::is_valid_hostname(&zone) {
        return Err(bad(
            "platform] zone",
            format!("\"{zone}\" is not a valid DNS zone (expected e.g. \"mic.gov.vn\")"),
        ));
    }
    let addr = |key: &str, v: &str| -> Result<SocketAddr, ConfigError> {
        v.parse().map_err(|_| bad(key, format!("\"{v}\" is not an address:port (e.g. \"127.0.0.1:8080\")")))
    };
    if !matches!(raw.acme.challenge.as_str(), "http-01" | "tls-alpn-01") {
        let c = &raw.acme.challenge;
        return Err(bad("acme] challenge", format!("\"{c}\" is not one of \"http-01\", \"tls-alpn-01\"")));
    }
    let tls = match raw.https.tls.as_str() {
        "off" => TlsMode::Off,
        "internal" => TlsMode::Internal,
        "acme" => TlsMode::Acme,
        other => return Err(bad("https] tls", format!("\"{other}\" is not one of \"off\", \"internal\", \"acme\""))),
    };
    let mut dns_resolvers = Vec::new();
    for r in &raw.dns.resolvers {
        dns_resolvers.push(addr("dns] resolvers", r)?);
    }
    let approval_required = match raw.publishing.approval.as_deref() {
        None | Some("required") => true,
        Some("off") => false,
        Some(other) => {
            return Err(bad("publishing] approval", format!("\"{other}\" is not one of \"required\", \"off\"")))
        }
    };
    for label in &raw.publishing.exempt {
        if label.is_empty() || !label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(bad("publishing] exempt", format!("\"{label}\" is not a site label (a-z, 0-9 and '-')")));
        }
    }
    let json = match raw.log.format.as_str() {
        "text" => false,
        "json" => true,
        other => return Err(bad("log] format", format!("\"{other}\" is not one of \"text\", \"json\""))),
    };
    let abs = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
    Ok(Config {
        source: None,
        platform: Platform {
            zone,
            name_vi: raw.platform.name_vi,
            name_en: raw.platform.name_en,
            addresses: raw.platform.addresses,
            cname_target: raw.platform.cname_target.filter(|s| !s.is_empty()),
            reserved: raw.platform.reserved.iter().map(|s| s.to_ascii_lowercase()).collect(),
        },
        tenants_dir: abs(&raw.paths.tenants),
        themes_dir: abs(&raw.paths.themes),
        certs_dir: abs(&raw.paths.certs),
        data_dir: abs(&raw.paths.data),
        http_listen: addr("http] listen", &raw.http.listen)?,
        https_listen: addr("https] listen", &raw.https.listen)?,
        https_public_port: raw.https.public_port,
        tls,
        acme: raw.acme,
        admin_listen: addr("admin] listen", &raw.admin.listen)?,
        admin_token_env: raw.admin.token_env,
        admin_token: None,
        dns_resolvers,
        caa_issuers: raw.dns.caa_issuers,
        dns_check_interval_secs: raw.dns.check_interval_secs,
        dns_allow_private: raw.dns.allow_private,
        limits: raw.limits,
        debounce_ms: raw.reload.debounce_ms,
        registry_poll_ms: raw.reload.registry_poll_ms.max(10),
        publishing: Publishing { approval_required, exempt: raw.publishing.exempt },
        retain_personal_days: raw.feedback.retain_personal_days,
        log: Log { json, access: raw.log.access },
        build_cache: true,
    })
}

/// Phrase a TOML error as `file:line:col: message`, with "did you mean" for unknown keys.
/// `line_offset` is added to the line (front matter starts below the `+++` line).
pub fn toml_error(file: &str, src: &str, err: &toml::de::Error, line_offset: usize) -> String {
    toml_problem(file, src, err, line_offset).to_string()
}

/// A TOML error as a [`Problem`] at its line and column, with "did you mean" as the fix.
pub fn toml_problem(file: &str, src: &str, err: &toml::de::Error, line_offset: usize) -> Problem {
    let (line, col) = match err.span() {
        Some(span) => line_col(src, span.start),
        None => (1, 1),
    };
    let message = err.message().trim().to_string();
    let hint = unknown_key_hint(&message);
    let problem = Problem::in_file(file, message).at(line + line_offset, col);
    match hint {
        Some(hint) => problem.fix(hint),
        None => problem,
    }
}

/// The 1-based line where `[section] key` is set in `text`, when it is.
fn section_key_line(text: &str, key: &str) -> Option<usize> {
    let (section, key) = key.strip_prefix('[')?.split_once("] ")?;
    let mut inside = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line.trim_start_matches('[').trim_end_matches(']').trim() == section;
        } else if inside && line.split('=').next().is_some_and(|k| k.trim() == key) {
            return Some(n + 1);
        }
    }
    None
}

/// 1-based line and column of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// serde says "unknown field `thme`, expected one of `a`, `b`"; turn that into a suggestion.
fn unknown_key_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (key, rest) = rest.split_once('`')?;
    let candidates: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    let best = candidates
        .iter()
        .map(|c| (edit_distance(key, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)?;
    Some(format!("did you mean \"{}\"?", best.1))
}

/// Levenshtein distance, for "did you mean" hints.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_names_the_changed_keys_that_need_a_restart() {
        let base = Path::new("/srv/cong");
        let old = parse("[platform]\nname_vi = \"A\"\n", "cong.toml", base).unwrap();
        let names_only = parse("[platform]\nname_vi = \"B\"\nname_en = \"B\"\n", "cong.toml", base).unwrap();
        assert_eq!(old.restart_needed(&names_only), Vec::<&str>::new(), "display names apply on SIGHUP");
        let text = "[platform]\nzone = \"mst.gov.vn\"\n[http]\nlisten = \"127.0.0.1:9999\"\n\
                    [limits]\nmax_headers = 10\n[reload]\ndebounce_ms = 5\n[paths]\ntenants = \"t\"\n";
        let new = parse(text, "cong.toml", base).unwrap();
        assert_eq!(
            old.restart_needed(&new),
            ["[platform] zone", "[paths] tenants", "[http] listen", "[limits]", "[reload] debounce_ms"]
        );
    }

    #[test]
    fn empty_text_gives_the_documented_defaults() {
        let c = parse("", "cong.toml", Path::new("/srv/cong")).unwrap();
        assert_eq!(c.platform.zone, "mic.gov.vn");
        assert_eq!(c.http_listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.tenants_dir, Path::new("/srv/cong/tenants"));
        assert_eq!(c.tls, TlsMode::Off);
        assert_eq!(c.admin_token_env, "CONG_ADMIN_TOKEN");
        assert_eq!(c.registry_path(), Path::new("/srv/cong/data/registry.db"));
    }

    #[test]
    fn unknown_key_names_file_line_and_suggestion() {
        let text = "[platform]\nzone = \"hanoi.gov.vn\"\n\n[http]\nlisten = \"127.0.0.1:1\"\nlisen = 3\n";
        let problem = parse(text, "cong.toml", Path::new(".")).unwrap_err().0;
        assert_eq!((problem.file.as_str(), problem.line, problem.column), ("cong.toml", Some(6), Some(1)));
        assert_eq!(problem.fix.as_deref(), Some("did you mean \"listen\"?"));
        let err = problem.to_string();
        assert!(err.starts_with("cong.toml:6:1: unknown field `lisen`"), "{err}");
        assert!(err.ends_with("(did you mean \"listen\"?)"), "{err}");
    }

    #[test]
    fn unknown_section_is_rejected() {
        let err = parse("[htp]\n", "c.toml", Path::new(".")).unwrap_err().0.to_string();
        assert!(err.contains("c.toml:1:") && err.contains("did you mean \"http\""), "{err}");
    }

    #[test]
    fn bad_values_name_the_key() {
        let err = parse("[https]\ntls = \"yes\"\n", "c.toml", Path::new(".")).unwrap_err().0.to_string();
        assert!(err.contains("[https] tls") && err.contains("\"acme\""), "{err}");
        let problem = parse("# listeners\n[http]\nlisten = \"nowhere\"\n", "c.toml", Path::new(".")).unwrap_err().0;
        assert_eq!((problem.key.as_deref(), problem.line), (Some("[http] listen"), Some(3)), "{problem}");
        assert!(problem.to_string().starts_with("c.toml:3:1: [http] listen: \"nowhere\""), "{problem}");
        let err = parse("[platform]\nzone = \"bad zone\"\n", "c.toml", Path::new(".")).unwrap_err().0.to_string();
        assert!(err.contains("[platform] zone"), "{err}");
        // A bad default is not on any line of the file: the key alone says where.
        let problem = parse("", "c.toml", Path::new(".")).map(|_| ()).err();
        assert!(problem.is_none(), "the defaults are valid");
    }

    #[test]
    fn zone_is_normalised() {
        let c = parse("[platform]\nzone = \"HaNoi.gov.vn.\"\n", "c", Path::new(".")).unwrap();
        assert_eq!(c.platform.zone, "hanoi.gov.vn");
    }

    #[test]
    fn edit_distance_table() {
        for (a, b, d) in [("thme", "theme", 1), ("", "abc", 3), ("listen", "listen", 0), ("kitten", "sitting", 3)] {
            assert_eq!(edit_distance(a, b), d, "{a} {b}");
        }
    }
}
