//! Quarantine: move cache files aside instead of deleting them, with a manifest to put
//! them back (`pycache clean --restore DIR`).
//!
//! Layout: `DIR/manifest.jsonl` (one JSON object per file: where it came from, its size,
//! mtime, mode and owner) and `DIR/files/<run>-<n>.pyc.quarantined`. The suffix keeps the
//! quarantined files from looking like bytecode to a later scan. Files move with `renameat`
//! on the same filesystem and are copied (then unlinked) across filesystems.

use super::plan::{ActionKind, Plan};
use super::remove::errno_text;
use super::report::{Outcome, Report, StepOutcome};
use crate::scan::record::display_path;
use nix::errno::Errno;
use nix::fcntl::{OFlag, RenameFlags, open, openat, renameat, renameat2};
use nix::sys::stat::{FileStat, Mode, fstat};
use nix::sys::time::TimeSpec;
use nix::unistd::{Gid, Uid, UnlinkatFlags, fchown, unlinkat};
use serde::{Deserialize, Serialize};
use std::ffi::OsStr;
use std::fs::File;
use std::io::{BufRead, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

const MANIFEST: &str = "manifest.jsonl";
const FILES: &str = "files";
const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// One quarantined file, as a manifest line.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    /// Name under `DIR/files/`.
    file: String,
    /// Original path (escaped text, for people).
    path: String,
    /// Original path bytes in hex (exact, for restoring).
    path_hex: String,
    size: u64,
    mtime: i64,
    mode: u32,
    uid: u32,
    gid: u32,
}

/// An open quarantine directory that files are moved into.
pub struct Quarantine {
    files: OwnedFd,
    manifest: File,
    run: String,
    next: u64,
}

impl Quarantine {
    /// Opens (creating) `dir`, its `files/` directory and its manifest.
    pub fn open(dir: &Path) -> Result<Self, String> {
        let files_path = dir.join(FILES);
        std::fs::create_dir_all(&files_path)
            .map_err(|e| format!("cannot create quarantine {}: {e}", display_path(dir)))?;
        let files = open(&files_path, DIR_FLAGS, Mode::empty()).map_err(|e| {
            format!(
                "cannot open quarantine {}: {}",
                display_path(&files_path),
                e.desc()
            )
        })?;
        let manifest = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(MANIFEST))
            .map_err(|e| {
                format!(
                    "cannot open the quarantine manifest in {}: {e}",
                    display_path(dir)
                )
            })?;
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Ok(Self {
            files,
            manifest,
            run: format!("{secs}-{}", std::process::id()),
            next: 0,
        })
    }

    /// Moves `name` (in the directory `from`) into the quarantine and records it.
    pub(crate) fn take(
        &mut self,
        from: BorrowedFd<'_>,
        name: &OsStr,
        original: &Path,
        st: &FileStat,
    ) -> Result<(), String> {
        self.next += 1;
        let file = format!("{}-{:06}.pyc.quarantined", self.run, self.next);
        match renameat(from, name, self.files.as_fd(), file.as_str()) {
            Ok(()) => {}
            Err(Errno::EXDEV) => copy_then_unlink(from, name, self.files.as_fd(), &file, st)?,
            Err(e) => return Err(errno_text(e)),
        }
        let entry = Entry {
            file: file.clone(),
            path: crate::text::path_text(original),
            path_hex: hex(original.as_os_str().as_bytes()),
            size: u64::try_from(st.st_size).unwrap_or(0),
            mtime: st.st_mtime,
            mode: st.st_mode,
            uid: st.st_uid,
            gid: st.st_gid,
        };
        let line = serde_json::to_string(&entry).map_err(|e| e.to_string())?;
        if let Err(e) = writeln!(self.manifest, "{line}") {
            // Without a manifest line the file could not be found again: put it back.
            let back = renameat(self.files.as_fd(), file.as_str(), from, name);
            return Err(format!(
                "cannot write the quarantine manifest ({e}); {}",
                if back.is_ok() {
                    "the file was put back"
                } else {
                    "the file stays in the quarantine files/ directory"
                }
            ));
        }
        Ok(())
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
    copy_fd(src, to, file, Mode::from_bits_truncate(0o600))?;
    unlinkat(from, name, UnlinkatFlags::NoRemoveDir).map_err(errno_text)
}

