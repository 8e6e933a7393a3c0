//! Prepared responses: a body rendered once per version, with its ETag and its brotli form
//! computed once (the uncompressed and gzip forms made from it when first asked for, and
//! kept within budgets), so the request path only clones bytes. Also the template
//! environment that renders a site from its theme chain.

use bytes::Bytes;
use http::header::HeaderValue;
use http::StatusCode;
use minijinja::{Environment, Value};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::sync::Arc;

/// How long clients may keep a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePolicy {
    /// HTML, feeds: short, revalidate with the ETag.
    Page,
    /// Static files: a day, then revalidate.
    Asset,
    /// Error and status pages.
    NoStore,
}

/// A response body ready to send: the bytes, their compressed forms and validators.
///
/// Laid out for the request path: the fields a whole answer reads (status, the shape of
/// its head, the hash its ETag is written from, the brotli form, Last-Modified, the
/// length) come first and fill the one cache line the alignment gives them. With 10,000
/// sites a page's fields are seldom in the CPU's caches when it is asked for, and laid
/// out by the compiler they were spread over four lines: four misses where one does
/// (issue #13, flatness; `offset_of` in the tests holds it).
#[derive(Debug)]
#[repr(C, align(64))]
pub struct Prepared {
    pub status: StatusCode,
    /// Which kept head the answer starts from, found without reading a header value;
    /// `None` for a type outside [`KNOWN_TYPES`] (its head is made afresh). Found from
    /// `content_type` and `cache_control` when the page is made; neither changes after.
    pub shape: Option<Shape>,
    /// Hash of the body: the strong validator ([`Prepared::etag`]), and what lets an
    /// unchanged response be reused across rebuilds.
    pub hash: u64,
    /// The brotli form, the one compressed form every page holds: present only when
    /// compression saves bytes. Browsers ask for it over HTTPS. In an `Arc<[u8]>`, not
    /// `Bytes`: an answer holds a clone, and this way the count of clones sits just before
    /// the first bytes sent, in the same cache line, where a `Bytes`'s count is an
    /// allocation of its own (one more line from memory per answer at 10,000 sites).
    pub br: Option<Arc<[u8]>>,
    /// `Last-Modified` of a static file (its modification time); `None` for rendered pages,
    /// whose ETag says it all.
    pub last_modified: Option<Box<HeaderValue>>,
    /// The uncompressed body's length.
    pub len: u64,
    // Read to make a head, a 304 or a range, an uncompressed answer, and by the build cache.
    pub content_type: HeaderValue,
    pub cache_control: HeaderValue,
    /// The ETag of the uncompressed body, made once: a clone is cheaper than writing it
    /// from the hash again. A compressed form's is written from the hash ([`etag_of`]), since
    /// reading this value's bytes would touch another place in memory.
    etag: HeaderValue,
    /// The uncompressed body: held from the start when it does not compress, else made
    /// from the brotli form the first time a client asks for it (almost every client takes
    /// br or gzip, so most pages never hold it), and kept while such bodies fit in
    /// [`IDENTITY_BUDGET`].
    identity: std::sync::OnceLock<Kept>,
    /// The gzip form, for clients that take gzip but not br (browsers over plain HTTP, some
    /// crawlers): made the first time one asks, and kept while such bodies fit in
    /// [`GZIP_BUDGET`]. Holding it for every page was half the memory of 10,000 sites.
    gzip: std::sync::OnceLock<Kept>,
}

/// A page's content type and cache policy as numbers: pages of the same shape share a
/// kept head (`serve::handler`), matched by this instead of by reading their values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Index in [`KNOWN_TYPES`].
    content_type: u8,
    /// Index in [`CACHE_VALUES`].
    cache: u8,
}

impl Shape {
    /// The shape of a page with these values; `None` when either is not a known one.
    pub fn of(content_type: &HeaderValue, cache_control: &HeaderValue) -> Option<Shape> {
        let index = |known: &[&str], value: &HeaderValue| known.iter().position(|k| k.as_bytes() == value.as_bytes());
        Some(Shape {
            content_type: u8::try_from(index(&KNOWN_TYPES, content_type)?).ok()?,
            cache: u8::try_from(index(&CACHE_VALUES, cache_control)?).ok()?,
        })
    }
}

