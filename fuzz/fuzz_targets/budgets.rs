//! The build budgets (`[limits]`: template fuel, page size, static file size, site size,
//! deadline) against templates a tenant can write. The input picks a small budget and
//! generates a site override of `index.html` (and maybe of `404.html`) from minijinja
//! fragments: nested `range` loops, `x ~ x`, `{% set %}`, filters, recursive macros,
//! captured blocks, plain text, stray delimiters. The site is built as `cong serve` builds
//! it. Never panics; returns within a bounded time; a site that builds keeps every
//! rendered page (the 404 page too) within `max_page_bytes`, every static file (held or
//! left on disk to stream) within `max_static_file_bytes`, everything it holds (pages, the
//! 404 page, feeds, theme and static files) within `max_site_bytes`; a build that fails
//! names a file for each problem. `FUZZ_SHOW=1` prints each input's budget and template
//! (to read a crashing input: `FUZZ_SHOW=1 fuzz/target/x86_64-unknown-linux-gnu/release/budgets FILE`).
#![no_main]

use cong::content::site::{build, BuildInput, Entry, Site};
use cong::content::theme::ThemeSet;
use cong::model::config::Budget;
use libfuzzer_sys::fuzz_target;
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The most one build may take, whatever the template (libFuzzer's -timeout is the same).
const WALL: Duration = Duration::from_secs(10);

struct Fixture {
    dir: PathBuf,
    themes: ThemeSet,
    platform: cong::model::config::Platform,
    /// The last good build: unchanged responses (the stylesheet) are reused, as on reload.
    previous: Mutex<Option<Arc<Site>>>,
}

/// The fixture of src/content/site/budget_tests.rs: a site `ais` with a home page, whose
/// templates/index.html is the generated template (and, as the input says, templates/404.html
/// too, a news section, a static file).
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        let base = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
        let base = base.join(format!("cong-fuzz-{}/budgets", std::process::id()));
        let dir = base.join("ais");
        std::fs::create_dir_all(dir.join("content/tin-tuc")).unwrap();
        std::fs::create_dir_all(dir.join("templates")).unwrap();
        std::fs::create_dir_all(dir.join("static")).unwrap();
        std::fs::write(dir.join("site.toml"), "label = \"ais\"\nname_vi = \"Cục An toàn thông tin\"\n").unwrap();
        std::fs::write(dir.join("content/_index.md"), "+++\ntitle = \"Trang chủ\"\n+++\nXin chào.\n").unwrap();
        let (themes, _) = ThemeSet::load(&base.join("no-themes-here"));
        let platform = cong::model::config::parse("", "fuzz.toml", &base).unwrap().platform;
        Fixture { dir, themes, platform, previous: Mutex::new(None) }
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
    fn u24(&mut self) -> u32 {
        (u32::from(self.byte()) << 16) | u32::from(self.u16())
    }
    fn done(&self) -> bool {
        self.0.is_empty()
    }
    /// A count for a loop or a width: small, medium, at minijinja's range limit, or over it.
    fn count(&mut self) -> u64 {
        match self.byte() % 8 {
            0..=3 => u64::from(self.byte() % 16),
            4 => u64::from(self.byte()),
            5 => u64::from(self.u16() % 10_000),
            6 => [99_999, 100_000, 100_001][usize::from(self.byte() % 3)],
            _ => u64::from(self.u24()) * 1000,
        }
    }
    /// Plain text: no quotes or backslashes, so it also fits in a string literal.
    fn text(&mut self) -> String {
        const ALPHABET: &[&str] = &["a", "b", "x", " ", "<", ">", "&", "\n", "đ", "ổ", "-", "0"];
        let len = usize::from(self.byte() % 24);
        (0..len).map(|_| ALPHABET[usize::from(self.byte()) % ALPHABET.len()]).collect()
    }
}

