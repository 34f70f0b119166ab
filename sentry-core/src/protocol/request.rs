//! The HTTP request an event happened in.

use sentry_minimal::{SortedMap, Value};
use serde::{Deserialize, Serialize};

use super::minimal_serde::{sorted_map, wire};

/// The HTTP request being handled when the event happened.
///
/// The SDK fills this in only from integrations; headers and cookies that look sensitive are
/// filtered before sending (see the client's PII handling).
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::Request;
///
/// let mut request = Request {
///     method: Some("GET".into()),
///     url: Some("https://example.com/items".into()),
///     query_string: Some("page=2".into()),
///     ..Request::default()
/// };
/// request.headers.insert("Accept".into(), "application/json".into());
/// let json = serde_json::to_value(&request).unwrap();
/// assert_eq!(json["headers"]["Accept"], "application/json");
/// assert!(json.get("cookies").is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The HTTP method, such as `"GET"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The URL without the query string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The query string, without the leading `?`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_string: Option<String>,
    /// The request body, as a string or structured data.
    #[serde(default, with = "wire", skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// The `Cookie` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookies: Option<String>,
    /// The request headers.
    #[serde(
        default,
        with = "sorted_map",
        skip_serializing_if = "SortedMap::is_empty"
    )]
    pub headers: SortedMap<String, String>,
    /// Server environment data, such as `REMOTE_ADDR`.
    #[serde(
        default,
        with = "sorted_map",
        skip_serializing_if = "SortedMap::is_empty"
    )]
    pub env: SortedMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips() {
        let mut request = Request {
            method: Some("POST".into()),
            url: Some("https://example.com/x".into()),
            query_string: Some("a=1".into()),
            data: Some("body".into()),
            cookies: Some("c=1".into()),
            ..Request::default()
        };
        request.headers.insert("Host".into(), "example.com".into());
        request.env.insert("REMOTE_ADDR".into(), "127.0.0.1".into());
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(
            json,
            json!({"method": "POST", "url": "https://example.com/x", "query_string": "a=1",
                   "data": "body", "cookies": "c=1", "headers": {"Host": "example.com"},
                   "env": {"REMOTE_ADDR": "127.0.0.1"}})
        );
        assert_eq!(serde_json::from_value::<Request>(json).unwrap(), request);
        assert_eq!(serde_json::to_value(Request::default()).unwrap(), json!({}));
    }
}
