//! What browsers, caches and hostile clients see over real sockets: content types,
//! validators, compression, methods, HTTP/2, a path traversal corpus sent as exact bytes,
//! and a graceful shutdown with a response in flight.

use crate::common::{self, demo, get, raw, raw_get, send, start, Proto};
use std::io::Read;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HOST: &str = "ais.mic.gov.vn";

// ---- Caching and compression ------------------------------------------------------------

#[tokio::test]
async fn html_is_utf8_with_an_etag_and_a_short_cache_static_files_a_long_one() {
    let server = start(demo()).await;
    for proto in [Proto::H1, Proto::H2] {
        let page = send(server.addr, proto, "GET", HOST, "/tin-tuc/", &[]).await;
        assert_eq!(page.status, 200);
        assert_eq!(page.header("content-type"), "text/html; charset=utf-8", "{proto:?}");
        let etag = page.header("etag");
        assert!(etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'), "{proto:?}: a strong ETag: {etag:?}");
        assert!(page.header("cache-control").contains("max-age=60"), "{:?}", page.header("cache-control"));
        assert_eq!(page.header("x-content-type-options"), "nosniff");
        let logo = send(server.addr, proto, "GET", HOST, "/static/images/logo.svg", &[]).await;
        assert!(logo.header("cache-control").contains("max-age=86400"), "{:?}", logo.header("cache-control"));
        assert!(!logo.header("etag").is_empty(), "static files have an ETag too");
    }
}

#[tokio::test]
async fn a_matching_if_none_match_gets_304_with_no_body() {
    let server = start(demo()).await;
    for proto in [Proto::H1, Proto::H2] {
        for path in ["/", "/static/images/logo.svg", "/rss.xml"] {
            let first = send(server.addr, proto, "GET", HOST, path, &[]).await;
            let etag = first.header("etag").to_string();
            let weak = format!("W/{etag}");
            let listed = format!("\"other\", {etag}");
            for tag in [etag.as_str(), weak.as_str(), listed.as_str(), "*"] {
                let again = send(server.addr, proto, "GET", HOST, path, &[("if-none-match", tag)]).await;
                assert_eq!(again.status, 304, "{proto:?} {path} If-None-Match: {tag}");
                assert!(again.body.is_empty(), "304 has no body");
                assert_eq!(again.header("etag"), etag, "304 repeats the ETag");
            }
            let changed = send(server.addr, proto, "GET", HOST, path, &[("if-none-match", "\"stale\"")]).await;
            assert_eq!((changed.status, changed.body.len()), (200, first.body.len()), "{path}: a stale ETag");
        }
    }
}

#[tokio::test]
async fn byte_ranges_answer_206_with_the_slice_and_416_past_the_end() {
    let server = start(demo()).await;
    let path = "/static/files/huong-dan.txt";
    for proto in [Proto::H1, Proto::H2] {
        let whole = send(server.addr, proto, "GET", HOST, path, &[]).await;
        assert_eq!((whole.status, whole.header("accept-ranges")), (200, "bytes"), "{proto:?}");
        let (body, len) = (whole.body.clone(), whole.body.len());
        let etag = whole.header("etag").to_string();
        // A PDF reader asks with Accept-Encoding too: the slice is of the identity body.
        let first =
            send(server.addr, proto, "GET", HOST, path, &[("range", "bytes=0-10"), ("accept-encoding", "br, gzip")])
                .await;
        assert_eq!(first.status, 206, "{proto:?}");
        assert_eq!(first.header("content-range"), format!("bytes 0-10/{len}"));
        assert_eq!(first.header("content-encoding"), "", "a range is never compressed");
        assert_eq!(&first.body[..], &body[..11]);
        let last = send(server.addr, proto, "GET", HOST, path, &[("range", "bytes=-5")]).await;
        assert_eq!((last.status, &last.body[..]), (206, &body[len - 5..]), "{proto:?} suffix range");
        let past = send(server.addr, proto, "GET", HOST, path, &[("range", &format!("bytes={len}-"))]).await;
        assert_eq!((past.status, past.header("content-range")), (416, format!("bytes */{len}").as_str()));
        assert!(past.body.is_empty());
        let same =
            send(server.addr, proto, "GET", HOST, path, &[("range", "bytes=2-3"), ("if-range", etag.as_str())]).await;
        assert_eq!((same.status, &same.body[..]), (206, &body[2..4]), "If-Range with the current ETag");
        let stale =
            send(server.addr, proto, "GET", HOST, path, &[("range", "bytes=2-3"), ("if-range", "\"cu\"")]).await;
        assert_eq!((stale.status, stale.body.len()), (200, len), "If-Range with an old ETag gets it all");
        let many = send(server.addr, proto, "GET", HOST, path, &[("range", "bytes=0-1,4-5")]).await;
        assert_eq!((many.status, many.body.len()), (200, len), "several ranges get it all");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_large_static_file_is_streamed_from_disk_and_only_while_it_is_the_file_checked() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("tenants/ais");
    common::copy_tree(&common::repo().join("tenants/ais"), &site);
    let big: Vec<u8> = (0..3u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    let path = site.join("static/files/bao-cao.pdf");
    std::fs::write(&path, &big).unwrap();
    let live = common::live(&dir.path().join("tenants"), &common::repo().join("themes"), |_| {});
    let url = "/static/files/bao-cao.pdf";
    let kept = live.snapshot().sites["ais"].entries.get(url).cloned();
    assert!(matches!(kept, Some(cong::content::site::Entry::File(_))), "over 1 MiB, the file stays on disk: {kept:?}");
    let server = start(live).await;
    for proto in [Proto::H1, Proto::H2] {
        let whole = send(server.addr, proto, "GET", HOST, url, &[]).await;
        assert_eq!((whole.status, whole.header("content-type")), (200, "application/pdf"), "{proto:?}");
        assert_eq!(whole.header("content-length"), big.len().to_string());
        assert!(whole.body == big, "{proto:?}: the bytes on disk");
        let etag = whole.header("etag").to_string();
        let part = send(server.addr, proto, "GET", HOST, url, &[("range", "bytes=1048570-1048589")]).await;
        assert_eq!(
            (part.status, part.header("content-range")),
            (206, format!("bytes 1048570-1048589/{}", big.len()).as_str())
        );
        assert_eq!(&part.body[..], &big[1_048_570..1_048_590]);
        let head = send(server.addr, proto, "HEAD", HOST, url, &[]).await;
        assert_eq!(
            (head.status, head.body.len(), head.header("content-length")),
            (200, 0, whole.header("content-length"))
        );
        let again = send(server.addr, proto, "GET", HOST, url, &[("if-none-match", etag.as_str())]).await;
        assert_eq!((again.status, again.body.len()), (304, 0));
    }
    // Replaced on disk (no watcher here): not the file checked, so not served as it.
    std::fs::write(dir.path().join("new.pdf"), b"%PDF-1.7 khac").unwrap();
    std::fs::rename(dir.path().join("new.pdf"), &path).unwrap();
    let changed = get(server.addr, HOST, url).await;
    assert_eq!((changed.status, changed.header("retry-after")), (503, "1"), "{}", changed.text());
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", &path).unwrap();
    let linked = get(server.addr, HOST, url).await;
    assert_eq!(linked.status, 503, "a link in its place is never followed");
    assert!(!linked.text().contains("root:"), "{}", linked.text());
}

#[tokio::test]
async fn static_files_carry_last_modified_and_answer_if_modified_since() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("tenants/ais");
    common::copy_tree(&common::repo().join("tenants/ais"), &site);
    // One file held in memory and one streamed from disk, with known modification times,
    // and documents whose types come from the maintained table.
    let files = site.join("static/files");
    let big: Vec<u8> = (0..(2u32 << 20)).map(|i| (i % 253) as u8).collect();
    std::fs::write(files.join("so-lieu.7z"), &big).unwrap();
    for name in ["bao-cao.odt", "trinh-chieu.pptx", "tai-lieu.rar"] {
        std::fs::write(files.join(name), b"PK\x03\x04 not really").unwrap();
    }
    let when = std::time::UNIX_EPOCH + Duration::from_secs(1_780_000_000); // 2026-05-28 20:26:40 UTC
    for name in ["huong-dan.txt", "so-lieu.7z"] {
        std::fs::File::options().write(true).open(files.join(name)).unwrap().set_modified(when).unwrap();
    }
    let live = common::live(&dir.path().join("tenants"), &common::repo().join("themes"), |_| {});
    let server = start(live).await;
    let stamp = "Thu, 28 May 2026 20:26:40 GMT";
    for proto in [Proto::H1, Proto::H2] {
        for path in ["/static/files/huong-dan.txt", "/static/files/so-lieu.7z"] {
            let first = send(server.addr, proto, "GET", HOST, path, &[]).await;
            assert_eq!((first.status, first.header("last-modified")), (200, stamp), "{proto:?} {path}");
            let same = send(server.addr, proto, "GET", HOST, path, &[("if-modified-since", stamp)]).await;
            assert_eq!((same.status, same.body.len()), (304, 0), "{proto:?} {path}: not modified since");
            let later = "Fri, 29 May 2026 00:00:00 GMT";
            let after = send(server.addr, proto, "GET", HOST, path, &[("if-modified-since", later)]).await;
            assert_eq!(after.status, 304, "{proto:?} {path}: a later date");
            let earlier = "Wed, 27 May 2026 00:00:00 GMT";
            let before = send(server.addr, proto, "GET", HOST, path, &[("if-modified-since", earlier)]).await;
            assert_eq!((before.status, before.body.len()), (200, first.body.len()), "{proto:?} {path}: modified since");
            // If-None-Match decides when both are sent (RFC 9110 13.1.3).
            let both = [("if-none-match", "\"stale\""), ("if-modified-since", stamp)];
            assert_eq!(send(server.addr, proto, "GET", HOST, path, &both).await.status, 200, "{proto:?} {path}");
            let garbage = send(server.addr, proto, "GET", HOST, path, &[("if-modified-since", "hôm qua")]).await;
            assert_eq!(garbage.status, 200, "{proto:?} {path}: a date that does not parse is ignored");
        }
        assert_eq!(
            send(server.addr, proto, "GET", HOST, "/static/files/so-lieu.7z", &[]).await.header("content-type"),
            "application/x-7z-compressed"
        );
        for (path, want) in [
            ("/static/files/bao-cao.odt", "application/vnd.oasis.opendocument.text"),
            (
                "/static/files/trinh-chieu.pptx",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            ),
        ] {
            assert_eq!(send(server.addr, proto, "GET", HOST, path, &[]).await.header("content-type"), want, "{path}");
        }
        let rar = send(server.addr, proto, "GET", HOST, "/static/files/tai-lieu.rar", &[]).await;
        assert_ne!(rar.header("content-type"), "application/octet-stream");
        // Rendered pages have no Last-Modified: their ETag is the validator.
        let page = send(server.addr, proto, "GET", HOST, "/", &[]).await;
        assert_eq!(page.header("last-modified"), "", "{proto:?}");
    }
}

/// RFC 9110 15.4.5: a 304 carries the Vary a 200 would, or caches mix up encodings.
#[tokio::test]
async fn a_304_carries_the_vary_of_the_200() {
    let server = start(demo()).await;
    for proto in [Proto::H1, Proto::H2] {
        let first = send(server.addr, proto, "GET", HOST, "/", &[("accept-encoding", "br")]).await;
        assert!(first.header("vary").contains("accept-encoding"), "the 200 varies");
        let etag = first.header("etag");
        let again =
            send(server.addr, proto, "GET", HOST, "/", &[("accept-encoding", "br"), ("if-none-match", etag)]).await;
        assert_eq!(again.status, 304);
        assert_eq!(again.header("vary"), first.header("vary"), "{proto:?}: the 304 repeats Vary");
    }
}

/// Undo one content coding.
type Decode = fn(&[u8]) -> Vec<u8>;

fn brotli_decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &bytes[..], &mut out).expect("valid brotli");
    out
}

