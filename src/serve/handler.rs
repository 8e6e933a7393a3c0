//! The request path, as one list of steps: health, host, ACME challenge, misdirected
//! request, route, HTTPS redirect, method, path, lookup, validators, encoding. Synchronous
//! and free of I/O: it reads one snapshot and the certificate map.

use crate::content::render::{Prepared, Shape};
use crate::content::site::{services, Entry};
use crate::model::host::normalize_host;
use crate::model::label::Label;
use crate::serve::range;
use crate::snapshot::certs::Certs;
use crate::snapshot::routes::Route;
use crate::snapshot::Snapshot;
use bytes::{Buf, BufMut, Bytes};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use std::borrow::Cow;

/// The response body type of every listener.
/// A response body: prepared bytes, or a large static file streamed from disk.
/// (The file is boxed: every answer is moved through a few calls on its way to hyper, and
/// nearly every one is prepared bytes, which would otherwise carry a file's room.)
pub type Body = http_body_util::Either<Full<Chunk>, Box<crate::serve::file::FileBody>>;

/// A body of prepared bytes.
pub fn full(bytes: impl Into<Chunk>) -> Body {
    http_body_util::Either::Left(Full::new(bytes.into()))
}

/// The bytes of a response as hyper takes them: `Bytes`, or a page's brotli form sent from
/// the page's own `Arc<[u8]>` (see [`Prepared::br`]: its count of clones is in the line of
/// its first bytes), from `at` on.
#[derive(Debug)]
pub enum Chunk {
    Bytes(Bytes),
    Shared { bytes: std::sync::Arc<[u8]>, at: usize },
}

impl Chunk {
    fn shared(bytes: std::sync::Arc<[u8]>) -> Chunk {
        Chunk::Shared { bytes, at: 0 }
    }
}

impl From<Bytes> for Chunk {
    fn from(bytes: Bytes) -> Chunk {
        Chunk::Bytes(bytes)
    }
}

impl Default for Chunk {
    fn default() -> Chunk {
        Chunk::Bytes(Bytes::new())
    }
}

impl bytes::Buf for Chunk {
    fn remaining(&self) -> usize {
        match self {
            Chunk::Bytes(b) => b.len(),
            Chunk::Shared { bytes, at } => bytes.len() - at,
        }
    }

    fn chunk(&self) -> &[u8] {
        match self {
            Chunk::Bytes(b) => b,
            Chunk::Shared { bytes, at } => &bytes[*at..],
        }
    }

    fn advance(&mut self, n: usize) {
        match self {
            Chunk::Bytes(b) => b.advance(n),
            Chunk::Shared { bytes, at } => {
                assert!(n <= bytes.len() - *at, "advance {n} past the {} bytes left", bytes.len() - *at);
                *at += n;
            }
        }
    }

    /// Without a copy for `Bytes` (the default copies).
    fn copy_to_bytes(&mut self, len: usize) -> Bytes {
        match self {
            Chunk::Bytes(b) => b.copy_to_bytes(len),
            Chunk::Shared { .. } => {
                let mut out = bytes::BytesMut::with_capacity(len);
                out.put((&mut *self).take(len));
                out.freeze()
            }
        }
    }
}

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

/// What the handler knows about the connection a request came on.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub scheme: Scheme,
    /// HTTPS: the normalised TLS server name (SNI) the connection was opened for.
    pub sni: Option<&'a str>,
    /// Certificates and pending ACME answers; `None` where TLS plays no part.
    pub certs: Option<&'a Certs>,
}

impl From<Scheme> for Ctx<'static> {
    fn from(scheme: Scheme) -> Self {
        Ctx { scheme, sni: None, certs: None }
    }
}

/// HSTS on every HTTPS answer: one year, this host only (a member's own domain has
/// subdomains that are not ours to pin).
const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000");

/// Where ACME HTTP-01 answers live (RFC 8555 section 8.3).
const ACME_CHALLENGE: &str = "/.well-known/acme-challenge/";

