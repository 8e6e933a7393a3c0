//! The one safe way to read tenant and theme files. A folder tree is walked and every
//! file opened **relative to an already opened folder** with `O_NOFOLLOW`, from the site
//! (or theme) folder itself down: a symbolic link at any level, the site folder and its
//! `content/`, `static/` and `templates/` roots included, is refused, and what is read is
//! the file that was checked (a link swapped in between is never followed, since nothing
//! is looked up by path a second time). Devices, pipes and sockets are refused too.
//! Above the site folder (`tenants/`, the operator's own paths) links are allowed.

use crate::model::problem::Problem;
use rustix::fs::{openat, statat, AtFlags, Dir, FileType, Mode, OFlags, CWD};
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::Path;

/// One file read under a root.
#[derive(Debug, Clone)]
pub struct Found {
    /// Path relative to the root, with `/` separators (`images/logo.svg`).
    pub rel: String,
    /// The contents; empty for a file left on disk to be streamed (`stream` is set).
    pub bytes: Vec<u8>,
    /// Set for a file too large to hold in memory: what it was when checked.
    pub stream: Option<FileMeta>,
    /// What it was when listed (its modification time in Unix seconds: `stamp.meta.mtime`).
    pub stamp: Stamp,
    /// Not read: the caller knows these contents by the stamp, and this is what it said it
    /// knows them as (their hash; `bytes` is empty).
    pub known: Option<[u8; 32]>,
}

/// What a file was when it was listed, for a caller that remembers a file's contents by
/// it (the build cache): also its change time, which no write can leave as it was (a tool
/// may put the size and modification time back; the kernel sets the change time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub meta: FileMeta,
    pub ctime: i64,
    pub ctime_nsec: i64,
}

/// What a file was when it was checked: a file opened later is served only if it is still
/// the same one (same device and inode, size and modification time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileMeta {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime: i64,
    pub mtime_nsec: i64,
}

impl FileMeta {
    fn of(st: &rustix::fs::Stat) -> FileMeta {
        FileMeta {
            dev: st.st_dev,
            ino: st.st_ino,
            size: st.st_size as u64,
            mtime: st.st_mtime,
            mtime_nsec: st.st_mtime_nsec as i64,
        }
    }
}

impl Stamp {
    fn of(st: &rustix::fs::Stat) -> Stamp {
        Stamp { meta: FileMeta::of(st), ctime: st.st_ctime, ctime_nsec: st.st_ctime_nsec as i64 }
    }
}

/// Open the file `rel` (`static/files/a.pdf`) under the site folder `dir` the safe way
/// (every folder and the file itself without following a link) and only if it is still
/// the file `meta` describes. For the streaming path of large static files.
pub fn open_checked(dir: &Path, rel: &str, meta: &FileMeta) -> Result<std::fs::File, ReadError> {
    let mut parts: Vec<&str> = rel.split('/').collect();
    let name = parts.pop().ok_or(ReadError::NotFile)?;
    let mut folder = open_dir(None, dir)?;
    for part in parts {
        folder = open_dir(Some(&folder), Path::new(part))?;
    }
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
    let fd = openat(&folder, name, flags, Mode::empty()).map_err(|e| link_or(e, Some(&folder), Path::new(name)))?;
    let st = rustix::fs::fstat(&fd).map_err(io)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile || FileMeta::of(&st) != *meta {
        return Err(ReadError::Changed);
    }
    Ok(std::fs::File::from(fd))
}

/// Why a file could not be read safely.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("a symbolic link; links are refused")]
    Link,
    #[error("not a regular file")]
    NotFile,
    #[error("{size} bytes, over the limit of {cap} bytes")]
    TooLarge { size: u64, cap: u64 },
    #[error("changed since it was checked")]
    Changed,
    #[error("not a plain name (a `/`, `..` or nothing)")]
    NotAName,
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
}

impl ReadError {
    /// The problem as people read it, for `file`.
    pub fn problem(&self, file: &str) -> Problem {
        let p = Problem::in_file(file, self.to_string());
        match self {
            ReadError::Link => p.fix("copy the file in instead of linking to it"),
            ReadError::TooLarge { .. } => p.fix("make the file smaller or raise [limits]"),
            _ => p,
        }
    }
}

fn io(e: rustix::io::Errno) -> std::io::Error {
    std::io::Error::from(e)
}

