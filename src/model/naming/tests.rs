use super::Code::*;
use super::*;

const ZONE: &str = "mic.gov.vn";

/// The zone `mic.gov.vn` with `hotro` reserved in config, `ais` and `vnnic` registered.
fn index() -> NameIndex {
    let mut ix = NameIndex::new(ZONE, &["HoTro".to_string()]);
    ix.add_member("ais", &["ais.gov.vn".to_string()]);
    ix.add_member("vnnic", &["vnnic.vn".to_string(), "www.vnnic.vn".to_string()]);
    ix
}

fn proposal<'a>(name: &'a str, own_domains: &'a [String]) -> Proposal<'a> {
    Proposal { name, name_vi: None, name_en: None, own_domains, owner: None }
}

/// Input, expected errors, expected warnings, expected suggestion.
type LabelCase = (&'static str, &'static [Code], &'static [Code], Option<&'static str>);
/// Label, Vietnamese name, English name, expected warnings.
type NamesCase = (&'static str, Option<&'static str>, Option<&'static str>, &'static [Code]);

fn codes(findings: &[Finding]) -> Vec<Code> {
    findings.iter().map(|f| f.code).collect()
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn label_rules() {
    #[rustfmt::skip]
    let cases: &[LabelCase] = &[
        ("newunit", &[], &[], None),
        ("ab", &[], &[], None),
        ("ns10", &[], &[], None),
        ("ai5", &[], &[], None),
        ("2024a", &[], &[], None),
        ("", &[Empty], &[], None),
        ("   ", &[Empty], &[], None),
        (".", &[Empty], &[], None),
        ("cụcattt", &[Diacritics], &[], Some("cucattt")),
        ("CỤCATTT", &[Diacritics], &[], Some("cucattt")),
        ("cu\u{323}cattt", &[Diacritics], &[], Some("cucattt")),
        ("tiếng-việt", &[Diacritics], &[], Some("tieng-viet")),
        ("đ", &[Diacritics, TooShort], &[], None),
        ("aís", &[Diacritics], &[], None),
        ("thanh tra", &[InvalidChars], &[], Some("thanhtra")),
        ("ttt_bo", &[InvalidChars], &[], Some("tttbo")),
        ("a b", &[InvalidChars], &[], Some("ab")),
        ("new!", &[InvalidChars], &[], Some("new")),
        ("ais!", &[InvalidChars], &[], None),
        ("w w w", &[InvalidChars], &[], None),
        ("ñandu", &[InvalidChars], &[], Some("andu")),
        ("cục attt", &[Diacritics, InvalidChars], &[], Some("cucattt")),
        ("-abc", &[HyphenEdge], &[], Some("abc")),
        ("abc-", &[HyphenEdge], &[], Some("abc")),
        ("123-", &[HyphenEdge], &[], Some("123")),
        ("-x", &[HyphenEdge], &[], None),
        ("a--b", &[DoubleHyphen], &[], Some("a-b")),
        ("xn--caf-dma", &[DoubleHyphen], &[], None),
        ("-Cục_ATTT--", &[Diacritics, InvalidChars, HyphenEdge, DoubleHyphen], &[], Some("cucattt")),
        ("a", &[TooShort], &[], None),
        ("0", &[TooShort], &[Numeric], None),
        ("m", &[TooShort, Reserved], &[], None),
        ("www", &[Reserved], &[], None),
        ("mail", &[Reserved], &[], None),
        ("mic", &[Reserved], &[], None),
        ("ns", &[Reserved], &[], None),
        ("ns1", &[Reserved], &[], None),
        ("ns9", &[Reserved], &[], None),
        ("api", &[Reserved], &[], None),
        ("dichvucong", &[Reserved], &[], None),
        ("localhost", &[Reserved], &[], None),
        ("autodiscover", &[Reserved], &[], None),
        ("hotro", &[Reserved], &[], None),
        ("ais", &[Taken], &[], None),
        ("vnnic", &[Taken], &[], None),
        ("123", &[], &[Numeric], None),
        ("a1s", &[], &[Confusable], None),
        ("als", &[], &[Confusable], None),
        ("vnn1c", &[], &[Confusable], None),
        ("rnic", &[], &[Confusable], None),
        ("m1c", &[], &[Confusable], None),
        ("rnail", &[], &[Confusable], None),
        ("vvww", &[], &[Confusable], None),
        ("ap1", &[], &[Confusable], None),
        ("a-1s", &[], &[], None),
    ];
    let ix = index();
    for &(input, errors, warnings, suggestion) in cases {
        let r = check(&ix, &proposal(input, &[]));
        assert_eq!(codes(&r.errors), errors, "errors for {input:?}: {r:?}");
        assert_eq!(codes(&r.warnings), warnings, "warnings for {input:?}: {r:?}");
        assert_eq!(r.suggestion.as_deref(), suggestion, "suggestion for {input:?}");
        assert_eq!(r.ok, errors.is_empty(), "ok for {input:?}");
    }
}

#[test]
fn full_name_forms() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, &str, &[Code])] = &[
        ("newunit", "newunit.mic.gov.vn", "newunit", &[]),
        ("newunit.mic.gov.vn", "newunit.mic.gov.vn", "newunit", &[]),
        ("  NewUnit.MIC.GOV.VN.  ", "newunit.mic.gov.vn", "newunit", &[]),
        ("AIS.mic.gov.vn.", "ais.mic.gov.vn", "ais", &[Taken]),
        ("www.mic.gov.vn", "www.mic.gov.vn", "www", &[Reserved]),
        ("cục attt.mic.gov.vn", "cục attt.mic.gov.vn", "cục attt", &[Diacritics, InvalidChars]),
        ("", "", "", &[Empty]),
        (".mic.gov.vn", ".mic.gov.vn", "", &[Empty]),
        ("ais.gov.vn", "ais.gov.vn", "", &[WrongZone]),
        ("aismic.gov.vn", "aismic.gov.vn", "", &[WrongZone]),
        ("ais.mic.gov.vn..", "ais.mic.gov.vn.", "", &[WrongZone]),
        ("ais.mic.gov.vn.localhost", "ais.mic.gov.vn.localhost", "", &[WrongZone]),
        ("mic.gov.vn", "mic.gov.vn", "", &[NotFourthLevel]),
        ("MIC.GOV.VN.", "mic.gov.vn", "", &[NotFourthLevel]),
        ("a.b.mic.gov.vn", "a.b.mic.gov.vn", "", &[NotFourthLevel]),
        ("www.ais.mic.gov.vn", "www.ais.mic.gov.vn", "", &[NotFourthLevel]),
    ];
    let ix = index();
    for &(input, name, label, errors) in cases {
        let r = check(&ix, &proposal(input, &[]));
        assert_eq!((r.name.as_str(), r.label.as_str()), (name, label), "{input:?}");
        assert_eq!(codes(&r.errors), errors, "errors for {input:?}: {r:?}");
    }
}

