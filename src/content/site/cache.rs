//! What was built, kept by content hash (DESIGN section 20): each good build of a served
//! site is written to `data/cache/<label>.site` under the SHA-256 of everything the build
//! read and everything it depends on (the files of the folder, the themes, the platform's
//! names, the banner, the budgets, the binary). A start or a rebuild whose inputs hash the
//! same takes the site from there (its pages with their compressed forms, as they were)
//! instead of rendering and compressing it again. Anything that does not read back whole
//! is a miss, never an error: the site is built as without a cache.
//!
//! The file is one buffer: every body of the site is a slice of it (`Bytes`), so a site
//! read back costs one allocation. Theme files are not stored; they are the theme set's
//! shared ones.

use super::{BuildInput, Entry, Shell, Site, StaticFile};
use crate::content::files::{FileMeta, Folder, Stamp};
use crate::content::render::Prepared;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use ring::digest::{Context, SHA256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// Bumped whenever the file's layout or what a build makes changes.
const FORMAT: &[u8] = b"cong-site-cache 5\n";

/// The SHA-256 of a build's inputs, with the two small files a site read back from the
/// cache is configured from (so they are not read twice).
#[derive(Debug, Clone)]
pub struct Key {
    hash: [u8; 32],
    site_toml: Option<Vec<u8>>,
    catalogue: Option<Vec<u8>>,
    /// The files hashed whose stamps can be trusted next time (see [`Memo`]).
    settled: Vec<(String, Stamp, [u8; 32])>,
}

/// What each input file was (its [`Stamp`]) when its contents had a SHA-256, as the cache
/// file keeps it: the next key takes the hash of a file whose stamp is unchanged without
/// opening it, as git's index does (a restart of 10,000 sites stats their files instead of
/// reading them). Only a file whose modification and change times were at least
/// [`SETTLED`] old when it was hashed is kept: a write after the hash sets the change time
/// to a later time than the one kept, so an unchanged stamp means unchanged bytes even on
/// file systems with coarse timestamps.
#[derive(Debug, Default)]
pub struct Memo(HashMap<String, (Stamp, [u8; 32])>);

/// How old a file's times must be for its stamp to stand for its contents.
const SETTLED: std::time::Duration = std::time::Duration::from_secs(2);

impl Memo {
    fn knows(&self, path: &str, stamp: &Stamp) -> Option<[u8; 32]> {
        self.0.get(path).filter(|(kept, _)| kept == stamp).map(|(_, hash)| *hash)
    }
}

/// A cache file as read: its memo of input files, and the rest for [`load`].
#[derive(Debug)]
pub struct Kept {
    buf: Bytes,
    memo: Memo,
    /// Where the built site begins in `buf`.
    site_at: usize,
}

/// The cache file at `path`, if there is one that reads back as such (another format, a
/// damaged file: `None`, the site is built).
pub fn read(path: &Path) -> Option<Kept> {
    let buf = Bytes::from(std::fs::read(path).ok()?);
    let mut r = Reader { buf: buf.clone(), at: 0 };
    if r.take(FORMAT.len())? != FORMAT {
        return None;
    }
    r.take(32)?;
    let count = usize::try_from(r.u64()?).ok()?;
    let mut memo = HashMap::with_capacity(count.min(1 << 16));
    for _ in 0..count {
        let path = r.string()?;
        let stamp = r.stamp()?;
        let hash: [u8; 32] = r.take(32)?.try_into().ok()?;
        memo.insert(path, (stamp, hash));
    }
    Some(Kept { buf, memo: Memo(memo), site_at: r.at })
}

impl Key {
    /// The SHA-256 itself.
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.hash == other.hash
    }
}

/// The binary that builds: a new cong (another version, or a rebuilt one in development)
/// may render differently, so it never takes an older binary's builds.
fn binary_identity() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let exe = std::env::current_exe().ok().and_then(|p| std::fs::metadata(p).ok());
        let stamp = exe.map(|m| {
            let modified = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            format!("{}:{}", m.len(), modified.map_or(0, |d| d.as_nanos()))
        });
        format!("{}:{}", env!("CARGO_PKG_VERSION"), stamp.unwrap_or_default())
    })
}

