//! A content file's front matter and body (`site::content::parse`) on any text: never
//! panics; an error names the file; a date formats in every way the site uses it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match cong::content::site::content::parse(text, "content/tin-tuc/a.md") {
        Ok(doc) => {
            if let Some(d) = doc.date {
                let _ = (d.iso(), d.display_vi(), d.rfc2822());
            }
            assert!(doc.html.contains(&doc.summary));
        }
        Err(e) => assert_eq!(e.file, "content/tin-tuc/a.md", "{e}"),
    }
});