fn gzip_decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("valid gzip");
    out
}

#[tokio::test]
async fn compressed_answers_decode_to_the_same_page() {
    let server = start(demo()).await;
    for proto in [Proto::H1, Proto::H2] {
        for path in ["/", "/tin-tuc/", "/_theme/style.css", "/sitemap.xml"] {
            let plain = send(server.addr, proto, "GET", HOST, path, &[]).await;
            assert_eq!(plain.header("content-encoding"), "", "{path}: no Accept-Encoding, identity");
            assert!(plain.header("vary").to_ascii_lowercase().contains("accept-encoding"), "{path}: Vary");
            let cases: [(&str, &str, Decode); 4] = [
                ("br", "br", brotli_decode),
                ("gzip", "gzip", gzip_decode),
                ("gzip, deflate, br", "br", brotli_decode),
                ("br;q=0, gzip", "gzip", gzip_decode),
            ];
            for (accept, coding, decode) in cases {
                let resp = send(server.addr, proto, "GET", HOST, path, &[("accept-encoding", accept)]).await;
                assert_eq!(resp.status, 200);
                assert_eq!(resp.header("content-encoding"), coding, "{proto:?} {path} Accept-Encoding: {accept}");
                assert!(resp.body.len() < plain.body.len(), "{path}: {coding} is smaller");
                assert_eq!(decode(&resp.body), plain.body, "{proto:?} {path}: {coding} decodes to the same bytes");
                assert!(resp.header("vary").to_ascii_lowercase().contains("accept-encoding"));
            }
            let identity = send(server.addr, proto, "GET", HOST, path, &[("accept-encoding", "identity")]).await;
            assert_eq!((identity.header("content-encoding"), &identity.body), ("", &plain.body));
        }
    }
}

