//! How a name people wrote becomes a name in a URL or on disk: Vietnamese letters folded to
//! ASCII, lower case, every run of other characters one `-`. One rule for the content
//! files a site serves (`Hội nghị 2026.md` → `/hoi-nghi-2026/`) and the files editors
//! upload through the web interface, so both agree on what a clean name is.

use crate::model::naming::strip_diacritics;

/// `text` as a URL segment: `Hội nghị An toàn 2026` → `hoi-nghi-an-toan-2026`. Empty when
/// nothing of it is a letter or digit. A text that is already a slug comes back unchanged.
pub fn slug(text: &str) -> String {
    let folded = strip_diacritics(text).to_ascii_lowercase();
    let mut out = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.truncate(out.trim_end_matches('-').len());
    out
}

/// A file name as it will be stored: the stem and the extension each made a [`slug`], the
/// stem cut to 80 characters (`Hội nghị An toàn 2026.PNG` → `hoi-nghi-an-toan-2026.png`),
/// any folder the browser sent dropped. `None` when nothing is left of the name.
pub fn slug_file_name(name: &str) -> Option<String> {
    let name = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, Some(e)),
        _ => (name, None),
    };
    let stem = slug(stem);
    if stem.is_empty() {
        return None;
    }
    let stem: String = stem.chars().take(80).collect();
    Some(match ext.map(slug).filter(|e| !e.is_empty()) {
        Some(ext) => format!("{}.{ext}", stem.trim_end_matches('-')),
        None => stem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_slugs() {
        for (name, want) in [
            ("Hội nghị An toàn 2026", "hoi-nghi-an-toan-2026"),
            ("hoi-nghi-2024", "hoi-nghi-2024"),
            ("Đường  dây   nóng!", "duong-day-nong"),
            ("  -- Tin_tức --  ", "tin-tuc"),
            ("README", "readme"),
            ("báo.cáo v2", "bao-cao-v2"),
            ("###", ""),
            ("", ""),
        ] {
            assert_eq!(slug(name), want, "{name:?}");
            assert_eq!(slug(&slug(name)), slug(name), "a slug is its own slug: {name:?}");
        }
    }

    #[test]
    fn upload_names() {
        assert_eq!(slug_file_name("Hội nghị An toàn 2026.PNG").as_deref(), Some("hoi-nghi-an-toan-2026.png"));
        assert_eq!(slug_file_name("C:\\Users\\x\\Báo cáo (cuối).pdf").as_deref(), Some("bao-cao-cuoi.pdf"));
        assert_eq!(slug_file_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(slug_file_name("###.png"), None);
        let long = format!("{}.pdf", "a".repeat(100));
        assert_eq!(slug_file_name(&long), Some(format!("{}.pdf", "a".repeat(80))));
    }
}
