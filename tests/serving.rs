//! Serving the demo sites over real sockets: what a visitor gets for each kind of Host
//! (docs/architecture.md), over HTTP/1.1 and HTTP/2, and what each site serves (section 7).
//! The routing table also runs through the handler alone, without sockets (STYLE 11), so
//! a failure says whether the request path or the listener around it is wrong.

use crate::common::{self, assert_shows_no_member, demo, get, member_marks, raw, raw_get, send, start, Proto, Resp};
use cong::model::member::Status;
use cong::serve::handler::{handle, Ctx, Scheme};
use cong::snapshot::certs::Certs;
use http_body_util::BodyExt;

const AIS: &str = "Cục An toàn thông tin";
const VNNIC: &str = "Trung tâm Internet Việt Nam";

/// One row of the routing table: a host and path, and what the visitor must see.
struct Row {
    host: &'static str,
    path: &'static str,
    status: u16,
    location: &'static str,
    shows: &'static [&'static str],
    hides: &'static [&'static str],
}

const fn row(host: &'static str, path: &'static str, status: u16) -> Row {
    Row { host, path, status, location: "", shows: &[], hides: &[] }
}

const ROUTES: &[Row] = &[
    Row { shows: &[AIS], hides: &[VNNIC], ..row("ais.mic.gov.vn", "/", 200) },
    Row { shows: &[VNNIC], hides: &[AIS], ..row("vnnic.mic.gov.vn", "/", 200) },
    Row { shows: &[AIS], ..row("ais.mic.gov.vn.localhost:8080", "/", 200) },
    Row { shows: &[AIS], ..row("AIS.MIC.GOV.VN.", "/", 200) },
    Row { shows: &[AIS], ..row("ais.mic.gov.vn:8080", "/", 200) },
    Row { location: "http://ais.mic.gov.vn/tin-tuc/?trang=2&q=a", ..row("ais.gov.vn", "/tin-tuc/?trang=2&q=a", 301) },
    Row { location: "http://ais.mic.gov.vn/gioi-thieu/?x=1", ..row("www.ais.gov.vn", "/gioi-thieu/?x=1", 301) },
    Row { location: "http://ais.mic.gov.vn/", ..row("AIS.gov.vn:8080", "/", 301) },
    Row { location: "https://vncert.gov.vn/a/b?x=1", ..row("vncert.mic.gov.vn", "/a/b?x=1", 301) },
    Row { shows: &["Cổng thành viên", AIS, VNNIC], ..row("mic.gov.vn", "/", 200) },
    Row { shows: &["Cổng thành viên", AIS, VNNIC], ..row("www.mic.gov.vn", "/", 200) },
    Row { shows: &["Cổng thành viên", AIS, VNNIC], ..row("mic.gov.vn.localhost:8080", "/", 200) },
    Row { shows: &["ok"], ..row("evil.mic.gov.vn", "/healthz", 200) },
    Row { shows: &["ok"], ..row("ais.mic.gov.vn", "/healthz", 200) },
];

/// Hosts that belong to no member: a neutral 404 that shows nothing of anyone.
const UNKNOWN_HOSTS: &[&str] =
    &["evil.mic.gov.vn", "localhost", "127.0.0.1", "vncert.gov.vn", "ais.mic.gov.vn.evil.vn"];

fn check_row(r: &Row, resp: &Resp, proto: Proto) {
    let what = format!("{proto:?} {}{}", r.host, r.path);
    assert_eq!(resp.status, r.status, "{what}: status\n{}", resp.text());
    assert_eq!(resp.header("location"), r.location, "{what}: Location");
    let body = resp.text();
    for s in r.shows {
        assert!(body.contains(s), "{what}: page should show {s:?}");
    }
    for s in r.hides {
        assert!(!body.contains(s), "{what}: page must not show {s:?}");
    }
}

#[tokio::test]
async fn each_kind_of_host_gets_its_answer_over_http1_and_http2() {
    let server = start(demo()).await;
    for proto in [Proto::H1, Proto::H2] {
        for r in ROUTES {
            let resp = send(server.addr, proto, "GET", r.host, r.path, &[]).await;
            check_row(r, &resp, proto);
            let want = if proto == Proto::H2 { http::Version::HTTP_2 } else { http::Version::HTTP_11 };
            assert_eq!(resp.version, want, "{proto:?} {}", r.host);
        }
    }
}

