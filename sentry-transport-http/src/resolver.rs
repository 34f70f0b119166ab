//! Name resolution for the transport's agents: IP addresses without a lookup, host names cached.
//!
//! ureq resolves the host before *every* request, pooled connection or not, and when a timeout
//! applies its default resolver does so on a freshly spawned thread. For a transport that posts
//! thousands of envelopes per second to one host, that is a thread (and possibly a DNS query)
//! per envelope. This resolver answers IP literals directly and keeps the addresses of a host
//! name for [`DNS_CACHE_TTL`]; only a miss spawns a short-lived lookup thread, bounded by the
//! request's timeout. When a refresh fails, the previous addresses are used again.
//!
//! This module knows nothing of ureq: the adapter to ureq's (`unversioned`) resolver trait is in
//! [`agent`](crate::agent).

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sentry_core::__private::{run_off_thread, OffThreadError};
use sentry_core::protocol::SortedMap;

/// How long resolved addresses of a host name are reused.
pub(crate) const DNS_CACHE_TTL: Duration = Duration::from_secs(60);

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

/// Why a host name could not be resolved.
#[derive(Debug)]
pub(crate) enum LookupError {
    /// The lookup took longer than its timeout (it goes on, and fills the cache when it ends).
    TimedOut,
    /// The name has no addresses (or the lookup thread failed).
    NotFound,
    /// The system's resolver or the thread spawn failed.
    Io(io::Error),
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::TimedOut => f.write_str("the lookup timed out"),
            LookupError::NotFound => f.write_str("no address found"),
            LookupError::Io(error) => write!(f, "{error}"),
        }
    }
}

impl CachingResolver {
    /// The addresses of `key` (`host:port`, IPv6 hosts in brackets): an IP address as it is,
    /// a host name's from the cache or from a lookup bounded by `timeout` (`None`: unbounded).
    pub(crate) fn addrs(
        &self,
        key: &str,
        timeout: Option<Duration>,
    ) -> Result<Vec<SocketAddr>, LookupError> {
        match key.parse::<SocketAddr>() {
            // `1.2.3.4:80` and `[::1]:80`: nothing to look up.
            Ok(addr) => Ok(vec![addr]),
            Err(_) => self.lookup(key, timeout),
        }
    }

    fn lookup(&self, key: &str, timeout: Option<Duration>) -> Result<Vec<SocketAddr>, LookupError> {
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
    timeout: Option<Duration>,
    cache: &Cache,
) -> Result<Vec<SocketAddr>, LookupError> {
    let work = {
        let key = key.to_owned();
        let cache = Arc::clone(cache);
        move || -> Result<Vec<SocketAddr>, LookupError> {
            let addrs: Vec<SocketAddr> = key.to_socket_addrs().map_err(LookupError::Io)?.collect();
            if addrs.is_empty() {
                return Err(LookupError::NotFound);
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
    let Some(timeout) = timeout else {
        return work();
    };
    match run_off_thread("sentry-dns", timeout, work) {
        Ok(result) => result,
        Err(OffThreadError::TimedOut) => Err(LookupError::TimedOut),
        Err(OffThreadError::Spawn(error)) => Err(LookupError::Io(error)),
        Err(OffThreadError::Panicked) => Err(LookupError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(resolver: &CachingResolver, key: &str) -> Result<Vec<SocketAddr>, LookupError> {
        resolver.addrs(key, Some(Duration::from_secs(5)))
    }

    #[test]
    fn ip_literals_are_not_looked_up() {
        let resolver = CachingResolver::default();
        assert_eq!(
            resolve(&resolver, "127.0.0.1:9000").expect("resolved"),
            ["127.0.0.1:9000".parse::<SocketAddr>().expect("addr")]
        );
        assert_eq!(
            resolve(&resolver, "[::1]:443").expect("resolved"),
            ["[::1]:443".parse::<SocketAddr>().expect("addr")]
        );
        assert!(resolver.cache.lock().expect("lock").is_empty());
    }

    #[test]
    fn host_names_are_cached() {
        let resolver = CachingResolver::default();
        let first = resolve(&resolver, "localhost:9000").expect("localhost resolves");
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
            resolve(&resolver, "localhost:9000").expect("cached"),
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
            resolve(&resolver, "sentry.invalid:80").expect("stale"),
            [old]
        );
        let resolver = CachingResolver::default();
        assert!(resolve(&resolver, "sentry.invalid:80").is_err());
    }
}
