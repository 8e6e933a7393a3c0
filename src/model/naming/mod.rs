//! Naming rules for fourth-level names (docs/naming.md): decides whether a proposed
//! `ais.mic.gov.vn` may be registered. Used by `cong name check`, member registration, the
//! admin API and `cong check`; pure functions over a [`NameIndex`], no I/O. Every other
//! name a member carries (aliases, `canonical`, servers) and its text are judged with the
//! label in `member.rs` ([`check_member`], through `Names::validate`).

mod member;
mod text;

pub use member::{check_member, check_text};

pub use text::{is_abbreviation, is_valid_hostname, normalize, strip_diacritics};

use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use text::{is_combining, vn_base, Pattern};

/// Labels no member may take, besides `ns1`..`ns9`, the zone's own first label and the
/// labels added in config (docs/naming.md).
const RESERVED: &str = "www mail smtp imap pop ftp ns dns mx admin api portal cong dichvucong \
    english m static cdn acme autoconfig autodiscover localhost test example";

/// DNS limits (RFC 1035): a label, and a whole name without the root dot.
const MAX_LABEL: usize = 63;
const MAX_NAME: usize = 253;
/// One-letter labels read as typos and say nothing about the unit.
const MIN_LABEL: usize = 2;

/// Stable codes of docs/naming.md; serialised snake_case ("wrong_zone").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// Nothing given.
    Empty,
    /// A full name not under the platform zone.
    WrongZone,
    /// Not exactly one label directly under the zone.
    NotFourthLevel,
    /// Vietnamese letters with diacritics, or `đ`.
    Diacritics,
    /// Anything but a-z, 0-9 and `-`.
    InvalidChars,
    /// Leading or trailing `-`.
    HyphenEdge,
    /// `--` anywhere, which also rejects `xn--` IDN labels.
    DoubleHyphen,
    /// Label over 63 characters, or the full name over 253.
    TooLong,
    /// Label under 2 characters.
    TooShort,
    /// A reserved label.
    Reserved,
    /// The label belongs to another member.
    Taken,
    /// An own domain that is not a valid hostname.
    OwnDomainInvalid,
    /// An own domain inside the platform zone.
    OwnDomainInZone,
    /// An own domain that another member holds.
    OwnDomainTaken,
    /// `canonical` is not the member's fourth-level name nor one of its own domains.
    CanonicalNotOwn,
    /// A server that is neither an IP address nor a valid hostname.
    ServerInvalid,
    /// A text field (the unit's names, a reason) holds a control character.
    ControlChars,
    /// Warning: the label abbreviates neither the Vietnamese nor the English name.
    NotAbbreviation,
    /// Warning: the label differs from a registered or reserved one only by look-alikes.
    Confusable,
    /// Warning: the label is all digits.
    Numeric,
}

impl Code {
    /// The stable snake_case code, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Empty => "empty",
            Code::WrongZone => "wrong_zone",
            Code::NotFourthLevel => "not_fourth_level",
            Code::Diacritics => "diacritics",
            Code::InvalidChars => "invalid_chars",
            Code::HyphenEdge => "hyphen_edge",
            Code::DoubleHyphen => "double_hyphen",
            Code::TooLong => "too_long",
            Code::TooShort => "too_short",
            Code::Reserved => "reserved",
            Code::Taken => "taken",
            Code::OwnDomainInvalid => "own_domain_invalid",
            Code::OwnDomainInZone => "own_domain_in_zone",
            Code::OwnDomainTaken => "own_domain_taken",
            Code::CanonicalNotOwn => "canonical_not_own",
            Code::ServerInvalid => "server_invalid",
            Code::ControlChars => "control_chars",
            Code::NotAbbreviation => "not_abbreviation",
            Code::Confusable => "confusable",
            Code::Numeric => "numeric",
        }
    }

    /// Warnings let a name through, but registering it needs an override reason.
    pub fn is_warning(self) -> bool {
        matches!(self, Code::NotAbbreviation | Code::Confusable | Code::Numeric)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule that applies to a proposal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: Code,
    /// English, with the Vietnamese term where it helps, saying the fix.
    pub message: String,
    /// The input field at fault: `name`, `own_domains[i]`, `aliases[i]`, `canonical`,
    /// `servers[i]`, `name_vi`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// The outcome of [`check`]; serialised as `cong name check --json` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameReport {
    /// The full name (`ais.mic.gov.vn`); the normalised input when no label could be read
    /// from it (wrong zone, not fourth level), `""` when empty.
    pub name: String,
    /// The label (`ais`), `""` when none could be read.
    pub label: String,
    /// No errors (warnings allowed).
    pub ok: bool,
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
    /// A label that fixes the character-level errors, when one is obvious and free.
    pub suggestion: Option<String>,
}

