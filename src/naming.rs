//! Naming rules for fourth-level names (DESIGN.md section 6): decides whether a proposed
//! `ais.mic.gov.vn` may be registered. Used by `cong name check`, member registration, the
//! admin API and `cong check`; pure functions over a [`NameIndex`], no I/O.

use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Labels no member may take, besides `ns1`..`ns9`, the zone's own first label and the
/// labels added in config (DESIGN.md section 6).
const RESERVED: &str = "www mail smtp imap pop ftp ns dns mx admin api portal cong dichvucong \
    english m static cdn acme autoconfig autodiscover localhost test example";

/// DNS limits (RFC 1035): a label, and a whole name without the root dot.
const MAX_LABEL: usize = 63;
const MAX_NAME: usize = 253;
/// One-letter labels read as typos and say nothing about the unit.
const MIN_LABEL: usize = 2;

/// Stable codes of DESIGN.md section 6; serialised snake_case ("wrong_zone").
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
    /// The input field at fault: `name` or `own_domains[i]`.
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

    fn push(&mut self, code: Code, message: String, field: Option<String>) {
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

/// Lower-case, trim spaces, drop one trailing dot; also used for hostnames.
pub fn normalize(name: &str) -> String {
    let t = name.trim();
    t.strip_suffix('.').unwrap_or(t).to_lowercase()
}

/// Vietnamese letters with diacritics (all vowels with all five tones, both cases, ă â ê ô
/// ơ ư, đ/Đ) to plain ASCII letters. Combining marks (U+0300..U+036F, as in decomposed
/// text) are dropped. Other chars unchanged.
pub fn strip_diacritics(s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    s.chars().filter(|&c| !is_combining(c)).map(|c| vn_base(c).unwrap_or(c)).collect()
}

fn is_combining(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c)
}

/// The plain letter under a precomposed Vietnamese letter, keeping its case.
fn vn_base(c: char) -> Option<char> {
    if c.is_ascii() {
        return None;
    }
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ă' | 'ạ' | 'ả' | 'ấ' | 'ầ' | 'ẩ' | 'ẫ' | 'ậ' | 'ắ' | 'ằ' | 'ẳ' | 'ẵ' | 'ặ' => {
            'a'
        }
        'À' | 'Á' | 'Â' | 'Ã' | 'Ă' | 'Ạ' | 'Ả' | 'Ấ' | 'Ầ' | 'Ẩ' | 'Ẫ' | 'Ậ' | 'Ắ' | 'Ằ' | 'Ẳ' | 'Ẵ' | 'Ặ' => {
            'A'
        }
        'è' | 'é' | 'ê' | 'ẹ' | 'ẻ' | 'ẽ' | 'ế' | 'ề' | 'ể' | 'ễ' | 'ệ' => 'e',
        'È' | 'É' | 'Ê' | 'Ẹ' | 'Ẻ' | 'Ẽ' | 'Ế' | 'Ề' | 'Ể' | 'Ễ' | 'Ệ' => 'E',
        'ì' | 'í' | 'ĩ' | 'ỉ' | 'ị' => 'i',
        'Ì' | 'Í' | 'Ĩ' | 'Ỉ' | 'Ị' => 'I',
        'ò' | 'ó' | 'ô' | 'õ' | 'ơ' | 'ọ' | 'ỏ' | 'ố' | 'ồ' | 'ổ' | 'ỗ' | 'ộ' | 'ớ' | 'ờ' | 'ở' | 'ỡ' | 'ợ' => {
            'o'
        }
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ơ' | 'Ọ' | 'Ỏ' | 'Ố' | 'Ồ' | 'Ổ' | 'Ỗ' | 'Ộ' | 'Ớ' | 'Ờ' | 'Ở' | 'Ỡ' | 'Ợ' => {
            'O'
        }
        'ù' | 'ú' | 'ũ' | 'ư' | 'ụ' | 'ủ' | 'ứ' | 'ừ' | 'ử' | 'ữ' | 'ự' => 'u',
        'Ù' | 'Ú' | 'Ũ' | 'Ư' | 'Ụ' | 'Ủ' | 'Ứ' | 'Ừ' | 'Ử' | 'Ữ' | 'Ự' => 'U',
        'ý' | 'ỳ' | 'ỵ' | 'ỷ' | 'ỹ' => 'y',
        'Ý' | 'Ỳ' | 'Ỵ' | 'Ỷ' | 'Ỹ' => 'Y',
        'đ' => 'd',
        'Đ' => 'D',
        _ => return None,
    })
}

