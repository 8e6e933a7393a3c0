//! The request path's lookups: Host normalisation plus the exact route lookup, and the
//! whole handler answering a prepared page from a snapshot (no sockets).

use cong::model::host::normalize_host;
use cong::model::member::{Member, Membership, Names, Status};
use cong::snapshot::routes::RouteTable;
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn members(n: usize) -> Vec<Member> {
    (0..n)
        .map(|i| Member {
            names: Names {
                label: format!("donvi{i}"),
                name_vi: format!("Đơn vị {i}"),
                name_en: String::new(),
                membership: Membership::Shared,
                own_domains: vec![format!("donvi{i}.gov.vn")],
                aliases: vec![],
                canonical: None,
                servers: vec![],
            },
            status: Status::Active,
            maintenance: None,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let table = RouteTable::build("mic.gov.vn", &members(1000));
    let mut g = c.benchmark_group("routing");
    g.bench_function("lookup_1000_members", |b| b.iter(|| table.lookup(black_box("donvi517.mic.gov.vn"))));
    g.bench_function("normalise_and_lookup_dev_host", |b| {
        b.iter(|| {
            let host = normalize_host(black_box("DonVi517.mic.gov.vn.localhost:8080")).unwrap();
            table.lookup(&host).is_some()
        })
    });
    g.bench_function("normalise_and_lookup_clean_host", |b| {
        b.iter(|| {
            let host = normalize_host(black_box("donvi517.mic.gov.vn")).unwrap();
            table.lookup(&host).is_some()
        })
    });
    g.finish();

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = format!(
        "[paths]\ntenants = \"{}/tenants\"\nthemes = \"{}/themes\"\n\n[publishing]\napproval = \"off\"\n",
        root.display(),
        root.display()
    );
    let config = cong::model::config::parse(&text, "bench.toml", root).unwrap();
    let mut sources = cong::snapshot::Sources::load(&config);
    sources.members = cong::snapshot::members_from_sites(&sources);
    let snap = cong::snapshot::assemble(&config, &sources, 1, None).unwrap();
    let req = http::Request::builder()
        .uri("/tin-tuc/")
        .header("host", "ais.mic.gov.vn")
        .header("accept-encoding", "gzip, deflate, br")
        .body(())
        .unwrap();
    c.bench_function("handler_cached_page_br", |b| {
        b.iter(|| cong::serve::handler::handle(&snap, black_box(&req), cong::serve::handler::Scheme::Http))
    });
    // As scripts/bench asks (wrk, no Accept-Encoding): the identity body.
    let plain = http::Request::builder().uri("/tin-tuc/").header("host", "ais.mic.gov.vn").body(()).unwrap();
    c.bench_function("handler_cached_page_identity", |b| {
        b.iter(|| cong::serve::handler::handle(&snap, black_box(&plain), cong::serve::handler::Scheme::Http))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
