//! TLS with rustls (ring provider): the client side of `wss://` targets and the server side of
//! `serve --tls` and `run --client --tls`.
//!
//! The client trusts the system's store (rustls-native-certs, which honours `SSL_CERT_FILE`
//! and `SSL_CERT_DIR`), or only the PEM file of `--ca` when one is given (as curl's
//! `--cacert`); `--insecure` accepts any certificate but still checks the handshake's
//! signatures. SNI is the URL's host (not sent for an IP address, RFC 6066 §3), ALPN offers
//! `http/1.1` (a WebSocket handshake is HTTP/1.1, RFC 6455 §4.1). Both sides write the session
//! secrets to the file `SSLKEYLOGFILE` names, when it is set, so captures can be decrypted
//! (`wsprobe inspect --keylog`, Wireshark).
//!
//! A failed handshake is one [`TlsFailure`] whose message says what went wrong in the user's
//! terms: unknown issuer, name mismatch, expired, handshake failure, a plain server on the TLS
//! port, and so on.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct, Error as RustlsError,
    InvalidMessage, RootCertStore, ServerConfig, SignatureScheme,
};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};

use super::{Io, Stream};

/// The ALPN protocol a WebSocket handshake is spoken in.
const ALPN_HTTP11: &[u8] = b"http/1.1";

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// `--ca`, `--insecure`, `--cert` and `--key` as given.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// Trust only the certificates of this PEM file instead of the system's store.
    pub ca: Option<PathBuf>,
    /// Accept any server certificate.
    pub insecure: bool,
    /// Client certificate chain (PEM), sent when the server asks for one.
    pub cert: Option<PathBuf>,
    /// The client certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
}

/// Why TLS settings could not be built from the files given (usage errors: nothing was run).
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A file could not be read or holds nothing usable.
    #[error("{path}: {why}")]
    File {
        /// The file.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// rustls refused the combination (e.g. a key that does not match the certificate).
    #[error("{0}")]
    Config(String),
    /// The system's trust store has no certificate at all.
    #[error(
        "no trusted certificates found in the system's store ({0}); give the CA with --ca FILE"
    )]
    NoTrustStore(String),
    /// A certificate could not be generated.
    #[error("cannot generate a certificate: {0}")]
    Generate(String),
}

impl SetupError {
    /// Whether the user's input is at fault (exit 2) rather than the environment (exit 3).
    pub fn is_usage(&self) -> bool {
        !matches!(self, SetupError::NoTrustStore(_))
    }
}

fn file_error(path: &Path, why: impl fmt::Display) -> SetupError {
    SetupError::File {
        path: path.display().to_string(),
        why: why.to_string(),
    }
}

/// Reads every certificate of a PEM file; an empty file is an error.
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, SetupError> {
    let bytes = std::fs::read(path).map_err(|e| file_error(path, e))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| file_error(path, format!("not a PEM certificate file: {e}")))?;
    if certs.is_empty() {
        return Err(file_error(
            path,
            "no certificate in it (expected -----BEGIN CERTIFICATE-----)",
        ));
    }
    Ok(certs)
}

/// Reads the first private key of a PEM file.
pub fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, SetupError> {
    let bytes = std::fs::read(path).map_err(|e| file_error(path, e))?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| {
        file_error(
            path,
            format!("no usable private key in it (PKCS#8, PKCS#1 or SEC1 PEM): {e}"),
        )
    })
}

/// The TLS side of a `wss://` target: settings and the name to verify.
#[derive(Clone)]
pub struct ClientTls {
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    host: String,
    /// `--insecure`: any certificate is accepted.
    pub insecure: bool,
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTls")
            .field("host", &self.host)
            .field("insecure", &self.insecure)
            .finish_non_exhaustive()
    }
}