#[test]
fn abbreviation_warnings() {
    #[rustfmt::skip]
    let cases: &[NamesCase] = &[
        ("cucattt", Some("Cục An toàn thông tin"), None, &[]),
        ("cục-attt", Some("Cục An toàn thông tin"), None, &[]),
        ("hotgirl", Some("Cục Báo chí"), None, &[NotAbbreviation]),
        ("hotgirl", Some("Cục Báo chí"), Some("Authority of Press"), &[NotAbbreviation]),
        ("cbc", Some("Cục Báo chí"), Some("Authority of Press"), &[]),
        ("ap", Some("Cục Báo chí"), Some("Authority of Press"), &[]),
        ("xyz", Some("   "), None, &[]),
        ("xyz", None, None, &[]),
        ("123", Some("Cục Báo chí"), None, &[Numeric, NotAbbreviation]),
        ("a1s", None, Some("Authority of Information Security"), &[Confusable, NotAbbreviation]),
    ];
    let ix = index();
    for &(name, name_vi, name_en, warnings) in cases {
        let p = Proposal { name, name_vi, name_en, own_domains: &[], owner: None };
        let r = check(&ix, &p);
        assert_eq!(codes(&r.warnings), warnings, "{name:?}: {r:?}");
    }
}

#[test]
fn own_domain_rules() {
    #[rustfmt::skip]
    let cases: &[(&str, Option<&str>, &[Code])] = &[
        ("newunit.gov.vn", None, &[]),
        ("NewUnit.GOV.VN.", None, &[]),
        ("amic.gov.vn", None, &[]),
        ("xn--bcher-kva.vn", None, &[]),
        ("ais.gov.vn", None, &[OwnDomainTaken]),
        ("AIS.gov.vn.", None, &[OwnDomainTaken]),
        ("ais.gov.vn", Some("ais"), &[]),
        ("www.vnnic.vn", Some("ais"), &[OwnDomainTaken]),
        ("x.mic.gov.vn", None, &[OwnDomainInZone]),
        ("a.b.mic.gov.vn", None, &[OwnDomainInZone]),
        ("mic.gov.vn", None, &[OwnDomainInZone]),
        ("bad_domain.vn", None, &[OwnDomainInvalid]),
        ("x_y.mic.gov.vn", None, &[OwnDomainInvalid, OwnDomainInZone]),
        ("localhost", None, &[OwnDomainInvalid]),
        ("", None, &[OwnDomainInvalid]),
        ("192.168.1.1", None, &[OwnDomainInvalid]),
        ("bộ.vn", None, &[OwnDomainInvalid]),
    ];
    let ix = index();
    for &(domain, owner, errors) in cases {
        let own = strings(&[domain]);
        let p = Proposal { owner, ..proposal("newunit", &own) };
        let r = check(&ix, &p);
        assert_eq!(codes(&r.errors), errors, "{domain:?}: {r:?}");
        assert!(r.errors.iter().all(|f| f.field.as_deref() == Some("own_domains[0]")));
    }
}

