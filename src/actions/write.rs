//! Writing a cache file by directory handle: the directories are opened from the root
//! down with `O_NOFOLLOW` (missing ones created with `mkdirat` and opened the same way),
//! the bytes go to a new temporary file (`O_CREAT|O_EXCL|O_NOFOLLOW`) in the very
//! directory reached, and `renameat` puts it in place. A component swapped for a symlink
//! (even mid-run) makes the walk fail: nothing is written through a link, so a tree owner
//! can never make root write outside the tree.

use crate::scan::record::display_path;
use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, openat, renameat};
use nix::sys::stat::{FileStat, Mode, fstat, fstatat, mkdirat};
use nix::unistd::{Gid, Uid, UnlinkatFlags, fchown, fchownat, unlinkat, write};
use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};
use std::sync::atomic::{AtomicU64, Ordering};

const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// The file identity compared before and after compiling: device, inode, size, mtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceId {
    /// `st_dev`.
    pub dev: u64,
    /// `st_ino`.
    pub ino: u64,
    /// `st_size`.
    pub size: u64,
    /// `st_mtime` seconds.
    pub mtime: i64,
    /// `st_mtime` nanoseconds part.
    pub mtime_nsec: i64,
    /// `st_mode`.
    pub mode: u32,
}

impl SourceId {
    fn of(st: &FileStat) -> Self {
        Self {
            dev: st.st_dev,
            ino: st.st_ino,
            size: u64::try_from(st.st_size).unwrap_or(0),
            mtime: st.st_mtime,
            mtime_nsec: st.st_mtime_nsec,
            mode: st.st_mode,
        }
    }
}

/// A handle on a directory below a root, with its owner.
pub struct Dir {
    fd: OwnedFd,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
}

/// The names of `dir` below `root`, or why it is not a plain path below it.
fn names<'a>(root: &Path, dir: &'a Path) -> Result<Vec<&'a OsStr>, String> {
    let rel = dir
        .strip_prefix(root)
        .map_err(|_| format!("{} is not under {}", display_path(dir), display_path(root)))?;
    rel.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| match c {
            Component::Normal(n) => Ok(n),
            _ => Err(format!(
                "{} is not a plain path below {}",
                display_path(dir),
                display_path(root)
            )),
        })
        .collect()
}

fn walk_error(path: &Path, e: Errno) -> String {
    let p = display_path(path);
    match e {
        Errno::ELOOP | Errno::ENOTDIR => {
            format!("{p} is not a real directory (a symlink or file stands there): not followed")
        }
        other => format!("cannot open {p}: {}", other.desc()),
    }
}

/// Opens `dir` from `root` down without following links. With `create`, missing
/// directories are made (mode 0777 less the umask, as py_compile does) and, with `chown`,
/// given the owner and group of the directory they are made in.
pub fn open_dir(root: &Path, dir: &Path, create: bool, chown: bool) -> Result<Dir, String> {
    let names = names(root, dir)?;
    // The root itself is the user's choice and may be reached through a link; a prefix
    // tree that does not exist yet is created, as Python creates it.
    let open_root = || {
        nix::fcntl::open(
            root,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
    };
    let mut fd = match open_root() {
        Err(Errno::ENOENT) if create => {
            std::fs::create_dir_all(root)
                .map_err(|e| format!("cannot create {}: {e}", display_path(root)))?;
            open_root()
        }
        r => r,
    }
    .map_err(|e| walk_error(root, e))?;
    let mut shown = root.to_path_buf();
    for name in names {
        shown.push(name);
        let next = match openat(fd.as_fd(), name, DIR_FLAGS, Mode::empty()) {
            Err(Errno::ENOENT) if create => {
                match mkdirat(fd.as_fd(), name, Mode::from_bits_truncate(0o777)) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => {
                        return Err(format!(
                            "cannot create {}: {}",
                            display_path(&shown),
                            e.desc()
                        ));
                    }
                }
                let new = openat(fd.as_fd(), name, DIR_FLAGS, Mode::empty())
                    .map_err(|e| walk_error(&shown, e))?;
                if chown {
                    let parent = fstat(fd.as_fd()).map_err(|e| e.desc().to_string())?;
                    fchown(
                        new.as_fd(),
                        Some(Uid::from_raw(parent.st_uid)),
                        Some(Gid::from_raw(parent.st_gid)),
                    )
                    .map_err(|e| format!("cannot chown {}: {}", display_path(&shown), e.desc()))?;
                }
                new
            }
            r => r.map_err(|e| walk_error(&shown, e))?,
        };
        fd = next;
    }
    let st = fstat(fd.as_fd()).map_err(|e| e.desc().to_string())?;
    Ok(Dir {
        fd,
        uid: st.st_uid,
        gid: st.st_gid,
    })
}

