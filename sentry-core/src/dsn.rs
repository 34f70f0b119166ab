//! The DSN (Data Source Name): where to send events and how to authenticate.
//!
//! A DSN looks like `{PROTOCOL}://{PUBLIC_KEY}[:{SECRET_KEY}]@{HOST}[:{PORT}]{PATH}/{PROJECT_ID}`,
//! for example `https://public@o0.ingest.sentry.io/42`. The SDK posts envelopes to
//! [`Dsn::envelope_url`] with the [`Dsn::auth_header`] as `X-Sentry-Auth`.
//!
//! # Examples
//!
//! ```
//! use sentry_core::dsn::{Dsn, Scheme};
//!
//! let dsn: Dsn = "https://abc123@o17.ingest.sentry.io/42".parse()?;
//! assert_eq!(dsn.scheme(), Scheme::Https);
//! assert_eq!(dsn.public_key(), "abc123");
//! assert_eq!(dsn.host(), "o17.ingest.sentry.io");
//! assert_eq!(dsn.port(), 443);
//! assert_eq!(dsn.project_id(), "42");
//! assert_eq!(dsn.org_id(), Some(17));
//! assert_eq!(dsn.envelope_url(), "https://o17.ingest.sentry.io/api/42/envelope/");
//! assert_eq!(
//!     dsn.auth_header("sentry.rust/0.1.0"),
//!     "Sentry sentry_version=7, sentry_client=sentry.rust/0.1.0, sentry_key=abc123"
//! );
//! # Ok::<(), sentry_core::dsn::DsnError>(())
//! ```

use std::error::Error;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// The shape every DSN must have, quoted in error messages.
const EXPECTED_SHAPE: &str =
    "expected {PROTOCOL}://{PUBLIC_KEY}[:{SECRET_KEY}]@{HOST}[:{PORT}][/{PATH}]/{PROJECT_ID}, \
     such as https://public@o0.ingest.sentry.io/42";

/// The protocol of a DSN: `http` or `https`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP (local development and self-hosted setups).
    Http,
    /// HTTPS.
    Https,
}

impl Scheme {
    /// `"http"` or `"https"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// The port used when the DSN names none: 80 or 443.
    pub const fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything that can be wrong with a DSN string.
///
/// The [`Display`](fmt::Display) output says what is wrong and shows the expected shape.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DsnError {
    /// The string is empty or only whitespace. An empty DSN is how an application disables the
    /// SDK; the options layer treats this variant as "disabled" rather than as a mistake.
    Empty,
    /// There is no `scheme://` prefix.
    MissingScheme,
    /// The scheme is not `http` or `https`; holds the scheme found.
    UnsupportedScheme(String),
    /// There is no public key before the `@`.
    MissingPublicKey,
    /// There is no host after the `@`.
    MissingHost,
    /// The port is not a number from 1 to 65535; holds the port text found.
    InvalidPort(String),
    /// There is no project id after the host.
    MissingProjectId,
    /// The project id is not a decimal number that fits in 64 bits (Sentry's project ids are
    /// numbers); holds the project id found.
    InvalidProjectId(String),
    /// The host is not a valid host name, IPv4 address or bracketed IPv6 address: an empty or
    /// over-long label, a label that starts or ends with `-` or has no letter or digit, or a
    /// malformed address. Holds the host found.
    InvalidHost(String),
    /// A path segment is `.` or `..`, or has a `%` not followed by two hex digits; holds the
    /// segment found.
    InvalidPath(String),
    /// A character that cannot appear in that part of a DSN (whitespace, control characters,
    /// `?`, `#` or other URL delimiters).
    InvalidCharacter {
        /// Which part of the DSN holds it: `"public key"`, `"secret key"`, `"host"` or `"path"`.
        part: &'static str,
        /// The offending character.
        found: char,
    },
}

