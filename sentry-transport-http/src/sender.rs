//! The sender: posts one envelope's bytes with a keep-alive ureq agent, compressed as the
//! options say.

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use sentry_core::envelope::Envelope;
use sentry_core::transport::{Compression, SendOutcome, Sender, TransportOptions};

use crate::agent::{agent_config, new_agent};
use crate::encoding::BodyEncoder;
use crate::error::HttpTransportError;
use crate::proxy::{self, select_proxy, ProxySelection};

/// How much of a response body is read (and thrown away) so that the connection can be reused.
/// Sentry's answers are tiny JSON objects; a connection with a longer answer is not reused.
pub(crate) const MAX_RESPONSE_BODY: u64 = 64 * 1024;

/// Content type of an envelope request.
pub(crate) const ENVELOPE_CONTENT_TYPE: &str = "application/x-sentry-envelope";

/// Checks that `url` is an absolute `http://` or `https://` URL with a host.
pub(crate) fn check_url(url: &str) -> Result<(), HttpTransportError> {
    let invalid = |reason: String| HttpTransportError::InvalidUrl {
        url: proxy::redact_userinfo(url),
        reason,
    };
    let uri = url
        .parse::<ureq::http::Uri>()
        .map_err(|error| invalid(error.to_string()))?;
    match uri.scheme_str() {
        Some(scheme)
            if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") => {}
        _ => return Err(invalid("the scheme must be http or https".into())),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("the URL has no host".into()));
    }
    Ok(())
}

/// Posts envelopes with a keep-alive ureq agent, compressing large bodies.
///
/// Its [forks](Sender::fork) share the agent, and with it the pool of keep-alive connections
/// (up to `max_concurrent_requests` idle ones are kept): a request takes an idle connection
/// or opens one, and gives it back when answered, so a fork that ends loses no connection.
pub(crate) struct UreqSender {
    /// Built on the first send: a program that initialises the SDK and never sends pays for
    /// none of ureq's and rustls' setup, and touches none of their code.
    agent: Option<ureq::Agent>,
    settings: Arc<AgentSettings>,
    url: Arc<str>,
    auth: Arc<str>,
    compression: Compression,
    /// Each sender compresses with its own (reused) state.
    encoder: BodyEncoder,
}

/// What the agent is built from.
struct AgentSettings {
    connect_timeout: Duration,
    timeout: Duration,
    user_agent: String,
    proxy: Option<ureq::Proxy>,
    /// Idle connections kept (at least one).
    max_idle: usize,
}

impl UreqSender {
    pub(crate) fn new(
        options: &TransportOptions,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<UreqSender, HttpTransportError> {
        let url = options.dsn.envelope_url();
        check_url(&url)?;
        let selection = select_proxy(
            &url,
            options.http_proxy.as_deref(),
            options.https_proxy.as_deref(),
            env,
        );
        let proxy = match &selection {
            ProxySelection::Proxy { url: proxy_url, .. } => match proxy::to_ureq_proxy(proxy_url) {
                Ok(proxy) => {
                    sentry_core::sentry_debug!("sending to Sentry through {selection}");
                    Some(proxy)
                }
                Err(error) => {
                    sentry_core::sentry_debug!(
                        "ignoring the invalid {selection}: {error}; connecting directly"
                    );
                    None
                }
            },
            ProxySelection::NoProxy => {
                sentry_core::sentry_debug!("sending to Sentry with {selection}");
                None
            }
            ProxySelection::Direct => None,
        };
        Ok(UreqSender {
            agent: None,
            settings: Arc::new(AgentSettings {
                connect_timeout: options.connect_timeout,
                timeout: options.timeout,
                user_agent: options.user_agent.clone(),
                proxy,
                max_idle: options.max_concurrent_requests.max(1),
            }),
            url: url.into(),
            auth: options.dsn.auth_header(&options.user_agent).into(),
            compression: options.compression,
            encoder: BodyEncoder::new(options.compression),
        })
    }
}

impl UreqSender {
    /// The keep-alive agent, built on first use.
    #[cfg(test)]
    fn agent(&mut self) -> &ureq::Agent {
        lazy_agent(&mut self.agent, &self.settings)
    }
}

/// `agent`, built from `settings` if it is not yet.
fn lazy_agent<'a>(agent: &'a mut Option<ureq::Agent>, settings: &AgentSettings) -> &'a ureq::Agent {
    agent.get_or_insert_with(|| {
        new_agent(
            agent_config()
                .timeout_connect(Some(settings.connect_timeout))
                .timeout_global(Some(settings.timeout))
                .user_agent(settings.user_agent.as_str())
                // Always set, so that ureq does not read the environment on its own.
                .proxy(settings.proxy.clone())
                .max_idle_connections(settings.max_idle)
                .max_idle_connections_per_host(settings.max_idle)
                .build(),
        )
    })
}

