//! Tests of the editor safety net's HTML side (html.rs): what is removed, what is reported
//! and at which line, what is kept, and which links are handed on to the link check.

use super::*;

/// Render a body whose first line is line 1 of `a.md`; the lints as people read them.
fn lints(markdown: &str) -> (String, Vec<String>) {
    let r = render(markdown, "a.md", 1);
    (r.html, r.lints.iter().map(ToString::to_string).collect())
}

/// Each input, the one report it must give, and text the served HTML must not contain.
const REMOVED: &[(&str, &str, &str)] = &[
    ("Một.\n\n<script>alert(1)</script>\n", "a.md:3: <script> removed, with everything inside it (pages cannot run scripts", "alert"),
    ("Chữ <script>alert(1)</script> chữ.\n", "a.md:1: <script> removed", "alert"),
    ("<SCRIPT src=\"/x.js\"></SCRIPT>\n", "a.md:1: <script> removed", "x.js"),
    ("<div>\n<p>a</p>\n<iframe src=\"https://evil.example/\"></iframe>\n</div>\n", "a.md:3: <iframe> removed", "evil"),
    ("<object data=\"x.swf\"></object>\n", "a.md:1: <object> removed", "x.swf"),
    ("<embed src=\"x.swf\">\n", "a.md:1: <embed> removed", "x.swf"),
    ("<style>body{display:none}</style>\n", "a.md:1: <style> removed, with everything inside it (the theme styles", "display"),
    ("<p onclick=\"alert(1)\">Bấm</p>\n", "a.md:1: event handler onclick removed from <p> (pages cannot run scripts", "alert"),
    ("Ảnh <img src=\"/static/a.png\" alt=\"A\" onerror=\"alert(1)\">\n", "a.md:1: event handler onerror removed from <img>", "alert"),
    ("<a href=\"javascript:alert(1)\">x</a>\n", "a.md:1: href=\"javascript:alert(1)\" removed from <a>: javascript: addresses are not allowed (use a path on this site or an address starting with http:, https:, mailto:, tel:)", "javascript"),
    ("<a href=\" JaVaScRiPt:alert(1)\">x</a>\n", "a.md:1: href=\" JaVaScRiPt:alert(1)\" removed from <a>: javascript:", "alert"),
    ("<a href=\"vbscript:msgbox(1)\">x</a>\n", "a.md:1: href=\"vbscript:msgbox(1)\" removed from <a>: vbscript:", "vbscript"),
    ("[x](javascript:alert(1))\n", "a.md:1: href=\"javascript:alert(1)\" removed from <a>", "javascript"),
    ("![Ảnh](data:image/png;base64,AAAA)\n", "a.md:1: src=\"data:image/png;base64,AAAA\" removed from <img>: data: addresses are not allowed (put the image in static/", "base64"),
    ("<p style=\"position:fixed\">x</p>\n", "a.md:1: style attribute removed from <p>", "fixed"),
    ("<font color=\"red\">đỏ</font>\n", "a.md:1: <font> is not an allowed tag: removed (the text inside it is kept)", "<font"),
    ("# Tiêu đề {onclick=alert(1)}\n", "a.md:1: event handler onclick removed from <h1>", "alert"),
    ("<p align=\"center\">x</p>\n", "a.md:1: attribute align is not allowed on <p>: removed (delete it)", "align"),
    ("<form action=\"https://evil.example/\"><input name=\"p\"></form>\n", "a.md:1: <form> removed", "evil"),
    ("<svg><script>alert(1)</script></svg>\n", "a.md:1: <svg> removed", "alert"),
];

#[test]
fn dangerous_html_is_removed_and_each_removal_reported_at_its_line() {
    for (markdown, want, gone) in REMOVED {
        let (html, found) = lints(markdown);
        assert!(found.iter().any(|l| l.starts_with(want)), "{markdown:?}: want {want:?}, got {found:#?}");
        assert!(!html.to_ascii_lowercase().contains(gone), "{markdown:?}: {gone:?} must be gone from {html}");
    }
}

#[test]
fn what_a_script_holds_is_not_read_as_tags() {
    let (_, found) = lints("<script>\nvar s = '<img src=x onerror=y>';\n</script>\n");
    assert_eq!(found.len(), 1, "only the script itself: {found:#?}");
}

#[test]
fn a_tag_over_several_lines_of_a_block_is_reported_where_it_starts() {
    let (html, found) =
        lints("Một.\n\n<div>\n<p\n  onclick=\"x()\">a</p>\n<pre>b</pre> <p\nstyle=\"x\">c</p>\n</div>\n");
    assert_eq!(
        found,
        [
            "a.md:4: event handler onclick removed from <p> (pages cannot run scripts; delete it)",
            "a.md:6: style attribute removed from <p> (the theme styles the pages, and the Content-Security-Policy blocks inline styles; delete it)",
        ]
    );
    assert!(html.contains("<p>a</p>"), "{html}");
}

