//! The platform's own pages, rendered once per snapshot from the default theme's
//! `directory.html` and `status.html`: the member directory on the apex, and the neutral
//! pages for unknown, pending, suspended and archived names and for bad requests.

use crate::content::render::{self, CachePolicy, Prepared};
use crate::content::site::{Entries, Entry, Paths};
use crate::content::theme::ThemeSet;
use crate::model::config::Platform;
use crate::model::member::{Member, Membership, Status, Window};
use crate::model::FastMap;
use http::StatusCode;
use minijinja::context;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// The platform's prepared pages.
#[derive(Debug)]
pub struct PlatformPages {
    /// What the apex (`mic.gov.vn`, `www.mic.gov.vn`) serves: `/`, `/_theme/…`, `/robots.txt`.
    pub apex: Paths,
    pub bad_request: Arc<Prepared>,
    /// Unknown host or pending member: shows nothing of any member.
    pub not_found: Arc<Prepared>,
    pub suspended: Arc<Prepared>,
    pub archived: Arc<Prepared>,
    /// A registered, active member whose site could not be loaded.
    pub unavailable: Arc<Prepared>,
    pub method_not_allowed: Arc<Prepared>,
    /// Label → its announced maintenance window and the 503 page stating the time of
    /// return, for members with a window not over yet.
    pub maintenance: FastMap<String, (Window, Arc<Prepared>)>,
}

#[derive(Serialize)]
struct DirectoryEntry<'a> {
    label: &'a str,
    host: String,
    url: String,
    name_vi: &'a str,
    name_en: &'a str,
    membership: Membership,
}

impl PlatformPages {
    /// Render the platform pages; `members` are listed in the directory when active.
    pub fn render(
        themes: &ThemeSet,
        platform: &Platform,
        members: &[Member],
        scheme: &str,
    ) -> Result<PlatformPages, String> {
        let chain = themes.chain("default")?;
        let templates = ThemeSet::templates(&chain);
        let paths: HashMap<String, String> = templates.iter().map(|(k, t)| (k.clone(), t.path.clone())).collect();
        let env = render::environment(templates.into_iter().map(|(k, t)| (k, t.source)).collect());
        let status = |code: StatusCode,
                      title_vi: &str,
                      title_en: &str,
                      message_vi: &str,
                      message_en: &str|
         -> Result<Arc<Prepared>, String> {
            let html = env
                .get_template("status.html")
                .and_then(|t| t.render(context! { platform => platform, status => code.as_u16(), title_vi, title_en, message_vi, message_en }))
                .map_err(|e| render::template_error(&e, &paths, "status.html").to_string())?;
            Ok(Arc::new(Prepared::html(code, CachePolicy::NoStore, html)))
        };
        let mut listed: Vec<DirectoryEntry> = members
            .iter()
            .filter(|m| m.status == Status::Active)
            .map(|m| {
                let host = m.names.canonical.clone().unwrap_or_else(|| m.fourth_level(&platform.zone));
                DirectoryEntry {
                    label: &m.names.label,
                    url: format!("{scheme}://{}/", m.fourth_level(&platform.zone)),
                    host,
                    name_vi: &m.names.name_vi,
                    name_en: &m.names.name_en,
                    membership: m.names.membership,
                }
            })
            .collect();
        listed.sort_by(|a, b| a.name_vi.cmp(b.name_vi));
        let directory = env
            .get_template("directory.html")
            .and_then(|t| t.render(context! { platform => platform, members => listed, now_year => crate::content::site::content::Date::today().year }))
            .map_err(|e| render::template_error(&e, &paths, "directory.html").to_string())?;
        let mut apex = Entries::default();
        apex.insert("/".into(), Entry::Page(Arc::new(Prepared::html(StatusCode::OK, CachePolicy::Page, directory))));
        for (rel, bytes) in ThemeSet::static_files(&chain) {
            let url = format!("/_theme/{rel}");
            let prepared =
                Prepared::new(StatusCode::OK, render::content_type_for(&url), CachePolicy::Asset, bytes.to_vec());
            apex.insert(url.into(), Entry::Page(Arc::new(prepared)));
        }
        let robots = Prepared::new(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            CachePolicy::Page,
            b"User-agent: *\nAllow: /\n".to_vec(),
        );
        apex.insert("/robots.txt".into(), Entry::Page(Arc::new(robots)));
        let mut maintenance = FastMap::default();
        for m in members.iter().filter(|m| m.status == Status::Active) {
            let Some(w) = &m.maintenance else { continue };
            let (from, until) = (crate::model::time::display_vn(w.from), crate::model::time::display_vn(w.until));
            let page = status(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("{} đang bảo trì", m.names.name_vi),
                "Portal under maintenance",
                &format!(
                    "Cổng thông tin tạm ngừng phục vụ từ {from} đến {until} (giờ Việt Nam) và sẽ hoạt động trở lại lúc {until}. Lý do: {}",
                    w.reason
                ),
                &format!("This portal is down for planned maintenance and will be back at {until} (Viet Nam time, UTC+7)."),
            )?;
            maintenance.insert(m.names.label.clone(), (w.clone(), page));
        }
        Ok(PlatformPages {
            maintenance,
            apex: apex.into(),
            bad_request: status(
                StatusCode::BAD_REQUEST,
                "Yêu cầu không hợp lệ",
                "Bad request",
                "Trình duyệt đã gửi một yêu cầu mà máy chủ không hiểu được.",
                "The browser sent a request this server could not understand.",
            )?,
            not_found: status(
                StatusCode::NOT_FOUND,
                "Không tìm thấy cổng thông tin",
                "Portal not found",
                "Không có cổng thông tin nào tại địa chỉ này.",
                "There is no portal at this address.",
            )?,
            suspended: status(
                StatusCode::SERVICE_UNAVAILABLE,
                "Cổng thông tin đang tạm dừng",
                "Portal temporarily unavailable",
                "Cổng thông tin này đang được bảo trì. Vui lòng quay lại sau.",
                "This portal is under maintenance. Please come back later.",
            )?,
            archived: status(
                StatusCode::GONE,
                "Cổng thông tin đã ngừng hoạt động",
                "Portal archived",
                "Cổng thông tin này đã ngừng hoạt động và được lưu trữ.",
                "This portal is no longer in operation.",
            )?,
            unavailable: status(
                StatusCode::SERVICE_UNAVAILABLE,
                "Cổng thông tin chưa sẵn sàng",
                "Portal not available",
                "Cổng thông tin này tạm thời chưa thể hiển thị. Vui lòng quay lại sau.",
                "This portal cannot be shown right now. Please come back later.",
            )?,
            method_not_allowed: status(
                StatusCode::METHOD_NOT_ALLOWED,
                "Phương thức không được hỗ trợ",
                "Method not allowed",
                "Trang này chỉ hỗ trợ GET và HEAD.",
                "This page supports GET and HEAD only.",
            )?,
        })
    }
}
