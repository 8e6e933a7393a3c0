//! Build budgets against the real binary (docs/config.md `[limits]`): a unit's runaway
//! template becomes that site's error, with the file and the key to raise, while another
//! unit's edit is served within 2 s and the process stays within a memory bound.

use crate::common::get;
use crate::common::process::Server;
use crate::common::{self, copy_demo};
use std::time::{Duration, Instant};

const TOKEN: &str = "budgets-test-token";
/// Resident memory the server may reach while the runaway template is built (the demo
/// sites take well under 100 MB).
const MEMORY_BOUND_KB: u64 = 300 * 1024;

fn host(label: &str) -> String {
    format!("{label}.mic.gov.vn")
}

/// The process's resident memory, from /proc.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runaway_template_becomes_a_site_error_while_other_edits_are_served() {
    let dir = tempfile::tempdir().unwrap();
    copy_demo(dir.path());
    let server = Server::start(dir.path(), TOKEN, "[reload]\ndebounce_ms = 50\n");
    let (http, pid) = (server.http, server.child.id());
    let ttt_home = get(http, &host("ttt"), "/").await.text();

    // A 70-byte template with two nested loops (10^10 turns without a budget).
    common::write_runaway_template(&dir.path().join("tenants/ttt"));
    let started = Instant::now();
    // Meanwhile another unit edits its page: served within 2 s.
    let page = dir.path().join("tenants/ais/content/gioi-thieu.md");
    let text = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, text.replacen("\n+++\n", "\n+++\nĐã sửa trong lúc chờ.\n\n", 1)).unwrap();
    let edited = Instant::now();
    let mut peak = 0;
    let (mut ais_served, mut failed) = (None, None);
    while failed.is_none() || ais_served.is_none() {
        peak = peak.max(rss_kb(pid));
        if ais_served.is_none() && get(http, &host("ais"), "/gioi-thieu/").await.text().contains("Đã sửa trong lúc chờ")
        {
            ais_served = Some(edited.elapsed());
        }
        if failed.is_none() && server.logged(|l| l.contains("ttt") && l.contains("fuel")) {
            failed = Some(started.elapsed());
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no outcome within 2 min:\n{}", server.log_text());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (ais_served, failed) = (ais_served.unwrap(), failed.unwrap());
    eprintln!("runaway template: a site error after {failed:?}, peak resident memory {} MB; ais's edit served after {ais_served:?}", peak / 1024);
    assert!(ais_served < Duration::from_secs(2), "another unit's edit waited {ais_served:?}");
    assert!(peak < MEMORY_BOUND_KB, "resident memory reached {} MB", peak / 1024);
    assert!(
        server.logged(|l| l.contains("tenants/ttt/templates/index.html") && l.contains("[limits] build_fuel")),
        "the error names the file and the key:\n{}",
        server.log_text()
    );
    let still = get(http, &host("ttt"), "/").await;
    assert_eq!((still.status, still.text()), (200, ttt_home), "ttt's last good version stays online");
}