#[test]
fn own_domain_findings_name_their_index_and_holder() {
    let own = strings(&["ok.vn", "ais.gov.vn", "bad_.vn"]);
    let r = check(&index(), &proposal("newunit", &own));
    let got: Vec<(Code, Option<&str>)> = r.errors.iter().map(|f| (f.code, f.field.as_deref())).collect();
    let want = [(OwnDomainTaken, Some("own_domains[1]")), (OwnDomainInvalid, Some("own_domains[2]"))];
    assert_eq!(got, want);
    assert!(r.errors[0].message.contains("member \"ais\""), "{}", r.errors[0].message);
    assert!(!r.ok);
}

#[test]
fn owner_rechecks_itself_cleanly() {
    let own = strings(&["ais.gov.vn"]);
    let p =
        Proposal { name_en: Some("Authority of Information Security"), owner: Some("ais"), ..proposal("ais", &own) };
    let r = check(&index(), &p);
    assert!(r.ok && r.errors.is_empty() && r.warnings.is_empty(), "{r:?}");
    // Renaming itself to a look-alike of its own label is not an imitation.
    let r = check(&index(), &Proposal { owner: Some("ais"), ..proposal("a1s", &[]) });
    assert!(r.warnings.is_empty(), "{r:?}");
}

#[test]
fn messages_say_the_fix() {
    let ix = index();
    let msg = |input: &str, code: Code| {
        let r = check(&ix, &proposal(input, &[]));
        let f = r.errors.iter().chain(&r.warnings).find(|f| f.code == code);
        f.unwrap_or_else(|| panic!("{input:?}: no {code}: {r:?}")).message.clone()
    };
    #[rustfmt::skip]
    let cases: &[(&str, Code, &str)] = &[
        ("cụcattt", Diacritics, "label has Vietnamese diacritics (dấu); use \"cucattt\""),
        ("thanh tra", InvalidChars, "(space); use \"thanhtra\""),
        ("a_b!", InvalidChars, "(\"_\", \"!\")"),
        ("ais.gov.vn", WrongZone, "ending in \".mic.gov.vn\""),
        ("a.b.mic.gov.vn", NotFourthLevel, "exactly one label"),
        ("www", Reserved, "reserved (dành riêng)"),
        ("ais", Taken, "\"ais.mic.gov.vn\" is already registered"),
        ("a1s", Confusable, "the registered label \"ais\""),
        ("rnic", Confusable, "the reserved label \"mic\""),
        ("xn--caf-dma", DoubleHyphen, "\"xn--\""),
    ];
    for &(input, code, part) in cases {
        let m = msg(input, code);
        assert!(m.contains(part), "{input:?}: {m:?} lacks {part:?}");
    }
}