impl Dir {
    /// The identity of the file `name` in this directory (a final symlink is followed, as
    /// the interpreter follows it), if it is a regular file.
    pub fn source_id(&self, name: &OsStr) -> Result<SourceId, String> {
        let st = fstatat(self.fd.as_fd(), name, AtFlags::empty())
            .map_err(|e| format!("cannot stat the source: {}", e.desc()))?;
        if st.st_mode & libc_ifmt() != 0o100000 {
            return Err("the source is not a regular file".into());
        }
        Ok(SourceId::of(&st))
    }

    /// Writes `bytes` as `name` in this directory: a new temporary file, then `renameat`.
    /// `mode` is the new file's permission bits (less the umask); with `chown` the file
    /// gets the owner of the file it replaces, or else of this directory.
    pub fn replace(
        &self,
        name: &OsStr,
        bytes: &[u8],
        mode: u32,
        chown: bool,
    ) -> Result<(), String> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let dir = self.fd.as_fd();
        let old = fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW).ok();
        let mut tmp_name = b".".to_vec();
        tmp_name.extend_from_slice(name.as_bytes());
        tmp_name.extend_from_slice(
            format!(
                ".pycache-{}-{}.tmp",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            )
            .as_bytes(),
        );
        let tmp = OsStr::from_bytes(&tmp_name);
        let file = openat(
            dir,
            tmp,
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(mode & 0o666),
        )
        .map_err(|e| format!("cannot create a temporary file: {}", e.desc()))?;
        let result = (|| {
            write_all(file.as_fd(), bytes)?;
            if chown {
                let (uid, gid) = match old {
                    Some(o) if o.st_mode & libc_ifmt() == 0o100000 => (o.st_uid, o.st_gid),
                    _ => (self.uid, self.gid),
                };
                fchown(
                    file.as_fd(),
                    Some(Uid::from_raw(uid)),
                    Some(Gid::from_raw(gid)),
                )
                .map_err(|e| format!("cannot chown the new cache: {}", e.desc()))?;
            }
            renameat(dir, tmp, dir, name)
                .map_err(|e| format!("cannot rename it into place: {}", e.desc()))
        })();
        if result.is_err() {
            let _ = unlinkat(dir, tmp, UnlinkatFlags::NoRemoveDir);
        }
        result
    }

    /// Gives a file in this directory an owner (not following a link).
    pub fn chown_entry(&self, name: &OsStr, uid: u32, gid: u32) -> Result<(), String> {
        fchownat(
            self.fd.as_fd(),
            name,
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(|e| e.desc().to_string())
    }

    /// The handle.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

fn write_all(fd: BorrowedFd<'_>, mut bytes: &[u8]) -> Result<(), String> {
    while !bytes.is_empty() {
        match write(fd, bytes) {
            Ok(0) => return Err("cannot write the cache: no space written".into()),
            Ok(n) => bytes = &bytes[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(format!("cannot write the cache: {}", e.desc())),
        }
    }
    Ok(())
}

/// `S_IFMT`.
const fn libc_ifmt() -> u32 {
    0o170000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_by_handle_and_refuses_a_symlinked_component() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        std::fs::create_dir(root.join("pkg")).unwrap();
        let d = open_dir(root, &root.join("pkg/__pycache__"), true, false).unwrap();
        d.replace(OsStr::new("m.pyc"), b"abc", 0o644, false)
            .unwrap();
        assert_eq!(
            std::fs::read(root.join("pkg/__pycache__/m.pyc")).unwrap(),
            b"abc"
        );
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("evil")).unwrap();
        let err = open_dir(root, &root.join("evil/__pycache__"), true, false)
            .err()
            .unwrap();
        assert!(err.contains("not followed"), "{err}");
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
        // No temporary file is left behind.
        assert_eq!(
            std::fs::read_dir(root.join("pkg/__pycache__"))
                .unwrap()
                .count(),
            1
        );
    }
}