impl NameReport {
    /// Whether a finding with this code was reported, as an error or a warning.
    pub fn has(&self, code: Code) -> bool {
        self.errors.iter().chain(&self.warnings).any(|f| f.code == code)
    }

    /// Record a finding. Messages quote what was given, so they are escaped here
    /// ([`crate::model::escape`]): a report never carries a control character to a
    /// terminal or a log.
    fn push(&mut self, code: Code, message: String, field: Option<String>) {
        let message = crate::model::escape::escape(&message).into_owned();
        let finding = Finding { code, message, field };
        if code.is_warning() {
            self.warnings.push(finding);
        } else {
            self.errors.push(finding);
        }
    }
}

/// A label that a proposal must not resemble: a registered member's, or a reserved one.
struct Lookalike {
    label: String,
    reserved: bool,
}

/// The Fx hash (as in rustc) for the index: a check does three lookups and SipHash was a
/// fifth of its time. The keys are registered labels and domains, put there by an
/// administrator, so hash flooding is not a concern.
#[derive(Default)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
type FastSet<K> = HashSet<K, BuildHasherDefault<FxHasher>>;

/// What the name is checked against: the zone, reserved labels, and what is already registered.
pub struct NameIndex {
    zone: String,
    reserved: FastSet<String>,
    labels: FastSet<String>,
    /// Own domain to the label of the member that holds it.
    own_domains: FastMap<String, String>,
    /// Look-alike skeleton to the labels that have it, so a check is one lookup.
    lookalikes: FastMap<Box<[u8]>, Vec<Lookalike>>,
}

impl NameIndex {
    /// zone like "mic.gov.vn" (already lower-case). extra_reserved: labels added in config.
    pub fn new(zone: &str, extra_reserved: &[String]) -> NameIndex {
        let zone = normalize(zone);
        let mut reserved: FastSet<String> = RESERVED.split_whitespace().map(String::from).collect();
        reserved.extend((1..=9).map(|n| format!("ns{n}")));
        reserved.insert(zone.split('.').next().unwrap_or_default().to_string());
        reserved.extend(extra_reserved.iter().map(|s| normalize(s)));
        reserved.remove("");
        let mut index = NameIndex {
            zone,
            reserved: FastSet::default(),
            labels: FastSet::default(),
            own_domains: FastMap::default(),
            lookalikes: FastMap::default(),
        };
        for label in &reserved {
            index.add_lookalike(label, true);
        }
        index.reserved = reserved;
        index
    }

    /// Record a registered member: its label and own domains. The first member to hold an
    /// own domain keeps it.
    pub fn add_member(&mut self, label: &str, own_domains: &[String]) {
        let label = normalize(label);
        for domain in own_domains {
            self.own_domains.entry(normalize(domain)).or_insert_with(|| label.clone());
        }
        self.add_lookalike(&label, false);
        self.labels.insert(label);
    }

    /// The platform zone, e.g. `mic.gov.vn`.
    pub fn zone(&self) -> &str {
        &self.zone
    }

    fn add_lookalike(&mut self, label: &str, reserved: bool) {
        let mut buf = [0; 2 * MAX_LABEL];
        if let Some(skel) = skeleton(label, &mut buf) {
            let entry = self.lookalikes.entry(skel.into()).or_default();
            if !entry.iter().any(|l| l.label == label) {
                let label = label.to_string();
                entry.push(Lookalike { label, reserved });
            }
        }
    }

    /// A label a suggestion may point to: well-formed, not reserved, not someone else's.
    fn is_free(&self, label: &str, owner: Option<&str>) -> bool {
        (MIN_LABEL..=MAX_LABEL).contains(&label.len())
            && !self.reserved.contains(label)
            && (!self.labels.contains(label) || is_owner(owner, label))
    }
}