#[test]
fn label_findings_point_at_the_name_field() {
    let r = check(&index(), &proposal("-ais-", &[]));
    assert_eq!(codes(&r.errors), [HyphenEdge]);
    assert_eq!(r.errors[0].field.as_deref(), Some("name"));
    // "ais" would be the fix, but it is taken: no suggestion.
    assert_eq!(r.suggestion, None);
}

#[test]
fn length_limits() {
    let ix = index();
    let at_limit = "a".repeat(63);
    assert!(check(&ix, &proposal(&at_limit, &[])).ok);
    let over = "a".repeat(64);
    let r = check(&ix, &proposal(&over, &[]));
    assert_eq!(codes(&r.errors), [TooLong]);
    // A long zone makes a 63-letter label too long as a full name.
    let part = "z".repeat(50);
    let zone = format!("{part}.{part}.{part}.{part}.gov.vn");
    let long_zone = NameIndex::new(&zone, &[]);
    let r = check(&long_zone, &proposal(&at_limit, &[]));
    assert_eq!(codes(&r.errors), [TooLong]);
    assert!(r.errors[0].message.contains("over the limit of 253"), "{r:?}");
    assert!(check(&long_zone, &proposal("ab", &[])).ok);
}

#[test]
fn abbreviation_rule() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, bool)] = &[
        ("ais", "Authority of Information Security", true),
        ("vnnic", "Viet Nam Internet Network Information Center", true),
        ("vnnic", "Vietnam Internet Network Information Center", true),
        ("cucattt", "Cục An toàn thông tin", true),
        ("cucattt", "Cu\u{323}c An toa\u{300}n tho\u{302}ng tin", true),
        ("ttt", "Trung tâm Thông tin", true),
        ("hotgirl", "Cục Báo chí", false),
        ("vncert", "Vietnam Computer Emergency Response Team", true),
        ("thanhtra", "Thanh tra Bộ", true),
        ("vn", "Việt Nam", true),
        ("vn", "Vietnam", true),
        ("vn", "VIETNAM", true),
        ("vnam", "Vietnam", true),
        ("vietnam", "Vietnam", true),
        ("vieta", "Vietnam Airlines", true),
        ("vn", "Vietnamese Language", false),
        ("vnn", "Vietnam", false),
        ("a-i-s", "Authority of Information Security", true),
        ("AIS", "Authority of Information Security", true),
        ("thanh tra", "Thanh tra Bộ", true),
        ("sia", "Authority of Information Security", false),
        ("aa", "Authority", false),
        ("auth", "Authority", true),
        ("ttt", "Trung tâm", false),
        ("", "Authority", false),
        ("---", "Authority", false),
        ("cuc", "", false),
        ("đt", "Đào tạo", true),
        ("cbc", "Cục Báo-chí", true),
        ("k2", "Khối 2", true),
        ("cbc", "CụcBáoChí", false),
        ("bdtw", "Cục Bưu điện Trung ương", false),
        ("ñ", "ñandu", false),
    ];
    for &(label, name, want) in cases {
        assert_eq!(is_abbreviation(label, name), want, "{label:?} of {name:?}");
    }
}