#[tokio::test]
async fn head_gets_the_headers_of_get_and_no_body() {
    let server = start(demo()).await;
    for proto in [Proto::H1, Proto::H2] {
        for (path, accept) in [("/", ""), ("/", "br"), ("/static/images/logo.svg", ""), ("/khong-co/", "gzip")] {
            let headers: &[(&str, &str)] = if accept.is_empty() { &[] } else { &[("accept-encoding", accept)] };
            let get = send(server.addr, proto, "GET", HOST, path, headers).await;
            let head = send(server.addr, proto, "HEAD", HOST, path, headers).await;
            let what = format!("{proto:?} HEAD {path} ({accept})");
            assert_eq!(head.status, get.status, "{what}");
            assert!(head.body.is_empty(), "{what}: no body");
            for name in ["content-type", "content-length", "etag", "cache-control", "content-encoding", "vary"] {
                assert_eq!(head.header(name), get.header(name), "{what}: {name}");
            }
            assert_eq!(head.header("content-length"), get.body.len().to_string(), "{what}: GET's length");
        }
    }
}

#[tokio::test]
async fn other_methods_get_405_with_allow() {
    let server = start(demo()).await;
    for proto in [Proto::H1, Proto::H2] {
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            let resp = send(server.addr, proto, method, HOST, "/gioi-thieu/", &[]).await;
            assert_eq!(resp.status, 405, "{proto:?} {method}");
            assert_eq!(resp.header("allow"), "GET, HEAD", "{proto:?} {method}");
        }
    }
}

