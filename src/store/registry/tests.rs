use super::*;
use std::sync::{Arc, Barrier};
use std::time::UNIX_EPOCH;

const ZONE: &str = "mic.gov.vn";

fn reg(label: &str) -> Registration {
    Registration {
        names: Names {
            label: label.to_string(),
            name_vi: format!("Đơn vị {label}"),
            name_en: format!("Unit {label}"),
            membership: Membership::Shared,
            own_domains: Vec::new(),
            aliases: Vec::new(),
            canonical: None,
            servers: Vec::new(),
        },
        status: Status::Pending,
        override_reason: None,
    }
}

fn fresh() -> (tempfile::TempDir, Registry) {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::open(&dir.path().join("data/registry.db")).unwrap();
    (dir, registry)
}

fn raw(registry: &Registry) -> Connection {
    Connection::open(registry.path()).unwrap()
}

#[test]
fn registry_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Registry>();
}

#[test]
fn open_creates_folder_and_schema_v1() {
    let (_dir, registry) = fresh();
    assert!(registry.path().exists());
    let conn = raw(&registry);
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64);
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").unwrap();
    let tables: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
    for table in ["audit", "dns_results", "members", "names", "servers"] {
        assert!(tables.iter().any(|t| t == table), "{table} in {tables:?}");
    }
    // Per-connection settings, so asked of the registry's own connection.
    let setting = |name| -> i64 { registry.conn.pragma_query_value(None, name, |r| r.get(0)).unwrap() };
    assert_eq!((setting("foreign_keys"), setting("synchronous")), (1, 1));
    assert_eq!(setting("busy_timeout"), 5000);
    assert!(registry.is_empty().unwrap());
}

#[test]
fn newer_schema_is_refused() {
    let (_dir, registry) = fresh();
    let path = registry.path().to_path_buf();
    drop(registry);
    let conn = Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    match Registry::open(&path) {
        Err(RegistryError::TooNew { found, supported, .. }) => {
            assert_eq!((found, supported), (99, MIGRATIONS.len() as i64))
        }
        other => panic!("expected TooNew, got {other:?}"),
    }
}

#[test]
fn register_show_list_and_reopen() {
    let (_dir, mut registry) = fresh();
    let mut ais = reg("AIS");
    ais.names.own_domains = vec!["AIS.gov.vn.".into(), "ais.gov.vn".into(), "b.vn".into()];
    ais.names.aliases = vec!["www.ais.gov.vn".into(), " ".into()];
    ais.names.canonical = Some("Ais.Gov.Vn".into());
    ais.names.membership = Membership::Independent;
    ais.names.servers = vec!["203.0.113.7".into(), "Web.AIS.gov.vn".into()];
    let made = registry.register(&ais, "MIC.gov.vn.", "tester").unwrap();
    let expected = Member {
        names: Names {
            label: "ais".into(),
            name_vi: "Đơn vị AIS".into(),
            name_en: "Unit AIS".into(),
            membership: Membership::Independent,
            own_domains: vec!["ais.gov.vn".into(), "b.vn".into()],
            aliases: vec!["www.ais.gov.vn".into()],
            canonical: Some("ais.gov.vn".into()),
            servers: vec!["203.0.113.7".into(), "web.ais.gov.vn".into()],
        },
        status: Status::Pending,
        maintenance: None,
    };
    assert_eq!(made, expected);
    registry.register(&reg("cucattt"), ZONE, "tester").unwrap();
    registry.register(&reg("abc"), ZONE, "tester").unwrap();
    assert_eq!(registry.member("ais").unwrap(), Some(expected.clone()));
    assert_eq!(registry.member("nope").unwrap(), None);
    assert!(!registry.is_empty().unwrap());

    let path = registry.path().to_path_buf();
    drop(registry);
    let registry = Registry::open(&path).unwrap();
    let labels: Vec<String> = registry.members().unwrap().into_iter().map(|m| m.names.label).collect();
    assert_eq!(labels, ["abc", "ais", "cucattt"]);
    assert_eq!(registry.member("AIS").unwrap(), Some(expected));
}

