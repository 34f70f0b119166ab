//! Which proxy, if any, the transport goes through.
//!
//! The decision is made once, when a transport is created, by [`select_proxy`]: a pure function
//! of the target URL, the two proxy options and an environment lookup, so it can be tested (and
//! reasoned about) without touching the process environment.

use std::fmt;
use std::net::IpAddr;

use ureq::http::Uri;

/// What [`select_proxy`] decided for a target URL.
///
/// The `Debug` and `Display` forms never show credentials from a proxy URL.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum ProxySelection {
    /// Connect directly: no proxy is configured for the target's scheme, or the applicable
    /// option is set to the empty string (which also switches the environment off).
    Direct,
    /// Connect directly because `NO_PROXY` / `no_proxy` lists the target host, although an
    /// environment variable names a proxy.
    NoProxy,
    /// Go through this proxy.
    Proxy {
        /// The proxy URL as configured, credentials included.
        url: String,
        /// Where the URL came from.
        source: ProxySource,
    },
}

impl ProxySelection {
    /// The proxy URL (credentials included), or `None` for a direct connection.
    #[cfg(test)]
    fn url(&self) -> Option<&str> {
        match self {
            ProxySelection::Proxy { url, .. } => Some(url),
            ProxySelection::Direct | ProxySelection::NoProxy => None,
        }
    }

    /// Where the proxy URL came from, or `None` for a direct connection.
    #[cfg(test)]
    fn source(&self) -> Option<ProxySource> {
        match self {
            ProxySelection::Proxy { source, .. } => Some(*source),
            ProxySelection::Direct | ProxySelection::NoProxy => None,
        }
    }
}

impl fmt::Debug for ProxySelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySelection::Direct => f.write_str("Direct"),
            ProxySelection::NoProxy => f.write_str("NoProxy"),
            ProxySelection::Proxy { url, source } => f
                .debug_struct("Proxy")
                .field("url", &redact_userinfo(url))
                .field("source", source)
                .finish(),
        }
    }
}

impl fmt::Display for ProxySelection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySelection::Direct => f.write_str("no proxy"),
            ProxySelection::NoProxy => f.write_str("no proxy (the host is listed in NO_PROXY)"),
            ProxySelection::Proxy { url, source } => {
                write!(f, "proxy {} (from {source})", redact_userinfo(url))
            }
        }
    }
}

/// Where a proxy URL came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum ProxySource {
    /// [`TransportOptions::http_proxy`](sentry_core::transport::TransportOptions::http_proxy).
    HttpProxyOption,
    /// [`TransportOptions::https_proxy`](sentry_core::transport::TransportOptions::https_proxy).
    HttpsProxyOption,
    /// The environment variable of this name, such as `HTTPS_PROXY`.
    Env(&'static str),
}

impl fmt::Display for ProxySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySource::HttpProxyOption => f.write_str("the http_proxy option"),
            ProxySource::HttpsProxyOption => f.write_str("the https_proxy option"),
            ProxySource::Env(name) => write!(f, "the {name} environment variable"),
        }
    }
}

/// The environment variables read for `https://` targets, in order.
const HTTPS_VARS: [&str; 2] = ["HTTPS_PROXY", "https_proxy"];
/// The environment variables read for `http://` targets (and as the fallback for `https://`).
const HTTP_VARS: [&str; 2] = ["HTTP_PROXY", "http_proxy"];
/// The environment variables listing hosts that bypass environment proxies.
const NO_PROXY_VARS: [&str; 2] = ["NO_PROXY", "no_proxy"];

