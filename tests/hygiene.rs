//! Response hygiene over real sockets: every kind of answer carries nosniff, a referrer
//! policy, a Content-Security-Policy that forbids framing, and X-Frame-Options, and no
//! Server header gives a version away. Then the CSP is held against the pages themselves:
//! no demo site, theme or platform page needs inline script or style.

use crate::common::{self, parse_raw, send, start, Proto};
use cong::content::render::Prepared;
use cong::content::site::Entry;
use cong::model::member::Status;
use http::HeaderMap;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HOST: &str = "ais.mic.gov.vn";

/// What every answer must carry. `what` names the answer in messages.
fn assert_hygiene(what: &str, headers: &HeaderMap) {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    let referrer = h("referrer-policy");
    assert!(
        ["no-referrer", "strict-origin-when-cross-origin", "strict-origin", "same-origin"].contains(&referrer.as_str()),
        "{what}: Referrer-Policy {referrer:?}"
    );
    let csp = h("content-security-policy");
    for directive in ["default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri"] {
        assert!(csp.contains(directive), "{what}: CSP lacks {directive:?}: {csp:?}");
    }
    for loophole in ["'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"] {
        assert!(!csp.split_whitespace().any(|t| t == loophole), "{what}: CSP allows {loophole}: {csp:?}");
    }
    assert_eq!(h("x-frame-options"), "DENY", "{what}");
    let server = h("server");
    assert!(!server.chars().any(|c| c.is_ascii_digit()), "{what}: Server header names a version: {server:?}");
    assert!(!server.to_ascii_lowercase().contains("hyper"), "{what}: Server header names the stack: {server:?}");
}

/// The demo with one member suspended and one archived, so every status page is reachable.
fn demo_with_statuses() -> std::sync::Arc<cong::snapshot::Live> {
    let repo = common::repo();
    common::live(&repo.join("tenants"), &repo.join("themes"), |s| {
        common::set_status(s, "cbc", Status::Suspended);
        common::set_status(s, "cds", Status::Archived);
    })
}

#[allow(clippy::type_complexity)]
#[tokio::test]
async fn every_kind_of_answer_carries_the_security_headers() {
    let server = start(demo_with_statuses()).await;
    let addr = server.addr;
    let etag = send(addr, Proto::H1, "GET", HOST, "/", &[]).await.header("etag").to_string();
    // (what, method, host, path, extra headers, expected status)
    let cases: &[(&str, &str, &str, &str, &[(&str, &str)], u16)] = &[
        ("page", "GET", HOST, "/", &[], 200),
        ("page, compressed", "GET", HOST, "/", &[("accept-encoding", "br, gzip")], 200),
        ("not modified", "GET", HOST, "/", &[("if-none-match", etag.as_str())], 304),
        ("trailing slash", "GET", HOST, "/gioi-thieu", &[], 301),
        ("alias host", "GET", "www.ais.gov.vn", "/", &[], 301),
        ("site 404", "GET", HOST, "/khong-co/", &[], 404),
        ("unknown host", "GET", "khongco.mic.gov.vn", "/", &[], 404),
        ("bad host", "GET", "bad_host:x", "/", &[], 400),
        ("suspended", "GET", "cbc.mic.gov.vn", "/", &[], 503),
        ("archived", "GET", "cds.mic.gov.vn", "/", &[], 200),
        ("method", "POST", HOST, "/", &[], 405),
        ("static file", "GET", HOST, "/static/images/logo.svg", &[], 200),
        ("theme file", "GET", HOST, "/_theme/style.css", &[], 200),
        ("feed", "GET", HOST, "/rss.xml", &[], 200),
        ("directory", "GET", "mic.gov.vn", "/", &[], 200),
        ("healthz", "GET", "whatever.example", "/healthz", &[], 200),
        ("head", "HEAD", HOST, "/", &[], 200),
    ];
    for proto in [Proto::H1, Proto::H2] {
        for (what, method, host, path, headers, status) in cases {
            if proto == Proto::H2 && *what == "bad host" {
                continue; // not a valid :authority; the raw HTTP/1.1 cases below cover 400
            }
            let resp = send(addr, proto, method, host, path, headers).await;
            assert_eq!(resp.status, *status, "{proto:?} {what}");
            assert_hygiene(&format!("{proto:?} {what} ({status})"), &resp.headers);
        }
    }
}