/// Append fragments to `out` until the input or the fragment allowance runs out.
fn fragments(input: &mut Input, out: &mut String, depth: usize, left: &mut u32) {
    while !input.done() && *left > 0 {
        *left -= 1;
        let op = input.byte();
        if op == 0xff && depth > 0 {
            return; // close the enclosing block
        }
        match op % 18 {
            0 => out.push_str(&input.text()),
            1 if depth < 4 => {
                let n = input.count();
                let _ = write!(out, "{{% for i{depth} in range({n}) %}}");
                fragments(input, out, depth + 1, left);
                out.push_str("{% endfor %}");
            }
            2 => out.push_str("{{ x ~ x }}"),
            3 => out.push_str("{% set x = x ~ x %}"),
            4 => {
                let text = input.text();
                let _ = write!(out, "{{% set x = \"{text}\" %}}");
            }
            5 => out.push_str("{{ x }}"),
            6 if depth > 0 => {
                let _ = write!(out, "{{{{ i{} }}}}{{{{ loop.index }}}}", input.byte() as usize % depth);
            }
            7 if depth < 4 => {
                let n = input.count();
                let _ = write!(out, "{{% if x|length > {n} %}}");
                fragments(input, out, depth + 1, left);
                out.push_str("{% else %}");
                fragments(input, out, depth + 1, left);
                out.push_str("{% endif %}");
            }
            8 => {
                let n = input.count();
                let _ = write!(out, "{{{{ \"ab\" * {n} }}}}");
            }
            9 => {
                let n = input.count();
                let filter = match input.byte() % 8 {
                    0 => "upper".to_string(),
                    1 => "replace(\"a\", x)".to_string(),
                    2 => format!("indent({n})"),
                    3 => format!("center({n})"),
                    4 => "reverse".to_string(),
                    5 => "list|join(x)".to_string(),
                    6 => "length".to_string(),
                    _ => "escape".to_string(),
                };
                let _ = write!(out, "{{{{ x|{filter} }}}}");
            }
            10 => {
                let n = input.count();
                let _ = write!(out, "{{% set x = x * {n} %}}");
            }
            11 => {
                let n = input.count();
                let _ = write!(
                    out,
                    "{{% macro m{depth}(n) %}}{{% if n > 0 %}}{{{{ m{depth}(n - 1) }}}}{{{{ m{depth}(n - 1) }}}}{{% endif %}}x{{% endmacro %}}{{{{ m{depth}({n}) }}}}"
                );
            }
            12 => out.push_str("{{ page.title }}{{ site.name_vi }}{{ current_path }}"),
            13 => out.push_str(
                ["{% include \"404.html\" %}", "{% include \"index.html\" %}"][usize::from(input.byte() & 1)],
            ),
            14 if depth < 4 => {
                // Captured output (a block set, a filter block) is not written to the page.
                let (open, close) = if input.byte() & 1 == 0 {
                    ("{% set x %}", "{% endset %}")
                } else {
                    ("{% filter upper %}", "{% endfilter %}")
                };
                out.push_str(open);
                fragments(input, out, depth + 1, left);
                out.push_str(close);
            }
            15 => {
                const TOKENS: &[&str] = &[
                    "{{",
                    "}}",
                    "{%",
                    "%}",
                    "{#",
                    "#}",
                    "{% endfor %}",
                    "{% raw %}",
                    "\"",
                    "{% extends \"base.html\" %}",
                ];
                out.push_str(TOKENS[usize::from(input.byte()) % TOKENS.len()]);
            }
            16 => out.push_str("{% set x = x ~ \"đ\" ~ x %}"),
            _ => out.push_str("{{ x|length }}"),
        }
    }
}

