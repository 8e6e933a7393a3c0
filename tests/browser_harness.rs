//! The browser harness (`common::browser`) against a tiny static server of its own: it fills
//! and submits a form (text and a file, multipart), reads the answer and its cookie, and
//! axe-core passes an accessible page and fails one with an image lacking `alt`, so the
//! harness is shown able to fail.

use crate::common::browser::{describe, Browser};
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An accessible page: language, title, landmark, heading, labelled fields.
const FORM_PAGE: &str = r#"<!doctype html>
<html lang="vi">
<head><meta charset="utf-8"><title>Đăng ký thử</title></head>
<body>
<main>
<h1>Đăng ký</h1>
<form id="dang-ky" method="post" action="/gui" enctype="multipart/form-data">
<p><label for="ten">Họ và tên</label> <input id="ten" name="ten" type="text"></p>
<p><label for="tep">Tệp đính kèm</label> <input id="tep" name="tep" type="file"></p>
<p><button type="submit">Gửi</button></p>
</form>
</main>
</body>
</html>"#;

/// The same kind of page with an image that has no `alt`.
const IMAGE_PAGE: &str = r#"<!doctype html>
<html lang="vi">
<head><meta charset="utf-8"><title>Ảnh thiếu mô tả</title></head>
<body>
<main>
<h1>Ảnh</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" width="40" height="40">
</main>
</body>
</html>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fills_submits_uploads_and_axe_fails_a_bad_page() {
    let started = Instant::now();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream));
        }
    });
    let Some(browser) = Browser::start().await else { return };
    let base = format!("http://{addr}");

    browser.goto(&format!("{base}/")).await;
    assert_eq!(browser.title().await, "Đăng ký thử");
    let violations = browser.axe().await;
    assert!(violations.is_empty(), "the accessible page has violations:\n{}", describe(&violations));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ghi-chu.txt");
    std::fs::write(&file, "nội dung thử").unwrap();
    browser.fill("#ten", "Nguyễn Văn A").await;
    assert_eq!(browser.value("#ten").await, "Nguyễn Văn A");
    browser.upload("#tep", &file).await;
    assert!(browser.value("#tep").await.ends_with("ghi-chu.txt"), "{}", browser.value("#tep").await);
    browser.submit_and_load("#dang-ky").await;

    assert_eq!(browser.current_url().await, format!("{base}/gui"));
    assert_eq!(browser.find_text("#ket-qua").await, "Xin chào, Nguyễn Văn A. Tệp ghi-chu.txt: nội dung thử");
    assert!(browser.text().await.contains("Đã nhận"));
    assert!(browser.source().await.contains("<h1>Đã nhận</h1>"));
    let cookies = browser.cookies().await;
    let session = cookies.iter().find(|c| c.name() == "phien").expect("the answer's cookie");
    assert_eq!((session.value(), session.http_only()), ("abc", Some(true)));
    browser.delete_all_cookies().await;
    assert!(browser.cookies().await.is_empty());

    browser.goto(&format!("{base}/anh")).await;
    assert!(browser.exists("img").await);
    assert!(!browser.exists("#khong-co").await);
    let violations = browser.axe().await;
    assert!(
        violations.iter().any(|v| v["id"] == "image-alt"),
        "axe missed the image without alt:\n{}",
        describe(&violations)
    );
    let shot = browser.screenshot("browser_harness-image-alt").await;
    assert!(std::fs::read(&shot).unwrap().starts_with(b"\x89PNG"), "{} is not a PNG", shot.display());

    drop(browser);
    server.abort();
    eprintln!("browser harness self-test: {:?}", started.elapsed());
}

/// Answer one connection: the form page, the image page, or the submitted form echoed.
async fn answer(mut stream: TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = String::from_utf8_lossy(&buf[head_end..]).into_owned();
    let request_line = head.lines().next().unwrap_or_default();
    let (status, extra, page) = match request_line.split(' ').take(2).collect::<Vec<_>>()[..] {
        ["GET", "/"] => ("200 OK", "", FORM_PAGE.to_string()),
        ["GET", "/anh"] => ("200 OK", "", IMAGE_PAGE.to_string()),
        ["POST", "/gui"] => ("200 OK", "Set-Cookie: phien=abc; Path=/; HttpOnly; SameSite=Strict\r\n", received(&body)),
        _ => ("404 Not Found", "", "không có".to_string()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The answer page to the multipart form: the name, the file's name and its text.
fn received(body: &str) -> String {
    let (_, ten) = part(body, "ten").unwrap_or_default();
    let (headers, content) = part(body, "tep").unwrap_or_default();
    let filename = headers.split_once("filename=\"").and_then(|(_, rest)| rest.split_once('"')).unwrap_or_default().0;
    let text = format!("Xin chào, {ten}. Tệp {filename}: {content}");
    let text = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<!doctype html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"><title>Đã nhận</title></head>\n\
         <body><main><h1>Đã nhận</h1><p id=\"ket-qua\">{text}</p></main></body></html>"
    )
}

/// The headers and content of the multipart part named `name`.
fn part<'a>(body: &'a str, name: &str) -> Option<(&'a str, &'a str)> {
    let start = body.find(&format!("name=\"{name}\""))?;
    let (headers, rest) = body[start..].split_once("\r\n\r\n")?;
    let (content, _) = rest.split_once("\r\n--")?;
    Some((headers, content))
}
