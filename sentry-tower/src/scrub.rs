//! What of a request may leave the process: the sensitive names, cookies and query strings.
//!
//! Two rules, from Sentry's data-handling requirements:
//!
//! - **Always**: the value of a header, cookie or query parameter whose name contains one of
//!   `SENSITIVE` (case-insensitive) is replaced by [`FILTERED`]. `Authorization` is one
//!   (it contains `auth`), whatever `send_default_pii` says: Relay's default scrubbing would
//!   remove it anyway, and a bearer token is a credential, not personal context.
//! - **Without `send_default_pii`**: cookies and the client's address are personal data.
//!   `Cookie`, `Set-Cookie` and the headers that carry the client's IP address
//!   (`PII_HEADERS`) are filtered too, and the request has no `cookies`.

/// What a filtered value becomes.
pub(crate) const FILTERED: &str = "[Filtered]";

/// Substrings of names whose values are never sent (the data-handling denylist, with the
/// draft's `session`, `sid` and `identity`). The scan reads them through [`starting_with`];
/// a test checks that the two lists agree.
#[cfg(test)]
const SENSITIVE: &[&str] = &[
    "auth",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "key",
    "jwt",
    "bearer",
    "sso",
    "saml",
    "csrf",
    "xsrf",
    "credentials",
    "session",
    "sid",
    "identity",
];

/// Headers whose values are personal data: sent only with `send_default_pii` (lowercase, as
/// `http` spells header names).
pub(crate) const PII_HEADERS: &[&str] = &[
    "cookie",
    "set-cookie",
    "x-forwarded-for",
    "forwarded",
    "x-real-ip",
    "x-client-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "fastly-client-ip",
    "x-cluster-client-ip",
];

/// `true` when `name` contains a word of the denylist (`auth`, `token`, `secret`, `password`,
/// `passwd`, `pwd`, `key`, `jwt`, `bearer`, `sso`, `saml`, `csrf`, `xsrf`, `credentials`,
/// `session`, `sid`, `identity`), ignoring ASCII case.
///
/// One pass over the name: a byte is compared with the words that start with it
/// ([`starting_with`]; most bytes start none), so a header name costs a few instructions per
/// byte instead of one substring search per word.
pub(crate) fn is_sensitive(name: &str) -> bool {
    let bytes = name.as_bytes();
    (0..bytes.len()).any(|i| {
        starting_with(bytes[i].to_ascii_lowercase())
            .iter()
            .any(|word| {
                bytes
                    .get(i..i + word.len())
                    .is_some_and(|window| window.eq_ignore_ascii_case(word.as_bytes()))
            })
    })
}

/// The words of the denylist that start with the lowercase byte `first`.
fn starting_with(first: u8) -> &'static [&'static str] {
    match first {
        b'a' => &["auth"],
        b'b' => &["bearer"],
        b'c' => &["csrf", "credentials"],
        b'i' => &["identity"],
        b'j' => &["jwt"],
        b'k' => &["key"],
        b'p' => &["password", "passwd", "pwd"],
        b's' => &["secret", "sso", "saml", "session", "sid"],
        b't' => &["token"],
        b'x' => &["xsrf"],
        _ => &[],
    }
}

/// The value a header may be sent with: `None` when it is left out altogether (a `Cookie`
/// header with `send_default_pii`, whose cookies go to the request's `cookies` instead).
pub(crate) fn header_value<'a>(name: &str, value: &'a str, send_pii: bool) -> Option<&'a str> {
    if name.eq_ignore_ascii_case("cookie") && send_pii {
        return None;
    }
    let personal = PII_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h));
    if is_sensitive(name) || (personal && !send_pii) {
        Some(FILTERED)
    } else {
        Some(value)
    }
}

/// A `Cookie` header with the values of sensitive cookies filtered; all of it filtered when a
/// pair has no `=` (a header that cannot be read cannot be filtered per cookie).
pub(crate) fn cookies(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    for pair in header.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = pair.split_once('=') else {
            return FILTERED.to_owned();
        };
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(name.trim());
        out.push('=');
        out.push_str(if is_sensitive(name) { FILTERED } else { value });
    }
    out
}

/// A query string with the values of sensitive parameters filtered (names kept, order kept).
pub(crate) fn query(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, _)) if is_sensitive_parameter(name) => {
                out.push_str(name);
                out.push('=');
                out.push_str(FILTERED);
            }
            _ => out.push_str(pair),
        }
    }
    out
}

/// `true` when the query parameter `name` is sensitive once decoded (decoded only when it
/// has an escape, so a plain name allocates nothing).
fn is_sensitive_parameter(name: &str) -> bool {
    if name.contains(['%', '+']) {
        is_sensitive(&percent_decoded_lossy(name))
    } else {
        is_sensitive(name)
    }
}

/// `name` with `%XX` escapes and `+` decoded, so `api%5Fkey` is recognised as `api_key`.
fn percent_decoded_lossy(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_letter_table_holds_every_word() {
        let mut table: Vec<&str> = (0..=u8::MAX)
            .flat_map(|b| starting_with(b).iter().copied())
            .collect();
        let mut words = SENSITIVE.to_vec();
        table.sort_unstable();
        words.sort_unstable();
        assert_eq!(table, words);
        for b in 0..=u8::MAX {
            assert!(starting_with(b).iter().all(|w| w.as_bytes()[0] == b));
        }
    }

    #[test]
    fn sensitive_names_ignore_case() {
        for name in [
            "Authorization",
            "X-API-KEY",
            "x-csrf-token",
            "sessionid",
            "JWT",
        ] {
            assert!(is_sensitive(name), "{name}");
        }
        for name in ["accept", "content-type", "user-agent", "x-request-id", ""] {
            assert!(!is_sensitive(name), "{name}");
        }
    }

    #[test]
    fn headers_by_pii_setting() {
        assert_eq!(
            header_value("authorization", "Bearer x", true),
            Some(FILTERED)
        );
        assert_eq!(
            header_value("x-forwarded-for", "1.2.3.4", false),
            Some(FILTERED)
        );
        assert_eq!(
            header_value("x-forwarded-for", "1.2.3.4", true),
            Some("1.2.3.4")
        );
        assert_eq!(header_value("cookie", "a=1", false), Some(FILTERED));
        assert_eq!(header_value("cookie", "a=1", true), None);
        assert_eq!(header_value("accept", "*/*", false), Some("*/*"));
    }

    #[test]
    fn cookies_per_name() {
        assert_eq!(
            cookies("theme=dark; sessionid=abc;csrftoken=x ;lang=en"),
            "theme=dark; sessionid=[Filtered]; csrftoken=[Filtered]; lang=en"
        );
        assert_eq!(cookies("theme=dark; garbage"), FILTERED);
        assert_eq!(cookies(""), "");
    }

    #[test]
    fn query_parameters() {
        assert_eq!(
            query("page=2&api_key=abc&api%5Fkey=abc&token&q=a+b"),
            "page=2&api_key=[Filtered]&api%5Fkey=[Filtered]&token&q=a+b"
        );
        assert_eq!(query(""), "");
        assert_eq!(query("x=%zz&y=%4"), "x=%zz&y=%4");
    }
}
