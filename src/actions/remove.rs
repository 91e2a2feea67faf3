//! Safe removal: directories are opened from the root down through handles, never
//! following a symbolic link, and each file is checked against the scan just before it goes.
//!
//! A symlink planted after the scan (a `__pycache__` swapped for a link to `/etc`) makes
//! `openat(O_NOFOLLOW)` fail, so the step is skipped; `unlinkat` on a directory handle
//! removes the name inside that very directory, whatever happens to the path meanwhile.

use super::plan::{Identity, RemoveDir, RemoveFile};
use super::quarantine::Quarantine;
use super::report::Outcome;
use crate::scan::record::display_path;
use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, openat};
use nix::sys::stat::{FileStat, Mode, SFlag, fstatat};
use nix::unistd::{UnlinkatFlags, unlinkat};
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// Why a directory could not be reached.
#[derive(Debug)]
pub(crate) enum Reach {
    /// Something other than a real directory stands on the path now: skip.
    Changed(String),
    /// The system refused: fail.
    Refused(String),
}

impl Reach {
    fn into_outcome(self) -> Outcome {
        match self {
            Reach::Changed(why) => Outcome::Skipped(why),
            Reach::Refused(why) => Outcome::Failed(why),
        }
    }
}

/// Open directory handles for one root, reused across consecutive steps in the same
/// directory (steps are sorted by path, so this opens each directory about once).
struct RootHandles {
    root: PathBuf,
    fd: OwnedFd,
    /// Names below the root and their handles, outermost first.
    stack: Vec<(OsString, OwnedFd)>,
}

/// Directory handles per root.
#[derive(Default)]
pub(crate) struct Handles {
    roots: Vec<RootHandles>,
}

impl Handles {
    /// A handle on `dir`, opened from `root` down without following links.
    pub(crate) fn dir(&mut self, root: &Path, dir: &Path) -> Result<BorrowedFd<'_>, Reach> {
        let rel = dir.strip_prefix(root).map_err(|_| {
            Reach::Changed(format!(
                "{} is not under {}",
                display_path(dir),
                display_path(root)
            ))
        })?;
        let mut names = Vec::new();
        for c in rel.components() {
            match c {
                Component::Normal(n) => names.push(n),
                Component::CurDir => {}
                _ => {
                    return Err(Reach::Changed(format!(
                        "{} is not a plain path below the root",
                        display_path(dir)
                    )));
                }
            }
        }
        let at = match self.roots.iter().position(|r| r.root == root) {
            Some(i) => i,
            None => {
                // The root itself is the user's choice and may be reached through a link;
                // everything below it is not.
                let fd = nix::fcntl::open(
                    root,
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| reach_error(root, e))?;
                self.roots.push(RootHandles {
                    root: root.to_path_buf(),
                    fd,
                    stack: Vec::new(),
                });
                self.roots.len() - 1
            }
        };
        let r = &mut self.roots[at];
        let keep = r
            .stack
            .iter()
            .zip(&names)
            .take_while(|((have, _), want)| have.as_os_str() == **want)
            .count();
        r.stack.truncate(keep);
        for name in &names[keep..] {
            let parent = r.stack.last().map_or(r.fd.as_fd(), |(_, fd)| fd.as_fd());
            let fd = openat(parent, *name, DIR_FLAGS, Mode::empty()).map_err(|e| {
                let shown: PathBuf = root.join(names[..=r.stack.len()].iter().collect::<PathBuf>());
                reach_error(&shown, e)
            })?;
            r.stack.push((name.to_os_string(), fd));
        }
        Ok(r.stack.last().map_or(r.fd.as_fd(), |(_, fd)| fd.as_fd()))
    }

    /// Drops cached handles on `dir` and below (after it was removed).
    fn forget(&mut self, root: &Path, dir: &Path) {
        if let Some(r) = self.roots.iter_mut().find(|r| r.root == root)
            && let Ok(rel) = dir.strip_prefix(root)
        {
            let depth = rel.components().count();
            if depth > 0 {
                r.stack.truncate(depth - 1);
            }
        }
    }
}

