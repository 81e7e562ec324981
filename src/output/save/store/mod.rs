//! The save directory (`--save DIR`): temporary parts, resume, commit.
//!
//! Every body is streamed into `DIR/.volley-parts/<sha1 of the URL>.part` (mode 0600 in a 0700
//! directory) next to a `<sha1>.json` holding [`PartMeta`], and is renamed to its final name
//! only when whole. A failed transfer leaves both files behind, so a rerun can find them with
//! [`Store::partial`] and continue with a range request.
//!
//! Safety rules, all enforced here rather than trusted to the caller:
//! - every path is walked from an open descriptor of DIR, one component at a time, with
//!   `O_NOFOLLOW`: a symlink inside DIR is never followed, even when it points back inside DIR,
//!   so nothing can land outside DIR;
//! - relative paths must consist of plain names only (no `..`, no root, no `.`);
//! - an existing file is never replaced unless `overwrite` is on, and even then only a regular
//!   file or a symlink (the link itself is replaced, its target is untouched); the no-replace
//!   rename is atomic (`RENAME_NOREPLACE`, or `link` + `unlink` where unsupported).
//!
//! Modes: the part is created 0600 and, just before the rename, `fchmod`ed to 0644 with the
//! process umask applied (read once from `/proc/self/status`), so the saved file looks like one
//! any other tool would create, while an in-progress part is private twice over.
//!
//! Linux only (`renameat2`, `/proc`); all I/O is synchronous.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rustix::fs::{
    accessat, fchmod, fstat, ftruncate, linkat, mkdirat, openat, renameat, renameat_with, statat,
    unlinkat, Access, AtFlags, FileType, Mode, OFlags, RenameFlags,
};
use rustix::io::Errno;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

/// Name of the state directory inside DIR that holds parts and their metadata.
pub const PARTS_DIR: &str = ".volley-parts";

/// Write buffer of a [`Part`]: large enough that one syscall carries many body frames.
const WRITE_BUFFER: usize = 256 * 1024;

/// Chunk size used by [`Part::read_prefix`].
const READ_CHUNK: usize = 64 * 1024;

/// Metadata files larger than this are treated as corrupt.
const MAX_META: u64 = 1024 * 1024;

/// Mode of a finished file before the umask is applied.
const FILE_MODE: u32 = 0o644;

/// Mode of directories created under DIR (the umask applies).
const DIR_MODE: u32 = 0o755;

/// The save directory. Cheap to clone; all clones share the open directory descriptors.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// DIR as the user gave it; only used to build the paths we report.
    path: PathBuf,
    /// DIR itself, opened once (following a symlink the user may have made for DIR itself).
    dir: OwnedFd,
    /// `DIR/.volley-parts`.
    parts: OwnedFd,
    overwrite: bool,
    /// The mode a committed file gets (`0644` minus the umask).
    file_mode: u32,
}

/// What is remembered about a part, stored as JSON next to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartMeta {
    /// The URL the bytes came from; also the key the part is filed under.
    pub url: String,
    /// The `ETag` of the response, for `If-Range` on resume.
    pub etag: Option<String>,
    /// The `Last-Modified` of the response, for `If-Range` when there is no `ETag`.
    pub last_modified: Option<String>,
    /// The response had a `Content-Encoding`: the part holds decoded (or raw encoded) bytes,
    /// not the identity representation that a `Range` request counts in, so it cannot be
    /// continued.
    pub encoded: bool,
}

/// An incomplete part left by an earlier run.
#[derive(Clone, Debug)]
pub struct Partial {
    /// Bytes in the part file.
    pub len: u64,
    /// Its metadata.
    pub meta: PartMeta,
}

/// A body being written. Finish it with [`commit`](Part::commit), [`keep`](Part::keep) or
/// [`discard`](Part::discard); dropping it is the same as `keep`.
pub struct Part {
    store: Store,
    hex: String,
    /// `None` only after the part was finished.
    file: Option<BufWriter<File>>,
    len: u64,
    prefix: u64,
}

impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("hex", &self.hex)
            .field("len", &self.len)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Creates DIR if needed (like `mkdir -p`; DIR itself may be a symlink the user made) and
    /// its state dir `DIR/.volley-parts` (mode 0700). Fails if DIR is not a writable directory.
    ///
    /// With `overwrite`, [`Part::commit`] replaces an existing regular file (or symlink);
    /// without it, commit fails with [`io::ErrorKind::AlreadyExists`].
    pub fn open(dir: &Path, overwrite: bool) -> io::Result<Store> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .create(dir)
            .map_err(|e| context(e, dir))?;
        let dirfd = openat(
            rustix::fs::CWD,
            dir,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| context(e.into(), dir))?;
        writable(&dirfd).map_err(|e| context(e, dir))?;

        let parts_path = dir.join(PARTS_DIR);
        match mkdirat(&dirfd, PARTS_DIR, Mode::from_bits_truncate(0o700)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(context(e.into(), &parts_path)),
        }
        let parts = open_dir_nofollow(&dirfd, PARTS_DIR, &parts_path)?;
        let st = fstat(&parts).map_err(|e| context(e.into(), &parts_path))?;
        if st.st_mode & 0o7777 != 0o700 {
            fchmod(&parts, Mode::from_bits_truncate(0o700))
                .map_err(|e| context(e.into(), &parts_path))?;
        }
        writable(&parts).map_err(|e| context(e, &parts_path))?;

        Ok(Store {
            inner: Arc::new(Inner {
                path: dir.to_path_buf(),
                dir: dirfd,
                parts,
                overwrite,
                file_mode: FILE_MODE & !umask(),
            }),
        })
    }

    /// DIR as given to [`Store::open`].
    pub fn dir(&self) -> &Path {
        &self.inner.path
    }

    /// Whether committing replaces an existing file (`--overwrite`).
    pub fn overwrites(&self) -> bool {
        self.inner.overwrite
    }

    /// Whether anything (a file, directory, symlink, ...) exists at `rel` under DIR.
    ///
    /// `lstat` semantics, walking from DIR's descriptor without following any symlink. A path
    /// whose parent is not a directory (a file or symlink is in the way) counts as absent, as
    /// does an invalid `rel`: [`Part::commit`] then reports the actual problem.
    pub fn exists(&self, rel: &Path) -> bool {
        let Ok((parents, name)) = split(rel) else {
            return false;
        };
        let mut cur: Option<OwnedFd> = None;
        for part in parents {
            let at = cur.as_ref().map_or(self.inner.dir.as_fd(), |fd| fd.as_fd());
            match openat(at, part, dir_flags(), Mode::empty()) {
                Ok(fd) => cur = Some(fd),
                Err(_) => return false,
            }
        }
        let at = cur.as_ref().map_or(self.inner.dir.as_fd(), |fd| fd.as_fd());
        statat(at, name, AtFlags::SYMLINK_NOFOLLOW).is_ok()
    }

    /// The incomplete part left for `key` (the URL) by an earlier run, if any.
    ///
    /// `None` when there is no part, when it is empty (nothing to resume), when it is not a
    /// regular file (a symlink planted there is not followed), or when its metadata is missing,
    /// corrupt or belongs to another URL.
    pub fn partial(&self, key: &str) -> Option<Partial> {
        let hex = key_hex(key);
        let meta = self.read_meta(&hex)?;
        if meta.url != key {
            return None;
        }
        let (_, st) = self.open_part_file(&format!("{hex}.part"))?;
        if st.st_size <= 0 {
            return None;
        }
        Some(Partial {
            len: st.st_size as u64,
            meta,
        })
    }

    /// Removes the part left for `key`, and its metadata, if there is one.
    pub fn drop_partial(&self, key: &str) {
        self.remove(&key_hex(key), true);
    }

    /// Starts writing the body for `key`: continues `from` (appending after its first
    /// `from.len` bytes, cutting off anything beyond) or starts empty (removing any old part).
    ///
    /// `meta.url` must equal `key` ([`io::ErrorKind::InvalidInput`] otherwise). The metadata is
    /// on disk before any new body byte, so a part never pairs with another response's meta.
    /// Resuming fails with [`io::ErrorKind::InvalidData`] if the part is now shorter than
    /// `from.len` or is not a regular file.
    pub fn begin(&self, key: &str, meta: PartMeta, from: Option<&Partial>) -> io::Result<Part> {
        if meta.url != key {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("part metadata is for {}, not {key}", meta.url),
            ));
        }
        let hex = key_hex(key);
        let part_name = format!("{hex}.part");
        let part_path = self.inner.path.join(PARTS_DIR).join(&part_name);
        let parts = &self.inner.parts;
        let (mut file, prefix) = match from {
            Some(from) => {
                let fd = openat(
                    parts,
                    &part_name,
                    OFlags::RDWR | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| context(e.into(), &part_path))?;
                let st = fstat(&fd).map_err(|e| context(e.into(), &part_path))?;
                if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
                    return Err(invalid_data(&part_path, "not a regular file"));
                }
                if (st.st_size as u64) < from.len {
                    return Err(invalid_data(
                        &part_path,
                        &format!("has {} bytes, expected at least {}", st.st_size, from.len),
                    ));
                }
                ftruncate(&fd, from.len).map_err(|e| context(e.into(), &part_path))?;
                self.write_meta(&hex, &meta)?;
                let mut file = File::from(fd);
                file.seek(SeekFrom::End(0))?;
                (file, from.len)
            }
            None => {
                match unlinkat(parts, &part_name, AtFlags::empty()) {
                    Ok(()) | Err(Errno::NOENT) => {}
                    Err(e) => return Err(context(e.into(), &part_path)),
                }
                self.write_meta(&hex, &meta)?;
                // O_EXCL never follows a symlink, so nothing planted here is written through.
                let fd = openat(
                    parts,
                    &part_name,
                    OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC,
                    Mode::from_bits_truncate(0o600),
                )
                .map_err(|e| context(e.into(), &part_path))?;
                (File::from(fd), 0)
            }
        };
        file.flush()?;
        Ok(Part {
            store: self.clone(),
            hex,
            file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
            len: prefix,
            prefix,
        })
    }

    /// Opens `name` in the parts directory for reading when it is a regular file (never through
    /// a symlink, never blocking on a planted fifo).
    fn open_part_file(&self, name: &str) -> Option<(OwnedFd, rustix::fs::Stat)> {
        let fd = openat(
            &self.inner.parts,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        let st = fstat(&fd).ok()?;
        (FileType::from_raw_mode(st.st_mode) == FileType::RegularFile).then_some((fd, st))
    }

    fn read_meta(&self, hex: &str) -> Option<PartMeta> {
        let (fd, _) = self.open_part_file(&format!("{hex}.json"))?;
        let mut buf = Vec::new();
        File::from(fd).take(MAX_META).read_to_end(&mut buf).ok()?;
        serde_json::from_slice(&buf).ok()
    }

    /// Writes `<hex>.json` via a temporary name and a rename, so it is never half written.
    fn write_meta(&self, hex: &str, meta: &PartMeta) -> io::Result<()> {
        let parts = &self.inner.parts;
        let tmp = format!("{hex}.json.tmp");
        let tmp_path = self.inner.path.join(PARTS_DIR).join(&tmp);
        match unlinkat(parts, &tmp, AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => {}
            Err(e) => return Err(context(e.into(), &tmp_path)),
        }
        let fd = openat(
            parts,
            &tmp,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(|e| context(e.into(), &tmp_path))?;
        let json = serde_json::to_vec(meta).map_err(io::Error::other)?;
        File::from(fd)
            .write_all(&json)
            .map_err(|e| context(e, &tmp_path))?;
        renameat(parts, &tmp, parts, format!("{hex}.json"))
            .map_err(|e| context(e.into(), &tmp_path))
    }

    /// Removes the part's metadata (and the part itself when `part` is set); missing files are
    /// not an error.
    fn remove(&self, hex: &str, part: bool) {
        let parts = &self.inner.parts;
        if part {
            let _ = unlinkat(parts, format!("{hex}.part"), AtFlags::empty());
        }
        let _ = unlinkat(parts, format!("{hex}.json"), AtFlags::empty());
    }

    /// Opens (creating with mode 0755 where missing) every directory in `parents` below DIR,
    /// never following a symlink.
    fn make_parents(&self, parents: &[&str]) -> io::Result<Option<OwnedFd>> {
        let mut cur: Option<OwnedFd> = None;
        let mut shown = self.inner.path.clone();
        for name in parents {
            shown.push(name);
            let at = cur.as_ref().map_or(self.inner.dir.as_fd(), |fd| fd.as_fd());
            let fd = match openat(at, *name, dir_flags(), Mode::empty()) {
                Err(Errno::NOENT) => {
                    match mkdirat(at, *name, Mode::from_bits_truncate(DIR_MODE)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(context(e.into(), &shown)),
                    }
                    open_dir_nofollow(at, name, &shown)?
                }
                Err(Errno::NOTDIR | Errno::LOOP) => return Err(in_the_way(&shown)),
                Err(e) => return Err(context(e.into(), &shown)),
                Ok(fd) => fd,
            };
            cur = Some(fd);
        }
        Ok(cur)
    }
}

impl Part {
    /// Appends `buf` to the part. Errors (`ENOSPC`, ...) are returned unchanged; because of
    /// buffering one may surface on a later call than the one whose bytes failed.
    pub fn write(&mut self, buf: &[u8]) -> io::Result<()> {
        let file = self.file.as_mut().expect("part is open until finished");
        file.write_all(buf)?;
        self.len += buf.len() as u64;
        Ok(())
    }

    /// Bytes in the part, including the resumed prefix.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the part holds no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes that were already in the part when it was resumed.
    pub fn prefix_len(&self) -> u64 {
        self.prefix
    }

    /// Where the part is, for messages: `DIR/.volley-parts/HEX.part`.
    pub fn path(&self) -> PathBuf {
        self.store
            .dir()
            .join(PARTS_DIR)
            .join(format!("{}.part", self.hex))
    }

    /// Feeds the bytes already in the part (the resumed prefix) to `f`, in order, e.g. for
    /// hashing. Fails with [`io::ErrorKind::UnexpectedEof`] if the file got shorter.
    pub fn read_prefix(&mut self, mut f: impl FnMut(&[u8])) -> io::Result<()> {
        let file = self
            .file
            .as_ref()
            .expect("part is open until finished")
            .get_ref();
        let mut buf = vec![0; clamp(self.prefix)];
        let mut at = 0;
        while at < self.prefix {
            let want = buf.len().min(clamp(self.prefix - at));
            let n = file.read_at(&mut buf[..want], at)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            f(&buf[..n]);
            at += n as u64;
        }
        Ok(())
    }

    /// The body is whole: flushes it (no fsync) and renames it to `DIR/rel`, creating missing
    /// parent directories (0755) under DIR. Returns `DIR/rel`.
    ///
    /// `rel` must be relative and made of plain names ([`io::ErrorKind::InvalidInput`]
    /// otherwise); a parent that is a symlink or a file is an error, even when the symlink
    /// points inside DIR. Without overwrite, anything already at `rel` fails the commit with
    /// [`io::ErrorKind::AlreadyExists`]; with it, a regular file is replaced, a symlink is
    /// replaced by the file (its target is untouched) and anything else is refused. On any
    /// error the part and its metadata stay for a later resume.
    pub fn commit(mut self, rel: &Path) -> io::Result<PathBuf> {
        let (parents, name) = split(rel)?;
        let inner = Arc::clone(&self.store.inner);
        let final_path = inner.path.join(rel);
        let file = self.file.take().expect("part is open until finished");
        let file = file.into_inner().map_err(|e| e.into_error())?;
        fchmod(&file, Mode::from_bits_truncate(inner.file_mode))?;
        drop(file);

        let parent = self.store.make_parents(&parents)?;
        let parent = parent.as_ref().map_or(inner.dir.as_fd(), |fd| fd.as_fd());
        let part_name = format!("{}.part", self.hex);
        if inner.overwrite {
            replace(&inner.parts, &part_name, parent, name, &final_path)?;
        } else {
            no_replace(&inner.parts, &part_name, parent, name, &final_path)?;
        }
        self.store.remove(&self.hex, false);
        Ok(final_path)
    }

    /// Keeps the part and its metadata for a later resume (the transfer failed). Buffered
    /// bytes are flushed; if that fails, the next [`Store::partial`] sees the shorter file.
    pub fn keep(mut self) {
        self.flush_quietly();
    }

    /// Removes the part and its metadata.
    pub fn discard(mut self) {
        if let Some(file) = self.file.take() {
            // Nothing is worth flushing: the bytes are about to go.
            let (file, _) = file.into_parts();
            drop(file);
        }
        self.store.remove(&self.hex, true);
    }

    fn flush_quietly(&mut self) {
        if let Some(mut file) = self.file.take() {
            let _ = file.flush();
        }
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        self.flush_quietly();
    }
}

/// Rename without replacing: `RENAME_NOREPLACE`, or `link` + `unlink` on file systems that do
/// not support it (both are atomic with respect to an existing target).
fn no_replace(
    parts: &OwnedFd,
    part_name: &str,
    parent: BorrowedFd<'_>,
    name: &str,
    shown: &Path,
) -> io::Result<()> {
    match renameat_with(parts, part_name, parent, name, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(Errno::EXIST) => Err(exists(shown)),
        Err(Errno::INVAL | Errno::NOSYS) => link_then_unlink(parts, part_name, parent, name, shown),
        Err(e) => Err(context(e.into(), shown)),
    }
}

/// The no-replace rename for file systems without `RENAME_NOREPLACE`: `link` fails atomically
/// on an existing name.
fn link_then_unlink(
    parts: &OwnedFd,
    part_name: &str,
    parent: BorrowedFd<'_>,
    name: &str,
    shown: &Path,
) -> io::Result<()> {
    match linkat(parts, part_name, parent, name, AtFlags::empty()) {
        Ok(()) => {}
        Err(Errno::EXIST) => return Err(exists(shown)),
        Err(e) => return Err(context(e.into(), shown)),
    }
    // The file is in place; a leftover link in the parts dir is only clutter.
    let _ = unlinkat(parts, part_name, AtFlags::empty());
    Ok(())
}

/// Rename replacing a regular file or a symlink (the link itself, not its target); anything
/// else in the way is refused. A directory swapped in after the check makes `rename` fail with
/// `EISDIR`, so the check cannot be raced into replacing one.
fn replace(
    parts: &OwnedFd,
    part_name: &str,
    parent: BorrowedFd<'_>,
    name: &str,
    shown: &Path,
) -> io::Result<()> {
    match statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile | FileType::Symlink => {}
            FileType::Directory => {
                return Err(io::Error::new(
                    io::ErrorKind::IsADirectory,
                    format!("{}: is a directory, not replacing it", shown.display()),
                ))
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{}: not a regular file, not replacing it", shown.display()),
                ))
            }
        },
        Err(Errno::NOENT) => {}
        Err(e) => return Err(context(e.into(), shown)),
    }
    renameat(parts, part_name, parent, name).map_err(|e| context(e.into(), shown))
}

