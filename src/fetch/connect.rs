//! Connections: DNS with `--resolve` overrides, TCP with a connect timeout, and TLS (rustls,
//! verification on unless `-k`), all under one pooled client.
//!
//! hyper-util's `HttpConnector` does TCP and happy eyeballs; this file adds what it lacks: a
//! resolver whose failures are recognisable as DNS errors, and `--resolve HOST:PORT:ADDR`
//! overrides that apply to one port only (as in curl), done by handing the connector the address
//! while TLS still verifies and sends SNI for the original host name.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::client::legacy::connect::HttpConnector;
use tower_service::Service;

use crate::fetch::tracked::Tracked;

type BoxError = Box<dyn StdError + Send + Sync>;

/// A name that did not resolve; found in an error's source chain to classify it as `dns`.
#[derive(Debug)]
pub struct DnsError {
    name: String,
    source: io::Error,
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not resolve host `{}`: {}", self.name, self.source)
    }
}

impl StdError for DnsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.source)
    }
}

/// The system resolver (getaddrinfo on the blocking pool), with errors tagged as DNS errors.
#[derive(Clone, Default)]
pub struct Resolver;

impl Service<Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = DnsError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, DnsError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), DnsError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let lookup = tokio::net::lookup_host((host.clone(), 0)).await;
            match lookup {
                Ok(addrs) => {
                    let addrs: Vec<SocketAddr> = addrs.collect();
                    if addrs.is_empty() {
                        Err(DnsError {
                            name: host,
                            source: io::Error::new(io::ErrorKind::NotFound, "no addresses"),
                        })
                    } else {
                        Ok(addrs.into_iter())
                    }
                }
                Err(source) => Err(DnsError { name: host, source }),
            }
        })
    }
}

/// `--resolve` entries: (lower-case host, port) → address.
pub type Overrides = HashMap<(String, u16), IpAddr>;

/// TCP connector with overrides; TLS is layered on top by hyper-rustls.
#[derive(Clone)]
pub struct Connector {
    inner: HttpConnector<Resolver>,
    overrides: Arc<Overrides>,
}

impl Connector {
    /// A connector that gives up on a TCP connect after `connect_timeout`.
    pub fn new(connect_timeout: Duration, overrides: Overrides) -> Self {
        let mut inner = HttpConnector::new_with_resolver(Resolver);
        inner.enforce_http(false);
        inner.set_nodelay(true);
        inner.set_connect_timeout(Some(connect_timeout));
        inner.set_keepalive(Some(Duration::from_secs(60)));
        Connector {
            inner,
            overrides: Arc::new(overrides),
        }
    }

    /// `uri` with its host replaced by the `--resolve` address for its host and port, if any.
    pub(crate) fn target(&self, uri: Uri) -> Uri {
        if self.overrides.is_empty() {
            return uri;
        }
        let Some(host) = uri.host() else { return uri };
        let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some("https") => 443,
            _ => 80,
        });
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let Some(addr) = self.overrides.get(&(host, port)) else {
            return uri;
        };
        let authority = match addr {
            IpAddr::V4(a) => format!("{a}:{port}"),
            IpAddr::V6(a) => format!("[{a}]:{port}"),
        };
        let mut parts = uri.into_parts();
        parts.authority = Some(
            authority
                .parse()
                .expect("an IP and a port form an authority"),
        );
        Uri::from_parts(parts).expect("only the authority changed")
    }
}

impl Service<Uri> for Connector {
    type Response = Tracked;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let uri = self.target(uri);
        let fut = self.inner.call(uri);
        Box::pin(async move { fut.await.map(Tracked::new).map_err(Into::into) })
    }
}

/// Builds the TLS configuration: verification against the system roots (or `cacert` roots, which
/// replace them as in curl), or none at all with `insecure`.
pub fn tls_config(insecure: bool, cacert: &[Vec<u8>]) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    if insecure {
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth());
    }
    let mut roots = rustls::RootCertStore::empty();
    if cacert.is_empty() {
        let native = rustls_native_certs::load_native_certs();
        let (added, _) = roots.add_parsable_certificates(native.certs);
        if added == 0 {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
    } else {
        for pem in cacert {
            let mut found = 0;
            for cert in rustls_pemfile::certs(&mut &pem[..]) {
                let cert = cert.map_err(|e| format!("--cacert: {e}"))?;
                roots.add(cert).map_err(|e| format!("--cacert: {e}"))?;
                found += 1;
            }
            if found == 0 {
                return Err("--cacert: no PEM certificate found in the file".to_owned());
            }
        }
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// `-k`: accepts any certificate, but still checks that the handshake signatures are valid.
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_apply_to_their_port_only() {
        let mut o = Overrides::new();
        o.insert(("example.com".into(), 443), "127.0.0.2".parse().unwrap());
        o.insert(("v6.test".into(), 80), "::1".parse().unwrap());
        let c = Connector::new(Duration::from_secs(1), o);
        let t = |s: &str| c.target(s.parse().unwrap()).to_string();
        assert_eq!(t("https://Example.com/x?y"), "https://127.0.0.2:443/x?y");
        assert_eq!(t("https://example.com:443/"), "https://127.0.0.2:443/");
        assert_eq!(t("http://example.com/"), "http://example.com/");
        assert_eq!(t("http://v6.test/a"), "http://[::1]:80/a");
    }

    #[test]
    fn cacert_without_certificates_is_an_error() {
        let err = tls_config(false, &[b"not a pem".to_vec()]).unwrap_err();
        assert_eq!(err, "--cacert: no PEM certificate found in the file");
        assert!(tls_config(true, &[]).is_ok());
    }
}