fn reach_error(path: &Path, e: Errno) -> Reach {
    let p = display_path(path);
    match e {
        Errno::ELOOP | Errno::ENOTDIR => Reach::Changed(format!(
            "{p} is no longer a directory (a symlink or file stands there now): not followed"
        )),
        Errno::ENOENT => Reach::Changed(format!("{p} is gone")),
        other => Reach::Refused(format!("cannot open {p}: {}", other.desc())),
    }
}

/// Compares a file's current `stat` with what the scan recorded.
pub(crate) fn same_file(st: &FileStat, expect: &Identity) -> bool {
    st.st_dev == expect.dev
        && st.st_ino == expect.ino
        && u64::try_from(st.st_size).is_ok_and(|s| s == expect.size)
        && st.st_mtime == expect.mtime
}

fn is_kind(st: &FileStat, kind: SFlag) -> bool {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == kind
}

/// Removes (or quarantines) one cache file after re-checking it.
pub(crate) fn remove_file(
    handles: &mut Handles,
    step: &RemoveFile,
    quarantine: Option<&mut Quarantine>,
) -> Outcome {
    let (Some(parent), Some(name)) = (step.path.parent(), step.path.file_name()) else {
        return Outcome::Skipped("not a file path".into());
    };
    if !is_bytecode(name) {
        return Outcome::Skipped("only .pyc and .pyo files are removed".into());
    }
    let dir = match handles.dir(&step.root, parent) {
        Ok(fd) => fd,
        Err(e) => return e.into_outcome(),
    };
    let st = match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::ENOENT) => return Outcome::Skipped("already gone".into()),
        Err(e) => return Outcome::Failed(format!("cannot stat it: {}", e.desc())),
    };
    if !is_kind(&st, SFlag::S_IFREG) {
        return Outcome::Skipped(
            "no longer a regular file (a symlink or directory now): kept".into(),
        );
    }
    if !same_file(&st, &step.expect) {
        return Outcome::Skipped(
            "changed since the scan (inode, size or mtime differ): kept; scan again to re-judge it"
                .into(),
        );
    }
    let result = match quarantine {
        Some(q) => q.take(dir, name, &step.path, &st),
        None => unlinkat(dir, name, UnlinkatFlags::NoRemoveDir).map_err(errno_text),
    };
    match result {
        Ok(()) => Outcome::Done,
        Err(why) => Outcome::Failed(why),
    }
}

/// Removes a `__pycache__` directory if it is (now) empty.
pub(crate) fn remove_dir(handles: &mut Handles, step: &RemoveDir) -> Outcome {
    let (Some(parent), Some(name)) = (step.path.parent(), step.path.file_name()) else {
        return Outcome::Skipped("not a directory path".into());
    };
    if name != "__pycache__" {
        return Outcome::Skipped("only __pycache__ directories are removed".into());
    }
    handles.forget(&step.root, &step.path);
    let dir = match handles.dir(&step.root, parent) {
        Ok(fd) => fd,
        Err(e) => return e.into_outcome(),
    };
    match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) if is_kind(&st, SFlag::S_IFDIR) => {}
        Ok(_) => return Outcome::Skipped("no longer a directory (a symlink now?): kept".into()),
        Err(Errno::ENOENT) => return Outcome::Skipped("already gone".into()),
        Err(e) => return Outcome::Failed(format!("cannot stat it: {}", e.desc())),
    }
    match unlinkat(dir, name, UnlinkatFlags::RemoveDir) {
        Ok(()) => Outcome::Done,
        Err(Errno::ENOTEMPTY | Errno::EEXIST) => Outcome::Skipped(
            "not empty: it still holds files (ones this plan did not or could not remove)".into(),
        ),
        Err(Errno::ENOENT) => Outcome::Skipped("already gone".into()),
        Err(e) => Outcome::Failed(errno_text(e)),
    }
}