/// The content types most pages and files have. A page of one of them is answered from a
/// head kept for its [`Shape`]; the build cache reads them back as static values.
pub const KNOWN_TYPES: [&str; 19] = [
    "text/html; charset=utf-8",
    "text/css; charset=utf-8",
    "text/javascript; charset=utf-8",
    "text/plain; charset=utf-8",
    "text/csv; charset=utf-8",
    "application/xml; charset=utf-8",
    "application/rss+xml; charset=utf-8",
    "application/json",
    "application/pdf",
    "application/octet-stream",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "image/x-icon",
    "font/woff2",
    "font/woff",
];

/// `Cache-Control` of each [`CachePolicy`], in its order.
pub const CACHE_VALUES: [&str; 3] = ["public, max-age=60, must-revalidate", "public, max-age=86400", "no-store"];

impl CachePolicy {
    fn value(self) -> &'static str {
        match self {
            CachePolicy::Page => CACHE_VALUES[0],
            CachePolicy::Asset => CACHE_VALUES[1],
            CachePolicy::NoStore => CACHE_VALUES[2],
        }
    }
}

/// How many bytes of uncompressed bodies made for clients that take neither br nor gzip
/// (scripts, crawlers, load generators) the process keeps, all pages together. Past it,
/// such a body is made again for each request that asks (a 5 KB page: about 20 µs), so a
/// sweep of every page of 10,000 sites by such a client cannot add a copy of each to memory.
pub const IDENTITY_BUDGET: usize = 32 << 20;

/// How many bytes of gzip forms made for clients that take gzip but not br the process
/// keeps, all pages together; past it, made again for each request that asks.
pub const GZIP_BUDGET: usize = 32 << 20;

/// Bytes of made bodies kept now, against their budget.
#[derive(Debug)]
struct Budget {
    kept: std::sync::atomic::AtomicUsize,
    limit: usize,
}

impl Budget {
    const fn new(limit: usize) -> Budget {
        Budget { kept: std::sync::atomic::AtomicUsize::new(0), limit }
    }

    /// Take `len` bytes of the budget, if they fit.
    fn reserve(&self, len: usize) -> bool {
        use std::sync::atomic::Ordering;
        self.kept
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |kept| {
                kept.checked_add(len).filter(|total| *total <= self.limit)
            })
            .is_ok()
    }
}

static IDENTITY_KEPT: Budget = Budget::new(IDENTITY_BUDGET);
static GZIP_KEPT: Budget = Budget::new(GZIP_BUDGET);

/// A body held by a [`Prepared`]; one made on demand counts against its budget until its
/// page is dropped.
#[derive(Debug)]
struct Kept {
    body: Bytes,
    counted: Option<&'static Budget>,
}

impl Kept {
    fn given(body: Bytes) -> Kept {
        Kept { body, counted: None }
    }