/// Splits `rel` into its parent directory names and its final name, accepting only plain
/// (`Normal`) components.
fn split(rel: &Path) -> io::Result<(Vec<&str>, &str)> {
    let mut names = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(s) => match s.to_str() {
                Some(s) => names.push(s),
                None => return Err(invalid_input(rel, "not valid UTF-8")),
            },
            _ => return Err(invalid_input(rel, "must be a relative path of plain names")),
        }
    }
    match names.pop() {
        Some(name) => Ok((names, name)),
        None => Err(invalid_input(rel, "empty path")),
    }
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// Opens a directory below `at` without following a symlink.
fn open_dir_nofollow<Fd: AsFd>(at: Fd, name: &str, shown: &Path) -> io::Result<OwnedFd> {
    match openat(at, name, dir_flags(), Mode::empty()) {
        Ok(fd) => Ok(fd),
        Err(Errno::NOTDIR | Errno::LOOP) => Err(in_the_way(shown)),
        Err(e) => Err(context(e.into(), shown)),
    }
}

/// Fails unless files can be created in `dir`.
fn writable(dir: &OwnedFd) -> io::Result<()> {
    accessat(
        dir,
        ".",
        Access::WRITE_OK | Access::EXEC_OK,
        AtFlags::EACCESS,
    )
    .map_err(Into::into)
}

/// The process umask, read from `/proc/self/status` (setting it to read it would race with
/// other threads); `022` if that is unavailable.
fn umask() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        .unwrap_or(0o022)
}

/// `n` as a read length of at most [`READ_CHUNK`], without truncating on 32-bit targets.
fn clamp(n: u64) -> usize {
    usize::try_from(n).map_or(READ_CHUNK, |n| n.min(READ_CHUNK))
}

/// Lower-case hex SHA-1 of `key`: the file name of its part.
fn key_hex(key: &str) -> String {
    let digest = Sha1::digest(key.as_bytes());
    let mut hex = String::with_capacity(40);
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// Prefixes `e` with `path`, keeping its kind.
fn context(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

fn in_the_way(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotADirectory,
        format!(
            "{}: not a directory (a symlink or file is in the way)",
            path.display()
        ),
    )
}

fn exists(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{}: already exists", path.display()),
    )
}

fn invalid_input(rel: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{}: {why}", rel.display()),
    )
}

fn invalid_data(path: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{}: {why}", path.display()),
    )
}

#[cfg(test)]
mod tests;