#[test]
fn abbreviation_at_the_length_limit() {
    let words = vec!["word"; 63].join(" ");
    assert!(is_abbreviation(&"w".repeat(63), &words));
    assert!(!is_abbreviation(&"w".repeat(62), &vec!["word"; 61].join(" ")));
    assert!(!is_abbreviation(&"w".repeat(64), &format!("{words} word")));
}

/// Every unit of `shared/data/mic-units.csv`: label, Vietnamese and English name, own
/// domain, and whether the label abbreviates either name. `rfd` (Radio Frequency
/// Department), `ppdvn` (…Distribution Vietnam) and `bdtw` (trung ương as "tw") follow
/// older or looser conventions and are honestly not abbreviations.
#[rustfmt::skip]
const UNITS: &[(&str, &str, &str, &str, bool)] = &[
    ("ttt", "Trung tâm Thông tin", "Information Center", "", true),
    ("ais", "Cục An toàn thông tin", "Authority of Information Security", "ais.gov.vn", true),
    ("vnta", "Cục Viễn thông", "Vietnam Telecommunications Authority", "vnta.gov.vn", true),
    ("rfd", "Cục Tần số vô tuyến điện", "Authority of Radio Frequency Management", "rfd.gov.vn", false),
    ("abei", "Cục Phát thanh, truyền hình và thông tin điện tử", "Authority of Broadcasting and Electronic Information", "abei.gov.vn", true),
    ("ppdvn", "Cục Xuất bản, In và Phát hành", "Authority of Publication, Printing and Distribution", "ppdvn.gov.vn", false),
    ("aita", "Cục Tin học hóa", "Authority of Information Technology Application", "aita.gov.vn", true),
    ("niics", "Viện Chiến lược Thông tin và Truyền thông", "National Institute of Information and Communications Strategy", "niics.gov.vn", true),
    ("vnnic", "Trung tâm Internet Việt Nam", "Vietnam Internet Network Information Center", "vnnic.vn", true),
    ("vncert", "Trung tâm Ứng cứu khẩn cấp máy tính Việt Nam", "Vietnam Computer Emergency Response Team", "vncert.gov.vn", true),
    ("ptit", "Học viện Công nghệ Bưu chính Viễn thông", "Posts and Telecommunications Institute of Technology", "ptit.edu.vn", true),
    ("cbc", "Cục Báo chí", "Authority of Press", "", true),
    ("ttcs", "Cục Thông tin cơ sở", "Authority of Grassroots Information", "", true),
    ("ttdn", "Cục Thông tin đối ngoại", "Authority of Foreign Information Service", "", true),
    ("cds", "Cục Chuyển đổi số quốc gia", "Authority of National Digital Transformation", "", true),
    ("bdtw", "Cục Bưu điện Trung ương", "Central Post Department", "", false),
    ("vbc", "Vụ Bưu chính", "Department of Posts", "", true),
    ("vkhcn", "Vụ Khoa học và Công nghệ", "Department of Science and Technology", "", true),
    ("vkhtc", "Vụ Kế hoạch - Tài chính", "Department of Planning and Finance", "", true),
    ("vhtqt", "Vụ Hợp tác quốc tế", "Department of International Cooperation", "", true),
    ("vpc", "Vụ Pháp chế", "Department of Legal Affairs", "", true),
    ("vtccb", "Vụ Tổ chức cán bộ", "Department of Personnel and Organization", "", true),
    ("thanhtra", "Thanh tra Bộ", "Ministry Inspectorate", "", true),
    ("vpb", "Văn phòng Bộ", "Ministry Office", "", true),
];

fn unit_domains(own: &str) -> Vec<String> {
    own.split_whitespace().map(String::from).collect()
}

