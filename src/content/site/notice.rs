//! The platform's banner on every page of a site, whatever its theme: the notice of an
//! announced maintenance window (from the announcement until the window ends), or the
//! mark of an archived unit's record (read-only, not indexed). It is put into each page as
//! it is built, right after `<body>` as a labelled landmark (`aside`), with its own small stylesheet, so the cached bytes
//! already carry it.

use crate::content::render::html_escape;
use crate::model::member::{Member, Status};
use crate::model::time::display_vn;

/// The banner's stylesheet, served by every site that carries one.
pub const STYLESHEET: &str = "/_site/notice.css";

const CSS: &str = ".cong-notice{background:#fff4ce;color:#1d1d1b;border-bottom:4px solid #b58500;padding:12px 16px;\
font:inherit;line-height:1.5}.cong-notice strong{font-weight:700}.cong-notice.archived{background:#e8e8e8;\
border-bottom-color:#505050}\n";

/// What a site's pages carry from the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    /// The banner's HTML, put right after `<body …>`.
    pub html: String,
    /// Archived: pages also say `noindex`.
    pub archived: bool,
}

impl Banner {
    /// The stylesheet's bytes.
    pub fn css() -> &'static str {
        CSS
    }
}

/// The banner `member` carries at `now`: archived, or a maintenance window not yet over.
pub fn banner_for(member: &Member, now: i64) -> Option<Banner> {
    if member.status == Status::Archived {
        let html = "<aside class=\"cong-notice archived\" aria-label=\"Thông báo của cổng\"><strong>Trang lưu trữ.</strong> \
                    Đơn vị này đã ngừng hoạt động hoặc đã được sáp nhập; cổng thông tin được giữ nguyên như khi lưu trữ \
                    để tra cứu và không còn được cập nhật.</aside>";
        return Some(Banner { html: html.into(), archived: true });
    }
    let w = member.maintenance.as_ref().filter(|w| w.until > now)?;
    let html = format!(
        "<aside class=\"cong-notice\" aria-label=\"Thông báo của cổng\"><strong>Thông báo bảo trì:</strong> cổng thông tin tạm ngừng phục vụ \
         từ {} đến {} (giờ Việt Nam). Lý do: {}</aside>",
        display_vn(w.from),
        display_vn(w.until),
        html_escape(&w.reason)
    );
    Some(Banner { html, archived: false })
}

/// `page` with the banner after `<body …>` and its stylesheet (and, archived, `noindex`)
/// before `</head>`; a page without those tags gets the banner at its start.
pub fn inject(page: &str, banner: &Banner) -> String {
    let mut head = format!("<link rel=\"stylesheet\" href=\"{STYLESHEET}\">\n");
    if banner.archived {
        head.push_str("<meta name=\"robots\" content=\"noindex\">\n");
    }
    let lower = page.to_ascii_lowercase();
    let mut out = String::with_capacity(page.len() + banner.html.len() + head.len());
    let body_at = lower.find("<body").and_then(|b| lower[b..].find('>').map(|end| b + end + 1));
    let head_at = lower.find("</head>").filter(|h| body_at.is_none_or(|b| *h < b));
    match (head_at, body_at) {
        (Some(h), Some(b)) => {
            out.push_str(&page[..h]);
            out.push_str(&head);
            out.push_str(&page[h..b]);
            out.push_str(&banner.html);
            out.push_str(&page[b..]);
        }
        (None, Some(b)) => {
            out.push_str(&page[..b]);
            out.push_str(&banner.html);
            out.push_str(&page[b..]);
        }
        _ => {
            out.push_str(&banner.html);
            out.push_str(page);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::member::{Membership, Window};

    #[test]
    fn the_banner_goes_after_body_and_its_style_in_the_head() {
        let mut m = Member::sample("ais", Membership::Shared, Status::Active, &[]);
        assert_eq!(banner_for(&m, 0), None);
        m.maintenance = Some(Window {
            from: 100,
            until: 200,
            reason: "Nâng cấp <máy chủ>".into(),
            announced_at: 0,
            emergency: false,
        });
        let b = banner_for(&m, 150).unwrap();
        assert!(b.html.contains("Nâng cấp &lt;máy chủ&gt;"));
        assert_eq!(banner_for(&m, 200), None, "gone once the window is over");
        let page = "<!doctype html><html><head><title>x</title></head><BODY class=\"a\"><p>hi</p></body></html>";
        let out = inject(page, &b);
        assert!(out.contains(
            "<link rel=\"stylesheet\" href=\"/_site/notice.css\">\n</head><BODY class=\"a\"><aside class=\"cong-notice\""
        ));
        assert!(!out.contains("noindex"));
        m.status = Status::Archived;
        let archived = inject(page, &banner_for(&m, 150).unwrap());
        assert!(archived.contains("<meta name=\"robots\" content=\"noindex\">"));
        assert!(archived.contains("Trang lưu trữ"));
        assert!(inject("<p>bare</p>", &b).starts_with("<aside class=\"cong-notice\""));
    }
}