impl fmt::Display for DsnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DsnError::Empty => f.write_str("the DSN is empty")?,
            DsnError::MissingScheme => {
                f.write_str("the DSN has no scheme (http:// or https://)")?
            }
            DsnError::UnsupportedScheme(scheme) => write!(
                f,
                "the DSN scheme {:?} is not supported (use http or https)",
                shown(scheme)
            )?,
            DsnError::MissingPublicKey => {
                f.write_str("the DSN has no public key (the part before '@')")?
            }
            DsnError::MissingHost => f.write_str("the DSN has no host")?,
            DsnError::InvalidPort(port) => write!(
                f,
                "the DSN port {:?} is not a number from 1 to 65535",
                shown(port)
            )?,
            DsnError::MissingProjectId => f.write_str("the DSN has no project id")?,
            DsnError::InvalidProjectId(id) => write!(
                f,
                "the DSN project id {:?} is not a number from 0 to 18446744073709551615",
                shown(id)
            )?,
            DsnError::InvalidHost(host) => write!(
                f,
                "the DSN host {:?} is not a valid host name or IP address",
                shown(host)
            )?,
            DsnError::InvalidPath(segment) => write!(
                f,
                "the DSN path segment {:?} is not allowed ('.', '..' or a bad %-escape)",
                shown(segment)
            )?,
            DsnError::InvalidCharacter { part, found } => {
                write!(f, "the DSN {part} contains the invalid character {found:?}")?
            }
        }
        write!(f, "; {EXPECTED_SHAPE}")
    }
}

impl Error for DsnError {}

/// At most the first 64 characters of a part quoted in an error message, so a hostile DSN
/// cannot make a megabyte-long log line.
fn shown(part: &str) -> &str {
    match part.char_indices().nth(64) {
        Some((end, _)) => &part[..end],
        None => part,
    }
}

/// A parsed DSN.
///
/// Parse one with [`str::parse`]. [`Display`](fmt::Display) writes the DSN back (secret key
/// included, so it round-trips); [`Debug`](fmt::Debug) never shows the secret key.
///
/// # Examples
///
/// ```
/// use sentry_core::dsn::Dsn;
///
/// let dsn: Dsn = "http://public:secret@[::1]:9000/sentry/7".parse().unwrap();
/// assert_eq!(dsn.host(), "[::1]");
/// assert_eq!(dsn.path(), "/sentry");
/// assert_eq!(dsn.envelope_url(), "http://[::1]:9000/sentry/api/7/envelope/");
/// assert_eq!(dsn.to_string(), "http://public:secret@[::1]:9000/sentry/7");
/// assert!(!format!("{dsn:?}").contains("secret\""));
///
/// assert!("".parse::<Dsn>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Dsn {
    scheme: Scheme,
    public_key: String,
    secret_key: Option<String>,
    host: String,
    port: Option<u16>,
    path: String,
    project_id: String,
    /// The organization id read from the host when the DSN was parsed, as a number and in
    /// decimal: every continued trace compares it, so it is neither re-read nor re-formatted.
    org_id: Option<OrgId>,
}

/// A DSN's organization id, in both forms the SDK uses.
#[derive(Clone, PartialEq, Eq, Hash)]
struct OrgId {
    id: u64,
    /// `id` in decimal (as `sentry-org_id` and `strict_trace_continuation` compare it).
    text: Box<str>,
}

impl OrgId {
    /// The organization id of `host`, for hosts of the form `o{ORG_ID}.ingest[.{REGION}].sentry.io`.
    fn from_host(host: &str) -> Option<OrgId> {
        let mut labels = host.split('.');
        let first = labels.next()?;
        if labels.next() != Some("ingest") {
            return None;
        }
        let digits = first.strip_prefix('o')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let id: u64 = digits.parse().ok()?;
        Some(OrgId {
            id,
            text: id.to_string().into_boxed_str(),
        })
    }
}

impl Dsn {
    /// The protocol.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The public key, which authenticates the SDK.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The secret key, if the DSN has one. Secret keys are deprecated; Sentry no longer
    /// requires them.
    pub fn secret_key(&self) -> Option<&str> {
        self.secret_key.as_deref()
    }

