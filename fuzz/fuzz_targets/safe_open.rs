//! The safe open (`content::files`) on any tree a tenant can make: the input builds a
//! small site folder (files, folders, links pointing inside, outside, at `/etc/passwd`, at
//! themselves, pipes, sockets, names with newlines and non-UTF-8 bytes), which is then
//! opened as `tenants/x` and walked and read as a build does (`walk`, `walk_within`,
//! `walk_streaming`, `read`, `read_text`), and each file left on disk is opened as the
//! serving side opens it (`open_checked`). Never panics; nothing read is a file outside the
//! site (a marker written outside is never found); no path read goes through a link, and
//! `open_checked` opens nothing through one (every link of the tree is tried as a folder on
//! the way); every file read is within its cap; every refused entry names a file under the
//! shown root; and a walk finds exactly the regular files an independent walk over real
//! folders sees (links, hidden and editor files left out).
#![no_main]

use cong::content::files::{is_editor_temp, open_checked, FileMeta, Folder, Found};
use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const SHOWN: &str = "tenants/x";
/// The subfolders builds walk, then names the input may also pick.
const SUBS: &[&str] = &["content", "static", "templates"];

struct Fixture {
    /// `…/tenants/x`, rebuilt for every input.
    site: PathBuf,
    /// `…/outside`: a secret file and a folder holding one, next to `tenants/`.
    outside: PathBuf,
    /// What the files outside hold (upper case: files the input makes hold lower case only).
    marker: Vec<u8>,
    passwd: Option<Vec<u8>>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
        let base = base.join(format!("cong-fuzz-{}/safe-open", std::process::id()));
        let outside = base.join("outside");
        std::fs::create_dir_all(outside.join("dir")).unwrap();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let marker = format!("SECRET-{}-{nanos}", std::process::id()).into_bytes();
        std::fs::write(outside.join("secret"), &marker).unwrap();
        std::fs::write(outside.join("dir/secret.md"), &marker).unwrap();
        let passwd = std::fs::read("/etc/passwd").ok().filter(|p| !p.is_empty());
        Fixture { site: base.join("tenants/x"), outside, marker, passwd }
    })
}

/// The input, read a byte at a time; zeros once it is used up.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else { return 0 };
        self.0 = rest;
        b
    }
    fn u16(&mut self) -> u16 {
        (u16::from(self.byte()) << 8) | u16::from(self.byte())
    }
    fn done(&self) -> bool {
        self.0.is_empty()
    }
    /// One name of a folder entry: a name builds use, an odd one, or bytes of the input.
    fn name(&mut self) -> OsString {
        const NAMES: &[&[u8]] = &[
            b"content",
            b"static",
            b"templates",
            b"site.toml",
            b"_index.md",
            b"a.md",
            b"b",
            b"style.css",
            b".hidden",
            b"a.md~",
            b"x.swp",
            b"#a.md#",
            b"4913",
            b"line\nbreak.md",
            b"tab\there",
            b"\xff\xfe.md",
            b"caf\xc3\xa9.md",
            b"\xc3",
            b" ",
            b"-",
            b"..md",
            b"...",
        ];
        let pick = self.byte();
        if usize::from(pick) < NAMES.len() * 8 {
            return OsString::from_vec(NAMES[usize::from(pick) % NAMES.len()].to_vec());
        }
        let len = usize::from(self.byte() % 12) + 1;
        let mut name: Vec<u8> = (0..len).map(|_| self.byte()).filter(|&b| b != b'/' && b != 0).collect();
        if name.is_empty() || name == b"." || name == b".." {
            name = b"n".to_vec();
        }
        OsString::from_vec(name)
    }
}

extern "C" {
    fn mkfifo(path: *const std::ffi::c_char, mode: u32) -> i32;
}

fn make_fifo(path: &Path) {
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else { return };
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the file.
    unsafe { mkfifo(c.as_ptr(), 0o644) };
}

