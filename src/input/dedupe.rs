//! `--dedupe`: an input whose URL an earlier input already named is not fetched; its record points
//! at the first (`duplicate_of`).
//!
//! Memory stays bounded at any list length: the URLs seen are kept as 128-bit digests in a
//! private on-disk SQLite table (deleted when the run ends) behind a small page cache, not in a
//! hash set that would grow with the list. Two different URLs share a digest with a chance of
//! about 1 in 10^25 at ten million inputs.

use rusqlite::{Connection, OptionalExtension};
use sha1::{Digest, Sha1};

use super::filter::{Admit, Filter};
use super::Request;

/// Pages (of 4 KiB) of the seen-set kept in memory: 8 MiB.
const CACHE_PAGES: i64 = 2048;

/// The seen-set of one run.
pub struct Dedupe {
    conn: Connection,
}

impl Dedupe {
    /// An empty seen-set in a temporary file.
    ///
    /// # Errors
    /// SQLite errors creating the temporary database.
    pub fn new() -> Result<Dedupe, String> {
        let setup = || -> rusqlite::Result<Connection> {
            // An empty file name is a private temporary database on disk.
            let conn = Connection::open("")?;
            conn.execute_batch(&format!(
                "PRAGMA cache_size = {CACHE_PAGES};
                 PRAGMA journal_mode = OFF;
                 PRAGMA synchronous = OFF;
                 CREATE TABLE seen (hi INTEGER, lo INTEGER, idx INTEGER NOT NULL,
                                    PRIMARY KEY (hi, lo)) WITHOUT ROWID;"
            ))?;
            Ok(conn)
        };
        let conn =
            setup().map_err(|e| format!("--dedupe: cannot create its temporary table: {e}"))?;
        Ok(Dedupe { conn })
    }

    /// The first index that named `url`, or `None` (and `url` is remembered as `index`'s).
    fn first(&mut self, url: &str, index: u64) -> rusqlite::Result<Option<u64>> {
        let digest = Sha1::digest(url.as_bytes());
        let hi = i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        let lo = i64::from_be_bytes(digest[8..16].try_into().expect("8 bytes"));
        let found: Option<i64> = self
            .conn
            .prepare_cached("SELECT idx FROM seen WHERE hi = ?1 AND lo = ?2")?
            .query_row([hi, lo], |r| r.get(0))
            .optional()?;
        if let Some(first) = found {
            return Ok(Some(first as u64));
        }
        self.conn
            .prepare_cached("INSERT INTO seen (hi, lo, idx) VALUES (?1, ?2, ?3)")?
            .execute([hi, lo, index as i64])?;
        Ok(None)
    }
}

impl Filter for Dedupe {
    fn admit(&mut self, index: u64, req: &mut Request) -> Result<Admit, String> {
        let Ok(url) = &req.target else {
            return Ok(Admit::Pass);
        };
        req.duplicate_of = self
            .first(url.as_str(), index)
            .map_err(|e| format!("--dedupe: {e}"))?;
        Ok(Admit::Pass)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &str) -> Request {
        Request::from_line(s.as_bytes())
    }

    #[test]
    fn repeats_point_at_the_first_and_urls_are_compared_normalised() {
        let mut d = Dedupe::new().unwrap();
        let inputs = [
            "http://a.test/x",
            "http://b.test/",
            "HTTP://A.test:80/x",
            "not a url",
            "not a url",
            "http://b.test",
        ];
        let got: Vec<Option<u64>> = inputs
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut r = req(s);
                assert_eq!(d.admit(i as u64, &mut r).unwrap(), Admit::Pass);
                r.duplicate_of
            })
            .collect();
        assert_eq!(got, [None, None, Some(0), None, None, Some(1)]);
    }
}