/// The request a listener hands the handler: HTTP/1.1 names the host in the Host header
/// (origin-form target), HTTP/2 in the URI's authority, as hyper builds them.
fn request_as(proto: Proto, host: &str, path: &str) -> http::Request<()> {
    let builder = match proto {
        Proto::H1 => http::Request::builder().uri(path).header("host", host),
        Proto::H2 => http::Request::builder().version(http::Version::HTTP_2).uri(format!("http://{host}{path}")),
    };
    builder.body(()).unwrap_or_else(|e| panic!("{proto:?} {host}{path}: {e}"))
}

/// The same table, snapshot and checks as above, with `handle` called directly as
/// `serve::listener::respond` calls it on the plain HTTP listener (no certificates).
#[tokio::test]
async fn each_kind_of_host_gets_its_answer_from_the_handler_without_sockets() {
    let live = demo();
    let snap = live.snapshot();
    let certs = Certs::default();
    for proto in [Proto::H1, Proto::H2] {
        for r in ROUTES {
            let ctx = Ctx { scheme: Scheme::Http, sni: None, certs: Some(&certs) };
            let (resp, _member) = handle(&snap, &request_as(proto, r.host, r.path), ctx);
            let (parts, body) = resp.into_parts();
            let body = body.collect().await.expect("an in-memory body").to_bytes().to_vec();
            let resp = Resp { status: parts.status.as_u16(), version: parts.version, headers: parts.headers, body };
            check_row(r, &resp, proto);
        }
    }
}

#[tokio::test]
async fn unknown_hosts_get_a_neutral_404_that_shows_no_member() {
    let live = demo();
    let marks = member_marks(&live);
    let server = start(live).await;
    for proto in [Proto::H1, Proto::H2] {
        for host in UNKNOWN_HOSTS {
            for path in ["/", "/gioi-thieu/", "/static/images/logo.svg"] {
                let resp = send(server.addr, proto, "GET", host, path, &[]).await;
                assert_eq!(resp.status, 404, "{proto:?} {host}{path}");
                assert!(resp.text().contains("Không tìm thấy cổng thông tin"), "{host}: the platform's 404 page");
                assert_shows_no_member(&resp.text(), &marks, &format!("{proto:?} {host}{path}"));
            }
        }
    }
}

#[tokio::test]
async fn the_directory_links_every_active_member() {
    let live = demo();
    let server = start(live.clone()).await;
    let snap = live.snapshot();
    assert!(snap.members.len() >= 7, "the demo has 7 members");
    for host in ["mic.gov.vn", "www.mic.gov.vn"] {
        let resp = get(server.addr, host, "/").await;
        assert_eq!(resp.status, 200);
        let body = resp.text();
        for m in &snap.members {
            let href = format!("href=\"http://{}.mic.gov.vn/\"", m.names.label);
            assert!(body.contains(&href), "{host}: directory should link {href}");
            assert!(body.contains(&m.names.name_vi), "{host}: directory should name {}", m.names.name_vi);
            assert!(body.contains(&format!("{}.mic.gov.vn", m.names.label)), "{host}: directory should show the host");
        }
        assert!(!body.contains(".localhost"), "{host}: public links only");
    }
    // Reached by its development name (the quick start without /etc/hosts), the links keep
    // `.localhost` and the port, so a click reaches the member on this machine.
    for (host, suffix) in [("mic.gov.vn.localhost:8080", ".localhost:8080"), ("www.mic.gov.vn.localhost", ".localhost")]
    {
        let resp = get(server.addr, host, "/").await;
        assert_eq!(resp.status, 200, "{host}");
        let body = resp.text();
        for m in &snap.members {
            let href = format!("href=\"http://{}.mic.gov.vn{suffix}/\"", m.names.label);
            assert!(body.contains(&href), "{host}: directory should link {href}");
        }
        // And the link works: the member answers on that name.
        assert_eq!(get(server.addr, &format!("ais.mic.gov.vn{suffix}"), "/").await.status, 200);
    }
}

