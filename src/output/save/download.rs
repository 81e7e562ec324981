//! One body on its way to a file: what the request asks for (`Range` + `If-Range` to continue a
//! part an earlier attempt or run left), where the response's bytes go, and the final name.
//!
//! A file is named after the job's first URL (the input), not the end of its redirect chain, so
//! one input always maps to one name, known before the request: a name that is taken is
//! reported (`exists`) without fetching anything, unless `--overwrite`. Only
//! `--content-disposition` names wait for the response; they are checked when the file is
//! committed.
//!
//! Resuming: a part is continued only when its response had no `Content-Encoding` (its bytes
//! are then the identity representation that ranges count in) and a validator: a strong `ETag`,
//! else `Last-Modified`. The request then asks for `Range: bytes=LEN-` with that validator in
//! `If-Range` and `Accept-Encoding: identity`. A `206` whose `Content-Range` starts at LEN
//! continues the part; a `200` (the file changed, or the server ignores ranges) starts it over;
//! a `416` drops the part and the fetcher asks again without a range.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use http::header::{CONTENT_DISPOSITION, CONTENT_ENCODING, CONTENT_RANGE, ETAG, LAST_MODIFIED};
use http::{HeaderMap, HeaderValue, StatusCode};
use url::Url;

use super::disposition::disposition_filename;
use super::name::{relative_path, NameInput, Naming};
use super::store::{Part, PartMeta, Partial, Store, PARTS_DIR};
use crate::record::{ErrorKind, RecordError};

/// The run's `--save` settings.
#[derive(Debug, Clone)]
pub struct Saving {
    /// The save directory.
    pub store: Store,
    /// `--save-name`, or the mirrored URL layout.
    pub naming: Naming,
    /// `--content-disposition`.
    pub content_disposition: bool,
    /// `--raw`: save the bytes as they came, still encoded.
    pub raw: bool,
    /// `--max-filesize`: the most bytes saved for one body.
    pub max_filesize: u64,
    /// Set by the first disk-wide failure (full, read-only, over quota): the jobs that have not
    /// sent a request yet end with it instead of fetching a body that cannot be saved.
    pub halted: Arc<OnceLock<String>>,
}

/// A part to continue, and the request headers that ask for the rest of it.
#[derive(Debug, Clone)]
pub struct Resume {
    partial: Partial,
    /// `Range: bytes=LEN-`.
    pub range: HeaderValue,
    /// `If-Range: VALIDATOR`.
    pub if_range: HeaderValue,
}

impl Saving {
    /// Before a job's first request: an `io` error once saving has halted, and an `exists`
    /// error when the file's name is known and already taken (and `--overwrite` is off).
    pub fn check(&self, url: &Url, index: u64) -> Result<(), RecordError> {
        if let Some(why) = self.halted.get() {
            return Err(RecordError::new(
                ErrorKind::Io,
                format!("not fetched: saving stopped after {why}"),
            ));
        }
        if self.content_disposition || self.store.overwrites() {
            return Ok(());
        }
        let rel = self.name(url, index, None);
        if self.store.exists(&rel) {
            return Err(exists(&self.store.dir().join(rel)));
        }
        Ok(())
    }

    /// Before each request: the part left for `url` that a range request can continue.
    pub fn resume(&self, url: &Url) -> Option<Resume> {
        let partial = self.store.partial(url.as_str())?;
        if partial.meta.encoded {
            return None;
        }
        let validator = partial
            .meta
            .etag
            .clone()
            .or_else(|| partial.meta.last_modified.clone())?;
        Some(Resume {
            range: HeaderValue::from_str(&format!("bytes={}-", partial.len)).ok()?,
            if_range: HeaderValue::from_str(&validator).ok()?,
            partial,
        })
    }

    /// Drops the part `resume` would have continued (the server said its range cannot be
    /// satisfied).
    pub fn drop_part(&self, url: &Url) {
        self.store.drop_partial(url.as_str());
    }