/// A name to check, with what the rules compare it against.
pub struct Proposal<'a> {
    /// A label (`ais`) or a full name (`AIS.mic.gov.vn.`).
    pub name: &'a str,
    /// The unit's Vietnamese name, for the abbreviation warning.
    pub name_vi: Option<&'a str>,
    /// The unit's English name, for the abbreviation warning.
    pub name_en: Option<&'a str>,
    /// The unit's own domains (`ais.gov.vn`).
    pub own_domains: &'a [String],
    /// The member (its label) this proposal is for when re-checking an existing member: its
    /// own label and domains do not count as taken, nor its label as a look-alike.
    pub owner: Option<&'a str>,
}

/// Whether `label` is the re-checked member's own (owners are labels, as given).
fn is_owner(owner: Option<&str>, label: &str) -> bool {
    owner.is_some_and(|o| o.eq_ignore_ascii_case(label))
}

/// Check a proposed name against every rule of section 6; report every rule that applies,
/// not only the first. Own domains are checked even when the name itself cannot be read.
pub fn check(index: &NameIndex, p: &Proposal) -> NameReport {
    let norm = normalize(p.name);
    let mut report = NameReport {
        name: String::new(),
        label: String::new(),
        ok: false,
        errors: Vec::new(),
        warnings: Vec::new(),
        suggestion: None,
    };
    match split_name(&norm, &index.zone) {
        Ok(len) => {
            // The label is a prefix of the normalised input: reuse its allocation.
            let mut label = norm;
            label.truncate(len);
            let mut name = String::with_capacity(label.len() + 1 + index.zone.len());
            name.push_str(&label);
            name.push('.');
            name.push_str(&index.zone);
            report.name = name;
            report.label = label;
            check_label(index, p, &mut report);
        }
        Err((code, message)) => {
            report.push(code, message, Some("name".to_string()));
            report.name = norm;
        }
    }
    check_own_domains(index, p, &mut report);
    for (field, text) in [("name_vi", p.name_vi), ("name_en", p.name_en)] {
        if let Some(finding) = text.and_then(|t| check_text(field, t)) {
            report.errors.push(finding);
        }
    }
    report.ok = report.errors.is_empty();
    report
}

/// The length of the label that starts a normalised name; or the zone-level error.
fn split_name(norm: &str, zone: &str) -> Result<usize, (Code, String)> {
    let empty = || {
        let msg = format!("no name given; give a label such as \"ais\" or a full name such as \"ais.{zone}\"");
        (Code::Empty, msg)
    };
    if norm.is_empty() {
        return Err(empty());
    }
    if !norm.contains('.') {
        return Ok(norm.len());
    }
    if norm == zone {
        let msg = format!("\"{zone}\" is the zone itself; a member name is one label under it (tên miền cấp 4), such as \"ais.{zone}\"");
        return Err((Code::NotFourthLevel, msg));
    }
    let Some(label) = norm.strip_suffix(zone).and_then(|s| s.strip_suffix('.')) else {
        let msg = format!("\"{norm}\" is not under {zone}; give a label, or a full name ending in \".{zone}\"");
        return Err((Code::WrongZone, msg));
    };
    if label.is_empty() {
        return Err(empty());
    }
    if label.contains('.') {
        let msg = format!("\"{norm}\" has more than one label under {zone}; a member name is exactly one label (tên miền cấp 4), such as \"ais.{zone}\"");
        return Err((Code::NotFourthLevel, msg));
    }
    Ok(label.len())
}

/// The label rules: characters, shape, registry, then the warnings.
fn check_label(index: &NameIndex, p: &Proposal, r: &mut NameReport) {
    let label = std::mem::take(&mut r.label);
    let needs_fix =
        label.starts_with('-') || label.ends_with('-') || label.contains("--") || !label.bytes().all(is_label_byte);
    if needs_fix {
        r.suggestion = suggest(index, &label, p.owner);
        check_chars(&label, r);
    }
    check_shape(&label, &index.zone, r);
    if index.reserved.contains(label.as_str()) {
        let msg = format!("\"{label}\" is reserved (dành riêng) for the platform; choose another label");
        r.push(Code::Reserved, msg, Some("name".to_string()));
    }
    if index.labels.contains(label.as_str()) && !is_owner(p.owner, &label) {
        let msg = format!(
            "\"{label}.{}\" is already registered (đã đăng ký) to another member; choose another label",
            index.zone
        );
        r.push(Code::Taken, msg, Some("name".to_string()));
    }
    check_warnings(index, p, &label, r);
    r.label = label;
}

