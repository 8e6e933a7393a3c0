//! Host names, normalised one way everywhere: a request's `Host` header or SNI name
//! ([`normalize_host`]: port, trailing dot, development `.localhost` suffix) and a name
//! proposed or stored in the registry ([`normalize_name`]).

use std::borrow::Cow;

/// Lower-case, trim spaces, drop **one** trailing dot (the root): the one spelling a
/// proposed or stored name is judged, stored and found by. `AIS..` keeps a dot and so
/// fails the naming rules instead of being silently repaired.
pub fn normalize_name(name: &str) -> String {
    let t = name.trim();
    t.strip_suffix('.').unwrap_or(t).to_lowercase()
}

/// Why a Host header cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostError {
    Missing,
    Malformed,
}

/// Lower-case, drop a port and a trailing dot, and a development `.localhost` suffix
/// (`AIS.mic.gov.vn.localhost:8080` → `ais.mic.gov.vn`). Borrows when nothing changes.
pub fn normalize_host(raw: &str) -> Result<Cow<'_, str>, HostError> {
    if raw.is_empty() {
        return Err(HostError::Missing);
    }
    if let Some(rest) = raw.strip_prefix('[') {
        // An IPv6 literal: valid, but never a member's name.
        let end = rest.find(']').ok_or(HostError::Malformed)?;
        return Ok(Cow::Owned(format!("[{}]", &rest[..end].to_ascii_lowercase())));
    }
    // One pass over the bytes (every request comes this way): the name up to a `:port`,
    // checked as it goes. A dot may not start it or follow another (an empty label).
    let bytes = raw.as_bytes();
    let (mut previous, mut upper, mut end) = (b'.', false, bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => {}
            b'A'..=b'Z' => upper = true,
            b'.' if previous != b'.' => {}
            b':' if bytes[i + 1..].iter().all(u8::is_ascii_digit) => {
                end = i;
                break;
            }
            _ => return Err(HostError::Malformed),
        }
        previous = b;
    }
    // One trailing dot is the root; a second would have been an empty label above.
    let host = &raw[..end];
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() || host.len() > 253 {
        return Err(HostError::Malformed);
    }
    Ok(if upper {
        Cow::Owned(strip_localhost(&host.to_ascii_lowercase()).to_string())
    } else {
        Cow::Borrowed(strip_localhost(host))
    })
}

fn strip_localhost(h: &str) -> &str {
    match h.strip_suffix(".localhost") {
        Some(rest) if !rest.is_empty() => rest.strip_suffix('.').unwrap_or(rest),
        _ => h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_table() {
        let ok = [
            ("ais.mic.gov.vn", "ais.mic.gov.vn"),
            ("AIS.Mic.Gov.VN", "ais.mic.gov.vn"),
            ("ais.mic.gov.vn.", "ais.mic.gov.vn"),
            ("ais.mic.gov.vn:8080", "ais.mic.gov.vn"),
            ("ais.mic.gov.vn.:443", "ais.mic.gov.vn"),
            ("ais.mic.gov.vn.localhost:8080", "ais.mic.gov.vn"),
            ("ais.mic.gov.vn.localhost.", "ais.mic.gov.vn"),
            ("localhost", "localhost"),
            ("127.0.0.1:8080", "127.0.0.1"),
            ("[::1]:8080", "[::1]"),
        ];
        for (raw, want) in ok {
            assert_eq!(normalize_host(raw).as_deref(), Ok(want), "{raw}");
        }
        let bad = [
            ("", HostError::Missing),
            ("a b", HostError::Malformed),
            ("ais..mic", HostError::Malformed),
            ("ais:abc", HostError::Malformed),
            ("a/b", HostError::Malformed),
            ("[::1", HostError::Malformed),
            (".", HostError::Malformed),
            (".ais.mic.gov.vn", HostError::Malformed),
            ("ais.mic.gov.vn%00", HostError::Malformed),
            // Found by fuzz/fuzz_targets/host.rs: two trailing dots left one in the result.
            ("0..:80", HostError::Malformed),
            ("ais.mic.gov.vn..", HostError::Malformed),
        ];
        for (raw, want) in bad {
            assert_eq!(normalize_host(raw), Err(want), "{raw}");
        }
    }

    #[test]
    fn normalising_a_clean_host_does_not_allocate() {
        assert!(matches!(normalize_host("vnnic.mic.gov.vn").unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn names_lose_one_trailing_dot_only() {
        for (raw, want) in [
            ("AIS", "ais"),
            (" ais.mic.gov.vn. ", "ais.mic.gov.vn"),
            ("AIS..", "ais."),
            ("ais.gov.vn", "ais.gov.vn"),
            ("", ""),
        ] {
            assert_eq!(normalize_name(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn a_host_header_and_a_stored_name_agree() {
        // Whatever the registry stores, a request for it in any case, with a port or the
        // root dot, finds it.
        for stored in ["ais.mic.gov.vn", "ais.gov.vn", "antoanthongtin.mic.gov.vn"] {
            let name = normalize_name(&stored.to_uppercase());
            for raw in [stored.to_uppercase(), format!("{stored}.:8080"), format!("{stored}.localhost:8080")] {
                assert_eq!(normalize_host(&raw).as_deref(), Ok(name.as_str()), "{raw}");
            }
        }
        assert!(normalize_host("AIS..").is_err());
    }
}