    /// The body `held` holds, or one `make` makes, kept there when it fits in `budget`.
    fn or_make(held: &std::sync::OnceLock<Kept>, budget: &'static Budget, make: impl FnOnce() -> Vec<u8>) -> Bytes {
        if let Some(kept) = held.get() {
            return kept.body.clone();
        }
        let body = Bytes::from(make());
        if budget.reserve(body.len()) {
            // Another request may have kept it first: then this one is dropped, giving its
            // bytes back.
            let _ = held.set(Kept { body: body.clone(), counted: Some(budget) });
        }
        body
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        if let Some(budget) = self.counted {
            budget.kept.fetch_sub(self.body.len(), std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// The strong ETag of a body with this hash, `suffix` before its closing quote (`-br`,
/// `-gz` for a compressed form, RFC 9110 wants each representation's own):
/// `"<16 hex digits><suffix>"`. A compressed answer's is written from the hash each time,
/// so it reads no bytes of its page outside [`Prepared`]'s first cache line and its body.
pub fn etag_of(hash: u64, suffix: &str) -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    debug_assert!(suffix.len() <= 4, "an ETag suffix is `-br` or `-gz`, not {suffix:?}");
    let mut text = [b'"'; 22];
    for (i, digit) in text[1..17].iter_mut().enumerate() {
        *digit = HEX[(hash >> (60 - 4 * i)) as usize & 0xf];
    }
    let end = 17 + suffix.len().min(4);
    text[17..end].copy_from_slice(&suffix.as_bytes()[..end - 17]);
    HeaderValue::from_bytes(&text[..=end]).expect("hex digits and a suffix of letters are a valid header value")
}

/// An IMF-fixdate (`Tue, 01 Dec 2026 20:36:56 GMT`) for a modification time in Unix seconds.
pub fn http_date(unix_secs: i64) -> HeaderValue {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(unix_secs).unwrap_or(0));
    HeaderValue::from_str(&httpdate::fmt_http_date(t)).expect("an HTTP date is a valid header value")
}

impl Prepared {
    /// Prepare `body`; compresses text types to brotli once, here, never per request.
    pub fn new(status: StatusCode, content_type: &'static str, cache: CachePolicy, body: Vec<u8>) -> Prepared {
        let hash = hash_bytes(&body);
        let compressible = is_compressible(content_type) && body.len() >= 256;
        let br = compressible.then(|| brotli(&body)).filter(|z| z.len() < body.len());
        let identity = std::sync::OnceLock::new();
        let len = body.len() as u64;
        if br.is_none() {
            let _ = identity.set(Kept::given(Bytes::from(body)));
        }
        // Static values: a clone per request touches no reference count.
        let (content_type, cache_control) =
            (HeaderValue::from_static(content_type), HeaderValue::from_static(cache.value()));
        Prepared::new_held(status, content_type, cache_control, hash, (len, identity), br.map(Arc::from))
    }

    /// A page made for one request (a lookup, a filtered list): `no-store`, and not
    /// compressed, since it is sent once (compressing it would cost more than it saves).
    pub fn per_request(status: StatusCode, html: String) -> Prepared {
        let body = Bytes::from(html);
        let identity = std::sync::OnceLock::new();
        let len = body.len() as u64;
        let hash = hash_bytes(&body);
        let _ = identity.set(Kept::given(body));
        Prepared::new_held(
            status,
            HeaderValue::from_static("text/html; charset=utf-8"),
            HeaderValue::from_static(CachePolicy::NoStore.value()),
            hash,
            (len, identity),
            None,
        )
    }

    /// Put together from its parts (the build cache): `identity` may be left out when
    /// `br` is there.
    pub fn from_parts(
        status: StatusCode,
        content_type: HeaderValue,
        cache_control: HeaderValue,
        hash: u64,
        last_modified: Option<HeaderValue>,
        (len, identity): (u64, Option<Bytes>),
        br: Option<Arc<[u8]>>,
    ) -> Option<Prepared> {
        let held = std::sync::OnceLock::new();
        match identity {
            Some(body) if body.len() as u64 == len => {
                let _ = held.set(Kept::given(body));
            }
            Some(_) => return None,
            None if br.is_none() => return None,
            None => {}
        }
        let mut p = Prepared::new_held(status, content_type, cache_control, hash, (len, held), br);
        p.last_modified = last_modified.map(Box::new);
        Some(p)
    }

    /// Its fields in their order, the shape found from the values.
    fn new_held(
        status: StatusCode,
        content_type: HeaderValue,
        cache_control: HeaderValue,
        hash: u64,
        (len, identity): (u64, std::sync::OnceLock<Kept>),
        br: Option<Arc<[u8]>>,
    ) -> Prepared {
        Prepared {
            status,
            shape: Shape::of(&content_type, &cache_control),
            hash,
            br,
            last_modified: None,
            len,
            content_type,
            cache_control,
            etag: etag_of(hash, ""),
            identity,
            gzip: std::sync::OnceLock::new(),
        }
    }

    /// The strong ETag of the uncompressed body.
    pub fn etag(&self) -> HeaderValue {
        self.etag.clone()
    }

    /// The uncompressed body: the one held, or made from the brotli form and kept when it
    /// fits in [`IDENTITY_BUDGET`], else made for this call only.
    pub fn body(&self) -> Bytes {
        Kept::or_make(&self.identity, &IDENTITY_KEPT, || self.decoded())
    }

    /// The gzip form, when the page compresses (it has a brotli form): the one kept, or
    /// made now and kept when it fits in [`GZIP_BUDGET`], else made for this call only.
    pub fn gzip(&self) -> Option<Bytes> {
        self.br.as_ref()?;
        Some(Kept::or_make(&self.gzip, &GZIP_KEPT, || match self.held_body() {
            Some(body) => gzip(body),
            None => gzip(&self.decoded()),
        }))
    }

    /// The uncompressed bytes decoded from the brotli form, kept nowhere.
    fn decoded(&self) -> Vec<u8> {
        let br = self.br.as_deref().unwrap_or_default();
        let mut out = Vec::with_capacity(usize::try_from(self.len).unwrap_or(0));
        let _ = brotli::BrotliDecompress(&mut &br[..], &mut out);
        out
    }

    /// The uncompressed body if it is held now (the build cache keeps it only then).
    pub fn held_body(&self) -> Option<&Bytes> {
        self.identity.get().map(|kept| &kept.body)
    }

    /// The gzip form if it is kept now.
    pub fn held_gzip(&self) -> Option<&Bytes> {
        self.gzip.get().map(|kept| &kept.body)
    }

    /// An HTML page.
    pub fn html(status: StatusCode, cache: CachePolicy, html: String) -> Prepared {
        Prepared::new(status, "text/html; charset=utf-8", cache, html.into_bytes())
    }

    /// Reuse `previous` when it holds the same bytes (its compressed forms come for free).
    pub fn reuse_or_new(
        previous: Option<&std::sync::Arc<Prepared>>,
        status: StatusCode,
        content_type: &'static str,
        cache: CachePolicy,
        body: Vec<u8>,
    ) -> std::sync::Arc<Prepared> {
        if let Some(prev) = previous {
            // The same length and 64-bit hash: the same bytes (the ETag rests on it too).
            if prev.status == status && prev.len == body.len() as u64 && prev.hash == hash_bytes(&body) {
                return prev.clone();
            }
        }
        std::sync::Arc::new(Prepared::new(status, content_type, cache, body))
    }

    /// A site's static file held in memory, with its modification time as `Last-Modified`;
    /// `previous` is reused when it holds the same bytes (its time stays: the bytes have not
    /// changed since).
    pub fn reuse_or_new_file(
        previous: Option<&std::sync::Arc<Prepared>>,
        content_type: &'static str,
        body: Vec<u8>,
        modified: i64,
    ) -> std::sync::Arc<Prepared> {
        if let Some(prev) =
            previous.filter(|p| p.last_modified.is_some() && p.len == body.len() as u64 && p.hash == hash_bytes(&body))
        {
            return prev.clone();
        }
        let mut fresh = Prepared::new(StatusCode::OK, content_type, CachePolicy::Asset, body);
        fresh.last_modified = Some(Box::new(http_date(modified)));
        std::sync::Arc::new(fresh)
    }
}

fn hash_bytes(body: &[u8]) -> u64 {
    // DefaultHasher::new() uses fixed keys, so the ETag is stable across restarts.
    let mut h = std::hash::DefaultHasher::new();
    body.hash(&mut h);
    h.finish()
}

fn is_compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || ["json", "xml", "javascript", "svg", "wasm"].iter().any(|t| content_type.contains(t))
}

// Compression levels: every saved edit recompresses the pages it changed, on the CPU that
// serves visitors. Over the demo sites gzip 6 gives the same bytes as 9, and brotli 5 is
// 1.2 % larger than 9 while a one-article rebuild drops from 47 ms to 5 ms
// (`cargo bench --bench rebuild`).
const GZIP_LEVEL: u32 = 6;
const BROTLI_QUALITY: i32 = 5;

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc =
        flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 3), flate2::Compression::new(GZIP_LEVEL));
    enc.write_all(body).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

