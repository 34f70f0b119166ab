//! Name resolution for the transport's agents: IP addresses without a lookup, host names cached.
//!
//! ureq resolves the host before *every* request, pooled connection or not, and when a timeout
//! applies its default resolver does so on a freshly spawned thread. For a transport that posts
//! thousands of envelopes per second to one host, that is a thread (and possibly a DNS query)
//! per envelope. This resolver answers IP literals directly and keeps the addresses of a host
//! name for [`DNS_CACHE_TTL`]; only a miss spawns a short-lived lookup thread, bounded by the
//! request's timeout. When a refresh fails, the previous addresses are used again.
//!
//! The resolver plugs into ureq's `unversioned` API, which may change in ureq's minor releases;
//! the crate therefore pins ureq to one minor version.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sentry_core::off_thread::{run_off_thread, OffThreadError};
use sentry_core::protocol::SortedMap;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long resolved addresses of a host name are reused.
pub(crate) const DNS_CACHE_TTL: Duration = Duration::from_secs(60);

/// The most addresses ureq accepts from a resolver.
const MAX_ADDRS: usize = 16;

type Cache = Arc<Mutex<SortedMap<String, Cached>>>;

#[derive(Debug, Clone)]
struct Cached {
    addrs: Vec<SocketAddr>,
    at: Instant,
}

/// See the [module documentation](self).
#[derive(Debug, Default)]
pub(crate) struct CachingResolver {
    cache: Cache,
}

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
        let addrs = match key.parse::<SocketAddr>() {
            // `1.2.3.4:80` and `[::1]:80`: nothing to look up.
            Ok(addr) => vec![addr],
            Err(_) => self.lookup(&key, timeout)?,
        };
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

impl CachingResolver {
    fn lookup(&self, key: &str, timeout: NextTimeout) -> Result<Vec<SocketAddr>, ureq::Error> {
        let stale = {
            let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            match cache.get(key) {
                Some(cached) if cached.at.elapsed() < DNS_CACHE_TTL => {
                    return Ok(cached.addrs.clone())
                }
                Some(cached) => Some(cached.addrs.clone()),
                None => None,
            }
        };
        match lookup_and_store(key, timeout, &self.cache) {
            Ok(addrs) => Ok(addrs),
            Err(error) => match stale {
                Some(addrs) => {
                    sentry_core::sentry_debug!(
                        "could not resolve {key} again ({error}); using its previous addresses"
                    );
                    Ok(addrs)
                }
                None => Err(error),
            },
        }
    }
}

/// Resolves `key` (`host:port`) within `timeout` and stores a non-empty answer in `cache`, even
/// one that arrives after the timeout.
fn lookup_and_store(
    key: &str,
    timeout: NextTimeout,
    cache: &Cache,
) -> Result<Vec<SocketAddr>, ureq::Error> {
    let work = {
        let key = key.to_owned();
        let cache = Arc::clone(cache);
        move || -> Result<Vec<SocketAddr>, ureq::Error> {
            let addrs: Vec<SocketAddr> = key.to_socket_addrs()?.collect();
            if addrs.is_empty() {
                return Err(ureq::Error::HostNotFound);
            }
            cache.lock().unwrap_or_else(PoisonError::into_inner).insert(
                key,
                Cached {
                    addrs: addrs.clone(),
                    at: Instant::now(),
                },
            );
            Ok(addrs)
        }
    };
    if timeout.after.is_not_happening() {
        return work();
    }
    match run_off_thread("sentry-dns", *timeout.after, work) {
        Ok(result) => result,
        Err(OffThreadError::TimedOut) => Err(ureq::Error::Timeout(timeout.reason)),
        Err(OffThreadError::Spawn(error)) => Err(ureq::Error::Io(error)),
        Err(OffThreadError::Panicked) => Err(ureq::Error::HostNotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(resolver: &CachingResolver, url: &str) -> Result<Vec<SocketAddr>, ureq::Error> {
        let uri: Uri = url.parse().expect("a URI");
        let config = ureq::Agent::config_builder().build();
        let timeout = NextTimeout {
            after: ureq::unversioned::transport::time::Duration::from_secs(5),
            ..NextTimeout::default()
        };
        resolver
            .resolve(&uri, &config, timeout)
            .map(|addrs| addrs.to_vec())
    }

    #[test]
    fn ip_literals_are_not_looked_up() {
        let resolver = CachingResolver::default();
        assert_eq!(
            resolve(&resolver, "http://127.0.0.1:9000/x").expect("resolved"),
            ["127.0.0.1:9000".parse::<SocketAddr>().expect("addr")]
        );
        assert_eq!(
            resolve(&resolver, "https://[::1]/x").expect("resolved"),
            ["[::1]:443".parse::<SocketAddr>().expect("addr")]
        );
        assert!(resolver.cache.lock().expect("lock").is_empty());
    }

    #[test]
    fn host_names_are_cached() {
        let resolver = CachingResolver::default();
        let first = resolve(&resolver, "http://localhost:9000/x").expect("localhost resolves");
        assert!(first.iter().all(|addr| addr.port() == 9000));
        assert!(resolver
            .cache
            .lock()
            .expect("lock")
            .contains_key("localhost:9000"));

        // A cached entry is served without a lookup: make it recognisably different.
        let fake: SocketAddr = "10.9.8.7:9000".parse().expect("addr");
        resolver.cache.lock().expect("lock").insert(
            "localhost:9000".into(),
            Cached {
                addrs: vec![fake],
                at: Instant::now(),
            },
        );
        assert_eq!(
            resolve(&resolver, "http://localhost:9000/y").expect("cached"),
            [fake]
        );
    }

    #[test]
    fn a_failed_refresh_uses_the_previous_addresses() {
        let resolver = CachingResolver::default();
        let old: SocketAddr = "10.9.8.7:80".parse().expect("addr");
        let expired = Instant::now()
            .checked_sub(DNS_CACHE_TTL * 2)
            .expect("the clock is past two minutes");
        // `.invalid` never resolves (RFC 2606).
        resolver.cache.lock().expect("lock").insert(
            "sentry.invalid:80".into(),
            Cached {
                addrs: vec![old],
                at: expired,
            },
        );
        assert_eq!(
            resolve(&resolver, "http://sentry.invalid/x").expect("stale"),
            [old]
        );
        let resolver = CachingResolver::default();
        assert!(resolve(&resolver, "http://sentry.invalid/x").is_err());
    }
}
