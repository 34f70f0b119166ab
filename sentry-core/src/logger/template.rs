//! Log templates: `{}` placeholders filled with parameters, in order.
//!
//! A template is text with one `{}` per parameter; `{{` and `}}` stand for literal braces. The
//! logger macros check at compile time that a literal template has exactly one placeholder per
//! parameter; templates given at run time are filled as far as they go (see [`render`]).

use super::param::LogParam;

/// Fills `template`'s `{}` placeholders with `params`, in order.
///
/// `{{` and `}}` become `{` and `}`. A placeholder without a parameter is kept as `{}`;
/// parameters without a placeholder are left out of the body (they are still recorded as
/// attributes). Any other brace is copied as it is.
pub(crate) fn render(template: &str, params: &[&dyn LogParam]) -> String {
    let mut body = String::with_capacity(template.len() + 8 * params.len());
    let mut params = params.iter();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        body.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            body.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            body.push('}');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("{}") {
            match params.next() {
                Some(param) => param.write_body(&mut body),
                None => body.push_str("{}"),
            }
            rest = after;
        } else {
            body.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    body.push_str(rest);
    body
}

/// The number of `{}` placeholders in `template`, or `None` if it has a brace that is neither
/// part of `{}` nor escaped (`{{`, `}}`).
pub(crate) const fn placeholder_count(template: &str) -> Option<usize> {
    let bytes = template.as_bytes();
    let mut i = 0;
    let mut count = 0;
    while i < bytes.len() {
        let next = if i + 1 < bytes.len() { bytes[i + 1] } else { 0 };
        match (bytes[i], next) {
            (b'{', b'{') | (b'}', b'}') => i += 2,
            (b'{', b'}') => {
                count += 1;
                i += 2;
            }
            (b'{', _) | (b'}', _) => return None,
            _ => i += 1,
        }
    }
    Some(count)
}

/// `true` if `template` is valid and has exactly `params` placeholders.
#[doc(hidden)]
pub const fn placeholders_match(template: &str, params: usize) -> bool {
    matches!(placeholder_count(template), Some(n) if n == params)
}

/// The attribute key of the `i`-th parameter: `sentry.message.parameter.<i>`, without an
/// allocation for the first sixteen.
pub(crate) fn parameter_key(i: usize) -> std::borrow::Cow<'static, str> {
    const KEYS: [&str; 16] = [
        "sentry.message.parameter.0",
        "sentry.message.parameter.1",
        "sentry.message.parameter.2",
        "sentry.message.parameter.3",
        "sentry.message.parameter.4",
        "sentry.message.parameter.5",
        "sentry.message.parameter.6",
        "sentry.message.parameter.7",
        "sentry.message.parameter.8",
        "sentry.message.parameter.9",
        "sentry.message.parameter.10",
        "sentry.message.parameter.11",
        "sentry.message.parameter.12",
        "sentry.message.parameter.13",
        "sentry.message.parameter.14",
        "sentry.message.parameter.15",
    ];
    match KEYS.get(i) {
        Some(key) => std::borrow::Cow::Borrowed(key),
        None => std::borrow::Cow::Owned(format!("sentry.message.parameter.{i}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_in_order_with_escapes() {
        let user: &dyn LogParam = &42;
        let plan: &dyn LogParam = &"pro";
        assert_eq!(
            render("user {} on {} {{plan}}", &[user, plan]),
            "user 42 on pro {plan}"
        );
        assert_eq!(render("a {} b {}", &[user]), "a 42 b {}");
        assert_eq!(render("no placeholder", &[user]), "no placeholder");
        assert_eq!(
            render("odd { and } and {x}", &[user]),
            "odd { and } and {x}"
        );
        assert_eq!(render("ünïcode {}é", &[plan]), "ünïcode proé");
        assert_eq!(render("", &[]), "");
    }

    #[test]
    fn counts_placeholders() {
        assert_eq!(placeholder_count("a {} b {} {{}} }}"), Some(2));
        assert_eq!(placeholder_count("plain"), Some(0));
        assert_eq!(placeholder_count("{x}"), None);
        assert_eq!(placeholder_count("{:?}"), None);
        assert_eq!(placeholder_count("}"), None);
        assert_eq!(placeholder_count("{"), None);
        assert!(placeholders_match("{} {}", 2));
        assert!(!placeholders_match("{} {}", 1));
        const { assert!(placeholders_match("x {}", 1)) };
    }

    #[test]
    fn parameter_keys() {
        assert_eq!(parameter_key(0), "sentry.message.parameter.0");
        assert_eq!(parameter_key(15), "sentry.message.parameter.15");
        assert_eq!(parameter_key(16), "sentry.message.parameter.16");
    }
}