#[test]
fn duplicate_label_is_taken_by_its_owner() {
    let (_dir, mut registry) = fresh();
    registry.register(&reg("ais"), ZONE, "t").unwrap();
    let err = registry.register(&reg("Ais"), ZONE, "t").unwrap_err();
    assert!(
        matches!(&err, RegistryError::Taken { host, owner }
            if host == "ais.mic.gov.vn" && owner == "ais"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "\"ais.mic.gov.vn\" is already registered to member \"ais\"");
    assert_eq!(registry.audit(10).unwrap().len(), 1);
}

#[test]
fn own_domain_held_by_another_member_is_taken() {
    let (_dir, mut registry) = fresh();
    let mut ais = reg("ais");
    ais.names.own_domains = vec!["ais.gov.vn".into()];
    registry.register(&ais, ZONE, "t").unwrap();
    let mut other = reg("other");
    other.names.own_domains = vec!["other.vn".into(), "AIS.gov.vn.".into()];
    let err = registry.register(&other, ZONE, "t").unwrap_err();
    assert!(
        matches!(&err, RegistryError::Taken { host, owner }
            if host == "ais.gov.vn" && owner == "ais"),
        "{err:?}"
    );
    // Nothing of the failed registration is left behind.
    assert_eq!(registry.member("other").unwrap(), None);
    other.names.own_domains = vec!["other.vn".into()];
    registry.register(&other, ZONE, "t").unwrap();
}

#[test]
fn status_transitions() {
    use Status::*;
    let table = [
        (Pending, Pending, false),
        (Pending, Active, true),
        (Pending, Suspended, false),
        (Pending, Archived, true),
        (Active, Pending, false),
        (Active, Active, false),
        (Active, Suspended, true),
        (Active, Archived, true),
        (Suspended, Pending, false),
        (Suspended, Active, true),
        (Suspended, Suspended, false),
        (Suspended, Archived, true),
        (Archived, Pending, false),
        (Archived, Active, false),
        (Archived, Suspended, false),
        (Archived, Archived, false),
    ];
    let (_dir, mut registry) = fresh();
    for (i, (from, to, ok)) in table.into_iter().enumerate() {
        let label = format!("m{i}");
        let mut r = reg(&label);
        r.status = from;
        registry.register(&r, ZONE, "t").unwrap();
        let result = registry.set_status(&label, to, "t", Some("why"));
        let now = registry.member(&label).unwrap().unwrap().status;
        match result {
            Ok(member) if ok => {
                assert_eq!((member.status, now), (to, to), "{from} -> {to}");
                assert_eq!(registry.audit(1).unwrap()[0].action, verb(to));
            }
            Err(RegistryError::InvalidTransition { from: f, .. }) if !ok => {
                assert_eq!((f, now), (from, from), "{from} -> {to}");
            }
            other => panic!("{from} -> {to}: expected ok={ok}, got {other:?}"),
        }
    }
    let err = registry.set_status("ghost", Active, "t", None).unwrap_err();
    assert!(matches!(err, RegistryError::NotFound { .. }), "{err:?}");
    let err = registry.set_status("m0", Suspended, "t", None).unwrap_err();
    assert_eq!(err.to_string(), "member \"m0\" is pending; cannot suspend");
}

#[test]
fn audit_is_newest_first_and_append_only() {
    let (_dir, mut registry) = fresh();
    let mut ais = reg("ais");
    ais.override_reason = Some("approved by the ministry".into());
    registry.register(&ais, ZONE, "alice").unwrap();
    registry.set_status("ais", Status::Active, "bob", Some("go live")).unwrap();
    registry.set_status("ais", Status::Suspended, "bob", None).unwrap();
    let log = registry.audit(10).unwrap();
    let summary: Vec<(&str, &str, Option<&str>)> =
        log.iter().map(|e| (e.action.as_str(), e.actor.as_str(), e.reason.as_deref())).collect();
    assert_eq!(
        summary,
        [
            ("suspend", "bob", None),
            ("activate", "bob", Some("go live")),
            ("register", "alice", Some("approved by the ministry")),
        ]
    );
    assert_eq!(log[1].detail["from"], "pending");
    assert_eq!(log[1].detail["to"], "active");
    // The register row's detail: the registration, flat, as it was stored.
    let detail = serde_json::json!({
        "label": "ais", "name_vi": "Đơn vị ais", "name_en": "Unit ais", "membership": "shared",
        "own_domains": [], "aliases": [], "canonical": null, "servers": [],
        "status": "pending", "override_reason": "approved by the ministry",
    });
    assert_eq!(log[2].detail, detail);
    assert!(log[0].at.ends_with('Z') && log[0].at.len() == 20, "{}", log[0].at);
    assert_eq!(registry.audit(2).unwrap().len(), 2);

    let conn = raw(&registry);
    let update = conn.execute("UPDATE audit SET actor = 'mallory'", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = conn.execute("DELETE FROM audit", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    assert_eq!(registry.audit(10).unwrap().len(), 3);
    assert_eq!(registry.audit(10).unwrap()[2].actor, "alice");
}

#[test]
fn concurrent_registrations_have_one_winner() {
    // A brand-new file: the two also race to create the schema.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    let barrier = Arc::new(Barrier::new(2));
    let workers: Vec<_> = (0..2)
        .map(|worker| {
            let (path, barrier) = (path.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let mut registry = Registry::open(&path).unwrap();
                (0..20)
                    .map(|i| {
                        barrier.wait();
                        let actor = format!("worker{worker}");
                        registry.register(&reg(&format!("dv{i}")), ZONE, &actor)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let results: Vec<Vec<_>> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    assert_eq!((results[0].len(), results[1].len()), (20, 20));
    for (i, pair) in results[0].iter().zip(&results[1]).enumerate() {
        let label = format!("dv{i}");
        let pair = [pair.0, pair.1];
        let wins = pair.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "{label}: {pair:?}");
        let lost = pair.iter().find_map(|r| r.as_ref().err()).unwrap();
        assert!(matches!(lost, RegistryError::Taken { owner, .. } if *owner == label), "{lost:?}");
    }
    let registry = Registry::open(&dir.path().join("registry.db")).unwrap();
    assert_eq!(registry.members().unwrap().len(), 20);
    assert_eq!(registry.audit(100).unwrap().len(), 20);
}

#[test]
fn concurrent_first_opens_all_succeed() {
    // Switching a new file to WAL can fail at once as "busy"; `enable_wal` retries.
    for _ in 0..30 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.db");
        let barrier = Arc::new(Barrier::new(4));
        let openers: Vec<_> = (0..4)
            .map(|_| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    Registry::open(&path).map(drop)
                })
            })
            .collect();
        for opener in openers {
            opener.join().unwrap().unwrap();
        }
    }
}

#[test]
fn change_marker_moves_on_any_commit() {
    let (_dir, mut poller) = fresh();
    let mut writer = Registry::open(poller.path()).unwrap();
    let start = poller.change_marker().unwrap();
    assert_eq!(poller.change_marker().unwrap(), start, "stable when idle");
    writer.register(&reg("ais"), ZONE, "t").unwrap();
    let after_other = poller.change_marker().unwrap();
    assert_ne!(after_other, start, "another connection's commit");
    poller.register(&reg("abc"), ZONE, "t").unwrap();
    let after_own = poller.change_marker().unwrap();
    assert_ne!(after_own, after_other, "this connection's commit");
    assert!(poller.register(&reg("abc"), ZONE, "t").is_err());
    assert_eq!(poller.change_marker().unwrap(), after_own, "failed write");
}

#[test]
fn dns_results_replace_the_previous_per_member_and_leave_the_marker() {
    let (_dir, mut registry) = fresh();
    let row = |label: &str, at: &str, status: &str| DnsResult {
        label: label.into(),
        checked_at: at.into(),
        status: status.into(),
        report: serde_json::json!({ "label": label, "status": status }),
    };
    assert!(registry.last_dns().unwrap().is_empty());
    let marker = registry.change_marker().unwrap();
    registry
        .store_dns(&[row("cbc", "2026-01-01T00:00:00Z", "failed"), row("ais", "2026-01-01T00:00:00Z", "passed")])
        .unwrap();
    registry.store_dns(&[row("cbc", "2026-01-02T00:00:00Z", "passed")]).unwrap();
    assert_eq!(registry.change_marker().unwrap(), marker, "DNS results do not change routing");
    let last = registry.last_dns().unwrap();
    assert_eq!(last, [row("ais", "2026-01-01T00:00:00Z", "passed"), row("cbc", "2026-01-02T00:00:00Z", "passed")]);
    let bad = registry.store_dns(&[row("ais", "2026-01-03T00:00:00Z", "great")]);
    assert!(bad.is_err(), "the status is one of four");
    assert_eq!(registry.last_dns().unwrap()[0].status, "passed", "a refused write changes nothing");
}

#[test]
fn a_version_1_file_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute_batch(MIGRATIONS[0]).unwrap();
        tx.pragma_update(None, "user_version", 1).unwrap();
        tx.commit().unwrap();
    }
    let mut registry = Registry::open(&path).unwrap();
    registry.register(&reg("ais"), ZONE, "t").unwrap();
    let version: i64 = registry.conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64);
    assert!(registry.last_dns().unwrap().is_empty());
}

