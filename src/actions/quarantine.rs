//! Quarantine: move cache files aside instead of deleting them, with a manifest to put
//! them back (`pycache clean --restore DIR`).
//!
//! Layout: `DIR/manifest.jsonl` (a journal, see [`journal`]) and
//! `DIR/files/<run>-<n>.pyc.quarantined`. The suffix keeps the quarantined files from
//! looking like bytecode to a later scan. Files move with `renameat` on the same filesystem
//! and are copied (then unlinked) across filesystems.
//!
//! The directory is pycache's own: created with mode 700, or already owned by the invoking
//! user and writable by nobody else, reached without following links (see
//! [`crate::safe_dir`]). Otherwise another user could plant a `manifest.jsonl` symlink (root
//! appending file names to any file) or a manifest that makes `--restore` write anywhere.

mod journal;
mod place;
mod restore;

pub use restore::restore;

use super::plan::{Identity, RemoveFile, Step};
use super::remove::errno_text;
use crate::safe_dir::{self, NEW_FILE};
use crate::scan::record::display_path;
use journal::{Intent, Journal, Record, RunHeader};
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg, OFlag, openat, renameat};
use nix::sys::stat::{FileStat, Mode, SFlag, fstat};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid, UnlinkatFlags, fchown, unlinkat};
use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

const MANIFEST: &str = "manifest.jsonl";
const FILES: &str = "files";
const WHAT: &str = "quarantine directory";

/// An open quarantine directory that files are moved into.
pub struct Quarantine {
    files: OwnedFd,
    journal: Journal,
    /// Held for the whole run: one pycache at a time per quarantine.
    _lock: Flock<File>,
    run: String,
    next: u64,
    /// Paths whose intents are on disk already, with their names under `files/`.
    reserved: HashMap<PathBuf, String>,
}

/// File steps whose intents are written (and synced) together.
const BATCH: usize = 256;

/// Opens `files/` in an open quarantine directory, creating it (mode 700) if asked.
fn open_files(qdir: BorrowedFd<'_>, dir: &Path, create: bool) -> Result<OwnedFd, String> {
    let shown = dir.join(FILES);
    if create {
        safe_dir::make_dir_at(qdir, OsStr::new(FILES), 0o700, &shown)?;
    }
    let fd = safe_dir::open_dir_at(qdir, OsStr::new(FILES), &shown)?;
    safe_dir::check_private(&fstat(&fd).map_err(errno_text)?, &shown, WHAT)?;
    Ok(fd)
}

/// Opens the manifest in an open quarantine directory (never through a symlink), checks it
/// is a private regular file, and locks it.
fn open_manifest(qdir: BorrowedFd<'_>, dir: &Path, flags: OFlag) -> Result<Flock<File>, String> {
    let shown = dir.join(MANIFEST);
    let fd = openat(
        qdir,
        MANIFEST,
        flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK,
        Mode::from_bits_truncate(0o600),
    )
    .map_err(|e| match e {
        Errno::ELOOP => format!(
            "{} is a symlink: refused (a pycache manifest is a plain file); remove it",
            display_path(&shown)
        ),
        Errno::ENOENT => format!(
            "{} does not exist: is this a pycache quarantine directory?",
            display_path(&shown)
        ),
        e => format!("cannot open {}: {}", display_path(&shown), e.desc()),
    })?;
    let st = fstat(&fd).map_err(errno_text)?;
    if !is_regular(&st) || st.st_nlink != 1 {
        return Err(format!(
            "{} is not a plain file of its own (a device, FIFO or hard link): refused",
            display_path(&shown)
        ));
    }
    safe_dir::check_private(&st, &shown, "quarantine manifest")?;
    Flock::lock(File::from(fd), FlockArg::LockExclusiveNonblock).map_err(|(_, e)| match e {
        Errno::EWOULDBLOCK => format!(
            "{} is in use by another pycache: wait for it to finish",
            display_path(dir)
        ),
        e => format!("cannot lock {}: {}", display_path(&shown), e.desc()),
    })
}