fn template(input: &mut Input) -> String {
    let mut out = String::new();
    let mut left = 64;
    fragments(input, &mut out, 0, &mut left);
    out
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let mut input = Input(data);
    // Field by field, so a budget that grows a field still builds (at its default).
    let mut budget = Budget::default();
    budget.fuel = 1 + u64::from(input.u24()) % 100_000;
    budget.max_page_bytes = 1 + u64::from(input.u24()) % 100_000;
    budget.max_static_file_bytes = 1 + u64::from(input.u16()) % 20_000;
    budget.max_site_bytes = 1 + u64::from(input.u24()) % 300_000;
    budget.stream_static_over_bytes = u64::from(input.u16()) % 30_000;
    budget.deadline = Duration::from_millis(match input.byte() % 4 {
        0 => 0,
        1 => u64::from(input.byte() % 10),
        _ => 50 + u64::from(input.byte()),
    });
    let flags = input.byte();
    let static_len = usize::from(input.u16() % 30_000);
    let template = template(&mut input);
    if std::env::var_os("FUZZ_SHOW").is_some() {
        eprintln!("{budget:?} flags {flags:#x} static {static_len} bytes\n{template}");
    }

    let write = |rel: &str, bytes: Option<&[u8]>| {
        let path = f.dir.join(rel);
        match bytes {
            Some(b) => std::fs::write(path, b).unwrap(),
            None => {
                let _ = std::fs::remove_file(path);
            }
        }
    };
    write("templates/index.html", Some(template.as_bytes()));
    write("templates/404.html", (flags & 1 != 0).then_some(template.as_bytes()));
    // Only with flag 2: a news section (theme templates, one article a page).
    let section = "+++\ntitle = \"Tin tức\"\npaginate_by = 1\n+++\n";
    let article = "+++\ntitle = \"Bài viết\"\ndate = 2024-05-01\n+++\nNội dung.\n";
    write("content/tin-tuc/_index.md", (flags & 2 != 0).then_some(section.as_bytes()));
    write("content/tin-tuc/a.md", (flags & 2 != 0).then_some(article.as_bytes()));
    write("content/tin-tuc/b.md", (flags & 6 == 6).then_some(article.as_bytes()));
    write("static/big.bin", (static_len > 0).then(|| vec![b's'; static_len]).as_deref());

    let mut previous = f.previous.lock().unwrap();
    let input = BuildInput {
        banner: None,
        dir: &f.dir,
        themes: &f.themes,
        platform: &f.platform,
        scheme: "https",
        previous: previous.as_deref(),
        budget,
    };
    let started = Instant::now();
    let result = build(&input);
    let elapsed = started.elapsed();
    assert!(elapsed < WALL, "the build took {elapsed:?} with {budget:?}");
    match result {
        Ok(site) => {
            let mut total = 0u64;
            for (url, entry) in site.entries.iter() {
                let p = match entry {
                    Entry::Page(p) => p,
                    Entry::File(file) => {
                        // A static file left on disk, streamed when asked for.
                        let len = file.meta.size;
                        assert!(url.starts_with("/static/") && file.rel.starts_with("static/"), "{url}: {file:?}");
                        assert!(len > budget.stream_static_over_bytes, "{url}: {len} bytes streamed {budget:?}");
                        assert!(len <= budget.max_static_file_bytes, "{url}: {len} bytes {budget:?}");
                        total += len;
                        continue;
                    }
                    _ => continue,
                };
                let len = p.len;
                if p.content_type.as_bytes().starts_with(b"text/html") {
                    assert!(len <= budget.max_page_bytes, "{url}: {len} bytes over max_page_bytes {budget:?}");
                } else if url.starts_with("/static/") {
                    assert!(len <= budget.max_static_file_bytes, "{url}: {len} bytes {budget:?}");
                }
                total += len; // feeds and theme files count too
            }
            let len = site.not_found.len;
            assert!(len <= budget.max_page_bytes, "the 404 page: {len} bytes over max_page_bytes {budget:?}");
            total += len;
            assert!(total <= budget.max_site_bytes, "the site holds {total} bytes, {budget:?}");
            *previous = Some(Arc::new(site));
        }
        Err(e) => {
            assert!(!e.problems.is_empty(), "an error without a problem");
            assert!(e.problems.iter().all(|p| !p.file.is_empty()), "a problem without a file: {:?}", e.problems);
        }
    }
});
