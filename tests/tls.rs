//! HTTPS with `tls = "internal"` over real sockets: a certificate per served name from the
//! local CA, verified by a rustls client; a handshake alert for names not served; 421 when
//! Host and SNI name different members; HSTS; the HTTP → HTTPS redirect (but not for ACME
//! challenges); ALPN h2; certificates replaced at runtime without dropping connections;
//! the registry starting issuance; the store reloaded at start; `cong cert` and the API.

use crate::common::registry::{get, Api, Env, Tenants};
use crate::common::tls::{add_config, connect, eventually, https_get, launch, peer_leaf, roots, send, Ports};
use crate::common::{Conn, Proto};
use std::time::Duration;

/// A server with the demo members, HTTPS from the local CA, the admin API on; and the CA
/// as a client root.
async fn internal(name: &str) -> (Env, cong::app::Running, rustls::RootCertStore) {
    let env = Env::new(name, Tenants::Repo);
    add_config(&env, "[https]\ntls = \"internal\"\n");
    let running = launch(&env, Ports::bind().await).await;
    let ca = std::fs::read(env.dir.path().join("certs/_ca/ca.pem")).expect("the local CA is created at start");
    (env, running, roots(&ca))
}

const OWN_NAMES: [&str; 8] = [
    "ais.mic.gov.vn",
    "ais.gov.vn",
    "www.ais.gov.vn",
    "vnnic.mic.gov.vn",
    "vnnic.vn",
    "vncert.mic.gov.vn",
    "ptit.edu.vn",
    "mic.gov.vn",
];

#[tokio::test]
async fn every_served_name_has_its_own_certificate_from_the_local_ca() {
    let (env, running, ca) = internal("tlsnames").await;
    let addr = running.https_addr.unwrap();
    for name in OWN_NAMES {
        let tls = connect(addr, name, &ca, &[b"http/1.1"]).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let leaf = peer_leaf(&tls);
        assert_eq!(leaf.sans, [name.to_string(), format!("{name}.localhost")], "{name}: one name per certificate");
        let resp = send(tls, name, "/").await;
        assert!(matches!(resp.status, 200 | 301), "{name}: {}", resp.status);
        let hsts = resp.header("strict-transport-security");
        let max_age: u64 = hsts.strip_prefix("max-age=").and_then(|v| v.split(';').next()?.parse().ok()).unwrap_or(0);
        assert!(max_age >= 31_536_000, "{name}: HSTS of at least a year: {hsts:?}");
    }
    let home = https_get(addr, "ais.mic.gov.vn", "/", &ca).await;
    assert_eq!(home.status, 200);
    assert!(home.text().contains("Cục An toàn thông tin"), "the member's own site");
    // The development name a browser uses works with the same certificate.
    let dev = https_get(addr, "ais.mic.gov.vn.localhost", "/", &ca).await;
    assert_eq!(dev.status, 200);
    // Each name's expiry is a metric, in seconds from now (local certificates: 90 days).
    let metrics = Api::new(&running, &env).call("GET", "/metrics", "").await.text();
    for name in OWN_NAMES {
        let prefix = format!("cong_certificate_expiry_seconds{{name=\"{name}\"}} ");
        let line = metrics.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("{prefix} in {metrics}"));
        let secs: i64 = line[prefix.len()..].parse().unwrap();
        assert!((89 * 86_400..=90 * 86_400).contains(&secs), "{line}");
    }
    running.stop().await;
}

#[tokio::test]
async fn a_name_not_served_gets_a_handshake_alert_and_no_certificate() {
    let (env, running, ca) = internal("tlsunknown").await;
    let addr = running.https_addr.unwrap();
    let api = Api::new(&running, &env);
    let body = r#"{"label": "ttdl", "name_vi": "Trung tâm Dữ liệu", "membership": "shared"}"#;
    api.post_json("/api/members", body, 201).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    // Unknown, another's own domain (independent member), pending, and no SNI at all.
    for name in ["evil.mic.gov.vn", "vncert.gov.vn", "ttdl.mic.gov.vn", "127.0.0.1", "localhost"] {
        let err = connect(addr, name, &ca, &[b"http/1.1"]).await.err();
        assert!(err.is_some(), "{name}: the handshake must fail, not fall back to a default certificate");
        assert!(!env.dir.path().join("certs").join(name).exists(), "{name}: nothing stored for it");
    }
    // The served names still work on the same listener.
    assert_eq!(https_get(addr, "vnnic.mic.gov.vn", "/", &ca).await.status, 200);
    running.stop().await;
}