#[test]
fn integrity_check_reports_ok() {
    let (_dir, mut registry) = fresh();
    registry.register(&reg("ais"), ZONE, "t").unwrap();
    assert_eq!(registry.integrity_check().unwrap(), "ok");
}

#[test]
fn rfc3339_formats_utc() {
    let table = [
        (0, "1970-01-01T00:00:00Z"),
        (951_825_600, "2000-02-29T12:00:00Z"),
        (1_078_012_800, "2004-02-29T00:00:00Z"),
        (1_700_000_000, "2023-11-14T22:13:20Z"),
        (4_107_542_399, "2100-02-28T23:59:59Z"),
    ];
    for (secs, want) in table {
        let t = UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(rfc3339(t), want, "{secs}");
    }
}

#[test]
fn an_empty_registry_is_fresh_until_a_member_is_stored_and_lost_after() {
    let (dir, mut registry) = fresh();
    let marker = dir.path().join("data").join(MARKER);
    assert_eq!(registry.found().unwrap(), Found::Fresh, "a new data folder");
    assert!(!marker.exists(), "looking writes nothing");
    registry.register(&reg("ais"), ZONE, "test").unwrap();
    assert!(marker.is_file(), "the first member stored writes the marker");
    assert_eq!(registry.found().unwrap(), Found::Members);
    drop(registry);

    // registry.db deleted (its WAL too): the folder remembers it held members.
    for f in ["registry.db", "registry.db-wal", "registry.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join("data").join(f));
    }
    let registry = Registry::open(&dir.path().join("data/registry.db")).unwrap();
    assert!(registry.is_empty().unwrap());
    assert_eq!(registry.found().unwrap(), Found::Lost { marker: marker.clone() });

    // A data folder older than the marker gets it from the first start that finds members.
    let (dir, mut registry) = fresh();
    registry.register(&reg("ais"), ZONE, "test").unwrap();
    let marker = dir.path().join("data").join(MARKER);
    std::fs::remove_file(&marker).unwrap();
    assert_eq!(registry.found().unwrap(), Found::Members);
    assert!(marker.is_file());
}