/// Build the tree the input describes under `site`; an entry that cannot be made (a name
/// taken twice) is skipped. Nothing here follows a link: every entry is created new
/// (`create_new`, `mkdir`, `symlink`, `mkfifo`, `bind` all fail on an existing name), so
/// a link the input made to `/etc/passwd` or outside is never written through.
fn build_tree(input: &mut Input, f: &Fixture) {
    let site = &f.site;
    let mut dirs: Vec<PathBuf> = vec![site.clone()];
    for sub in SUBS {
        if input.byte() & 1 == 0 && std::fs::create_dir(site.join(sub)).is_ok() {
            dirs.push(site.join(sub));
        }
    }
    let mut entries = 0;
    while !input.done() && entries < 48 {
        entries += 1;
        let op = input.byte();
        let parent = dirs[usize::from(input.byte()) % dirs.len()].clone();
        let path = parent.join(input.name());
        match op % 12 {
            0..=3 => {
                // Lower-case letters only, so no file made here can hold the marker.
                let len = match input.byte() % 4 {
                    0 => 0,
                    1 => usize::from(input.byte() % 64),
                    _ => usize::from(input.u16() % 5000),
                };
                let seed = input.byte();
                let bytes: Vec<u8> = (0..len).map(|i| b'a' + ((i as u32 * 7 + u32::from(seed)) % 26) as u8).collect();
                // A new file only: never through a link the input made (one to /etc/passwd)
                // and never into a pipe (which would block).
                if let Ok(mut file) = std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                    let _ = std::io::Write::write_all(&mut file, &bytes);
                }
            }
            4 | 5 => {
                if std::fs::create_dir(&path).is_ok() {
                    dirs.push(path);
                }
            }
            6..=9 => {
                let target: PathBuf = match input.byte() % 12 {
                    0 => f.outside.join("secret"),
                    1 => f.outside.join("dir"),
                    2 => "/etc/passwd".into(),
                    3 => "/etc".into(),
                    // Relative, out of the site from its top folder and from one below.
                    4 => "../../outside/secret".into(),
                    5 => "../../../outside/dir".into(),
                    6 => ".".into(),
                    7 => "..".into(),
                    8 => path.file_name().map(PathBuf::from).unwrap_or_default(), // itself: a loop
                    9 => "does-not-exist".into(),
                    10 => site.clone(),
                    _ => dirs[usize::from(input.byte()) % dirs.len()].join(input.name()),
                };
                let _ = std::os::unix::fs::symlink(target, &path);
            }
            10 => make_fifo(&path),
            _ => {
                let _ = std::os::unix::net::UnixListener::bind(&path);
            }
        }
    }
}

/// Neither `site/sub/rel` nor any folder on the way to it is a link, and it is a file.
fn check_no_link(site: &Path, sub: &str, rel: &str) {
    let mut path = site.join(sub);
    assert!(!is_link(&path), "{sub} is a link but {sub}/{rel} was read");
    for part in rel.split('/') {
        assert!(!part.is_empty(), "empty component in {rel:?}");
        path.push(part);
        assert!(!is_link(&path), "{} is a link but {sub}/{rel} was read", path.display());
    }
    let meta = std::fs::symlink_metadata(&path).unwrap_or_else(|e| panic!("{sub}/{rel} read but {e}"));
    assert!(meta.file_type().is_file(), "{sub}/{rel} read but not a regular file");
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// What `walk(sub, cap)` must find, by an independent walk with `std::fs` that never
/// goes into links: (files within the cap, every entry that must be refused).
fn expected(site: &Path, sub: &str, cap: u64) -> (BTreeSet<String>, usize) {
    let mut files = BTreeSet::new();
    let mut refused = 0;
    let root = site.join(sub);
    match std::fs::symlink_metadata(&root) {
        Err(_) => return (files, 0),
        Ok(m) if !m.file_type().is_dir() => return (files, 1),
        Ok(_) => {}
    }
    let mut stack = vec![(root, String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                refused += 1;
                continue;
            };
            if name.starts_with('.') || is_editor_temp(name) {
                continue;
            }
            let rel = if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") };
            let meta = std::fs::symlink_metadata(entry.path()).unwrap();
            if meta.file_type().is_dir() {
                stack.push((entry.path(), rel));
            } else if meta.file_type().is_file() && meta.len() <= cap {
                files.insert(rel);
            } else {
                refused += 1;
            }
        }
    }
    (files, refused)
}

