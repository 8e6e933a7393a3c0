//! The text side of the naming rules: normalising names, folding Vietnamese letters to
//! ASCII, the abbreviation rule, and hostname syntax.

use super::{is_label_byte, MAX_LABEL, MAX_NAME};

pub use crate::model::host::normalize_name as normalize;

/// Vietnamese letters with diacritics (all vowels with all five tones, both cases, ă â ê ô
/// ơ ư, đ/Đ) to plain ASCII letters. Combining marks (U+0300..U+036F, as in decomposed
/// text) are dropped. Other chars unchanged.
pub fn strip_diacritics(s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    s.chars().filter(|&c| !is_combining(c)).map(|c| vn_base(c).unwrap_or(c)).collect()
}

pub(super) fn is_combining(c: char) -> bool {
    ('\u{300}'..='\u{36f}').contains(&c)
}

/// The plain letter under a precomposed Vietnamese letter, keeping its case.
pub(super) fn vn_base(c: char) -> Option<char> {
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
pub(super) struct Pattern {
    masks: [u64; 37],
    len: u32,
    /// False for a label that abbreviates nothing. A flag, not an `Option`, so the masks
    /// are built in place rather than copied out (measured: a tenth of a check).
    usable: bool,
}

impl Pattern {
    pub(super) fn new(label: &str) -> Pattern {
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
    pub(super) fn matches(&self, full_name: &str) -> bool {
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
