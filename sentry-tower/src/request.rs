//! The request as events and transactions describe it: the `request` interface, built only
//! when something is sent.

use http::header::{HeaderMap, HOST};
use http::{Method, Uri};
use sentry_core::protocol::Request;
use sentry_core::Value;

use crate::scrub;

/// What the layer keeps of a request for the `request` interface: the method, URI and
/// headers (cheap clones: `http` shares their bytes), converted and filtered only when an
/// event or a sampled transaction is sent, so a request that sends nothing pays for no
/// strings.
#[derive(Debug)]
pub(crate) struct RequestInfo {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    send_pii: bool,
}

impl RequestInfo {
    /// Keeps what the interface needs of `request`; `send_pii` is the client's
    /// `send_default_pii`.
    pub(crate) fn new<B>(request: &http::Request<B>, send_pii: bool) -> RequestInfo {
        RequestInfo {
            method: request.method().clone(),
            uri: request.uri().clone(),
            headers: request.headers().clone(),
            send_pii,
        }
    }

    /// The `request` interface, filtered (see [`scrub`]).
    pub(crate) fn to_protocol(&self) -> Request {
        let mut request = Request {
            method: Some(self.method.as_str().to_owned()),
            url: Some(self.url()),
            query_string: self.uri.query().filter(|q| !q.is_empty()).map(scrub::query),
            ..Request::default()
        };
        // `iter` yields every value, those of one name one after the other.
        let mut pending: Option<(&str, String)> = None;
        for (name, value) in &self.headers {
            let name = name.as_str();
            let text = String::from_utf8_lossy(value.as_bytes());
            match &mut pending {
                Some((current, joined)) if *current == name => {
                    joined.push_str(if name == "cookie" { "; " } else { ", " });
                    joined.push_str(&text);
                }
                _ => {
                    if let Some((name, joined)) = pending.take() {
                        self.add_header(&mut request, name, joined);
                    }
                    pending = Some((name, text.into_owned()));
                }
            }
        }
        if let Some((name, joined)) = pending {
            self.add_header(&mut request, name, joined);
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
        let mut out = Vec::with_capacity(self.headers.keys_len() + 3);
        out.push((
            "http.request.method".to_owned(),
            self.method.as_str().into(),
        ));
        let mut url = self.url();
        if let Some(query) = self.uri.query().filter(|q| !q.is_empty()) {
            url.push('?');
            url.push_str(&scrub::query(query));
        }
        out.push(("url.full".to_owned(), url.into()));
        out.push(("url.path".to_owned(), self.uri.path().into()));
        for name in self.headers.keys() {
            let name = name.as_str();
            let values: Vec<Value> = self
                .headers
                .get_all(name)
                .iter()
                .map(|value| {
                    let text = String::from_utf8_lossy(value.as_bytes());
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
        }
        out
    }

    /// `scheme://host[:port]/path`: the scheme and authority of the URI when it has them
    /// (HTTP/2, proxies), else `http` and the `Host` header; never the user information or
    /// the query.
    fn url(&self) -> String {
        let scheme = self.uri.scheme_str().unwrap_or("http");
        let host = match self.uri.authority() {
            Some(authority) => Some(authority.as_str().rsplit('@').next().unwrap_or_default()),
            None => self.headers.get(HOST).and_then(|h| h.to_str().ok()),
        };
        match host {
            Some(host) if !host.is_empty() => format!("{scheme}://{host}{}", self.uri.path()),
            _ => self.uri.path().to_owned(),
        }
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
