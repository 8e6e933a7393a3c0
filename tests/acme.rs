//! ACME end to end against Pebble (Let's Encrypt's test CA) and its DNS server, on free
//! ports, with Pebble's HTTP-01 and TLS-ALPN-01 ports pointed at cong's listeners:
//! certificates for every served name, served and verified against Pebble's root, with
//! nonces Pebble rejected on the way (counted by a relay); both challenge types (the other
//! port pointed nowhere, so only one can work); renewal of short-lived certificates
//! without a restart; recovery when Pebble starts late; no order for a name that is not
//! registered, even when a client asks for it. These tests need the Debian package
//! `pebble` (scripts/test installs it) and never skip.

use crate::common::registry::{get, Api, Env, Tenants};
use crate::common::tls::{
    add_config, connect, eventually, free_port, https_get, launch, pebble_https_cert, peer_leaf, AcmeRelay, Pebble,
    PebbleOpts, Ports,
};
use crate::common::{Conn, Proto};
use std::time::Duration;

/// Upper bound for certificates to arrive (a debug build on a busy two-core machine).
const ISSUANCE: Duration = Duration::from_secs(120);

/// Names the demo members hold certificates for with ACME (no zone apex).
const DEMO_NAMES: [&str; 12] = [
    "ais.gov.vn",
    "ais.mic.gov.vn",
    "cbc.mic.gov.vn",
    "cds.mic.gov.vn",
    "ptit.edu.vn",
    "ptit.mic.gov.vn",
    "ttt.mic.gov.vn",
    "vncert.mic.gov.vn",
    "vnnic.mic.gov.vn",
    "vnnic.vn",
    "www.ais.gov.vn",
    "www.ptit.edu.vn",
];

/// cong.toml sections for ACME against `directory`, trusting `ca_root`, fast retries.
fn acme_config(directory: &str, ca_root: &std::path::Path, challenge: &str) -> String {
    let s = |v: &str| toml::Value::String(v.to_string()).to_string();
    format!(
        "[https]\ntls = \"acme\"\n\n[acme]\ndirectory = {}\nca_root = {}\nchallenge = {}\nrenew_check_secs = 1\n\
         orders_per_minute = 600\nretry_min_secs = 1\nretry_max_secs = 2\n",
        s(directory),
        s(&ca_root.display().to_string()),
        s(challenge)
    )
}

/// An env serving only the demo sites named in `keep` (all of them when empty).
fn env_with(name: &str, keep: &[&str]) -> Env {
    let env = Env::new(name, if keep.is_empty() { Tenants::Repo } else { Tenants::Copy });
    if !keep.is_empty() {
        for entry in std::fs::read_dir(&env.tenants).unwrap().flatten() {
            let label = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() && !keep.contains(&label.as_str()) {
                std::fs::remove_dir_all(entry.path()).unwrap();
            }
        }
    }
    env
}

/// Wait until every name in `names` is served with a certificate that chains to `root`.
async fn await_certificates(addr: std::net::SocketAddr, names: &[&str], root: &rustls::RootCertStore, pebble: &Pebble) {
    for name in names {
        let what = format!("{name} is served with a certificate from Pebble");
        eventually(ISSUANCE, &what, || {
            let root = root.clone();
            async move { connect(addr, name, &root, &[b"http/1.1"]).await.map(|_| ()).map_err(|e| e.to_string()) }
        })
        .await;
        assert!(pebble.log_text().contains("Issued certificate"), "pebble issued");
    }
}

/// Strangers ask for `name` by SNI and Host; nothing may order it.
async fn ask_as_a_stranger(running: &cong::app::Running, name: &str, root: &rustls::RootCertStore) {
    assert!(connect(running.https_addr.unwrap(), name, root, &[b"http/1.1"]).await.is_err(), "{name}: handshake fails");
    assert_eq!(get(running.http_addr, name, "/").await.status, 404);
    assert_eq!(get(running.http_addr, name, "/.well-known/acme-challenge/x").await.status, 404);
}