fn brotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() / 3);
    // The encoder zeroes a ring buffer of the window's size for every body: at 4 MiB that was
    // 40 % of a rebuild. 256 KiB covers every page whole; windows under 128 KiB take a
    // slower path in this encoder at quality 5 (measured with benches/rebuild.rs).
    let lgwin = if body.len() <= 1 << 18 { 18 } else { 22 };
    let params = brotli::enc::BrotliEncoderParams { quality: BROTLI_QUALITY, lgwin, ..Default::default() };
    brotli::BrotliCompress(&mut &body[..], &mut out, &params).expect("writing to a Vec cannot fail");
    out
}

/// The Content-Type for a file name: text types with their charset from the table below,
/// everything else from `mime_guess`'s maintained table (office documents, archives, media),
/// `application/octet-stream` for what nobody knows.
pub fn content_type_for(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml; charset=utf-8",
        "txt" | "md" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        _ => mime_guess::from_ext(&ext).first_raw().unwrap_or("application/octet-stream"),
    }
}

/// A template environment confined to `templates` (name → source): a name not in the map
/// does not exist, so `include "../../other/site.toml"` fails instead of reading a file.
pub fn environment(templates: HashMap<String, String>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_loader(move |name| Ok(templates.get(name).cloned()));
    // minijinja's HTML escaping also turns `/` into `&#x2f;`; URLs read better without it,
    // and `/` needs no escaping in HTML text or quoted attributes.
    env.set_formatter(|out, state, value| match (state.auto_escape(), value.as_str()) {
        (minijinja::AutoEscape::Html, Some(s)) if !value.is_safe() => {
            out.write_str(&html_escape(s)).map_err(minijinja::Error::from)
        }
        _ => minijinja::escape_formatter(out, state, value),
    });
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_filter("indent", indent);
    env
}