    /// The host as written in URLs. IPv6 addresses keep their brackets (`[::1]`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port: the one in the DSN, or the scheme's default (80 or 443).
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }

    /// The path prefix between the host and the project id, such as `/sentry`. Empty for most
    /// DSNs; it never ends with `/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The project id.
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// The organization id, for hosts of the form `o{ORG_ID}.ingest[.{REGION}].sentry.io`.
    pub fn org_id(&self) -> Option<u64> {
        self.org_id.as_ref().map(|org| org.id)
    }

    /// [`org_id`](Self::org_id) in decimal, read once when the DSN was parsed.
    pub(crate) fn org_id_text(&self) -> Option<&str> {
        self.org_id.as_ref().map(|org| &*org.text)
    }

    /// `{host}` or `{host}:{port}` when the port is not the scheme's default.
    fn authority(&self) -> String {
        match self.port {
            Some(port) if port != self.scheme.default_port() => format!("{}:{port}", self.host),
            _ => self.host.clone(),
        }
    }

    /// The URL envelopes are posted to:
    /// `{scheme}://{host}[:{port}]{path}/api/{project_id}/envelope/`. The port is written only
    /// when it is not the scheme's default.
    pub fn envelope_url(&self) -> String {
        format!(
            "{}://{}{}/api/{}/envelope/",
            self.scheme,
            self.authority(),
            self.path,
            self.project_id
        )
    }

    /// The value of the `X-Sentry-Auth` header:
    /// `Sentry sentry_version=7, sentry_client={client}, sentry_key={public_key}`, followed by
    /// `, sentry_secret={secret_key}` only when the DSN has a secret key.
    ///
    /// `client` is the SDK's `name/version`, such as `sentry.rust/0.1.0`.
    pub fn auth_header(&self, client: &str) -> String {
        let mut header = format!(
            "Sentry sentry_version=7, sentry_client={client}, sentry_key={}",
            self.public_key
        );
        if let Some(secret) = &self.secret_key {
            header.push_str(", sentry_secret=");
            header.push_str(secret);
        }
        header
    }
}

impl fmt::Display for Dsn {
    /// Writes the DSN in its parseable form, including the secret key if there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.public_key)?;
        if let Some(secret) = &self.secret_key {
            write!(f, ":{secret}")?;
        }
        write!(f, "@{}", self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        write!(f, "{}/{}", self.path, self.project_id)
    }
}

impl fmt::Debug for Dsn {
    /// Shows every part except the secret key, which appears as `"***"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dsn")
            .field("scheme", &self.scheme)
            .field("public_key", &self.public_key)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field("host", &self.host)
            .field("port", &self.port())
            .field("path", &self.path)
            .field("project_id", &self.project_id)
            .finish()
    }
}

/// Characters allowed in keys: URL "unreserved" characters.
fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~')
}

fn check_chars(
    part: &'static str,
    s: &str,
    allowed: impl Fn(char) -> bool,
) -> Result<(), DsnError> {
    match s.chars().find(|&c| !allowed(c)) {
        Some(found) => Err(DsnError::InvalidCharacter { part, found }),
        None => Ok(()),
    }
}

/// A DNS name or dotted IPv4 address: at most 253 characters of labels separated by single
/// dots; each label 1 to 63 characters, with at least one letter or digit, not starting or ending
/// with `-` (`_` is tolerated, as container and internal names use it). A name whose labels are
/// all digits must be a valid IPv4 address. The caller has already checked the characters.
fn is_valid_host_name(host: &str) -> bool {
    if host.len() > 253 {
        return false;
    }
    let labels_ok = host.split('.').all(|label| {
        (1..=63).contains(&label.len())
            && label.bytes().any(|b| b.is_ascii_alphanumeric())
            && !label.starts_with('-')
            && !label.ends_with('-')
    });
    let numeric = host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    labels_ok && (!numeric || host.parse::<Ipv4Addr>().is_ok())
}

/// A path segment between slashes: not `.` or `..` (a server would resolve them away, so the
/// URL would not be the one the DSN names), and every `%` followed by two hex digits.
fn is_valid_path_segment(segment: &str) -> bool {
    if segment == "." || segment == ".." {
        return false;
    }
    let bytes = segment.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || (bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    })
}

