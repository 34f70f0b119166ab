//! The request as events and transactions describe it: the `request` interface, built only
//! when something is sent.

use std::net::{IpAddr, SocketAddr};

use http::header::HOST;
use sentry_core::protocol::Request;
use sentry_core::Value;

use crate::scrub;

/// What the layer keeps of a request for the `request` interface: the method, the URI's
/// parts and every header, copied into one buffer, converted and filtered only when an event
/// or a sampled transaction is sent, so a request that sends nothing pays for one allocation
/// and a copy of its bytes.
///
/// One buffer rather than clones of `http`'s types: a clone of a `HeaderMap` allocates its
/// index and its entries, and every value or name held in a `Bytes` that is not yet shared
/// (a custom header name as `http` parses it, a URI built from a `&str`) allocates again to
/// become shared; all of it is freed with the request. The buffer holds length-prefixed
/// fields: method, scheme, authority, path, query, then each header's name and value in the
/// order `HeaderMap::iter` yields them (a name's values together, names in the order of
/// their first appearance).
#[derive(Debug)]
pub(crate) struct RequestInfo {
    fields: Vec<u8>,
    send_pii: bool,
    /// The client's address (the connection's peer), kept only with `send_pii`.
    remote: Option<IpAddr>,
}

/// The fields before the headers: method, scheme, authority, path, query.
const URI_FIELDS: usize = 5;

/// The bytes a field's length takes.
const PREFIX: usize = 4;

impl RequestInfo {
    /// Keeps what the interface needs of `request`; `send_pii` is the client's
    /// `send_default_pii`.
    pub(crate) fn new<B>(request: &http::Request<B>, send_pii: bool) -> RequestInfo {
        let uri = request.uri();
        let parts: [&[u8]; URI_FIELDS] = [
            request.method().as_str().as_bytes(),
            uri.scheme_str().unwrap_or_default().as_bytes(),
            uri.authority()
                .map(|a| a.as_str())
                .unwrap_or_default()
                .as_bytes(),
            uri.path().as_bytes(),
            uri.query().unwrap_or_default().as_bytes(),
        ];
        let headers = request.headers();
        // Room for typical headers (a name and a value of 40 bytes together), so that a
        // usual request is copied in one allocation without a first pass to size it.
        let size = parts.iter().map(|p| PREFIX + p.len()).sum::<usize>()
            + headers.len() * (2 * PREFIX + 40);
        let mut fields = Vec::with_capacity(size);
        for part in parts {
            push_field(&mut fields, part);
        }
        for (name, value) in headers {
            push_field(&mut fields, name.as_str().as_bytes());
            push_field(&mut fields, value.as_bytes());
        }
        let remote = if send_pii {
            peer_address(request)
        } else {
            None
        };
        RequestInfo {
            fields,
            send_pii,
            remote,
        }
    }

