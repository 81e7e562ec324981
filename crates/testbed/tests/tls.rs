//! The TLS listener: handshake against the generated CA, HTTP/2 and HTTP/1.1 chosen by ALPN,
//! shared routes, and how raw plans are mapped (reset fails the request).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Version;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};
use testbed::{Server, TLS_HOST};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

fn connector(srv: &Server, alpn: &[&[u8]]) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(srv.ca_der().to_vec()))
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(config))
}

async fn tls_stream(srv: &Server, alpn: &[&[u8]]) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = TcpStream::connect(srv.https_addr()).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    connector(srv, alpn).connect(name, tcp).await.unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn get(path: &str) -> hyper::Request<Empty<Bytes>> {
    hyper::Request::get(path)
        .header("host", "localhost")
        .body(Empty::new())
        .unwrap()
}

#[test]
fn h2_by_alpn_serves_shared_routes() {
    let srv = Server::builder().tls(true).start();
    assert!(srv.https_url("/x").starts_with("https://localhost:"));
    assert!(std::fs::read_to_string(srv.ca_pem_path())
        .unwrap()
        .contains("BEGIN CERTIFICATE"));
    rt().block_on(async {
        let tls = tls_stream(&srv, &[b"h2", b"http/1.1"]).await;
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
        let (mut send, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                .await
                .unwrap();
        tokio::spawn(conn);

        let res = send.send_request(get("/title/plain")).await.unwrap();
        assert_eq!(res.version(), Version::HTTP_2);
        assert_eq!(res.headers()["server"], "testbed");
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, testbed::pages::PLAIN.as_bytes());

        // Several streams at once on one connection.
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let mut send = send.clone();
            tasks.push(tokio::spawn(async move {
                let res = send.send_request(get("/delay/400")).await.unwrap();
                res.into_body().collect().await.unwrap().to_bytes()
            }));
        }
        for t in tasks {
            assert!(std::str::from_utf8(&t.await.unwrap())
                .unwrap()
                .contains("Delayed"));
        }
        assert!(start.elapsed() < Duration::from_millis(2500));

        // A raw-only plan fails the stream, not the whole test.
        let res = send.send_request(get("/reset")).await;
        assert!(res.is_err());

        let res = send.send_request(get("/drip?bytes=3&interval_ms=20")).await;
        let body = res.unwrap().into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body, "xxx");
    });
    let seen = srv.requests();
    assert_eq!(seen[0].version, "HTTP/2.0");
    assert_eq!(seen[0].host, TLS_HOST);
    assert!(seen[0].tls);
    assert_eq!(seen[0].header("host"), Some("localhost"));
    assert_eq!(srv.max_concurrent_host(TLS_HOST), 3);
    assert_eq!(srv.connections_host(TLS_HOST), 1);
    // The three delayed streams overlapped: the last of them arrived with three in flight.
    let delayed: Vec<_> = seen
        .iter()
        .filter(|s| s.path_and_query == "/delay/400")
        .collect();
    assert_eq!(delayed.len(), 3);
    assert_eq!(delayed.iter().map(|s| s.concurrent).max(), Some(3));
    assert!(seen
        .windows(2)
        .all(|w| w[0].at <= w[1].at + Duration::from_millis(50)));
    assert!(seen.last().unwrap().at <= srv.elapsed());
}

#[test]
fn http11_by_alpn_and_hosts_together() {
    let srv = Server::builder().hosts(2).tls(true).start();
    rt().block_on(async {
        let tls = tls_stream(&srv, &[b"http/1.1"]).await;
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        tokio::spawn(conn);
        let res = send.send_request(get("/gzip")).await.unwrap();
        assert_eq!(res.version(), Version::HTTP_11);
        assert_eq!(res.headers()["content-encoding"], "gzip");
        let res = send
            .send_request(get("/bytes-chunked/70000"))
            .await
            .unwrap();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body.len(), 70_000);
    });
    let seen = srv.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].version, "HTTP/1.1");
    assert_eq!(srv.connections(), 1);
    assert_eq!(srv.connections_host(1), 0);
}
