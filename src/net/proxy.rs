//! HTTP CONNECT proxies (placeholder until the proxy module lands).

use tokio::net::TcpStream;
use tokio::time::Instant;

/// An HTTP proxy.
#[derive(Clone, Debug)]
pub struct Proxy {
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
}

impl Proxy {
    /// The URL without secrets.
    pub fn redacted(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }
}

/// Proxy errors.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// Not available.
    #[error("proxies are not supported")]
    Unsupported,
}

/// Connects through the proxy.
pub async fn connect(
    _proxy: &Proxy,
    _host: &str,
    _port: u16,
    _deadline: Instant,
) -> Result<TcpStream, ProxyError> {
    Err(ProxyError::Unsupported)
}