    /// The fields read back: the URI's parts, and the headers after them.
    fn parts(&self) -> Parts<'_> {
        let mut fields = Fields(&self.fields);
        let mut next =
            || std::str::from_utf8(fields.next().unwrap_or_default()).unwrap_or_default();
        let (method, scheme, authority, path, query) = (next(), next(), next(), next(), next());
        Parts {
            method,
            scheme: Some(scheme).filter(|s| !s.is_empty()),
            authority: Some(authority).filter(|a| !a.is_empty()),
            path,
            query: Some(query).filter(|q| !q.is_empty()),
            headers: fields,
        }
    }

    /// Calls `each` with every header name once and its values, in the order a `HeaderMap`
    /// iterates in (names in the order of their first appearance, a name's values together,
    /// in order). The buffer was written in that order, so a name's values are one run.
    fn for_each_header<'a>(&'a self, mut each: impl FnMut(&'a str, &[&'a [u8]])) {
        let mut headers = self.parts().header_pairs().peekable();
        let mut values: Vec<&[u8]> = Vec::new();
        while let Some((name, value)) = headers.next() {
            values.clear();
            values.push(value);
            while let Some((_, value)) = headers.next_if(|(next, _)| *next == name) {
                values.push(value);
            }
            each(name, &values);
        }
    }

    /// The `request` interface, filtered (see [`scrub`]).
    pub(crate) fn to_protocol(&self) -> Request {
        let parts = self.parts();
        let mut request = Request {
            method: Some(parts.method.to_owned()),
            url: Some(parts.url()),
            query_string: parts.query.map(scrub::query),
            ..Request::default()
        };
        self.for_each_header(|name, values| {
            let separator = if name == "cookie" { "; " } else { ", " };
            let mut joined = String::new();
            for (i, value) in values.iter().enumerate() {
                if i > 0 {
                    joined.push_str(separator);
                }
                joined.push_str(&String::from_utf8_lossy(value));
            }
            self.add_header(&mut request, name, joined);
        });
        if let Some(remote) = self.remote {
            // Sentry takes the user's IP address from it.
            request
                .env
                .insert("REMOTE_ADDR".to_owned(), remote.to_string());
        }
        request
    }

    /// Adds the header `name` (all its values, `joined`) to `request`, filtered.
    fn add_header(&self, request: &mut Request, name: &str, joined: String) {
        if name == "cookie" && self.send_pii {
            request.cookies = Some(scrub::cookies(&joined));
        }
        match scrub::header_value(name, &joined, self.send_pii) {
            Some(scrub::FILTERED) => {
                request
                    .headers
                    .insert(name.to_owned(), scrub::FILTERED.to_owned());
            }
            Some(_) => {
                request.headers.insert(name.to_owned(), joined);
            }
            None => {}
        }
    }

    /// The request as attributes of its streamed segment span (`trace_lifecycle = Stream`,
    /// where no `request` interface is sent): `http.request.method`, `url.full` (its query
    /// filtered), `url.path`, and each header as `http.request.header.<name>`, a list of its
    /// values, filtered by the same rules as the interface (a `Cookie` header, with
    /// `send_default_pii`, filtered cookie by cookie).
    pub(crate) fn span_attributes(&self) -> Vec<(String, Value)> {
        let parts = self.parts();
        let mut out = Vec::with_capacity(3);
        out.push(("http.request.method".to_owned(), parts.method.into()));
        let mut url = parts.url();
        if let Some(query) = parts.query {
            url.push('?');
            url.push_str(&scrub::query(query));
        }
        out.push(("url.full".to_owned(), url.into()));
        out.push(("url.path".to_owned(), parts.path.into()));
        if let Some(remote) = self.remote {
            out.push(("client.address".to_owned(), remote.to_string().into()));
        }
        self.for_each_header(|name, values| {
            let values: Vec<Value> = values
                .iter()
                .map(|value| {
                    let text = String::from_utf8_lossy(value);
                    match scrub::header_value(name, &text, self.send_pii) {
                        Some(scrub::FILTERED) => scrub::FILTERED.into(),
                        Some(text) => text.into(),
                        // A `Cookie` header with `send_default_pii`: each cookie filtered
                        // by its name.
                        None => scrub::cookies(&text).into(),
                    }
                })
                .collect();
            out.push((format!("http.request.header.{name}"), Value::Array(values)));
        });
        out
    }
}

/// The address of the connection's peer: axum's `ConnectInfo<SocketAddr>` (with the `axum`
/// feature, when the app is served with `into_make_service_with_connect_info`), or a
/// `SocketAddr` another server put in the request's extensions.
fn peer_address<B>(request: &http::Request<B>) -> Option<IpAddr> {
    let extensions = request.extensions();
    #[cfg(feature = "axum")]
    if let Some(info) = extensions.get::<axum::extract::ConnectInfo<SocketAddr>>() {
        return Some(info.0.ip());
    }
    extensions.get::<SocketAddr>().map(SocketAddr::ip)
}

/// A [`RequestInfo`]'s buffer read back.
struct Parts<'a> {
    method: &'a str,
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    /// The headers' names and values, one after the other.
    headers: Fields<'a>,
}