#[tokio::test]
async fn a_host_of_another_member_than_the_sni_is_misdirected() {
    let (_env, running, ca) = internal("tls421").await;
    let addr = running.https_addr.unwrap();
    for (host, want) in
        [("vnnic.mic.gov.vn", 421), ("unknown.mic.gov.vn", 421), ("ais.gov.vn", 301), ("ais.mic.gov.vn", 200)]
    {
        for alpn in [&b"http/1.1"[..], &b"h2"[..]] {
            let tls = connect(addr, "ais.mic.gov.vn", &ca, &[alpn]).await.unwrap();
            let resp = send(tls, host, "/").await;
            assert_eq!(resp.status, want, "SNI ais.mic.gov.vn, Host {host}, {}", String::from_utf8_lossy(alpn));
            assert!(resp.header("strict-transport-security").starts_with("max-age="), "HSTS on every HTTPS answer");
        }
    }
    running.stop().await;
}

#[tokio::test]
async fn plain_http_redirects_to_https_except_acme_challenges() {
    let (_env, running, ca) = internal("tlsredirect").await;
    let (http, https) = (running.http_addr, running.https_addr.unwrap());
    let port = https.port();
    let cases = [
        (
            "ais.mic.gov.vn",
            "/tin-tuc/?trang=2&q=a%20b",
            format!("https://ais.mic.gov.vn:{port}/tin-tuc/?trang=2&q=a%20b"),
        ),
        ("vnnic.vn", "/", format!("https://vnnic.vn:{port}/")),
        ("www.ais.gov.vn", "/lien-he/", format!("https://www.ais.gov.vn:{port}/lien-he/")),
        ("vncert.mic.gov.vn", "/x?y", format!("https://vncert.mic.gov.vn:{port}/x?y")),
        (
            "ais.mic.gov.vn.localhost:8080",
            "/gioi-thieu/",
            format!("https://ais.mic.gov.vn.localhost:{port}/gioi-thieu/"),
        ),
    ];
    for (host, path, location) in cases {
        let resp = get(http, host, path).await;
        assert_eq!((resp.status, resp.header("location")), (301, location.as_str()), "http://{host}{path}");
        assert_eq!(resp.header("strict-transport-security"), "", "no HSTS over plain HTTP");
    }
    let followed = https_get(https, "ais.mic.gov.vn", "/tin-tuc/?trang=2&q=a%20b", &ca).await;
    assert_eq!(followed.status, 200, "the redirect target serves");
    // Challenge paths stay on HTTP (a token not issued here is simply not found).
    let challenge = get(http, "ais.mic.gov.vn", "/.well-known/acme-challenge/abc").await;
    assert_eq!(challenge.status, 404, "not redirected: {:?}", challenge.header("location"));
    assert_eq!(get(http, "evil.mic.gov.vn", "/").await.status, 404, "no certificate, no redirect");
    assert_eq!(get(http, "evil.mic.gov.vn", "/healthz").await.status, 200);
    running.stop().await;
}

#[tokio::test]
async fn alpn_offers_h2_and_http1() {
    let (_env, running, ca) = internal("tlsalpn").await;
    let addr = running.https_addr.unwrap();
    for (offer, want) in [(&[&b"h2"[..], b"http/1.1"][..], &b"h2"[..]), (&[&b"http/1.1"[..]][..], &b"http/1.1"[..])] {
        let tls = connect(addr, "vnnic.mic.gov.vn", &ca, offer).await.unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(want));
        let resp = send(tls, "vnnic.mic.gov.vn", "/").await;
        assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(want));
    }
    running.stop().await;
}