    /// At a final `2xx` response for `url` (input `index`): the file to write its body to,
    /// continuing `resume` when the response is its `206`.
    pub fn start(
        &self,
        url: &Url,
        index: u64,
        status: StatusCode,
        headers: &HeaderMap,
        resume: Option<Resume>,
    ) -> Result<Download, RecordError> {
        if let Some(why) = self.halted.get() {
            return Err(RecordError::new(
                ErrorKind::Io,
                format!("not saved: saving stopped after {why}"),
            ));
        }
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let meta = PartMeta {
            url: url.as_str().to_owned(),
            etag: text(ETAG).filter(|e| !e.starts_with("W/")),
            last_modified: text(LAST_MODIFIED),
            encoded: headers.contains_key(CONTENT_ENCODING),
        };
        let from = match (status, resume) {
            (StatusCode::PARTIAL_CONTENT, Some(r))
                if range_start(headers) == Some(r.partial.len) =>
            {
                Some(r.partial)
            }
            (StatusCode::PARTIAL_CONTENT, _) => {
                return Err(RecordError::new(
                    ErrorKind::Protocol,
                    "206 Partial Content that does not continue the saved part",
                ))
            }
            _ => None,
        };
        let disposition = if self.content_disposition {
            headers
                .get(CONTENT_DISPOSITION)
                .and_then(|v| disposition_filename(v.as_bytes()))
        } else {
            None
        };
        let resumable = !meta.encoded && (meta.etag.is_some() || meta.last_modified.is_some());
        let part = self
            .store
            .begin(url.as_str(), meta, from.as_ref())
            .map_err(|e| self.failed(&self.store.dir().join(PARTS_DIR), &e))?;
        Ok(Download {
            part,
            url: url.clone(),
            index,
            disposition,
            resumable,
        })
    }

    /// The `io` error for `e` at `path`; a disk-wide one halts saving (see [`Saving::halted`]).
    fn failed(&self, path: &Path, e: &io::Error) -> RecordError {
        let message = format!("{}: {e}", path.display());
        if is_disk_wide(e) {
            let _ = self.halted.set(message.clone());
        }
        RecordError::new(ErrorKind::Io, message)
    }

    fn name(&self, url: &Url, index: u64, disposition: Option<&str>) -> PathBuf {
        relative_path(
            &self.naming,
            &NameInput {
                url,
                index,
                disposition,
            },
        )
    }
}

/// A body being written to its part file.
#[derive(Debug)]
pub struct Download {
    part: Part,
    url: Url,
    index: u64,
    disposition: Option<String>,
    /// A later request could continue the part (see the module docs).
    resumable: bool,
}

impl Download {
    /// Bytes in the file so far, a continued part's included.
    pub fn len(&self) -> u64 {
        self.part.len()
    }

    /// Whether nothing is in the file yet.
    pub fn is_empty(&self) -> bool {
        self.part.is_empty()
    }

    /// Bytes that were already in the part when this response continued it.
    pub fn prefix_len(&self) -> u64 {
        self.part.prefix_len()
    }

    /// Feeds the continued part's bytes to `f` (to hash the whole file).
    pub fn read_prefix(
        &mut self,
        saving: &Saving,
        f: impl FnMut(&[u8]),
    ) -> Result<(), RecordError> {
        let result = self.part.read_prefix(f);
        result.map_err(|e| saving.failed(&self.part.path(), &e))
    }

    /// Appends `buf`.
    pub fn write(&mut self, saving: &Saving, buf: &[u8]) -> Result<(), RecordError> {
        let result = self.part.write(buf);
        result.map_err(|e| saving.failed(&self.part.path(), &e))
    }

    /// The body is whole: gives the file its name (see the module docs) and returns the path.
    pub fn finish(self, saving: &Saving) -> Result<String, RecordError> {
        let rel = saving.name(&self.url, self.index, self.disposition.as_deref());
        let path = saving.store.dir().join(&rel);
        if !saving.store.overwrites() && saving.store.exists(&rel) {
            // Only a name from the response gets here (others were checked before fetching):
            // nothing is left to continue.
            self.part.discard();
            return Err(exists(&path));
        }
        match self.part.commit(&rel) {
            Ok(p) => Ok(p.to_string_lossy().into_owned()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(exists(&path)),
            Err(e) => Err(saving.failed(&path, &e)),
        }
    }

    /// Drops the part.
    pub fn discard(self) {
        self.part.discard();
    }

    /// The transfer failed: keeps a part that a later attempt can continue (true), drops the
    /// rest.
    pub fn abandon(self) -> bool {
        if self.resumable && !self.part.is_empty() {
            self.part.keep();
            true
        } else {
            self.part.discard();
            false
        }
    }
}

/// The first byte position of a `206`'s `Content-Range: bytes A-B/N`.
fn range_start(headers: &HeaderMap) -> Option<u64> {
    let v = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let rest = v.trim().strip_prefix("bytes ")?;
    rest.split('-').next()?.trim().parse().ok()
}

fn exists(path: &Path) -> RecordError {
    RecordError::new(
        ErrorKind::Exists,
        format!(
            "{} already exists; not overwritten (--overwrite replaces it)",
            path.display()
        ),
    )
}

/// Whether `e` means the whole save directory is unusable (full, read-only, over quota), so
/// further downloads would fail the same way.
fn is_disk_wide(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull
            | io::ErrorKind::ReadOnlyFilesystem
            | io::ErrorKind::QuotaExceeded
    )
}