/// True for a regular file.
pub(crate) fn is_regular(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFREG
}

impl Quarantine {
    /// Checks, before any planning, that `dir` can be used as a quarantine: missing (it will
    /// be created), or ours and private with a plain manifest. Changes nothing.
    pub fn check(dir: &Path) -> Result<(), String> {
        if std::fs::symlink_metadata(dir).is_err() {
            return safe_dir::check_creatable(dir);
        }
        let qdir = safe_dir::open_private_dir(dir, None, WHAT)?;
        match nix::sys::stat::fstatat(&qdir, FILES, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(_) => drop(open_files(qdir.as_fd(), dir, false)?),
            Err(Errno::ENOENT) => {}
            Err(e) => {
                return Err(format!(
                    "cannot open {}: {}",
                    display_path(&dir.join(FILES)),
                    e.desc()
                ));
            }
        }
        match open_manifest(qdir.as_fd(), dir, OFlag::O_RDONLY) {
            Err(e) if e.contains("does not exist") => Ok(()),
            other => other.map(drop),
        }
    }

    /// Opens (creating, mode 700) `dir`, its `files/` directory and its manifest, and
    /// starts a run that may move files out of `roots`.
    pub fn open(dir: &Path, roots: &[std::path::PathBuf]) -> Result<Self, String> {
        let qdir = safe_dir::open_private_dir(dir, Some(0o700), WHAT)?;
        let files = open_files(qdir.as_fd(), dir, true)?;
        let lock = open_manifest(
            qdir.as_fd(),
            dir,
            OFlag::O_RDWR | OFlag::O_APPEND | OFlag::O_CREAT,
        )?;
        let file = lock
            .try_clone()
            .map_err(|e| format!("cannot open the quarantine manifest: {e}"))?;
        let mut journal = Journal::new(file).map_err(|e| {
            format!(
                "cannot write the quarantine manifest in {}: {e}",
                display_path(dir)
            )
        })?;
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let run = format!("{secs}-{}", std::process::id());
        let mut header = RunHeader {
            run: run.clone(),
            roots: Vec::new(),
            roots_hex: Vec::new(),
            root_ids: Vec::new(),
        };
        for root in roots {
            // The roots are the user's choice and may be reached through a link, as in clean.
            let Ok(st) = nix::sys::stat::stat(root) else {
                continue;
            };
            header.roots.push(crate::text::path_text(root));
            header.roots_hex.push(hex(root.as_os_str().as_bytes()));
            header.root_ids.push((st.st_dev, st.st_ino));
        }
        journal.append_all(&[Record::Run(header)], true)?;
        Ok(Self {
            files,
            journal,
            _lock: lock,
            run,
            next: 0,
            reserved: HashMap::new(),
        })
    }

    fn new_name(&mut self) -> String {
        self.next += 1;
        format!("{}-{:06}.pyc.quarantined", self.run, self.next)
    }

    fn intent(&self, file: &str, original: &Path, id: &Identity) -> Record {
        Record::Intent(Intent {
            run: self.run.clone(),
            file: file.to_string(),
            path: crate::text::path_text(original),
            path_hex: hex(original.as_os_str().as_bytes()),
            size: id.size,
            mtime: id.mtime,
            dev: id.dev,
            ino: id.ino,
        })
    }

    /// Records the intents of the next file steps of `steps` (from the current one) in one
    /// synced write, unless the current one already has its intent: one disk sync per
    /// batch instead of one per file, and still every intent on disk before its move.
    pub(crate) fn plan_ahead(&mut self, steps: &[Step]) {
        let Some(Step::RemoveFile(first)) = steps.first() else {
            return;
        };
        if self.reserved.contains_key(&first.path) {
            return;
        }
        let batch: Vec<&RemoveFile> = steps
            .iter()
            .take(BATCH)
            .filter_map(|s| match s {
                Step::RemoveFile(f) if !self.reserved.contains_key(&f.path) => Some(f),
                _ => None,
            })
            .collect();
        let mut records = Vec::with_capacity(batch.len());
        let mut names = Vec::with_capacity(batch.len());
        for f in batch {
            let file = self.new_name();
            records.push(self.intent(&file, &f.path, &f.expect));
            names.push((f.path.clone(), file));
        }
        // On failure the journal is broken and every `take` says so.
        if self.journal.append_all(&records, true).is_ok() {
            self.reserved.extend(names);
        }
    }