impl ClientTls {
    /// Settings for connecting to `host` (a name or an IP address, without brackets).
    pub fn new(options: &ClientOptions, host: &str) -> Result<ClientTls, SetupError> {
        let server_name = ServerName::try_from(host.to_string())
            .map_err(|e| SetupError::Config(format!("'{host}' is not a valid TLS name: {e}")))?;
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| SetupError::Config(e.to_string()))?;
        let builder = if options.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAny {
                    algorithms: provider().signature_verification_algorithms,
                }))
        } else {
            builder.with_root_certificates(roots(options.ca.as_deref())?)
        };
        let mut config = match (&options.cert, &options.key) {
            (Some(cert), Some(key)) => builder
                .with_client_auth_cert(read_certs(cert)?, read_key(key)?)
                .map_err(|e| {
                    SetupError::Config(format!(
                        "--cert {} and --key {} do not make a usable pair: {e}",
                        cert.display(),
                        key.display()
                    ))
                })?,
            (None, None) => builder.with_no_client_auth(),
            _ => {
                return Err(SetupError::Config(
                    "--cert and --key go together (the certificate and its private key)".into(),
                ));
            }
        };
        config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        config.key_log = Arc::new(rustls::KeyLogFile::new());
        Ok(ClientTls {
            config: Arc::new(config),
            server_name,
            host: host.to_string(),
            insecure: options.insecure,
        })
    }

    /// Settings that trust exactly the certificates of `pem` (the embedded server's own).
    pub fn trusting(pem: &str, host: &str) -> Result<ClientTls, SetupError> {
        let mut store = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            let cert = cert.map_err(|e| SetupError::Config(e.to_string()))?;
            store
                .add(cert)
                .map_err(|e| SetupError::Config(e.to_string()))?;
        }
        let server_name = ServerName::try_from(host.to_string())
            .map_err(|e| SetupError::Config(format!("'{host}' is not a valid TLS name: {e}")))?;
        let mut config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| SetupError::Config(e.to_string()))?
            .with_root_certificates(store)
            .with_no_client_auth();
        config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        config.key_log = Arc::new(rustls::KeyLogFile::new());
        Ok(ClientTls {
            config: Arc::new(config),
            server_name,
            host: host.to_string(),
            insecure: false,
        })
    }

    /// The same settings offering only HTTP/2 by ALPN (RFC 9113 §3.2), for `run --http2`.
    pub fn for_http2(&self) -> ClientTls {
        let mut config = (*self.config).clone();
        config.alpn_protocols = vec![super::h2::ALPN_H2.to_vec()];
        ClientTls {
            config: Arc::new(config),
            server_name: self.server_name.clone(),
            host: self.host.clone(),
            insecure: self.insecure,
        }
    }

    /// Runs the TLS handshake on `tcp`, bounded by `deadline`.
    pub async fn handshake(&self, tcp: TcpStream, deadline: Instant) -> Result<Stream, TlsFailure> {
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&self.config));
        let started = Instant::now();
        match timeout_at(deadline, connector.connect(self.server_name.clone(), tcp)).await {
            Ok(Ok(s)) => Ok(Stream::new(Io::TlsClient(Box::new(s)))),
            Ok(Err(e)) => Err(TlsFailure::classify(&self.host, &e, self.has_client_cert())),
            Err(_) => Err(TlsFailure {
                kind: FailureKind::Timeout,
                host: self.host.clone(),
                detail: format!(
                    "no TLS answer within {:.1}s (is it a plain ws:// port? then use ws://)",
                    started.elapsed().as_secs_f64()
                ),
            }),
        }
    }

    /// The TLS failure behind an I/O error on an open connection, if it is one: in TLS 1.3 the
    /// server judges the client's certificate after the client has finished its handshake, so
    /// a refusal arrives as an alert on the first read.
    pub fn failure_in(&self, e: &io::Error) -> Option<TlsFailure> {
        e.get_ref()
            .and_then(|i| i.downcast_ref::<RustlsError>())
            .map(|_| TlsFailure::classify(&self.host, e, self.has_client_cert()))
    }

    fn has_client_cert(&self) -> bool {
        self.config.client_auth_cert_resolver.has_certs()
    }
}

/// The trust anchors: `--ca`'s file alone, or the system's store.
fn roots(ca: Option<&Path>) -> Result<RootCertStore, SetupError> {
    let mut store = RootCertStore::empty();
    if let Some(path) = ca {
        for cert in read_certs(path)? {
            store
                .add(cert)
                .map_err(|e| file_error(path, format!("not a usable CA certificate: {e}")))?;
        }
        return Ok(store);
    }
    let found = rustls_native_certs::load_native_certs();
    let (added, _ignored) = store.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found
            .errors
            .first()
            .map(ToString::to_string)
            .unwrap_or_else(|| "it is empty".into());
        return Err(SetupError::NoTrustStore(why));
    }
    Ok(store)
}