/// Splits `host[:port]` (with bracketed IPv6 support) into host and port.
fn parse_host_port(s: &str) -> Result<(String, Option<u16>), DsnError> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return Err(DsnError::InvalidCharacter {
                part: "host",
                found: '[',
            });
        };
        let inner = &rest[..end];
        if inner.is_empty() {
            return Err(DsnError::MissingHost);
        }
        check_chars("host", inner, |c| {
            c.is_ascii_hexdigit() || matches!(c, ':' | '.')
        })?;
        if inner.parse::<Ipv6Addr>().is_err() {
            return Err(DsnError::InvalidHost(format!("[{inner}]")));
        }
        let after = &rest[end + 1..];
        let port = match after {
            "" => None,
            _ => match after.strip_prefix(':') {
                Some(port) => Some(port),
                None => {
                    let found = after.chars().next().unwrap_or(']');
                    return Err(DsnError::InvalidCharacter {
                        part: "host",
                        found,
                    });
                }
            },
        };
        (format!("[{inner}]"), port)
    } else {
        let (host, port) = match s.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (s, None),
        };
        if host.is_empty() {
            return Err(DsnError::MissingHost);
        }
        check_chars("host", host, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')
        })?;
        if !is_valid_host_name(host) {
            return Err(DsnError::InvalidHost(host.to_owned()));
        }
        (host.to_owned(), port)
    };
    let port = match port {
        None => None,
        Some(port) => {
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(DsnError::InvalidPort(port.to_owned()));
            }
            match port.parse::<u16>() {
                Ok(0) | Err(_) => return Err(DsnError::InvalidPort(port.to_owned())),
                Ok(port) => Some(port),
            }
        }
    };
    Ok((host, port))
}

impl FromStr for Dsn {
    type Err = DsnError;

    /// Parses a DSN. Surrounding whitespace is ignored; the scheme is case-insensitive; one
    /// trailing `/` after the project id is tolerated.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(DsnError::Empty);
        }
        let (scheme, rest) = s.split_once("://").ok_or(DsnError::MissingScheme)?;
        let scheme = if scheme.eq_ignore_ascii_case("https") {
            Scheme::Https
        } else if scheme.eq_ignore_ascii_case("http") {
            Scheme::Http
        } else if scheme.is_empty() {
            return Err(DsnError::MissingScheme);
        } else {
            return Err(DsnError::UnsupportedScheme(scheme.to_owned()));
        };

        let (authority, path_and_project) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (userinfo, host_port) = authority
            .rsplit_once('@')
            .ok_or(DsnError::MissingPublicKey)?;
        let (public_key, secret_key) = match userinfo.split_once(':') {
            Some((public, secret)) => (public, Some(secret)),
            None => (userinfo, None),
        };
        if public_key.is_empty() {
            return Err(DsnError::MissingPublicKey);
        }
        check_chars("public key", public_key, is_key_char)?;
        let secret_key = match secret_key {
            Some("") | None => None,
            Some(secret) => {
                check_chars("secret key", secret, is_key_char)?;
                Some(secret.to_owned())
            }
        };
        if host_port.is_empty() {
            return Err(DsnError::MissingHost);
        }
        let (host, port) = parse_host_port(host_port)?;

        let path_and_project = path_and_project
            .strip_suffix('/')
            .unwrap_or(path_and_project);
        let (path, project_id) = path_and_project
            .rsplit_once('/')
            .ok_or(DsnError::MissingProjectId)?;
        if project_id.is_empty() {
            return Err(DsnError::MissingProjectId);
        }
        if !project_id.bytes().all(|b| b.is_ascii_digit()) || project_id.parse::<u64>().is_err() {
            return Err(DsnError::InvalidProjectId(project_id.to_owned()));
        }
        check_chars("path", path, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.' | '~' | '%')
        })?;
        if path.contains("//") || path.ends_with('/') {
            return Err(DsnError::InvalidCharacter {
                part: "path",
                found: '/',
            });
        }
        if let Some(segment) = path
            .split('/')
            .find(|segment| !is_valid_path_segment(segment))
        {
            return Err(DsnError::InvalidPath(segment.to_owned()));
        }

        Ok(Dsn {
            scheme,
            public_key: public_key.to_owned(),
            secret_key,
            org_id: OrgId::from_host(&host),
            host,
            port,
            path: path.to_owned(),
            project_id: project_id.to_owned(),
        })
    }
}

