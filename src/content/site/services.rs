//! Online public services (docs/services.md): a site's catalogue `dich-vu-cong.toml`,
//! checked with file and line, its page `/dich-vu-cong/` grouped by sector and level, and
//! the public pages made from dossier progress: the lookup `/tra-cuu-ho-so/` and the
//! monthly statistics `/dich-vu-cong/thong-ke/` with a bar chart drawn as inline SVG.
//! The catalogue is part of the site, so it goes through approval like any file.

use crate::content::render::html_escape as e;
use crate::model::config::line_col;
use crate::model::dossier::{self, Counts, Dossier};
use crate::model::problem::Problem;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use toml::Spanned;

/// The catalogue file of a site folder.
pub const FILE: &str = "dich-vu-cong.toml";
/// Where a site lists its services, and its statistics and lookup pages.
pub const PAGE: &str = "/dich-vu-cong/";
pub const STATISTICS: &str = "/dich-vu-cong/thong-ke/";
pub const LOOKUP: &str = "/tra-cuu-ho-so/";

/// How much of a procedure can be done online.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Every step online (*toàn trình*).
    Full,
    /// Some steps online (*một phần*).
    Partial,
}

impl Level {
    pub fn vi(self) -> &'static str {
        match self {
            Level::Full => "Dịch vụ công trực tuyến toàn trình",
            Level::Partial => "Dịch vụ công trực tuyến một phần",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Full => "full",
            Level::Partial => "partial",
        }
    }
}

/// One service of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    /// The national procedure code (`1.004227`).
    pub code: String,
    pub name: String,
    pub sector: String,
    pub level: Level,
    /// Where the service is used: https on a `gov.vn` host.
    pub url: String,
    /// As the unit writes it (`Không`, `500.000 đồng`).
    pub fee: String,
    /// Working days to settle a dossier.
    pub processing_days: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    service: Vec<Spanned<Raw>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    code: Spanned<String>,
    name: Spanned<String>,
    sector: Spanned<String>,
    level: Spanned<String>,
    url: Spanned<String>,
    #[serde(default)]
    fee: String,
    processing_days: Spanned<i64>,
}

/// Read a catalogue; every problem is reported with its line, not only the first.
pub fn parse(text: &str, file: &str) -> Result<Vec<Service>, Vec<Problem>> {
    let parsed: File =
        toml::from_str(text).map_err(|err| vec![crate::model::config::toml_problem(file, text, &err, 0)])?;
    let mut problems = Vec::new();
    let mut services = Vec::new();
    let mut codes = BTreeMap::new();
    for raw in parsed.service {
        let raw = raw.into_inner();
        let at = |span: std::ops::Range<usize>, key: &str, message: String| {
            let (line, col) = line_col(text, span.start);
            Problem::in_file(file, message).at(line, col).key(key)
        };
        let code = raw.code.get_ref().trim().to_string();
        if !dossier::check_procedure_code(&code) {
            problems.push(
                at(raw.code.span(), "code", format!("\"{code}\" is not a national procedure code"))
                    .fix("write the code of the national database of procedures, like \"1.004227\""),
            );
        } else if let Some(first) = codes.insert(code.clone(), line_col(text, raw.code.span().start).0) {
            problems.push(
                at(raw.code.span(), "code", format!("\"{code}\" is listed twice (first on line {first})"))
                    .fix("keep one [[service]] per procedure"),
            );
        }
        for (key, value) in [("name", &raw.name), ("sector", &raw.sector)] {
            if value.get_ref().trim().is_empty() {
                problems
                    .push(at(value.span(), key, format!("{key} is empty")).fix(format!("write the service's {key}")));
            }
        }
        let level = match raw.level.get_ref().as_str() {
            "full" => Some(Level::Full),
            "partial" => Some(Level::Partial),
            other => {
                problems.push(
                    at(raw.level.span(), "level", format!("\"{other}\" is not a level"))
                        .fix("\"full\" (every step online) or \"partial\""),
                );
                None
            }
        };
        let url = raw.url.get_ref().trim().to_string();
        if let Err(why) = check_url(&url) {
            problems.push(
                at(raw.url.span(), "url", format!("\"{url}\" {why}"))
                    .fix("link the service on a gov.vn host over https"),
            );
        }
        let days = *raw.processing_days.get_ref();
        if !(0..=365).contains(&days) {
            problems.push(
                at(raw.processing_days.span(), "processing_days", format!("{days} is not a number of working days"))
                    .fix("0 to 365"),
            );
        }
        if let Some(level) = level {
            services.push(Service {
                code,
                name: raw.name.get_ref().trim().to_string(),
                sector: raw.sector.get_ref().trim().to_string(),
                level,
                url,
                fee: raw.fee.trim().to_string(),
                processing_days: u32::try_from(days).unwrap_or(0),
            });
        }
    }
    if problems.is_empty() {
        Ok(services)
    } else {
        Err(problems)
    }
}

