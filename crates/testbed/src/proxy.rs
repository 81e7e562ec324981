//! A tiny forward proxy for tests: HTTP (absolute-form forwarding and CONNECT tunnels), the
//! same over TLS (an `https://` proxy, with a CA of its own like the HTTPS server's), or
//! SOCKS5 (no auth, or user/password), on 127.0.0.1 only.
//!
//! It records what each connection asked for ([`ProxySeen`]) so tests can assert exact values:
//! the request target, the `Proxy-Authorization` it carried, the SOCKS credentials and address.
//! Only the first request of each connection is parsed; after it the proxy just copies bytes
//! both ways. Plain threads and blocking sockets keep it small; every socket has a 10 s read
//! timeout and at most [`MAX_CONNECTIONS`] connections are served at once (more are closed).
//!
//! ```
//! let proxy = testbed::proxy::Proxy::http();
//! assert!(proxy.url().starts_with("http://127.0.0.1:"));
//! assert!(proxy.seen().is_empty());
//! ```

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use rustls::{ServerConfig, ServerConnection};

/// Connections served at once; further ones are closed on accept.
pub const MAX_CONNECTIONS: usize = 64;

const MAX_HEAD: usize = 64 * 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// What one connection to the proxy asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxySeen {
    /// `forward` (an absolute-form HTTP request), `connect` (an HTTP CONNECT) or `socks5`.
    pub kind: &'static str,
    /// The request target: `http://host:port/path` when forwarding, `host:port` for CONNECT
    /// and SOCKS5 (a SOCKS5 domain name as sent, an address in its usual form).
    pub target: String,
    /// The `Proxy-Authorization` header of the request, if any (HTTP only).
    pub proxy_authorization: Option<String>,
    /// For SOCKS5: the user name and password sent, if the client authenticated.
    pub socks_auth: Option<(String, String)>,
    /// For SOCKS5: true when the client sent a domain name rather than an address.
    pub socks_domain: bool,
    /// The request head as received, header lines included (HTTP only).
    pub head: String,
}

#[derive(Clone)]
enum Mode {
    Http,
    Https(Arc<ServerConfig>),
    Socks5 { auth: Option<(String, String)> },
}

struct Shared {
    seen: Mutex<Vec<ProxySeen>>,
    active: AtomicUsize,
    stop: AtomicBool,
}

/// The CA of an https:// proxy's certificate.
struct Ca {
    pem: String,
    file: tempfile::NamedTempFile,
}

/// A running proxy; dropping it stops accepting connections.
pub struct Proxy {
    addr: SocketAddr,
    scheme: &'static str,
    shared: Arc<Shared>,
    ca: Option<Ca>,
}

impl Proxy {
    /// An HTTP proxy: forwards absolute-form requests and opens CONNECT tunnels.
    pub fn http() -> Proxy {
        Proxy::start(Mode::Http, "http")
    }

    /// An HTTP proxy reached over TLS (`https://127.0.0.1:PORT`), ALPN `http/1.1` only. Its
    /// certificate covers `localhost` and `127.0.0.1` and is signed by a CA of its own (not the
    /// one of any [`crate::Server`]): see [`Proxy::ca_pem_path`]. A client that rejects the
    /// certificate leaves nothing in [`Proxy::seen`].
    pub fn https() -> Proxy {
        let identity = crate::cert::generate().expect("make the proxy's certificate");
        let mut config = (*identity.config).clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let mut proxy = Proxy::start(Mode::Https(Arc::new(config)), "https");
        let mut file = tempfile::Builder::new()
            .prefix("testbed-proxy-ca-")
            .suffix(".pem")
            .tempfile()
            .expect("create the proxy's CA file");
        file.write_all(identity.ca_pem.as_bytes())
            .and_then(|()| file.flush())
            .expect("write the proxy's CA file");
        proxy.ca = Some(Ca {
            pem: identity.ca_pem,
            file,
        });
        proxy
    }

    /// A SOCKS5 proxy that accepts clients without authentication.
    pub fn socks5() -> Proxy {
        Proxy::start(Mode::Socks5 { auth: None }, "socks5")
    }

    /// A SOCKS5 proxy that requires this user name and password.
    pub fn socks5_auth(user: &str, pass: &str) -> Proxy {
        let auth = Some((user.to_owned(), pass.to_owned()));
        Proxy::start(Mode::Socks5 { auth }, "socks5")
    }

    fn start(mode: Mode, scheme: &'static str) -> Proxy {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared {
            seen: Mutex::new(Vec::new()),
            active: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let s = Arc::clone(&shared);
        thread::spawn(move || accept_loop(listener, mode, s));
        Proxy {
            addr,
            scheme,
            shared,
            ca: None,
        }
    }

