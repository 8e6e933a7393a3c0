//! `vars.accent` in site.toml: the colour a unit's pages are drawn in. Either one of the
//! themes' accents by name (`blue`, `green`, `red`, `teal`, the same as `accent_name`) or
//! a colour `#rrggbb`, served as a small stylesheet after the theme's. A colour must be
//! dark enough for links on white (WCAG AA, 4.5:1); one that is not, or a value that is
//! not a colour, is reported and the theme's own accent stays.

use crate::model::problem::Problem;

/// The accents every bundled theme styles (`.accent-<name>` in its style.css).
pub const NAMES: [&str; 4] = ["blue", "green", "red", "teal"];

/// Where a colour accent's stylesheet is served; templates link it from
/// `vars.accent_stylesheet`.
pub const STYLESHEET: &str = "/_site/accent.css";

/// What `vars.accent` asks for.
#[derive(Debug, PartialEq)]
pub enum Accent {
    /// A theme accent by name.
    Named(&'static str),
    /// A colour, with the stylesheet that applies it.
    Colour { css: String },
}

/// Read `value` (`file:line` for the report); `Err` says what is wrong and the fix.
pub fn read(value: &str, file: &str, line: usize) -> Result<Accent, Problem> {
    let value = value.trim();
    let problem =
        |message: String, fix: &str| Problem::in_file(file, message).at_line(line).key("vars.accent").fix(fix);
    if let Some(name) = NAMES.iter().find(|n| value.eq_ignore_ascii_case(n)) {
        return Ok(Accent::Named(name));
    }
    let Some(rgb) = parse_hex(value) else {
        return Err(problem(
            format!("\"{value}\" is not a colour"),
            "write a colour as #rrggbb (e.g. \"#0b5394\") or one of blue, green, red, teal",
        ));
    };
    let ratio = contrast_on_white(rgb);
    if ratio < 4.5 {
        return Err(problem(
            format!("{value} is too light for links on white ({ratio:.1}:1; at least 4.5:1 is needed to read it)"),
            "choose a darker colour; the theme's own accent is used until then",
        ));
    }
    let hex = |c: [f64; 3]| format!("#{:02x}{:02x}{:02x}", c[0] as u8, c[1] as u8, c[2] as u8);
    let [r, g, b] = rgb.map(f64::from);
    // Darker for headings and the menu bar; a light tint for quotes and table heads.
    let dark = hex([r * 0.7, g * 0.7, b * 0.7]);
    let soft = hex([r * 0.1 + 229.5, g * 0.1 + 229.5, b * 0.1 + 229.5]);
    let accent = hex([r, g, b]);
    // `body[class]` outranks the theme's `.accent-<name>` rules.
    let css = format!("body[class] {{ --accent: {accent}; --accent-dark: {dark}; --accent-soft: {soft}; }}\n");
    Ok(Accent::Colour { css })
}

/// `#rrggbb` (or `#rgb`) as its three channels.
fn parse_hex(value: &str) -> Option<[u8; 3]> {
    let digits = value.strip_prefix('#')?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |s: &str| u8::from_str_radix(s, 16).ok();
    match digits.len() {
        6 => Some([channel(&digits[0..2])?, channel(&digits[2..4])?, channel(&digits[4..6])?]),
        3 => {
            let short = |i: usize| channel(&digits[i..=i]).map(|v| v * 17);
            Some([short(0)?, short(1)?, short(2)?])
        }
        _ => None,
    }
}

/// The WCAG contrast ratio of a colour against white.
fn contrast_on_white(rgb: [u8; 3]) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2]);
    1.05 / (l + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_colours() {
        assert_eq!(read("Green", "s.toml", 3), Ok(Accent::Named("green")));
        let Ok(Accent::Colour { css }) = read("#0b5394", "s.toml", 3) else { panic!("a dark blue is accepted") };
        assert_eq!(css, "body[class] { --accent: #0b5394; --accent-dark: #073a67; --accent-soft: #e6edf4; }\n");
        assert!(matches!(read("#036", "s.toml", 3), Ok(Accent::Colour { .. })));
    }

    #[test]
    fn contrast_is_the_wcag_ratio() {
        assert!((contrast_on_white([0, 0, 0]) - 21.0).abs() < 0.01);
        assert!((contrast_on_white([255, 255, 255]) - 1.0).abs() < 0.01);
        // #767676 is the lightest grey that passes AA on white.
        assert!(contrast_on_white([0x76, 0x76, 0x76]) >= 4.5);
        assert!(contrast_on_white([0x77, 0x77, 0x77]) < 4.5);
    }

    #[test]
    fn bad_values_name_the_line_and_the_fix() {
        let p = read("#ffcc00", "tenants/x/site.toml", 7).unwrap_err();
        assert_eq!((p.line, p.key.as_deref()), (Some(7), Some("vars.accent")));
        assert!(p.message.contains("too light") && p.message.contains(":1"), "{p}");
        for bad in ["xanh", "#12345", "0b5394", "#gg0000"] {
            let p = read(bad, "s.toml", 1).unwrap_err();
            assert!(p.message.contains("is not a colour"), "{bad}: {p}");
        }
    }
}