#[tokio::test]
async fn one_http2_connection_carries_many_requests() {
    use http_body_util::{BodyExt, Full};
    let server = start(demo()).await;
    let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let io = hyper_util::rt::TokioIo::new(stream);
    let (sender, conn) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io).await.expect("h2c");
    tokio::spawn(conn);
    let requests = ["ais", "vnnic", "cds", "ttt", "cbc", "ptit"].map(|label| {
        let mut sender = sender.clone();
        async move {
            let req =
                http::Request::get(format!("http://{label}.mic.gov.vn/")).body(Full::new(bytes::Bytes::new())).unwrap();
            let resp = sender.send_request(req).await.expect("h2 response");
            let version = resp.version();
            let status = resp.status().as_u16();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            (label, status, version, String::from_utf8_lossy(&body).into_owned())
        }
    });
    let all = tokio::time::timeout(common::TIMEOUT, join_all(requests)).await.expect("answers in time");
    let live = demo();
    for (label, status, version, body) in all {
        assert_eq!((status, version), (200, http::Version::HTTP_2), "{label}");
        let name = &live.snapshot().sites[label].config.names.name_vi;
        assert!(body.contains(name.as_str()), "{label}: its own page on a shared connection");
    }
}

/// Run futures concurrently as tasks; their outputs in order (no dependency for `join_all`).
async fn join_all<F: std::future::Future + Send + 'static>(futures: [F; 6]) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("request task"));
    }
    out
}

// ---- Path traversal ---------------------------------------------------------------------

/// Request targets that try to climb out of a site's folder, sent byte for byte.
const TRAVERSAL: &[&str] = &[
    "/../site.toml",
    "/static/../site.toml",
    "/static/%2e%2e/site.toml",
    "/static/%2E%2E/site.toml",
    "/static/%2e%2e%2fsite.toml",
    "/static/%252e%252e/site.toml",
    "/static/..%5csite.toml",
    "/static\\..\\site.toml",
    "//etc/passwd",
    "/static//etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static/images/../../site.toml",
    "/static/./images/logo.svg/../../../site.toml",
    "/static/%00/../site.toml",
    "/content/_index.md",
    "/site.toml",
    "/static/..",
    "/..",
];