#[tokio::test]
async fn missing_malformed_or_doubled_host_is_400() {
    let live = demo();
    let marks = member_marks(&live);
    let server = start(live).await;
    let cases: &[(&str, &[u8])] = &[
        ("no Host", b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"),
        ("empty Host", b"GET / HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n"),
        ("space in Host", b"GET / HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n"),
        ("two colons", b"GET / HTTP/1.1\r\nHost: x:y:z\r\nConnection: close\r\n\r\n"),
        ("letters as port", b"GET / HTTP/1.1\r\nHost: ais.mic.gov.vn:abc\r\nConnection: close\r\n\r\n"),
        ("double dot", b"GET / HTTP/1.1\r\nHost: ais..mic.gov.vn\r\nConnection: close\r\n\r\n"),
        (
            "two Host headers",
            b"GET / HTTP/1.1\r\nHost: ais.mic.gov.vn\r\nHost: vnnic.mic.gov.vn\r\nConnection: close\r\n\r\n",
        ),
        (
            "same Host twice",
            b"GET / HTTP/1.1\r\nHost: ais.mic.gov.vn\r\nHost: ais.mic.gov.vn\r\nConnection: close\r\n\r\n",
        ),
    ];
    for (what, bytes) in cases {
        let resp = raw(server.addr, bytes).await;
        assert_eq!(resp.status, 400, "{what}: {}", resp.head);
        assert_shows_no_member(&resp.text(), &marks, what);
    }
    let health = raw(server.addr, b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n").await;
    assert_eq!((health.status, health.text().as_str()), (200, "ok\n"), "/healthz answers without a Host");
}

#[tokio::test]
async fn absolute_form_names_the_host() {
    let server = start(demo()).await;
    let resp = raw(
        server.addr,
        b"GET http://ais.mic.gov.vn/gioi-thieu/ HTTP/1.1\r\nHost: ais.mic.gov.vn\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.head);
    assert!(resp.text().contains(AIS));
    let resp =
        raw(server.addr, b"GET http://evil.mic.gov.vn/ HTTP/1.1\r\nHost: evil.mic.gov.vn\r\nConnection: close\r\n\r\n")
            .await;
    assert_eq!(resp.status, 404);
}

/// RFC 9112 3.2: an HTTP/1.1 request needs exactly one valid Host even in absolute-form.
#[tokio::test]
async fn absolute_form_still_needs_exactly_one_valid_host() {
    let server = start(demo()).await;
    let cases: &[(&str, &[u8])] = &[
        ("no Host", b"GET http://ais.mic.gov.vn/ HTTP/1.1\r\nConnection: close\r\n\r\n"),
        ("space in Host", b"GET http://ais.mic.gov.vn/ HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n"),
        (
            "two Host headers",
            b"GET http://ais.mic.gov.vn/ HTTP/1.1\r\nHost: ais.mic.gov.vn\r\nHost: vnnic.mic.gov.vn\r\nConnection: close\r\n\r\n",
        ),
    ];
    for (what, bytes) in cases {
        let resp = raw(server.addr, bytes).await;
        assert_eq!(resp.status, 400, "absolute-form, {what}: {}", resp.head);
    }
}

#[tokio::test]
async fn suspended_archived_and_pending_members_answer_on_every_name() {
    let live = common::live(&common::repo().join("tenants"), &common::repo().join("themes"), |s| {
        common::set_status(s, "vnnic", Status::Suspended);
        common::set_status(s, "cbc", Status::Archived);
        common::set_status(s, "cds", Status::Pending);
    });
    let server = start(live).await;
    for proto in [Proto::H1, Proto::H2] {
        for host in ["vnnic.mic.gov.vn", "vnnic.vn", "VNNIC.mic.gov.vn.localhost:8080"] {
            let resp = send(server.addr, proto, "GET", host, "/tin-tuc/", &[]).await;
            assert_eq!(resp.status, 503, "{proto:?} suspended {host}");
            assert!(resp.header("retry-after").parse::<u64>().is_ok_and(|s| s > 0), "Retry-After on {host}");
            assert!(resp.text().contains("tạm dừng"), "the maintenance page");
            assert!(!resp.text().contains(VNNIC), "a suspended portal shows no content");
        }
        // Archived: the record stays readable, not to be indexed (docs/services.md).
        let archived = send(server.addr, proto, "GET", "cbc.mic.gov.vn", "/", &[]).await;
        assert_eq!(archived.status, 200, "{proto:?} archived");
        assert_eq!(archived.header("x-robots-tag"), "noindex", "{proto:?} archived");
        let post = send(server.addr, proto, "POST", "cbc.mic.gov.vn", "/", &[]).await;
        assert_eq!(post.status, 405, "{proto:?} archived: read-only");
        let pending = send(server.addr, proto, "GET", "cds.mic.gov.vn", "/gioi-thieu/", &[]).await;
        assert_eq!(pending.status, 404, "{proto:?} pending");
        for name in ["Cục Chuyển đổi số quốc gia", "Authority of National Digital Transformation", "cds.mic.gov.vn"]
        {
            assert!(!pending.text().contains(name), "a pending portal is not revealed: {name}");
        }
        let directory = send(server.addr, proto, "GET", "mic.gov.vn", "/", &[]).await.text();
        assert!(directory.contains(AIS), "active members stay listed");
        for name in [VNNIC, "Cục Báo chí", "Cục Chuyển đổi số quốc gia"] {
            assert!(!directory.contains(name), "the directory lists only active members, not {name}");
        }
        let ais = send(server.addr, proto, "GET", "ais.mic.gov.vn", "/", &[]).await;
        assert_eq!(ais.status, 200, "other members are untouched");
    }
}

// ---- What a site serves -------------------------------------------------------------

#[tokio::test]
async fn pages_and_trailing_slash_redirects() {
    let server = start(demo()).await;
    let page = get(server.addr, "ais.mic.gov.vn", "/gioi-thieu/").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Vị trí và chức năng"), "the page's own text");
    let bare = get(server.addr, "ais.mic.gov.vn", "/gioi-thieu").await;
    assert_eq!((bare.status, bare.header("location")), (301, "/gioi-thieu/"));
    let with_query = get(server.addr, "ais.mic.gov.vn", "/gioi-thieu?a=1").await;
    assert_eq!((with_query.status, with_query.header("location")), (301, "/gioi-thieu/?a=1"));
}

#[tokio::test]
async fn news_section_lists_newest_first_and_paginates() {
    let server = start(demo()).await;
    let first = get(server.addr, "ais.mic.gov.vn", "/tin-tuc/").await;
    assert_eq!(first.status, 200);
    let body = first.text();
    let newest = body.find("Tình hình an toàn thông tin mạng quý I năm 2026").expect("newest article on page 1");
    let older = body.find("Diễn tập thực chiến ứng cứu sự cố").expect("second newest on page 1");
    assert!(newest < older, "newest first");
    assert!(body.contains("href=\"/tin-tuc/page/2/\""), "a link to page 2");
    assert!(!body.contains("Cảnh báo thủ đoạn giả mạo"), "the 6th article is on page 2");
    let second = get(server.addr, "ais.mic.gov.vn", "/tin-tuc/page/2/").await;
    assert_eq!(second.status, 200);
    assert!(second.text().contains("Cảnh báo thủ đoạn giả mạo cơ quan nhà nước"));
    assert!(second.text().contains("Phát động chiến dịch rà soát, bóc gỡ mã độc"));
    assert!(!second.text().contains("quý I năm 2026"), "page 2 does not repeat page 1");
    assert_eq!(get(server.addr, "ais.mic.gov.vn", "/tin-tuc/page/3/").await.status, 404);
    let one = get(server.addr, "ais.mic.gov.vn", "/tin-tuc/page/1/").await;
    assert_eq!((one.status, one.header("location")), (301, "/tin-tuc/"));
}

#[tokio::test]
async fn drafts_are_never_served_nor_listed() {
    let server = start(demo()).await;
    let draft = get(server.addr, "ais.mic.gov.vn", "/tin-tuc/du-thao-bao-cao-quy-ii-2026/").await;
    assert_eq!(draft.status, 404);
    for path in
        ["/", "/tin-tuc/", "/tin-tuc/page/2/", "/sitemap.xml", "/rss.xml", "/tin-tuc/du-thao-bao-cao-quy-ii-2026/"]
    {
        let body = get(server.addr, "ais.mic.gov.vn", path).await.text();
        for mark in ["DỰ THẢO", "quý II năm 2026", "du-thao-bao-cao", "BẢN NHÁP"] {
            assert!(!body.contains(mark), "{path} shows the draft ({mark})");
        }
    }
}

#[tokio::test]
async fn an_old_address_redirects_to_the_article() {
    let server = start(demo()).await;
    let old = get(server.addr, "ais.mic.gov.vn", "/tin/canh-bao-lua-dao/").await;
    let target = "/tin-tuc/canh-bao-lua-dao-gia-mao-co-quan-nha-nuoc/";
    assert_eq!((old.status, old.header("location")), (301, target));
    let article = get(server.addr, "ais.mic.gov.vn", target).await;
    assert_eq!(article.status, 200);
    assert!(article.text().contains("Cảnh báo thủ đoạn giả mạo cơ quan nhà nước để lừa đảo trực tuyến"));
}

#[tokio::test]
async fn sitemap_feed_and_robots() {
    let server = start(demo()).await;
    let sitemap = get(server.addr, "ais.mic.gov.vn", "/sitemap.xml").await;
    assert_eq!(sitemap.status, 200);
    assert!(sitemap.header("content-type").starts_with("application/xml"), "{}", sitemap.header("content-type"));
    for url in ["http://ais.mic.gov.vn/", "http://ais.mic.gov.vn/gioi-thieu/", "http://ais.mic.gov.vn/tin-tuc/"] {
        assert!(sitemap.text().contains(&format!("<loc>{url}</loc>")), "sitemap lists {url}");
    }
    let rss = get(server.addr, "ais.mic.gov.vn", "/rss.xml").await;
    assert_eq!(rss.status, 200);
    assert!(rss.header("content-type").starts_with("application/rss+xml"), "{}", rss.header("content-type"));
    let feed = rss.text();
    let items = feed.matches("<item>").count();
    assert!(items >= 7, "every news article is in the feed: {items}");
    assert_eq!(feed.matches("<pubDate>").count(), items, "every item has a pubDate");
    assert!(feed.contains("<pubDate>Wed, 15 Apr 2026 00:00:00 +0000</pubDate>"), "RFC 2822 dates");
    let robots = get(server.addr, "ais.mic.gov.vn", "/robots.txt").await;
    assert_eq!(robots.status, 200);
    assert!(robots.text().contains("Sitemap: http://ais.mic.gov.vn/sitemap.xml"), "{}", robots.text());
}

#[tokio::test]
async fn static_files_and_theme_files_have_their_types() {
    let server = start(demo()).await;
    let logo = get(server.addr, "ais.mic.gov.vn", "/static/images/logo.svg").await;
    assert_eq!((logo.status, logo.header("content-type")), (200, "image/svg+xml"));
    assert!(logo.text().contains("<svg"));
    let css = get(server.addr, "ais.mic.gov.vn", "/_theme/style.css").await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").starts_with("text/css"), "{}", css.header("content-type"));
}

#[tokio::test]
async fn a_site_on_another_theme_gets_another_stylesheet() {
    let server = start(demo()).await;
    let ais = get(server.addr, "ais.mic.gov.vn", "/_theme/style.css").await;
    let ptit = get(server.addr, "ptit.mic.gov.vn", "/_theme/style.css").await;
    assert_eq!((ais.status, ptit.status), (200, 200));
    assert_ne!(ais.body, ptit.body, "ptit uses theme trangnhat");
    assert!(ptit.text().contains("trangnhat"), "the trangnhat stylesheet");
    let home = get(server.addr, "ptit.mic.gov.vn", "/").await;
    assert!(home.text().contains("class=\"trangnhat"), "trangnhat's own base template");
    assert!(home.text().contains("Học viện Công nghệ Bưu chính Viễn thông"));
}

#[tokio::test]
async fn an_unknown_path_gets_the_sites_own_404() {
    let server = start(demo()).await;
    let resp = get(server.addr, "ais.mic.gov.vn", "/khong-co-trang-nay/").await;
    assert_eq!(resp.status, 404);
    assert!(resp.header("content-type").starts_with("text/html"));
    assert!(resp.text().contains("Không tìm thấy trang"), "the themed 404");
    assert!(resp.text().contains(AIS), "with the site's name");
    assert!(!resp.text().contains(VNNIC), "and no other site's");
}

#[tokio::test]
async fn every_footer_shows_the_decree_42_contact_block() {
    let text = std::fs::read_to_string(common::repo().join("tenants/ais/site.toml")).unwrap();
    let site: toml::Table = toml::from_str(&text).unwrap();
    let field = |table: &str, key: &str| site[table][key].as_str().unwrap().to_string();
    let wanted = [
        field("responsible", "name"),
        field("contact", "agency"),
        field("contact", "address"),
        field("contact", "phone"),
        field("contact", "email"),
    ];
    let server = start(demo()).await;
    for path in ["/", "/gioi-thieu/", "/tin-tuc/", "/khong-co/"] {
        let body = get(server.addr, "ais.mic.gov.vn", path).await.text();
        let footer = &body[body.find("<footer").unwrap_or_else(|| panic!("{path}: no footer"))..];
        for w in &wanted {
            assert!(footer.contains(w.as_str()), "{path}: footer should show {w:?}");
        }
    }
}

#[tokio::test]
async fn a_request_with_a_query_string_still_finds_the_page() {
    let server = start(demo()).await;
    let resp = get(server.addr, "ais.mic.gov.vn", "/gioi-thieu/?utm_source=zalo").await;
    assert_eq!(resp.status, 200);
    assert!(resp.text().contains(AIS));
    let raw_resp = raw(server.addr, &raw_get("/gioi-thieu/?a=%2e%2e", "ais.mic.gov.vn")).await;
    assert_eq!(raw_resp.status, 200, "dots in the query are not a path");
}

/// The editor safety net in a live build (tests/fixtures/safety-net): the site is served
/// although `cong check` fails on it, a file named `Hội nghị An toàn 2026.md` at its slug
/// (and the sitemap's `<loc>` with it), a page whose Markdown holds a script without it.
#[tokio::test]
async fn a_careless_site_is_served_cleaned_and_at_its_slugs() {
    let themes = common::fixture("broken/no-themes-here");
    let live = common::live(&common::fixture("safety-net/tenants"), &themes, |sources| {
        let site = sources.sites.get("loi").expect("the site builds despite its findings");
        // Six in the content, the renamed file, and site.toml's accent colour too light.
        assert_eq!(site.lints.len(), 8, "{:#?}", site.lints);
    });
    let server = start(live).await;
    let host = "loi.mic.gov.vn";

    let news = get(server.addr, host, "/tin-tuc/hoi-nghi-an-toan-2026/").await;
    assert_eq!(news.status, 200, "{}", news.text());
    assert!(news.text().contains("Hội nghị An toàn thông tin 2026"), "{}", news.text());
    let spaced = "/tin-tuc/H%E1%BB%99i%20ngh%E1%BB%8B%20An%20to%C3%A0n%202026/";
    assert_eq!(get(server.addr, host, spaced).await.status, 404, "the file name is not a URL");
    let listing = get(server.addr, host, "/tin-tuc/").await.text();
    assert!(listing.contains("href=\"/tin-tuc/hoi-nghi-an-toan-2026/\""), "the listing links the slug:\n{listing}");

    let sitemap = get(server.addr, host, "/sitemap.xml").await.text();
    assert!(sitemap.contains("://loi.mic.gov.vn/tin-tuc/hoi-nghi-an-toan-2026/</loc>"), "{sitemap}");
    for loc in sitemap.split("<loc>").skip(1).map(|l| &l[..l.find("</loc>").unwrap()]) {
        assert!(loc.bytes().all(|b| b.is_ascii_graphic()), "a <loc> must be a URL: {loc:?}");
    }

    let page = get(server.addr, host, "/gioi-thieu/").await;
    assert_eq!(page.status, 200);
    let body = page.text();
    assert!(body.contains("Đoạn cuối của trang giới thiệu."), "the rest of the page is served:\n{body}");
    for gone in ["alert", "xin chào", "onclick", "javascript:"] {
        assert!(!body.contains(gone), "{gone:?} must be removed from the page:\n{body}");
    }
    assert!(body.contains(">vào đây</a>"), "the link's text stays, without its javascript: address:\n{body}");
    server.running.stop().await;
}

#[tokio::test]
async fn an_accent_colour_in_site_toml_is_served_as_a_stylesheet_the_pages_link() {
    let server = start(demo()).await;
    // ais's site.toml: [vars] accent = "#0b5394".
    let page = get(server.addr, "ais.mic.gov.vn", "/").await.text();
    assert!(page.contains("<link rel=\"stylesheet\" href=\"/_site/accent.css\">"), "the page links the accent");
    let css = get(server.addr, "ais.mic.gov.vn", "/_site/accent.css").await;
    assert_eq!((css.status, css.header("content-type")), (200, "text/css; charset=utf-8"));
    assert!(css.text().contains("--accent: #0b5394;"), "{}", css.text());
    // A site without an accent links none and serves none.
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&common::repo().join("tenants/ttt"), &dir.path().join("ttt"));
    let toml = dir.path().join("ttt/site.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, text.replace("accent = \"#0b5394\"", "accent = \"teal\"")).unwrap();
    let live = common::live(dir.path(), &common::repo().join("themes"), |_| {});
    let server = start(live).await;
    let page = get(server.addr, "ttt.mic.gov.vn", "/").await.text();
    assert!(
        page.contains("class=\"accent-teal\"") || page.contains("accent-teal\""),
        "a named accent is the theme's class"
    );
    assert!(!page.contains("/_site/accent.css"));
    assert_eq!(get(server.addr, "ttt.mic.gov.vn", "/_site/accent.css").await.status, 404);
}
