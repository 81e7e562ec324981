//! Parsing the values people type on the command line: durations (`10s`, `500ms`, `2m`),
//! sizes (`8MiB`, `512k`), `--resolve HOST:PORT:ADDR` and `Name: value` headers. Each error
//! names what was wrong so the caller can prefix the flag.

use std::net::IpAddr;
use std::time::Duration;

use http::header::{HeaderName, HeaderValue};
use volley::schedule::Rate;

/// `10`, `10s`, `1.5s`, `500ms`, `2m`, `1h` (a bare number is seconds).
pub fn duration(s: &str) -> Result<Duration, String> {
    let (n, unit) = number_and_unit(s)
        .ok_or_else(|| format!("`{s}` is not a duration (e.g. 10s, 500ms, 2m)"))?;
    let secs = match unit {
        "" | "s" | "sec" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("`{s}` has an unknown unit (use ms, s, m or h)")),
    };
    if !secs.is_finite() || secs > 1e9 {
        return Err(format!("`{s}` is too long"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// `10/s`, `600/m`, `2/h`, or a bare number (per second): request starts per second.
pub fn rate(s: &str) -> Result<Rate, String> {
    let bad = || format!("`{s}` is not a rate (e.g. 10/s, 600/m)");
    let (n, per) = match s.trim().split_once('/') {
        Some((n, unit)) => (n.trim(), unit.trim()),
        None => (s.trim(), "s"),
    };
    let n: f64 = n.parse().map_err(|_| bad())?;
    let secs = match per {
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" | "hour" => 3600.0,
        _ => return Err(format!("`{s}` has an unknown unit (use /s, /m or /h)")),
    };
    if !(n.is_finite() && n > 0.0) {
        return Err(format!("`{s}` must be greater than zero"));
    }
    Rate::per_second(n / secs).ok_or_else(|| format!("`{s}` is out of range"))
}

/// `1024`, `512k`/`512KiB`/`512KB`, `8M`/`8MiB`, `1G`/`1GiB` (binary multiples, as curl).
pub fn size(s: &str) -> Result<u64, String> {
    let (n, unit) = number_and_unit(s)
        .ok_or_else(|| format!("`{s}` is not a size (e.g. 8MiB, 512k, 1048576)"))?;
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(format!("`{s}` has an unknown unit (use k, M, G)")),
    };
    let v = n * mult as f64;
    if !v.is_finite() || v >= u64::MAX as f64 {
        return Err(format!("`{s}` is too large"));
    }
    Ok(v as u64)
}

/// Splits `1.5MiB` into `(1.5, "MiB")`; None when there is no leading number.
fn number_and_unit(s: &str) -> Option<(f64, &str)> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    Some((num.parse().ok()?, unit.trim()))
}

/// `HOST:PORT:ADDR` where ADDR may be a bracketed IPv6 address.
pub fn resolve(s: &str) -> Result<(String, u16, IpAddr), String> {
    let bad = || format!("`{s}` is not HOST:PORT:ADDR (e.g. example.com:443:127.0.0.1)");
    let (host, rest) = s.split_once(':').ok_or_else(bad)?;
    let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
    if host.is_empty() {
        return Err(bad());
    }
    let port: u16 = port.parse().map_err(|_| bad())?;
    let addr = addr.trim_start_matches('[').trim_end_matches(']');
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    Ok((host.to_ascii_lowercase(), port, addr))
}

/// `Name: value`. CR, LF and NUL are refused (they would split or end the request).
pub fn header(s: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| format!("`{s}` is not `Name: value`"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("`{}` is not a valid header name", name.trim()))?;
    let value = value.trim();
    if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return Err(format!("the value of `{name}` contains CR, LF or NUL"));
    }
    let value = HeaderValue::from_str(value)
        .map_err(|_| format!("the value of `{name}` is not a valid header value"))?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(rate("10/s").unwrap().get(), 10.0);
        assert_eq!(rate("10").unwrap().get(), 10.0);
        assert_eq!(rate("600/m").unwrap().get(), 10.0);
        assert_eq!(rate(" 0.5 / s ").unwrap().get(), 0.5);
        assert_eq!(rate("36/h").unwrap().get(), 0.01);
        assert_eq!(rate("0/s").unwrap_err(), "`0/s` must be greater than zero");
        assert_eq!(
            rate("abc").unwrap_err(),
            "`abc` is not a rate (e.g. 10/s, 600/m)"
        );
        assert_eq!(
            rate("5/x").unwrap_err(),
            "`5/x` has an unknown unit (use /s, /m or /h)"
        );
        assert_eq!(
            rate("-1/s").unwrap_err(),
            "`-1/s` must be greater than zero"
        );
        assert_eq!(rate("1e12/s").unwrap_err(), "`1e12/s` is out of range");
    }

    #[test]
    fn durations() {
        assert_eq!(duration("10").unwrap(), Duration::from_secs(10));
        assert_eq!(duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(
            duration("ten").unwrap_err(),
            "`ten` is not a duration (e.g. 10s, 500ms, 2m)"
        );
        assert_eq!(
            duration("5y").unwrap_err(),
            "`5y` has an unknown unit (use ms, s, m or h)"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(size("1024").unwrap(), 1024);
        assert_eq!(size("8MiB").unwrap(), 8 << 20);
        assert_eq!(size("512k").unwrap(), 512 << 10);
        assert_eq!(size("1.5M").unwrap(), 3 << 19);
        assert!(size("big").is_err());
    }

    #[test]
    fn resolves() {
        assert_eq!(
            resolve("Example.com:443:127.0.0.2").unwrap(),
            ("example.com".into(), 443, "127.0.0.2".parse().unwrap())
        );
        assert_eq!(
            resolve("a:80:[::1]").unwrap(),
            ("a".into(), 80, "::1".parse().unwrap())
        );
        assert!(resolve("a:80").is_err());
        assert!(resolve("a:http:1.2.3.4").is_err());
        assert!(resolve("a:80:not-an-ip").is_err());
    }

    #[test]
    fn headers() {
        let (n, v) = header("X-Test:  yes ").unwrap();
        assert_eq!((n.as_str(), v.to_str().unwrap()), ("x-test", "yes"));
        assert!(header("no colon").is_err());
        assert!(header("Bad Name: x").is_err());
        assert_eq!(
            header("X: a\rb").unwrap_err(),
            "the value of `x` contains CR, LF or NUL"
        );
    }
}