/// Answer one request from `snap` on the connection `ctx` (a bare [`Scheme`] will do).
/// Returns the response and the member it concerned.
pub fn handle<'a, 's, B>(
    snap: &'s Snapshot,
    req: &Request<B>,
    ctx: impl Into<Ctx<'a>>,
) -> (Response<Body>, Option<&'s Label>) {
    let ctx = ctx.into();
    let (mut resp, label) = steps(snap, req, &ctx);
    if ctx.scheme == Scheme::Https {
        resp.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    (resp, label)
}

fn steps<'s, B>(snap: &'s Snapshot, req: &Request<B>, ctx: &Ctx) -> (Response<Body>, Option<&'s Label>) {
    let scheme = ctx.scheme;
    // 1. Liveness answers on every host.
    if req.uri().path() == "/healthz" {
        return (text(StatusCode::OK, "ok\n"), None);
    }
    // 2. The host: the URI authority (HTTP/2, absolute-form) or the one Host header.
    let host = match request_host(req).map(normalize_host) {
        Some(Ok(h)) => h,
        _ => return (prepared(&snap.pages.bad_request, req.headers(), req.method()), None),
    };
    // 3. ACME HTTP-01: answered before routing, only for a token issued for this host.
    if let Some(resp) = acme_answer(ctx, &host, req.uri().path()) {
        return (resp, None);
    }
    // 4. HTTPS: a Host of another member than the TLS name (SNI) is misdirected (421).
    if misdirected(snap, ctx, &host) {
        return (text(StatusCode::MISDIRECTED_REQUEST, "misdirected request\n"), None);
    }
    // 5. Exact route lookup; an unknown host never sees a member's content.
    let Some(route) = snap.routes.lookup(&host) else {
        return (prepared(&snap.pages.not_found, req.headers(), req.method()), None);
    };
    let label = route.label();
    // 6. Plain HTTP for a name with a certificate: 301 to HTTPS, path and query kept.
    if let Some(resp) = to_https(ctx, &host, req) {
        return (resp, label);
    }
    // 7. Only GET and HEAD read a portal; a host that serves nothing now (pending,
    // suspended, archived) says so whatever the method.
    let serves_nothing = match route {
        Route::Pending { .. } | Route::Suspended { .. } => true,
        Route::Archived { label } => snap.site(label).is_none(),
        _ => false,
    };
    if req.method() != Method::GET && req.method() != Method::HEAD && !serves_nothing {
        let mut resp = prepared(&snap.pages.method_not_allowed, req.headers(), req.method());
        resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return (resp, label);
    }
    (answer_route(snap, route, req, scheme), label)
}

/// The HTTP-01 key authorization for `/.well-known/acme-challenge/<token>` on plain HTTP.
fn acme_answer(ctx: &Ctx, host: &str, path: &str) -> Option<Response<Body>> {
    let token = path.strip_prefix(ACME_CHALLENGE).filter(|_| ctx.scheme == Scheme::Http)?;
    let answer = ctx.certs?.http01(host, token)?;
    let builder = Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::CONTENT_LENGTH, answer.len());
    Some(finish(builder, Bytes::from(answer)))
}

/// Does `host` belong to another member (or to nobody) than the connection's SNI name?
fn misdirected(snap: &Snapshot, ctx: &Ctx, host: &str) -> bool {
    let Some(sni) = ctx.sni.filter(|_| ctx.scheme == Scheme::Https) else {
        return false;
    };
    if sni == host {
        return false;
    }
    let owner = |h: &str| snap.routes.lookup(h).map(|r| r.label().cloned());
    match (owner(sni), owner(host)) {
        (Some(a), Some(b)) => a != b,
        _ => true,
    }
}

/// The redirect from plain HTTP to HTTPS, for names served with a certificate. Challenge
/// paths stay on HTTP (the CA may ask before the first certificate exists, or after it expired).
fn to_https<B>(ctx: &Ctx, host: &str, req: &Request<B>) -> Option<Response<Body>> {
    let certs = ctx.certs.filter(|_| ctx.scheme == Scheme::Http)?;
    if req.uri().path().starts_with(ACME_CHALLENGE) || !certs.redirects(host) {
        return None;
    }
    // Keep the host as the client wrote it (`.localhost` in development), without its port.
    let given = request_host(req)?;
    let name = match given.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => given,
    };
    let port = match certs.redirect_port() {
        443 => String::new(),
        p => format!(":{p}"),
    };
    let path_and_query = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    Some(redirect(&format!("https://{name}{port}{path_and_query}")))
}