/// Many streams at once on one HTTP/2 connection over TLS, where answers are written out
/// together (`serve::cork`): every page arrives whole and the same as over HTTP/1.1, and a
/// file larger than the write buffer and than the client's flow-control window too.
#[tokio::test]
async fn many_streams_on_one_http2_tls_connection_arrive_whole() {
    use http_body_util::{BodyExt, Full};
    let env = Env::new("tlsh2many", Tenants::Copy);
    let big: Vec<u8> = (0..3u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    std::fs::write(env.tenants.join("ais/static/files/bao-cao.pdf"), &big).unwrap();
    add_config(&env, "[https]\ntls = \"internal\"\n");
    let running = launch(&env, Ports::bind().await).await;
    let ca = roots(&std::fs::read(env.dir.path().join("certs/_ca/ca.pem")).unwrap());
    let (addr, host) = (running.https_addr.unwrap(), "ais.mic.gov.vn");
    let paths = ["/", "/gioi-thieu/", "/lien-he/", "/tin-tuc/", "/sitemap.xml", "/static/files/bao-cao.pdf"];
    let mut want = Vec::new();
    for path in paths {
        let resp = https_get(addr, host, path, &ca).await;
        assert_eq!(resp.status, 200, "{path} over HTTP/1.1");
        want.push(resp.body);
    }
    assert!(want[5] == big, "the file's bytes over HTTP/1.1");

    // Well under any timer of client or server: a frame held back in the write buffer would
    // only leave when one fires.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let tls = connect(addr, host, &ca, &[b"h2"]).await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let handshake =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), hyper_util::rt::TokioIo::new(tls));
    let (sender, conn) = tokio::time::timeout_at(deadline, handshake).await.expect("h2 handshake within 5 s").unwrap();
    tokio::spawn(conn);
    // Four rounds of every path, all in flight at once.
    let tasks: Vec<_> = (0..4 * paths.len())
        .map(|i| {
            let (mut sender, path) = (sender.clone(), paths[i % paths.len()]);
            tokio::spawn(async move {
                let req =
                    http::Request::get(format!("https://{host}{path}")).body(Full::new(bytes::Bytes::new())).unwrap();
                let resp = sender.send_request(req).await.expect("h2 response");
                let (status, version) = (resp.status().as_u16(), resp.version());
                let body = resp.into_body().collect().await.expect("h2 body").to_bytes();
                (i % paths.len(), status, version, body)
            })
        })
        .collect();
    for task in tasks {
        let (which, status, version, body) =
            tokio::time::timeout_at(deadline, task).await.expect("every answer within 5 s").unwrap();
        assert_eq!((status, version), (200, http::Version::HTTP_2), "{}", paths[which]);
        assert!(
            body[..] == want[which][..],
            "{}: the same bytes as over HTTP/1.1 ({} bytes)",
            paths[which],
            body.len()
        );
    }
    // The connection is still open: a stop's GOAWAY must leave at once too, or the stop
    // waits for the drain timeout.
    tokio::time::timeout(Duration::from_secs(5), running.stop()).await.expect("stopped within 5 s");
}

#[tokio::test]
async fn a_renewed_certificate_is_served_without_dropping_open_connections() {
    let (env, running, ca) = internal("tlsrenew").await;
    let addr = running.https_addr.unwrap();
    let name = "ais.mic.gov.vn";
    let tls = connect(addr, name, &ca, &[b"http/1.1"]).await.unwrap();
    let before = peer_leaf(&tls).serial;
    let mut conn = Conn::handshake(tls, Proto::H1, "https").await.unwrap();
    assert_eq!(conn.get(name, "/").await.unwrap().status, 200);

    env.cli(&["cert", "renew", name]).expect_code(0);
    eventually(Duration::from_secs(10), "a new certificate is served", || {
        let (ca, before) = (ca.clone(), before.clone());
        async move {
            let tls = connect(addr, name, &ca, &[b"http/1.1"]).await.map_err(|e| e.to_string())?;
            let serial = peer_leaf(&tls).serial;
            if serial != before {
                Ok(())
            } else {
                Err(format!("still serial {serial}"))
            }
        }
    })
    .await;
    // The connection opened before the swap is still served.
    assert_eq!(conn.get(name, "/").await.unwrap().status, 200, "the old connection survives");
    // The other names were not touched, and a stranger's name cannot be renewed.
    let out = env.cli(&["cert", "renew", "evil.mic.gov.vn"]);
    out.expect_code(1);
    assert!(out.stderr.contains("not a name this platform serves"), "{out}");
    running.stop().await;
}

#[tokio::test]
async fn activation_starts_issuance_without_a_restart() {
    let (env, running, ca) = internal("tlsactivate").await;
    let (addr, api) = (running.https_addr.unwrap(), Api::new(&running, &env));
    let body = r#"{"label": "ttdl", "name_vi": "Trung tâm Dữ liệu", "membership": "shared"}"#;
    api.post_json("/api/members", body, 201).await;
    api.post_json("/api/members/ttdl/activate", "{}", 200).await;
    eventually(Duration::from_secs(10), "ttdl.mic.gov.vn gets a certificate", || {
        let ca = ca.clone();
        async move { connect(addr, "ttdl.mic.gov.vn", &ca, &[b"http/1.1"]).await.map(|_| ()).map_err(|e| e.to_string()) }
    })
    .await;
    let member = api.get_json("/api/members/ttdl", 200).await;
    assert_eq!(member["certificate"]["status"], "valid", "{member}");
    assert_eq!(member["certificate"]["names"][0]["name"], "ttdl.mic.gov.vn", "{member}");
    // Suspension stops issuance: a renewal request for it is refused.
    api.post_json("/api/members/ttdl/suspend", r#"{"reason": "test"}"#, 200).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    env.cli(&["cert", "renew", "ttdl.mic.gov.vn"]).expect_code(1);
    running.stop().await;
}

#[tokio::test]
async fn the_store_is_kept_on_disk_and_loaded_at_start() {
    let (env, running, ca) = internal("tlsstore").await;
    let name = "vnnic.mic.gov.vn";
    let first = peer_leaf(&connect(running.https_addr.unwrap(), name, &ca, &[b"h2"]).await.unwrap()).serial;
    let dir = env.dir.path().join("certs").join(name);
    for file in ["fullchain.pem", "key.pem", "meta.json"] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("key.pem")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "private keys are 0600");
        let ca_key = std::fs::metadata(env.dir.path().join("certs/_ca/ca-key.pem")).unwrap().permissions().mode();
        assert_eq!(ca_key & 0o777, 0o600, "the CA key too");
    }
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["source"], "internal");
    assert!(meta["issuer"].as_str().unwrap().contains("cong local development CA"), "{meta}");
    assert!(meta["not_after"].as_u64().unwrap() > meta["not_before"].as_u64().unwrap());

    let status = Api::new(&running, &env).get_json("/api/status", 200).await;
    let rows = status["certificates"]["names"].as_array().expect("certificate rows");
    assert!(rows.iter().any(|r| r["name"] == name && r["status"] == "valid"), "{status}");
    running.stop().await;

    // A new server on the same store serves the same certificate (loaded, not re-issued).
    let again = launch(&env, Ports::bind().await).await;
    let second = peer_leaf(&connect(again.https_addr.unwrap(), name, &ca, &[b"h2"]).await.unwrap()).serial;
    assert_eq!(first, second);
    again.stop().await;

    let list = env.cli(&["cert", "list", "--json"]);
    list.expect_code(0);
    let doc = list.json();
    let row = doc["certificates"].as_array().unwrap().iter().find(|r| r["name"] == name).cloned().unwrap();
    assert_eq!(row["status"], "valid", "{row}");
    assert!(row["not_after"].as_str().unwrap().ends_with('Z'), "{row}");
    let table = env.cli(&["cert", "list"]);
    assert!(table.stdout.contains(name) && table.stdout.contains("local CA:"), "{table}");
    let ca_path = env.cli(&["cert", "ca"]);
    assert_eq!(ca_path.stdout.trim(), env.dir.path().join("certs/_ca/ca.pem").display().to_string(), "{ca_path}");
}
