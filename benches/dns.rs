//! A full DNS compliance check of 1,000 members against a real authoritative server (NSD
//! on loopback): goal under 10 s (docs/dns-checks.md, issue "cong dns check"). Prints
//! the wall time of each run; every run starts with a fresh resolver, so nothing is cached.
//! `cargo bench --bench dns` (needs `nsd`, as the tests do).

#[path = "../tests/common/mod.rs"]
mod common;

use common::dns::{zone, Nsd};
use cong::model::member::{Member, Membership, Names, Status};
use std::time::Instant;

const MEMBERS: usize = 1_000;
const RUNS: usize = 3;

/// Member `i`: mostly shared and right; every 10th independent on its own server, every
/// 7th with an own domain, every 13th missing from the zone.
fn member(i: usize) -> Member {
    let label = format!("dv{i:04}");
    let independent = i % 10 == 0;
    Member {
        names: Names {
            name_vi: format!("Đơn vị {i:04}"),
            name_en: String::new(),
            membership: if independent { Membership::Independent } else { Membership::Shared },
            own_domains: if i % 7 == 0 { vec![format!("{label}.gov.vn")] } else { Vec::new() },
            aliases: Vec::new(),
            canonical: None,
            servers: if independent { vec![format!("45.76.{}.{}", i / 250, i % 250 + 1)] } else { Vec::new() },
            label,
        },
        status: Status::Active,
        maintenance: None,
    }
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn zones(members: &[Member]) -> Vec<(&'static str, String)> {
    let mut mic = vec!["portal IN A 127.0.0.1".to_string()];
    let mut gov = Vec::new();
    for (i, m) in members.iter().enumerate() {
        if i % 13 == 0 {
            continue;
        }
        let target = m.names.servers.first().map_or("127.0.0.1", String::as_str);
        mic.push(format!("{} IN A {target}", m.names.label));
        for d in &m.names.own_domains {
            gov.push(format!("{} IN A {target}", d.trim_end_matches(".gov.vn")));
        }
    }
    vec![
        ("mic.gov.vn.", zone("mic.gov.vn.", &refs(&mic))),
        ("gov.vn.", zone("gov.vn.", &refs(&gov))),
        ("vn.", zone("vn.", &[])),
    ]
}

fn main() {
    // `cargo bench <filter>`: run only when the filter names this benchmark.
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|f| "dns_check".contains(f.as_str())) {
        return;
    }
    let members: Vec<Member> = (0..MEMBERS).map(member).collect();
    let nsd = Nsd::start(&zones(&members));
    let text = format!(
        "[platform]\naddresses = [\"127.0.0.1\"]\n[dns]\nresolvers = [\"{}\"]\ncheck_interval_secs = 0\n",
        nsd.resolver()
    );
    let config = cong::model::config::parse(&text, "bench.toml", std::path::Path::new(".")).expect("bench config");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let mut times = Vec::new();
    for run in 1..=RUNS {
        let start = Instant::now();
        let report = runtime
            .block_on(cong::control::dns::run(&config, &members, &members, &[], &|_, _| {}))
            .expect("the check runs");
        let took = start.elapsed();
        let s = report.summary;
        println!(
            "dns_check: run {run}: {} members in {:.2} s ({} passed, {} warning, {} failed, {} error)",
            report.members.len(),
            took.as_secs_f64(),
            s.passed,
            s.warning,
            s.failed,
            s.error
        );
        assert_eq!(s.error, 0, "no lookup may fail against a local server");
        times.push(took.as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "dns_check: {MEMBERS} members: best {:.2} s, median {:.2} s (goal: under 10 s)",
        times[0],
        times[RUNS / 2]
    );
}