/// `--insecure`: every certificate is accepted; the handshake's signatures are still checked,
/// so the connection is encrypted to whoever holds the certificate's key.
#[derive(Debug)]
struct AcceptAny {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, RustlsError> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, RustlsError> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, RustlsError> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// What kind of TLS failure it was, for tests and exit paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The certificate chain does not lead to a trusted root.
    UnknownIssuer,
    /// The certificate is not for the host name (or address) connected to.
    NameMismatch,
    /// The certificate has expired.
    Expired,
    /// The certificate is not valid yet.
    NotYetValid,
    /// The certificate was rejected for another reason.
    BadCertificate,
    /// The server asked for a client certificate wsprobe does not have, or refused the one given.
    ClientCertificate,
    /// The server refused the handshake (no version, cipher suite or ALPN protocol in common).
    HandshakeFailure,
    /// What came back is not TLS: a plain server on the port.
    NotTls,
    /// The server closed the connection during the handshake.
    Closed,
    /// No handshake answer in time.
    Timeout,
    /// Anything else.
    Other,
}

/// A failed TLS handshake, as one line for the user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("TLS handshake with {host} failed: {detail}")]
pub struct TlsFailure {
    /// What kind of failure.
    pub kind: FailureKind,
    /// The host connected to.
    pub host: String,
    /// What happened, and what to do about it.
    pub detail: String,
}

impl TlsFailure {
    /// Explains the error a TLS handshake with `host` ended with.
    pub fn classify(host: &str, e: &io::Error, had_client_cert: bool) -> TlsFailure {
        let (kind, detail) = match e.get_ref().and_then(|i| i.downcast_ref::<RustlsError>()) {
            Some(tls) => explain(tls, host, had_client_cert),
            None => match e.kind() {
                io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe => (
                    FailureKind::Closed,
                    "the server closed the connection during the handshake (is it a plain \
                     ws:// port? then use ws://)"
                        .to_string(),
                ),
                _ => (FailureKind::Other, e.to_string()),
            },
        };
        TlsFailure {
            kind,
            host: host.to_string(),
            detail,
        }
    }
}

fn explain(e: &RustlsError, host: &str, had_client_cert: bool) -> (FailureKind, String) {
    use FailureKind as K;
    match e {
        RustlsError::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => (
                K::UnknownIssuer,
                format!(
                    "the certificate of {host} is not trusted: unknown issuer (give its CA with \
                     --ca FILE, or accept any certificate with --insecure)"
                ),
            ),
            CertificateError::NotValidForName => (
                K::NameMismatch,
                format!("the certificate is not valid for the name '{host}'"),
            ),
            CertificateError::NotValidForNameContext { presented, .. } => (
                K::NameMismatch,
                format!(
                    "the certificate is not valid for the name '{host}' (it is for {})",
                    if presented.is_empty() {
                        "no name".to_string()
                    } else {
                        presented.join(", ")
                    }
                ),
            ),
            CertificateError::Expired => (K::Expired, "the certificate has expired".into()),
            CertificateError::ExpiredContext { time, not_after } => (
                K::Expired,
                format!(
                    "the certificate has expired (valid until {}, now {})",
                    utc(not_after.as_secs()),
                    utc(time.as_secs())
                ),
            ),
            CertificateError::BadSignature => (
                K::BadCertificate,
                "the certificate's signature does not verify with the trusted CA of the same \
                 name (is --ca the right file?)"
                    .into(),
            ),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                (K::NotYetValid, "the certificate is not valid yet".into())
            }
            CertificateError::Other(o) if format!("{o:?}").contains("CaUsedAsEndEntity") => (
                K::BadCertificate,
                "the server presents a CA certificate as its own (basicConstraints CA:TRUE); a \
                 server certificate must not be a CA (with --insecure it is accepted)"
                    .into(),
            ),
            other => (
                K::BadCertificate,
                format!("the certificate was rejected: {other}"),
            ),
        },
        RustlsError::AlertReceived(alert) => match alert {
            AlertDescription::CertificateRequired if !had_client_cert => (
                K::ClientCertificate,
                "the server requires a client certificate (give one with --cert FILE --key FILE)"
                    .into(),
            ),
            AlertDescription::HandshakeFailure if !had_client_cert => (
                K::HandshakeFailure,
                "the server refused the handshake (handshake_failure alert: no TLS version or \
                 cipher suite in common, or it wants a client certificate: --cert/--key)"
                    .into(),
            ),
            AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateRequired
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateExpired
            | AlertDescription::AccessDenied
                if had_client_cert =>
            {
                (
                    K::ClientCertificate,
                    format!("the server refused wsprobe's client certificate ({alert:?} alert)"),
                )
            }
            AlertDescription::ProtocolVersion => (
                K::HandshakeFailure,
                "the server refused the handshake: no TLS version in common (wsprobe speaks TLS \
                 1.2 and 1.3)"
                    .into(),
            ),
            AlertDescription::NoApplicationProtocol => (
                K::HandshakeFailure,
                "the server refused the handshake: it does not speak http/1.1 (ALPN)".into(),
            ),
            other => (
                K::HandshakeFailure,
                format!("the server refused the handshake ({other:?} alert)"),
            ),
        },
        RustlsError::InvalidMessage(
            InvalidMessage::InvalidContentType | InvalidMessage::UnknownProtocolVersion,
        ) => (
            K::NotTls,
            "the server did not answer with TLS (a plain ws:// server? then use ws://)".into(),
        ),
        RustlsError::PeerIncompatible(p) => (
            K::HandshakeFailure,
            format!("no TLS parameters in common with the server: {p:?}"),
        ),
        RustlsError::NoApplicationProtocol => (
            K::HandshakeFailure,
            "the server chose no ALPN protocol wsprobe offered (http/1.1)".into(),
        ),
        other => (K::Other, other.to_string()),
    }
}