    /// Moves `name` (in the directory `from`) into the quarantine: the journal holds the
    /// intent (on disk) before the move and marks it done after.
    pub(crate) fn take(
        &mut self,
        from: BorrowedFd<'_>,
        name: &OsStr,
        original: &Path,
        st: &FileStat,
    ) -> Result<(), String> {
        let file = match self.reserved.remove(original) {
            Some(file) => file,
            None => {
                let file = self.new_name();
                let id = Identity {
                    dev: st.st_dev,
                    ino: st.st_ino,
                    size: u64::try_from(st.st_size).unwrap_or(0),
                    mtime: st.st_mtime,
                };
                let record = self.intent(&file, original, &id);
                self.journal.append_all(&[record], true)?;
                file
            }
        };
        let moved = match renameat(from, name, self.files.as_fd(), file.as_str()) {
            Ok(()) => Ok(()),
            Err(Errno::EXDEV) => copy_then_unlink(from, name, self.files.as_fd(), &file, st),
            Err(e) => Err(errno_text(e)),
        };
        if let Err(why) = moved {
            let _ = self
                .journal
                .append_all(&[Record::Abandoned { file }], false);
            return Err(why);
        }
        // The intent alone is enough to restore the file: a lost mark costs nothing.
        let _ = self.journal.append_all(&[Record::Done { file }], false);
        Ok(())
    }
}

impl Drop for Quarantine {
    /// Intents of steps that never ran (cancelled, skipped) are marked abandoned.
    fn drop(&mut self) {
        let records: Vec<Record> = self
            .reserved
            .drain()
            .map(|(_, file)| Record::Abandoned { file })
            .collect();
        if !records.is_empty() {
            let _ = self.journal.append_all(&records, true);
        }
    }
}

/// Copies across filesystems, checking the source is still the scanned file, then unlinks it.
fn copy_then_unlink(
    from: BorrowedFd<'_>,
    name: &OsStr,
    to: BorrowedFd<'_>,
    file: &str,
    st: &FileStat,
) -> Result<(), String> {
    let src = openat(
        from,
        name,
        OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno_text)?;
    let now = fstat(&src).map_err(errno_text)?;
    if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino) {
        return Err("changed while being quarantined: kept".into());
    }
    let copy = copy_fd(src, to, file, Mode::from_bits_truncate(0o600))?;
    // The copy carries the original's owner, mode and mtime back on restore.
    let _ = fchown(
        &copy,
        Some(Uid::from_raw(st.st_uid)),
        Some(Gid::from_raw(st.st_gid)),
    );
    let _ = nix::sys::stat::fchmod(&copy, Mode::from_bits_truncate(st.st_mode & 0o7777));
    let t = TimeSpec::new(st.st_mtime, 0);
    let _ = nix::sys::stat::futimens(&copy, &t, &t);
    copy.sync_all().map_err(|e| e.to_string())?;
    unlinkat(from, name, UnlinkatFlags::NoRemoveDir).map_err(errno_text)
}

/// Copies an open file into a new file `name` in directory `to` (which must not exist).
fn copy_fd(src: OwnedFd, to: BorrowedFd<'_>, name: &str, mode: Mode) -> Result<File, String> {
    let dst = openat(to, name, NEW_FILE, mode).map_err(errno_text)?;
    let mut dst = File::from(dst);
    std::io::copy(&mut File::from(src), &mut dst).map_err(|e| e.to_string())?;
    Ok(dst)
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.is_empty() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests;