impl TryFrom<&str> for Dsn {
    type Error = DsnError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dsn(s: &str) -> Dsn {
        s.parse()
            .unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
    }

    #[test]
    fn valid_dsns() {
        // (input, scheme, public, secret, host, port, path, project, envelope url)
        type Row = (
            &'static str,
            Scheme,
            &'static str,
            Option<&'static str>,
            &'static str,
            u16,
            &'static str,
            &'static str,
            &'static str,
        );
        let table: &[Row] = &[
            (
                "https://public@sentry.example.com/1",
                Scheme::Https,
                "public",
                None,
                "sentry.example.com",
                443,
                "",
                "1",
                "https://sentry.example.com/api/1/envelope/",
            ),
            (
                "http://public:secret@localhost:9000/42",
                Scheme::Http,
                "public",
                Some("secret"),
                "localhost",
                9000,
                "",
                "42",
                "http://localhost:9000/api/42/envelope/",
            ),
            (
                "https://k@host:443/prefix/deeper/7",
                Scheme::Https,
                "k",
                None,
                "host",
                443,
                "/prefix/deeper",
                "7",
                "https://host/prefix/deeper/api/7/envelope/",
            ),
            (
                "HTTP://k@127.0.0.1:80/7/",
                Scheme::Http,
                "k",
                None,
                "127.0.0.1",
                80,
                "",
                "7",
                "http://127.0.0.1/api/7/envelope/",
            ),
            (
                "  http://k@[::1]:8080/18446744073709551615  \n",
                Scheme::Http,
                "k",
                None,
                "[::1]",
                8080,
                "",
                "18446744073709551615",
                "http://[::1]:8080/api/18446744073709551615/envelope/",
            ),
            (
                "http://k@sentry_relay:3000/a%2Fb/.well-known/5",
                Scheme::Http,
                "k",
                None,
                "sentry_relay",
                3000,
                "/a%2Fb/.well-known",
                "5",
                "http://sentry_relay:3000/a%2Fb/.well-known/api/5/envelope/",
            ),
            (
                "https://k:@[2001:db8::1]/3",
                Scheme::Https,
                "k",
                None,
                "[2001:db8::1]",
                443,
                "",
                "3",
                "https://[2001:db8::1]/api/3/envelope/",
            ),
            (
                "https://a1b2c3@o447951.ingest.us.sentry.io/5394864",
                Scheme::Https,
                "a1b2c3",
                None,
                "o447951.ingest.us.sentry.io",
                443,
                "",
                "5394864",
                "https://o447951.ingest.us.sentry.io/api/5394864/envelope/",
            ),
        ];
        for &(input, scheme, public, secret, host, port, path, project, url) in table {
            let d = dsn(input);
            assert_eq!(d.scheme(), scheme, "{input}");
            assert_eq!(d.public_key(), public, "{input}");
            assert_eq!(d.secret_key(), secret, "{input}");
            assert_eq!(d.host(), host, "{input}");
            assert_eq!(d.port(), port, "{input}");
            assert_eq!(d.path(), path, "{input}");
            assert_eq!(d.project_id(), project, "{input}");
            assert_eq!(d.envelope_url(), url, "{input}");
            // Display round-trips.
            assert_eq!(dsn(&d.to_string()), d, "{input}");
        }
    }

