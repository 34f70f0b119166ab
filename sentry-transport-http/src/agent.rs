//! How the crate's ureq agents are built, and the one place that uses ureq's `unversioned` API.
//!
//! ureq marks the parts that let a caller plug in its own connector chain, resolver and rustls
//! crypto provider as `unversioned`: they may change in any minor release. Every use of them is
//! in this module (the connector chain, the adapter from ureq's resolver trait to the crate's
//! [`CachingResolver`], the rustls provider hook), which is why the crate pins ureq to one minor version (`~3.5`): a ureq
//! upgrade is a change to this file.

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

use crate::resolver::{CachingResolver, LookupError};

/// The most addresses ureq accepts from a resolver.
const MAX_ADDRS: usize = 16;

/// An agent with `config` and this crate's resolver (see the `resolver` module: no thread
/// and no DNS query per request).
pub(crate) fn new_agent(config: ureq::config::Config) -> ureq::Agent {
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::new(),
        CachingResolver::default(),
    )
}

/// The agent settings shared by every request this crate makes: error statuses are answers,
/// redirects are not followed, and the TLS provider follows the cargo features.
pub(crate) fn agent_config() -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    let builder = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // Sentry does not redirect envelope posts; a redirect is answered as a failure.
        .max_redirects(0);
    #[cfg(feature = "native-tls")]
    let builder = builder.tls_config(
        ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::NativeTls)
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .build(),
    );
    #[cfg(not(feature = "native-tls"))]
    let builder = builder.tls_config(
        ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .root_certs(ureq::tls::RootCerts::WebPki)
            .unversioned_rustls_crypto_provider(crate::tls::provider())
            .build(),
    );
    builder
}

/// ureq's resolver trait over the crate's cache: the URL's `host:port`, its addresses within the
/// request's timeout, filtered by the agent's IP family.
impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return Err(ureq::Error::BadUri(format!("{uri} has no scheme or host")));
        };
        let Some(key) = DefaultResolver::host_and_port(scheme, authority) else {
            return Err(ureq::Error::BadUri(format!("{uri} has no port")));
        };
        let wait = (!timeout.after.is_not_happening()).then(|| *timeout.after);
        let addrs = self.addrs(&key, wait).map_err(|error| match error {
            LookupError::TimedOut => ureq::Error::Timeout(timeout.reason),
            LookupError::NotFound => ureq::Error::HostNotFound,
            LookupError::Io(error) => ureq::Error::Io(error),
        })?;
        let mut resolved = self.empty();
        for addr in config
            .ip_family()
            .keep_wanted(addrs.into_iter())
            .take(MAX_ADDRS)
        {
            resolved.push(addr);
        }
        if resolved.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        Ok(resolved)
    }
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    #[test]
    fn urls_resolve_through_the_cache() {
        let resolver = CachingResolver::default();
        let resolve = |url: &str| {
            let uri: Uri = url.parse().expect("a URI");
            let config = ureq::Agent::config_builder().build();
            let timeout = NextTimeout {
                after: ureq::unversioned::transport::time::Duration::from_secs(5),
                ..NextTimeout::default()
            };
            resolver
                .resolve(&uri, &config, timeout)
                .map(|addrs| addrs.to_vec())
        };
        assert_eq!(
            resolve("http://127.0.0.1:9000/x").expect("resolved"),
            ["127.0.0.1:9000".parse::<SocketAddr>().expect("addr")]
        );
        assert_eq!(
            resolve("https://[::1]/x").expect("resolved"),
            ["[::1]:443".parse::<SocketAddr>().expect("addr")]
        );
        assert!(resolve("http://localhost:9000/x")
            .expect("localhost resolves")
            .iter()
            .all(|addr| addr.port() == 9000));
        assert!(matches!(
            resolve("http://sentry.invalid/x"),
            Err(ureq::Error::HostNotFound | ureq::Error::Io(_))
        ));
    }
}