    /// The proxy's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, `https://127.0.0.1:PORT` or `socks5://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Path of a PEM file with the CA of an https proxy's certificate (lives as long as the
    /// handle; panics for other proxies).
    pub fn ca_pem_path(&self) -> &Path {
        self.ca().file.path()
    }

    /// The CA of an https proxy's certificate as PEM text (panics for other proxies).
    pub fn ca_pem(&self) -> &str {
        &self.ca().pem
    }

    fn ca(&self) -> &Ca {
        self.ca
            .as_ref()
            .expect("only Proxy::https() has a certificate")
    }

    /// What every connection asked for so far, in arrival order.
    pub fn seen(&self) -> Vec<ProxySeen> {
        self.shared
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

fn accept_loop(listener: TcpListener, mode: Mode, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(conn) = conn else { continue };
        if shared.active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            shared.active.fetch_sub(1, Ordering::SeqCst);
            continue;
        }
        let mode = mode.clone();
        let s = Arc::clone(&shared);
        thread::spawn(move || {
            let _ = conn.set_read_timeout(Some(IO_TIMEOUT));
            let _ = conn.set_write_timeout(Some(IO_TIMEOUT));
            let _ = match mode {
                Mode::Http => serve_http(Side::Tcp(conn), &s),
                Mode::Https(config) => {
                    TlsSide::new(config, conn).and_then(|tls| serve_http(Side::Tls(tls), &s))
                }
                Mode::Socks5 { auth } => serve_socks5(conn, auth.as_ref(), &s),
            };
            s.active.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

fn record(shared: &Shared, seen: ProxySeen) {
    shared
        .seen
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(seen);
}

/// The client's end of a proxy connection: TCP, or TLS over it. Two clones (one reading, one
/// writing) let [`pipe`] copy both ways at once.
enum Side {
    Tcp(TcpStream),
    Tls(TlsSide),
}

impl Side {
    fn try_clone(&self) -> io::Result<Side> {
        Ok(match self {
            Side::Tcp(s) => Side::Tcp(s.try_clone()?),
            Side::Tls(s) => Side::Tls(s.try_clone()?),
        })
    }

    /// Closes both directions (a TLS side says `close_notify` first).
    fn close(&mut self) {
        match self {
            Side::Tcp(s) => {
                let _ = s.shutdown(Shutdown::Both);
            }
            Side::Tls(s) => s.close(),
        }
    }
}

impl Read for Side {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Side::Tcp(s) => s.read(buf),
            Side::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Side {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Side::Tcp(s) => s.write(buf),
            Side::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Side::Tcp(s) => s.flush(),
            Side::Tls(s) => s.flush(),
        }
    }
}

/// A rustls server session over blocking TCP that can be read on one thread and written on
/// another: the session sits behind a lock, taken only while bytes move in or out of it, never
/// across a blocking socket read. Each clone has its own socket handle; only one may read.
struct TlsSide {
    conn: Arc<Mutex<ServerConnection>>,
    tcp: TcpStream,
    /// TLS bytes read from the socket that the session has not taken yet.
    pending: Vec<u8>,
}

impl TlsSide {
    /// Starts the session; the handshake runs as the first bytes are read.
    fn new(config: Arc<ServerConfig>, tcp: TcpStream) -> io::Result<TlsSide> {
        let conn = ServerConnection::new(config).map_err(io::Error::other)?;
        Ok(TlsSide {
            conn: Arc::new(Mutex::new(conn)),
            tcp,
            pending: Vec::new(),
        })
    }

    fn try_clone(&self) -> io::Result<TlsSide> {
        Ok(TlsSide {
            conn: Arc::clone(&self.conn),
            tcp: self.tcp.try_clone()?,
            pending: Vec::new(),
        })
    }

    fn lock(conn: &Mutex<ServerConnection>) -> MutexGuard<'_, ServerConnection> {
        conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends what the session has queued (handshake messages, records, alerts).
    fn send(conn: &mut ServerConnection, mut tcp: &TcpStream) -> io::Result<()> {
        while conn.wants_write() {
            conn.write_tls(&mut tcp)?;
        }
        Ok(())
    }

    fn close(&mut self) {
        let mut conn = TlsSide::lock(&self.conn);
        conn.send_close_notify();
        let _ = TlsSide::send(&mut conn, &self.tcp);
        drop(conn);
        let _ = self.tcp.shutdown(Shutdown::Both);
    }
}

impl Read for TlsSide {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            {
                let mut conn = TlsSide::lock(&self.conn);
                match conn.reader().read(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                if !self.pending.is_empty() {
                    let mut rest = &self.pending[..];
                    conn.read_tls(&mut rest)?;
                    let used = self.pending.len() - rest.len();
                    self.pending.drain(..used);
                    let state = conn.process_new_packets();
                    // Alerts (a rejected certificate, say) go out before the error comes back.
                    TlsSide::send(&mut conn, &self.tcp)?;
                    state.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                    continue;
                }
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.tcp.read(&mut chunk)?;
            if n == 0 {
                return Ok(0);
            }
            self.pending.extend_from_slice(&chunk[..n]);
        }
    }
}

impl Write for TlsSide {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut conn = TlsSide::lock(&self.conn);
        let n = conn.writer().write(buf)?;
        TlsSide::send(&mut conn, &self.tcp)?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        let mut conn = TlsSide::lock(&self.conn);
        conn.writer().flush()?;
        TlsSide::send(&mut conn, &self.tcp)
    }
}

/// Reads up to the end of the head; returns the head and any bytes read after it.
fn read_head(conn: &mut impl Read) -> io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::other("request head too large"));
        }
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn serve_http(mut client: Side, shared: &Shared) -> io::Result<()> {
    let (head, rest) = read_head(&mut client)?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let version = parts.next().unwrap_or("HTTP/1.1").to_owned();
    let fields: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    let proxy_authorization = fields.iter().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case("proxy-authorization")
            .then(|| v.trim().to_owned())
    });
    let connect = method == "CONNECT";
    record(
        shared,
        ProxySeen {
            kind: if connect { "connect" } else { "forward" },
            target: target.clone(),
            proxy_authorization,
            socks_auth: None,
            socks_domain: false,
            head: head.clone(),
        },
    );
    if connect {
        let Ok(mut origin) = dial(&target) else {
            client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")?;
            return Ok(());
        };
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
        origin.write_all(&rest)?;
        return pipe(client, origin);
    }
    // Absolute form: http://host[:port]/path → connect to host:port, send the origin form.
    let Some(after) = target.strip_prefix("http://") else {
        client.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")?;
        return Ok(());
    };
    let (authority, path) = match after.find('/') {
        Some(i) => (&after[..i], &after[i..]),
        None => (after, "/"),
    };
    let authority = if authority
        .rsplit_once(':')
        .is_some_and(|(h, _)| !h.ends_with(']'))
    {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let Ok(mut origin) = dial(&authority) else {
        client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")?;
        return Ok(());
    };
    let mut out = format!("{method} {path} {version}\r\n");
    for f in fields {
        let name = f.split(':').next().unwrap_or_default();
        if name.eq_ignore_ascii_case("proxy-authorization")
            || name.eq_ignore_ascii_case("proxy-connection")
        {
            continue;
        }
        out.push_str(f);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    origin.write_all(out.as_bytes())?;
    origin.write_all(&rest)?;
    pipe(client, origin)
}

fn dial(authority: &str) -> io::Result<TcpStream> {
    let mut last = io::Error::other("no address");
    for addr in authority.to_socket_addrs()? {
        if !addr.ip().is_loopback() {
            last = io::Error::other("the test proxy only reaches loopback");
            continue;
        }
        match TcpStream::connect_timeout(&addr, IO_TIMEOUT) {
            Ok(s) => {
                s.set_read_timeout(Some(IO_TIMEOUT))?;
                s.set_write_timeout(Some(IO_TIMEOUT))?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Copies bytes both ways until either side closes.
fn pipe(client: Side, origin: TcpStream) -> io::Result<()> {
    let (mut c2, mut o2) = (client.try_clone()?, origin.try_clone()?);
    let up = thread::spawn(move || {
        let mut c = client;
        let mut o = origin;
        let _ = io::copy(&mut c, &mut o);
        let _ = o.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut o2, &mut c2);
    c2.close();
    let _ = up.join();
    Ok(())
}

fn read_exact_vec(conn: &mut TcpStream, n: usize) -> io::Result<Vec<u8>> {
    let mut v = vec![0u8; n];
    conn.read_exact(&mut v)?;
    Ok(v)
}

fn serve_socks5(
    mut client: TcpStream,
    auth: Option<&(String, String)>,
    shared: &Shared,
) -> io::Result<()> {
    let hello = read_exact_vec(&mut client, 2)?;
    if hello[0] != 5 {
        return Err(io::Error::other("not SOCKS5"));
    }
    let methods = read_exact_vec(&mut client, hello[1] as usize)?;
    let mut sent_auth = None;
    match auth {
        None if methods.contains(&0) => client.write_all(&[5, 0])?,
        Some(want) if methods.contains(&2) => {
            client.write_all(&[5, 2])?;
            let ver_ulen = read_exact_vec(&mut client, 2)?;
            let user = read_exact_vec(&mut client, ver_ulen[1] as usize)?;
            let plen = read_exact_vec(&mut client, 1)?;
            let pass = read_exact_vec(&mut client, plen[0] as usize)?;
            let got = (
                String::from_utf8_lossy(&user).into_owned(),
                String::from_utf8_lossy(&pass).into_owned(),
            );
            let ok = &got == want;
            sent_auth = Some(got);
            client.write_all(&[1, if ok { 0 } else { 1 }])?;
            if !ok {
                return Ok(());
            }
        }
        _ => {
            client.write_all(&[5, 0xff])?;
            return Ok(());
        }
    }
    let req = read_exact_vec(&mut client, 4)?;
    let (host, domain) = match req[3] {
        1 => {
            let a = read_exact_vec(&mut client, 4)?;
            (Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string(), false)
        }
        3 => {
            let len = read_exact_vec(&mut client, 1)?;
            let name = read_exact_vec(&mut client, len[0] as usize)?;
            (String::from_utf8_lossy(&name).into_owned(), true)
        }
        4 => {
            let a: [u8; 16] = read_exact_vec(&mut client, 16)?
                .try_into()
                .expect("16 bytes");
            (format!("[{}]", Ipv6Addr::from(a)), false)
        }
        _ => return Err(io::Error::other("bad address type")),
    };
    let port = read_exact_vec(&mut client, 2)?;
    let target = format!("{host}:{}", u16::from_be_bytes([port[0], port[1]]));
    record(
        shared,
        ProxySeen {
            kind: "socks5",
            target: target.clone(),
            proxy_authorization: None,
            socks_auth: sent_auth,
            socks_domain: domain,
            head: String::new(),
        },
    );
    if req[1] != 1 {
        client.write_all(&[5, 7, 0, 1, 0, 0, 0, 0, 0, 0])?;
        return Ok(());
    }
    let Ok(origin) = dial(&target) else {
        client.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0])?;
        return Ok(());
    };
    client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0])?;
    pipe(Side::Tcp(client), origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_absolute_form_and_records_it() {
        let srv = crate::Server::start();
        let proxy = Proxy::http();
        let mut c = TcpStream::connect(proxy.addr()).unwrap();
        let url = srv.url("/status/204");
        write!(
            c,
            "GET {url} HTTP/1.1\r\nHost: {}\r\nProxy-Authorization: Basic eDp5\r\nConnection: close\r\n\r\n",
            srv.host_addr(0)
        )
        .unwrap();
        let mut resp = String::new();
        c.read_to_string(&mut resp).unwrap();
        assert!(resp.starts_with("HTTP/1.1 204"), "{resp}");
        let seen = proxy.seen();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].kind, "forward");
        assert_eq!(seen[0].target, url);
        assert_eq!(seen[0].proxy_authorization.as_deref(), Some("Basic eDp5"));
        let got = &srv.requests()[0];
        assert_eq!(got.path_and_query, "/status/204");
        assert!(got.headers.iter().all(|(n, _)| n != "proxy-authorization"));
    }

    #[test]
    fn socks5_with_auth_records_credentials_and_target() {
        let srv = crate::Server::start();
        let proxy = Proxy::socks5_auth("u", "p");
        let mut c = TcpStream::connect(proxy.addr()).unwrap();
        c.write_all(&[5, 1, 2]).unwrap();
        let mut r = [0u8; 2];
        c.read_exact(&mut r).unwrap();
        assert_eq!(r, [5, 2]);
        c.write_all(&[1, 1, b'u', 1, b'p']).unwrap();
        c.read_exact(&mut r).unwrap();
        assert_eq!(r, [1, 0]);
        let port = srv.host_addr(0).port().to_be_bytes();
        c.write_all(&[5, 1, 0, 1, 127, 0, 0, 1, port[0], port[1]])
            .unwrap();
        let mut reply = [0u8; 10];
        c.read_exact(&mut reply).unwrap();
        assert_eq!(reply[1], 0);
        write!(
            c,
            "GET /status/204 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut resp = String::new();
        c.read_to_string(&mut resp).unwrap();
        assert!(resp.starts_with("HTTP/1.1 204"), "{resp}");
        let seen = proxy.seen();
        assert_eq!(seen[0].target, srv.host_addr(0).to_string());
        assert_eq!(seen[0].socks_auth, Some(("u".into(), "p".into())));
        assert!(!seen[0].socks_domain);
    }
}
