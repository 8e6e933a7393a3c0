//! The request path, as one list of steps: health, host, route, method, path, lookup,
//! validators, encoding. Synchronous and free of I/O: it reads one snapshot.

use crate::render::Prepared;
use crate::router::{normalize_host, Route};
use crate::site::Entry;
use crate::state::Snapshot;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use std::borrow::Cow;

/// The response body type of every listener.
pub type Body = Full<Bytes>;

/// Which listener a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// Answer one request from `snap`. Returns the response and the member it concerned.
pub fn handle<B>(snap: &Snapshot, req: &Request<B>, scheme: Scheme) -> (Response<Body>, Option<std::sync::Arc<str>>) {
    // 1. Liveness answers on every host.
    if req.uri().path() == "/healthz" {
        return (text(StatusCode::OK, "ok\n"), None);
    }
    // 2. The host: the URI authority (HTTP/2, absolute-form) or the one Host header.
    let host = match request_host(req).map(normalize_host) {
        Some(Ok(h)) => h,
        _ => return (prepared(&snap.pages.bad_request, req.headers(), req.method()), None),
    };
    // 3. Exact route lookup; an unknown host never sees a member's content.
    let Some(route) = snap.routes.lookup(&host) else {
        return (prepared(&snap.pages.not_found, req.headers(), req.method()), None);
    };
    let label = route.label().cloned();
    // 4. Only GET and HEAD read a portal.
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut resp = prepared(&snap.pages.method_not_allowed, req.headers(), req.method());
        resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return (resp, label);
    }
    (answer_route(snap, route, req, scheme), label)
}

/// Step 5 on: what the route says, then the path inside the site.
fn answer_route<B>(snap: &Snapshot, route: &Route, req: &Request<B>, scheme: Scheme) -> Response<Body> {
    let (headers, method) = (req.headers(), req.method());
    let path_and_query = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    match route {
        Route::Site { label } => match snap.sites.get(&**label) {
            Some(site) => answer_path(&site.entries, Some(&site.not_found), snap, req),
            None => prepared(&snap.pages.unavailable, headers, method),
        },
        Route::Apex => answer_path(&snap.pages.apex, None, snap, req),
        Route::Canonical { host, .. } => redirect(&format!("{}://{host}{path_and_query}", scheme.as_str())),
        Route::External { base, .. } => redirect(&format!("{base}{path_and_query}")),
        Route::Pending { .. } => prepared(&snap.pages.not_found, headers, method),
        Route::Suspended { .. } => {
            let mut resp = prepared(&snap.pages.suspended, headers, method);
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("3600"));
            resp
        }
        Route::Archived { .. } => prepared(&snap.pages.archived, headers, method),
    }
}

/// Decode the path and look it up in a site's entries.
fn answer_path<B>(
    entries: &std::collections::HashMap<String, Entry>,
    not_found: Option<&std::sync::Arc<Prepared>>,
    snap: &Snapshot,
    req: &Request<B>,
) -> Response<Body> {
    let (headers, method) = (req.headers(), req.method());
    let not_found = not_found.unwrap_or(&snap.pages.not_found);
    let Some(path) = decode_path(req.uri().path()) else {
        return prepared(&snap.pages.bad_request, headers, method);
    };
    match entries.get(&*path) {
        Some(Entry::Page(p)) => prepared(p, headers, method),
        Some(Entry::Redirect(to)) => redirect(&with_query(to, req.uri().query())),
        // `/gioi-thieu` → `/gioi-thieu/`, as static site servers do.
        None if !path.ends_with('/') && entries.contains_key(&format!("{path}/")) => {
            redirect(&with_query(&format!("{}/", req.uri().path()), req.uri().query()))
        }
        None => prepared(not_found, headers, method),
    }
}

fn with_query(path: &str, query: Option<&str>) -> String {
    match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    }
}

/// The host a request names, or `None` when missing or ambiguous (two Host headers).
fn request_host<B>(req: &Request<B>) -> Option<&str> {
    if let Some(authority) = req.uri().authority() {
        return Some(authority.as_str());
    }
    let mut hosts = req.headers().get_all(header::HOST).iter();
    let first = hosts.next()?;
    if hosts.next().is_some() {
        return None;
    }
    first.to_str().ok()
}

/// Percent-decode a request path; `None` for anything that could climb out of a site:
/// `..` or `.` segments (also encoded), backslashes, NUL, invalid UTF-8.
pub fn decode_path(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.starts_with('/') {
        return None;
    }
    let decoded: Cow<str> = if raw.contains('%') {
        percent_encoding::percent_decode_str(raw).decode_utf8().ok()?
    } else {
        Cow::Borrowed(raw)
    };
    if decoded.contains('\\') || decoded.contains('\0') || decoded.split('/').any(|seg| seg == ".." || seg == ".") {
        return None;
    }
    Some(decoded)
}

