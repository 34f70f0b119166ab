//! The rustls crypto provider: *ring*, limited to what talking to Sentry needs.
//!
//! rustls' stock *ring* provider offers every algorithm it has, and a program links all the
//! code those algorithms reference, whether a handshake ever picks them or not. The SDK only
//! connects to a Sentry server (or a relay, or a proxy on the way) as a client, so it offers:
//!
//! - **Cipher suites**: AES-GCM (128 and 256) for TLS 1.3, and ECDHE with ECDSA or RSA and
//!   AES-GCM for TLS 1.2. AES-GCM is mandatory to implement in TLS 1.3 and every TLS 1.2 server
//!   on the public web offers it; ChaCha20-Poly1305 is left out.
//! - **Key exchange**: P-256 and P-384. P-256 is mandatory to implement in TLS 1.3, so a server
//!   never needs a second round trip for it; X25519 is left out.
//! - **Certificate signatures**: ECDSA (P-256, P-384) and RSA (PKCS#1 and PSS, 2048–8192 bits),
//!   which covers every certificate a public CA issues. Ed25519 is left out (public CAs do not
//!   issue it).
//! - **No client certificates**: the key provider loads no private keys.
//!
//! Leaving out the Curve25519 and ChaCha20 code makes a program about 200 KB smaller.
//!
//! An application that installs a process-wide provider with
//! [`CryptoProvider::install_default`] (for example a FIPS-validated one) gets that provider
//! instead.

use std::fmt;
use std::sync::{Arc, OnceLock};

use ring::rand::{SecureRandom as _, SystemRandom};
use rustls::crypto::ring::{cipher_suite, kx_group};
use rustls::crypto::{
    CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::SigningKey;
use rustls::SignatureScheme;
use webpki::ring as algs;

/// The provider every agent of this crate uses: the process-wide default when the application
/// installed one, otherwise [`lean_provider`].
pub(crate) fn provider() -> Arc<CryptoProvider> {
    if let Some(installed) = CryptoProvider::get_default() {
        return Arc::clone(installed);
    }
    static LEAN: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    Arc::clone(LEAN.get_or_init(|| Arc::new(lean_provider())))
}

/// *ring* with the algorithms listed in the module documentation.
pub(crate) fn lean_provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: vec![
            cipher_suite::TLS13_AES_128_GCM_SHA256,
            cipher_suite::TLS13_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ],
        kx_groups: vec![kx_group::SECP256R1, kx_group::SECP384R1],
        signature_verification_algorithms: SIGNATURES,
        secure_random: &Ring,
        key_provider: &Ring,
    }
}

/// Certificate and handshake signatures the SDK verifies.
static SIGNATURES: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        algs::ECDSA_P256_SHA256,
        algs::ECDSA_P256_SHA384,
        algs::ECDSA_P384_SHA256,
        algs::ECDSA_P384_SHA384,
        algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        algs::RSA_PKCS1_2048_8192_SHA256,
        algs::RSA_PKCS1_2048_8192_SHA384,
        algs::RSA_PKCS1_2048_8192_SHA512,
        algs::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        algs::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        algs::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    ],
    // TLS 1.3 ties an ECDSA scheme to its curve; TLS 1.2 does not, so each ECDSA scheme maps
    // to both curves.
    mapping: &[
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[algs::ECDSA_P384_SHA384, algs::ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[algs::ECDSA_P256_SHA256, algs::ECDSA_P384_SHA256],
        ),
        (
            SignatureScheme::RSA_PSS_SHA512,
            &[algs::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA384,
            &[algs::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA256,
            &[algs::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA512,
            &[algs::RSA_PKCS1_2048_8192_SHA512],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA384,
            &[algs::RSA_PKCS1_2048_8192_SHA384],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA256,
            &[algs::RSA_PKCS1_2048_8192_SHA256],
        ),
    ],
};

/// Randomness from the operating system; no private keys.
struct Ring;

impl fmt::Debug for Ring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sentry-transport-http ring provider")
    }
}

impl SecureRandom for Ring {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        SystemRandom::new().fill(buf).map_err(|_| GetRandomFailed)
    }
}