#[test]
fn a_note_goes_into_the_audit_log_without_changing_members() {
    let (_dir, mut registry) = fresh();
    let before = registry.change_marker().unwrap();
    let detail = serde_json::json!({"errors": ["too_short"]});
    registry.note("cong serve (first start)", "refuse_import", "a", &detail, Some("why")).unwrap();
    let log = registry.audit(10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].action.as_str(), log[0].label.as_str(), log[0].reason.as_deref()),
        ("refuse_import", "a", Some("why"))
    );
    assert_eq!(log[0].detail, detail);
    assert!(registry.is_empty().unwrap());
    assert_eq!(registry.change_marker().unwrap(), before, "routing is unchanged");
}

#[test]
fn register_all_stores_each_registration_on_its_own_in_one_transaction() {
    let (_dir, mut registry) = fresh();
    let mut clash = reg("vnnic");
    clash.names.own_domains = vec!["ais.gov.vn".into()];
    let mut ais = reg("ais");
    ais.names.own_domains = vec!["ais.gov.vn".into()];
    let outcomes = registry.register_all(&[ais, reg("ais"), clash, reg("cbc")], ZONE, "test").unwrap();
    assert!(outcomes[0].is_ok(), "{outcomes:?}");
    assert!(matches!(outcomes[1], Err(RegistryError::Taken { .. })), "the same label again: {outcomes:?}");
    assert!(matches!(outcomes[2], Err(RegistryError::Taken { .. })), "a domain already held: {outcomes:?}");
    assert!(outcomes[3].is_ok(), "{outcomes:?}");
    // What failed left nothing of its own: no vnnic, no name of it, one audit row per member.
    let labels: Vec<String> = registry.members().unwrap().into_iter().map(|m| m.names.label).collect();
    assert_eq!(labels, ["ais", "cbc"]);
    assert_eq!(registry.audit(10).unwrap().len(), 2);
    assert!(registry.member("vnnic").unwrap().is_none());
}
