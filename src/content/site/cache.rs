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
use crate::content::files::{FileMeta, Folder};
use crate::content::render::Prepared;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use ring::digest::{Context, SHA256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// Bumped whenever the file's layout or what a build makes changes.
const FORMAT: &[u8] = b"cong-site-cache 3\n";

/// The SHA-256 of a build's inputs, with the two small files a site read back from the
/// cache is configured from (so they are not read twice).
#[derive(Debug, Clone)]
pub struct Key {
    hash: [u8; 32],
    site_toml: Option<Vec<u8>>,
    catalogue: Option<Vec<u8>>,
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
/// the refusals it would meet, and the build's context. `None` when the folder cannot be
/// opened (the build reports why).
pub fn key(input: &BuildInput) -> Option<Key> {
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
    for (root, found, refused) in [
        ("content", folder.walk("content", super::build::MAX_TEXT_BYTES)),
        ("templates", folder.walk("templates", super::build::MAX_TEXT_BYTES)),
        (
            "static",
            folder.walk_streaming(
                "static",
                budget.max_static_file_bytes,
                budget.max_site_bytes,
                budget.stream_static_over_bytes,
            ),
        ),
    ]
    .map(|(root, (found, refused))| (root, found, refused))
    {
        part(&mut ctx, root.as_bytes());
        for f in found {
            part(&mut ctx, f.rel.as_bytes());
            // A static file's time is its Last-Modified; pages do not show theirs.
            if root == "static" {
                part(&mut ctx, &f.modified.to_le_bytes());
            }
            match f.stream {
                Some(m) => part(&mut ctx, format!("{m:?}").as_bytes()),
                None => part(&mut ctx, &f.bytes),
            }
        }
        for p in refused {
            part(&mut ctx, p.to_string().as_bytes());
        }
    }
    let digest = ctx.finish();
    let mut hash = [0; 32];
    hash.copy_from_slice(digest.as_ref());
    Some(Key { hash, site_toml, catalogue })
}

/// Write `site`, built from inputs of `key`, as `path` (into a temporary file renamed over
/// it, so a reader sees a whole file or none).
pub fn store(path: &Path, key: &Key, site: &Site) -> std::io::Result<()> {
    let mut w = Writer(Vec::with_capacity(64 * 1024));
    w.0.extend_from_slice(FORMAT);
    w.0.extend_from_slice(&key.hash);
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
    let mut entries: Vec<(&String, &Entry)> = site.entries.iter().collect();
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
                let m = &f.meta;
                for n in [m.dev, m.ino, m.size, m.mtime as u64, m.mtime_nsec as u64] {
                    w.u64(n);
                }
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

/// The site kept at `path` when it was built from inputs of `key`; `None` otherwise (no
/// file, another key, a file that does not read back whole). The configuration and the
/// catalogue are parsed again from what the key read (they are small, and a build derives
/// them the same way).
pub fn load(path: &Path, key: &Key, input: &BuildInput) -> Option<Site> {
    let buf = Bytes::from(std::fs::read(path).ok()?);
    let mut r = Reader { buf: buf.clone(), at: 0 };
    if r.take(FORMAT.len())? != FORMAT || r.take(32)? != &key.hash[..] {
        return None;
    }
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
    let mut entries = HashMap::with_capacity(count);
    for _ in 0..count {
        let url = r.string()?;
        let entry = match r.u8()? {
            0 => Entry::Page(Arc::new(r.prepared()?)),
            1 => Entry::Redirect(r.string()?),
            2 => {
                let dir = std::path::PathBuf::from(r.string()?);
                let rel = r.string()?;
                let (dev, ino, size, mtime, mtime_nsec) = (r.u64()?, r.u64()?, r.u64()?, r.u64()?, r.u64()?);
                let meta = FileMeta { dev, ino, size, mtime: mtime as i64, mtime_nsec: mtime_nsec as i64 };
                let content_type = HeaderValue::from_maybe_shared(r.slice()?).ok()?;
                let etag = HeaderValue::from_maybe_shared(r.slice()?).ok()?;
                Entry::File(Arc::new(StaticFile { dir, rel, meta, content_type, etag }))
            }
            3 => Entry::Page(theme.get(&url)?.clone()),
            _ => return None,
        };
        entries.insert(url, entry);
    }
    (r.at == buf.len()).then_some(())?;
    Some(Site {
        label,
        config,
        entries,
        not_found,
        warnings,
        lints,
        page_count,
        services,
        shell,
        built_from: Some(key.hash),
    })
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
        self.bytes(p.etag.as_bytes());
        self.u64(p.hash);
        self.opt(p.last_modified.as_ref().map(HeaderValue::as_bytes));
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

    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.slice()?.to_vec()).ok()
    }

    fn opt(&mut self) -> Option<Option<Bytes>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(self.slice()?)),
            _ => None,
        }
    }

    fn prepared(&mut self) -> Option<Prepared> {
        let status = StatusCode::from_u16(u16::try_from(self.u64()?).ok()?).ok()?;
        let content_type = HeaderValue::from_maybe_shared(self.slice()?).ok()?;
        let cache_control = HeaderValue::from_maybe_shared(self.slice()?).ok()?;
        let etag = HeaderValue::from_maybe_shared(self.slice()?).ok()?;
        let hash = self.u64()?;
        let last_modified = match self.opt()? {
            Some(b) => Some(HeaderValue::from_maybe_shared(b).ok()?),
            None => None,
        };
        let len = self.u64()?;
        let body = self.opt()?;
        let br = self.opt()?;
        Prepared::from_parts(status, content_type, cache_control, etag, hash, last_modified, (len, body), br)
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

    /// The demo's `ais` (a catalogue, static files, news) built, kept, read back: the same
    /// answers byte for byte, the theme files shared; an edit, another banner or a damaged
    /// file is a miss.
    #[test]
    fn a_kept_build_reads_back_whole_and_only_for_the_same_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let site_dir = dir.path().join("ais");
        copy(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tenants/ais"), &site_dir);
        let (themes, _) = ThemeSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("themes"));
        let platform = crate::model::config::parse("", "t.toml", dir.path()).unwrap().platform;
        let input = BuildInput {
            dir: &site_dir,
            themes: &themes,
            platform: &platform,
            scheme: "https",
            previous: None,
            budget: Default::default(),
            banner: None,
        };
        let built = super::super::build(&input).unwrap();
        let key = key(&input).unwrap();
        let file = dir.path().join("cache/ais.site");
        store(&file, &key, &built).unwrap();
        let back = load(&file, &key, &input).expect("read back");
        assert_eq!(back.entries.len(), built.entries.len());
        for (url, entry) in &built.entries {
            match (entry, back.entries.get(url).unwrap_or_else(|| panic!("{url} missing"))) {
                (Entry::Page(a), Entry::Page(b)) => {
                    assert_eq!(
                        (a.status, &a.content_type, &a.etag, a.body()),
                        (b.status, &b.content_type, &b.etag, b.body()),
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
        assert_ne!(super::key(&with_banner).unwrap(), key);
        let page = site_dir.join("content/gioi-thieu.md");
        let text = std::fs::read_to_string(&page).unwrap();
        std::fs::write(&page, format!("{text}\nMột dòng mới.\n")).unwrap();
        let edited = super::key(&input).unwrap();
        assert_ne!(edited, key, "an edit changes the key");
        assert!(load(&file, &edited, &input).is_none());
        std::fs::write(&page, &text).unwrap();
        assert_eq!(super::key(&input).unwrap(), key, "the same bytes, the same key");
        let mut bytes = std::fs::read(&file).unwrap();
        bytes.truncate(bytes.len() - 10);
        std::fs::write(&file, &bytes).unwrap();
        assert!(load(&file, &key, &input).is_none(), "a cut file is a miss");
    }
}
