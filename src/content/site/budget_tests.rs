//! The build budgets of `[limits]` (docs/config.md): each one, exceeded, is the site's
//! error with the file and the key to raise; within them the site builds.

use super::{build, BuildInput};
use crate::content::theme::ThemeSet;
use crate::model::config::Budget;
use std::path::Path;
use std::time::Duration;

/// A site `ais` whose home page uses `template` (a site override of index.html), plus
/// `extra` files; the build's error text, or `None` when it built.
fn build_with(template: &str, extra: &[(&str, &[u8])], budget: Budget) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("ais");
    std::fs::create_dir_all(site.join("content")).unwrap();
    std::fs::create_dir_all(site.join("templates")).unwrap();
    std::fs::create_dir_all(site.join("static")).unwrap();
    std::fs::write(site.join("site.toml"), "label = \"ais\"\nname_vi = \"Cục An toàn thông tin\"\n").unwrap();
    std::fs::write(site.join("content/_index.md"), "+++\ntitle = \"Trang chủ\"\n+++\nXin chào.\n").unwrap();
    std::fs::write(site.join("templates/index.html"), template).unwrap();
    for (path, bytes) in extra {
        std::fs::write(site.join(path), bytes).unwrap();
    }
    let (themes, _) = ThemeSet::load(Path::new("/nonexistent"));
    let platform = crate::model::config::parse("", "t.toml", dir.path()).unwrap().platform;
    let input = BuildInput {
        dir: &site,
        themes: &themes,
        platform: &platform,
        scheme: "https",
        previous: None,
        budget,
        banner: None,
    };
    build(&input).err().map(|e| e.to_string())
}

#[test]
fn within_the_budget_the_site_builds() {
    assert_eq!(build_with("<p>{{ page.title }}</p>", &[("static/a.txt", b"abc")], Budget::default()), None);
}

#[test]
fn a_runaway_template_runs_out_of_fuel() {
    let budget = Budget { fuel: 100_000, ..Budget::default() };
    let runaway = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}";
    let err = build_with(runaway, &[], budget).expect("the runaway template fails");
    assert!(err.contains("templates/index.html") && err.contains("fuel"), "{err}");
    assert!(err.contains("[limits] build_fuel"), "the fix names the key: {err}");
}

#[test]
fn a_page_over_its_cap_is_refused() {
    let budget = Budget { max_page_bytes: 10_000, ..Budget::default() };
    let err = build_with("{% for i in range(5000) %}xxxxx{% endfor %}", &[], budget).expect("too large");
    assert!(err.contains("content/_index.md") && err.contains("over 10000 bytes"), "{err}");
    assert!(err.contains("[limits] max_page_bytes"), "{err}");
}

#[test]
fn a_static_file_over_its_cap_is_not_served_and_the_site_total_is_kept() {
    let big = vec![b'x'; 4096];
    let budget = Budget { max_static_file_bytes: 1024, ..Budget::default() };
    assert_eq!(build_with("ok", &[("static/big.bin", &big)], budget), None, "a large file is a warning, not an error");
    let budget = Budget { max_site_bytes: 2048, ..Budget::default() };
    let err = build_with("ok", &[("static/big.bin", &big)], budget).expect("over the site total");
    assert!(err.contains("over the limit of 2048") && err.contains("[limits] max_site_bytes"), "{err}");
}

#[test]
fn a_build_past_its_deadline_stops() {
    let budget = Budget { deadline: Duration::ZERO, ..Budget::default() };
    let err = build_with("ok", &[], budget).expect("past the deadline");
    assert!(err.contains("the build took longer than 0 s") && err.contains("build_deadline_secs"), "{err}");
}
