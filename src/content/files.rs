//! Reading a folder tree confined to its root: a symlink that leads outside is refused,
//! so one site can never publish another site's files or the server's own.

use std::path::{Path, PathBuf};

/// One file found under a root.
#[derive(Debug, Clone)]
pub struct Found {
    /// Path relative to the root, with `/` separators (`images/logo.svg`).
    pub rel: String,
    pub path: PathBuf,
}

/// Every regular file under `root` (sorted), plus a message for each entry refused.
/// A missing root is an empty tree.
pub fn walk(root: &Path, display_root: &str) -> (Vec<Found>, Vec<String>) {
    let mut found = Vec::new();
    let mut refused = Vec::new();
    let Ok(canonical_root) = root.canonicalize() else {
        return (found, refused);
    };
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            refused.push(format!("{display_root}/{prefix}: cannot read the folder"));
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || is_editor_temp(&name) {
                continue;
            }
            let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            let path = entry.path();
            match confined(&canonical_root, &path) {
                Some(true) => {}
                Some(false) => {
                    refused.push(format!("{display_root}/{rel}: a link that points outside {display_root} is refused; copy the file in instead"));
                    continue;
                }
                None => continue,
            }
            if path.is_dir() {
                stack.push((path, rel));
            } else if path.is_file() {
                found.push(Found { rel, path });
            }
        }
    }
    found.sort_by(|a, b| a.rel.cmp(&b.rel));
    (found, refused)
}

/// Does `path`, links resolved, stay under `root`? `None` when it does not exist (a broken link).
fn confined(root: &Path, path: &Path) -> Option<bool> {
    let real = path.canonicalize().ok()?;
    Some(real.starts_with(root))
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

    #[test]
    fn walks_sorted_and_skips_hidden_and_temp() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        for f in ["z.txt", "a/b/c.css", ".hidden", "a/x.swp", "a/y~", "#a#"] {
            std::fs::write(dir.path().join(f), "x").unwrap();
        }
        let (found, refused) = walk(dir.path(), "static");
        let rels: Vec<_> = found.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["a/b/c.css", "z.txt"]);
        assert!(refused.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn links_out_of_the_root_are_refused_and_links_inside_kept() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ok.txt"), "x").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("leak.txt")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("leakdir")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("ok.txt"), dir.path().join("same.txt")).unwrap();
        let (found, refused) = walk(dir.path(), "tenants/x/static");
        let rels: Vec<_> = found.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["ok.txt", "same.txt"]);
        assert_eq!(refused.len(), 2, "{refused:?}");
        assert!(refused.iter().all(|r| r.contains("points outside tenants/x/static")));
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