/// Open a folder: `name` relative to `parent` (or a path from the working folder when
/// `parent` is `None`), never through a link in its last component.
fn open_dir(parent: Option<&OwnedFd>, name: &Path) -> Result<OwnedFd, ReadError> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let opened = match parent {
        Some(fd) => openat(fd, name, flags, Mode::empty()),
        None => openat(CWD, name, flags, Mode::empty()),
    };
    opened.map_err(|e| link_or(e, parent, name))
}

/// ELOOP (and ENOTDIR for a link to a file) mean the name is a link: say so.
fn link_or(e: rustix::io::Errno, parent: Option<&OwnedFd>, name: &Path) -> ReadError {
    let is_link = match parent {
        Some(fd) => statat(fd, name, AtFlags::SYMLINK_NOFOLLOW),
        None => statat(CWD, name, AtFlags::SYMLINK_NOFOLLOW),
    }
    .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink);
    if is_link {
        ReadError::Link
    } else {
        ReadError::Io(io(e))
    }
}

/// One name inside a folder: `openat` would follow `a/../..` out of it, so a name that is
/// not a single component never reaches it.
fn plain_name(name: &str) -> Result<(), ReadError> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(ReadError::NotAName);
    }
    Ok(())
}

/// Read the regular file `name` in the open folder `dir`, at most `cap` bytes.
fn read_at(dir: &OwnedFd, name: &str, cap: u64) -> Result<Vec<u8>, ReadError> {
    plain_name(name)?;
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
    let fd = openat(dir, name, flags, Mode::empty()).map_err(|e| link_or(e, Some(dir), Path::new(name)))?;
    let st = rustix::fs::fstat(&fd).map_err(io)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(ReadError::NotFile);
    }
    let size = st.st_size as u64;
    if size > cap {
        return Err(ReadError::TooLarge { size, cap });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // One byte past the cap tells a file that grew since fstat.
    std::fs::File::from(fd).take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooLarge { size: bytes.len() as u64, cap });
    }
    Ok(bytes)
}

/// A site or theme folder, opened once; every read below it goes through this handle.
#[derive(Debug)]
pub struct Folder {
    fd: OwnedFd,
    /// How people read its path (`tenants/ais`).
    pub shown: String,
}

impl Folder {
    /// Open `path` (the site or theme folder itself must not be a link).
    pub fn open(path: &Path, shown: &str) -> Result<Folder, Problem> {
        open_dir(None, path).map(|fd| Folder { fd, shown: shown.to_string() }).map_err(|e| e.problem(shown))
    }

    /// Read `name`, a file directly in this folder (`site.toml`), at most `cap` bytes.
    pub fn read(&self, name: &str, cap: u64) -> Result<Vec<u8>, ReadError> {
        read_at(&self.fd, name, cap)
    }

    /// Read the file at `rel` (`content/tin-tuc/a.md`), at most `cap` bytes, every folder
    /// on the way opened without following a link.
    pub fn read_path(&self, rel: &str, cap: u64) -> Result<Vec<u8>, ReadError> {
        let (dir, name) = self.descend(rel, false)?;
        read_at(&dir, name, cap)
    }