fn assert_nothing_leaked(what: &str, status: u16, body: &str) {
    assert!(status == 404 || status == 400, "{what}: status {status}");
    for secret in ["name_vi", "root:", "[responsible]", "+++"] {
        assert!(!body.contains(secret), "{what}: the answer leaks {secret:?}:\n{body}");
    }
}

#[tokio::test]
async fn traversal_attempts_never_reach_files_outside_the_site() {
    let server = start(demo()).await;
    for target in TRAVERSAL {
        let resp = raw(server.addr, &raw_get(target, HOST)).await;
        assert_nothing_leaked(&format!("origin-form {target}"), resp.status, &resp.text());
        let absolute = format!("http://{HOST}{target}");
        let resp = raw(server.addr, &raw_get(&absolute, HOST)).await;
        assert_nothing_leaked(&format!("absolute-form {absolute}"), resp.status, &resp.text());
        if http::Uri::try_from(absolute.as_str()).is_ok() {
            let resp = send(server.addr, Proto::H2, "GET", HOST, target, &[]).await;
            assert_nothing_leaked(&format!("HTTP/2 {target}"), resp.status, &resp.text());
        }
    }
    let ok = raw(server.addr, &raw_get("/static/images/logo.svg", HOST)).await;
    assert_eq!(ok.status, 200, "the corpus is not refused wholesale");
}

#[cfg(unix)]
#[tokio::test]
async fn links_inside_static_are_not_served_wherever_they_lead() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("tenants/ais");
    common::copy_tree(&common::repo().join("tenants/ais"), &site);
    let link =
        |to: &std::path::Path, name: &str| std::os::unix::fs::symlink(to, site.join("static").join(name)).unwrap();
    link(&site.join("site.toml"), "site.toml");
    link(std::path::Path::new("/etc/passwd"), "passwd");
    link(&site, "up");
    link(&site.join("static/images/logo.svg"), "logo-link.svg");
    let live = common::live(&dir.path().join("tenants"), &common::repo().join("themes"), |s| {
        let warnings = &s.sites["ais"].warnings;
        assert!(warnings.iter().any(|w| w.contains("static/passwd") && w.contains("refused")), "{warnings:?}");
    });
    let server = start(live).await;
    for target in ["/static/site.toml", "/static/passwd", "/static/up/site.toml", "/static/up/static/images/logo.svg"] {
        let resp = raw(server.addr, &raw_get(target, HOST)).await;
        assert_eq!(resp.status, 404, "{target}");
        assert_nothing_leaked(target, resp.status, &resp.text());
    }
    // Every link is refused (docs/architecture.md): even one that stays inside static/,
    // since what it points at can change between the check and the read.
    let inside = get(server.addr, HOST, "/static/logo-link.svg").await;
    assert_eq!(inside.status, 404, "a link that stays inside static/ is refused too");
    assert_eq!(get(server.addr, HOST, "/static/images/logo.svg").await.status, 200, "the file itself is served");
}

// ---- Graceful shutdown ------------------------------------------------------------------

/// Timers that would also close a quiet connection, pushed out of the way: here only the
/// shutdown may close one.
const NO_TIMERS: &str = "[limits]\nheader_read_timeout_secs = 3600\nidle_timeout_secs = 3600\n";

/// A site with one large static file, so a response is still being written when the
/// server is told to stop.
fn big_site(dir: &std::path::Path, len: usize) -> Vec<u8> {
    let site = dir.join("tenants/big");
    std::fs::create_dir_all(site.join("static")).unwrap();
    std::fs::write(site.join("site.toml"), "label = \"big\"\nname_vi = \"Đơn vị Tệp lớn\"\n").unwrap();
    let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    std::fs::write(site.join("static/big.bin"), &bytes).unwrap();
    bytes
}

/// Read one HTTP/1.1 response head, then exactly Content-Length body bytes.
async fn read_response(stream: &mut tokio::net::TcpStream) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let n = stream.read(&mut chunk).await.expect("read head");
        assert!(n > 0, "connection closed before the response head");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let len: usize = common::parse_raw(&buf).header("content-length").parse().expect("content-length");
    let mut body = buf[end + 4..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).await.expect("read body");
        assert!(n > 0, "connection closed after {} of {len} body bytes", body.len());
        body.extend_from_slice(&chunk[..n]);
    }
    (head, body)
}

