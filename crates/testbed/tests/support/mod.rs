//! A tiny blocking HTTP/1.1 client over `std::net::TcpStream` for testbed's own tests: sends raw
//! bytes, parses one response (by length, chunked, or until close), never waits past a timeout.

#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Read timeout on every socket, so no test can hang.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// One parsed response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).map(|v| std::str::from_utf8(v).unwrap())
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

/// A connection that keeps unread bytes between responses.
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, raw: &[u8]) {
        self.stream.write_all(raw).unwrap();
    }

    /// Sends `GET path` with `Host` and any extra header lines (each ending in `\r\n`).
    pub fn get(&mut self, path: &str, extra: &str) -> io::Result<Response> {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: test\r\n{extra}\r\n").as_bytes());
        self.read_response(false)
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut tmp = [0u8; 16 * 1024];
        let n = self.stream.read(&mut tmp)?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    /// Reads the status line and headers only.
    pub fn read_head(&mut self) -> io::Result<Response> {
        loop {
            let mut slots = [httparse::EMPTY_HEADER; 64];
            let mut res = httparse::Response::new(&mut slots);
            if let httparse::Status::Complete(len) = res
                .parse(&self.buf)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
            {
                let out = Response {
                    status: res.code.unwrap(),
                    headers: res
                        .headers
                        .iter()
                        .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
                        .collect(),
                    body: Vec::new(),
                };
                self.buf.drain(..len);
                return Ok(out);
            }
            if self.fill()? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// Reads one whole response; `head_only` for answers to HEAD.
    pub fn read_response(&mut self, head_only: bool) -> io::Result<Response> {
        let mut res = self.read_head()?;
        if head_only || res.status == 204 || res.status == 304 {
            return Ok(res);
        }
        let chunked = res
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case(b"chunked"));
        if chunked {
            res.body = self.read_chunked()?;
        } else if let Some(len) = res.header_str("content-length") {
            let len: usize = len.parse().unwrap();
            while self.buf.len() < len {
                if self.fill()? == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
            }
            res.body = self.buf.drain(..len).collect();
        } else {
            while self.fill()? > 0 {}
            res.body = std::mem::take(&mut self.buf);
        }
        Ok(res)
    }

    fn read_line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf.drain(..i + 2).take(i).collect();
                return Ok(line);
            }
            if self.fill()? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line()?;
            let size = usize::from_str_radix(std::str::from_utf8(&line).unwrap().trim(), 16)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            if size == 0 {
                while !self.read_line()?.is_empty() {}
                return Ok(body);
            }
            while self.buf.len() < size + 2 {
                if self.fill()? == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
            }
            body.extend(self.buf.drain(..size));
            self.buf.drain(..2);
        }
    }

    /// Reads until EOF (or error); returns what came, plus the error if any.
    pub fn read_to_end(&mut self) -> (Vec<u8>, Option<io::Error>) {
        loop {
            match self.fill() {
                Ok(0) => return (std::mem::take(&mut self.buf), None),
                Ok(_) => {}
                Err(e) => return (std::mem::take(&mut self.buf), Some(e)),
            }
        }
    }
}

/// One GET on a fresh connection.
pub fn get(addr: SocketAddr, path: &str) -> Response {
    Client::connect(addr).get(path, "").unwrap()
}

/// Polls `cond` every 5 ms for up to 5 s.
pub fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    cond()
}