#[tokio::test]
async fn raw_answers_without_a_usable_host_and_with_a_large_body_carry_them_too() {
    let live = common::live_with(
        "[limits]\nmax_body_bytes = 10\n",
        &common::repo().join("tenants"),
        &common::repo().join("themes"),
        |_| {},
    );
    let server = start(live).await;
    let cases: &[(&str, &str, u16)] = &[
        ("no host", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 400),
        (
            "two hosts",
            "GET / HTTP/1.1\r\nHost: ais.mic.gov.vn\r\nHost: cbc.mic.gov.vn\r\nConnection: close\r\n\r\n",
            400,
        ),
        ("too large", "POST / HTTP/1.1\r\nHost: ais.mic.gov.vn\r\nContent-Length: 11\r\n\r\n", 413),
        ("traversal", "GET /static/../site.toml HTTP/1.1\r\nHost: ais.mic.gov.vn\r\nConnection: close\r\n\r\n", 400),
    ];
    for (what, request, status) in cases {
        let mut conn = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        conn.write_all(request.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        let _ = tokio::time::timeout(common::TIMEOUT, conn.read_to_end(&mut out)).await;
        let resp = parse_raw(&out);
        assert_eq!(resp.status, *status, "{what}: {}", resp.head);
        let mut headers = HeaderMap::new();
        for line in resp.head.lines().skip(1) {
            let (k, v) = line.split_once(':').unwrap();
            headers.append(http::HeaderName::from_bytes(k.trim().as_bytes()).unwrap(), v.trim().parse().unwrap());
        }
        assert_hygiene(what, &headers);
    }
}

/// What in a page the CSP (`script-src 'self'; style-src 'self'; img-src 'self' data:`)
/// would block: inline script, inline style, event handler attributes, `javascript:` URLs,
/// and subresources from other origins.
fn csp_violations(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("<script") {
        let tag_end = rest[at..].find('>').map_or(rest.len(), |e| at + e);
        let tag = &rest[at..tag_end];
        let src = attr(tag, "src");
        if src.is_none() {
            found.push(format!("inline <script>: {}", excerpt(tag)));
        }
        if let Some(src) = src.filter(|s| !s.starts_with('/') || s.starts_with("//")) {
            found.push(format!("script from another origin: {src}"));
        }
        rest = &rest[tag_end..];
    }
    if lower.contains("<style") {
        found.push("a <style> block".into());
    }
    for needle in [" style=", "\tstyle=", "\nstyle=", "javascript:"] {
        if let Some(at) = lower.find(needle) {
            found.push(format!("{needle:?} at: {}", excerpt(&lower[at..])));
        }
    }
    for (at, _) in lower.match_indices(" on") {
        let name: String = lower[at + 3..].chars().take_while(|c| c.is_ascii_lowercase()).collect();
        if !name.is_empty()
            && lower[at + 3 + name.len()..].starts_with('=')
            && lower[..at].rfind('<') > lower[..at].rfind('>')
        {
            found.push(format!("event handler on{name}: {}", excerpt(&lower[at..])));
        }
    }
    for kind in ["<img", "<link", "<iframe", "<embed", "<object", "<source", "<video", "<audio"] {
        for (at, _) in lower.match_indices(kind) {
            let tag = &lower[at..lower[at..].find('>').map_or(lower.len(), |e| at + e)];
            if tag.starts_with("<link")
                && !attr(tag, "rel").is_some_and(|r| r.contains("stylesheet") || r.contains("icon"))
            {
                continue; // <link rel="alternate"> and the like load nothing
            }
            for a in ["src", "href", "data"] {
                if let Some(url) = attr(tag, a) {
                    if url.starts_with("http:") || url.starts_with("https:") || url.starts_with("//") {
                        found.push(format!("{kind}> from another origin: {url}"));
                    }
                }
            }
            if kind == "<iframe" || kind == "<embed" || kind == "<object" {
                found.push(format!("{kind}> (frames and plugins are not allowed)"));
            }
        }
    }
    found
}

/// The value of `name="..."` in a lower-cased tag.
fn attr<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let at = tag.match_indices(&format!(" {name}=")).next()?.0 + name.len() + 2;
    let value = &tag[at..];
    let quote = value.chars().next()?;
    if quote == '"' || quote == '\'' {
        value[1..].split(quote).next()
    } else {
        value.split_whitespace().next()
    }
}

