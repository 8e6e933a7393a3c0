//! The name check on one core: goal ≥ 1 million checks per second (issue 3).

use cong::model::naming::{check, NameIndex, Proposal};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

fn index() -> NameIndex {
    let mut index = NameIndex::new("mic.gov.vn", &[]);
    let csv = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/benches/data/mic-units.csv"));
    for line in csv.lines().skip(1) {
        let label = line.split(',').next().unwrap_or_default();
        index.add_member(label, &[]);
    }
    index
}

fn bench(c: &mut Criterion) {
    let index = index();
    let mut g = c.benchmark_group("name_check");
    g.throughput(Throughput::Elements(1));
    let cases = [
        ("accepted_with_names", "cucattt", Some("Cục An toàn thông tin"), Some("Authority of Information Security")),
        ("full_name_taken", "AIS.mic.gov.vn.", Some("Cục An toàn thông tin"), None),
        ("diacritics_rejected", "cụcbáochí", Some("Cục Báo chí"), None),
        ("label_only", "vnnic2", None, None),
    ];
    for (id, name, vi, en) in cases {
        g.bench_function(id, |b| {
            b.iter(|| {
                check(&index, black_box(&Proposal { name, name_vi: vi, name_en: en, own_domains: &[], owner: None }))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