impl KeyProvider for Ring {
    /// The SDK never presents a client certificate.
    fn load_private_key(
        &self,
        _key_der: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        Err(rustls::Error::General(
            "the Sentry transport does not use client certificates".to_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    //! Real handshakes on loopback: a rustls server with the stock *ring* provider (every
    //! algorithm) and a test CA, and a ureq client with [`lean_provider`].

    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::thread;
    use std::time::Duration;

    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use rustls::{CipherSuite, NamedGroup, ProtocolVersion, SupportedProtocolVersion};

    use super::*;

    fn fixture(name: &str) -> String {
        format!("{}/testdata/tls/{name}", env!("CARGO_MANIFEST_DIR"))
    }

    /// What the server negotiated.
    #[derive(Debug)]
    struct Negotiated {
        version: Option<ProtocolVersion>,
        suite: Option<CipherSuite>,
        group: Option<NamedGroup>,
        body: Vec<u8>,
    }

    /// Serves one HTTPS request with `key` (`ecdsa` or `rsa`) over `versions`, answering 200;
    /// returns the URL and what the handshake settled on.
    fn serve_once(
        key: &str,
        versions: &[&'static SupportedProtocolVersion],
    ) -> (String, thread::JoinHandle<Result<Negotiated, String>>) {
        let chain = vec![
            CertificateDer::from_pem_file(fixture(&format!("{key}-leaf.pem")))
                .expect("leaf certificate"),
        ];
        let private =
            PrivateKeyDer::from_pem_file(fixture(&format!("{key}-leaf.key"))).expect("leaf key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(versions)
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .expect("server config");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "https://127.0.0.1:{}/api/1/envelope/",
            listener.local_addr().unwrap().port()
        );
        let server = thread::spawn(move || -> Result<Negotiated, String> {
            let (tcp, _) = listener.accept().map_err(|e| e.to_string())?;
            tcp.set_read_timeout(Some(Duration::from_secs(10)))
                .map_err(|e| e.to_string())?;
            let connection =
                rustls::ServerConnection::new(Arc::new(config)).map_err(|e| e.to_string())?;
            let mut tls = rustls::StreamOwned::new(connection, tcp);
            let mut request = Vec::new();
            let mut buf = [0; 4096];
            let mut read = |tls: &mut rustls::StreamOwned<_, _>, request: &mut Vec<u8>| match tls
                .read(&mut buf)
            {
                Ok(0) => Err("the client closed the connection".to_owned()),
                Ok(n) => {
                    request.extend_from_slice(&buf[..n]);
                    Ok(())
                }
                Err(error) => Err(error.to_string()),
            };
            let body_start = loop {
                read(&mut tls, &mut request)?;
                if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                    break end + 4;
                }
            };
            let head = String::from_utf8_lossy(&request[..body_start]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map_or(Ok(0), |value| value.trim().parse())
                .map_err(|e| format!("content-length: {e}"))?;
            while request.len() < body_start + length {
                read(&mut tls, &mut request)?;
            }
            tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                .map_err(|e| e.to_string())?;
            tls.conn.send_close_notify();
            let _ = tls.flush();
            Ok(Negotiated {
                version: tls.conn.protocol_version(),
                suite: tls.conn.negotiated_cipher_suite().map(|s| s.suite()),
                group: tls.conn.negotiated_key_exchange_group().map(|g| g.name()),
                body: request[body_start..].to_vec(),
            })
        });
        (url, server)
    }

    /// A client like the transport's, trusting the test CA for `key`.
    fn client(key: &str) -> ureq::Agent {
        let ca = std::fs::read(fixture(&format!("{key}-ca.pem"))).expect("CA");
        let ca = ureq::tls::Certificate::from_pem(&ca).expect("CA certificate");
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::Rustls)
                    .root_certs(ureq::tls::RootCerts::Specific(Arc::new(vec![ca])))
                    .unversioned_rustls_crypto_provider(Arc::new(lean_provider()))
                    .build(),
            )
            .build()
            .into()
    }

    fn post(key: &str, versions: &[&'static SupportedProtocolVersion]) -> Negotiated {
        let (url, server) = serve_once(key, versions);
        let response = client(key)
            .post(&url)
            .send(&b"envelope bytes"[..])
            .unwrap_or_else(|error| panic!("{key} over {versions:?}: {error}"));
        assert_eq!(response.status(), 200);
        let negotiated = server
            .join()
            .expect("server thread")
            .unwrap_or_else(|error| panic!("server, {key} over {versions:?}: {error}"));
        assert_eq!(negotiated.body, b"envelope bytes");
        negotiated
    }

    #[test]
    fn tls13_with_ecdsa_and_rsa_certificates() {
        for key in ["ecdsa", "rsa"] {
            let negotiated = post(key, &[&rustls::version::TLS13]);
            assert_eq!(negotiated.version, Some(ProtocolVersion::TLSv1_3), "{key}");
            assert!(
                matches!(
                    negotiated.suite,
                    Some(
                        CipherSuite::TLS13_AES_128_GCM_SHA256
                            | CipherSuite::TLS13_AES_256_GCM_SHA384
                    )
                ),
                "{key}: {negotiated:?}"
            );
            assert_eq!(negotiated.group, Some(NamedGroup::secp256r1), "{key}");
        }
    }

    #[test]
    fn tls12_with_ecdsa_and_rsa_certificates() {
        for key in ["ecdsa", "rsa"] {
            let negotiated = post(key, &[&rustls::version::TLS12]);
            assert_eq!(negotiated.version, Some(ProtocolVersion::TLSv1_2), "{key}");
            let expected = if key == "ecdsa" {
                [
                    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                    CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                ]
            } else {
                [
                    CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                    CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                ]
            };
            assert!(
                negotiated
                    .suite
                    .is_some_and(|suite| expected.contains(&suite)),
                "{key}: {negotiated:?}"
            );
        }
    }

    #[test]
    fn an_untrusted_certificate_is_refused() {
        // The server presents the RSA chain; the client trusts only the ECDSA CA.
        let (url, server) = serve_once("rsa", &[&rustls::version::TLS13]);
        let error = client("ecdsa")
            .post(&url)
            .send(&b"x"[..])
            .expect_err("an unknown issuer must fail the handshake");
        assert!(
            error.to_string().to_lowercase().contains("certificate"),
            "{error}"
        );
        // The server sees the handshake fail too.
        assert!(server.join().expect("server thread").is_err());
    }

    #[test]
    fn the_provider_offers_only_the_listed_algorithms() {
        let provider = lean_provider();
        let groups: Vec<NamedGroup> = provider.kx_groups.iter().map(|g| g.name()).collect();
        assert_eq!(groups, [NamedGroup::secp256r1, NamedGroup::secp384r1]);
        assert!(provider
            .cipher_suites
            .iter()
            .all(|suite| format!("{:?}", suite.suite()).contains("AES")));
        assert!(provider
            .signature_verification_algorithms
            .supported_schemes()
            .iter()
            .all(|scheme| *scheme != SignatureScheme::ED25519));
        assert!(provider
            .key_provider
            .load_private_key(PrivateKeyDer::from_pem_file(fixture("ecdsa-leaf.key")).unwrap())
            .is_err());
        let mut random = [0u8; 32];
        provider
            .secure_random
            .fill(&mut random)
            .expect("randomness");
        assert_ne!(random, [0; 32]);
    }
}