/// True for `.pyc`/`.pyo` names.
pub(crate) fn is_bytecode(name: &OsStr) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let b = name.as_bytes();
    b.ends_with(b".pyc") || b.ends_with(b".pyo")
}

/// `errno` as text with a hint for the usual suspects.
pub(crate) fn errno_text(e: Errno) -> String {
    match e {
        Errno::EPERM => "operation not permitted (immutable file or directory? see lsattr)".into(),
        Errno::EACCES => "permission denied (run as the owner of the directory, or as root)".into(),
        Errno::EROFS => "read-only file system".into(),
        other => other.desc().to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn identity(p: &Path) -> Identity {
        let m = std::fs::symlink_metadata(p).unwrap();
        Identity {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: m.mtime(),
        }
    }

    fn step(root: &Path, path: PathBuf) -> RemoveFile {
        RemoveFile {
            expect: identity(&path),
            path,
            root: root.to_path_buf(),
            status: crate::pyc::Status::Stale,
            tag: None,
            disk_usage: 0,
        }
    }

    #[test]
    fn removes_checked_files_and_empty_pycache() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("pkg/__pycache__");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("m.cpython-313.pyc"), b"x").unwrap();
        let mut h = Handles::default();
        let s = step(t.path(), d.join("m.cpython-313.pyc"));
        assert_eq!(remove_file(&mut h, &s, None), Outcome::Done);
        assert_eq!(
            remove_file(&mut h, &s, None),
            Outcome::Skipped("already gone".into())
        );
        let rd = RemoveDir {
            path: d.clone(),
            root: t.path().to_path_buf(),
        };
        assert_eq!(remove_dir(&mut h, &rd), Outcome::Done);
        assert!(!d.exists());
    }

    #[test]
    fn a_replaced_file_is_kept() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("m.pyc");
        std::fs::write(&f, b"old").unwrap();
        let s = step(t.path(), f.clone());
        std::fs::remove_file(&f).unwrap();
        std::fs::write(&f, b"new!").unwrap();
        let out = remove_file(&mut Handles::default(), &s, None);
        assert!(matches!(out, Outcome::Skipped(ref w) if w.contains("changed since the scan")));
        assert!(f.exists());
    }

    #[test]
    fn a_symlinked_directory_is_never_entered() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        let root = t.path().join("root");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::create_dir_all(root.join("__pycache__")).unwrap();
        let victim = outside.join("m.cpython-313.pyc");
        std::fs::write(&victim, b"keep me").unwrap();
        let cache = root.join("__pycache__/m.cpython-313.pyc");
        std::fs::write(&cache, b"keep me").unwrap();
        let mut s = step(&root, cache);
        // Swap the directory for a link to the outside after the "scan", and make the
        // outside file look identical to what was scanned.
        s.expect = identity(&victim);
        std::fs::remove_dir_all(root.join("__pycache__")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("__pycache__")).unwrap();
        let out = remove_file(&mut Handles::default(), &s, None);
        assert!(
            matches!(out, Outcome::Skipped(ref w) if w.contains("not followed")),
            "{out:?}"
        );
        assert!(victim.exists());
        let rd = RemoveDir {
            path: root.join("__pycache__"),
            root: root.clone(),
        };
        assert!(matches!(
            remove_dir(&mut Handles::default(), &rd),
            Outcome::Skipped(_)
        ));
        assert!(outside.exists());
    }

    #[test]
    fn a_non_empty_pycache_stays() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("__pycache__");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("m.cpython-313.pyc.12345"), b"tmp").unwrap();
        let rd = RemoveDir {
            path: d.clone(),
            root: t.path().to_path_buf(),
        };
        assert!(
            matches!(remove_dir(&mut Handles::default(), &rd), Outcome::Skipped(ref w) if w.contains("not empty"))
        );
        assert!(d.exists());
    }
}