    #[test]
    fn invalid_dsns() {
        let ic = |part, found| DsnError::InvalidCharacter { part, found };
        let table: &[(&str, DsnError)] = &[
            ("", DsnError::Empty),
            ("   \t\n", DsnError::Empty),
            ("public@host/1", DsnError::MissingScheme),
            ("://public@host/1", DsnError::MissingScheme),
            (
                "ftp://public@host/1",
                DsnError::UnsupportedScheme("ftp".into()),
            ),
            ("https://host/1", DsnError::MissingPublicKey),
            ("https://@host/1", DsnError::MissingPublicKey),
            ("https://:secret@host/1", DsnError::MissingPublicKey),
            ("https://public@/1", DsnError::MissingHost),
            ("https://public@:80/1", DsnError::MissingHost),
            ("https://public@[]/1", DsnError::MissingHost),
            (
                "https://public@host:/1",
                DsnError::InvalidPort(String::new()),
            ),
            (
                "https://public@host:http/1",
                DsnError::InvalidPort("http".into()),
            ),
            (
                "https://public@host:70000/1",
                DsnError::InvalidPort("70000".into()),
            ),
            (
                "https://public@host:-1/1",
                DsnError::InvalidPort("-1".into()),
            ),
            (
                "https://public@[::1]:x/1",
                DsnError::InvalidPort("x".into()),
            ),
            ("https://public@host", DsnError::MissingProjectId),
            ("https://public@host/", DsnError::MissingProjectId),
            ("https://public@host//", DsnError::MissingProjectId),
            (
                "https://public@host/1?x=y",
                DsnError::InvalidProjectId("1?x=y".into()),
            ),
            (
                "https://public@host/1#frag",
                DsnError::InvalidProjectId("1#frag".into()),
            ),
            (
                "https://public@host/pro ject",
                DsnError::InvalidProjectId("pro ject".into()),
            ),
            (
                "https://public@host/1.5",
                DsnError::InvalidProjectId("1.5".into()),
            ),
            ("https://pub lic@host/1", ic("public key", ' ')),
            ("https://public:se/cret@host/1", DsnError::MissingPublicKey),
            ("https://public:se#cret@host/1", ic("secret key", '#')),
            ("https://public@ho st/1", ic("host", ' ')),
            ("https://public@host?x/1", ic("host", '?')),
            ("https://public@[::1/1", ic("host", '[')),
            ("https://public@[::g]/1", ic("host", 'g')),
            ("https://public@[::1]x/1", ic("host", 'x')),
            ("https://public@host/a b/1", ic("path", ' ')),
            ("https://public@host/a//1", ic("path", '/')),
            ("https://public@host:0/1", DsnError::InvalidPort("0".into())),
            (
                "https://public@host/my-project",
                DsnError::InvalidProjectId("my-project".into()),
            ),
            (
                "https://public@host/18446744073709551616",
                DsnError::InvalidProjectId("18446744073709551616".into()),
            ),
            ("https://public@-/1", DsnError::InvalidHost("-".into())),
            ("https://public@_/1", DsnError::InvalidHost("_".into())),
            (
                "https://public@....../1",
                DsnError::InvalidHost("......".into()),
            ),
            (
                "https://public@a..b/1",
                DsnError::InvalidHost("a..b".into()),
            ),
            (
                "https://public@-a.b/1",
                DsnError::InvalidHost("-a.b".into()),
            ),
            (
                "https://public@a-.b/1",
                DsnError::InvalidHost("a-.b".into()),
            ),
            (
                "https://public@1.2.3/1",
                DsnError::InvalidHost("1.2.3".into()),
            ),
            (
                "https://public@1.2.3.256/1",
                DsnError::InvalidHost("1.2.3.256".into()),
            ),
            (
                "https://public@[::1::2]/1",
                DsnError::InvalidHost("[::1::2]".into()),
            ),
            (
                "https://public@[1.2]/1",
                DsnError::InvalidHost("[1.2]".into()),
            ),
            (
                "https://public@host/../1",
                DsnError::InvalidPath("..".into()),
            ),
            (
                "https://public@host/a/./1",
                DsnError::InvalidPath(".".into()),
            ),
            (
                "https://public@host/%zz/1",
                DsnError::InvalidPath("%zz".into()),
            ),
            (
                "https://public@host/a%2/1",
                DsnError::InvalidPath("a%2".into()),
            ),
        ];
        for (input, expected) in table {
            assert_eq!(input.parse::<Dsn>().as_ref(), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn oversized_parts_are_rejected() {
        let digits = "9".repeat(100_000);
        let input = format!("https://public@host/{digits}");
        let err = input.parse::<Dsn>().err();
        assert_eq!(err, Some(DsnError::InvalidProjectId(digits)));
        let message = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.len() < 400, "{} bytes", message.len());
        let label = "a".repeat(64);
        let input = format!("https://public@{label}.example.com/1");
        assert!(matches!(
            input.parse::<Dsn>(),
            Err(DsnError::InvalidHost(_))
        ));
        let long_host = ["abc"; 70].join(".");
        assert!(long_host.len() > 253);
        let input = format!("https://public@{long_host}/1");
        assert!(matches!(
            input.parse::<Dsn>(),
            Err(DsnError::InvalidHost(_))
        ));
        dsn(&format!("https://public@{}.example.com/1", "a".repeat(63)));
    }

    #[test]
    fn error_messages_explain() {
        let err = "ftp://k@h/1".parse::<Dsn>().err();
        let msg = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("\"ftp\""), "{msg}");
        assert!(msg.contains("{PROTOCOL}://{PUBLIC_KEY}"), "{msg}");
        let err: Box<dyn Error> = Box::new(DsnError::MissingHost);
        assert!(err.to_string().starts_with("the DSN has no host;"));
    }

    #[test]
    fn auth_header_includes_secret_only_when_present() {
        assert_eq!(
            dsn("https://pub@host/1").auth_header("sentry.rust/1.0.0"),
            "Sentry sentry_version=7, sentry_client=sentry.rust/1.0.0, sentry_key=pub"
        );
        assert_eq!(
            dsn("https://pub:sec@host/1").auth_header("sentry.rust/1.0.0"),
            "Sentry sentry_version=7, sentry_client=sentry.rust/1.0.0, sentry_key=pub, sentry_secret=sec"
        );
    }

    #[test]
    fn display_round_trips_with_secret_and_debug_hides_it() {
        let d = dsn("https://pub:topsecret@host:8443/p/1");
        assert_eq!(d.to_string(), "https://pub:topsecret@host:8443/p/1");
        let debug = format!("{d:?}");
        assert!(!debug.contains("topsecret"), "{debug}");
        assert!(debug.contains(r#"secret_key: Some("***")"#), "{debug}");
        assert!(debug.contains(r#"public_key: "pub""#), "{debug}");
        let plain = format!("{:?}", dsn("https://pub@host/1"));
        assert!(plain.contains("secret_key: None"), "{plain}");
        // An explicit default port is kept in Display but left out of the URL.
        let d = dsn("https://pub@host:443/1");
        assert_eq!(d.to_string(), "https://pub@host:443/1");
        assert_eq!(d.envelope_url(), "https://host/api/1/envelope/");
    }

    #[test]
    fn org_id_from_ingest_hosts() {
        assert_eq!(dsn("https://k@o1.ingest.sentry.io/1").org_id(), Some(1));
        assert_eq!(
            dsn("https://k@o123.ingest.de.sentry.io/1").org_id(),
            Some(123)
        );
        assert_eq!(
            dsn("https://k@o123.ingest.us.sentry.io/1").org_id(),
            Some(123)
        );
        assert_eq!(dsn("https://k@sentry.io/1").org_id(), None);
        assert_eq!(dsn("https://k@o1x.ingest.sentry.io/1").org_id(), None);
        assert_eq!(dsn("https://k@o-1.ingest.sentry.io/1").org_id(), None);
        assert_eq!(dsn("https://k@xo1.ingest.sentry.io/1").org_id(), None);
        assert_eq!(dsn("https://k@o.ingest.sentry.io/1").org_id(), None);
        assert_eq!(dsn("https://k@oabc.ingest.sentry.io/1").org_id(), None);
        assert_eq!(dsn("https://k@o12.sentry.io/1").org_id(), None);
        assert_eq!(dsn("https://k@[::1]/1").org_id(), None);
        assert_eq!(
            dsn("https://k@o99999999999999999999999.ingest.sentry.io/1").org_id(),
            None
        );
    }

    #[test]
    fn try_from_str() {
        assert_eq!(Dsn::try_from("https://k@h/1"), "https://k@h/1".parse());
    }
}
