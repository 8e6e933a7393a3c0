//! `application/x-www-form-urlencoded` (form bodies and query strings), decoded one way for
//! every listener: the public question form, the admin API's queries, the web interface.

/// The `name=value` pairs of `text`, in order, `+` as a space and percent escapes decoded
/// (invalid UTF-8 replaced); a pair without `=` has an empty value, empty pairs are skipped.
pub fn pairs(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (decode(k), decode(v))
    })
}

/// The first value of `name` in `text`, or `""`.
pub fn field(text: &str, name: &str) -> String {
    pairs(text).find(|(k, _)| k == name).map(|(_, v)| v).unwrap_or_default()
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_decode_plus_and_escapes() {
        let got: Vec<_> = pairs("name=C%E1%BB%A5c+B%C3%A1o&x&&a=1&a=2").collect();
        let want = [("name", "Cục Báo"), ("x", ""), ("a", "1"), ("a", "2")];
        assert_eq!(got, want.map(|(k, v)| (k.to_string(), v.to_string())));
        assert_eq!(field("a=1&title=H%E1%BB%8Fi+g%C3%AC", "title"), "Hỏi gì");
        assert_eq!(field("x", "y"), "");
    }
}