    /// Write `bytes` as the file `rel`, creating the folders on the way, never through a
    /// link: into a new temporary file beside it (`O_EXCL`, `O_NOFOLLOW`), then renamed over
    /// it, so a reader (a build, the watcher) sees the old file or the new one, whole.
    pub fn write_path(&self, rel: &str, bytes: &[u8]) -> Result<(), ReadError> {
        use std::io::Write;
        let (dir, name) = self.descend(rel, true)?;
        if let Ok(st) = statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
                return Err(ReadError::NotFile);
            }
        }
        let tmp = format!(".{name}.{}.tmp", crate::model::time::now_secs() ^ u64::from(std::process::id()));
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = openat(&dir, tmp.as_str(), flags, Mode::from_raw_mode(0o644)).map_err(|e| ReadError::Io(io(e)))?;
        let mut file = std::fs::File::from(fd);
        let written = file.write_all(bytes).and_then(|()| file.sync_all());
        if let Err(e) = written {
            let _ = rustix::fs::unlinkat(&dir, tmp.as_str(), AtFlags::empty());
            return Err(ReadError::Io(e));
        }
        rustix::fs::renameat(&dir, tmp.as_str(), &dir, name).map_err(|e| {
            let _ = rustix::fs::unlinkat(&dir, tmp.as_str(), AtFlags::empty());
            ReadError::Io(io(e))
        })
    }

    /// Remove the file `rel` (a link is removed itself, never followed; a folder is refused).
    pub fn remove_path(&self, rel: &str) -> Result<(), ReadError> {
        let (dir, name) = self.descend(rel, false)?;
        let st = statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW).map_err(|e| ReadError::Io(io(e)))?;
        if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
            return Err(ReadError::NotFile);
        }
        rustix::fs::unlinkat(&dir, name, AtFlags::empty()).map_err(|e| ReadError::Io(io(e)))
    }

    /// The folder holding `rel` (opened part by part without following a link, created
    /// when `create`) and the file's own name.
    fn descend<'r>(&self, rel: &'r str, create: bool) -> Result<(OwnedFd, &'r str), ReadError> {
        let mut parts: Vec<&str> = rel.split('/').collect();
        let name = parts.pop().unwrap_or_default();
        plain_name(name)?;
        let mut dir = rustix::io::dup(&self.fd).map_err(|e| ReadError::Io(io(e)))?;
        for part in parts {
            plain_name(part)?;
            if create {
                match rustix::fs::mkdirat(&dir, part, Mode::from_raw_mode(0o755)) {
                    Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                    Err(e) => return Err(ReadError::Io(io(e))),
                }
            }
            dir = open_dir(Some(&dir), Path::new(part))?;
        }
        Ok((dir, name))
    }

    /// [`Folder::read`] as UTF-8 text.
    pub fn read_text(&self, name: &str, cap: u64) -> Result<String, Problem> {
        let file = format!("{}/{name}", self.shown);
        let bytes = self.read(name, cap).map_err(|e| e.problem(&file))?;
        String::from_utf8(bytes).map_err(|_| Problem::in_file(&file, "not UTF-8 text").fix("save the file as UTF-8"))
    }

    /// Every regular file under the subfolder `sub` (`content`), sorted, each read (at most
    /// `cap` bytes); a problem for each entry refused. A missing subfolder is empty.
    pub fn walk(&self, sub: &str, cap: u64) -> (Vec<Found>, Vec<Problem>) {
        self.walk_within(sub, cap, u64::MAX)
    }

    /// [`Folder::walk`] that stops reading once `total` bytes have been read (one more
    /// file is read past it, so the caller sees the total exceeded).
    pub fn walk_within(&self, sub: &str, cap: u64, total: u64) -> (Vec<Found>, Vec<Problem>) {
        self.walk_streaming(sub, cap, total, u64::MAX)
    }

    /// [`Folder::walk_within`] that leaves files over `stream_over` bytes on disk: they are
    /// found with their [`FileMeta`] and no bytes, for the streaming path.
    pub fn walk_streaming(&self, sub: &str, cap: u64, total: u64, stream_over: u64) -> (Vec<Found>, Vec<Problem>) {
        self.walk_known(sub, cap, total, stream_over, &|_, _| None)
    }

    /// [`Folder::walk_streaming`] that does not read a file `known` knows by its path (under
    /// `sub`) and [`Stamp`]: it is found with what `known` gave for it (its contents' hash),
    /// counted in `total` by its size.
    pub fn walk_known(
        &self,
        sub: &str,
        cap: u64,
        total: u64,
        stream_over: u64,
        known: &dyn Fn(&str, &Stamp) -> Option<[u8; 32]>,
    ) -> (Vec<Found>, Vec<Problem>) {
        let mut read = 0u64;
        let mut found = Vec::new();
        let mut refused = Vec::new();
        let root_shown = format!("{}/{sub}", self.shown);
        let root = match plain_name(sub).and_then(|()| open_dir(Some(&self.fd), Path::new(sub))) {
            Ok(fd) => fd,
            Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return (found, refused),
            Err(e) => {
                refused.push(e.problem(&root_shown));
                return (found, refused);
            }
        };
        let mut stack = vec![(root, String::new())];
        while let Some((dir, prefix)) = stack.pop() {
            if read > total {
                break;
            }
            let shown = |name: &str| if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") };
            let entries = match Dir::read_from(&dir) {
                Ok(d) => d,
                Err(_) => {
                    refused.push(Problem::in_file(&format!("{root_shown}/{prefix}"), "cannot read the folder"));
                    continue;
                }
            };
            for entry in entries.flatten() {
                let Ok(name) = entry.file_name().to_str().map(str::to_string) else {
                    let name = entry.file_name().to_string_lossy();
                    let file = format!("{root_shown}/{}", shown(&name));
                    refused.push(Problem::in_file(&file, "the name is not UTF-8").fix("rename the file"));
                    continue;
                };
                if name == "." || name == ".." || name.starts_with('.') || is_editor_temp(&name) {
                    continue;
                }
                let rel = shown(&name);
                let file = format!("{root_shown}/{rel}");
                let (kind, st) = match statat(&dir, name.as_str(), AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(st) => (FileType::from_raw_mode(st.st_mode), st),
                    Err(_) => continue, // gone since the listing
                };
                let stamp = Stamp::of(&st);
                match kind {
                    FileType::Symlink => refused.push(ReadError::Link.problem(&file)),
                    FileType::Directory => match open_dir(Some(&dir), Path::new(&name)) {
                        Ok(fd) => stack.push((fd, rel)),
                        Err(e) => refused.push(e.problem(&file)),
                    },
                    FileType::RegularFile if read > total => break,
                    FileType::RegularFile if st.st_size as u64 > cap => {
                        refused.push(ReadError::TooLarge { size: st.st_size as u64, cap }.problem(&file));
                    }
                    FileType::RegularFile if st.st_size as u64 > stream_over => {
                        // Checked again, by inode, when it is opened to be served.
                        read += st.st_size as u64;
                        let stream = Some(stamp.meta);
                        found.push(Found { rel, bytes: Vec::new(), stream, stamp, known: None });
                    }
                    FileType::RegularFile => {
                        let known = known(&rel, &stamp);
                        let bytes = match known {
                            Some(_) => Vec::new(),
                            None => match read_at(&dir, &name, cap) {
                                Ok(bytes) => bytes,
                                Err(e) => {
                                    refused.push(e.problem(&file));
                                    continue;
                                }
                            },
                        };
                        read += if known.is_some() { st.st_size as u64 } else { bytes.len() as u64 };
                        found.push(Found { rel, bytes, stream: None, stamp, known });
                    }
                    _ => refused.push(ReadError::NotFile.problem(&file)),
                }
            }
        }
        found.sort_by(|a, b| a.rel.cmp(&b.rel));
        refused.sort_by(|a, b| a.file.cmp(&b.file));
        (found, refused)
    }
}