/// The widest `indent` a template may ask for. minijinja's own filter takes any width, so
/// `indent(4000000000)` on a few lines would ask for gigabytes in one step, before the
/// fuel or the page cap could stop it.
pub const MAX_INDENT: usize = 256;

/// minijinja's `indent`, refusing a width over [`MAX_INDENT`].
fn indent(
    value: minijinja::value::StringInput<'_>,
    width: Option<usize>,
    first: Option<bool>,
    blank: Option<bool>,
    kwargs: minijinja::value::Kwargs,
) -> Result<Value, minijinja::Error> {
    let asked = match width {
        Some(w) => Some(w),
        None => kwargs.peek::<Option<usize>>("width")?,
    };
    if asked.is_some_and(|w| w > MAX_INDENT) {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("indent is at most {MAX_INDENT} spaces"),
        ));
    }
    minijinja::filters::indent(value, width, first, blank, kwargs)
}

/// Phrase a template error as `path:line: message`; `paths` maps template names to files.
pub fn template_error(
    err: &minijinja::Error,
    paths: &HashMap<String, String>,
    while_rendering: &str,
) -> crate::model::problem::Problem {
    let name = err.name().unwrap_or("?");
    let file = paths.get(name).map_or(name, String::as_str);
    let detail = err.detail().map(|d| format!(": {d}")).unwrap_or_default();
    let problem = crate::model::problem::Problem::in_file(
        file,
        format!("{}{detail} (while rendering {while_rendering})", err.kind()),
    );
    match err.line() {
        Some(line) => problem.at_line(line),
        None => problem,
    }
}

/// A page being rendered, refused once it grows past its cap: a template that loops
/// without end fails with the page's error instead of filling memory.
#[derive(Debug)]
pub struct Capped {
    bytes: Vec<u8>,
    cap: u64,
    overflowed: bool,
}

impl Capped {
    pub fn new(cap: u64) -> Capped {
        Capped { bytes: Vec::new(), cap, overflowed: false }
    }

