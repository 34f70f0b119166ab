//! The user affected by an event.

use crate::Map;

/// The user affected by an event.
///
/// Nothing here is collected automatically: the application sets it explicitly.
///
/// # Examples
///
/// ```
/// use sentry_minimal::User;
///
/// let user = User { id: Some("42".into()), email: Some("ada@example.com".into()), ..User::default() };
/// assert_eq!(user.id.as_deref(), Some("42"));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct User {
    /// The application's identifier for the user.
    pub id: Option<String>,
    /// The user's email address.
    pub email: Option<String>,
    /// The user's name.
    pub username: Option<String>,
    /// The user's IP address; `"{{auto}}"` asks Sentry to use the connection's address.
    pub ip_address: Option<String>,
    /// Any other data about the user.
    pub other: Map,
}