#[test]
fn images_need_alt_text() {
    for (markdown, line) in [
        ("![](/static/a.png)\n", Some(1)),
        ("Một.\n\n![ ](/static/a.png)\n", Some(3)),
        ("<img src=\"/static/a.png\">\n", Some(1)),
        ("Chữ <img src=\"/static/a.png\"> chữ.\n", Some(1)),
        ("![Lễ khai mạc](/static/a.png)\n", None),
        ("![`sơ đồ`](/static/a.png)\n", None),
        ("<img src=\"/static/a.png\" alt=\"Lễ khai mạc\">\n", None),
        ("<img src=\"/static/a.png\" alt=\"\">\n", None),
    ] {
        let r = render(markdown, "a.md", 1);
        let alt: Vec<&Problem> = r.lints.iter().filter(|p| p.message.starts_with("image without alt text")).collect();
        assert_eq!(alt.first().and_then(|p| p.line).map(|l| l as usize), line, "{markdown:?}: {alt:?}");
        assert!(alt.len() <= 1, "{markdown:?}: {alt:?}");
    }
}

#[test]
fn what_markdown_makes_is_kept_and_reports_nothing() {
    let markdown = "# Tiêu đề {#dau .lon}\n\n|a|b|\n|:-|-:|\n|1|2|\n\n- [x] xong\n- [ ] chưa\n\nChú thích[^1].\n\n\
[^1]: Ghi chú.\n\n~~cũ~~ **đậm** *nghiêng* `mã`\n\n> trích\n\n```rust\nfn a() {}\n```\n\n\
[trang](/gioi-thieu/) [ngoài](https://example.vn/a?b=1) <thu@ais.gov.vn> [gọi](tel:+84241234567)\n\n\
![Ảnh](/static/a.png \"Chú thích\")\n\n<details><summary>Thêm</summary>\n\n<abbr title=\"An toàn thông tin\">ATTT</abbr>\n\n</details>\n";
    let (html, found) = lints(markdown);
    assert!(found.is_empty(), "{found:#?}");
    for kept in [
        "<h1 id=\"dau\" class=\"lon\">",
        "<table>",
        "<input disabled=\"\" type=\"checkbox\" checked=\"\">",
        "<sup class=\"footnote-reference\"><a href=\"#1\"",
        "<del>cũ</del>",
        "<blockquote>",
        "<code class=\"language-rust\">",
        "href=\"/gioi-thieu/\"",
        "href=\"https://example.vn/a?b=1\"",
        "href=\"mailto:thu@ais.gov.vn\"",
        "href=\"tel:+84241234567\"",
        "<img src=\"/static/a.png\" alt=\"Ảnh\" title=\"Chú thích\">",
        "<details><summary>Thêm</summary>",
        "<abbr title=\"An toàn thông tin\">",
    ] {
        assert!(html.contains(kept), "{kept:?} should be kept in\n{html}");
    }
}

#[test]
fn every_allowed_tag_survives_the_cleaner_and_every_removed_one_goes_with_its_content() {
    for tag in TAGS.iter().filter(|t| !matches!(**t, "br" | "hr" | "img" | "input" | "wbr" | "col")) {
        let out = CLEANER.clean(&format!("<{tag}>x</{tag}>")).to_string();
        let table_part = matches!(*tag, "caption" | "colgroup" | "tbody" | "td" | "tfoot" | "th" | "thead" | "tr");
        assert!(out.contains(&format!("<{tag}")) || table_part, "<{tag}> is allowed: {out}");
    }
    for tag in REMOVED_WITH_CONTENT {
        let out = CLEANER.clean(&format!("<p>a<{tag}>bí mật</{tag}>b</p>")).to_string();
        assert!(!out.contains(&format!("<{tag}")), "<{tag}> is removed: {out}");
        // `<embed>` is a void element: what follows it is not inside it.
        assert!(*tag == "embed" || !out.contains("bí mật"), "<{tag}> goes with its content: {out}");
    }
}

#[test]
fn addresses_are_classified_as_the_cleaner_keeps_them() {
    for (url, want) in [
        ("https://example.vn/", Address::Elsewhere),
        ("mailto:a@b.vn", Address::Elsewhere),
        ("/static/a.png", Address::Relative),
        ("../a/", Address::Relative),
        ("#muc-1", Address::Relative),
        ("//example.vn/x", Address::Relative),
        ("javascript:alert(1)", Address::Removed(Some("javascript".into()))),
        ("java\tscript:alert(1)", Address::Removed(Some("javascript".into()))),
        ("data:text/html,<b>", Address::Removed(Some("data".into()))),
        ("http://[::1", Address::Removed(None)),
    ] {
        assert_eq!(address(url), want, "{url:?}");
        let html = format!("<a href=\"{}\">x</a>", url.replace('<', "&lt;"));
        let kept = CLEANER.clean(&html).to_string().contains("href=");
        assert_eq!(kept, !matches!(want, Address::Removed(_)), "the cleaner agrees on {url:?}");
    }
}

#[test]
fn paths_are_handed_to_the_link_check_and_the_rest_is_not() {
    let markdown = "[a](/gioi-thieu/) [b](../x/) [c](#muc) [d](https://example.vn/) <a@b.vn>\n\n\
![Ảnh](/static/a.png)\n\n<a href=\"/tin-tuc/\">t</a> <img src=\"anh.png\" alt=\"x\"> <a href=\"javascript:x\">j</a>\n";
    let r = render(markdown, "a.md", 10);
    let links: Vec<(usize, &str, bool)> = r.links.iter().map(|l| (l.line, l.target.as_str(), l.image)).collect();
    assert_eq!(
        links,
        [
            (10, "/gioi-thieu/", false),
            (10, "../x/", false),
            (12, "/static/a.png", true),
            (14, "/tin-tuc/", false),
            (14, "anh.png", true)
        ]
    );
}
