//! The TLS identity, made fresh at start-up with `rcgen`: a self-signed CA ("testbed CA") and a
//! server certificate it signs for `localhost` and `127.0.0.1`. Clients trust the CA's PEM.

use std::io;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A generated CA and server certificate.
pub(crate) struct Identity {
    /// PEM of the CA certificate (what clients should trust).
    pub(crate) ca_pem: String,
    /// DER of the CA certificate.
    pub(crate) ca_der: CertificateDer<'static>,
    /// Server rustls configuration with ALPN `h2`, `http/1.1`.
    pub(crate) config: Arc<rustls::ServerConfig>,
}

fn other(e: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::other(e)
}

/// Makes a CA, a server certificate for `localhost` and `127.0.0.1`, and a server config.
pub(crate) fn generate() -> io::Result<Identity> {
    let ca_key = KeyPair::generate().map_err(other)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(other)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "testbed CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key).map_err(other)?;

    let key = KeyPair::generate().map_err(other)?;
    let mut params = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .map_err(other)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let leaf = params.signed_by(&key, &ca, &ca_key).map_err(other)?;

    let chain = vec![leaf.der().clone(), ca.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(other)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Identity {
        ca_pem: ca.pem(),
        ca_der: ca.der().clone(),
        config: Arc::new(config),
    })
}
