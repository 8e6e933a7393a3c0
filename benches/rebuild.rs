//! The publish path of hot reload, without sockets or the watcher: rebuilding one demo site
//! after one article changed, and assembling the snapshot that is swapped in. What these
//! cost is CPU taken from serving while editors save, so `cargo bench --bench reload`'s
//! throughput-under-edits figure follows them.

#[path = "../tests/common/mod.rs"]
mod common;

use cong::content::site::{self, BuildInput};
use cong::model::config::Config;
use cong::snapshot::{self, Sources};
use criterion::{criterion_group, criterion_main, Criterion};
use std::path::Path;
use std::time::Duration;

const ARTICLE: &str = "content/tin-tuc/tinh-hinh-tan-cong-mang-quy-i-2026.md";

/// Two copies of the demo site `ais` that differ in one article's title.
fn two_versions(root: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("tenants/ais");
    let (a, b) = (root.join("a/ais"), root.join("b/ais"));
    for dir in [&a, &b] {
        common::copy_tree(&demo, dir);
    }
    let text = std::fs::read_to_string(b.join(ARTICLE)).expect("the demo article");
    let edited = text.replacen("title = \"", "title = \"Đã sửa: ", 1);
    assert_ne!(text, edited, "the article has a title to edit");
    std::fs::write(b.join(ARTICLE), edited).expect("write the edit");
    (a, b)
}

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = format!(
        "[paths]\ntenants = \"{0}/tenants\"\nthemes = \"{0}/themes\"\n\n[publishing]\napproval = \"off\"\n",
        root.display()
    );
    let config = cong::model::config::parse(&text, "bench.toml", root).expect("bench config");
    let sources = {
        let mut s = Sources::load(&config);
        s.members = snapshot::members_from_sites(&s);
        s
    };
    let tmp = tempfile::tempdir().expect("temporary folder");
    let (a, b) = two_versions(tmp.path());
    fn input<'a>(
        dir: &'a Path,
        sources: &'a Sources,
        config: &'a Config,
        previous: Option<&'a site::Site>,
    ) -> BuildInput<'a> {
        BuildInput {
            banner: None,
            dir,
            themes: &sources.themes,
            platform: &config.platform,
            scheme: "https",
            previous,
            budget: config.limits.budget(),
        }
    }
    let old = site::build(&input(&a, &sources, &config, None)).expect("version a builds");

    let mut g = c.benchmark_group("reload");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    g.bench_function("rebuild_ais_after_one_edit", |bench| {
        bench.iter(|| site::build(&input(&b, &sources, &config, Some(&old))).expect("version b builds"))
    });
    g.bench_function("rebuild_ais_from_scratch", |bench| {
        bench.iter(|| site::build(&input(&b, &sources, &config, None)).expect("version b builds"))
    });
    g.bench_function("assemble_snapshot_rendering_platform_pages", |bench| {
        bench.iter(|| snapshot::assemble(&config, &sources, 1, None).expect("snapshot"))
    });
    let previous = snapshot::assemble(&config, &sources, 1, None).expect("first snapshot");
    g.bench_function("assemble_snapshot_members_unchanged", |bench| {
        bench.iter(|| snapshot::assemble(&config, &sources, 2, Some(&previous)).expect("snapshot"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