/// A Unix time as `YYYY-MM-DD HH:MM:SS UTC`.
fn utc(secs: u64) -> String {
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The (year, month, day) of a count of days since 1970-01-01 (Howard Hinnant's civil-date
/// algorithm), for the dates reports print without a date crate.
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// A TLS session's parameters, for reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// `TLSv1.3`, `TLSv1.2`.
    pub version: String,
    /// The cipher suite's IANA name.
    pub cipher_suite: String,
    /// The ALPN protocol agreed, if any.
    pub alpn: Option<String>,
}

impl SessionInfo {
    pub(super) fn of<D>(c: &rustls::ConnectionCommon<D>) -> SessionInfo {
        SessionInfo {
            version: c
                .protocol_version()
                .and_then(|v| v.as_str())
                .unwrap_or("?")
                .replace('_', "."),
            cipher_suite: c
                .negotiated_cipher_suite()
                .and_then(|s| s.suite().as_str())
                .unwrap_or("?")
                .to_string(),
            alpn: c
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
        }
    }
}

/// The server side: `serve --tls` and `run --client --tls`.
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<ServerConfig>,
    /// SHA-256 of the certificate (DER), as colon-separated hex.
    pub fingerprint: String,
    /// The certificate chain as PEM (what a client given `--ca` trusts).
    pub cert_pem: String,
    /// Generated at start rather than read from files.
    pub self_signed: bool,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls")
            .field("fingerprint", &self.fingerprint)
            .field("self_signed", &self.self_signed)
            .finish_non_exhaustive()
    }
}

/// How long a client may take over the TLS handshake before the server drops it.
pub const ACCEPT_TIMEOUT: Duration = Duration::from_secs(10);

impl ServerTls {
    /// A self-signed certificate for `names` (host names or IP addresses), generated now.
    pub fn self_signed(names: &[String]) -> Result<ServerTls, SetupError> {
        let generated = rcgen::generate_simple_self_signed(names.to_vec())
            .map_err(|e| SetupError::Generate(e.to_string()))?;
        let key = PrivateKeyDer::try_from(generated.signing_key.serialize_der())
            .map_err(|e| SetupError::Generate(e.to_string()))?;
        let cert = generated.cert.der().clone();
        let pem = generated.cert.pem();
        ServerTls::build(vec![cert], key, pem, true)
    }

    /// The certificate chain and key of PEM files.
    pub fn from_files(cert: &Path, key: &Path) -> Result<ServerTls, SetupError> {
        let certs = read_certs(cert)?;
        let pem = std::fs::read_to_string(cert).map_err(|e| file_error(cert, e))?;
        ServerTls::build(certs, read_key(key)?, pem, false)
    }

    fn build(
        certs: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        cert_pem: String,
        self_signed: bool,
    ) -> Result<ServerTls, SetupError> {
        let fingerprint = certs
            .first()
            .map(|c| fingerprint(c.as_ref()))
            .unwrap_or_default();
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| SetupError::Config(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| SetupError::Config(format!("certificate and key: {e}")))?;
        config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        config.key_log = Arc::new(rustls::KeyLogFile::new());
        Ok(ServerTls {
            config: Arc::new(config),
            fingerprint,
            cert_pem,
            self_signed,
        })
    }

