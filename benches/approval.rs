//! Publishing approval, measured: how long from an approval until visitors get the page
//! (p50, p99 over 50 approvals), and what the extra steps cost: writing a published set
//! out of the registry, and checking that a submission builds. Plain `main` (harness =
//! false): `cargo bench --bench approval` prints the figures. The server runs in-process on
//! a private copy of the demo with approval required, as `cong serve` runs it.

#[path = "../tests/common/mod.rs"]
mod common;

use common::registry::Api;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const APPROVALS: usize = 50;
/// A page not served after this long is a failure, not a slow sample.
const GIVE_UP: Duration = Duration::from_secs(10);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        common::copy_demo(dir.path());
        let more = "\n[publishing]\napproval = \"required\"\n\n[reload]\nregistry_poll_ms = 50\n";
        let path = common::write_config(
            dir.path(),
            std::path::Path::new("tenants"),
            std::path::Path::new("themes"),
            std::path::Path::new("data"),
            more,
        );
        let mut config = cong::model::config::Config::from_file(&path).expect("bench config");
        config.admin_token = Some("bench-token".into());
        let data = config.data_dir.clone();
        let running = common::launch(config.clone()).await;
        let admin = Api { addr: running.admin_addr.expect("admin listener"), token: "bench-token".into() };
        let user =
            admin.post_json("/api/users", r#"{"username": "minh", "role": "approver", "sites": ["ais"]}"#, 201).await;
        assert_eq!(user["user"]["username"], "minh");
        let token = admin.post_json("/api/users/minh/tokens", "", 201).await["token"].as_str().unwrap().to_string();
        let approver = Api { addr: admin.addr, token };

        let mut served = Vec::with_capacity(APPROVALS);
        let mut answered = Vec::with_capacity(APPROVALS);
        for n in 0..APPROVALS {
            let file = format!("content/tin-tuc/do-tre-{n}.md");
            let text = format!("+++\ntitle = \"Bài đo {n}\"\ndate = 2026-12-01\n+++\nNội dung số {n}.\n");
            std::fs::write(dir.path().join("tenants/ais").join(&file), text).expect("write page");
            let body = format!(r#"{{"paths": ["{file}"], "message": "bài {n}"}}"#);
            let s = admin.post_json("/api/sites/ais/submissions", &body, 201).await;
            let id = s["id"].as_i64().expect("id");
            let url = format!("/tin-tuc/do-tre-{n}/");
            let start = Instant::now();
            approver.post_json(&format!("/api/submissions/{id}/approve"), "", 200).await;
            answered.push(start.elapsed());
            loop {
                if common::registry::get(running.http_addr, "ais.mic.gov.vn", &url).await.status == 200 {
                    served.push(start.elapsed());
                    break;
                }
                assert!(start.elapsed() < GIVE_UP, "approval {n} not served after {GIVE_UP:?}");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        running.stop().await;
        println!("approval → page served, {APPROVALS} approvals (ais, one new page each):");
        println!("  approve call answered: p50 {:.1} ms, p99 {:.1} ms", ms(pct(&answered, 50)), ms(pct(&answered, 99)));
        println!("  page served (200):     p50 {:.1} ms, p99 {:.1} ms", ms(pct(&served, 50)), ms(pct(&served, 99)));

        // The cost of building from the published set versus from the folder.
        let (themes, _) = cong::content::theme::ThemeSet::load(&config.themes_dir);
        let registry = cong::store::registry::Registry::open(&data.join("registry.db")).expect("registry");
        let folder = dir.path().join("tenants/ais");
        let published = config.published_dir().join("ais");
        let build = |at: &std::path::Path| {
            let outcome = cong::snapshot::build_site_at(&config, at, &themes, &config.platform, None, None);
            assert!(matches!(outcome, cong::snapshot::BuildOutcome::Built(_)), "ais builds");
        };
        let from_folder = time(20, || build(&folder));
        let write_out = time(20, || {
            std::fs::remove_file(published.join(".generation")).expect("marker");
            let written = cong::control::content::write_published(&registry, &config, &mut HashMap::new()).unwrap();
            assert_eq!(written, ["ais"]);
        });
        let from_published = time(20, || build(&published));
        println!("building ais ({} files published):", registry.published("ais").unwrap().len());
        println!("  from its folder:               {:.1} ms", ms(from_folder));
        println!("  writing the published set out: {:.1} ms", ms(write_out));
        println!("  from the published set:        {:.1} ms", ms(from_published));
    });
}

/// The median time of `runs` calls of `f`.
fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn pct(samples: &[Duration], p: usize) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[((sorted.len() * p).div_ceil(100)).saturating_sub(1).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
