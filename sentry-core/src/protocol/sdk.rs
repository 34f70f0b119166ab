//! Information about the SDK that sent an event.

use sentry_minimal::Value;
use serde::{Deserialize, Serialize};

use super::json;

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

impl ClientSdkInfo {
    /// Reads the `sdk` interface from parsed JSON, accepting what the derived `Deserialize`
    /// accepts, without linking it (see [`json`]).
    pub(crate) fn from_json(value: Value) -> Result<Self, String> {
        let [name, version, integrations, packages] = json::struct_fields(
            value,
            ["name", "version", "integrations", "packages"],
            "struct ClientSdkInfo",
        )?;
        Ok(ClientSdkInfo {
            name: json::required_string("name", name)?,
            version: json::required_string("version", version)?,
            integrations: json::vec_or_empty("integrations", integrations, json::string)?,
            packages: json::vec_or_empty("packages", packages, ClientSdkPackage::from_json)?,
        })
    }
}

impl ClientSdkPackage {
    /// Reads a package from parsed JSON (see [`ClientSdkInfo::from_json`]).
    fn from_json(value: Value) -> Result<Self, String> {
        let [name, version] =
            json::struct_fields(value, ["name", "version"], "struct ClientSdkPackage")?;
        Ok(ClientSdkPackage {
            name: json::required_string("name", name)?,
            version: json::required_string("version", version)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::value_from_json;
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
        assert_eq!(
            serde_json::from_value::<ClientSdkInfo>(json.clone()).unwrap(),
            sdk
        );
        assert_eq!(ClientSdkInfo::from_json(value_from_json(json)), Ok(sdk));
    }

    #[test]
    fn from_json_accepts_and_rejects_what_the_derived_impl_does() {
        let inputs = [
            json!({"name": "a", "version": "1"}),
            json!({"name": "a", "version": "1", "extra": {"x": 1}}),
            json!({"name": "a", "version": "1", "integrations": [], "packages": []}),
            json!({"name": "a", "version": "1", "packages": [{"name": "p", "version": "2"}]}),
            json!({"name": "a", "version": "1", "packages": [["p", "2"]]}),
            json!(["a", "1"]),
            json!(["a", "1", ["i"], [{"name": "p", "version": "2"}]]),
            json!(["a", "1", ["i"], [], 5]),
            json!(["a"]),
            json!([]),
            json!({"name": "a"}),
            json!({"version": "1"}),
            json!({"name": null, "version": "1"}),
            json!({"name": 1, "version": "1"}),
            json!({"name": "a", "version": "1", "integrations": null}),
            json!({"name": "a", "version": "1", "integrations": ["x", 2]}),
            json!({"name": "a", "version": "1", "integrations": "x"}),
            json!({"name": "a", "version": "1", "packages": [{"name": "p"}]}),
            json!({"name": "a", "version": "1", "packages": [1]}),
            json!({"name": "a", "version": "1", "packages": {}}),
            json!("sdk"),
            json!(7),
            json!(null),
        ];
        for input in inputs {
            let derived = serde_json::from_value::<ClientSdkInfo>(input.clone());
            let by_hand = ClientSdkInfo::from_json(value_from_json(input.clone()));
            match (derived, by_hand) {
                (Ok(derived), Ok(by_hand)) => assert_eq!(derived, by_hand, "{input}"),
                (Err(_), Err(error)) => assert!(!error.is_empty()),
                (derived, by_hand) => panic!("{input}: derived {derived:?}, by hand {by_hand:?}"),
            }
        }
        assert_eq!(
            ClientSdkInfo::from_json(value_from_json(
                json!({"name": "a", "version": "1", "integrations": [3]})
            )),
            Err("`integrations`: invalid type: integer `3`, expected a string".to_owned())
        );
    }
}