/// Step 8 on: what the route says, then the path inside the site.
fn answer_route<B>(snap: &Snapshot, route: &Route, req: &Request<B>, scheme: Scheme) -> Response<Body> {
    let (headers, method) = (req.headers(), req.method());
    let path_and_query = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    match route {
        Route::Site { label } => match snap.served(label) {
            Some(served) => match in_maintenance(snap, label) {
                Some((wait, page)) => {
                    let mut resp = prepared(page, headers, method);
                    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
                    resp
                }
                None => match services_page(snap, label, &served.site, req) {
                    Some(resp) => resp,
                    None => answer_path(&served.paths, Some(&served.site.not_found), snap, req),
                },
            },
            // Being built since the start: ask again in a second rather than wait.
            None if snap.pending.contains(&**label) => {
                let mut resp = prepared(&snap.pages.unavailable, headers, method);
                resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                resp
            }
            None => prepared(&snap.pages.unavailable, headers, method),
        },
        Route::Apex => match development_suffix(req, &snap.platform.zone) {
            Some(suffix) if req.uri().path() == "/" => development_directory(snap, suffix, headers, method),
            _ if req.uri().path() == services::PAGE => apex_services(snap, req),
            _ => answer_path(&snap.pages.apex, None, snap, req),
        },
        Route::Canonical { host, .. } => redirect(&format!("{}://{host}{path_and_query}", scheme.as_str())),
        Route::External { base, .. } => redirect(&format!("{base}{path_and_query}")),
        Route::Pending { .. } => prepared(&snap.pages.not_found, headers, method),
        Route::Suspended { .. } => {
            let mut resp = prepared(&snap.pages.suspended, headers, method);
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("3600"));
            resp
        }
        // The record as it was when archived, read-only and not to be indexed; 410 where
        // nothing was ever built.
        Route::Archived { label } => match snap.site(label) {
            Some(site) => {
                let mut resp = answer_path(&site.entries, Some(&site.not_found), snap, req);
                resp.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
                resp
            }
            None => prepared(&snap.pages.archived, headers, method),
        },
    }
}

/// The seconds until the time of return and the 503 page, while `label` is in an
/// announced maintenance window (the clock is read only for a site that has one).
pub(crate) fn in_maintenance<'s>(snap: &'s Snapshot, label: &str) -> Option<(i64, &'s std::sync::Arc<Prepared>)> {
    if snap.pages.maintenance.is_empty() {
        return None;
    }
    let (window, page) = snap.pages.maintenance.get(label)?;
    let now = crate::model::time::now_secs() as i64;
    window.covers(now).then_some(((window.until - now).max(1), page))
}

/// The pages made per request from a site's dossiers, poured into its theme: the lookup
/// `/tra-cuu-ho-so/?ma=` and the statistics; `None` for every other path, or a site with
/// neither a catalogue nor dossiers.
fn services_page<B>(
    snap: &Snapshot,
    label: &str,
    site: &crate::content::site::Site,
    req: &Request<B>,
) -> Option<Response<Body>> {
    let path = req.uri().path();
    if path != services::LOOKUP && path != services::STATISTICS {
        return None;
    }
    let dossiers = snap.dossiers.get(label);
    let shell = site.shell.as_ref()?;
    if site.services.is_empty() && dossiers.is_none() {
        return None;
    }
    let (status, title, main) = if path == services::LOOKUP {
        let code = crate::serve::form::field(req.uri().query().unwrap_or(""), "ma").trim().to_string();
        let found = dossiers.and_then(|d| d.by_code.get(&code));
        let status = if code.is_empty() || found.is_some() { StatusCode::OK } else { StatusCode::NOT_FOUND };
        (status, "Tra cứu hồ sơ", services::lookup_main(&site.services, &code, found))
    } else {
        let all = dossiers.into_iter().flat_map(|d| d.by_code.values());
        let now = crate::model::time::now_secs() as i64;
        (StatusCode::OK, "Thống kê giải quyết hồ sơ", services::statistics_main(&site.services, all, now))
    };
    let page = Prepared::per_request(status, shell.wrap(title, &main));
    Some(prepared(&page, req.headers(), req.method()))
}