/// A service's address must be https on `gov.vn` or a name under it.
fn check_url(url: &str) -> Result<(), &'static str> {
    let rest = url.strip_prefix("https://").ok_or("is not an https address")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host =
        host.rsplit_once(':').map_or(host, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { host });
    let host = host.to_ascii_lowercase();
    if host == "gov.vn" || (host.ends_with(".gov.vn") && crate::model::naming::is_valid_hostname(&host)) {
        Ok(())
    } else {
        Err("is not on a gov.vn host")
    }
}

/// The sectors in order, each with its services by level then code.
fn grouped(services: &[Service]) -> BTreeMap<&str, BTreeMap<Level, Vec<&Service>>> {
    let mut groups: BTreeMap<&str, BTreeMap<Level, Vec<&Service>>> = BTreeMap::new();
    for s in services {
        groups.entry(&s.sector).or_default().entry(s.level).or_default().push(s);
    }
    for levels in groups.values_mut() {
        for list in levels.values_mut() {
            list.sort_by(|a, b| a.code.cmp(&b.code));
        }
    }
    groups
}

fn table(services: &[&Service], caption: &str, unit: Option<&dyn Fn(&Service) -> String>) -> String {
    let mut html = format!(
        "<table class=\"services\">\n<caption>{}</caption>\n<thead><tr><th scope=\"col\">Mã thủ tục</th>\
         <th scope=\"col\">Tên thủ tục</th>{}<th scope=\"col\">Thời hạn giải quyết</th><th scope=\"col\">Lệ phí</th>\
         <th scope=\"col\">Thực hiện</th></tr></thead>\n<tbody>\n",
        e(caption),
        if unit.is_some() { "<th scope=\"col\">Đơn vị</th>" } else { "" }
    );
    for s in services {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td>{}<td>{} ngày làm việc</td><td>{}</td>\
             <td><a href=\"{}\" aria-label=\"Nộp hồ sơ trực tuyến: {}\">Nộp hồ sơ</a></td></tr>\n",
            e(&s.code),
            e(&s.name),
            unit.map(|u| format!("<td>{}</td>", u(s))).unwrap_or_default(),
            s.processing_days,
            e(if s.fee.is_empty() { "Không" } else { &s.fee }),
            e(&s.url),
            e(&s.name),
        ));
    }
    html.push_str("</tbody>\n</table>\n");
    html
}

/// The main part of a site's `/dich-vu-cong/`: its services by sector and level.
pub fn catalogue_main(services: &[Service]) -> String {
    let mut html = format!(
        "<p>{} thủ tục hành chính được cung cấp trực tuyến. \
         <a href=\"{LOOKUP}\">Tra cứu hồ sơ</a> · <a href=\"{STATISTICS}\">Thống kê giải quyết hồ sơ</a></p>\n",
        services.len()
    );
    for (sector, levels) in grouped(services) {
        html.push_str(&format!("<h2>{}</h2>\n", e(sector)));
        for (level, list) in levels {
            html.push_str(&table(&list, &format!("{} – {}", level.vi(), sector), None));
        }
    }
    html
}

/// The main part of the lookup page: the form, and the dossier `code` asked for (`found`).
pub fn lookup_main(services: &[Service], code: &str, found: Option<&Dossier>) -> String {
    let mut html = format!(
        "<form method=\"get\" action=\"{LOOKUP}\" class=\"lookup\"><label for=\"ma\">Mã hồ sơ</label> \
         <input type=\"text\" id=\"ma\" name=\"ma\" value=\"{}\" maxlength=\"64\"> <button type=\"submit\">Tra cứu</button></form>\n",
        e(code)
    );
    match (code.is_empty(), found) {
        (true, _) => html.push_str("<p>Nhập mã hồ sơ ghi trên giấy tiếp nhận để xem tiến độ giải quyết.</p>\n"),
        (false, None) => html.push_str(&format!("<p role=\"status\">Không tìm thấy hồ sơ có mã {}.</p>\n", e(code))),
        (false, Some(d)) => {
            let name = services.iter().find(|s| s.code == d.service_code).map_or(d.service_code.as_str(), |s| &s.name);
            let outcome = match d.on_time() {
                Some(true) => "Đúng hạn",
                Some(false) => "Trễ hạn",
                None if d.overdue(crate::model::time::now_secs() as i64) => "Quá hạn, đang giải quyết",
                None => "Trong hạn",
            };
            html.push_str(&format!(
                "<h2>Hồ sơ {}</h2>\n<dl class=\"dossier\">\n<dt>Thủ tục</dt><dd>{} ({})</dd>\n<dt>Ngày tiếp nhận</dt><dd>{}</dd>\n\
                 <dt>Hẹn trả kết quả</dt><dd>{}</dd>\n<dt>Trạng thái</dt><dd>{}</dd>\n{}<dt>Tiến độ</dt><dd class=\"outcome\">{}</dd>\n</dl>\n",
                e(&d.code),
                e(name),
                e(&d.service_code),
                crate::model::time::display_vn(d.received_at),
                crate::model::time::display_vn(d.due_at),
                d.status.vi(),
                d.completed_at.map(|c| format!("<dt>Ngày hoàn thành</dt><dd>{}</dd>\n", crate::model::time::display_vn(c))).unwrap_or_default(),
                outcome,
            ));
        }
    }
    html
}

