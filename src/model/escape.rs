//! Text that tenants control, made safe to show on a terminal or in a log line: control
//! characters (C0 such as NUL, ESC and newline; DEL; C1) and the invisible characters that
//! reorder or break text (bidi controls, line and paragraph separators) are written as
//! escapes (`\n`, `\u{1b}`), so a member's name or a file name never forges a log line nor
//! moves the operator's cursor. Everything else, Vietnamese letters and combining marks
//! included, shows as it is. The same test ([`is_control`]) decides which text the
//! registry refuses to store (docs/naming.md, `control_chars`).

use std::borrow::Cow;
use std::fmt::{self, Write};

/// A character that must never reach a terminal or a log line as it is: Unicode's control
/// characters, the bidi controls and the line and paragraph separators.
pub fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        || matches!(c, '\u{2028}' | '\u{2029}')
}

/// The first control character of `text` and its position (counted in characters, from 1),
/// if there is one.
pub fn find_control(text: &str) -> Option<(usize, char)> {
    text.chars().enumerate().find(|(_, c)| is_control(*c)).map(|(i, c)| (i + 1, c))
}

/// `text` with every control character escaped; borrowed when there is none.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let _ = Escaping(&mut out).write_str(text);
    Cow::Owned(out)
}

/// Shows a value through [`escape`] without building a string first:
/// `tracing::warn!("{}", Escaped(&problem))`.
pub struct Escaped<T>(pub T);

impl<T: fmt::Display> fmt::Display for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(Escaping(f), "{}", self.0)
    }
}

/// A writer that escapes control characters on their way through.
struct Escaping<W>(W);

impl<W: Write> Write for Escaping<W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(at) = rest.find(is_control) {
            self.0.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().expect("found a character here");
            match c {
                '\n' => self.0.write_str("\\n")?,
                '\r' => self.0.write_str("\\r")?,
                '\t' => self.0.write_str("\\t")?,
                _ => write!(self.0, "\\u{{{:x}}}", u32::from(c))?,
            }
            rest = &rest[at + c.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_table() {
        let cases = [
            ("Cục An toàn thông tin", "Cục An toàn thông tin"),
            ("Cu\u{323}c", "Cu\u{323}c"), // a combining mark is a letter's part, not a control
            ("a\nINFO forged", "a\\nINFO forged"),
            ("\u{1b}[2J\u{1b}]0;x\u{7}", "\\u{1b}[2J\\u{1b}]0;x\\u{7}"),
            ("nul\0", "nul\\u{0}"),
            ("tab\there\r", "tab\\there\\r"),
            ("del\u{7f} c1\u{9b}", "del\\u{7f} c1\\u{9b}"),
            ("\u{202e}gnp.exe", "\\u{202e}gnp.exe"),
            ("line\u{2028}sep", "line\\u{2028}sep"),
            ("back\\slash", "back\\slash"),
            ("", ""),
        ];
        for (raw, want) in cases {
            assert_eq!(escape(raw), want, "{raw:?}");
            assert_eq!(Escaped(raw).to_string(), want, "{raw:?}");
            assert!(!escape(raw).chars().any(is_control), "{raw:?}");
        }
    }

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(escape("vnnic.mic.gov.vn"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_first_control_character_is_found_with_its_position() {
        assert_eq!(find_control("Vụ\u{1b}[31m"), Some((3, '\u{1b}')));
        assert_eq!(find_control("Vụ Pháp chế"), None);
    }
}