impl<'a> Parts<'a> {
    /// The headers (name, value) in the order they were copied.
    fn header_pairs(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> {
        let mut fields = Fields(self.headers.0);
        std::iter::from_fn(move || {
            let name = fields.next()?;
            let value = fields.next()?;
            Some((std::str::from_utf8(name).unwrap_or_default(), value))
        })
    }

    /// `scheme://host[:port]/path`: the scheme and authority of the URI when it has them
    /// (HTTP/2, proxies), else `http` and the `Host` header (when it is visible ASCII); never
    /// the user information or the query.
    fn url(&self) -> String {
        let host = match self.authority {
            Some(authority) => Some(authority.rsplit('@').next().unwrap_or_default()),
            None => self
                .header_pairs()
                .find(|(name, _)| *name == HOST.as_str())
                .and_then(|(_, value)| std::str::from_utf8(value).ok())
                .filter(|host| host.bytes().all(|b| b == b'\t' || (32..127).contains(&b))),
        };
        let scheme = self.scheme.unwrap_or("http");
        match host {
            Some(host) if !host.is_empty() => format!("{scheme}://{host}{}", self.path),
            _ => self.path.to_owned(),
        }
    }
}

/// Appends `field` with its length before it. A field longer than `u32::MAX` bytes (which no
/// server accepts) is cut to that.
fn push_field(buffer: &mut Vec<u8>, field: &[u8]) {
    let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
    buffer.extend_from_slice(&len.to_le_bytes());
    buffer.extend_from_slice(field.get(..len as usize).unwrap_or(field));
}

/// The fields of a [`RequestInfo`]'s buffer, in order.
struct Fields<'a>(&'a [u8]);