/// Send a prepared response: 304 when the client's ETag matches, else the best encoding.
pub fn prepared(p: &Prepared, headers: &HeaderMap, method: &Method) -> Response<Body> {
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, p.content_type.clone())
        .header(header::CACHE_CONTROL, p.cache_control.clone());
    if p.status == StatusCode::OK {
        builder = builder.header(header::ETAG, p.etag.clone());
        if etag_matches(headers, &p.etag) {
            return finish(builder.status(StatusCode::NOT_MODIFIED), Bytes::new());
        }
    }
    let (body, encoding) = choose_encoding(p, headers);
    if p.gzip.is_some() || p.br.is_some() {
        builder = builder.header(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if let Some(enc) = encoding {
        builder = builder.header(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
    }
    builder = builder.status(p.status).header(header::CONTENT_LENGTH, body.len());
    finish(builder, if method == Method::HEAD { Bytes::new() } else { body.clone() })
}

fn choose_encoding<'a>(p: &'a Prepared, headers: &HeaderMap) -> (&'a Bytes, Option<&'static str>) {
    let Some(accept) = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else {
        return (&p.body, None);
    };
    match (&p.br, &p.gzip) {
        (Some(br), _) if accepts(accept, "br") => (br, Some("br")),
        (_, Some(gz)) if accepts(accept, "gzip") => (gz, Some("gzip")),
        _ => (&p.body, None),
    }
}

/// Does an Accept-Encoding value allow `coding` (listed, or `*`, with q > 0)?
pub fn accepts(accept: &str, coding: &str) -> bool {
    let mut star = false;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q_zero = parts
            .any(|p| matches!(p.trim().strip_prefix("q="), Some(q) if q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)));
        if name.eq_ignore_ascii_case(coding) {
            return !q_zero;
        }
        star |= name == "*" && !q_zero;
    }
    star
}

/// If-None-Match with weak comparison (RFC 9110 13.1.2).
fn etag_matches(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let want = etag.as_bytes();
    headers.get_all(header::IF_NONE_MATCH).iter().any(|v| {
        v.to_str().is_ok_and(|s| {
            s.split(',').any(|t| {
                let t = t.trim();
                t == "*" || t.strip_prefix("W/").unwrap_or(t).as_bytes() == want
            })
        })
    })
}

fn redirect(location: &str) -> Response<Body> {
    let builder = Response::builder().status(StatusCode::MOVED_PERMANENTLY).header(header::CONTENT_LENGTH, 0);
    match HeaderValue::from_str(location) {
        Ok(v) => finish(builder.header(header::LOCATION, v), Bytes::new()),
        Err(_) => text(StatusCode::BAD_REQUEST, "bad request\n"),
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::CONTENT_LENGTH, body.len());
    finish(builder, Bytes::from_static(body.as_bytes()))
}

/// Add the headers every response carries and build it.
fn finish(builder: http::response::Builder, body: Bytes) -> Response<Body> {
    let mut resp = builder.body(Full::new(body)).expect("headers built from valid values");
    security_headers(resp.headers_mut());
    resp
}

/// Response hygiene for every answer: no sniffing, no framing, a CSP the default theme
/// satisfies (no inline script or style), a referrer policy.
pub fn security_headers(h: &mut HeaderMap) {
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_decoding_table() {
        let ok = [
            ("/", "/"),
            ("/gioi-thieu/", "/gioi-thieu/"),
            ("/static/a%20b.txt", "/static/a b.txt"),
            ("/%252e%252e/x", "/%2e%2e/x"),
            ("/a..b/", "/a..b/"),
        ];
        for (raw, want) in ok {
            assert_eq!(decode_path(raw).as_deref(), Some(want), "{raw}");
        }
        for raw in [
            "/../etc/passwd",
            "/static/../../x",
            "/%2e%2e/x",
            "/%2E%2E/%2e%2e/etc/passwd",
            "/static/..%2f..%2fsite.toml",
            "/a\\..\\b",
            "/a%5c..%5cb",
            "/x%00",
            "/./x",
            "relative",
            "/%ff",
        ] {
            assert_eq!(decode_path(raw), None, "{raw}");
        }
    }

    #[test]
    fn accept_encoding_table() {
        let table = [
            ("gzip, deflate, br", "br", true),
            ("gzip", "br", false),
            ("br;q=0, gzip", "br", false),
            ("*", "gzip", true),
            ("*;q=0", "gzip", false),
            ("GZIP;q=0.5", "gzip", true),
            ("identity", "gzip", false),
        ];
        for (accept, coding, want) in table {
            assert_eq!(accepts(accept, coding), want, "{accept} {coding}");
        }
    }
}