/// The apex's list of every unit's online public services, filtered by the query.
fn apex_services<B>(snap: &Snapshot, req: &Request<B>) -> Response<Body> {
    let query: std::collections::BTreeMap<String, String> =
        crate::serve::form::pairs(req.uri().query().unwrap_or("")).collect();
    let page = Prepared::per_request(StatusCode::OK, services::apex_page(&snap.platform, &snap.services, &query));
    prepared(&page, req.headers(), req.method())
}

/// What follows the zone in a development Host (`mic.gov.vn.localhost:8080` →
/// `.localhost:8080`); `None` for the public names.
fn development_suffix<'r, B>(req: &'r Request<B>, zone: &str) -> Option<&'r str> {
    let given = request_host(req)?;
    // Routed to the apex: the zone (or www.) and then, in development, `.localhost`.
    let start = given.to_ascii_lowercase().find(zone)? + zone.len();
    let tail = given.get(start..)?;
    let (name, port) = tail.split_once(':').unwrap_or((tail, ""));
    // Only `.localhost` and digits: the suffix is written into the page's links.
    let local = name.trim_end_matches('.').eq_ignore_ascii_case(".localhost");
    (local && port.bytes().all(|b| b.is_ascii_digit())).then_some(tail)
}

/// The directory reached by its development name (the quick start without /etc/hosts):
/// links to the members keep `.localhost` and the port, or they would lead to public
/// names this machine does not answer for. Made per request, uncached; development only.
fn development_directory(snap: &Snapshot, suffix: &str, headers: &HeaderMap, method: &Method) -> Response<Body> {
    let Some(Entry::Page(page)) = snap.pages.apex.get("/") else {
        return prepared(&snap.pages.not_found, headers, method);
    };
    let zone = &snap.platform.zone;
    let html = String::from_utf8_lossy(&page.body()).replace(&format!(".{zone}/\""), &format!(".{zone}{suffix}/\""));
    prepared(&Prepared::per_request(page.status, html), headers, method)
}

