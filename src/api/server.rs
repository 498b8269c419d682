//! The API's connections: a TCP or Unix listener, TLS from `[http]`'s files when
//! set, and hyper's HTTP/1.1 on each, with a bound on how long a client may take
//! to send its headers.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use super::auth::Peer;
use crate::config::{Listen, TlsFiles};

/// How long a client has to finish its TLS handshake, and to send a request's
/// headers.
const HANDSHAKE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {listen}: {error}")]
    Bind {
        listen: String,
        error: std::io::Error,
    },
    #[error("[http] tls_cert/tls_key: {0}")]
    Tls(String),
}

pub(super) enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

pub(super) async fn bind(listen: &Listen) -> Result<Listener, ServeError> {
    let failed = |error| ServeError::Bind {
        listen: listen.to_string(),
        error,
    };
    match listen {
        Listen::Tcp(addr) => Ok(Listener::Tcp(
            TcpListener::bind(addr).await.map_err(failed)?,
        )),
        Listen::Unix(path) => {
            // A socket left by a daemon that was killed would refuse the bind.
            if std::fs::symlink_metadata(path)
                .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
            {
                std::fs::remove_file(path).map_err(failed)?;
            }
            let l = UnixListener::bind(path).map_err(failed)?;
            // The reverse proxy connects through its group; others cannot.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
                .map_err(failed)?;
            Ok(Listener::Unix(l))
        }
    }
}

pub(super) fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, ServeError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_slice_iter(&files.cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ServeError::Tls(format!("the certificate chain: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(&files.key_pem)
        .map_err(|e| ServeError::Tls(format!("the key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServeError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts connections until the task is dropped.
pub(super) async fn serve(listener: Listener, tls: Option<TlsAcceptor>, app: Router) {
    loop {
        let accepted = match &listener {
            Listener::Tcp(l) => l
                .accept()
                .await
                .map(|(s, a)| Conn::Tcp(s, a.ip().to_string())),
            Listener::Unix(l) => l.accept().await.map(|(s, _)| Conn::Unix(s)),
        };
        let conn = match accepted {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors, say: wait rather than spin.
                tracing::warn!(error = %e, "the API cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (app, tls) = (app.clone(), tls.clone());
        tokio::spawn(async move {
            match (conn, tls) {
                (Conn::Tcp(s, peer), Some(tls)) => {
                    if let Ok(Ok(s)) = tokio::time::timeout(HANDSHAKE, tls.accept(s)).await {
                        one(s, peer, app).await;
                    }
                }
                (Conn::Tcp(s, peer), None) => one(s, peer, app).await,
                (Conn::Unix(s), _) => one(s, "unix".into(), app).await,
            }
        });
    }
}

enum Conn {
    Tcp(tokio::net::TcpStream, String),
    Unix(tokio::net::UnixStream),
}

async fn one<S>(stream: S, peer: String, app: Router)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = tower::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(Peer(peer.clone()));
        app.clone().oneshot(req)
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HANDSHAKE)
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
        .await;
    if let Err(e) = served {
        tracing::debug!(error = %e, "an API connection ended with an error");
    }
}