#[tokio::test]
async fn http01_issues_for_every_served_name_and_survives_bad_nonces() {
    let ports = Ports::bind().await;
    let dir = tempfile::tempdir().unwrap();
    // TLS-ALPN-01 leads nowhere: only HTTP-01 can succeed. Pebble rejects 15% of good
    // nonces (three times its default), so among the ~80 signed requests of 12 orders some
    // are refused and the client must retry them; the relay counts them.
    let opts = PebbleOpts {
        http_port: ports.http_port(),
        tls_port: free_port(),
        nonce_reject: 15,
        validity_secs: None,
        listen_port: None,
    };
    let pebble = Pebble::start(dir.path(), &opts);
    let relay = AcmeRelay::start(dir.path(), &pebble).await;
    let env = env_with("acmehttp", &[]);
    add_config(&env, &acme_config(&relay.directory, &pebble.https_root, "http-01"));
    let running = launch(&env, ports).await;
    let root = pebble.issuing_root().await;
    ask_as_a_stranger(&running, "evil.mic.gov.vn", &root).await;
    ask_as_a_stranger(&running, "vncert.gov.vn", &root).await;

    let addr = running.https_addr.unwrap();
    await_certificates(addr, &DEMO_NAMES, &root, &pebble).await;
    // Chance of no rejection in ~80 requests at 15%: about one in a million.
    let rejected = relay.bad_nonces();
    eprintln!("Pebble answered badNonce {rejected} times; every certificate arrived regardless");
    assert!(rejected > 0, "Pebble rejected no nonce, so no retry was tested:\n{}", pebble.log_text());
    for name in DEMO_NAMES {
        let resp = https_get(addr, name, "/", &root).await;
        assert!(matches!(resp.status, 200 | 301), "{name}: {}", resp.status);
        assert!(!resp.header("strict-transport-security").is_empty(), "{name}: HSTS");
        let leaf = peer_leaf(&connect(addr, name, &root, &[b"h2"]).await.unwrap());
        assert_eq!(leaf.sans, [name], "{name}: a certificate of its own");
        assert!(leaf.issuer.contains("Pebble"), "{}", leaf.issuer);
    }
    // Plain HTTP now redirects, and the state is visible to people and scripts.
    let redirect = get(running.http_addr, "ais.mic.gov.vn", "/tin-tuc/?a=1").await;
    assert_eq!(redirect.header("location"), format!("https://ais.mic.gov.vn:{}/tin-tuc/?a=1", addr.port()));
    let api = Api::new(&running, &env);
    let member = api.get_json("/api/members/ais", 200).await;
    assert_eq!(member["certificate"]["status"], "valid", "{member}");
    let list = env.cli(&["cert", "list", "--json"]).json();
    let rows = list["certificates"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, DEMO_NAMES, "exactly the served names: {list}");
    assert!(rows.iter().all(|r| r["status"] == "valid" && r["source"] == "acme"), "{list}");

    // The strangers' names were never ordered (Pebble's log names what it validates).
    ask_as_a_stranger(&running, "evil.mic.gov.vn", &root).await;
    assert!(pebble.log_mentions("ais.mic.gov.vn"), "the log names validated hosts:\n{}", pebble.log_text());
    for stranger in ["evil.mic.gov.vn", "vncert.gov.vn"] {
        assert!(!env.dir.path().join("certs").join(stranger).exists(), "{stranger}: nothing stored");
        assert!(!pebble.log_mentions(stranger), "{stranger}: Pebble never saw it:\n{}", pebble.log_text());
    }
    // One account for the directory, its key private.
    let accounts: Vec<_> = std::fs::read_dir(env.dir.path().join("certs/_acme")).unwrap().flatten().collect();
    assert_eq!(accounts.len(), 1, "one account per directory");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(accounts[0].metadata().unwrap().permissions().mode() & 0o777, 0o600);
    }
    running.stop().await;
}

#[tokio::test]
async fn tls_alpn01_is_answered_by_the_https_listener() {
    let ports = Ports::bind().await;
    let dir = tempfile::tempdir().unwrap();
    // HTTP-01 leads nowhere: only TLS-ALPN-01 can succeed.
    let opts = PebbleOpts {
        http_port: free_port(),
        tls_port: ports.https_port(),
        nonce_reject: 0,
        validity_secs: None,
        listen_port: None,
    };
    let pebble = Pebble::start(dir.path(), &opts);
    let env = env_with("acmealpn", &["ais", "vncert"]);
    add_config(&env, &acme_config(&pebble.directory, &pebble.https_root, "tls-alpn-01"));
    let running = launch(&env, ports).await;
    let root = pebble.issuing_root().await;
    let names = ["ais.gov.vn", "ais.mic.gov.vn", "vncert.mic.gov.vn", "www.ais.gov.vn"];
    await_certificates(running.https_addr.unwrap(), &names, &root, &pebble).await;
    let resp = https_get(running.https_addr.unwrap(), "vncert.mic.gov.vn", "/", &root).await;
    assert_eq!((resp.status, resp.header("location")), (301, "https://vncert.gov.vn/"), "independent: redirected");
    running.stop().await;
}