    /// Did a write go past the cap?
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    pub fn into_inner(self) -> Vec<u8> {
        self.bytes
    }
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if (self.bytes.len() + buf.len()) as u64 > self.cap {
            self.overflowed = true;
            return Err(std::io::Error::other("page over its size limit"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Escape text for HTML: `& < > " '`.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escape text for XML (sitemap, RSS).
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A made body larger than the whole budget is sent but not kept; one that fits is kept
    /// and gives its bytes back to the budget when its page goes. The same for gzip forms.
    #[test]
    fn made_bodies_are_kept_only_within_the_budget() {
        let zeros = vec![0u8; IDENTITY_BUDGET.max(GZIP_BUDGET) + 1];
        let parts = |body: &[u8]| {
            Prepared::from_parts(
                StatusCode::OK,
                HeaderValue::from_static("application/octet-stream"),
                HeaderValue::from_static("no-store"),
                0,
                None,
                (body.len() as u64, None),
                Some(Arc::from(super::brotli(body))),
            )
            .expect("br without identity is a whole page")
        };
        let big = parts(&zeros);
        assert_eq!(big.body().len(), zeros.len());
        assert!(big.held_body().is_none(), "over the budget: made again for each request");
        assert!(big.body().iter().all(|b| *b == 0));
        assert!(big.gzip().is_some_and(|gz| gunzip(&gz) == zeros));

        let text = "Cục An toàn thông tin. ".repeat(100);
        let small = parts(text.as_bytes());
        assert_eq!(&small.body()[..], text.as_bytes());
        assert!(small.held_body().is_some(), "within the budget: kept");
        assert_eq!(small.gzip().map(|gz| gunzip(&gz)), Some(text.clone().into_bytes()));
        assert!(small.held_gzip().is_some(), "within the budget: kept");

        // The gzip forms' budget works the same way (one of over 32 MB would take a body
        // that brotli compresses and gzip does not, too slow for a unit test).
        static SMALL: Budget = Budget::new(100);
        let (a, b) = (std::sync::OnceLock::new(), std::sync::OnceLock::new());
        assert_eq!(Kept::or_make(&a, &SMALL, || vec![1; 60]).len(), 60);
        assert_eq!(Kept::or_make(&b, &SMALL, || vec![2; 60]).len(), 60);
        assert!(a.get().is_some() && b.get().is_none(), "the second does not fit");
        drop(a);
        assert_eq!(SMALL.kept.load(std::sync::atomic::Ordering::Relaxed), 0, "given back");
        assert!(Kept::or_make(&b, &SMALL, || vec![2; 60]).len() == 60 && b.get().is_some());
    }

    fn gunzip(gz: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz), &mut out).unwrap();
        out
    }

    /// A page that compresses holds only its brotli form until a client asks for the
    /// uncompressed one or the gzip one, which are then the same bytes; a body that does
    /// not compress is held, and has no compressed form.
    #[test]
    fn the_other_forms_are_made_when_asked_for() {
        let html = "<p>Cổng thông tin điện tử</p>\n".repeat(40);
        let page = Prepared::html(StatusCode::OK, CachePolicy::Page, html.clone());
        assert!(page.held_body().is_none() && page.held_gzip().is_none() && page.br.is_some());
        assert_eq!(page.len, html.len() as u64);
        let gz = page.gzip().expect("a page that compresses has a gzip form");
        assert!(gz.len() < html.len());
        assert_eq!(gunzip(&gz), html.as_bytes());
        assert!(page.held_body().is_none(), "making gzip keeps no uncompressed body");
        assert_eq!(&page.body()[..], html.as_bytes());
        assert!(page.held_body().is_some(), "kept once made");
        let small = Prepared::new(StatusCode::OK, "text/plain", CachePolicy::Page, b"ok\n".to_vec());
        assert_eq!(small.held_body().map(|b| &b[..]), Some(&b"ok\n"[..]));
        assert!(small.gzip().is_none());
    }

    #[test]
    fn text_is_compressed_once_and_smaller() {
        let body = "Cổng thông tin điện tử ".repeat(100).into_bytes();
        let p = Prepared::new(StatusCode::OK, "text/html; charset=utf-8", CachePolicy::Page, body.clone());
        assert!(p.br.as_ref().unwrap().len() < p.gzip().unwrap().len());
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut &p.br.as_ref().unwrap()[..], &mut decoded).unwrap();
        assert_eq!(decoded, body);
    }

    #[test]
    fn images_and_tiny_bodies_are_not_compressed() {
        let p = Prepared::new(StatusCode::OK, "image/png", CachePolicy::Asset, vec![7; 4096]);
        assert!(p.gzip().is_none() && p.br.is_none());
        let p = Prepared::new(StatusCode::OK, "text/plain", CachePolicy::Asset, b"ok".to_vec());
        assert!(p.br.is_none());
    }

    #[test]
    fn etag_follows_content() {
        let a = Prepared::new(StatusCode::OK, "text/plain", CachePolicy::Page, b"a".to_vec());
        let b = Prepared::new(StatusCode::OK, "text/plain", CachePolicy::Page, b"b".to_vec());
        let a2 = Prepared::new(StatusCode::OK, "text/plain", CachePolicy::Page, b"a".to_vec());
        assert_ne!(a.etag(), b.etag());
        assert_eq!(a.etag(), a2.etag());
        assert_eq!(a.etag(), format!("\"{:016x}\"", a.hash).as_str());
        assert_eq!(etag_of(0x00ab_cdef_0123_4567, "-br"), "\"00abcdef01234567-br\"");
        assert_eq!(etag_of(u64::MAX, "-gz"), "\"ffffffffffffffff-gz\"");
    }