/// Chooses the proxy for requests to `target_url`.
///
/// `http_proxy` and `https_proxy` are the transport's options; `env` looks up an environment
/// variable (pass `|name| std::env::var(name).ok()` for the process environment). The first
/// candidate that is set wins:
///
/// | target | candidates, in order |
/// |---|---|
/// | `https://` | `https_proxy` option, `HTTPS_PROXY`, `https_proxy`, `http_proxy` option, `HTTP_PROXY`, `http_proxy` |
/// | `http://` | `http_proxy` option, `HTTP_PROXY`, `http_proxy` |
///
/// - Options are explicit and always win over the environment; `NO_PROXY` does not apply to
///   them. An option set to the empty string means "no proxy": the search stops there and the
///   connection is direct.
/// - Environment variables that are empty count as unset. An environment proxy is skipped when
///   `NO_PROXY` (or else `no_proxy`) lists the target host ([`ProxySelection::NoProxy`]).
/// - `NO_PROXY` is a comma-separated list, compared case-insensitively. An entry is `*` (every
///   host), a domain (`example.com` or `.example.com`: the domain and all its subdomains), an IP
///   address (exact match; IPv6 with or without brackets) or a CIDR block (`10.0.0.0/8`). A
///   domain or address may end in `:port` to match only that port.
/// - A target URL that does not parse gets [`ProxySelection::Direct`].
pub(crate) fn select_proxy(
    target_url: &str,
    http_proxy: Option<&str>,
    https_proxy: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> ProxySelection {
    let Some(target) = Target::parse(target_url) else {
        return ProxySelection::Direct;
    };
    let mut skipped_by_no_proxy = false;
    let mut candidates: Vec<Candidate<'_>> = Vec::with_capacity(4);
    if target.https {
        candidates.push(Candidate::Option(
            https_proxy,
            ProxySource::HttpsProxyOption,
        ));
        candidates.push(Candidate::Env(&HTTPS_VARS));
    }
    candidates.push(Candidate::Option(http_proxy, ProxySource::HttpProxyOption));
    candidates.push(Candidate::Env(&HTTP_VARS));

    for candidate in candidates {
        match candidate {
            Candidate::Option(None, _) => {}
            Candidate::Option(Some(url), source) => {
                let url = url.trim();
                if url.is_empty() {
                    return ProxySelection::Direct;
                }
                return ProxySelection::Proxy {
                    url: url.to_owned(),
                    source,
                };
            }
            Candidate::Env(names) => {
                let Some((name, url)) = first_set(names, &env) else {
                    continue;
                };
                if target.is_listed_in(first_set(&NO_PROXY_VARS, &env).map(|(_, list)| list)) {
                    skipped_by_no_proxy = true;
                    continue;
                }
                return ProxySelection::Proxy {
                    url,
                    source: ProxySource::Env(name),
                };
            }
        }
    }
    if skipped_by_no_proxy {
        ProxySelection::NoProxy
    } else {
        ProxySelection::Direct
    }
}

enum Candidate<'a> {
    Option(Option<&'a str>, ProxySource),
    Env(&'static [&'static str; 2]),
}

/// The first of `names` that is set to something other than whitespace, and its trimmed value.
fn first_set(
    names: &'static [&'static str; 2],
    env: &impl Fn(&str) -> Option<String>,
) -> Option<(&'static str, String)> {
    names.iter().find_map(|&name| {
        let value = env(name)?;
        let value = value.trim();
        (!value.is_empty()).then(|| (name, value.to_owned()))
    })
}

/// The parts of a target URL that proxy selection looks at.
#[derive(Debug)]
struct Target {
    https: bool,
    /// Lowercase, without IPv6 brackets or a trailing dot.
    host: String,
    port: u16,
}

impl Target {
    fn parse(url: &str) -> Option<Target> {
        let uri: Uri = url.parse().ok()?;
        let https = match uri.scheme_str()? {
            s if s.eq_ignore_ascii_case("https") => true,
            s if s.eq_ignore_ascii_case("http") => false,
            _ => return None,
        };
        let host = normalize_host(uri.host()?);
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        Some(Target { https, host, port })
    }

    /// Whether a `NO_PROXY` list names this target.
    fn is_listed_in(&self, no_proxy: Option<String>) -> bool {
        let Some(list) = no_proxy else {
            return false;
        };
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .any(|entry| self.matches(entry))
    }

    fn matches(&self, entry: &str) -> bool {
        if entry == "*" {
            return true;
        }
        let (host, port) = split_port(entry);
        if port.is_some_and(|port| port != self.port) {
            return false;
        }
        let host = normalize_host(host);
        if let Some((network, prefix)) = host.split_once('/') {
            return match (network.parse::<IpAddr>(), prefix.parse::<u8>()) {
                (Ok(network), Ok(prefix)) => self
                    .host
                    .parse::<IpAddr>()
                    .is_ok_and(|ip| in_cidr(ip, network, prefix)),
                _ => false,
            };
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            return self.host.parse::<IpAddr>() == Ok(ip);
        }
        let domain = host.trim_start_matches('*').trim_start_matches('.');
        if domain.is_empty() {
            return false;
        }
        self.host == domain
            || self
                .host
                .strip_suffix(domain)
                .is_some_and(|rest| rest.ends_with('.'))
    }
}