#[test]
fn real_units_pass_on_a_fresh_index() {
    let ix = NameIndex::new(ZONE, &[]);
    for &(label, vi, en, own, abbrev) in UNITS {
        let either = is_abbreviation(label, vi) || is_abbreviation(label, en);
        assert_eq!(either, abbrev, "{label:?} abbreviates {vi:?} or {en:?}");
        let own = unit_domains(own);
        let p = Proposal { name_vi: Some(vi), name_en: Some(en), ..proposal(label, &own) };
        let r = check(&ix, &p);
        assert!(r.ok, "{label}: {r:?}");
        let want: &[Code] = if abbrev { &[] } else { &[NotAbbreviation] };
        assert_eq!(codes(&r.warnings), want, "{label}: {r:?}");
    }
}

#[test]
fn real_units_registered_together() {
    let mut ix = NameIndex::new(ZONE, &[]);
    for &(label, _, _, own, _) in UNITS {
        ix.add_member(label, &unit_domains(own));
    }
    for &(label, vi, en, own, _) in UNITS {
        let own = unit_domains(own);
        let p = Proposal { name_vi: Some(vi), name_en: Some(en), ..proposal(label, &own) };
        // Re-checking a member against itself: nothing is taken, nothing imitated.
        let r = check(&ix, &Proposal { owner: Some(label), ..p });
        assert!(r.ok && !r.has(Confusable), "{label}: {r:?}");
        // A newcomer asking for the same label and domain is refused on both.
        let mut want = vec![Taken];
        want.extend(own.iter().map(|_| OwnDomainTaken));
        assert_eq!(codes(&check(&ix, &p).errors), want, "{label}");
    }
}

#[test]
fn hostnames() {
    let label63 = "a".repeat(63);
    let label64 = "a".repeat(64);
    let long = [label63.as_str(); 4].join("."); // 255 characters
    #[rustfmt::skip]
    let cases: Vec<(&str, bool)> = vec![
        ("ais.gov.vn", true),
        ("vnnic.vn", true),
        ("a.b", true),
        ("1.2.3.example", true),
        ("xn--bcher-kva.vn", true),
        ("my-unit.vn", true),
        ("localhost", false),
        ("", false),
        ("ais..vn", false),
        (".ais.vn", false),
        ("ais.vn.", false),
        ("AIS.vn", false),
        ("-ais.vn", false),
        ("ais-.vn", false),
        ("a_b.vn", false),
        ("192.168.1.1", false),
        ("bộ.vn", false),
        (&long, false),
        (&long[..253], true),
    ];
    for (host, want) in cases {
        assert_eq!(is_valid_hostname(host), want, "{host:?}");
    }
    assert!(is_valid_hostname(&format!("{label63}.vn")));
    assert!(!is_valid_hostname(&format!("{label64}.vn")));
}

#[test]
fn strips_every_vietnamese_letter() {
    #[rustfmt::skip]
    let cases: &[(&str, &str)] = &[
        ("àáâãăạảấầẩẫậắằẳẵặ", "aaaaaaaaaaaaaaaaa"),
        ("ÀÁÂÃĂẠẢẤẦẨẪẬẮẰẲẴẶ", "AAAAAAAAAAAAAAAAA"),
        ("èéêẹẻẽếềểễệ", "eeeeeeeeeee"),
        ("ÈÉÊẸẺẼẾỀỂỄỆ", "EEEEEEEEEEE"),
        ("ìíĩỉị ÌÍĨỈỊ", "iiiii IIIII"),
        ("òóôõơọỏốồổỗộớờởỡợ", "ooooooooooooooooo"),
        ("ÒÓÔÕƠỌỎỐỒỔỖỘỚỜỞỠỢ", "OOOOOOOOOOOOOOOOO"),
        ("ùúũưụủứừửữự ÙÚŨƯỤỦỨỪỬỮỰ", "uuuuuuuuuuu UUUUUUUUUUU"),
        ("ýỳỵỷỹ ÝỲỴỶỸ", "yyyyy YYYYY"),
        ("đĐ", "dD"),
        ("Cục An toàn thông tin", "Cuc An toan thong tin"),
        ("Cu\u{323}c", "Cuc"),
        ("ñ ü ß 中 _-.", "ñ ü ß 中 _-."),
        ("ais", "ais"),
    ];
    for &(input, want) in cases {
        assert_eq!(strip_diacritics(input), want, "{input:?}");
    }
}