/// The columns of the statistics, with their colours in the chart.
const COLUMNS: [(&str, &str); 5] = [
    ("Tiếp nhận", "#1d4e89"),
    ("Đúng hạn", "#00703c"),
    ("Trễ hạn", "#b3261e"),
    ("Đang giải quyết", "#6b5b00"),
    ("Quá hạn", "#7a1f5c"),
];

fn values(c: &Counts) -> [u32; 5] {
    [c.received, c.on_time, c.late, c.in_progress, c.overdue]
}

/// The main part of the statistics page: a table per month (one row per service) and a bar
/// chart of the dossiers received per service, drawn as inline SVG.
pub fn statistics_main<'a>(services: &[Service], dossiers: impl IntoIterator<Item = &'a Dossier>, now: i64) -> String {
    let stats = dossier::statistics(dossiers, now);
    let name = |code: &str| services.iter().find(|s| s.code == code).map_or(code.to_string(), |s| s.name.clone());
    let mut html = String::from(
        "<p>Số hồ sơ theo thủ tục và tháng tiếp nhận: đã tiếp nhận, giải quyết đúng hạn, trễ hạn, \
         đang giải quyết trong hạn và quá hạn.</p>\n",
    );
    if stats.is_empty() {
        html.push_str("<p>Chưa có hồ sơ nào được công khai.</p>\n");
        return html;
    }
    // Totals per service, for the chart: one bar group per service of the catalogue, and
    // per code the dossiers name besides.
    let mut totals: BTreeMap<&str, Counts> = services.iter().map(|s| (s.code.as_str(), Counts::default())).collect();
    for ((code, _), c) in &stats {
        let t = totals.entry(code).or_default();
        t.received += c.received;
        t.on_time += c.on_time;
        t.late += c.late;
        t.in_progress += c.in_progress;
        t.overdue += c.overdue;
    }
    html.push_str(&chart(&totals, &name));
    let mut months: Vec<&str> = stats.keys().map(|(_, m)| m.as_str()).collect();
    months.sort_unstable_by(|a, b| b.cmp(a));
    months.dedup();
    for month in months {
        let (year, m) = month.split_once('-').unwrap_or((month, ""));
        html.push_str(&format!(
            "<table class=\"statistics\" data-month=\"{month}\">\n<caption>Tháng {m}/{year}</caption>\n<thead><tr><th scope=\"col\">Thủ tục</th>"
        ));
        for (col, _) in COLUMNS {
            html.push_str(&format!("<th scope=\"col\">{col}</th>"));
        }
        html.push_str("</tr></thead>\n<tbody>\n");
        for ((code, _), c) in stats.iter().filter(|((_, mm), _)| mm == month) {
            html.push_str(&format!(
                "<tr data-service=\"{}\"><th scope=\"row\">{} ({})</th>",
                e(code),
                e(&name(code)),
                e(code)
            ));
            for v in values(c) {
                html.push_str(&format!("<td>{v}</td>"));
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</tbody>\n</table>\n");
    }
    html
}

/// Horizontal bars: a group per service (its five counts), scaled to the largest count;
/// labelled for screen readers by a title and the table that follows.
fn chart(totals: &BTreeMap<&str, Counts>, name: &dyn Fn(&str) -> String) -> String {
    let max = totals.values().flat_map(values).max().unwrap_or(0).max(1);
    let (label_w, bar_w, bar_h, gap) = (260, 380, 12, 14);
    let group_h = COLUMNS.len() as u32 * bar_h + gap;
    let height = totals.len() as u32 * group_h + 40;
    let width = label_w + bar_w + 60;
    let mut svg = format!(
        "<figure class=\"chart\">\n<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"bieu-do-tieu-de\" \
         viewBox=\"0 0 {width} {height}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\">\n\
         <title id=\"bieu-do-tieu-de\">Số hồ sơ theo thủ tục</title>\n"
    );
    for (i, (code, c)) in totals.iter().enumerate() {
        let top = i as u32 * group_h;
        svg.push_str(&format!(
            "<g class=\"service\" data-service=\"{}\">\n<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text>\n",
            e(code),
            top + bar_h * 2,
            e(&shorten(&name(code), 38))
        ));
        for (j, ((col, colour), v)) in COLUMNS.iter().zip(values(c)).enumerate() {
            let w = (u64::from(v) * u64::from(bar_w) / u64::from(max)) as u32;
            let y = top + j as u32 * bar_h;
            svg.push_str(&format!(
                "<rect x=\"{label_w}\" y=\"{y}\" width=\"{w}\" height=\"{}\" fill=\"{colour}\"><title>{col}: {v}</title></rect>\
                 <text x=\"{}\" y=\"{}\" font-size=\"10\">{v}</text>\n",
                bar_h - 2,
                label_w + w + 4,
                y + bar_h - 3
            ));
        }
        svg.push_str("</g>\n");
    }
    let legend_y = totals.len() as u32 * group_h + 20;
    for (j, (col, colour)) in COLUMNS.iter().enumerate() {
        let x = j as u32 * 130;
        svg.push_str(&format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{}\" y=\"{}\" font-size=\"11\">{col}</text>\n",
            legend_y - 9,
            x + 14,
            legend_y
        ));
    }
    svg.push_str(
        "</svg>\n<figcaption>Tổng số hồ sơ theo thủ tục; số liệu từng tháng ở các bảng dưới.</figcaption>\n</figure>\n",
    );
    svg
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    }
}

