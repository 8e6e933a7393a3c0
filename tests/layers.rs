//! The layer rule of docs/architecture.md: a module imports only from its own layer or the
//! layers below it (`model` ← `store`, `content` ← `snapshot` ← `serve` ← `control` ←
//! `app` ← `cli`). Reads every source file and fails naming the file, line and import.

use std::path::{Path, PathBuf};

/// Layer → rank; a file may import a layer of lower rank, or its own. `store` and `content`
/// share a rank but must not import each other.
const LAYERS: [(&str, u8); 8] =
    [("model", 0), ("store", 1), ("content", 1), ("snapshot", 2), ("serve", 3), ("control", 4), ("app", 5), ("cli", 6)];

fn rank(layer: &str) -> Option<u8> {
    LAYERS.iter().find(|(l, _)| *l == layer).map(|(_, r)| *r)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The layer a source file belongs to: its first folder under `src/`, or `app` for app.rs.
fn layer_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    Some(first.strip_suffix(".rs").unwrap_or(first).to_string())
}

/// Every `crate::LAYER` named on a line of code or in a doc comment (a rustdoc link is a
/// dependency too); plain `//` comments are skipped.
fn imports(line: &str) -> Vec<String> {
    let code = line.trim_start();
    if code.starts_with("//") && !code.starts_with("///") && !code.starts_with("//!") {
        return Vec::new();
    }
    code.match_indices("crate::")
        .map(|(i, _)| code[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect())
        .collect()
}

fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut found = Vec::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let Some(layer) = layer_of(rel) else { continue };
        let Some(own) = rank(&layer) else {
            assert!(
                ["lib", "main"].contains(&layer.as_str()),
                "src/{}: not in a layer; put it in one of {:?}",
                rel.display(),
                LAYERS.map(|(l, _)| l)
            );
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for target in imports(line) {
                let Some(theirs) = rank(&target) else { continue };
                if target != layer && theirs >= own {
                    found.push(format!("src/{}:{}: {layer} imports {target}: {}", rel.display(), n + 1, line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn every_module_imports_only_from_the_layers_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(found.is_empty(), "imports against the layers:\n{}", found.join("\n"));
}

#[test]
fn an_upward_import_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in [
        ("model/a.rs", "use crate::model::b;\n// crate::serve in a comment is fine\n"),
        ("snapshot/d.rs", "//! Installed by [`crate::control::certs`].\n"),
        ("store/x.rs", "use crate::content::site::Site;\n"),
        ("serve/h.rs", "use crate::snapshot::Snapshot;\nfn f() { crate::control::admin::go() }\n"),
        ("cli/m.rs", "use crate::app::serve;\n"),
    ] {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let mut found = violations(dir.path());
    found.sort();
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].starts_with("src/serve/h.rs:2: serve imports control"), "{found:#?}");
    assert!(found[1].starts_with("src/snapshot/d.rs:1: snapshot imports control"), "{found:#?}");
    assert!(found[2].starts_with("src/store/x.rs:1: store imports content"), "{found:#?}");
}
