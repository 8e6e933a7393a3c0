//! Byte ranges (RFC 9110 section 14): `Range: bytes=…` on a prepared response answers 206
//! with one slice of the identity body, or 416 when no byte of it exists. One range only;
//! several ranges, other units and anything unparsable get the whole body (200), as the
//! RFC allows. `If-Range` with a validator other than the current ETag also gets 200.

use http::{header, HeaderMap, HeaderValue};

/// What a `Range` header asks of a body of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// No usable range: send the whole body.
    Whole,
    /// Bytes `start..=end`.
    Part { start: u64, end: u64 },
    /// A range none of whose bytes exist: 416.
    Unsatisfiable,
}

/// Read the request's `Range` (and `If-Range` against `etag`) for a body of `len` bytes.
pub fn asked(headers: &HeaderMap, etag: &HeaderValue, len: u64) -> Asked {
    let Some(range) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Asked::Whole;
    };
    if let Some(if_range) = headers.get(header::IF_RANGE) {
        // Only a strong ETag equal to ours keeps the range (dates are not tracked here).
        if if_range.as_bytes().starts_with(b"W/") || if_range != etag {
            return Asked::Whole;
        }
    }
    parse(range, len)
}

/// Parse one `bytes=` range spec for a body of `len` bytes.
pub fn parse(range: &str, len: u64) -> Asked {
    let Some(spec) = range.trim().strip_prefix("bytes=") else { return Asked::Whole };
    if spec.contains(',') {
        return Asked::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return Asked::Whole };
    let number =
        |s: &str| if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) { None } else { s.parse::<u64>().ok() };
    match (first.trim(), last.trim()) {
        ("", suffix) => match number(suffix) {
            Some(0) => Asked::Unsatisfiable,
            Some(_) if len == 0 => Asked::Unsatisfiable,
            Some(n) => Asked::Part { start: len.saturating_sub(n), end: len - 1 },
            None => Asked::Whole,
        },
        (start, end) => {
            let Some(start) = number(start) else { return Asked::Whole };
            let end = match end {
                "" => len.saturating_sub(1),
                e => match number(e) {
                    Some(e) if e >= start => e.min(len.saturating_sub(1)),
                    _ => return Asked::Whole,
                },
            };
            if start >= len {
                Asked::Unsatisfiable
            } else {
                Asked::Part { start, end }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_table() {
        use Asked::*;
        let part = |start, end| Part { start, end };
        for (range, len, want) in [
            ("bytes=0-10", 100, part(0, 10)),
            ("bytes=0-", 100, part(0, 99)),
            ("bytes=90-200", 100, part(90, 99)),
            ("bytes=-10", 100, part(90, 99)),
            ("bytes=-200", 100, part(0, 99)),
            ("bytes=99-99", 100, part(99, 99)),
            ("bytes=100-", 100, Unsatisfiable),
            ("bytes=200-300", 100, Unsatisfiable),
            ("bytes=-0", 100, Unsatisfiable),
            ("bytes=0-", 0, Unsatisfiable),
            ("bytes=10-5", 100, Whole),
            ("bytes=0-1,5-6", 100, Whole),
            ("bytes=a-b", 100, Whole),
            ("bytes=+1-2", 100, Whole),
            ("items=0-1", 100, Whole),
            ("bytes=", 100, Whole),
        ] {
            assert_eq!(parse(range, len), want, "{range} of {len}");
        }
    }

    #[test]
    fn if_range_keeps_the_range_only_for_the_current_strong_etag() {
        let etag = HeaderValue::from_static("\"abc\"");
        let with = |if_range: Option<&'static str>| {
            let mut h = HeaderMap::new();
            h.insert(header::RANGE, HeaderValue::from_static("bytes=0-1"));
            if let Some(v) = if_range {
                h.insert(header::IF_RANGE, HeaderValue::from_static(v));
            }
            asked(&h, &etag, 10)
        };
        assert_eq!(with(None), Asked::Part { start: 0, end: 1 });
        assert_eq!(with(Some("\"abc\"")), Asked::Part { start: 0, end: 1 });
        assert_eq!(with(Some("\"old\"")), Asked::Whole);
        assert_eq!(with(Some("W/\"abc\"")), Asked::Whole);
        assert_eq!(with(Some("Tue, 01 Dec 2026 00:00:00 GMT")), Asked::Whole);
        assert_eq!(asked(&HeaderMap::new(), &etag, 10), Asked::Whole);
    }
}