fn check_found(f: &Fixture, sub: &str, cap: u64, found: &[Found]) {
    for file in found {
        assert!(file.stream.is_none(), "{sub}/{}: left on disk by a walk that reads everything", file.rel);
        assert!(file.bytes.len() as u64 <= cap, "{sub}/{}: {} bytes over the cap {cap}", file.rel, file.bytes.len());
        assert!(!contains(&file.bytes, &f.marker), "{sub}/{} holds the secret from outside the site", file.rel);
        assert!(f.passwd.as_deref() != Some(&file.bytes[..]), "{sub}/{} is /etc/passwd", file.rel);
        check_no_link(&f.site, sub, &file.rel);
    }
}

fn check_refused(sub: &str, refused: &[cong::model::problem::Problem]) {
    let root = format!("{SHOWN}/{sub}");
    for p in refused {
        assert!(p.file.starts_with(&root), "refused {:?} not under {root}: {p}", p.file);
        assert!(!p.message.is_empty(), "{p:?}");
    }
}

/// A file `walk_streaming` left on disk: it is the file at `sub/rel` (not a link), within
/// the cap and over `stream_over`; `open_checked` opens it by that path and by no path
/// through a link (`links`: every link of the site, relative to it).
fn check_streamed(f: &Fixture, sub: &str, file: &Found, meta: &FileMeta, cap: u64, stream_over: u64, links: &[String]) {
    let rel = format!("{sub}/{}", file.rel);
    assert!(file.bytes.is_empty(), "{rel}: streamed yet read");
    assert!(meta.size > stream_over && meta.size <= cap, "{rel}: {meta:?} streamed, over {stream_over}, cap {cap}");
    check_no_link(&f.site, sub, &file.rel);
    let real = std::fs::symlink_metadata(f.site.join(&rel)).unwrap();
    assert_eq!((meta.dev, meta.ino, meta.size), (real.dev(), real.ino(), real.len()), "{rel}");
    let mut bytes = Vec::new();
    let opened = open_checked(&f.site, &rel, meta).unwrap_or_else(|e| panic!("{rel}: unchanged but not opened: {e}"));
    opened.take(cap + 1).read_to_end(&mut bytes).unwrap();
    assert_eq!(bytes.len() as u64, meta.size, "{rel}");
    assert!(!contains(&bytes, &f.marker), "{rel} holds the secret from outside the site");
    let name = file.rel.rsplit('/').next().unwrap();
    for link in links {
        for through in [link.clone(), format!("{link}/{name}"), format!("{link}/{}", file.rel)] {
            if let Ok(mut opened) = open_checked(&f.site, &through, meta) {
                let mut head = [0u8; 64];
                let n = opened.read(&mut head).unwrap_or(0);
                panic!(
                    "{rel} opened through the link {link} as {through:?} ({:?})",
                    String::from_utf8_lossy(&head[..n])
                );
            }
        }
    }
}