impl Sender for UreqSender {
    fn send(&mut self, body: Vec<u8>, _envelope: &Envelope) -> SendOutcome {
        let encoded = self.encoder.encode(&body);
        let mut request = lazy_agent(&mut self.agent, &self.settings)
            .post(&*self.url)
            .header("X-Sentry-Auth", &*self.auth)
            .header("Content-Type", ENVELOPE_CONTENT_TYPE);
        let payload: &[u8] = match &encoded {
            Some(encoded) => {
                request = request.header("Content-Encoding", encoded.content_encoding);
                &encoded.body
            }
            None => &body,
        };
        let mut response = match request.send(payload) {
            Ok(response) => response,
            Err(error) => return SendOutcome::NetworkError(error.to_string()),
        };
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let outcome = SendOutcome::Response {
            status: response.status().as_u16(),
            rate_limits: header("x-sentry-rate-limits"),
            retry_after: header("retry-after"),
        };
        // Read the (small) body to the end so the connection goes back to the pool. A failure
        // here does not change the outcome: the server has answered.
        let mut reader = response.body_mut().as_reader().take(MAX_RESPONSE_BODY);
        let _ = io::copy(&mut reader, &mut io::sink());
        outcome
    }

    fn fork(&mut self) -> Option<Box<dyn Sender>> {
        let agent = lazy_agent(&mut self.agent, &self.settings).clone();
        Some(Box::new(UreqSender {
            agent: Some(agent),
            settings: Arc::clone(&self.settings),
            url: Arc::clone(&self.url),
            auth: Arc::clone(&self.auth),
            compression: self.compression,
            encoder: BodyEncoder::new(self.compression),
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;
    use crate::test_support::{answer_once, has_header, no_env, options_for};

    #[test]
    fn sender_posts_with_headers_and_reads_rate_limits() {
        let (dsn, server) = answer_once(
            "HTTP/1.1 429 Too Many Requests\r\nX-Sentry-Rate-Limits: 60:error:organization\r\n\
             Retry-After: 60\r\nContent-Length: 2\r\n\r\n{}",
        );
        let options = options_for(&dsn);
        let mut sender = UreqSender::new(&options, no_env).expect("sender");
        let envelope = Envelope::new();
        let outcome = sender.send(b"{}\n".to_vec(), &envelope);
        assert_eq!(
            outcome,
            SendOutcome::Response {
                status: 429,
                rate_limits: Some("60:error:organization".into()),
                retry_after: Some("60".into()),
            }
        );
        let (head, body) = server.join().expect("server thread");
        assert_eq!(head[0], "POST /api/1/envelope/ HTTP/1.1");
        let has = |expected: &str| {
            head.iter().any(|line| {
                line.split_once(':').is_some_and(|(name, value)| {
                    format!("{}: {}", name.to_ascii_lowercase(), value.trim()) == expected
                })
            })
        };
        assert!(
            has("content-type: application/x-sentry-envelope"),
            "{head:?}"
        );
        assert!(
            has(&format!("user-agent: {}", options.user_agent)),
            "{head:?}"
        );
        assert!(has(&format!(
            "x-sentry-auth: {}",
            options.dsn.auth_header(&options.user_agent)
        )));
        assert_eq!(body, b"{}\n");
        assert!(
            !head
                .iter()
                .any(|line| line.to_ascii_lowercase().starts_with("content-encoding")),
            "a small body is sent uncompressed: {head:?}"
        );
    }

    #[test]
    fn large_bodies_are_sent_gzip_compressed() {
        let (dsn, server) = answer_once("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
        let options = options_for(&dsn);
        let mut sender = UreqSender::new(&options, no_env).expect("sender");
        let mut original = b"{\"event_id\":\"9ec79c33ec9942ab8353589fcb2e04dc\"}\n".to_vec();
        while original.len() < 20_000 {
            original.extend_from_slice(b"{\"type\":\"event\"}\n{\"message\":\"hello\"}\n");
        }
        let outcome = sender.send(original.clone(), &Envelope::new());
        assert_eq!(outcome, SendOutcome::status(200));
        let (head, body) = server.join().expect("server thread");
        assert!(has_header(&head, "content-encoding", "gzip"), "{head:?}");
        assert!(
            has_header(&head, "content-length", &body.len().to_string()),
            "{head:?}"
        );
        assert!(body.len() < original.len() / 4, "{} bytes", body.len());
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut decoded)
            .expect("a gzip body");
        assert_eq!(decoded, original);
    }

    #[test]
    fn urls_are_checked() {
        assert!(check_url("https://o1.ingest.sentry.io/api/1/envelope/").is_ok());
        assert!(check_url("http://[::1]:9000/api/1/envelope/").is_ok());
        for url in [
            "",
            "/api/1/envelope/",
            "ftp://host/x",
            "http://",
            "http://exa mple/",
        ] {
            let error = check_url(url).expect_err(url);
            assert!(error.to_string().starts_with("invalid URL"), "{error}");
        }
        let error = check_url("ftp://user:secret@host/").expect_err("ftp");
        assert!(!error.to_string().contains("secret"), "{error}");
        assert!(!format!("{error:?}").contains("secret"), "{error:?}");
    }

    #[test]
    fn proxy_settings_reach_the_agent() {
        let mut options = options_for("http://public@127.0.0.1:9/1");
        options.http_proxy = Some("http://user:pw@127.0.0.1:3128".into());
        let mut sender = UreqSender::new(&options, no_env).expect("sender");
        let proxy = sender.agent().config().proxy().expect("a proxy");
        assert_eq!(proxy.port(), 3128);
        assert_eq!(proxy.username(), Some("user"));

        // The environment is read through the lookup, and an invalid URL means no proxy.
        options.http_proxy = None;
        let env = |name: &str| (name == "HTTP_PROXY").then(|| "http://[::1".to_owned());
        let mut sender = UreqSender::new(&options, env).expect("sender");
        assert!(sender.agent().config().proxy().is_none());
        let env = |name: &str| (name == "http_proxy").then(|| "127.0.0.1:8888".to_owned());
        let mut sender = UreqSender::new(&options, env).expect("sender");
        assert_eq!(
            sender.agent().config().proxy().map(ureq::Proxy::port),
            Some(8888)
        );
        // Nothing set: no proxy, whatever the process environment says.
        let mut sender = UreqSender::new(&options, no_env).expect("sender");
        assert!(sender.agent().config().proxy().is_none());
    }

    #[test]
    fn the_tls_provider_follows_the_cargo_features() {
        let options = options_for("https://public@127.0.0.1:9/1");
        let mut sender = UreqSender::new(&options, no_env).expect("sender");
        let expected = if cfg!(feature = "native-tls") {
            ureq::tls::TlsProvider::NativeTls
        } else {
            ureq::tls::TlsProvider::Rustls
        };
        assert_eq!(sender.agent().config().tls_config().provider(), expected);
    }

    #[test]
    fn forks_share_the_connection_pool() {
        let server = sentry_tests::server::TestServer::start();
        let options = options_for(&server.dsn());
        let mut sender = UreqSender::new(&options, no_env).expect("sender");
        let outcome = sender.send(b"{}\n".to_vec(), &Envelope::new());
        assert_eq!(outcome, SendOutcome::status(200));
        let mut fork = sender.fork().expect("the ureq sender forks");
        let outcome = fork.send(b"{}\n".to_vec(), &Envelope::new());
        assert_eq!(outcome, SendOutcome::status(200));
        drop(fork);
        let outcome = sender.send(b"{}\n".to_vec(), &Envelope::new());
        assert_eq!(outcome, SendOutcome::status(200));
        assert_eq!(server.request_count(), 3);
        assert_eq!(
            server.connections_accepted(),
            1,
            "the fork took the sender's idle connection and gave it back"
        );
    }

    #[test]
    fn refused_connection_is_a_network_error() {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let options = options_for(&format!("http://public@127.0.0.1:{port}/1"));
        let mut sender = UreqSender::new(&options, no_env).expect("sender");
        let outcome = sender.send(b"{}\n".to_vec(), &Envelope::new());
        assert!(
            matches!(outcome, SendOutcome::NetworkError(_)),
            "{outcome:?}"
        );
    }
}