    /// The same settings offering HTTP/2 first and HTTP/1.1 second by ALPN (RFC 9113 §3.2),
    /// for `serve --http2`.
    pub fn with_http2(&self) -> ServerTls {
        let mut config = (*self.config).clone();
        config.alpn_protocols = vec![super::h2::ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()];
        ServerTls {
            config: Arc::new(config),
            fingerprint: self.fingerprint.clone(),
            cert_pem: self.cert_pem.clone(),
            self_signed: self.self_signed,
        }
    }

    /// Runs the server's TLS handshake on an accepted connection, within [`ACCEPT_TIMEOUT`].
    pub async fn accept(&self, tcp: TcpStream) -> io::Result<Stream> {
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&self.config));
        match tokio::time::timeout(ACCEPT_TIMEOUT, acceptor.accept(tcp)).await {
            Ok(Ok(s)) => Ok(Stream::new(Io::TlsServer(Box::new(s)))),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no TLS handshake in time",
            )),
        }
    }
}

/// SHA-256 of `der` as `AB:CD:…`.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_renders_known_instants() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_796_400_000), "2026-12-04 16:00:00 UTC");
    }

    #[test]
    fn fingerprint_is_sha256_in_colon_hex() {
        // SHA-256 of the empty input.
        assert!(fingerprint(b"").starts_with("E3:B0:C4:42:98:FC:1C:14"));
        assert_eq!(fingerprint(b"x").len(), 32 * 3 - 1);
    }

    #[test]
    fn cert_and_key_files_are_checked_with_the_file_named() {
        let dir = std::env::temp_dir().join(format!("wsprobe-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "nothing here\n").expect("write");
        let e = read_certs(&empty).expect_err("empty");
        assert!(e.to_string().contains("empty.pem: no certificate"), "{e}");
        let e = read_key(&empty).expect_err("no key");
        assert!(
            e.to_string().contains("empty.pem: no usable private key"),
            "{e}"
        );
        let missing = dir.join("missing.pem");
        let e = read_certs(&missing).expect_err("missing");
        assert!(
            e.to_string().starts_with(&missing.display().to_string()),
            "{e}"
        );
        let e = ClientTls::new(
            &ClientOptions {
                cert: Some(empty.clone()),
                ..ClientOptions::default()
            },
            "localhost",
        )
        .expect_err("cert without key");
        assert!(e.to_string().contains("go together"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn self_signed_server_settings_carry_the_pem_and_fingerprint() {
        let tls = ServerTls::self_signed(&["localhost".into(), "127.0.0.1".into()]).expect("gen");
        assert!(tls.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let der = read_certs_from(&tls.cert_pem);
        assert_eq!(tls.fingerprint, fingerprint(der[0].as_ref()));
    }

    fn read_certs_from(pem: &str) -> Vec<CertificateDer<'static>> {
        CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<_, _>>()
            .expect("pem")
    }

    #[test]
    fn classify_explains_each_kind() {
        let wrap = |e: RustlsError| io::Error::new(io::ErrorKind::InvalidData, e);
        let cases = [
            (
                RustlsError::InvalidCertificate(CertificateError::UnknownIssuer),
                FailureKind::UnknownIssuer,
                "--ca FILE",
            ),
            (
                RustlsError::InvalidCertificate(CertificateError::NotValidForName),
                FailureKind::NameMismatch,
                "not valid for the name 'h'",
            ),
            (
                RustlsError::InvalidCertificate(CertificateError::Expired),
                FailureKind::Expired,
                "expired",
            ),
            (
                RustlsError::AlertReceived(AlertDescription::HandshakeFailure),
                FailureKind::HandshakeFailure,
                "handshake_failure",
            ),
            (
                RustlsError::AlertReceived(AlertDescription::CertificateRequired),
                FailureKind::ClientCertificate,
                "--cert FILE --key FILE",
            ),
            (
                RustlsError::InvalidMessage(InvalidMessage::InvalidContentType),
                FailureKind::NotTls,
                "use ws://",
            ),
        ];
        for (error, kind, text) in cases {
            let f = TlsFailure::classify("h", &wrap(error), false);
            assert_eq!(f.kind, kind, "{f}");
            assert!(f.to_string().contains(text), "{f}");
            assert!(
                f.to_string().starts_with("TLS handshake with h failed: "),
                "{f}"
            );
        }
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "eof");
        assert_eq!(
            TlsFailure::classify("h", &eof, false).kind,
            FailureKind::Closed
        );
    }
}
