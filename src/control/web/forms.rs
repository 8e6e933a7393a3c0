//! What a browser sends: URL-encoded forms, `multipart/form-data` uploads, cookies; and what
//! an upload may be: a type known by its first bytes (its name is made a slug by
//! `model::slug`).

use std::collections::HashMap;

/// A submitted form: each field's values in order (a field may repeat), and any files.
#[derive(Debug, Default)]
pub struct Form {
    fields: HashMap<String, Vec<String>>,
    pub files: Vec<Upload>,
}

/// One uploaded file.
#[derive(Debug)]
pub struct Upload {
    /// The form field it came in (`file`).
    pub field: String,
    /// The name the browser gave it.
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Form {
    /// The first value of `name`, or `""`.
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).and_then(|v| v.first()).map_or("", String::as_str)
    }

    /// `name` as lines (a textarea), trimmed, blank lines dropped.
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.get(name).lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect()
    }

    fn push(&mut self, name: String, value: String) {
        self.fields.entry(name).or_default().push(value);
    }

    /// `application/x-www-form-urlencoded`.
    pub fn urlencoded(body: &[u8]) -> Form {
        let mut form = Form::default();
        for (k, v) in crate::serve::form::pairs(&String::from_utf8_lossy(body)) {
            form.push(k, v);
        }
        form
    }

    /// `multipart/form-data` with `boundary`: text fields and files. `None` when the body
    /// is not well formed.
    pub fn multipart(body: &[u8], boundary: &str) -> Option<Form> {
        let delimiter = format!("--{boundary}").into_bytes();
        let mut form = Form::default();
        let mut rest = body;
        // Skip the preamble up to the first delimiter.
        let first = find(rest, &delimiter)?;
        rest = &rest[first + delimiter.len()..];
        loop {
            if rest.starts_with(b"--") {
                return Some(form);
            }
            rest = rest.strip_prefix(b"\r\n")?;
            let head_end = find(rest, b"\r\n\r\n")?;
            let head = std::str::from_utf8(&rest[..head_end]).ok()?;
            rest = &rest[head_end + 4..];
            let mut end_marker = b"\r\n".to_vec();
            end_marker.extend_from_slice(&delimiter);
            let end = find(rest, &end_marker)?;
            let content = &rest[..end];
            rest = &rest[end + end_marker.len()..];
            let disposition =
                head.lines().find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?.split_once(':')?.1;
            let name = param(disposition, "name")?;
            match param(disposition, "filename") {
                Some(filename) => {
                    if !filename.is_empty() {
                        form.files.push(Upload { field: name, name: filename, bytes: content.to_vec() })
                    }
                }
                None => form.push(name, String::from_utf8_lossy(content).into_owned()),
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `name="value"` out of a `Content-Disposition` header value.
fn param(header: &str, key: &str) -> Option<String> {
    header.split(';').map(str::trim).find_map(|part| {
        let (k, v) = part.split_once('=')?;
        (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').map(str::trim).find_map(|c| c.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v))
}

/// The boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<&str> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').map(str::trim).find_map(|p| p.strip_prefix("boundary=")).map(|b| b.trim_matches('"'))
}

/// The kinds of file the editors may upload, by extension, and what their first bytes must
/// be. SVG is not among them: it can carry script.
const KINDS: &[(&[&str], &[&[u8]])] = &[
    (&["png"], &[b"\x89PNG\r\n\x1a\n"]),
    (&["jpg", "jpeg"], &[b"\xff\xd8\xff"]),
    (&["gif"], &[b"GIF87a", b"GIF89a"]),
    (&["webp"], &[b"RIFF"]),
    (&["pdf"], &[b"%PDF-"]),
    (&["docx", "xlsx", "pptx", "odt", "ods", "odp", "zip"], &[b"PK\x03\x04"]),
    (&["doc", "xls", "ppt"], &[b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"]),
];

/// Whether `bytes` are what the extension of `name` says, among the kinds editors may
/// upload; the reason in Vietnamese when not.
pub fn check_upload(name: &str, bytes: &[u8]) -> Result<(), String> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let Some((_, magics)) = KINDS.iter().find(|(exts, _)| exts.contains(&ext.as_str())) else {
        return Err(format!(
            "loại tệp \".{ext}\" không được phép; chỉ nhận ảnh (png, jpg, gif, webp), pdf và tài liệu văn phòng"
        ));
    };
    let webp_ok = ext != "webp" || bytes.get(8..12) == Some(b"WEBP");
    if magics.iter().any(|m| bytes.starts_with(m)) && webp_ok {
        Ok(())
    } else {
        Err(format!("nội dung tệp không phải là tệp .{ext} (tên và nội dung không khớp)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded_and_multipart() {
        let f = Form::urlencoded(b"name_vi=C%E1%BB%A5c+B%C3%A1o&own_domains=a.vn&own_domains=b.vn&x");
        assert_eq!(f.get("name_vi"), "Cục Báo");
        assert_eq!(f.fields["own_domains"], ["a.vn", "b.vn"], "a repeated field keeps every value");
        assert_eq!(f.get("own_domains"), "a.vn");
        assert_eq!(f.get("x"), "");
        assert_eq!(f.get("missing"), "");

        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n--XyZ\r\n\
Content-Disposition: form-data; name=\"file\"; filename=\"H\xe1\xbb\x99i ngh\xe1\xbb\x8b.png\"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\r\n--XyZ--\r\n";
        let f = Form::multipart(body, "XyZ").expect("well formed");
        assert_eq!(f.get("csrf"), "abc");
        assert_eq!(f.files.len(), 1);
        assert_eq!(f.files[0].name, "Hội nghị.png");
        assert_eq!(f.files[0].bytes, b"\x89PNG\r\n\x1a\n", "the CRLF before the delimiter is not content");
        assert!(Form::multipart(b"garbage", "XyZ").is_none());
        assert_eq!(boundary("multipart/form-data; boundary=----abc"), Some("----abc"));
        assert_eq!(boundary("text/plain"), None);
        assert_eq!(cookie("a=1; cong=xyz; b=2", "cong"), Some("xyz"));
        assert_eq!(cookie("congx=1", "cong"), None);
    }

    #[test]
    fn upload_kinds() {
        assert_eq!(check_upload("a.png", b"\x89PNG\r\n\x1a\nrest"), Ok(()));
        assert!(check_upload("a.png", b"<html>").is_err(), "content must match the name");
        assert!(check_upload("a.svg", b"<svg onload=alert(1)>").is_err(), "SVG can carry script");
        assert!(check_upload("a.exe", b"MZ").is_err());
        assert_eq!(check_upload("a.docx", b"PK\x03\x04...."), Ok(()));
        assert!(check_upload("a.webp", b"RIFF\0\0\0\0WAVE").is_err());
    }
}
