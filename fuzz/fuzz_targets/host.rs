//! Host normalisation (`model::host::normalize_host`) on any header value: never panics, and
//! what it accepts is lower-case, without a port or a trailing dot.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    if let Ok(host) = cong::model::host::normalize_host(raw) {
        assert!(!host.is_empty(), "{raw:?}");
        assert!(!host.bytes().any(|b| b.is_ascii_uppercase()), "{raw:?} -> {host:?}");
        if !host.starts_with('[') {
            assert!(!host.ends_with('.') && !host.contains(':'), "{raw:?} -> {host:?}");
            assert!(host.len() <= 253, "{raw:?}");
        }
    }
});
