//! Information about the SDK that sent an event.

use serde::{Deserialize, Serialize};

/// The SDK that sent an event or envelope (the `sdk` interface).
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{ClientSdkInfo, ClientSdkPackage};
///
/// let sdk = ClientSdkInfo {
///     name: "sentry.rust".into(),
///     version: "0.1.0".into(),
///     integrations: vec!["panic".into()],
///     packages: vec![ClientSdkPackage { name: "cargo:sentry".into(), version: "0.1.0".into() }],
/// };
/// let json = serde_json::to_value(&sdk).unwrap();
/// assert_eq!(json["packages"][0]["name"], "cargo:sentry");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSdkInfo {
    /// The SDK name, such as `"sentry.rust"`.
    pub name: String,
    /// The SDK version, plain semver.
    pub version: String,
    /// The names of the enabled integrations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub integrations: Vec<String>,
    /// The packages that make up the SDK.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<ClientSdkPackage>,
}

/// A package that is part of the SDK.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSdkPackage {
    /// `{source}:{identifier}`, such as `"cargo:sentry-core"`.
    pub name: String,
    /// The package version.
    pub version: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips() {
        let sdk = ClientSdkInfo {
            name: "sentry.rust".into(),
            version: "1.2.3".into(),
            integrations: vec!["a".into()],
            packages: vec![ClientSdkPackage {
                name: "cargo:sentry".into(),
                version: "1.2.3".into(),
            }],
        };
        let json = serde_json::to_value(&sdk).unwrap();
        assert_eq!(
            json,
            json!({"name": "sentry.rust", "version": "1.2.3", "integrations": ["a"],
                   "packages": [{"name": "cargo:sentry", "version": "1.2.3"}]})
        );
        assert_eq!(serde_json::from_value::<ClientSdkInfo>(json).unwrap(), sdk);
    }
}