fn is_label_byte(b: u8) -> bool {
    matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-')
}

/// A label with the character-level faults fixed. Spaces, underscores and other signs are
/// dropped rather than turned into hyphens, because unit labels join their words
/// (`thanhtra`, `dichvucong`); runs of hyphens become one, edge hyphens go. `None` when
/// the result is unchanged, unusable or not free, and for `xn--` labels, which need the
/// name rewritten rather than fixed.
fn suggest(index: &NameIndex, label: &str, owner: Option<&str>) -> Option<String> {
    if label.starts_with("xn--") {
        return None;
    }
    let mut s = String::with_capacity(label.len());
    for c in label.chars().filter(|&c| !is_combining(c)) {
        match vn_base(c).unwrap_or(c).to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => s.push(c),
            '-' if !s.is_empty() && !s.ends_with('-') => s.push('-'),
            _ => {}
        }
    }
    while s.ends_with('-') {
        s.pop();
    }
    (s != label && index.is_free(&s, owner)).then_some(s)
}

/// How to fix a character fault: the suggestion when there is one.
fn fix_hint(r: &NameReport, otherwise: &str) -> String {
    match &r.suggestion {
        Some(s) => format!("use \"{s}\""),
        None => otherwise.to_string(),
    }
}

fn check_chars(label: &str, r: &mut NameReport) {
    if label.chars().any(|c| vn_base(c).is_some() || is_combining(c)) {
        let hint = fix_hint(r, "write it without them (đ as d)");
        let msg = format!("label has Vietnamese diacritics (dấu); {hint}");
        r.push(Code::Diacritics, msg, Some("name".to_string()));
    }
    let mut bad: Vec<char> = Vec::new();
    for c in label.chars() {
        let plain = vn_base(c).is_some() || is_combining(c) || (c.is_ascii() && is_label_byte(c as u8));
        if !plain && !bad.contains(&c) {
            bad.push(c);
        }
    }
    if !bad.is_empty() {
        let list: Vec<String> = bad.iter().map(|&c| describe_char(c)).collect();
        let hint = fix_hint(r, "use only a-z, 0-9 and \"-\"");
        let msg = format!("label has characters other than a-z, 0-9 and \"-\" ({}); {hint}", list.join(", "));
        r.push(Code::InvalidChars, msg, Some("name".to_string()));
    }
}

fn describe_char(c: char) -> String {
    match c {
        ' ' => "space".to_string(),
        _ => format!("\"{}\"", c.escape_debug()),
    }
}

fn check_shape(label: &str, zone: &str, r: &mut NameReport) {
    let field = || Some("name".to_string());
    if label.starts_with('-') || label.ends_with('-') {
        let msg = format!("label starts or ends with \"-\"; {}", fix_hint(r, "remove it"));
        r.push(Code::HyphenEdge, msg, field());
    }
    if label.starts_with("xn--") {
        let msg = "label is an encoded international name (\"xn--\"); names are unaccented: write the label in plain a-z (không dấu)";
        r.push(Code::DoubleHyphen, msg.to_string(), field());
    } else if label.contains("--") {
        let msg = format!("label has \"--\"; {}", fix_hint(r, "use a single \"-\""));
        r.push(Code::DoubleHyphen, msg, field());
    }
    let len = label.chars().count();
    let full = len + 1 + zone.len();
    if len > MAX_LABEL || full > MAX_NAME {
        let msg = if len > MAX_LABEL {
            format!("label is {len} characters, over the limit of {MAX_LABEL}; shorten it (viết tắt)")
        } else {
            format!("full name is {full} characters, over the limit of {MAX_NAME}; shorten the label")
        };
        r.push(Code::TooLong, msg, field());
    }
    if len < MIN_LABEL {
        let msg = format!("label \"{label}\" is too short; a label needs at least {MIN_LABEL} characters");
        r.push(Code::TooShort, msg, field());
    }
}

fn check_warnings(index: &NameIndex, p: &Proposal, label: &str, r: &mut NameReport) {
    let field = || Some("name".to_string());
    if !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()) {
        let msg = format!("label \"{label}\" is all digits; prefer an abbreviation (viết tắt) of the unit's name, or give an override reason");
        r.push(Code::Numeric, msg, field());
    }
    if let Some(msg) = confusable(index, label, p.owner) {
        r.push(Code::Confusable, msg, field());
    }
    check_abbreviation(p, label, r);
}