/// Copies an open file into a new file `name` in directory `to` (which must not exist).
fn copy_fd(src: OwnedFd, to: BorrowedFd<'_>, name: &str, mode: Mode) -> Result<File, String> {
    let flags =
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let dst = openat(to, name, flags, mode).map_err(errno_text)?;
    let mut dst = File::from(dst);
    std::io::copy(&mut File::from(src), &mut dst).map_err(|e| e.to_string())?;
    dst.sync_all().map_err(|e| e.to_string())?;
    Ok(dst)
}

/// Puts every quarantined file of `dir` back where it came from, unless something exists
/// there now. Restored entries leave the manifest; the others stay for a later attempt.
pub fn restore(dir: &Path) -> Result<Report, String> {
    let manifest_path = dir.join(MANIFEST);
    let text = File::open(&manifest_path).map_err(|e| {
        format!(
            "cannot read {} ({e}); is this a pycache quarantine directory?",
            display_path(&manifest_path)
        )
    })?;
    let files_path = dir.join(FILES);
    let files = open(&files_path, DIR_FLAGS, Mode::empty())
        .map_err(|e| format!("cannot open {}: {}", display_path(&files_path), e.desc()))?;
    let mut outcomes = Vec::new();
    let mut kept = Vec::new();
    for (index, line) in std::io::BufReader::new(text).lines().enumerate() {
        let line =
            line.map_err(|e| format!("cannot read {}: {e}", display_path(&manifest_path)))?;
        if line.trim().is_empty() {
            continue;
        }
        let Ok(entry) = serde_json::from_str::<Entry>(&line) else {
            outcomes.push(StepOutcome::new(
                index,
                &manifest_path,
                Outcome::Failed(format!("line {} is not a manifest entry", index + 1)),
            ));
            kept.push(line);
            continue;
        };
        let target = unhex(&entry.path_hex).map_or_else(
            || PathBuf::from(&entry.path),
            |b| PathBuf::from(std::ffi::OsString::from_vec(b)),
        );
        let outcome = restore_one(files.as_fd(), &entry, &target);
        if outcome != Outcome::Done {
            kept.push(line);
        }
        outcomes.push(StepOutcome::new(index, &target, outcome));
    }
    let tmp = dir.join("manifest.jsonl.tmp");
    let body: String = kept.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&tmp, body)
        .and_then(|()| std::fs::rename(&tmp, &manifest_path))
        .map_err(|e| format!("cannot rewrite {}: {e}", display_path(&manifest_path)))?;
    Ok(Report::new(
        &Plan::new(ActionKind::Restore, vec![dir.to_path_buf()]),
        outcomes,
        false,
    ))
}

fn restore_one(files: BorrowedFd<'_>, e: &Entry, target: &Path) -> Outcome {
    let (Some(parent), Some(name)) = (target.parent(), target.file_name()) else {
        return Outcome::Failed("the manifest path has no directory".into());
    };
    if !parent.exists() {
        let grand_exists = parent.parent().is_some_and(Path::exists);
        if parent.file_name() != Some(OsStr::new("__pycache__")) || !grand_exists {
            return Outcome::Skipped(format!("its directory {} is gone", display_path(parent)));
        }
        if let Err(err) = std::fs::create_dir(parent) {
            return Outcome::Failed(format!("cannot create {}: {err}", display_path(parent)));
        }
        // Best effort: the directory belongs to whoever owned the file.
        let _ = nix::unistd::chown(
            parent,
            Some(Uid::from_raw(e.uid)),
            Some(Gid::from_raw(e.gid)),
        );
    }
    let dir = match open(parent, DIR_FLAGS, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ELOOP | Errno::ENOTDIR) => {
            return Outcome::Skipped(format!(
                "{} is not a real directory now: not followed",
                display_path(parent)
            ));
        }
        Err(err) => {
            return Outcome::Failed(format!(
                "cannot open {}: {}",
                display_path(parent),
                err.desc()
            ));
        }
    };
    match renameat2(
        files,
        e.file.as_str(),
        &dir,
        name,
        RenameFlags::RENAME_NOREPLACE,
    ) {
        Ok(()) => Outcome::Done,
        Err(Errno::EEXIST) => {
            Outcome::Skipped("a file exists there now: left in the quarantine".into())
        }
        Err(Errno::ENOENT) => {
            Outcome::Skipped(format!("files/{} is missing from the quarantine", e.file))
        }
        Err(Errno::EXDEV) => match copy_back(files, e, dir.as_fd(), name) {
            Ok(()) => Outcome::Done,
            Err(why) => Outcome::Failed(why),
        },
        Err(err) => Outcome::Failed(errno_text(err)),
    }
}