#[test]
fn normalizes() {
    #[rustfmt::skip]
    let cases: &[(&str, &str)] = &[
        ("AIS.mic.gov.vn.", "ais.mic.gov.vn"),
        ("  ais  ", "ais"),
        ("ais..", "ais."),
        ("CỤC", "cục"),
        (".", ""),
        ("", ""),
    ];
    for &(input, want) in cases {
        assert_eq!(normalize(input), want, "{input:?}");
    }
}

#[test]
fn codes_are_stable() {
    let all = [
        Empty,
        WrongZone,
        NotFourthLevel,
        Diacritics,
        InvalidChars,
        HyphenEdge,
        DoubleHyphen,
        TooLong,
        TooShort,
        Reserved,
        Taken,
        OwnDomainInvalid,
        OwnDomainInZone,
        OwnDomainTaken,
        CanonicalNotOwn,
        ServerInvalid,
        ControlChars,
        NotAbbreviation,
        Confusable,
        Numeric,
    ];
    for code in all {
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, format!("\"{}\"", code.as_str()));
        assert_eq!(code.to_string(), code.as_str());
    }
    let warnings: Vec<Code> = all.into_iter().filter(|c| c.is_warning()).collect();
    assert_eq!(warnings, [NotAbbreviation, Confusable, Numeric]);
    assert_eq!(OwnDomainInZone.as_str(), "own_domain_in_zone");
    assert_eq!(
        [CanonicalNotOwn.as_str(), ServerInvalid.as_str(), ControlChars.as_str()],
        ["canonical_not_own", "server_invalid", "control_chars"]
    );
}

#[test]
fn json_shape() {
    let r = check(&index(), &proposal("Cục ATTT.mic.gov.vn", &[]));
    let v = serde_json::to_value(&r).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["errors", "label", "name", "ok", "suggestion", "warnings"]);
    assert_eq!(v["name"], "cục attt.mic.gov.vn");
    assert_eq!(v["label"], "cục attt");
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"][0]["code"], "diacritics");
    assert_eq!(v["errors"][1]["code"], "invalid_chars");
    assert!(v["errors"][0]["message"].as_str().unwrap().contains("cucattt"));
    assert_eq!(v["warnings"], serde_json::json!([]));
    assert_eq!(v["suggestion"], "cucattt");

    // Field order as documented, `suggestion` present as null.
    let ok = serde_json::to_string(&check(&index(), &proposal("newunit", &[]))).unwrap();
    let want =
        r#"{"name":"newunit.mic.gov.vn","label":"newunit","ok":true,"errors":[],"warnings":[],"suggestion":null}"#;
    assert_eq!(ok, want);
    // `field` is left out when there is none.
    let f = Finding { code: Empty, message: "m".into(), field: None };
    assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"code":"empty","message":"m"}"#);
}

#[test]
fn the_units_names_are_plain_text_and_messages_never_carry_a_control_character() {
    let p =
        Proposal { name_vi: Some("Vụ Pháp chế\u{1b}]0;x\u{7}"), name_en: Some("Legal"), ..proposal("vpc", &[]) };
    let r = check(&index(), &p);
    assert_eq!(codes(&r.errors), [ControlChars]);
    assert_eq!(r.errors[0].field.as_deref(), Some("name_vi"));
    let own = strings(&["ais\u{1b}[2J.vn"]);
    let p = Proposal { name_vi: Some("x\u{1b}"), ..proposal("a\u{1b}\nb.evil", &own) };
    let r = check(&index(), &p);
    assert!(!r.errors.is_empty());
    for f in r.errors.iter().chain(&r.warnings) {
        assert!(!f.message.chars().any(crate::model::escape::is_control), "{f:?}");
    }
}