#[tokio::test]
async fn stopping_lets_a_response_in_flight_finish_then_refuses_connections() {
    let dir = tempfile::tempdir().unwrap();
    let expected = big_site(dir.path(), 48 * 1024 * 1024);
    let live = common::live_with(NO_TIMERS, &dir.path().join("tenants"), &common::repo().join("themes"), |_| {});
    let server = start(live).await;
    let addr = server.addr;

    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"GET /static/big.bin HTTP/1.1\r\nHost: big.mic.gov.vn\r\n\r\n").await.unwrap();
    // Take the first bytes only: the server is still writing the rest when stop() comes.
    let mut first = vec![0u8; 1024];
    let n = tokio::time::timeout(common::TIMEOUT, conn.read(&mut first)).await.expect("first bytes").unwrap();
    assert!(n > 0);
    let stopping = tokio::spawn(server.running.stop());

    let mut rest = first[..n].to_vec();
    let mut chunk = vec![0u8; 1 << 20];
    let body = tokio::time::timeout(common::TIMEOUT, async {
        loop {
            let read = conn.read(&mut chunk).await.expect("read");
            if read == 0 {
                break;
            }
            rest.extend_from_slice(&chunk[..read]);
        }
        rest
    })
    .await
    .expect("the response finishes and the connection closes after it");
    let resp = common::parse_raw(&body);
    assert_eq!(resp.status, 200, "{}", resp.head);
    assert_eq!(resp.body.len(), expected.len(), "the whole body arrived");
    assert!(resp.body == expected, "the body is intact");

    // DRAIN_TIMEOUT is 20 s: finishing well before it shows no connection was left hanging.
    tokio::time::timeout(Duration::from_secs(15), stopping).await.expect("stop() returns").unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "no new connections after stop");
}

#[tokio::test]
async fn stopping_closes_idle_keep_alive_connections() {
    let themes = common::repo().join("themes");
    let server = start(common::live_with(NO_TIMERS, &common::repo().join("tenants"), &themes, |_| {})).await;
    let addr = server.addr;
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    for _ in 0..2 {
        conn.write_all(b"GET /gioi-thieu/ HTTP/1.1\r\nHost: ais.mic.gov.vn\r\n\r\n").await.unwrap();
        let (head, body) = tokio::time::timeout(common::TIMEOUT, read_response(&mut conn)).await.expect("answer");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(String::from_utf8_lossy(&body).contains("Cục An toàn thông tin"));
    }
    tokio::time::timeout(Duration::from_secs(15), server.running.stop()).await.expect("stop() returns");
    let mut rest = Vec::new();
    let n = tokio::time::timeout(common::TIMEOUT, conn.read_to_end(&mut rest)).await.expect("closed");
    assert!(n.is_ok_and(|n| n == 0), "the idle connection is closed without a stray answer");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "no new connections after stop");
}

/// `[limits] idle_timeout_secs` bounds quiet connections on both protocols (the 8 s wait
/// is a bound on a hang, not a timing goal).
#[tokio::test]
async fn idle_connections_are_closed_after_idle_timeout_secs() {
    let limits = "[limits]\nheader_read_timeout_secs = 3600\nidle_timeout_secs = 1\n";
    let themes = common::repo().join("themes");
    let server = start(common::live_with(limits, &common::repo().join("tenants"), &themes, |_| {})).await;
    // HTTP/1.1: one request, then silence.
    let mut conn = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    conn.write_all(b"GET / HTTP/1.1\r\nHost: ais.mic.gov.vn\r\n\r\n").await.unwrap();
    let (head, _) = tokio::time::timeout(common::TIMEOUT, read_response(&mut conn)).await.expect("answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(8), conn.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "HTTP/1.1: an idle keep-alive connection outlives idle_timeout_secs = 1 by 8 s");
    // HTTP/2: one request, then silence; the connection future ends when the server closes.
    let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut sender, h2) =
        hyper::client::conn::http2::handshake(hyper_util::rt::TokioExecutor::new(), io).await.unwrap();
    let h2 = tokio::spawn(h2);
    let req =
        http::Request::get("http://ais.mic.gov.vn/").body(http_body_util::Full::new(bytes::Bytes::new())).unwrap();
    assert_eq!(sender.send_request(req).await.unwrap().status(), 200);
    let closed = tokio::time::timeout(Duration::from_secs(8), h2).await;
    assert!(closed.is_ok(), "HTTP/2: an idle connection outlives idle_timeout_secs = 1 by 8 s");
}