/// Every link under the site whose path is UTF-8, relative to the site, not followed.
fn links(site: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![(site.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_string) else { continue };
            let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            let kind = entry.file_type().unwrap();
            if kind.is_symlink() {
                out.push(rel);
            } else if kind.is_dir() {
                stack.push((entry.path(), rel));
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let mut input = Input(data);
    // Every input starts from an empty site (remove_dir_all never follows links).
    let _ = std::fs::remove_dir_all(&f.site);
    std::fs::create_dir_all(&f.site).unwrap();
    let cap = match input.byte() % 4 {
        0 => u64::from(input.byte()),
        1 => u64::from(input.u16() % 6000),
        2 => 4 << 20,
        _ => 0,
    };
    let total = u64::from(input.u16());
    let stream_over = u64::from(input.u16() % 6000);
    let extra_sub = input.name();
    let read_name = input.name();
    build_tree(&mut input, f);

    let folder = Folder::open(&f.site, SHOWN).expect("the site folder opens");
    let all_links = links(&f.site);
    assert_eq!(folder.shown, SHOWN);
    let mut subs: Vec<&OsStr> = SUBS.iter().map(OsStr::new).collect();
    subs.push(&extra_sub);
    for sub in subs {
        // `walk` takes a subfolder's name as UTF-8 (builds pass constants).
        let Some(sub) = sub.to_str() else { continue };
        let (found, refused) = folder.walk(sub, cap);
        check_found(f, sub, cap, &found);
        check_refused(sub, &refused);
        let rels: BTreeSet<String> = found.iter().map(|x| x.rel.clone()).collect();
        assert_eq!(rels.len(), found.len(), "{sub}: a file found twice");
        let (want, want_refused) = expected(&f.site, sub, cap);
        assert_eq!(rels, want, "{sub}: walk found other files than are there");
        assert_eq!(refused.len(), want_refused, "{sub}: {refused:?}");

        let (within, refused) = folder.walk_within(sub, cap, total);
        check_found(f, sub, cap, &within);
        check_refused(sub, &refused);
        let read: u64 = within.iter().map(|x| x.bytes.len() as u64).sum();
        assert!(read <= total.saturating_add(cap), "{sub}: read {read} bytes, total {total}, cap {cap}");
        assert!(within.iter().all(|x| want.contains(&x.rel)), "{sub}: walk_within found a file walk did not");

        let (streamed, refused) = folder.walk_streaming(sub, cap, u64::MAX, stream_over);
        check_refused(sub, &refused);
        assert_eq!(refused.len(), want_refused, "{sub}: {refused:?}");
        let rels: BTreeSet<String> = streamed.iter().map(|x| x.rel.clone()).collect();
        assert_eq!(rels, want, "{sub}: walk_streaming found other files than walk");
        for file in &streamed {
            match &file.stream {
                Some(meta) => check_streamed(f, sub, file, meta, cap, stream_over, &all_links),
                None => {
                    assert!(file.bytes.len() as u64 <= stream_over, "{sub}/{}: over {stream_over} yet read", file.rel);
                    check_found(f, sub, cap, std::slice::from_ref(file));
                }
            }
        }
    }

    for name in [OsStr::new("site.toml"), &read_name] {
        let Some(name) = name.to_str() else { continue };
        let path = f.site.join(name);
        match folder.read(name, cap) {
            Ok(bytes) => {
                assert!(bytes.len() as u64 <= cap, "{name}: {} bytes over the cap {cap}", bytes.len());
                assert!(!contains(&bytes, &f.marker), "{name} holds the secret from outside the site");
                assert!(f.passwd.as_deref() != Some(&bytes[..]), "{name} is /etc/passwd");
                assert!(!is_link(&path), "{name} is a link but was read");
                assert!(std::fs::symlink_metadata(&path).unwrap().file_type().is_file(), "{name}");
            }
            Err(e) => assert!(e.problem(&format!("{SHOWN}/{name}")).file.starts_with(SHOWN)),
        }
        match folder.read_text(name, cap) {
            Ok(text) => {
                assert!(text.len() as u64 <= cap);
                assert!(!contains(text.as_bytes(), &f.marker), "{name} holds the secret");
                assert!(!is_link(&path), "{name} is a link but was read");
            }
            Err(p) => assert!(p.file.starts_with(&format!("{SHOWN}/")), "{p}"),
        }
    }
});