/// How [`fold`] classes a character: 0..36 are the symbols a-z then 0-9.
const OTHER_LETTER: usize = 36; // a letter or digit no label can hold (ñ, 中): matches nothing
const BREAK: usize = 37; // splits words
const MARK: usize = 38; // a combining mark: part of the letter before it

/// [`fold`] for ASCII, nearly every character of a name: one table lookup.
const ASCII_FOLD: [u8; 128] = {
    let mut t = [BREAK as u8; 128];
    let mut i = 0;
    while i < 26 {
        t[b'a' as usize + i] = i as u8;
        t[b'A' as usize + i] = i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 26 + d as u8;
        d += 1;
    }
    t
};

/// A character as a symbol or class, after diacritics and case are folded.
fn fold(c: char) -> usize {
    if c.is_ascii() {
        return ASCII_FOLD[c as usize] as usize;
    }
    if is_combining(c) {
        return MARK;
    }
    match vn_base(c) {
        Some(base) => ASCII_FOLD[base as usize] as usize,
        None if c.is_alphanumeric() => OTHER_LETTER,
        None => BREAK,
    }
}

/// The abbreviation rule of section 6: true when `label` (hyphens removed) can be cut into
/// consecutive non-empty pieces that are prefixes of words of `full_name` taken in order,
/// words may be skipped; "vietnam" counts as "viet nam"; words split on anything not a
/// letter or digit, after strip_diacritics and lower-casing. The label is folded the same
/// way and only its letters and digits count; a label with other letters, none at all, or
/// more than 63 is never an abbreviation.
pub fn is_abbreviation(label: &str, full_name: &str) -> bool {
    Pattern::new(label).matches(full_name)
}

/// The label as bit masks: bit `i` of `masks[k]` is set when the label's letter at
/// position `i` is symbol `k`. `masks[OTHER_LETTER]` stays empty.
struct Pattern {
    masks: [u64; 37],
    len: u32,
    /// False for a label that abbreviates nothing. A flag, not an `Option`, so the masks
    /// are built in place rather than copied out (measured: a tenth of a check).
    usable: bool,
}

impl Pattern {
    fn new(label: &str) -> Pattern {
        let mut p = Pattern { masks: [0; 37], len: 0, usable: false };
        for c in label.chars() {
            let k = fold(c);
            if k == BREAK || k == MARK {
                continue; // hyphens and other signs are not letters of the abbreviation
            }
            if k == OTHER_LETTER || p.len as usize == MAX_LABEL {
                return p;
            }
            p.masks[k] |= 1 << p.len;
            p.len += 1;
        }
        p.usable = p.len > 0;
        p
    }

    /// Whether the label abbreviates `full_name` (see [`is_abbreviation`]). A DP over
    /// words, one name character at a time, on bit sets (the Shift-And method): bit `i` of
    /// `reach` is set when the label's first `i` letters are covered by pieces of the words
    /// read so far; `cur` holds where a piece of the current word has got to. Each word
    /// extends pieces only from `reach` as it stood at the word's start, so a word gives
    /// at most one piece.
    fn matches(&self, full_name: &str) -> bool {
        if !self.usable {
            return false;
        }
        let goal = 1u64 << self.len;
        let bytes = full_name.as_bytes();
        let (mut reach, mut cur) = (1u64, 0u64);
        // Where the current word starts, and `reach` there.
        let mut word: Option<(usize, u64)> = None;
        let mut pos = 0;
        while pos < bytes.len() {
            let (k, width) = match bytes[pos] {
                b @ 0..=0x7f => (ASCII_FOLD[b as usize] as usize, 1),
                _ => {
                    let c = full_name[pos..].chars().next().unwrap_or_default();
                    (fold(c), c.len_utf8())
                }
            };
            if k == BREAK {
                if let Some((start, before)) = word.take() {
                    reach |= self.vietnam(&full_name[start..pos], before);
                }
            } else if k != MARK {
                if word.is_none() {
                    word = Some((pos, reach));
                    cur = reach;
                }
                cur = (cur & self.masks[k]) << 1;
                reach |= cur;
                if reach & goal != 0 {
                    return true;
                }
            }
            pos += width;
        }
        if let Some((start, before)) = word {
            reach |= self.vietnam(&full_name[start..], before);
        }
        reach & goal != 0
    }

    /// The positions gained by reading `word` as the two words "viet" "nam", starting from
    /// `before`, when it is "vietnam"; else nothing. Checked at the word's end so the main
    /// loop carries no state for this one word.
    #[inline]
    fn vietnam(&self, word: &str, before: u64) -> u64 {
        if !(7..=16).contains(&word.len()) {
            return 0; // "vietnam", or "việtnam" with its diacritics in one or two marks
        }
        let mut folded = word.chars().map(fold).filter(|&k| k != MARK);
        let is_vietnam =
            b"vietnam".iter().all(|&b| folded.next() == Some((b - b'a') as usize)) && folded.next().is_none();
        if !is_vietnam {
            return 0;
        }
        let after_viet = self.read_word(before, b"viet");
        self.read_word(after_viet, b"nam")
    }

