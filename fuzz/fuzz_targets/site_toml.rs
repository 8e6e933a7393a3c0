//! `site.toml` (`site::config::parse`) on any text: never panics, every problem names the
//! file. What parses is then built as a site (one page, no home page of its own, so the
//! site's names reach the generated home page and every template), which must not panic.
#![no_main]

use cong::content::site::{build, BuildInput};
use cong::content::theme::ThemeSet;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

struct Fixture {
    dir: PathBuf,
    themes: ThemeSet,
    platform: cong::model::config::Platform,
    /// The last good build: unchanged responses (the stylesheet) are reused, as on reload.
    previous: Mutex<Option<Arc<cong::content::site::Site>>>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
        let dir = base.join(format!("cong-fuzz-{}/ais", std::process::id()));
        std::fs::create_dir_all(dir.join("content")).unwrap();
        std::fs::write(dir.join("content/gioi-thieu.md"), "+++\ntitle = \"Giới thiệu\"\n+++\nCục.\n").unwrap();
        let (themes, _) = ThemeSet::load(&base.join("no-themes-here"));
        let platform = cong::model::config::parse("", "fuzz.toml", &base).unwrap().platform;
        Fixture { dir, themes, platform, previous: Mutex::new(None) }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match cong::content::site::config::parse(text, "tenants/ais/site.toml", "ais") {
        Ok(c) => {
            assert_eq!(c.names.label, "ais");
            let f = fixture();
            std::fs::write(f.dir.join("site.toml"), text).unwrap();
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
            if let Ok(site) = build(&input) {
                assert!(site.lookup("/").is_some() && site.lookup("/gioi-thieu/").is_some());
                *previous = Some(Arc::new(site));
            }
        }
        Err(problems) => {
            assert!(!problems.is_empty());
            assert!(problems.iter().all(|p| p.file == "tenants/ais/site.toml"), "{problems:?}");
        }
    }
});