fn copy_back(
    files: BorrowedFd<'_>,
    e: &Entry,
    dir: BorrowedFd<'_>,
    name: &OsStr,
) -> Result<(), String> {
    let src = openat(
        files,
        e.file.as_str(),
        OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno_text)?;
    let name = name
        .to_str()
        .ok_or("only UTF-8 names are copied across filesystems")?;
    let dst = copy_fd(src, dir, name, Mode::from_bits_truncate(e.mode & 0o7777))?;
    let _ = fchown(&dst, Some(Uid::from_raw(e.uid)), Some(Gid::from_raw(e.gid)));
    let t = TimeSpec::new(e.mtime, 0);
    let _ = nix::sys::stat::futimens(&dst, &t, &t);
    unlinkat(files, e.file.as_str(), UnlinkatFlags::NoRemoveDir).map_err(errno_text)
}

/// Lower-case hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.is_empty() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::plan::Identity;
    use crate::actions::remove::{Handles, remove_file};
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn quarantined_files_come_back_unchanged() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        let cache = root.join("pkg/__pycache__/m.cpython-313.pyc");
        std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
        std::fs::write(&cache, b"bytecode").unwrap();
        let m = std::fs::metadata(&cache).unwrap();
        let step = crate::actions::plan::RemoveFile {
            path: cache.clone(),
            root: root.clone(),
            status: crate::pyc::Status::Orphaned,
            tag: None,
            expect: Identity {
                dev: m.dev(),
                ino: m.ino(),
                size: m.size(),
                mtime: m.mtime(),
            },
            disk_usage: 0,
        };
        let qdir = t.path().join("q");
        let mut q = Quarantine::open(&qdir).unwrap();
        assert_eq!(
            remove_file(&mut Handles::default(), &step, Some(&mut q)),
            Outcome::Done
        );
        assert!(!cache.exists());
        std::fs::remove_dir(cache.parent().unwrap()).unwrap();
        let manifest = std::fs::read_to_string(qdir.join(MANIFEST)).unwrap();
        assert!(manifest.contains("m.cpython-313.pyc"));
        let report = restore(&qdir).unwrap();
        assert_eq!(report.summary.done, 1, "{:?}", report.outcomes);
        assert_eq!(std::fs::read(&cache).unwrap(), b"bytecode");
        assert_eq!(std::fs::metadata(&cache).unwrap().mtime(), m.mtime());
        assert_eq!(std::fs::read_to_string(qdir.join(MANIFEST)).unwrap(), "");
    }

    #[test]
    fn restore_never_overwrites() {
        let t = tempfile::tempdir().unwrap();
        let qdir = t.path().join("q");
        std::fs::create_dir_all(qdir.join(FILES)).unwrap();
        std::fs::write(qdir.join("files/1-000001.pyc.quarantined"), b"old").unwrap();
        let target = t.path().join("m.pyc");
        std::fs::write(&target, b"new").unwrap();
        let entry = Entry {
            file: "1-000001.pyc.quarantined".into(),
            path: display_path(&target),
            path_hex: hex(target.as_os_str().as_bytes()),
            size: 3,
            mtime: 0,
            mode: 0o644,
            uid: 0,
            gid: 0,
        };
        std::fs::write(
            qdir.join(MANIFEST),
            serde_json::to_string(&entry).unwrap() + "\n",
        )
        .unwrap();
        let report = restore(&qdir).unwrap();
        assert_eq!(report.summary.skipped, 1);
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        assert!(
            std::fs::read_to_string(qdir.join(MANIFEST))
                .unwrap()
                .contains("1-000001")
        );
        assert_eq!(unhex(&hex(b"\xff/x")), Some(b"\xff/x".to_vec()));
    }
}