/// Files editors write while saving; never content.
pub fn is_editor_temp(name: &str) -> bool {
    name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".swo")
        || name.ends_with(".tmp")
        || name.ends_with(".bak")
        || (name.starts_with('#') && name.ends_with('#'))
        || name.starts_with(".#")
        || name.contains("___jb_")
        || name == "4913"
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::path::PathBuf;

    const CAP: u64 = 1 << 20;

    #[test]
    fn walks_sorted_and_skips_hidden_and_temp() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("static/a/b")).unwrap();
        for f in ["z.txt", "a/b/c.css", ".hidden", "a/x.swp", "a/y~", "#a#"] {
            std::fs::write(dir.path().join("static").join(f), "x").unwrap();
        }
        let folder = Folder::open(dir.path(), "tenants/x").unwrap();
        let (found, refused) = folder.walk("static", CAP);
        let rels: Vec<_> = found.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["a/b/c.css", "z.txt"]);
        assert_eq!(found[0].bytes, b"x");
        assert!(refused.is_empty());
        assert!(folder.walk("missing", CAP).0.is_empty(), "a missing root is an empty tree");
    }

    #[test]
    fn names_that_climb_or_descend_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("static")).unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        std::fs::write(site.join("static/ok.txt"), "x").unwrap();
        let folder = Folder::open(&site, "tenants/x").unwrap();
        for name in ["../secret", "static/ok.txt", "..", ".", ""] {
            assert!(matches!(folder.read(name, CAP), Err(ReadError::NotAName)), "{name:?} was read");
        }
        let (found, refused) = folder.walk("..", CAP);
        assert!(found.is_empty(), "walking `..` found {found:?}");
        assert!(refused[0].message.contains("not a plain name"), "{refused:?}");
        assert!(folder.walk("static/../..", CAP).0.is_empty());
    }

    #[test]
    fn writes_and_removes_never_follow_a_link() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("passwd"), "root").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("static")).unwrap();
        std::os::unix::fs::symlink(outside.path(), site.join("static/out")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("passwd"), site.join("static/p.txt")).unwrap();
        let folder = Folder::open(&site, "tenants/x").unwrap();

        folder.write_path("content/tin-tuc/a.md", b"moi").unwrap();
        assert_eq!(std::fs::read(site.join("content/tin-tuc/a.md")).unwrap(), b"moi", "folders created");
        folder.write_path("content/tin-tuc/a.md", b"lan hai").unwrap();
        assert_eq!(folder.read_path("content/tin-tuc/a.md", CAP).unwrap(), b"lan hai");
        assert!(matches!(folder.write_path("static/out/passwd", b"x"), Err(ReadError::Link)));
        // Writing a name that is a link replaces the link, never the file it points at.
        folder.write_path("static/p.txt", b"thay").unwrap();
        assert_eq!(std::fs::read(outside.path().join("passwd")).unwrap(), b"root");
        assert!(matches!(folder.read_path("static/out/passwd", CAP), Err(ReadError::Link)));
        for bad in ["../x", "content/../../x", "/etc/x", "content//a.md", ""] {
            assert!(folder.write_path(bad, b"x").is_err(), "{bad:?}");
        }
        assert!(matches!(folder.write_path("content", b"x"), Err(ReadError::NotFile)), "a folder is not a file");
        folder.remove_path("content/tin-tuc/a.md").unwrap();
        assert!(!site.join("content/tin-tuc/a.md").exists());
        assert!(matches!(folder.remove_path("content/tin-tuc"), Err(ReadError::NotFile)));
        assert!(std::fs::read_dir(site.join("content/tin-tuc")).unwrap().next().is_none(), "no temporary file left");
    }

    #[test]
    fn every_link_is_refused_at_every_level() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("static/sub")).unwrap();
        std::fs::write(site.join("static/ok.txt"), "x").unwrap();
        let link = |a: &Path, b: PathBuf| std::os::unix::fs::symlink(a, b);
        link(&outside.path().join("secret"), site.join("static/leak.txt")).unwrap();
        link(outside.path(), site.join("static/leakdir")).unwrap();
        link(&site.join("static/ok.txt"), site.join("static/same.txt")).unwrap();
        link(outside.path(), site.join("templates")).unwrap();
        link(&outside.path().join("secret"), site.join("site.toml")).unwrap();
        let folder = Folder::open(&site, "tenants/x").unwrap();
        let (found, refused) = folder.walk("static", CAP);
        let rels: Vec<_> = found.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["ok.txt"], "links inside the site are refused too");
        let files: Vec<_> = refused.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(files, ["tenants/x/static/leak.txt", "tenants/x/static/leakdir", "tenants/x/static/same.txt"]);
        assert!(refused.iter().all(|p| p.message.contains("links are refused")), "{refused:?}");
        let (found, refused) = folder.walk("templates", CAP);
        assert!(found.is_empty());
        assert_eq!(
            refused[0].to_string(),
            "tenants/x/templates: a symbolic link; links are refused (copy the file in instead of linking to it)"
        );
        assert!(matches!(folder.read("site.toml", CAP), Err(ReadError::Link)));
        // The site folder itself.
        link(&site, dir.path().join("alias")).unwrap();
        let err = Folder::open(&dir.path().join("alias"), "tenants/alias").unwrap_err();
        assert!(err.message.contains("links are refused"), "{err}");
    }

    #[test]
    fn pipes_and_large_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("static")).unwrap();
        std::fs::write(dir.path().join("static/big.bin"), vec![0u8; 2048]).unwrap();
        let fifo = std::process::Command::new("mkfifo").arg(dir.path().join("static/pipe")).status().unwrap();
        assert!(fifo.success());
        let folder = Folder::open(dir.path(), "t").unwrap();
        let (found, refused) = folder.walk("static", 1024);
        assert!(found.is_empty());
        let shown: Vec<String> = refused.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(shown[0].starts_with("t/static/big.bin: 2048 bytes, over the limit of 1024 bytes"), "{shown:?}");
        assert_eq!(shown[1], "t/static/pipe: not a regular file");
    }

    #[test]
    fn editor_temp_table() {
        for (name, temp) in [
            (".x.swp", true),
            ("a.md~", true),
            ("#a.md#", true),
            ("a.md___jb_tmp___", true),
            ("4913", true),
            ("a.md", false),
            ("tin-tuc", false),
        ] {
            assert_eq!(is_editor_temp(name), temp, "{name}");
        }
    }
}