/// Lowercases a host and removes IPv6 brackets and a trailing dot.
fn normalize_host(host: &str) -> String {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

/// Splits `host:port`, `[v6]:port`, `[v6]`, a bare IPv6 address or a bare host. A port that is
/// not a number makes the entry match nothing (port 0 is never a target port).
fn split_port(entry: &str) -> (&str, Option<u16>) {
    let parse = |port: &str| Some(port.parse().unwrap_or(0));
    if let Some(rest) = entry.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, "")) => (host, None),
            Some((host, tail)) => match tail.strip_prefix(':') {
                Some(port) => (host, parse(port)),
                None => (host, Some(0)),
            },
            None => (entry, None),
        };
    }
    match entry.matches(':').count() {
        1 => match entry.split_once(':') {
            Some((host, port)) => (host, parse(port)),
            None => (entry, None),
        },
        // None, or a bare IPv6 address (with or without a CIDR suffix).
        _ => (entry, None),
    }
}

fn in_cidr(ip: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(network)) if prefix <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) if prefix <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

/// `url` with any `user:password@` replaced by `***@`, for diagnostics.
pub(crate) fn redact_userinfo(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[after_scheme..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &url[..after_scheme], &rest[at..]),
        None => url.to_owned(),
    }
}

/// Turns a selected proxy URL into ureq's proxy. Only HTTP(S) proxies are supported, with
/// `CONNECT` tunnelling; a URL without a scheme is an `http://` proxy.
pub(crate) fn to_ureq_proxy(url: &str) -> Result<ureq::Proxy, String> {
    let proxy = ureq::Proxy::new(url).map_err(|error| error.to_string())?;
    match proxy.protocol() {
        ureq::ProxyProtocol::Http | ureq::ProxyProtocol::Https => Ok(proxy),
        other => Err(format!(
            "{other} proxies are not supported, only http:// and https://"
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env_of<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        move |name| map.get(name).map(|value| (*value).to_owned())
    }

    const HTTPS: &str = "https://o1.ingest.sentry.io/api/1/envelope/";
    const HTTP: &str = "http://sentry.local:9000/api/1/envelope/";

    /// Name, target URL, `http_proxy` option, `https_proxy` option, environment, expected.
    type Row<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        &'a [(&'a str, &'a str)],
        ProxySelection,
    );

    #[allow(non_snake_case)]
    fn Proxy(url: &str, source: ProxySource) -> ProxySelection {
        ProxySelection::Proxy {
            url: url.to_owned(),
            source,
        }
    }

    #[test]
    fn selection_table() {
        use ProxySelection::{Direct, NoProxy};
        use ProxySource::*;
        #[rustfmt::skip]
        let rows: Vec<Row<'_>> = vec![
            ("nothing configured", HTTPS, None, None, &[], Direct),
            ("https option", HTTPS, None, Some("http://a:1"), &[], Proxy("http://a:1", HttpsProxyOption)),
            ("http option used for https", HTTPS, Some("http://b:2"), None, &[], Proxy("http://b:2", HttpProxyOption)),
            ("http option is not used before HTTPS_PROXY", HTTPS, Some("http://b:2"), None,
                &[("HTTPS_PROXY", "http://env:3")], Proxy("http://env:3", Env("HTTPS_PROXY"))),
            ("https option beats everything", HTTPS, Some("http://b:2"), Some("http://a:1"),
                &[("HTTPS_PROXY", "http://env:3"), ("HTTP_PROXY", "http://env:4")], Proxy("http://a:1", HttpsProxyOption)),
            ("https option is not used for http", HTTP, None, Some("http://a:1"), &[], Direct),
            ("http option for http", HTTP, Some("http://b:2"), Some("http://a:1"), &[], Proxy("http://b:2", HttpProxyOption)),
            ("http option beats HTTP_PROXY", HTTP, Some("http://b:2"), None,
                &[("HTTP_PROXY", "http://env:4")], Proxy("http://b:2", HttpProxyOption)),
            ("HTTPS_PROXY for https", HTTPS, None, None, &[("HTTPS_PROXY", "http://env:3")], Proxy("http://env:3", Env("HTTPS_PROXY"))),
            ("https_proxy lowercase", HTTPS, None, None, &[("https_proxy", "http://env:5")], Proxy("http://env:5", Env("https_proxy"))),
            ("uppercase before lowercase", HTTPS, None, None,
                &[("https_proxy", "http://lower:5"), ("HTTPS_PROXY", "http://upper:3")], Proxy("http://upper:3", Env("HTTPS_PROXY"))),
            ("empty variable counts as unset", HTTPS, None, None,
                &[("HTTPS_PROXY", " "), ("https_proxy", "http://lower:5")], Proxy("http://lower:5", Env("https_proxy"))),
            ("HTTP_PROXY is the fallback for https", HTTPS, None, None, &[("HTTP_PROXY", "http://env:4")], Proxy("http://env:4", Env("HTTP_PROXY"))),
            ("HTTPS_PROXY is not used for http", HTTP, None, None, &[("HTTPS_PROXY", "http://env:3")], Direct),
            ("HTTP_PROXY for http", HTTP, None, None, &[("HTTP_PROXY", "http://env:4")], Proxy("http://env:4", Env("HTTP_PROXY"))),
            ("http_proxy lowercase", HTTP, None, None, &[("http_proxy", "http://env:6")], Proxy("http://env:6", Env("http_proxy"))),
            ("empty https option switches the environment off", HTTPS, Some("http://b:2"), Some(""),
                &[("HTTPS_PROXY", "http://env:3")], Direct),
            ("empty http option switches HTTP_PROXY off", HTTP, Some(""), None, &[("HTTP_PROXY", "http://env:4")], Direct),
            ("option is trimmed", HTTP, Some("  http://b:2 "), None, &[], Proxy("http://b:2", HttpProxyOption)),
            // NO_PROXY
            ("NO_PROXY exact host", HTTPS, None, None,
                &[("HTTPS_PROXY", "http://env:3"), ("NO_PROXY", "o1.ingest.sentry.io")], NoProxy),
            ("no_proxy lowercase", HTTPS, None, None,
                &[("HTTPS_PROXY", "http://env:3"), ("no_proxy", "o1.ingest.sentry.io")], NoProxy),
            ("NO_PROXY domain suffix", HTTPS, None, None,
                &[("HTTPS_PROXY", "http://env:3"), ("NO_PROXY", "localhost, sentry.io")], NoProxy),
            ("NO_PROXY suffix with leading dot", HTTPS, None, None,
                &[("HTTPS_PROXY", "http://env:3"), ("NO_PROXY", ".sentry.io")], NoProxy),
            ("NO_PROXY suffix with wildcard", HTTPS, None, None,
                &[("HTTPS_PROXY", "http://env:3"), ("NO_PROXY", "*.sentry.io")], NoProxy),
            ("NO_PROXY is case-insensitive", HTTPS, None, None,
                &[("HTTPS_PROXY", "http://env:3"), ("NO_PROXY", "INGEST.Sentry.IO")], NoProxy),
            ("NO_PROXY suffix needs a dot boundary", HTTPS, None, None,
                &[("HTTPS_PROXY", "http://env:3"), ("NO_PROXY", "entry.io,ingest.sentry")], Proxy("http://env:3", Env("HTTPS_PROXY"))),
            ("NO_PROXY star", HTTP, None, None, &[("HTTP_PROXY", "http://env:4"), ("NO_PROXY", "*")], NoProxy),
            ("NO_PROXY port matches", HTTP, None, None,
                &[("HTTP_PROXY", "http://env:4"), ("NO_PROXY", "sentry.local:9000")], NoProxy),
            ("NO_PROXY other port", HTTP, None, None,
                &[("HTTP_PROXY", "http://env:4"), ("NO_PROXY", "sentry.local:9001")], Proxy("http://env:4", Env("HTTP_PROXY"))),
            ("NO_PROXY default port", HTTPS, None, None,
                &[("HTTPS_PROXY", "http://env:3"), ("NO_PROXY", "sentry.io:443")], NoProxy),
            ("NO_PROXY does not apply to options", HTTPS, None, Some("http://a:1"),
                &[("NO_PROXY", "*")], Proxy("http://a:1", HttpsProxyOption)),
            ("NO_PROXY skips to the http option", HTTPS, Some("http://b:2"), None,
                &[("HTTPS_PROXY", "http://env:3"), ("NO_PROXY", "sentry.io")], Proxy("http://b:2", HttpProxyOption)),
            ("empty NO_PROXY entries are ignored", HTTPS, None, None,
                &[("HTTPS_PROXY", "http://env:3"), ("NO_PROXY", ",, ,")], Proxy("http://env:3", Env("HTTPS_PROXY"))),
            ("NO_PROXY without a proxy is direct", HTTPS, None, None, &[("NO_PROXY", "*")], Direct),
            ("unparseable target", "not a url", Some("http://b:2"), None, &[], Direct),
        ];
        for (name, target, http, https, env, want) in rows {
            let got = select_proxy(target, http, https, env_of(env));
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn no_proxy_addresses_table() {
        #[rustfmt::skip]
        let rows: &[(&str, &str, bool)] = &[
            ("http://127.0.0.1:8080/", "127.0.0.1", true),
            ("http://127.0.0.1:8080/", "127.0.0.1:8080", true),
            ("http://127.0.0.1:8080/", "127.0.0.1:8081", false),
            ("http://127.0.0.1:8080/", "127.0.0.2", false),
            ("http://127.0.0.1:8080/", "27.0.0.1", false),
            ("http://127.0.0.1:8080/", "127.0.0.0/8", true),
            ("http://127.0.0.1:8080/", "10.0.0.0/8", false),
            ("http://127.0.0.1:8080/", "0.0.0.0/0", true),
            ("http://127.0.0.1:8080/", "127.0.0.1/33", false),
            ("http://[::1]:8080/", "::1", true),
            ("http://[::1]:8080/", "[::1]", true),
            ("http://[::1]:8080/", "[::1]:8080", true),
            ("http://[::1]:8080/", "[::1]:9", false),
            ("http://[::1]:8080/", "0:0:0:0:0:0:0:1", true),
            ("http://[::1]:8080/", "::/0", true),
            ("http://[::1]:8080/", "127.0.0.1", false),
            ("http://[fd00::5]/", "fd00::/8", true),
            ("http://localhost/", "localhost", true),
            ("http://localhost/", "LOCALHOST:80", true),
            ("http://localhost/", "localhost:abc", false),
            ("http://localhost./", "localhost", true),
            ("http://a.b.example.com/", "example.com.", true),
            ("http://a.b.example.com/", ".", false),
            ("http://a.b.example.com/", "*.", false),
        ];
        for &(target, entry, listed) in rows {
            let parsed = Target::parse(target).expect("target parses");
            assert_eq!(
                parsed.is_listed_in(Some(entry.to_owned())),
                listed,
                "{target} against NO_PROXY={entry}"
            );
        }
    }

    #[test]
    fn credentials_are_redacted() {
        assert_eq!(
            redact_userinfo("http://user:pa%40ss@proxy:3128/x?y=@"),
            "http://***@proxy:3128/x?y=@"
        );
        assert_eq!(redact_userinfo("user:pw@proxy:3128"), "***@proxy:3128");
        assert_eq!(redact_userinfo("http://proxy:3128"), "http://proxy:3128");
        let selection = ProxySelection::Proxy {
            url: "http://user:hunter2@proxy:3128".into(),
            source: ProxySource::Env("HTTPS_PROXY"),
        };
        for text in [format!("{selection:?}"), selection.to_string()] {
            assert!(!text.contains("hunter2"), "{text}");
            assert!(text.contains("proxy:3128"), "{text}");
        }
    }

    #[test]
    fn only_http_proxies_are_built() {
        assert!(to_ureq_proxy("http://127.0.0.1:3128").is_ok());
        assert!(to_ureq_proxy("https://proxy.example:443").is_ok());
        assert!(to_ureq_proxy("127.0.0.1:3128").is_ok());
        assert!(to_ureq_proxy("socks5://127.0.0.1:1080").is_err());
        assert!(to_ureq_proxy("ftp://proxy").is_err());
        assert!(to_ureq_proxy("http://[::1").is_err());
        assert!(to_ureq_proxy("").is_err());
    }

    #[test]
    fn selection_forms_hide_credentials() {
        let env = |_: &str| None;
        let selection = select_proxy(
            "https://o1.ingest.sentry.io/api/1/envelope/",
            None,
            Some("http://user:secret@proxy.internal:3128"),
            env,
        );
        assert_eq!(
            selection.url(),
            Some("http://user:secret@proxy.internal:3128")
        );
        assert!(!format!("{selection:?}").contains("secret"));
        assert!(!selection.to_string().contains("secret"));
    }

    #[test]
    fn selection_follows_the_documented_order() {
        use std::collections::HashMap;

        let env: HashMap<&str, &str> = HashMap::from([
            ("HTTPS_PROXY", "http://proxy.internal:3128"),
            ("NO_PROXY", "localhost,.internal.example"),
        ]);
        let lookup = |name: &str| env.get(name).map(|value| value.to_string());

        let selection = select_proxy(
            "https://o1.ingest.sentry.io/api/1/envelope/",
            None,
            None,
            lookup,
        );
        assert_eq!(selection.url(), Some("http://proxy.internal:3128"));
        assert_eq!(selection.source(), Some(ProxySource::Env("HTTPS_PROXY")));

        // NO_PROXY lists the host: straight there.
        let selection = select_proxy(
            "https://sentry.internal.example/api/1/envelope/",
            None,
            None,
            lookup,
        );
        assert_eq!(selection, ProxySelection::NoProxy);

        // An explicit option beats the environment.
        let selection = select_proxy(
            "https://o1.ingest.sentry.io/api/1/envelope/",
            None,
            Some("http://other.proxy:8080"),
            lookup,
        );
        assert_eq!(selection.source(), Some(ProxySource::HttpsProxyOption));
    }
}