/// The `not_abbreviation` warning, when a name is given to compare with.
fn check_abbreviation(p: &Proposal, label: &str, r: &mut NameReport) {
    let names = [p.name_vi, p.name_en];
    let mut given = names.iter().flatten().filter(|n| !n.trim().is_empty()).peekable();
    if given.peek().is_none() || label.len() > MAX_LABEL {
        return;
    }
    let pattern = Pattern::new(label); // once for both names
    if !given.clone().any(|n| pattern.matches(n)) {
        let quoted: Vec<String> = given.map(|n| format!("\"{}\"", n.trim())).collect();
        let msg = format!(
            "label \"{label}\" is not an abbreviation (viết tắt) of {}; choose one that is, or give an override reason",
            quoted.join(" or ")
        );
        r.push(Code::NotAbbreviation, msg, Some("name".to_string()));
    }
}

/// The message naming the labels this one imitates, if any. Reserved labels count too:
/// `rnail` or `adrnin` would pass for platform hosts.
fn confusable(index: &NameIndex, label: &str, owner: Option<&str>) -> Option<String> {
    let mut buf = [0; 2 * MAX_LABEL];
    let others = index.lookalikes.get(skeleton(label, &mut buf)?)?;
    let mut hits = others.iter().filter(|o| o.label != label && !is_owner(owner, &o.label)).peekable();
    hits.peek()?;
    let names: Vec<String> = hits
        .map(|o| {
            let kind = if o.reserved { "reserved" } else { "registered" };
            format!("the {kind} label \"{}\"", o.label)
        })
        .collect();
    Some(format!(
        "label \"{label}\" looks like {} (look-alikes 0/o, 1/l/i, rn/m, vv/w); choose another label, or give an override reason",
        names.join(" and ")
    ))
}

/// The label with look-alikes mapped to one form (`0`→`o`; `1`, `i`→`l`; `m`→`rn`;
/// `w`→`vv`), written into `buf`. Expanding `m` and `w` rather than contracting `rn` and
/// `vv` leaves no choice of how to pair letters. `None` for a label that is not plain a-z,
/// 0-9, `-` or is too long: it is already an error.
fn skeleton<'b>(label: &str, buf: &'b mut [u8; 2 * MAX_LABEL]) -> Option<&'b [u8]> {
    if label.len() > MAX_LABEL {
        return None;
    }
    let mut n = 0;
    for b in label.bytes() {
        let mapped: &[u8] = match b {
            b'0' => b"o",
            b'1' | b'i' | b'l' => b"l",
            b'm' => b"rn",
            b'w' => b"vv",
            b'a'..=b'z' | b'2'..=b'9' | b'-' => std::slice::from_ref(&b),
            _ => return None,
        };
        buf[n..n + mapped.len()].copy_from_slice(mapped);
        n += mapped.len();
    }
    Some(&buf[..n])
}

fn check_own_domains(index: &NameIndex, p: &Proposal, r: &mut NameReport) {
    let zone = index.zone.as_str();
    for (i, raw) in p.own_domains.iter().enumerate() {
        let d = normalize(raw);
        let field = || Some(format!("own_domains[{i}]"));
        if !is_valid_hostname(&d) {
            let msg = format!("own domain \"{d}\" is not a valid hostname (dot-separated labels of a-z, 0-9 and \"-\", at least two, not starting or ending with \"-\")");
            r.push(Code::OwnDomainInvalid, msg, field());
        }
        let under = d.len() > zone.len() + 1 && d.ends_with(zone) && d.as_bytes()[d.len() - zone.len() - 1] == b'.';
        if d == zone || under {
            let msg = format!("own domain \"{d}\" is inside the platform zone {zone}; the member's name there is its label, so list only domains outside {zone}");
            r.push(Code::OwnDomainInZone, msg, field());
        }
        if let Some(holder) = index.own_domains.get(&d).filter(|h| !is_owner(p.owner, h)) {
            let msg = format!(
                "own domain \"{d}\" is already held by member \"{holder}\"; a domain belongs to one member only"
            );
            r.push(Code::OwnDomainTaken, msg, field());
        }
    }
}

#[cfg(test)]
mod tests;