fn part(ctx: &mut Context, bytes: &[u8]) {
    ctx.update(&(bytes.len() as u64).to_le_bytes());
    ctx.update(bytes);
}

/// The key of what building `input` would read and depend on: every file the build reads
/// (with the same caps; a file left on disk to be streamed by what it is, not its bytes),
/// the refusals it would meet, and the build's context. A file `kept`'s memo knows by its
/// stamp is not read. `None` when the folder cannot be opened (the build reports why).
pub fn key(input: &BuildInput, kept: Option<&Kept>) -> Option<Key> {
    let empty = Memo::default();
    let memo = kept.map_or(&empty, |k| &k.memo);
    // Times at or after this are too recent for a stamp to stand for the bytes.
    let settled_before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs().saturating_sub(SETTLED.as_secs())) as i64;
    let mut settled = Vec::new();
    let shown = super::shown_path(input.dir);
    let folder = Folder::open(input.dir, &shown).ok()?;
    let mut ctx = Context::new(&SHA256);
    part(&mut ctx, FORMAT);
    part(&mut ctx, binary_identity().as_bytes());
    part(&mut ctx, input.dir.to_string_lossy().as_bytes());
    part(&mut ctx, &input.themes.fingerprint());
    part(&mut ctx, format!("{:?}", input.platform).as_bytes());
    part(&mut ctx, input.scheme.as_bytes());
    part(&mut ctx, format!("{:?}", input.budget).as_bytes());
    match input.banner {
        Some(b) => part(&mut ctx, format!("{}{}", b.archived, b.html).as_bytes()),
        None => part(&mut ctx, b"-"),
    }
    let [site_toml, catalogue] =
        crate::model::submission::CONTENT_FILES.map(|name| match folder.read(name, super::build::MAX_TEXT_BYTES) {
            Ok(bytes) => {
                part(&mut ctx, &bytes);
                Some(bytes)
            }
            Err(e) => {
                part(&mut ctx, e.to_string().as_bytes());
                None
            }
        });
    let budget = input.budget;
    let text = super::build::MAX_TEXT_BYTES;
    for (root, cap, total, stream_over) in [
        ("content", text, u64::MAX, u64::MAX),
        ("templates", text, u64::MAX, u64::MAX),
        ("static", budget.max_static_file_bytes, budget.max_site_bytes, budget.stream_static_over_bytes),
    ] {
        let (found, refused) =
            folder.walk_known(root, cap, total, stream_over, &|rel, stamp| memo.knows(&format!("{root}/{rel}"), stamp));
        part(&mut ctx, root.as_bytes());
        for f in found {
            part(&mut ctx, f.rel.as_bytes());
            // A static file's time is its Last-Modified; pages do not show theirs.
            if root == "static" {
                part(&mut ctx, &f.stamp.meta.mtime.to_le_bytes());
            }
            if let Some(m) = f.stream {
                part(&mut ctx, format!("{m:?}").as_bytes());
                continue;
            }
            // An unread file is one the memo knows by this very stamp, with its hash.
            let hash = f.known.unwrap_or_else(|| {
                ring::digest::digest(&SHA256, &f.bytes).as_ref().try_into().expect("SHA-256 is 32 bytes")
            });
            part(&mut ctx, &hash);
            if f.stamp.meta.mtime < settled_before && f.stamp.ctime < settled_before {
                settled.push((format!("{root}/{}", f.rel), f.stamp, hash));
            }
        }
        for p in refused {
            part(&mut ctx, p.to_string().as_bytes());
        }
    }
    let digest = ctx.finish();
    let mut hash = [0; 32];
    hash.copy_from_slice(digest.as_ref());
    Some(Key { hash, site_toml, catalogue, settled })
}

