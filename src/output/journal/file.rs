//! The output file (`-o FILE`) kept in step with the journal, so that after any crash it holds
//! exactly one line per recorded input.
//!
//! Lines reach the file before their rows reach the journal, and each group of rows is committed
//! together with the file's length after their lines ([`Writer::rows`](super::Writer::rows)).
//! So at any moment the file is the journal's inputs, in its first [`OUTPUT_LEN`] bytes, plus
//! perhaps lines of inputs not yet committed, the last of them perhaps torn. A resumed run cuts
//! those off (their inputs are fetched again) and appends. When the file is not the one the
//! journal knows (another path, replaced, shorter than recorded) or `--retry-failed` dropped
//! inputs from the journal, the file is written anew from the journal instead: into a temporary
//! file beside it, then renamed over it, and only then named in the journal — a crash in between
//! leaves a file the journal does not know, which the next run writes anew again.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::output::format::Printer;
use crate::output::select::Selection;
use crate::record::Record;

use super::{Journal, OUTPUT_FILE, OUTPUT_LEN};

/// Opens `path` for a run that appends to it, in step with `journal`; returns the file,
/// positioned at its end, and its length.
///
/// # Errors
/// A message naming the file for I/O errors, the journal for its errors.
pub fn resume_output(
    journal: &Journal,
    path: &Path,
    printer: &Printer,
    selection: &Selection,
) -> Result<(File, u64), String> {
    let io_err = |p: &Path, e: io::Error| format!("-o/--output: {}: {e}", p.display());
    let journal_err = |e: super::JournalError| format!("--journal: {e}");
    let known = journal.meta(OUTPUT_FILE).map_err(journal_err)?;
    let known_len = journal
        .meta(OUTPUT_LEN)
        .map_err(journal_err)?
        .and_then(|v| v.parse::<u64>().ok());
    if let (Some(known), Some(len)) = (known, known_len) {
        match OpenOptions::new().read(true).write(true).open(path) {
            Ok(mut file) => {
                let meta = file.metadata().map_err(|e| io_err(path, e))?;
                if identity(&meta) == known && meta.len() >= len {
                    file.set_len(len).map_err(|e| io_err(path, e))?;
                    file.seek(SeekFrom::End(0)).map_err(|e| io_err(path, e))?;
                    return Ok((file, len));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(path, e)),
        }
    }
    // Write it anew from the journal.
    let tmp = temp_path(path);
    let mut out = File::create(&tmp).map_err(|e| io_err(&tmp, e))?;
    let mut buf = Vec::with_capacity(64 * 1024);
    printer.header(&mut buf);
    let mut len = 0u64;
    for row in journal.records().map_err(journal_err)? {
        let (_, json) = row.map_err(journal_err)?;
        let rec: Record = serde_json::from_str(&json)
            .map_err(|e| format!("--journal: a record cannot be read back: {e}"))?;
        if selection.shows(&rec) {
            printer.write(&rec, &mut buf);
        }
        if buf.len() >= 64 * 1024 {
            out.write_all(&buf).map_err(|e| io_err(&tmp, e))?;
            len += buf.len() as u64;
            buf.clear();
        }
    }
    out.write_all(&buf).map_err(|e| io_err(&tmp, e))?;
    len += buf.len() as u64;
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))?;
    let meta = out.metadata().map_err(|e| io_err(path, e))?;
    journal
        .set_output(&identity(&meta), len)
        .map_err(journal_err)?;
    Ok((out, len))
}

/// What names the output file in the journal: its device and inode.
fn identity(meta: &std::fs::Metadata) -> String {
    format!("{}:{}", meta.dev(), meta.ino())
}

/// `FILE.volley-tmp` beside `FILE`.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".volley-tmp");
    PathBuf::from(name)
}