/// One service on the apex's list, with its unit.
#[derive(Debug, Clone)]
pub struct Listed {
    pub label: String,
    pub unit: String,
    pub host: String,
    pub service: Service,
}

/// The apex's `/dich-vu-cong/` as a whole page: the platform's header and footer around
/// [`apex_main`], styled by the default theme's stylesheet the apex serves.
pub fn apex_page(
    platform: &crate::model::config::Platform,
    all: &[Listed],
    query: &BTreeMap<String, String>,
) -> String {
    let main = apex_main(all, query);
    let (zone, name) = (e(&platform.zone), e(&platform.name_vi));
    format!(
        "<!doctype html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Dịch vụ công trực tuyến – {name}</title>\n<link rel=\"stylesheet\" href=\"/_theme/style.css\">\n</head>\n\
         <body>\n<header class=\"site-header\"><div class=\"wrap brand\"><div class=\"brand-text\">\
         <p class=\"brand-name\"><a href=\"/\">{name}</a></p></div></div></header>\n\
         <main id=\"noi-dung\" class=\"wrap\">\n<h1>Dịch vụ công trực tuyến</h1>\n{main}</main>\n\
         <footer class=\"site-footer\"><div class=\"wrap\"><p>{name} · {zone}</p></div></footer>\n</body>\n</html>\n"
    )
}

