//! The name checker (`naming::check`) on any proposal: never panics, and `ok` means no
//! errors. The input is split on NUL into name, Vietnamese name, English name, own domains.
#![no_main]

use cong::model::naming::{check, NameIndex, Proposal};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn index() -> &'static NameIndex {
    static INDEX: OnceLock<NameIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index = NameIndex::new("mic.gov.vn", &["thanhtra".to_string()]);
        index.add_member("ais", &["ais.gov.vn".to_string()]);
        index.add_member("vnnic", &["vnnic.vn".to_string()]);
        index.add_member("cucattt", &[]);
        index
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.split('\0');
    let name = parts.next().unwrap_or_default();
    let name_vi = parts.next();
    let name_en = parts.next();
    let own: Vec<String> = parts.map(String::from).collect();
    let owner = name_vi.and_then(|n| n.strip_prefix("owner="));
    let p = Proposal { name, name_vi, name_en, own_domains: &own, owner };
    let report = check(index(), &p);
    assert_eq!(report.ok, report.errors.is_empty());
    assert!(report.errors.iter().all(|f| !f.code.is_warning()));
    assert!(report.warnings.iter().all(|f| f.code.is_warning()));
});