/// Decode the path and look it up in a site's entries.
fn answer_path<B>(
    entries: &crate::content::site::Paths,
    not_found: Option<&std::sync::Arc<Prepared>>,
    snap: &Snapshot,
    req: &Request<B>,
) -> Response<Body> {
    let (headers, method) = (req.headers(), req.method());
    let not_found = not_found.unwrap_or(&snap.pages.not_found);
    let Some(path) = decode_path(req.uri().path()) else {
        return prepared(&snap.pages.bad_request, headers, method);
    };
    match entries.get(&path) {
        Some(Entry::Page(p)) => prepared(p, headers, method),
        Some(Entry::Redirect(to)) => redirect(&with_query(to, req.uri().query())),
        Some(Entry::File(f)) => crate::serve::file::answer(f, headers, method),
        // `/gioi-thieu` → `/gioi-thieu/`, as static site servers do.
        None if !path.ends_with('/') && entries.contains_key(format!("{path}/").as_str()) => {
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

/// The host a request names, as given (see [`normalize_host`]), or `None` when missing or
/// ambiguous (two Host headers). HTTP/2 names the host in `:authority` (the URI), Host
/// optional. HTTP/1.1 needs exactly one Host header even in absolute-form, whose authority
/// then wins (RFC 9112 3.2); that header must then be valid too. Otherwise the one name
/// returned is checked where it is normalised.
pub(crate) fn request_host<B>(req: &Request<B>) -> Option<&str> {
    let mut hosts = req.headers().get_all(header::HOST).iter();
    let first = hosts.next();
    if hosts.next().is_some() {
        return None;
    }
    let header = first.and_then(|h| h.to_str().ok());
    let authority = req.uri().authority().map(|a| a.as_str());
    if req.version() >= http::Version::HTTP_2 {
        return authority.or(header);
    }
    match authority {
        Some(authority) => header.filter(|h| normalize_host(h).is_ok()).map(|_| authority),
        None => header,
    }
}

/// Percent-decode a request path; `None` for anything that could climb out of a site:
/// `..` or `.` segments (also encoded), backslashes, NUL, invalid UTF-8.
pub fn decode_path(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.starts_with('/') {
        return None;
    }
    // One pass over the bytes for what nearly every path is: nothing encoded, no backslash
    // or NUL, no segment starting with a dot.
    let mut previous = 0;
    let plain = raw.bytes().all(|b| {
        // Encoded, a backslash or NUL, or a segment that starts with a dot.
        let odd = matches!(b, b'%' | b'\\' | 0) || (previous == b'/' && b == b'.');
        previous = b;
        !odd
    });
    if plain {
        return Some(Cow::Borrowed(raw));
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
/// Each encoding has its own strong ETag (`"<hash>"`, `"<hash>-br"`, `"<hash>-gz"`), as
/// RFC 9110 wants of different representations; any of them revalidates. The whole page,
/// nearly every answer, starts from a [`head`] kept for its shape.
pub fn prepared(p: &Prepared, headers: &HeaderMap, method: &Method) -> Response<Body> {
    let asks = Asks::of(headers);
    let coding = choose_encoding(p, asks.accept_encoding);
    if p.status == StatusCode::OK && asks.validates {
        // A 304 or a range: rare, made from the page's base headers one by one.
        let dated = || {
            let mut h = HeaderMap::with_capacity(12);
            base(&mut h, p);
            if let Some(modified) = &p.last_modified {
                h.insert(header::LAST_MODIFIED, (**modified).clone());
            }
            h
        };
        let etag = p.etag();
        if etag_matches(headers, &etag) || p.last_modified.as_deref().is_some_and(|m| unmodified_since(headers, m)) {
            let mut h = dated();
            h.insert(header::ETAG, variant_etag(p, coding));
            return with_headers(StatusCode::NOT_MODIFIED, h, Bytes::new());
        }
        // A range is a slice of the identity body (PDF readers, video players).
        let len = p.len;
        match range::asked(headers, &etag, len) {
            range::Asked::Whole => {}
            range::Asked::Part { start, end } => {
                let mut h = dated();
                h.insert(header::ETAG, etag);
                h.insert(header::CONTENT_RANGE, number_value(format!("bytes {start}-{end}/{len}")));
                h.insert(header::CONTENT_LENGTH, HeaderValue::from(end - start + 1));
                let slice =
                    if method == Method::HEAD { Bytes::new() } else { p.body().slice(start as usize..=end as usize) };
                return with_headers(StatusCode::PARTIAL_CONTENT, h, slice);
            }
            range::Asked::Unsatisfiable => {
                let mut h = dated();
                h.insert(header::CONTENT_RANGE, number_value(format!("bytes */{len}")));
                h.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
                return with_headers(StatusCode::RANGE_NOT_SATISFIABLE, h, Bytes::new());
            }
        }
    }
    whole(p, coding, method)
}

/// The headers every answer of `p` carries: type, cache policy, `Vary` when it has a
/// compressed form, `Accept-Ranges` on a 200. Into a map with room for the most an answer
/// carries (those, Last-Modified, ETag, Content-Range or the coding, the length, HSTS and
/// the four security headers: 12).
fn base(h: &mut HeaderMap, p: &Prepared) {
    h.insert(header::CONTENT_TYPE, p.content_type.clone());
    h.insert(header::CACHE_CONTROL, p.cache_control.clone());
    if p.br.is_some() {
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if p.status == StatusCode::OK {
        h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    }
}

/// The whole page in `coding`: its [`head`] with the validator, and the length for a HEAD
/// or an empty body (for any other GET, hyper writes the length of the body it sends, as
/// cheaply as it can).
fn whole(p: &Prepared, coding: Option<Coding>, method: &Method) -> Response<Body> {
    // A coding is chosen only for a page that has a brotli form, so a gzip one too (made on
    // demand: a HEAD asks for its length as well).
    let body = match coding {
        Some(Coding::Br) => p.br.clone().map(Chunk::shared).unwrap_or_default(),
        Some(Coding::Gzip) => Chunk::Bytes(p.gzip().unwrap_or_default()),
        None if method == Method::HEAD => Chunk::default(),
        None => Chunk::Bytes(p.body()),
    };
    let mut h = head(p, coding);
    if p.status == StatusCode::OK {
        put_etag(&mut h, variant_etag(p, coding));
        if let Some(modified) = &p.last_modified {
            h.insert(header::LAST_MODIFIED, (**modified).clone());
        }
    }
    if method == Method::HEAD {
        h.insert(
            header::CONTENT_LENGTH,
            HeaderValue::from(if coding.is_some() { body.remaining() as u64 } else { p.len }),
        );
        return response(p.status, h, Chunk::default());
    }
    if !body.has_remaining() {
        // hyper's HTTP/2 side writes a length only for a body that has bytes.
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
    response(p.status, h, body)
}

/// Write the ETag into the place a [`head`] of a 200 keeps for it, its first entry (found
/// without hashing the name); inserted as usual should a head ever come without it.
fn put_etag(h: &mut HeaderMap, etag: HeaderValue) {
    match h.iter_mut().next() {
        Some((name, value)) if name == header::ETAG => *value = etag,
        _ => {
            h.insert(header::ETAG, etag);
        }
    }
}

/// The headers a whole answer of `p` in `coding` carries whatever else was asked: a place
/// for the ETag first (on a 200, filled by [`put_etag`]), its [`base`], the coding and the
/// [`security_headers`]. Pages share a handful of such heads (HTML pages in br, style
/// sheets, images...): each thread makes each once and clones it per answer, which copies
/// the entries where inserting them one by one hashed each name and moved the others aside
/// (a third of the request path's instructions).
fn head(p: &Prepared, coding: Option<Coding>) -> HeaderMap {
    /// Past this many shapes a thread makes the rest afresh each time.
    const KEPT: usize = 32;
    let Some(shape) = p.shape else {
        return fresh_head(p, coding);
    };
    let key = (p.status == StatusCode::OK, p.br.is_some(), coding.map(Coding::name), shape);
    HEADS.with_borrow_mut(|heads| {
        if let Some((_, h)) = heads.iter().find(|(k, _)| *k == key) {
            return h.clone();
        }
        let h = fresh_head(p, coding);
        if heads.len() < KEPT {
            heads.push((key, h.clone()));
        }
        h
    })
}

/// A [`head`] made entry by entry.
fn fresh_head(p: &Prepared, coding: Option<Coding>) -> HeaderMap {
    let mut h = HeaderMap::with_capacity(12);
    if p.status == StatusCode::OK {
        h.insert(header::ETAG, HeaderValue::from_static("\"\""));
    }
    base(&mut h, p);
    if let Some(coding) = coding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding.name()));
    }
    security_headers(&mut h);
    h
}

/// A [`head`]'s key: a 200, has a compressed form, the coding, the page's [`Shape`] (its
/// type and cache policy).
type HeadKey = (bool, bool, Option<&'static str>, Shape);

thread_local! {
    /// Each thread's [`head`]s: no lock on the request path.
    static HEADS: std::cell::RefCell<Vec<(HeadKey, HeaderMap)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A header value made of ASCII digits, spaces and punctuation (`Content-Range`).
fn number_value(text: String) -> HeaderValue {
    HeaderValue::try_from(text).expect("digits, spaces and punctuation are a valid header value")
}

/// A response of `status` with `headers` plus the ones every response carries.
fn with_headers(status: StatusCode, mut headers: HeaderMap, body: Bytes) -> Response<Body> {
    security_headers(&mut headers);
    response(status, headers, body.into())
}

/// A response of `status` with exactly `headers`.
fn response(status: StatusCode, headers: HeaderMap, body: Chunk) -> Response<Body> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp
}

/// A content coding a page is kept in.
#[derive(Debug, Clone, Copy)]
enum Coding {
    Br,
    Gzip,
}

impl Coding {
    /// As `Content-Encoding` names it.
    fn name(self) -> &'static str {
        match self {
            Coding::Br => "br",
            Coding::Gzip => "gzip",
        }
    }
}

/// The ETag of the representation sent: the page's, with `-br` or `-gz` before the closing
/// quote for a compressed one.
fn variant_etag(p: &Prepared, coding: Option<Coding>) -> HeaderValue {
    let suffix = match coding {
        Some(Coding::Br) => "-br",
        Some(Coding::Gzip) => "-gz",
        None => return p.etag(),
    };
    crate::content::render::etag_of(p.hash, suffix)
}

/// What of a request a prepared answer depends on, found in one pass over its headers
/// (a handful from a browser, one or two from most other clients) instead of a hashed
/// lookup for each header that might be there.
struct Asks<'r> {
    accept_encoding: Option<&'r HeaderValue>,
    /// A validator or a range: then those are read properly (rare; a revalidation).
    validates: bool,
}

impl<'r> Asks<'r> {
    fn of(headers: &'r HeaderMap) -> Asks<'r> {
        let mut asks = Asks { accept_encoding: None, validates: false };
        for (name, value) in headers {
            match *name {
                header::ACCEPT_ENCODING if asks.accept_encoding.is_none() => asks.accept_encoding = Some(value),
                header::IF_NONE_MATCH | header::IF_MODIFIED_SINCE | header::RANGE => asks.validates = true,
                _ => {}
            }
        }
        asks
    }
}

/// The coding to send `p` in: br or gzip when the page compresses (it has a brotli form)
/// and the client takes it (`accept`: the first Accept-Encoding), else identity (`None`).
fn choose_encoding(p: &Prepared, accept: Option<&HeaderValue>) -> Option<Coding> {
    p.br.as_ref()?;
    let accept = accept.and_then(|v| v.to_str().ok())?;
    if accepts(accept, "br") {
        Some(Coding::Br)
    } else if accepts(accept, "gzip") {
        Some(Coding::Gzip)
    } else {
        None
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

/// `If-Modified-Since` at or after `modified` (both HTTP dates), when the request has no
/// `If-None-Match` (which takes precedence, RFC 9110 section 13.1.3).
pub(crate) fn unmodified_since(headers: &HeaderMap, modified: &HeaderValue) -> bool {
    if headers.contains_key(header::IF_NONE_MATCH) {
        return false;
    }
    let date = |v: &HeaderValue| v.to_str().ok().and_then(|s| httpdate::parse_http_date(s).ok());
    match (headers.get(header::IF_MODIFIED_SINCE).and_then(date), date(modified)) {
        (Some(since), Some(modified)) => modified <= since,
        _ => false,
    }
}

/// If-None-Match with weak comparison (RFC 9110 13.1.2); an encoding's suffix is ignored,
/// so a validator of any representation of this version matches.
pub(crate) fn etag_matches(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let want = etag.as_bytes().strip_suffix(b"\"").unwrap_or(etag.as_bytes());
    headers.get_all(header::IF_NONE_MATCH).iter().any(|v| {
        v.to_str().is_ok_and(|s| {
            s.split(',').any(|t| {
                let t = t.trim();
                let t = t.strip_prefix("W/").unwrap_or(t).as_bytes();
                let t = t.strip_suffix(b"\"").unwrap_or(t);
                let t = t.strip_suffix(b"-br").or_else(|| t.strip_suffix(b"-gz")).unwrap_or(t);
                t == b"*" || t == want
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
pub(crate) fn finish(builder: http::response::Builder, body: Bytes) -> Response<Body> {
    let mut resp = builder.body(full(body)).expect("headers built from valid values");
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

    /// A page's brotli form goes to hyper as a shared chunk: in pieces, or copied out, it
    /// yields exactly its bytes, and never reads past them.
    #[test]
    fn a_shared_chunk_yields_its_bytes_once() {
        let bytes: std::sync::Arc<[u8]> = std::sync::Arc::from(&b"0123456789"[..]);
        let mut chunk = Chunk::shared(bytes.clone());
        assert_eq!((chunk.remaining(), chunk.chunk()), (10, &b"0123456789"[..]));
        chunk.advance(3);
        assert_eq!(chunk.chunk(), b"3456789");
        assert_eq!(chunk.copy_to_bytes(4), Bytes::from_static(b"3456"));
        assert_eq!((chunk.remaining(), chunk.chunk()), (3, &b"789"[..]));
        chunk.advance(3);
        assert!(!chunk.has_remaining() && chunk.chunk().is_empty());
        assert_eq!(std::sync::Arc::strong_count(&bytes), 2, "the page's bytes are shared, not copied");
        let past = std::panic::catch_unwind(move || chunk.advance(1));
        assert!(past.is_err(), "advancing past the end must fail, not wrap");
    }

    /// Heads are kept per shape and cloned: every shape must still get exactly its own
    /// headers, with its own ETag and length in the places kept for them, whichever shape
    /// this thread answered before.
    #[test]
    fn each_shape_of_answer_gets_its_own_headers() {
        use crate::content::render::CachePolicy;
        let text = "Đơn vị thực hiện chức năng tham mưu, quản lý nhà nước. ".repeat(40);
        let page = Prepared::html(StatusCode::OK, CachePolicy::Page, text.clone());
        let missing = Prepared::html(StatusCode::NOT_FOUND, CachePolicy::NoStore, text);
        let style = Prepared::new(StatusCode::OK, "text/css", CachePolicy::Asset, b"a{}".to_vec());
        let mut br = HeaderMap::new();
        br.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("br"));
        let plain = HeaderMap::new();
        let names = |r: &Response<Body>| {
            let mut n: Vec<String> = r.headers().keys().map(|k| k.to_string()).collect();
            n.sort_unstable();
            n
        };
        // A GET's length is the body's: hyper writes it from there, so the map has none.
        let length = |r: &Response<Body>| {
            use hyper::body::Body as _;
            assert!(r.headers().get("content-length").is_none(), "{:?}", r.headers());
            r.body().size_hint().exact()
        };
        for _ in 0..2 {
            let r = prepared(&page, &br, &Method::GET);
            assert_eq!(r.headers()["content-encoding"], "br");
            assert_eq!(length(&r), Some(page.br.as_ref().unwrap().len() as u64));
            assert_eq!(r.headers()["etag"], variant_etag(&page, Some(Coding::Br)));
            assert_eq!(r.headers()["vary"], "accept-encoding");
            assert_eq!(r.headers().get_all("etag").iter().count(), 1);
            let r = prepared(&page, &plain, &Method::GET);
            assert!(r.headers().get("content-encoding").is_none(), "{:?}", r.headers());
            assert_eq!(length(&r), Some(page.len));
            assert_eq!(r.headers()["etag"], page.etag());
            let r = prepared(&missing, &plain, &Method::GET);
            assert_eq!(r.status(), StatusCode::NOT_FOUND);
            assert_eq!(r.headers()["cache-control"], "no-store");
            assert_eq!(length(&r), Some(missing.len));
            assert!(r.headers().get("etag").is_none() && r.headers().get("accept-ranges").is_none());
            let r = prepared(&style, &br, &Method::HEAD);
            assert_eq!(r.headers()["content-type"], "text/css");
            assert_eq!(r.headers()["cache-control"], "public, max-age=86400");
            assert_eq!(r.headers()["content-length"], "3", "a HEAD says the length of what a GET gets");
            assert_eq!(
                names(&r),
                [
                    "accept-ranges",
                    "cache-control",
                    "content-length",
                    "content-security-policy",
                    "content-type",
                    "etag",
                    "referrer-policy",
                    "x-content-type-options",
                    "x-frame-options"
                ],
                "too small to compress: no Vary, no coding"
            );
            // A kept head is found by the page's shape (type and cache policy), and a type
            // outside the known ones gets a head made for it: each its own values.
            for (content_type, cache, expected) in [
                ("image/png", CachePolicy::Asset, "public, max-age=86400"),
                ("image/png", CachePolicy::Page, "public, max-age=60, must-revalidate"),
                ("text/css; charset=utf-8", CachePolicy::Asset, "public, max-age=86400"),
                ("application/vnd.rar", CachePolicy::Asset, "public, max-age=86400"),
                ("application/vnd.rar", CachePolicy::NoStore, "no-store"),
            ] {
                let p = Prepared::new(StatusCode::OK, content_type, cache, vec![1; 64]);
                let r = prepared(&p, &br, &Method::GET);
                assert_eq!(r.headers()["content-type"], content_type);
                assert_eq!(r.headers()["cache-control"], expected, "{content_type}");
                assert_eq!(r.headers()["etag"], p.etag());
            }
        }
    }

    #[test]
    fn path_decoding_table() {
        let ok = [
            ("/", "/"),
            ("/gioi-thieu/", "/gioi-thieu/"),
            ("/static/a%20b.txt", "/static/a b.txt"),
            ("/%252e%252e/x", "/%2e%2e/x"),
            ("/a..b/", "/a..b/"),
            ("/.well-known/security.txt", "/.well-known/security.txt"),
            ("/a/..b", "/a/..b"),
            ("/100%", "/100%"),
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
            "/x\\",
            "/a/..",
            "/a/.",
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