    /// `reach` after reading one plain a-z word.
    fn read_word(&self, reach: u64, word: &[u8]) -> u64 {
        let (mut reach, mut cur) = (reach, reach);
        for &b in word {
            cur = (cur & self.masks[(b - b'a') as usize]) << 1;
            reach |= cur;
        }
        reach
    }
}

/// Is `host` a syntactically valid hostname (labels a-z0-9-, no hyphen at label edges,
/// 1..=63 per label, <=253 total, at least two labels)? The last label must not be all
/// digits, so an IPv4 address is not a hostname.
pub fn is_valid_hostname(host: &str) -> bool {
    if host.is_empty() || host.len() > MAX_NAME {
        return false;
    }
    let mut count = 0;
    let mut last = "";
    for label in host.split('.') {
        let edge = label.starts_with('-') || label.ends_with('-');
        if label.is_empty() || label.len() > MAX_LABEL || edge || !label.bytes().all(is_label_byte) {
            return false;
        }
        count += 1;
        last = label;
    }
    count >= 2 && !last.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::Code::*;
    use super::*;

    const ZONE: &str = "mic.gov.vn";

    /// The zone `mic.gov.vn` with `hotro` reserved in config, `ais` and `vnnic` registered.
    fn index() -> NameIndex {
        let mut ix = NameIndex::new(ZONE, &["HoTro".to_string()]);
        ix.add_member("ais", &["ais.gov.vn".to_string()]);
        ix.add_member("vnnic", &["vnnic.vn".to_string(), "www.vnnic.vn".to_string()]);
        ix
    }

    fn proposal<'a>(name: &'a str, own_domains: &'a [String]) -> Proposal<'a> {
        Proposal { name, name_vi: None, name_en: None, own_domains, owner: None }
    }

    /// Input, expected errors, expected warnings, expected suggestion.
    type LabelCase = (&'static str, &'static [Code], &'static [Code], Option<&'static str>);
    /// Label, Vietnamese name, English name, expected warnings.
    type NamesCase = (&'static str, Option<&'static str>, Option<&'static str>, &'static [Code]);

    fn codes(findings: &[Finding]) -> Vec<Code> {
        findings.iter().map(|f| f.code).collect()
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn label_rules() {
        #[rustfmt::skip]
        let cases: &[LabelCase] = &[
            ("newunit", &[], &[], None),
            ("ab", &[], &[], None),
            ("ns10", &[], &[], None),
            ("ai5", &[], &[], None),
            ("2024a", &[], &[], None),
            ("", &[Empty], &[], None),
            ("   ", &[Empty], &[], None),
            (".", &[Empty], &[], None),
            ("cụcattt", &[Diacritics], &[], Some("cucattt")),
            ("CỤCATTT", &[Diacritics], &[], Some("cucattt")),
            ("cu\u{323}cattt", &[Diacritics], &[], Some("cucattt")),
            ("tiếng-việt", &[Diacritics], &[], Some("tieng-viet")),
            ("đ", &[Diacritics, TooShort], &[], None),
            ("aís", &[Diacritics], &[], None),
            ("thanh tra", &[InvalidChars], &[], Some("thanhtra")),
            ("ttt_bo", &[InvalidChars], &[], Some("tttbo")),
            ("a b", &[InvalidChars], &[], Some("ab")),
            ("new!", &[InvalidChars], &[], Some("new")),
            ("ais!", &[InvalidChars], &[], None),
            ("w w w", &[InvalidChars], &[], None),
            ("ñandu", &[InvalidChars], &[], Some("andu")),
            ("cục attt", &[Diacritics, InvalidChars], &[], Some("cucattt")),
            ("-abc", &[HyphenEdge], &[], Some("abc")),
            ("abc-", &[HyphenEdge], &[], Some("abc")),
            ("123-", &[HyphenEdge], &[], Some("123")),
            ("-x", &[HyphenEdge], &[], None),
            ("a--b", &[DoubleHyphen], &[], Some("a-b")),
            ("xn--caf-dma", &[DoubleHyphen], &[], None),
            ("-Cục_ATTT--", &[Diacritics, InvalidChars, HyphenEdge, DoubleHyphen], &[], Some("cucattt")),
            ("a", &[TooShort], &[], None),
            ("0", &[TooShort], &[Numeric], None),
            ("m", &[TooShort, Reserved], &[], None),
            ("www", &[Reserved], &[], None),
            ("mail", &[Reserved], &[], None),
            ("mic", &[Reserved], &[], None),
            ("ns", &[Reserved], &[], None),
            ("ns1", &[Reserved], &[], None),
            ("ns9", &[Reserved], &[], None),
            ("api", &[Reserved], &[], None),
            ("dichvucong", &[Reserved], &[], None),
            ("localhost", &[Reserved], &[], None),
            ("autodiscover", &[Reserved], &[], None),
            ("hotro", &[Reserved], &[], None),
            ("ais", &[Taken], &[], None),
            ("vnnic", &[Taken], &[], None),
            ("123", &[], &[Numeric], None),
            ("a1s", &[], &[Confusable], None),
            ("als", &[], &[Confusable], None),
            ("vnn1c", &[], &[Confusable], None),
            ("rnic", &[], &[Confusable], None),
            ("m1c", &[], &[Confusable], None),
            ("rnail", &[], &[Confusable], None),
            ("vvww", &[], &[Confusable], None),
            ("ap1", &[], &[Confusable], None),
            ("a-1s", &[], &[], None),
        ];
        let ix = index();
        for &(input, errors, warnings, suggestion) in cases {
            let r = check(&ix, &proposal(input, &[]));
            assert_eq!(codes(&r.errors), errors, "errors for {input:?}: {r:?}");
            assert_eq!(codes(&r.warnings), warnings, "warnings for {input:?}: {r:?}");
            assert_eq!(r.suggestion.as_deref(), suggestion, "suggestion for {input:?}");
            assert_eq!(r.ok, errors.is_empty(), "ok for {input:?}");
        }
    }

    #[test]
    fn full_name_forms() {
        #[rustfmt::skip]
        let cases: &[(&str, &str, &str, &[Code])] = &[
            ("newunit", "newunit.mic.gov.vn", "newunit", &[]),
            ("newunit.mic.gov.vn", "newunit.mic.gov.vn", "newunit", &[]),
            ("  NewUnit.MIC.GOV.VN.  ", "newunit.mic.gov.vn", "newunit", &[]),
            ("AIS.mic.gov.vn.", "ais.mic.gov.vn", "ais", &[Taken]),
            ("www.mic.gov.vn", "www.mic.gov.vn", "www", &[Reserved]),
            ("cục attt.mic.gov.vn", "cục attt.mic.gov.vn", "cục attt", &[Diacritics, InvalidChars]),
            ("", "", "", &[Empty]),
            (".mic.gov.vn", ".mic.gov.vn", "", &[Empty]),
            ("ais.gov.vn", "ais.gov.vn", "", &[WrongZone]),
            ("aismic.gov.vn", "aismic.gov.vn", "", &[WrongZone]),
            ("ais.mic.gov.vn..", "ais.mic.gov.vn.", "", &[WrongZone]),
            ("ais.mic.gov.vn.localhost", "ais.mic.gov.vn.localhost", "", &[WrongZone]),
            ("mic.gov.vn", "mic.gov.vn", "", &[NotFourthLevel]),
            ("MIC.GOV.VN.", "mic.gov.vn", "", &[NotFourthLevel]),
            ("a.b.mic.gov.vn", "a.b.mic.gov.vn", "", &[NotFourthLevel]),
            ("www.ais.mic.gov.vn", "www.ais.mic.gov.vn", "", &[NotFourthLevel]),
        ];
        let ix = index();
        for &(input, name, label, errors) in cases {
            let r = check(&ix, &proposal(input, &[]));
            assert_eq!((r.name.as_str(), r.label.as_str()), (name, label), "{input:?}");
            assert_eq!(codes(&r.errors), errors, "errors for {input:?}: {r:?}");
        }
    }

    #[test]
    fn abbreviation_warnings() {
        #[rustfmt::skip]
        let cases: &[NamesCase] = &[
            ("cucattt", Some("Cục An toàn thông tin"), None, &[]),
            ("cục-attt", Some("Cục An toàn thông tin"), None, &[]),
            ("hotgirl", Some("Cục Báo chí"), None, &[NotAbbreviation]),
            ("hotgirl", Some("Cục Báo chí"), Some("Authority of Press"), &[NotAbbreviation]),
            ("cbc", Some("Cục Báo chí"), Some("Authority of Press"), &[]),
            ("ap", Some("Cục Báo chí"), Some("Authority of Press"), &[]),
            ("xyz", Some("   "), None, &[]),
            ("xyz", None, None, &[]),
            ("123", Some("Cục Báo chí"), None, &[Numeric, NotAbbreviation]),
            ("a1s", None, Some("Authority of Information Security"), &[Confusable, NotAbbreviation]),
        ];
        let ix = index();
        for &(name, name_vi, name_en, warnings) in cases {
            let p = Proposal { name, name_vi, name_en, own_domains: &[], owner: None };
            let r = check(&ix, &p);
            assert_eq!(codes(&r.warnings), warnings, "{name:?}: {r:?}");
        }
    }

    #[test]
    fn own_domain_rules() {
        #[rustfmt::skip]
        let cases: &[(&str, Option<&str>, &[Code])] = &[
            ("newunit.gov.vn", None, &[]),
            ("NewUnit.GOV.VN.", None, &[]),
            ("amic.gov.vn", None, &[]),
            ("xn--bcher-kva.vn", None, &[]),
            ("ais.gov.vn", None, &[OwnDomainTaken]),
            ("AIS.gov.vn.", None, &[OwnDomainTaken]),
            ("ais.gov.vn", Some("ais"), &[]),
            ("www.vnnic.vn", Some("ais"), &[OwnDomainTaken]),
            ("x.mic.gov.vn", None, &[OwnDomainInZone]),
            ("a.b.mic.gov.vn", None, &[OwnDomainInZone]),
            ("mic.gov.vn", None, &[OwnDomainInZone]),
            ("bad_domain.vn", None, &[OwnDomainInvalid]),
            ("x_y.mic.gov.vn", None, &[OwnDomainInvalid, OwnDomainInZone]),
            ("localhost", None, &[OwnDomainInvalid]),
            ("", None, &[OwnDomainInvalid]),
            ("192.168.1.1", None, &[OwnDomainInvalid]),
            ("bộ.vn", None, &[OwnDomainInvalid]),
        ];
        let ix = index();
        for &(domain, owner, errors) in cases {
            let own = strings(&[domain]);
            let p = Proposal { owner, ..proposal("newunit", &own) };
            let r = check(&ix, &p);
            assert_eq!(codes(&r.errors), errors, "{domain:?}: {r:?}");
            assert!(r.errors.iter().all(|f| f.field.as_deref() == Some("own_domains[0]")));
        }
    }

    #[test]
    fn own_domain_findings_name_their_index_and_holder() {
        let own = strings(&["ok.vn", "ais.gov.vn", "bad_.vn"]);
        let r = check(&index(), &proposal("newunit", &own));
        let got: Vec<(Code, Option<&str>)> = r.errors.iter().map(|f| (f.code, f.field.as_deref())).collect();
        let want = [(OwnDomainTaken, Some("own_domains[1]")), (OwnDomainInvalid, Some("own_domains[2]"))];
        assert_eq!(got, want);
        assert!(r.errors[0].message.contains("member \"ais\""), "{}", r.errors[0].message);
        assert!(!r.ok);
    }

    #[test]
    fn owner_rechecks_itself_cleanly() {
        let own = strings(&["ais.gov.vn"]);
        let p = Proposal {
            name_en: Some("Authority of Information Security"),
            owner: Some("ais"),
            ..proposal("ais", &own)
        };
        let r = check(&index(), &p);
        assert!(r.ok && r.errors.is_empty() && r.warnings.is_empty(), "{r:?}");
        // Renaming itself to a look-alike of its own label is not an imitation.
        let r = check(&index(), &Proposal { owner: Some("ais"), ..proposal("a1s", &[]) });
        assert!(r.warnings.is_empty(), "{r:?}");
    }

    #[test]
    fn messages_say_the_fix() {
        let ix = index();
        let msg = |input: &str, code: Code| {
            let r = check(&ix, &proposal(input, &[]));
            let f = r.errors.iter().chain(&r.warnings).find(|f| f.code == code);
            f.unwrap_or_else(|| panic!("{input:?}: no {code}: {r:?}")).message.clone()
        };
        #[rustfmt::skip]
        let cases: &[(&str, Code, &str)] = &[
            ("cụcattt", Diacritics, "label has Vietnamese diacritics (dấu); use \"cucattt\""),
            ("thanh tra", InvalidChars, "(space); use \"thanhtra\""),
            ("a_b!", InvalidChars, "(\"_\", \"!\")"),
            ("ais.gov.vn", WrongZone, "ending in \".mic.gov.vn\""),
            ("a.b.mic.gov.vn", NotFourthLevel, "exactly one label"),
            ("www", Reserved, "reserved (dành riêng)"),
            ("ais", Taken, "\"ais.mic.gov.vn\" is already registered"),
            ("a1s", Confusable, "the registered label \"ais\""),
            ("rnic", Confusable, "the reserved label \"mic\""),
            ("xn--caf-dma", DoubleHyphen, "\"xn--\""),
        ];
        for &(input, code, part) in cases {
            let m = msg(input, code);
            assert!(m.contains(part), "{input:?}: {m:?} lacks {part:?}");
        }
    }

    #[test]
    fn label_findings_point_at_the_name_field() {
        let r = check(&index(), &proposal("-ais-", &[]));
        assert_eq!(codes(&r.errors), [HyphenEdge]);
        assert_eq!(r.errors[0].field.as_deref(), Some("name"));
        // "ais" would be the fix, but it is taken: no suggestion.
        assert_eq!(r.suggestion, None);
    }

    #[test]
    fn length_limits() {
        let ix = index();
        let at_limit = "a".repeat(63);
        assert!(check(&ix, &proposal(&at_limit, &[])).ok);
        let over = "a".repeat(64);
        let r = check(&ix, &proposal(&over, &[]));
        assert_eq!(codes(&r.errors), [TooLong]);
        // A long zone makes a 63-letter label too long as a full name.
        let part = "z".repeat(50);
        let zone = format!("{part}.{part}.{part}.{part}.gov.vn");
        let long_zone = NameIndex::new(&zone, &[]);
        let r = check(&long_zone, &proposal(&at_limit, &[]));
        assert_eq!(codes(&r.errors), [TooLong]);
        assert!(r.errors[0].message.contains("over the limit of 253"), "{r:?}");
        assert!(check(&long_zone, &proposal("ab", &[])).ok);
    }

    #[test]
    fn abbreviation_rule() {
        #[rustfmt::skip]
        let cases: &[(&str, &str, bool)] = &[
            ("ais", "Authority of Information Security", true),
            ("vnnic", "Viet Nam Internet Network Information Center", true),
            ("vnnic", "Vietnam Internet Network Information Center", true),
            ("cucattt", "Cục An toàn thông tin", true),
            ("cucattt", "Cu\u{323}c An toa\u{300}n tho\u{302}ng tin", true),
            ("ttt", "Trung tâm Thông tin", true),
            ("hotgirl", "Cục Báo chí", false),
            ("vncert", "Vietnam Computer Emergency Response Team", true),
            ("thanhtra", "Thanh tra Bộ", true),
            ("vn", "Việt Nam", true),
            ("vn", "Vietnam", true),
            ("vn", "VIETNAM", true),
            ("vnam", "Vietnam", true),
            ("vietnam", "Vietnam", true),
            ("vieta", "Vietnam Airlines", true),
            ("vn", "Vietnamese Language", false),
            ("vnn", "Vietnam", false),
            ("a-i-s", "Authority of Information Security", true),
            ("AIS", "Authority of Information Security", true),
            ("thanh tra", "Thanh tra Bộ", true),
            ("sia", "Authority of Information Security", false),
            ("aa", "Authority", false),
            ("auth", "Authority", true),
            ("ttt", "Trung tâm", false),
            ("", "Authority", false),
            ("---", "Authority", false),
            ("cuc", "", false),
            ("đt", "Đào tạo", true),
            ("cbc", "Cục Báo-chí", true),
            ("k2", "Khối 2", true),
            ("cbc", "CụcBáoChí", false),
            ("bdtw", "Cục Bưu điện Trung ương", false),
            ("ñ", "ñandu", false),
        ];
        for &(label, name, want) in cases {
            assert_eq!(is_abbreviation(label, name), want, "{label:?} of {name:?}");
        }
    }

    #[test]
    fn abbreviation_at_the_length_limit() {
        let words = vec!["word"; 63].join(" ");
        assert!(is_abbreviation(&"w".repeat(63), &words));
        assert!(!is_abbreviation(&"w".repeat(62), &vec!["word"; 61].join(" ")));
        assert!(!is_abbreviation(&"w".repeat(64), &format!("{words} word")));
    }

    /// Every unit of `shared/data/mic-units.csv`: label, Vietnamese and English name, own
    /// domain, and whether the label abbreviates either name. `rfd` (Radio Frequency
    /// Department), `ppdvn` (…Distribution Vietnam) and `bdtw` (trung ương as "tw") follow
    /// older or looser conventions and are honestly not abbreviations.
    #[rustfmt::skip]
    const UNITS: &[(&str, &str, &str, &str, bool)] = &[
        ("ttt", "Trung tâm Thông tin", "Information Center", "", true),
        ("ais", "Cục An toàn thông tin", "Authority of Information Security", "ais.gov.vn", true),
        ("vnta", "Cục Viễn thông", "Vietnam Telecommunications Authority", "vnta.gov.vn", true),
        ("rfd", "Cục Tần số vô tuyến điện", "Authority of Radio Frequency Management", "rfd.gov.vn", false),
        ("abei", "Cục Phát thanh, truyền hình và thông tin điện tử", "Authority of Broadcasting and Electronic Information", "abei.gov.vn", true),
        ("ppdvn", "Cục Xuất bản, In và Phát hành", "Authority of Publication, Printing and Distribution", "ppdvn.gov.vn", false),
        ("aita", "Cục Tin học hóa", "Authority of Information Technology Application", "aita.gov.vn", true),
        ("niics", "Viện Chiến lược Thông tin và Truyền thông", "National Institute of Information and Communications Strategy", "niics.gov.vn", true),
        ("vnnic", "Trung tâm Internet Việt Nam", "Vietnam Internet Network Information Center", "vnnic.vn", true),
        ("vncert", "Trung tâm Ứng cứu khẩn cấp máy tính Việt Nam", "Vietnam Computer Emergency Response Team", "vncert.gov.vn", true),
        ("ptit", "Học viện Công nghệ Bưu chính Viễn thông", "Posts and Telecommunications Institute of Technology", "ptit.edu.vn", true),
        ("cbc", "Cục Báo chí", "Authority of Press", "", true),
        ("ttcs", "Cục Thông tin cơ sở", "Authority of Grassroots Information", "", true),
        ("ttdn", "Cục Thông tin đối ngoại", "Authority of Foreign Information Service", "", true),
        ("cds", "Cục Chuyển đổi số quốc gia", "Authority of National Digital Transformation", "", true),
        ("bdtw", "Cục Bưu điện Trung ương", "Central Post Department", "", false),
        ("vbc", "Vụ Bưu chính", "Department of Posts", "", true),
        ("vkhcn", "Vụ Khoa học và Công nghệ", "Department of Science and Technology", "", true),
        ("vkhtc", "Vụ Kế hoạch - Tài chính", "Department of Planning and Finance", "", true),
        ("vhtqt", "Vụ Hợp tác quốc tế", "Department of International Cooperation", "", true),
        ("vpc", "Vụ Pháp chế", "Department of Legal Affairs", "", true),
        ("vtccb", "Vụ Tổ chức cán bộ", "Department of Personnel and Organization", "", true),
        ("thanhtra", "Thanh tra Bộ", "Ministry Inspectorate", "", true),
        ("vpb", "Văn phòng Bộ", "Ministry Office", "", true),
    ];

    fn unit_domains(own: &str) -> Vec<String> {
        own.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn real_units_pass_on_a_fresh_index() {
        let ix = NameIndex::new(ZONE, &[]);
        for &(label, vi, en, own, abbrev) in UNITS {
            let either = is_abbreviation(label, vi) || is_abbreviation(label, en);
            assert_eq!(either, abbrev, "{label:?} abbreviates {vi:?} or {en:?}");
            let own = unit_domains(own);
            let p = Proposal { name_vi: Some(vi), name_en: Some(en), ..proposal(label, &own) };
            let r = check(&ix, &p);
            assert!(r.ok, "{label}: {r:?}");
            let want: &[Code] = if abbrev { &[] } else { &[NotAbbreviation] };
            assert_eq!(codes(&r.warnings), want, "{label}: {r:?}");
        }
    }

    #[test]
    fn real_units_registered_together() {
        let mut ix = NameIndex::new(ZONE, &[]);
        for &(label, _, _, own, _) in UNITS {
            ix.add_member(label, &unit_domains(own));
        }
        for &(label, vi, en, own, _) in UNITS {
            let own = unit_domains(own);
            let p = Proposal { name_vi: Some(vi), name_en: Some(en), ..proposal(label, &own) };
            // Re-checking a member against itself: nothing is taken, nothing imitated.
            let r = check(&ix, &Proposal { owner: Some(label), ..p });
            assert!(r.ok && !r.has(Confusable), "{label}: {r:?}");
            // A newcomer asking for the same label and domain is refused on both.
            let mut want = vec![Taken];
            want.extend(own.iter().map(|_| OwnDomainTaken));
            assert_eq!(codes(&check(&ix, &p).errors), want, "{label}");
        }
    }

    #[test]
    fn hostnames() {
        let label63 = "a".repeat(63);
        let label64 = "a".repeat(64);
        let long = [label63.as_str(); 4].join("."); // 255 characters
        #[rustfmt::skip]
        let cases: Vec<(&str, bool)> = vec![
            ("ais.gov.vn", true),
            ("vnnic.vn", true),
            ("a.b", true),
            ("1.2.3.example", true),
            ("xn--bcher-kva.vn", true),
            ("my-unit.vn", true),
            ("localhost", false),
            ("", false),
            ("ais..vn", false),
            (".ais.vn", false),
            ("ais.vn.", false),
            ("AIS.vn", false),
            ("-ais.vn", false),
            ("ais-.vn", false),
            ("a_b.vn", false),
            ("192.168.1.1", false),
            ("bộ.vn", false),
            (&long, false),
            (&long[..253], true),
        ];
        for (host, want) in cases {
            assert_eq!(is_valid_hostname(host), want, "{host:?}");
        }
        assert!(is_valid_hostname(&format!("{label63}.vn")));
        assert!(!is_valid_hostname(&format!("{label64}.vn")));
    }

    #[test]
    fn strips_every_vietnamese_letter() {
        #[rustfmt::skip]
        let cases: &[(&str, &str)] = &[
            ("àáâãăạảấầẩẫậắằẳẵặ", "aaaaaaaaaaaaaaaaa"),
            ("ÀÁÂÃĂẠẢẤẦẨẪẬẮẰẲẴẶ", "AAAAAAAAAAAAAAAAA"),
            ("èéêẹẻẽếềểễệ", "eeeeeeeeeee"),
            ("ÈÉÊẸẺẼẾỀỂỄỆ", "EEEEEEEEEEE"),
            ("ìíĩỉị ÌÍĨỈỊ", "iiiii IIIII"),
            ("òóôõơọỏốồổỗộớờởỡợ", "ooooooooooooooooo"),
            ("ÒÓÔÕƠỌỎỐỒỔỖỘỚỜỞỠỢ", "OOOOOOOOOOOOOOOOO"),
            ("ùúũưụủứừửữự ÙÚŨƯỤỦỨỪỬỮỰ", "uuuuuuuuuuu UUUUUUUUUUU"),
            ("ýỳỵỷỹ ÝỲỴỶỸ", "yyyyy YYYYY"),
            ("đĐ", "dD"),
            ("Cục An toàn thông tin", "Cuc An toan thong tin"),
            ("Cu\u{323}c", "Cuc"),
            ("ñ ü ß 中 _-.", "ñ ü ß 中 _-."),
            ("ais", "ais"),
        ];
        for &(input, want) in cases {
            assert_eq!(strip_diacritics(input), want, "{input:?}");
        }
    }

    #[test]
    fn normalizes() {
        #[rustfmt::skip]
        let cases: &[(&str, &str)] = &[
            ("AIS.mic.gov.vn.", "ais.mic.gov.vn"),
            ("  ais  ", "ais"),
            ("ais..", "ais."),
            ("CỤC", "cục"),
            (".", ""),
            ("", ""),
        ];
        for &(input, want) in cases {
            assert_eq!(normalize(input), want, "{input:?}");
        }
    }

    #[test]
    fn codes_are_stable() {
        let all = [
            Empty,
            WrongZone,
            NotFourthLevel,
            Diacritics,
            InvalidChars,
            HyphenEdge,
            DoubleHyphen,
            TooLong,
            TooShort,
            Reserved,
            Taken,
            OwnDomainInvalid,
            OwnDomainInZone,
            OwnDomainTaken,
            NotAbbreviation,
            Confusable,
            Numeric,
        ];
        for code in all {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(code.to_string(), code.as_str());
        }
        let warnings: Vec<Code> = all.into_iter().filter(|c| c.is_warning()).collect();
        assert_eq!(warnings, [NotAbbreviation, Confusable, Numeric]);
        assert_eq!(OwnDomainInZone.as_str(), "own_domain_in_zone");
    }

    #[test]
    fn json_shape() {
        let r = check(&index(), &proposal("Cục ATTT.mic.gov.vn", &[]));
        let v = serde_json::to_value(&r).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["errors", "label", "name", "ok", "suggestion", "warnings"]);
        assert_eq!(v["name"], "cục attt.mic.gov.vn");
        assert_eq!(v["label"], "cục attt");
        assert_eq!(v["ok"], false);
        assert_eq!(v["errors"][0]["code"], "diacritics");
        assert_eq!(v["errors"][1]["code"], "invalid_chars");
        assert!(v["errors"][0]["message"].as_str().unwrap().contains("cucattt"));
        assert_eq!(v["warnings"], serde_json::json!([]));
        assert_eq!(v["suggestion"], "cucattt");

        // Field order as documented, `suggestion` present as null.
        let ok = serde_json::to_string(&check(&index(), &proposal("newunit", &[]))).unwrap();
        let want =
            r#"{"name":"newunit.mic.gov.vn","label":"newunit","ok":true,"errors":[],"warnings":[],"suggestion":null}"#;
        assert_eq!(ok, want);
        // `field` is left out when there is none.
        let f = Finding { code: Empty, message: "m".into(), field: None };
        assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"code":"empty","message":"m"}"#);
    }
}