/// The apex's `/dich-vu-cong/`: every unit's services, filtered by the query's `linh-vuc`
/// (sector), `muc-do` (`full` or `partial`) and `don-vi` (label); the filter is a plain GET
/// form, so it works without script.
pub fn apex_main(all: &[Listed], query: &BTreeMap<String, String>) -> String {
    let want = |key: &str| query.get(key).map(String::as_str).filter(|v| !v.is_empty());
    let (sector, level, unit) = (want("linh-vuc"), want("muc-do"), want("don-vi"));
    let shown: Vec<&Listed> = all
        .iter()
        .filter(|l| sector.is_none_or(|s| l.service.sector == s))
        .filter(|l| level.is_none_or(|v| l.service.level.as_str() == v))
        .filter(|l| unit.is_none_or(|u| l.label == u))
        .collect();
    let mut sectors: Vec<&str> = all.iter().map(|l| l.service.sector.as_str()).collect();
    sectors.sort_unstable();
    sectors.dedup();
    let mut units: Vec<(&str, &str)> = all.iter().map(|l| (l.label.as_str(), l.unit.as_str())).collect();
    units.sort_unstable_by(|a, b| a.1.cmp(b.1));
    units.dedup();
    let option = |value: &str, text: &str, chosen: Option<&str>| {
        let sel = if chosen == Some(value) { " selected" } else { "" };
        format!("<option value=\"{}\"{sel}>{}</option>", e(value), e(text))
    };
    let mut html = String::from("<form method=\"get\" action=\"/dich-vu-cong/\" class=\"filter\">\n");
    html.push_str("<label for=\"linh-vuc\">Lĩnh vực</label> <select id=\"linh-vuc\" name=\"linh-vuc\"><option value=\"\">Tất cả</option>");
    for s in &sectors {
        html.push_str(&option(s, s, sector));
    }
    html.push_str("</select>\n<label for=\"muc-do\">Mức độ</label> <select id=\"muc-do\" name=\"muc-do\"><option value=\"\">Tất cả</option>");
    html.push_str(&option("full", "Toàn trình", level));
    html.push_str(&option("partial", "Một phần", level));
    html.push_str("</select>\n<label for=\"don-vi\">Đơn vị</label> <select id=\"don-vi\" name=\"don-vi\"><option value=\"\">Tất cả</option>");
    for (label, name) in &units {
        html.push_str(&option(label, name, unit));
    }
    html.push_str("</select>\n<button type=\"submit\">Lọc</button>\n</form>\n");
    html.push_str(&format!("<p role=\"status\">{} / {} dịch vụ công.</p>\n", shown.len(), all.len()));
    let services: Vec<&Service> = shown.iter().map(|l| &l.service).collect();
    let unit_of = |s: &Service| {
        shown
            .iter()
            .find(|l| std::ptr::eq(&l.service, s))
            .map(|l| format!("<a href=\"https://{}/dich-vu-cong/\">{}</a>", e(&l.host), e(&l.unit)))
            .unwrap_or_default()
    };
    if !services.is_empty() {
        html.push_str(&table(&services, "Dịch vụ công trực tuyến của các đơn vị", Some(&unit_of)));
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"[[service]]
code = "1.004227"
name = "Cấp giấy phép kinh doanh sản phẩm, dịch vụ an toàn thông tin mạng"
sector = "An toàn thông tin"
level = "full"
url = "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.004227"
fee = "Không"
processing_days = 30
"#;

    #[test]
    fn a_good_catalogue_reads() {
        let s = parse(GOOD, "tenants/ais/dich-vu-cong.toml").unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].level, Level::Full);
        assert_eq!(s[0].processing_days, 30);
    }

    #[test]
    fn every_bad_field_is_named_with_its_line() {
        let bad = GOOD
            .replace("1.004227\"\nname", "12\"\nname")
            .replace("\"full\"", "\"online\"")
            .replace("https://dichvucong.gov.vn", "http://example.com");
        let problems = parse(&bad, "f.toml").unwrap_err();
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert!(shown.iter().any(|p| p.starts_with("f.toml:2:") && p.contains("code")), "{shown:?}");
        assert!(
            shown.iter().any(|p| p.starts_with("f.toml:5:") && p.contains("\"online\" is not a level")),
            "{shown:?}"
        );
        assert!(shown.iter().any(|p| p.starts_with("f.toml:6:") && p.contains("https")), "{shown:?}");
        let twice = format!("{GOOD}\n{GOOD}");
        let shown = parse(&twice, "f.toml").unwrap_err()[0].to_string();
        assert!(shown.contains("listed twice (first on line 2)"), "{shown}");
        let unknown = GOOD.replace("fee =", "phi =");
        assert!(parse(&unknown, "f.toml").unwrap_err()[0].to_string().contains("phi"));
    }

    #[test]
    fn service_addresses_are_https_on_gov_vn() {
        assert!(check_url("https://dichvucong.gov.vn/x").is_ok());
        assert!(check_url("https://dichvucong.mic.gov.vn:8443/").is_ok());
        assert!(check_url("http://dichvucong.gov.vn/").is_err());
        assert!(check_url("https://gov.vn.evil.com/").is_err());
        assert!(check_url("https://evilgov.vn/").is_err());
    }

    #[test]
    fn the_chart_has_one_bar_group_per_service() {
        let services = parse(GOOD, "f").unwrap();
        let d = |code: &str, service: &str| {
            dossier::Push {
                service_code: service.into(),
                received_at: "2026-12-01T08:00:00+07:00".into(),
                due_at: "2026-12-10T08:00:00+07:00".into(),
                status: "received".into(),
                completed_at: None,
            }
            .check(code)
            .unwrap()
        };
        let html = statistics_main(&services, &[d("a", "1.004227"), d("b", "2.000001"), d("c", "1.004227")], 0);
        assert_eq!(html.matches("<g class=\"service\"").count(), 2);
        assert!(html.contains("<svg"));
        assert!(html.contains("<caption>Tháng 12/2026</caption>"));
    }
}