impl<'a> Iterator for Fields<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (prefix, rest) = self.0.split_first_chunk::<PREFIX>()?;
        let len = u32::from_le_bytes(*prefix) as usize;
        let Some(field) = rest.get(..len) else {
            self.0 = &[];
            return None;
        };
        self.0 = rest.get(len..).unwrap_or_default();
        Some(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(send_pii: bool) -> RequestInfo {
        let request = http::Request::get("/search?q=rust&access_token=abc")
            .header("host", "api.example.com:8080")
            .header("authorization", "Bearer secret")
            .header("cookie", "theme=dark")
            .header("cookie", "sessionid=abc")
            .header("x-forwarded-for", "203.0.113.7")
            .header("accept", "text/html")
            .header("accept", "application/json")
            .body(())
            .unwrap();
        RequestInfo::new(&request, send_pii)
    }

    fn attribute(attributes: &[(String, Value)], key: &str) -> Value {
        attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {key} in {attributes:?}"))
    }

    fn strings(values: &[&str]) -> Value {
        Value::Array(values.iter().map(|v| Value::from(*v)).collect())
    }

    #[test]
    fn span_attributes_follow_the_same_rules() {
        let without = info(false).span_attributes();
        assert_eq!(attribute(&without, "http.request.method"), "GET".into());
        assert_eq!(
            attribute(&without, "url.full"),
            "http://api.example.com:8080/search?q=rust&access_token=[Filtered]".into()
        );
        assert_eq!(attribute(&without, "url.path"), "/search".into());
        assert_eq!(
            attribute(&without, "http.request.header.authorization"),
            strings(&["[Filtered]"])
        );
        assert_eq!(
            attribute(&without, "http.request.header.cookie"),
            strings(&["[Filtered]", "[Filtered]"])
        );
        assert_eq!(
            attribute(&without, "http.request.header.x-forwarded-for"),
            strings(&["[Filtered]"])
        );
        assert_eq!(
            attribute(&without, "http.request.header.accept"),
            strings(&["text/html", "application/json"])
        );

        let with = info(true).span_attributes();
        assert_eq!(
            attribute(&with, "http.request.header.cookie"),
            strings(&["theme=dark", "sessionid=[Filtered]"])
        );
        assert_eq!(
            attribute(&with, "http.request.header.x-forwarded-for"),
            strings(&["203.0.113.7"])
        );
        assert_eq!(
            attribute(&with, "http.request.header.authorization"),
            strings(&["[Filtered]"])
        );
    }

    /// The peer's address is personal data: sent with `send_default_pii` only, as
    /// `env.REMOTE_ADDR` (Sentry's source of the user's IP) and a streamed segment's
    /// `client.address`.
    #[test]
    fn the_peer_address_goes_with_pii_only() {
        let with_peer = |send_pii: bool| {
            let mut request = http::Request::get("/").body(()).unwrap();
            let peer: SocketAddr = "198.51.100.4:50123".parse().unwrap();
            request.extensions_mut().insert(peer);
            RequestInfo::new(&request, send_pii)
        };
        let without = with_peer(false);
        assert!(without.to_protocol().env.is_empty());
        assert!(!without
            .span_attributes()
            .iter()
            .any(|(k, _)| k == "client.address"));
        let with = with_peer(true);
        assert_eq!(with.to_protocol().env["REMOTE_ADDR"], "198.51.100.4");
        assert_eq!(
            attribute(&with.span_attributes(), "client.address"),
            "198.51.100.4".into()
        );
        // No peer known: nothing.
        assert!(info(true).to_protocol().env.is_empty());
    }

    #[test]
    fn without_pii() {
        let request = info(false).to_protocol();
        assert_eq!(request.method.as_deref(), Some("GET"));
        assert_eq!(
            request.url.as_deref(),
            Some("http://api.example.com:8080/search")
        );
        assert_eq!(
            request.query_string.as_deref(),
            Some("q=rust&access_token=[Filtered]")
        );
        assert_eq!(request.cookies, None);
        assert_eq!(request.headers["authorization"], "[Filtered]");
        assert_eq!(request.headers["cookie"], "[Filtered]");
        assert_eq!(request.headers["x-forwarded-for"], "[Filtered]");
        assert_eq!(request.headers["accept"], "text/html, application/json");
    }

    #[test]
    fn with_pii() {
        let request = info(true).to_protocol();
        assert_eq!(
            request.cookies.as_deref(),
            Some("theme=dark; sessionid=[Filtered]")
        );
        assert!(!request.headers.contains_key("cookie"));
        assert_eq!(request.headers["authorization"], "[Filtered]");
        assert_eq!(request.headers["x-forwarded-for"], "203.0.113.7");
        assert_eq!(
            request.query_string.as_deref(),
            Some("q=rust&access_token=[Filtered]")
        );
    }

    /// The buffer reads back what a `HeaderMap` iterates: each name once, in the order of
    /// its first appearance, with all its values in order, however the names interleave.
    #[test]
    fn headers_group_as_a_header_map_does() {
        let request = http::Request::get("/")
            .header("accept", "a")
            .header("x-one", "1")
            .header("cookie", "c=1")
            .header("accept", "b")
            .header("x-one", "2")
            .header("host", "h.example")
            .header("accept", "c")
            .body(())
            .unwrap();
        let info = RequestInfo::new(&request, true);
        let expected: Vec<(&str, Vec<&[u8]>)> = request
            .headers()
            .keys()
            .map(|name| {
                let values = request.headers().get_all(name).iter();
                (name.as_str(), values.map(|v| v.as_bytes()).collect())
            })
            .collect();
        let mut grouped = Vec::new();
        info.for_each_header(|name, values| grouped.push((name, values.to_vec())));
        assert_eq!(grouped, expected);
        let protocol = info.to_protocol();
        assert_eq!(protocol.headers["accept"], "a, b, c");
        assert_eq!(protocol.headers["x-one"], "1, 2");
        assert_eq!(protocol.url.as_deref(), Some("http://h.example/"));
    }

    #[test]
    fn a_host_that_is_not_visible_ascii_is_not_used() {
        let request = http::Request::get("/p")
            .header(
                "host",
                http::HeaderValue::from_bytes(b"h\xe9.example").unwrap(),
            )
            .body(())
            .unwrap();
        let info = RequestInfo::new(&request, false);
        assert_eq!(info.to_protocol().url.as_deref(), Some("/p"));
        assert_eq!(info.to_protocol().headers["host"], "h\u{fffd}.example");
    }

    #[test]
    fn absolute_uri_without_user_information() {
        let request = http::Request::get("https://user:pw@example.com/a?")
            .body(())
            .unwrap();
        let request = RequestInfo::new(&request, true).to_protocol();
        assert_eq!(request.url.as_deref(), Some("https://example.com/a"));
        assert_eq!(request.query_string, None);
    }
}