#[tokio::test]
async fn short_lived_certificates_are_renewed_and_served_without_a_restart() {
    let ports = Ports::bind().await;
    let dir = tempfile::tempdir().unwrap();
    // 24-second certificates: renewal is due after 16 seconds (a third left).
    let opts = PebbleOpts {
        http_port: ports.http_port(),
        tls_port: ports.https_port(),
        nonce_reject: 0,
        validity_secs: Some(24),
        listen_port: None,
    };
    let pebble = Pebble::start(dir.path(), &opts);
    let env = env_with("acmerenew", &["vnnic"]);
    add_config(&env, &acme_config(&pebble.directory, &pebble.https_root, "http-01"));
    let running = launch(&env, ports).await;
    let root = pebble.issuing_root().await;
    let (addr, name) = (running.https_addr.unwrap(), "vnnic.mic.gov.vn");
    await_certificates(addr, &[name], &root, &pebble).await;
    let tls = connect(addr, name, &root, &[b"http/1.1"]).await.unwrap();
    let first = peer_leaf(&tls);
    assert!(first.not_after - first.not_before <= 30, "short-lived: {first:?}");
    let mut conn = Conn::handshake(tls, Proto::H1, "https").await.unwrap();
    assert_eq!(conn.get(name, "/").await.unwrap().status, 200);

    // Keep the old connection busy (idle ones are closed by the idle timeout) while
    // waiting for the renewed certificate on new connections.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        assert_eq!(conn.get(name, "/").await.unwrap().status, 200, "the open connection keeps working");
        let leaf = peer_leaf(&connect(addr, name, &root, &[b"http/1.1"]).await.unwrap());
        if leaf.serial != first.serial {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no renewed certificate within 60 s");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let renewed = peer_leaf(&connect(addr, name, &root, &[b"http/1.1"]).await.unwrap());
    assert!(renewed.not_after > first.not_after, "{renewed:?} after {first:?}");
    assert!(
        renewed.not_before + 1 >= first.not_before + 16 - 1,
        "renewed once a third was left: {renewed:?} {first:?}"
    );
    assert_eq!(conn.get(name, "/").await.unwrap().status, 200, "the open connection was not dropped");
    running.stop().await;
}

#[tokio::test]
async fn issuance_recovers_by_itself_when_pebble_starts_late() {
    let ports = Ports::bind().await;
    let (http_port, https_port) = (ports.http_port(), ports.https_port());
    let dir = tempfile::tempdir().unwrap();
    let listen = free_port();
    let directory = format!("https://127.0.0.1:{listen}/dir");
    // Pebble's own HTTPS certificate is made now; Pebble itself starts much later.
    let (https_root, _, _) = pebble_https_cert(dir.path());
    let env = env_with("acmelate", &["ttt"]);
    add_config(&env, &acme_config(&directory, &https_root, "http-01"));
    let running = launch(&env, ports).await;
    let meta_path = env.dir.path().join("certs/ttt.mic.gov.vn/meta.json");
    eventually(Duration::from_secs(30), "failures are recorded with back-off", || {
        let (meta_path, directory) = (meta_path.clone(), directory.clone());
        async move {
            let meta: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&meta_path).map_err(|e| e.to_string())?)
                    .map_err(|e| e.to_string())?;
            let (failures, error) = (meta["failures"].as_u64().unwrap_or(0), meta["last_error"].as_str().unwrap_or(""));
            let waits =
                meta["next_retry"].as_u64().unwrap_or(0).saturating_sub(meta["last_attempt"].as_u64().unwrap_or(0));
            if failures >= 2 && error.contains(&directory) && waits <= 2 {
                Ok(())
            } else {
                Err(format!("{meta}"))
            }
        }
    })
    .await;
    let list = env.cli(&["cert", "list"]);
    assert!(list.stdout.contains("failing") && list.stdout.contains("next attempt"), "the error is shown:\n{list}");

    let opts =
        PebbleOpts { http_port, tls_port: https_port, nonce_reject: 0, validity_secs: None, listen_port: Some(listen) };
    let pebble = Pebble::start(dir.path(), &opts);
    let root = pebble.issuing_root().await;
    await_certificates(running.https_addr.unwrap(), &["ttt.mic.gov.vn"], &root, &pebble).await;
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    assert_eq!((meta["failures"].as_u64(), meta["last_error"].as_str()), (Some(0), None), "cleared on success: {meta}");
    running.stop().await;
}