fn excerpt(s: &str) -> String {
    s.chars().take(80).collect()
}

fn is_html(p: &Prepared) -> bool {
    p.content_type.to_str().is_ok_and(|t| t.starts_with("text/html"))
}

#[test]
fn the_violation_finder_finds_what_the_csp_blocks() {
    for bad in [
        "<script>alert(1)</script>",
        "<p style=\"color:red\">x</p>",
        "<style>p{}</style>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<button onclick=\"x()\">x</button>",
        "<img src=\"https://tracker.example/p.gif\">",
        "<script src=\"https://cdn.example/x.js\"></script>",
        "<link rel=\"stylesheet\" href=\"//cdn.example/x.css\">",
        "<iframe src=\"/x\"></iframe>",
    ] {
        assert!(!csp_violations(bad).is_empty(), "{bad}");
    }
    for good in [
        "<script src=\"/_theme/menu.js\"></script>",
        "<link rel=\"stylesheet\" href=\"/_theme/style.css\">",
        "<link rel=\"alternate\" href=\"https://ais.mic.gov.vn/rss.xml\">",
        "<a href=\"https://vnnic.vn/\">VNNIC</a>",
        "<p>Thông tin về online và style.</p>",
        "<img src=\"/static/images/logo.svg\" alt=\"\">",
    ] {
        assert_eq!(csp_violations(good), Vec::<String>::new(), "{good}");
    }
}

#[test]
fn every_page_of_every_demo_site_and_of_the_platform_satisfies_the_csp() {
    let repo = common::repo();
    let live = demo_with_statuses();
    let snap = live.snapshot();
    assert!(snap.sites.len() >= 7, "every demo site built: {:?}", snap.site_errors);
    let mut pages = 0;
    let mut problems = Vec::new();
    let mut check = |what: String, p: &Prepared| {
        if is_html(p) {
            pages += 1;
            let body = p.body();
            let html = String::from_utf8_lossy(&body);
            problems.extend(csp_violations(&html).into_iter().map(|v| format!("{what}: {v}")));
        }
    };
    for (label, site) in &snap.sites {
        for (path, entry) in site.entries.iter() {
            if let Entry::Page(p) = entry {
                check(format!("{label}{path}"), p);
            }
        }
        check(format!("{label} 404"), &site.not_found);
    }
    let platform = &snap.pages;
    for (path, entry) in platform.apex.iter() {
        if let Entry::Page(p) = entry {
            check(format!("directory {path}"), p);
        }
    }
    for (what, p) in [
        ("400", &platform.bad_request),
        ("404", &platform.not_found),
        ("503 suspended", &platform.suspended),
        ("410", &platform.archived),
        ("503 unavailable", &platform.unavailable),
        ("405", &platform.method_not_allowed),
    ] {
        check(format!("platform {what}"), p);
    }
    assert!(pages > 40, "the scan saw the pages ({pages})");
    assert!(problems.is_empty(), "pages the CSP would break:\n{}", problems.join("\n"));
    // Stylesheets load nothing from elsewhere either (fonts, images, @import).
    for theme in std::fs::read_dir(repo.join("themes")).unwrap().flatten() {
        for css in std::fs::read_dir(theme.path().join("static")).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(css.path()).unwrap_or_default().to_ascii_lowercase();
            for needle in ["url(http", "url(\"http", "url('http", "url(//", "@import"] {
                assert!(!text.contains(needle), "{}: {needle}", css.path().display());
            }
        }
    }
}