/// Write `site`, built from inputs of `key`, as `path` (into a temporary file renamed over
/// it, so a reader sees a whole file or none).
pub fn store(path: &Path, key: &Key, site: &Site) -> std::io::Result<()> {
    let mut w = Writer(Vec::with_capacity(64 * 1024));
    w.0.extend_from_slice(FORMAT);
    w.0.extend_from_slice(&key.hash);
    w.u64(key.settled.len() as u64);
    for (path, stamp, hash) in &key.settled {
        w.str(path);
        w.stamp(stamp);
        w.0.extend_from_slice(hash);
    }
    w.str(&site.label);
    w.u64(site.page_count as u64);
    w.str(&serde_json::to_string(&site.warnings).unwrap_or_default());
    w.str(&serde_json::to_string(&site.lints).unwrap_or_default());
    w.prepared(&site.not_found);
    match &site.shell {
        Some(shell) => {
            w.u8(1);
            w.str(shell.html());
        }
        None => w.u8(0),
    }
    let mut entries: Vec<(&smol_str::SmolStr, &Entry)> = site.entries.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    w.u64(entries.len() as u64);
    for (url, entry) in entries {
        w.str(url);
        match entry {
            Entry::Page(_) if url.starts_with("/_theme/") => w.u8(3),
            Entry::Page(p) => {
                w.u8(0);
                w.prepared(p);
            }
            Entry::Redirect(to) => {
                w.u8(1);
                w.str(to);
            }
            Entry::File(f) => {
                w.u8(2);
                w.str(&f.dir.to_string_lossy());
                w.str(&f.rel);
                w.meta(&f.meta);
                w.bytes(f.content_type.as_bytes());
                w.bytes(f.etag.as_bytes());
            }
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, &w.0)?;
    std::fs::rename(&tmp, path)
}

/// The site `kept` when it was built from inputs of `key`; `None` otherwise (another key,
/// a file that does not read back whole). The configuration and the catalogue are parsed
/// again from what the key read (they are small, and a build derives them the same way).
pub fn load(kept: &Kept, key: &Key, input: &BuildInput) -> Option<Site> {
    if kept.buf.get(FORMAT.len()..FORMAT.len() + 32)? != &key.hash[..] {
        return None;
    }
    let mut r = Reader { buf: kept.buf.clone(), at: kept.site_at };
    let label = r.string()?;
    let page_count = usize::try_from(r.u64()?).ok()?;
    let warnings: Vec<String> = serde_json::from_str(&r.string()?).ok()?;
    let lints: Vec<crate::model::problem::Problem> = serde_json::from_str(&r.string()?).ok()?;
    let not_found = Arc::new(r.prepared()?);
    let shell = match r.u8()? {
        1 => Some(Shell::new(r.string()?)),
        _ => None,
    };
    let (config, services) =
        super::build::config_and_services(input, key.site_toml.as_deref()?, key.catalogue.as_deref())?;
    let theme: HashMap<String, Arc<Prepared>> = input.themes.static_prepared(&config.theme).into_iter().collect();
    let count = usize::try_from(r.u64()?).ok()?;
    let mut entries = crate::model::FastMap::with_capacity_and_hasher(count, Default::default());
    for _ in 0..count {
        let url = r.key()?;
        let entry = match r.u8()? {
            0 => Entry::Page(Arc::new(r.prepared()?)),
            1 => Entry::Redirect(r.string()?),
            2 => {
                let dir = std::path::PathBuf::from(r.string()?);
                let rel = r.string()?;
                let meta = r.meta()?;
                let content_type = r.value()?;
                let etag = r.value()?;
                Entry::File(Arc::new(StaticFile { dir, rel, meta, content_type, etag }))
            }
            3 => Entry::Page(theme.get(url.as_str())?.clone()),
            _ => return None,
        };
        entries.insert(url, entry);
    }
    (r.at == kept.buf.len()).then_some(())?;
    Some(Site {
        label,
        config,
        entries: entries.into(),
        not_found,
        warnings,
        lints,
        page_count,
        services,
        shell,
        built_from: Some(key.hash),
    })
}

/// A header value of a page or file read back: one of the values most of them share as a
/// static value, whose clone per request touches no reference count, or else a copy of its
/// own. (A value sliced out of a site's build-cache buffer shared that buffer's count with
/// every page of the site: each request added to it and took from it several times, on a
/// cache line both cores wrote while they served the same site.)
fn header_value(text: &[u8]) -> Option<HeaderValue> {
    let mut known = crate::content::render::KNOWN_TYPES.iter().chain(&crate::content::render::CACHE_VALUES);
    match known.find(|s| s.as_bytes() == text) {
        Some(known) => Some(HeaderValue::from_static(known)),
        None => HeaderValue::from_bytes(text).ok(),
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, n: u8) {
        self.0.push(n);
    }

    fn u64(&mut self, n: u64) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }

    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    fn meta(&mut self, m: &FileMeta) {
        for n in [m.dev, m.ino, m.size, m.mtime as u64, m.mtime_nsec as u64] {
            self.u64(n);
        }
    }

    fn stamp(&mut self, s: &Stamp) {
        self.meta(&s.meta);
        self.u64(s.ctime as u64);
        self.u64(s.ctime_nsec as u64);
    }

    fn opt(&mut self, b: Option<&[u8]>) {
        match b {
            Some(b) => {
                self.u8(1);
                self.bytes(b);
            }
            None => self.u8(0),
        }
    }

    fn prepared(&mut self, p: &Prepared) {
        self.u64(u64::from(p.status.as_u16()));
        self.bytes(p.content_type.as_bytes());
        self.bytes(p.cache_control.as_bytes());
        self.u64(p.hash);
        self.opt(p.last_modified.as_deref().map(HeaderValue::as_bytes));
        self.u64(p.len);
        // The uncompressed body only where it does not compress; otherwise it is made from
        // br again when asked for, as gzip is.
        self.opt(p.held_body().filter(|_| p.br.is_none()).map(|b| &b[..]));
        self.opt(p.br.as_deref());
    }
}

