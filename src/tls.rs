//! TLS configurations for `wss://` (feature `tls`): rustls with the `ring`
//! crypto provider, chosen explicitly so that no process-wide default
//! provider is needed, and Mozilla's roots from `webpki-roots` (plus the
//! platform's with the feature `tls-native-roots`).
//!
//! The blocking client uses [`client_config`] unless given another with
//! [`ClientBuilder::tls_config`](crate::blocking::ClientBuilder::tls_config);
//! a server takes a [`rustls::ServerConfig`], for example from
//! [`server_config_from_pem`].
//!
//! ```no_run
//! use rfc6455::blocking::ServerBuilder;
//! let tls = rfc6455::tls::server_config_from_pem("cert.pem", "key.pem")?;
//! let server = ServerBuilder::new().tls(tls);
//! # Ok::<(), rfc6455::Error>(())
//! ```

use std::io;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{CertificateError, ClientConfig, RootCertStore, ServerConfig};

use crate::{Error, TlsError, TlsErrorKind};

/// The rustls this crate is built with, for building configurations of the
/// same version.
pub use rustls;

/// The one crypto provider every configuration here is built with.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The roots a client trusts by default: Mozilla's (`webpki-roots`), and
/// with the feature `tls-native-roots` the platform's as well.
///
/// ```
/// let roots = rfc6455::tls::default_roots();
/// assert!(!roots.is_empty());
/// ```
pub fn default_roots() -> RootCertStore {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    #[cfg(feature = "tls-native-roots")]
    let roots = {
        let mut roots = roots;
        // Certificates the platform has but rustls cannot parse are
        // skipped: Mozilla's roots are still there.
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
        roots
    };
    roots
}

/// A client configuration over `roots`: TLS 1.2 and 1.3 with rustls' safe
/// defaults, the `ring` provider, ALPN `http/1.1`, no client certificate.
///
/// ```
/// let config = rfc6455::tls::client_config_with_roots(rfc6455::tls::default_roots())?;
/// assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
/// # Ok::<(), rfc6455::Error>(())
/// ```
pub fn client_config_with_roots(roots: RootCertStore) -> Result<Arc<ClientConfig>, Error> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error("client configuration", e))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The default client configuration (see [`client_config_with_roots`] and
/// [`default_roots`]), built once.
///
/// ```
/// let config = rfc6455::tls::client_config();
/// assert!(std::sync::Arc::ptr_eq(&config, &rfc6455::tls::client_config()));
/// ```
pub fn client_config() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            client_config_with_roots(default_roots())
                .expect("the ring provider supports the default protocol versions")
        })
        .clone()
}

/// A client configuration that trusts the certificates in the PEM file
/// `ca` in addition to the default roots (for a private CA or a
/// self-signed server certificate).
///
/// ```no_run
/// let config = rfc6455::tls::client_config_with_ca_pem("ca.pem")?;
/// let ws = rfc6455::blocking::ClientBuilder::new("wss://127.0.0.1:9001/")
///     .tls_config(config)
///     .connect()?;
/// # Ok::<(), rfc6455::Error>(())
/// ```
pub fn client_config_with_ca_pem(ca: impl AsRef<Path>) -> Result<Arc<ClientConfig>, Error> {
    let mut roots = default_roots();
    let certs = load_certs(ca.as_ref())?;
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(file_error(ca.as_ref(), "no usable CA certificate"));
    }
    client_config_with_roots(roots)
}

/// A server configuration from a PEM certificate chain (leaf first) and a
/// PEM private key (PKCS#8, PKCS#1 or SEC1): TLS 1.2 and 1.3, the `ring`
/// provider, ALPN `http/1.1`, no client certificates asked for.
///
/// ```no_run
/// let tls = rfc6455::tls::server_config_from_pem("cert.pem", "key.pem")?;
/// # Ok::<(), rfc6455::Error>(())
/// ```
pub fn server_config_from_pem(
    cert_chain: impl AsRef<Path>,
    key: impl AsRef<Path>,
) -> Result<Arc<ServerConfig>, Error> {
    let certs = load_certs(cert_chain.as_ref())?;
    let key = PrivateKeyDer::from_pem_file(key.as_ref())
        .map_err(|e| file_error(key.as_ref(), &e.to_string()))?;
    server_config(certs, key)
}

/// A server configuration from a certificate chain (leaf first) and its
/// private key, already parsed; see [`server_config_from_pem`].
///
/// ```no_run
/// use rfc6455::tls::rustls::pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
/// let certs = vec![CertificateDer::from_pem_slice(b"-----BEGIN CERTIFICATE-----...").unwrap()];
/// let key = PrivateKeyDer::from_pem_slice(b"-----BEGIN PRIVATE KEY-----...").unwrap();
/// let tls = rfc6455::tls::server_config(certs, key)?;
/// # Ok::<(), rfc6455::Error>(())
/// ```
pub fn server_config(
    cert_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, Error> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error("server configuration", e))?
        .with_no_client_auth()
        .with_single_cert(cert_chain, key)
        .map_err(|e| config_error("server certificate and key", e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| file_error(path, &e.to_string()))?;
    if certs.is_empty() {
        return Err(file_error(path, "no certificate in the file"));
    }
    Ok(certs)
}

fn file_error(path: &Path, why: &str) -> Error {
    Error::Io(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("{}: {why}", path.display()),
    ))
}

fn config_error(what: &str, e: rustls::Error) -> Error {
    Error::Tls(TlsError::new(
        "(local)",
        TlsErrorKind::Other,
        format!("{what}: {e}"),
    ))
}

/// The name a client checks the server's certificate against: the URL's
/// host, a DNS name or an IP address.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, Error> {
    ServerName::try_from(host.to_string())
        .map_err(|e| Error::InvalidUrl(format!("{host:?} as a TLS server name: {e}")))
}

/// Turns an I/O error from a TLS handshake with `peer` into
/// [`Error::Tls`] when rustls is behind it.
pub(crate) fn handshake_error(peer: &str, e: io::Error) -> Error {
    let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return Error::Io(e);
    };
    let kind = match tls {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => TlsErrorKind::UnknownIssuer,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsErrorKind::NameMismatch
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                TlsErrorKind::Expired
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                TlsErrorKind::NotYetValid
            }
            _ => TlsErrorKind::BadCertificate,
        },
        rustls::Error::AlertReceived(_) => TlsErrorKind::AlertReceived,
        rustls::Error::InvalidMessage(_) => TlsErrorKind::NotTls,
        _ => TlsErrorKind::Other,
    };
    Error::Tls(TlsError::new(peer, kind, tls.to_string()))
}