    /// What a whole answer reads of its page sits in the page's first cache line.
    #[test]
    fn the_fields_an_answer_reads_share_one_cache_line() {
        assert_eq!(std::mem::align_of::<Prepared>(), 64);
        let end = std::mem::offset_of!(Prepared, len) + std::mem::size_of::<u64>();
        assert!(end <= 64, "status, shape, hash, br, last_modified and len end at byte {end}");
        for field in [
            std::mem::offset_of!(Prepared, status),
            std::mem::offset_of!(Prepared, shape),
            std::mem::offset_of!(Prepared, hash),
            std::mem::offset_of!(Prepared, br),
            std::mem::offset_of!(Prepared, last_modified),
        ] {
            assert!(field < std::mem::offset_of!(Prepared, len));
        }
    }

    #[test]
    fn shapes_number_the_known_values_only() {
        let page = Prepared::new(StatusCode::OK, "text/html; charset=utf-8", CachePolicy::Page, b"x".to_vec());
        let style = Prepared::new(StatusCode::OK, "text/css; charset=utf-8", CachePolicy::Asset, b"x".to_vec());
        let other = Prepared::new(StatusCode::OK, "application/vnd.rar", CachePolicy::Asset, b"x".to_vec());
        assert!(page.shape.is_some() && style.shape.is_some() && page.shape != style.shape);
        assert_eq!(other.shape, None, "a type outside the list gets no kept head");
        assert_eq!(
            Prepared::per_request(StatusCode::OK, "x".into()).shape,
            Shape::of(&page.content_type, &HeaderValue::from_static("no-store"))
        );
    }

    #[test]
    fn indent_is_capped_and_still_indents() {
        let templates = HashMap::from([
            ("ok".to_string(), "{{ 'a\nb' | indent(2) }}".to_string()),
            ("wide".to_string(), "{{ 'a\nb' | indent(4000000000) }}".to_string()),
            ("kw".to_string(), "{{ 'a\nb' | indent(width=4000000000) }}".to_string()),
        ]);
        let env = environment(templates);
        let render = |name: &str| env.get_template(name).unwrap().render(());
        assert_eq!(render("ok").unwrap(), "a\n  b");
        for name in ["wide", "kw"] {
            let err = render(name).unwrap_err();
            assert!(err.to_string().contains("indent is at most 256"), "{name}: {err}");
        }
    }

    #[test]
    fn loader_only_knows_its_own_templates() {
        let mut t = HashMap::new();
        t.insert("a.html".to_string(), "{% include \"../../etc/passwd\" %}".to_string());
        let env = environment(t);
        let err = env.get_template("a.html").unwrap().render(()).unwrap_err();
        assert_eq!(err.kind(), minijinja::ErrorKind::TemplateNotFound);
    }

    #[test]
    fn html_is_escaped_but_slashes_are_left_alone() {
        let mut t = HashMap::new();
        t.insert("a.html".to_string(), "<a href=\"{{ url }}\">{{ title }}</a>{{ n }}{{ safe }}".to_string());
        let env = environment(t);
        let ctx = minijinja::context! { url => "/tin-tuc/", title => "<script>\"x\" & 'y'", n => 3, safe => minijinja::Value::from_safe_string("<b>".into()) };
        let html = env.get_template("a.html").unwrap().render(ctx).unwrap();
        assert_eq!(html, "<a href=\"/tin-tuc/\">&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;</a>3<b>");
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type_for("/static/a.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type_for("logo.svg"), "image/svg+xml");
        assert_eq!(content_type_for("noext"), "application/octet-stream");
        assert_eq!(content_type_for("x.unknownext"), "application/octet-stream");
        // Documents and archives units publish, from mime_guess's table.
        for (file, want) in [
            ("bao-cao.odt", "application/vnd.oasis.opendocument.text"),
            ("slide.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
            ("ho-so.7z", "application/x-7z-compressed"),
            ("bao-cao.pdf", "application/pdf"),
            ("anh.webp", "image/webp"),
            ("bang.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ] {
            assert_eq!(content_type_for(file), want, "{file}");
        }
        assert_ne!(content_type_for("tai-lieu.rar"), "application/octet-stream");
    }

    #[test]
    fn http_dates_are_imf_fixdate() {
        assert_eq!(http_date(0).to_str().unwrap(), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(1_796_157_416).to_str().unwrap(), "Tue, 01 Dec 2026 20:36:56 GMT");
    }
}
