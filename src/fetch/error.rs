//! Turning what went wrong in an exchange into an error kind a user can act on.
//!
//! hyper, hyper-util, rustls and the OS report failures as chains of errors; the most specific
//! cause decides the kind, and the message keeps the deepest explanation without the wrappers'
//! boilerplate.

use std::error::Error as StdError;
use std::io;

use crate::fetch::connect::DnsError;
use crate::fetch::proxy::ProxyError;
use crate::record::{ErrorKind, RecordError};

/// Classifies an error from sending a request or reading its response.
pub fn classify(err: &(dyn StdError + 'static)) -> RecordError {
    let mut kind = None;
    let mut connect_stage = false;
    let mut deepest = err.to_string();
    let mut proxy = None;
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(client) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
            connect_stage |= client.is_connect();
        }
        if let Some(p) = e.downcast_ref::<ProxyError>() {
            proxy = Some(p.proxy.as_str());
        }
        if kind.is_none() {
            kind = kind_of(e);
        }
        let text = e.to_string();
        if !text.is_empty() {
            deepest = text;
        }
        cur = e.source();
    }
    let kind = kind.unwrap_or(if connect_stage {
        ErrorKind::Connect
    } else {
        ErrorKind::Protocol
    });
    let message = match kind {
        ErrorKind::Timeout if connect_stage => format!("connect timed out ({deepest})"),
        ErrorKind::Reset if deepest.is_empty() => "connection closed".to_owned(),
        _ => deepest,
    };
    // The deepest cause of a proxy failure says what went wrong, not where: say it.
    let message = match proxy {
        Some(p) => format!("proxy {p}: {message}"),
        None => message,
    };
    RecordError::new(kind, message)
}

fn kind_of(e: &(dyn StdError + 'static)) -> Option<ErrorKind> {
    if e.is::<DnsError>() {
        return Some(ErrorKind::Dns);
    }
    if e.is::<rustls::Error>() {
        return Some(ErrorKind::Tls);
    }
    if let Some(io) = e.downcast_ref::<io::Error>() {
        // hyper-rustls wraps the handshake's io::Error (which wraps the rustls error) in
        // another io::Error: look through every layer before trusting the outer kind.
        if let Some(inner) = io.get_ref() {
            if let Some(kind @ ErrorKind::Tls) = kind_of(inner) {
                return Some(kind);
            }
        }
        return match io.kind() {
            io::ErrorKind::TimedOut => Some(ErrorKind::Timeout),
            io::ErrorKind::ConnectionRefused
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::AddrNotAvailable => Some(ErrorKind::Connect),
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => Some(ErrorKind::Reset),
            _ => None,
        };
    }
    if let Some(h) = e.downcast_ref::<hyper::Error>() {
        if h.is_timeout() {
            return Some(ErrorKind::Timeout);
        }
        if h.is_parse() || h.is_parse_status() {
            return Some(ErrorKind::Protocol);
        }
        if h.is_incomplete_message() || h.is_canceled() || h.is_closed() {
            return Some(ErrorKind::Reset);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt;

    #[derive(Debug)]
    struct Wrap(&'static str, Box<dyn StdError + Send + Sync>);
    impl fmt::Display for Wrap {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl StdError for Wrap {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&*self.1)
        }
    }

    #[test]
    fn io_kinds_map_to_record_kinds() {
        let refused = Wrap(
            "tcp connect error",
            Box::new(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "Connection refused",
            )),
        );
        let e = classify(&refused);
        assert_eq!(e.kind, ErrorKind::Connect);
        assert_eq!(e.message, "Connection refused");
        let reset = io::Error::new(io::ErrorKind::ConnectionReset, "Connection reset by peer");
        assert_eq!(classify(&reset).kind, ErrorKind::Reset);
        let timeout = io::Error::new(io::ErrorKind::TimedOut, "timed out");
        assert_eq!(classify(&timeout).kind, ErrorKind::Timeout);
    }

    #[test]
    fn tls_inside_io_is_tls() {
        let tls = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        let e = classify(&Wrap("client error (Connect)", Box::new(tls)));
        assert_eq!(e.kind, ErrorKind::Tls);
        let twice = io::Error::other(io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        ));
        assert_eq!(
            classify(&Wrap("client error", Box::new(twice))).kind,
            ErrorKind::Tls
        );
        assert_eq!(e.message, "invalid peer certificate: UnknownIssuer");
    }

    #[test]
    fn unknown_errors_are_protocol() {
        let e = io::Error::other("weird");
        assert_eq!(classify(&e).kind, ErrorKind::Protocol);
    }
}
