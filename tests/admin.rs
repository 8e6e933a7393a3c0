//! The admin API (docs/cli.md) over real sockets: a server launched in-process on a
//! temp `cong.toml` with a fresh registry (the demo sites imported), called as a script
//! would, with the public listener checked for the effect of each change.

use crate::common::registry::{
    await_status, codes, demo_labels, error_code, get, launch, request, Api, Env, Tenants, HTTP_TIMEOUT,
};
use serde_json::Value;
use std::collections::BTreeSet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A unit that is not in the demo; "vpc" abbreviates its Vietnamese name.
const VPC: &str =
    r#"{"label": "vpc", "name_vi": "Vụ Pháp chế", "name_en": "Department of Legal Affairs", "membership": "shared"}"#;

/// Labels of a `{"members": [...]}` answer, in order.
fn labels(list: &Value) -> Vec<String> {
    list["members"]
        .as_array()
        .unwrap_or_else(|| panic!("no members array: {list}"))
        .iter()
        .map(|m| m["label"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_the_admin_listener_does_not_start_and_the_site_still_serves() {
    for (name, token) in [("notoken", None), ("blanktoken", Some("   "))] {
        let env = Env::new(name, Tenants::Repo);
        let mut config = env.config();
        config.admin_token = token.map(String::from);
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind http");
        let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind admin");
        let admin_addr = admin.local_addr().expect("admin address");
        let running = cong::app::launch(config, cong::app::Bound { http, admin: Some(admin), https: None })
            .await
            .expect("the server starts without a token");
        running.ready().await;
        assert_eq!(running.admin_addr, None, "{name}: no admin API without a token");
        let refused = tokio::net::TcpStream::connect(admin_addr).await;
        assert!(refused.is_err(), "{name}: nothing may answer on the admin socket");
        let resp = get(running.http_addr, "ais.mic.gov.vn", "/").await;
        assert_eq!(resp.status, 200, "{name}: the public listener serves");
        assert!(resp.text().contains("Cục An toàn thông tin"), "{name}");
        running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_without_the_right_bearer_token_is_refused() {
    let env = Env::new("unauthorized", Tenants::Repo);
    let running = launch(&env).await;
    let admin = running.admin_addr.expect("admin listener");
    let calls = [
        ("GET", "/api/members", ""),
        ("POST", "/api/members", VPC),
        ("GET", "/api/members/ais", ""),
        ("POST", "/api/members/cbc/suspend", r#"{"reason": "x"}"#),
        ("GET", "/api/names/check?name=ais", ""),
        ("GET", "/api/audit", ""),
        ("GET", "/api/status", ""),
        ("GET", "/metrics", ""),
        ("GET", "/api/nowhere", ""),
    ];
    let right = env.token.clone();
    let wrong = [
        None,
        Some("Bearer wrong".to_string()),
        Some(format!("Bearer {right}x")),
        Some(format!("Bearer {}", &right[..right.len() - 1])),
        Some(format!("Basic {right}")),
        Some(right.clone()),
        Some("Bearer ".to_string()),
    ];
    for (method, path, body) in calls {
        for auth in &wrong {
            let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
            let resp = request(admin, method, "admin", path, &headers, body.as_bytes().to_vec()).await;
            let what = format!("{method} {path} with {auth:?}");
            assert_eq!(resp.status, 401, "{what}:\n{}", resp.text());
            assert_eq!(error_code(&resp.json()), "unauthorized", "{what}");
            assert_eq!(resp.header("www-authenticate"), "Bearer", "{what}");
        }
    }
    // Outside /api/ is the web interface: a bearer token does not sign anybody in there.
    for auth in &wrong {
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
        let resp = request(admin, "GET", "admin", "/thanh-vien", &headers, Vec::new()).await;
        assert_eq!(resp.status, 303, "web page with {auth:?}");
        assert_eq!(resp.header("location"), "/dang-nhap?tiep=%2Fthanh%2Dvien", "to the sign-in page");
    }
    // None of it happened.
    let api = Api::new(&running, &env);
    assert_eq!(api.get_json("/api/members/cbc", 200).await["status"], "active");
    assert_eq!(api.get_json("/api/members/vpc", 404).await["error"]["code"], "not_found");
    assert_eq!(get(running.http_addr, "cbc.mic.gov.vn", "/").await.status, 200);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_are_listed_filtered_and_shown() {
    let env = Env::new("members", Tenants::Repo);
    let running = launch(&env).await;
    let api = Api::new(&running, &env);
    let demo = demo_labels();
    api.post_json("/api/members", VPC, 201).await;

    let all = labels(&api.get_json("/api/members", 200).await);
    let mut want: Vec<String> = demo.clone();
    want.push("vpc".into());
    want.sort();
    assert_eq!(all, want, "every member");

    let active = api.get_json("/api/members?status=active", 200).await;
    assert_eq!(labels(&active), demo, "?status=active");
    assert!(active["members"].as_array().is_some_and(|m| m.iter().all(|m| m["status"] == "active")));
    assert_eq!(labels(&api.get_json("/api/members?status=pending", 200).await), ["vpc"]);
    assert_eq!(labels(&api.get_json("/api/members?membership=independent", 200).await), ["vncert"]);
    let both = api.get_json("/api/members?status=pending&membership=independent", 200).await;
    assert!(labels(&both).is_empty(), "filters combine: {both}");
    let bad = api.get_json("/api/members?status=asleep", 400).await;
    assert_eq!(error_code(&bad), "invalid_parameter");
    assert_eq!(bad["error"]["field"], "status");

    let ais = api.get_json("/api/members/ais", 200).await;
    assert_eq!(ais["label"], "ais", "{ais}");
    assert_eq!(ais["status"], "active", "{ais}");
    assert_eq!(ais["membership"], "shared", "{ais}");
    assert_eq!(ais["fourth_level"], "ais.mic.gov.vn", "{ais}");
    assert!(ais["own_domains"].as_array().is_some_and(|d| d.iter().any(|d| d == "ais.gov.vn")), "{ais}");
    assert_eq!(ais["site"]["loaded"], true, "{ais}");
    let vpc = api.get_json("/api/members/vpc", 200).await;
    assert_eq!(vpc["site"]["loaded"], false, "vpc has no site folder: {vpc}");

    let missing = api.get_json("/api/members/khongco", 404).await;
    assert_eq!(error_code(&missing), "not_found", "{missing}");
    assert!(missing["error"]["message"].as_str().is_some_and(|m| m.contains("khongco")), "{missing}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_over_the_api_and_putting_the_member_live() {
    let env = Env::new("apiregister", Tenants::Repo);
    let running = launch(&env).await;
    let api = Api::new(&running, &env);
    let http = running.http_addr;

    let made = api.post_json("/api/members", VPC, 201).await;
    assert_eq!(made["member"]["label"], "vpc", "{made}");
    assert_eq!(made["member"]["status"], "pending", "{made}");
    let resp = get(http, "vpc.mic.gov.vn", "/").await;
    assert_eq!(resp.status, 404, "pending: a neutral 404");
    assert!(!resp.text().contains("Vụ Pháp chế"), "{}", resp.text());

    let live = api.post_json("/api/members/vpc/activate", "", 200).await;
    assert_eq!(live["status"], "active", "{live}");
    // Active, but no tenants/vpc folder: the platform's "not available" page (handler.rs).
    let resp = await_status(http, "vpc.mic.gov.vn", 503).await;
    assert_eq!(resp.status, 503, "an active member without a site\n{}", resp.text());
    assert!(resp.text().contains("Portal not available"), "{}", resp.text());

    let cases = [
        (
            r#"{"label": "ais", "name_vi": "Cục An toàn thông tin", "name_en": "Authority of Information Security", "membership": "shared"}"#,
            409,
            "taken",
        ),
        (r#"{"label": "cụcattt", "name_vi": "Cục An toàn thông tin", "membership": "shared"}"#, 422, "diacritics"),
        (r#"{"label": "hotgirl", "name_vi": "Cục Báo chí", "membership": "shared"}"#, 422, "override_required"),
        (r#"{"label": "vtc", "name_vi": "Vụ Tổ chức", "membership": "shared""#, 400, "invalid_json"),
        (r#"{"label": "vtc", "name_vi": "Vụ Tổ chức", "membership": "shared", "colour": "red"}"#, 422, "invalid_field"),
    ];
    for (body, status, code) in cases {
        let err = api.post_json("/api/members", body, status).await;
        assert_eq!(error_code(&err), code, "{body}: {err}");
    }
    let unknown = api.post_json("/api/members", cases[4].0, 422).await;
    assert_eq!(unknown["error"]["field"], "colour", "the unknown field is named: {unknown}");
    let warned = api.post_json("/api/members", cases[2].0, 422).await;
    assert_eq!(warned["error"]["field"], "override_reason", "{warned}");
    assert!(warned["error"]["message"].as_str().is_some_and(|m| m.contains("not_abbreviation")), "{warned}");

    let reason = "Bộ trưởng đã phê duyệt";
    let body = format!(
        r#"{{"label": "hotgirl", "name_vi": "Cục Báo chí", "membership": "shared", "override_reason": "{reason}"}}"#
    );
    api.post_json("/api/members", &body, 201).await;
    let audit = api.get_json("/api/audit", 200).await;
    assert_eq!(audit["audit"][0]["label"], "hotgirl", "{audit}");
    assert_eq!(audit["audit"][0]["reason"], reason, "the override reason is recorded: {audit}");

    let expected: Vec<String> = {
        let mut l = demo_labels();
        l.extend(["hotgirl".to_string(), "vpc".to_string()]);
        l.sort();
        l
    };
    assert_eq!(labels(&api.get_json("/api/members", 200).await), expected, "the refused ones left nothing");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_with_413() {
    let env = Env::new("oversized", Tenants::Repo);
    let running = launch(&env).await;
    let api = Api::new(&running, &env);
    let big = format!(r#"{{"label": "vpc", "name_vi": "{}", "membership": "shared"}}"#, "a".repeat(100 * 1024));

    // With a Content-Length.
    let err = api.post_json("/api/members", &big, 413).await;
    assert_eq!(error_code(&err), "body_too_large", "{err}");

    // Chunked, so the size is only known while reading.
    let admin = running.admin_addr.expect("admin listener");
    let head = format!(
        "POST /api/members HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        env.token
    );
    let mut bytes = head.into_bytes();
    for chunk in big.as_bytes().chunks(8 * 1024) {
        bytes.extend(format!("{:x}\r\n", chunk.len()).as_bytes());
        bytes.extend(chunk);
        bytes.extend(b"\r\n");
    }
    bytes.extend(b"0\r\n\r\n");
    let answer = tokio::time::timeout(HTTP_TIMEOUT, async {
        let mut stream = tokio::net::TcpStream::connect(admin).await.expect("connect");
        // The server may answer and close before reading everything; what it said counts.
        let _ = stream.write_all(&bytes).await;
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    })
    .await
    .expect("an answer in time");
    assert!(answer.starts_with("HTTP/1.1 413"), "chunked oversized body:\n{answer}");
    assert!(answer.contains("\"body_too_large\""), "{answer}");

    assert_eq!(error_code(&api.get_json("/api/members/vpc", 404).await), "not_found", "nothing registered");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspending_over_the_api_takes_the_site_down_and_is_audited() {
    let env = Env::new("suspend", Tenants::Repo);
    let running = launch(&env).await;
    let api = Api::new(&running, &env);
    let http = running.http_addr;
    assert_eq!(get(http, "cbc.mic.gov.vn", "/").await.status, 200);

    let suspended = api.post_json("/api/members/cbc/suspend", r#"{"reason": "bảo trì"}"#, 200).await;
    assert_eq!(suspended["status"], "suspended", "{suspended}");
    let resp = await_status(http, "cbc.mic.gov.vn", 503).await;
    assert_eq!(resp.status, 503, "suspended cbc\n{}", resp.text());
    assert!(!resp.header("retry-after").is_empty(), "Retry-After");
    assert!(!resp.text().contains("Cục Báo chí"), "the maintenance page shows nothing of cbc");

    let audit = api.get_json("/api/audit", 200).await;
    let entries = audit["audit"].as_array().unwrap_or_else(|| panic!("no audit array: {audit}"));
    assert_eq!(entries[0]["action"], "suspend", "newest first: {audit}");
    assert_eq!(entries[0]["label"], "cbc");
    assert_eq!(entries[0]["reason"], "bảo trì");
    assert_eq!(entries[0]["detail"]["from"], "active");
    let ids: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().expect("id")).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    assert_eq!(ids.len(), demo_labels().len() + 1, "the imports and the suspend");
    let limited = api.get_json("/api/audit?limit=1", 200).await;
    assert_eq!(limited["audit"].as_array().map(Vec::len), Some(1), "{limited}");

    let again = api.post_json("/api/members/cbc/suspend", "", 409).await;
    assert_eq!(error_code(&again), "invalid_transition", "{again}");
    let ghost = api.post_json("/api/members/khongco/suspend", "", 404).await;
    assert_eq!(error_code(&ghost), "not_found", "{ghost}");
    let typo = api.post_json("/api/members/cbc/suspend", r#"{"raeson": "x"}"#, 422).await;
    assert_eq!(typo["error"]["field"], "raeson", "{typo}");

    api.post_json("/api/members/cbc/activate", r#"{"reason": "xong"}"#, 200).await;
    assert_eq!(await_status(http, "cbc.mic.gov.vn", 200).await.status, 200, "back after activate");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_check_status_and_metrics() {
    let env = Env::new("observe", Tenants::Repo);
    let running = launch(&env).await;
    let api = Api::new(&running, &env);

    let report = api.get_json("/api/names/check?name=C%E1%BB%A5c", 200).await;
    let keys: BTreeSet<&str> = report.as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from(["name", "label", "ok", "errors", "warnings", "suggestion"]), "{report}");
    assert_eq!(report["ok"], false, "{report}");
    assert!(codes(&report, "errors").contains(&"diacritics".to_string()), "{report}");
    let cli = env.cli(&["name", "check", "Cục", "--json"]);
    cli.expect_code(1);
    assert_eq!(report, cli.json(), "the API and the CLI give the same report");
    let taken = api.get_json("/api/names/check?name=ais.mic.gov.vn", 200).await;
    assert_eq!(codes(&taken, "errors"), ["taken"], "judged against the registry: {taken}");

    let status = api.get_json("/api/status", 200).await;
    assert!(status["generation"].as_u64().is_some_and(|g| g >= 1), "{status}");
    let mut sites: Vec<String> = status["sites"]
        .as_array()
        .unwrap_or_else(|| panic!("no sites array: {status}"))
        .iter()
        .map(|s| s["label"].as_str().unwrap_or_default().to_string())
        .collect();
    sites.sort();
    assert_eq!(sites, demo_labels(), "every demo site is loaded: {status}");
    // The short form for a platform of thousands of members: only what needs someone.
    let problems = api.get_json("/api/status?only=problems", 200).await;
    assert_eq!(problems["sites_built"], status["sites_built"], "the counts stay whole: {problems}");
    let listed = problems["sites"].as_array().unwrap_or_else(|| panic!("no sites array: {problems}"));
    assert!(listed.len() < sites.len(), "clean demo sites are left out: {problems}");
    for site in listed {
        let clean = site["warnings"].as_array().is_some_and(Vec::is_empty)
            && site["lints"].as_array().is_some_and(Vec::is_empty)
            && site["error"].is_null();
        assert!(!clean, "a site without a problem is listed: {site}");
    }
    let wrong = api.call("GET", "/api/status?only=everything", "").await;
    assert_eq!(wrong.status, 400, "{}", wrong.text());
    let error: serde_json::Value = serde_json::from_str(&wrong.text()).expect("a JSON error");
    assert_eq!(error["error"]["field"], "only", "the error names the parameter: {error}");

    for _ in 0..3 {
        assert_eq!(get(running.http_addr, "ais.mic.gov.vn", "/").await.status, 200);
    }
    let metrics = api.call("GET", "/metrics", "").await;
    assert_eq!(metrics.status, 200);
    assert!(metrics.header("content-type").starts_with("text/plain"), "{:?}", metrics.headers);
    let text = metrics.text();
    assert!(text.contains("# TYPE cong_requests_total counter"), "{text}");
    assert!(text.contains("cong_requests_total{member=\"ais\",status=\"200\"} 3\n"), "{text}");
    let active = format!("cong_members{{status=\"active\"}} {}\n", demo_labels().len());
    assert!(text.contains(&active), "{text}");
    assert!(text.contains("cong_members{status=\"pending\"} 0\n"), "{text}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistyped_field_is_named_in_the_error() {
    let env = Env::new("fieldnames", Tenants::Repo);
    let running = launch(&env).await;
    let api = Api::new(&running, &env);
    let cases = [
        (r#"{"label": "vpc", "name_vi": "Vụ Pháp chế", "membership": "both"}"#, "membership"),
        (
            r#"{"label": "vpc", "name_vi": "Vụ Pháp chế", "membership": "shared", "own_domains": "vpc.gov.vn"}"#,
            "own_domains",
        ),
        (r#"{"label": 7, "name_vi": "Vụ Pháp chế", "membership": "shared"}"#, "label"),
    ];
    for (body, field) in cases {
        let err = api.post_json("/api/members", body, 422).await;
        assert_eq!(error_code(&err), "invalid_field", "{body}: {err}");
        assert_eq!(err["error"]["field"], field, "{body}: the field at fault: {err}");
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliases_obey_the_naming_rules() {
    let env = Env::new("aliases", Tenants::Repo);
    let running = launch(&env).await;
    let api = Api::new(&running, &env);
    for alias in ["api.mic.gov.vn", "xyz.mic.gov.vn", "not a host"] {
        let body =
            format!(r#"{{"label": "vpc", "name_vi": "Vụ Pháp chế", "membership": "shared", "aliases": ["{alias}"]}}"#);
        let resp = api.call("POST", "/api/members", &body).await;
        assert_eq!(resp.status, 422, "alias {alias:?}: a member has exactly one fourth-level name\n{}", resp.text());
    }
    // Had one been accepted, activating would put a second (or reserved) name live.
    let _ = api.call("POST", "/api/members/vpc/activate", "").await;
    for host in ["api.mic.gov.vn", "xyz.mic.gov.vn"] {
        assert_eq!(get(running.http_addr, host, "/").await.status, 404, "{host} belongs to no member");
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_scheme_is_case_insensitive() {
    let env = Env::new("scheme", Tenants::Repo);
    let running = launch(&env).await;
    let admin = running.admin_addr.expect("admin listener");
    for scheme in ["bearer", "BEARER"] {
        let auth = format!("{scheme} {}", env.token);
        let resp = request(admin, "GET", "admin", "/api/status", &[("authorization", &auth)], Vec::new()).await;
        assert_eq!(resp.status, 200, "{scheme}: {}", resp.text());
    }
    running.stop().await;
}
