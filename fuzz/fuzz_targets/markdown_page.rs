//! The whole Markdown-to-page path: the input becomes a news article of a site folder,
//! which is built as `cong serve` builds it (front matter, Markdown, the default theme's
//! templates, section listing, home page, sitemap and feed). Never panics; a failure is
//! reported against the article's file.
#![no_main]

use cong::content::site::{build, BuildInput, Site};
use cong::content::theme::ThemeSet;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

struct Fixture {
    dir: PathBuf,
    themes: ThemeSet,
    platform: cong::model::config::Platform,
    /// The last good build: unchanged responses (the stylesheet) are reused, as on reload.
    previous: Mutex<Option<Arc<Site>>>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
        let dir = base.join(format!("cong-fuzz-{}/ais", std::process::id()));
        std::fs::create_dir_all(dir.join("content/tin-tuc")).unwrap();
        std::fs::write(dir.join("site.toml"), "label = \"ais\"\nname_vi = \"Cục An toàn thông tin\"\n").unwrap();
        std::fs::write(dir.join("content/_index.md"), "+++\ntitle = \"Trang chủ\"\n+++\nChào mừng.\n").unwrap();
        std::fs::write(dir.join("content/tin-tuc/_index.md"), "+++\ntitle = \"Tin tức\"\npaginate_by = 2\n+++\n")
            .unwrap();
        let (themes, _) = ThemeSet::load(&base.join("no-themes-here"));
        let platform = cong::model::config::parse("", "fuzz.toml", &base).unwrap().platform;
        Fixture { dir, themes, platform, previous: Mutex::new(None) }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let f = fixture();
    std::fs::write(f.dir.join("content/tin-tuc/bai-viet.md"), text).unwrap();
    let mut previous = f.previous.lock().unwrap();
    let input = BuildInput {
        banner: None,
        dir: &f.dir,
        themes: &f.themes,
        platform: &f.platform,
        scheme: "https",
        previous: previous.as_deref(),
        budget: Default::default(),
    };
    match build(&input) {
        Ok(site) => {
            assert!(site.lookup("/tin-tuc/").is_some());
            *previous = Some(Arc::new(site));
        }
        Err(e) => assert!(e.problems.iter().all(|p| p.file.ends_with("bai-viet.md")), "{:?}", e.problems),
    }
});
