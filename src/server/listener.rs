//! Accepting connections: HTTP/1.1 through hyper, with a deadline for the request head (a
//! connection that sends nothing, or dribbles its headers, is closed: slow clients cannot hold
//! the server's sockets), and a graceful stop: no new connections, in-flight requests finish
//! within the grace period.

use std::{net::SocketAddr, time::Duration};

use axum::Router;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// How connections are bounded.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// For the request head (and the first byte).
    pub read_timeout: Duration,
    /// For in-flight requests after a stop.
    pub grace: Duration,
    /// Connections served at once: the next is accepted when one ends, so the process never
    /// runs out of descriptors and what it has open keeps being served.
    pub max_connections: usize,
}

/// The server's own address on a connection.
#[derive(Debug, Clone, Copy)]
pub struct LocalAddr(pub Option<std::net::SocketAddr>);

/// Serves `app` on `listener` until `stop` is cancelled, then drains for up to `grace`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stop: CancellationToken,
) {
    let ConnectionLimits { read_timeout, grace, max_connections } = limits;
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(read_timeout).keep_alive(true);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = stop.cancelled() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stop.cancelled() => break,
        };
        let (http, app, watcher, tls) = (http.clone(), app.clone(), graceful.watcher(), tls.clone());
        tokio::spawn(async move {
            let _slot = slot;
            // hyper's head deadline starts with the first byte; a connection that sends
            // nothing at all gets the same deadline here.
            let mut first = [0u8; 1];
            match tokio::time::timeout(read_timeout, stream.peek(&mut first)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return,
            }
            // Handlers that show more to loopback (health) need to know the peer; live sessions
            // offer the address the browser reached.
            let local = LocalAddr(stream.local_addr().ok());
            let app = app.layer(axum::Extension(axum::extract::ConnectInfo(peer))).layer(axum::Extension(local));
            let service = TowerToHyperService::new(app);
            let stream = stream_checked(stream);
            let outcome = match tls {
                None => watcher.watch(http.serve_connection(TokioIo::new(stream), service)).await,
                // The handshake has the head's deadline too.
                Some(tls) => match tokio::time::timeout(read_timeout, tls.accept(stream)).await {
                    Ok(Ok(stream)) => watcher.watch(http.serve_connection(TokioIo::new(stream), service)).await,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => return,
                },
            };
            if let Err(e) = outcome {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("every connection finished"),
        () = tokio::time::sleep(grace) => tracing::warn!(grace_s = grace.as_secs_f64(), "grace period over: closing the connections still open"),
    }
}

fn stream_checked(stream: TcpStream) -> TcpStream {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot turn off Nagle's algorithm");
    }
    stream
}

/// The address `listener` is bound to, for messages.
pub fn bound(listener: &TcpListener, asked: SocketAddr) -> SocketAddr {
    listener.local_addr().unwrap_or(asked)
}
