use cong::content::site::{build, BuildInput, Entry};
use cong::content::theme::ThemeSet;
fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let (themes, _) = ThemeSet::load(std::path::Path::new("themes"));
    let config = cong::model::config::Config::load(None).unwrap();
    let input = BuildInput {
        dir: &dir,
        themes: &themes,
        platform: &config.platform,
        scheme: "https",
        previous: None,
        budget: config.limits.budget(),
        banner: None,
    };
    let site = build(&input).unwrap();
    let (mut id, mut gz, mut br) = (0, 0, 0);
    for (url, e) in &site.entries {
        if let Entry::Page(p) = e {
            println!(
                "{url}: {} gz {} br {}",
                p.body.len(),
                p.gzip.as_ref().map_or(0, |b| b.len()),
                p.br.as_ref().map_or(0, |b| b.len())
            );
            id += p.body.len();
            gz += p.gzip.as_ref().map_or(0, |b| b.len());
            br += p.br.as_ref().map_or(0, |b| b.len());
        }
    }
    println!("total id {id} gz {gz} br {br}; shell {}", site.shell.as_ref().map_or(0, |_| 1));
}