struct Reader {
    buf: Bytes,
    at: usize,
}

impl Reader {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.buf.len())?;
        let s = &self.buf[self.at..end];
        self.at = end;
        Some(s)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u64(&mut self) -> Option<u64> {
        self.take(8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }

    /// A length-prefixed part, as a slice of the one buffer (no copy).
    fn slice(&mut self) -> Option<Bytes> {
        let n = usize::try_from(self.u64()?).ok()?;
        let start = self.at;
        self.take(n)?;
        Some(self.buf.slice(start..start + n))
    }

    fn meta(&mut self) -> Option<FileMeta> {
        let (dev, ino, size, mtime, mtime_nsec) = (self.u64()?, self.u64()?, self.u64()?, self.u64()?, self.u64()?);
        Some(FileMeta { dev, ino, size, mtime: mtime as i64, mtime_nsec: mtime_nsec as i64 })
    }

    fn stamp(&mut self) -> Option<Stamp> {
        Some(Stamp { meta: self.meta()?, ctime: self.u64()? as i64, ctime_nsec: self.u64()? as i64 })
    }

    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.slice()?.to_vec()).ok()
    }

    /// A path, as a site's entries keep it (no `String` made on the way).
    fn key(&mut self) -> Option<smol_str::SmolStr> {
        std::str::from_utf8(&self.slice()?).ok().map(smol_str::SmolStr::new)
    }

    fn opt(&mut self) -> Option<Option<Bytes>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(self.slice()?)),
            _ => None,
        }
    }

    /// A header value, not sharing the buffer (see [`header_value`]).
    fn value(&mut self) -> Option<HeaderValue> {
        header_value(&self.slice()?)
    }

    fn prepared(&mut self) -> Option<Prepared> {
        let status = StatusCode::from_u16(u16::try_from(self.u64()?).ok()?).ok()?;
        let content_type = self.value()?;
        let cache_control = self.value()?;
        let hash = self.u64()?;
        let last_modified = match self.opt()? {
            Some(b) => Some(header_value(&b)?),
            None => None,
        };
        let len = self.u64()?;
        // Both copied out of the file's buffer, so that it is freed once read: the brotli
        // form into an allocation of its own (see `Prepared::br`), and then a body that
        // shared the buffer would keep it, and every brotli form in it, alive a second time
        // (57 MB at 10,000 sites).
        let body = self.opt()?.map(|b| Bytes::copy_from_slice(&b));
        let br = self.opt()?.map(|b| std::sync::Arc::from(&b[..]));
        Prepared::from_parts(status, content_type, cache_control, hash, last_modified, (len, body), br)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::theme::ThemeSet;

    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            let target = to.join(e.file_name());
            if e.path().is_dir() {
                copy(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), target).unwrap();
            }
        }
    }

    /// The demo's `ais` copied into a temporary folder, the demo's themes, the default platform.
    fn demo_ais() -> (tempfile::TempDir, ThemeSet, crate::model::config::Platform) {
        let dir = tempfile::tempdir().unwrap();
        copy(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tenants/ais"), &dir.path().join("ais"));
        let (themes, _) = ThemeSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("themes"));
        let platform = crate::model::config::parse("", "t.toml", dir.path()).unwrap().platform;
        (dir, themes, platform)
    }

    fn input<'a>(
        site_dir: &'a Path,
        themes: &'a ThemeSet,
        platform: &'a crate::model::config::Platform,
    ) -> BuildInput<'a> {
        BuildInput {
            dir: site_dir,
            themes,
            platform,
            scheme: "https",
            previous: None,
            budget: Default::default(),
            banner: None,
        }
    }

    /// The demo's `ais` (a catalogue, static files, news) built, kept, read back: the same
    /// answers byte for byte, the theme files shared; an edit, another banner or a damaged
    /// file is a miss.
    #[test]
    fn a_kept_build_reads_back_whole_and_only_for_the_same_inputs() {
        let (dir, themes, platform) = demo_ais();
        let site_dir = dir.path().join("ais");
        let input = input(&site_dir, &themes, &platform);
        let built = super::super::build(&input).unwrap();
        let key = key(&input, None).unwrap();
        let file = dir.path().join("cache/ais.site");
        store(&file, &key, &built).unwrap();
        let back = load(&read(&file).unwrap(), &key, &input).expect("read back");
        assert_eq!(back.entries.len(), built.entries.len());
        for (url, entry) in built.entries.iter() {
            match (entry, back.entries.get(url).unwrap_or_else(|| panic!("{url} missing"))) {
                (Entry::Page(a), Entry::Page(b)) => {
                    assert_eq!(
                        (a.status, &a.content_type, a.etag(), a.body()),
                        (b.status, &b.content_type, b.etag(), b.body()),
                        "{url}"
                    );
                    assert_eq!(
                        (a.gzip(), &a.br, &a.cache_control, &a.last_modified),
                        (b.gzip(), &b.br, &b.cache_control, &b.last_modified),
                        "{url}"
                    );
                    if url.starts_with("/_theme/") {
                        assert!(Arc::ptr_eq(a, b), "{url}: the theme's shared file");
                    }
                }
                (Entry::Redirect(a), Entry::Redirect(b)) => assert_eq!(a, b),
                (Entry::File(a), Entry::File(b)) => assert_eq!((&a.rel, &a.etag), (&b.rel, &b.etag)),
                _ => panic!("{url}: another kind of entry"),
            }
        }
        assert_eq!(back.not_found.body(), built.not_found.body());
        assert_eq!((back.page_count, &back.lints, &back.services), (built.page_count, &built.lints, &built.services));
        assert_eq!(back.config.names, built.config.names);
        assert!(back.shell.is_some(), "ais has a catalogue, so a shell");

        // Another banner, an edit, a damaged file: misses.
        let banner = super::super::notice::Banner { html: "<aside>x</aside>".into(), archived: false };
        let with_banner = BuildInput { banner: Some(&banner), ..input };
        assert_ne!(super::key(&with_banner, None).unwrap(), key);
        let page = site_dir.join("content/gioi-thieu.md");
        let text = std::fs::read_to_string(&page).unwrap();
        std::fs::write(&page, format!("{text}\nMột dòng mới.\n")).unwrap();
        let edited = super::key(&input, None).unwrap();
        assert_ne!(edited, key, "an edit changes the key");
        assert!(load(&read(&file).unwrap(), &edited, &input).is_none());
        std::fs::write(&page, &text).unwrap();
        assert_eq!(super::key(&input, None).unwrap(), key, "the same bytes, the same key");
        let mut bytes = std::fs::read(&file).unwrap();
        bytes.truncate(bytes.len() - 10);
        std::fs::write(&file, &bytes).unwrap();
        assert!(read(&file).is_none_or(|kept| load(&kept, &key, &input).is_none()), "a cut file is a miss");
    }

    /// A file whose stamp is the one kept is taken by its kept hash, unread; a file written
    /// since (even to the same length) is read again; a file too recent is not kept.
    #[test]
    fn a_file_unchanged_since_it_was_hashed_is_not_read_again() {
        let (dir, themes, platform) = demo_ais();
        let site_dir = dir.path().join("ais");
        let input = input(&site_dir, &themes, &platform);
        let built = super::super::build(&input).unwrap();
        let file = dir.path().join("cache/ais.site");
        let fresh = key(&input, None).unwrap();
        assert!(fresh.settled.is_empty(), "just copied: too recent to be kept");
        std::thread::sleep(SETTLED + std::time::Duration::from_millis(1100));
        let key = key(&input, None).unwrap();
        assert_eq!(key, fresh);
        let page = "content/gioi-thieu.md";
        assert!(key.settled.iter().any(|(p, _, _)| p == page), "{:?}", key.settled);
        store(&file, &key, &built).unwrap();
        let kept = read(&file).unwrap();
        assert_eq!(kept.memo.0.len(), key.settled.len());
        assert_eq!(super::key(&input, Some(&kept)).unwrap(), key, "the same key from the memo");

        // The memo is what is used: a wrong hash kept for the page gives another key.
        let mut wrong = read(&file).unwrap();
        wrong.memo.0.get_mut(page).unwrap().1 = [0; 32];
        assert_ne!(super::key(&input, Some(&wrong)).unwrap(), key);

        // Written since, to the same length: read again, another key (the one a fresh read gives).
        let text = std::fs::read_to_string(site_dir.join(page)).unwrap();
        let same_length: String = text.chars().rev().collect();
        assert_eq!(same_length.len(), text.len());
        std::fs::write(site_dir.join(page), &same_length).unwrap();
        let edited = super::key(&input, Some(&kept)).unwrap();
        assert_ne!(edited, key);
        assert_eq!(edited, super::key(&input, None).unwrap());
        assert!(!edited.settled.iter().any(|(p, _, _)| p == page), "just written: not kept");
    }

    /// A page read back owns its bodies: none is a view of the file's buffer, which would
    /// keep the whole buffer (every brotli form in it, already copied out) alive.
    #[test]
    fn pages_read_back_do_not_keep_the_files_buffer() {
        use crate::content::render::CachePolicy;
        let small = Prepared::new(StatusCode::OK, "text/plain; charset=utf-8", CachePolicy::Page, b"ok\n".to_vec());
        let text = "Đơn vị thực hiện chức năng tham mưu, quản lý nhà nước. ".repeat(40);
        let page = Prepared::html(StatusCode::OK, CachePolicy::Page, text);
        let mut w = Writer(Vec::new());
        w.prepared(&small);
        w.prepared(&page);
        let buf = Bytes::from(w.0);
        let within = |ptr: *const u8| buf.as_ptr_range().contains(&ptr);
        let mut r = Reader { buf: buf.clone(), at: 0 };
        let (small_back, page_back) = (r.prepared().expect("the small page"), r.prepared().expect("the page"));
        let body = small_back.held_body().expect("a body that does not compress is held");
        assert_eq!(&body[..], b"ok\n");
        assert!(!within(body.as_ptr()), "the held body is a view of the buffer");
        let br = page_back.br.as_deref().expect("the page's brotli form");
        assert_eq!(Some(br), page.br.as_deref());
        assert!(!within(br.as_ptr()), "the brotli form is a view of the buffer");
    }

    #[test]
    fn header_values_keep_their_bytes() {
        for text in ["text/html; charset=utf-8", "no-store", "application/vnd.rar", "\"a1b2c3\""] {
            let copy = text.as_bytes().to_vec();
            let value = header_value(&copy).expect("a valid value");
            assert_eq!(value.as_bytes(), text.as_bytes());
            assert_ne!(value.as_bytes().as_ptr(), copy.as_ptr(), "{text}: not a view of the buffer it was read from");
        }
        assert!(header_value(b"bad\nvalue").is_none());
    }
}
