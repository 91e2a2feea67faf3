//! Directories pycache keeps its own files in (a quarantine, the demo, the compile-error
//! store), opened so that nobody else can redirect what it writes there.
//!
//! Run as root, pycache must not write through a directory another user could change: that
//! user could swap a name for a symlink between a check and a write and make root write
//! anywhere. So the parent is reached from `/` one component at a time without following
//! links, each directory on the way owned by root or by us and not writable by others
//! (sticky directories like `/tmp` are fine: others cannot rename what is ours there), and
//! the directory itself must be ours and writable by nobody else. Everything below is then
//! done through the handle (`openat` with `O_NOFOLLOW`, new files with `O_EXCL`, `renameat`).

use nix::errno::Errno;
use nix::fcntl::{OFlag, openat, renameat};
use nix::sys::stat::{FileStat, Mode, fstat, mkdirat};
use nix::unistd::{UnlinkatFlags, geteuid, unlinkat};
use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use crate::scan::record::display_path;

mod walk;

/// Flags for opening a directory below a handle: never through a symlink.
pub(crate) const DIR_NOFOLLOW: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// Flags for a new file below a handle: it must not exist, and is never a symlink.
pub(crate) const NEW_FILE: OFlag = OFlag::O_WRONLY
    .union(OFlag::O_CREAT)
    .union(OFlag::O_EXCL)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// Group- and other-write bits.
const GO_WRITE: u32 = 0o022;
const STICKY: u32 = 0o1000;

/// Owner name (or number) for messages.
pub(crate) fn owner_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(u)) => format!("{} (uid {uid})", u.name),
        _ => format!("uid {uid}"),
    }
}

fn me() -> String {
    owner_name(geteuid().as_raw())
}

/// Checks that an opened directory (or file) is ours and writable by nobody else.
pub(crate) fn check_private(st: &FileStat, path: &Path, what: &str) -> Result<(), String> {
    if st.st_uid != geteuid().as_raw() {
        return Err(format!(
            "{what} {} belongs to {}, not to you ({}): another user could change what pycache writes there; use a directory of your own (pycache creates a new one with mode 700)",
            display_path(path),
            owner_name(st.st_uid),
            me()
        ));
    }
    if st.st_mode & GO_WRITE != 0 {
        return Err(format!(
            "{what} {} has mode {:o}, writable by other users: run 'chmod go-w {}', or use a new directory",
            display_path(path),
            st.st_mode & 0o7777,
            display_path(path)
        ));
    }
    Ok(())
}

/// Checks a directory on the way to ours: root's or ours, and nobody else can rename its
/// entries (not group/other-writable, or sticky).
fn check_ancestor(st: &FileStat, path: &Path) -> Result<(), String> {
    let owner_ok = st.st_uid == 0 || st.st_uid == geteuid().as_raw();
    let mode_ok = st.st_mode & GO_WRITE == 0 || st.st_mode & STICKY != 0;
    if owner_ok && mode_ok {
        return Ok(());
    }
    Err(format!(
        "{} (owner {}, mode {:o}) lets another user swap what lies below it: choose a directory whose parents belong to root or to you and are not writable by others",
        display_path(path),
        owner_name(st.st_uid),
        st.st_mode & 0o7777
    ))
}

/// `path` made absolute (from the current directory, which the kernel gives resolved),
/// and its last name.
fn split(path: &Path) -> Result<(PathBuf, &OsStr), String> {
    let name = match path.components().next_back() {
        Some(Component::Normal(n)) => n,
        _ => {
            return Err(format!(
                "{} does not end in a directory name",
                display_path(path)
            ));
        }
    };
    let parent = path.parent().unwrap_or(Path::new("/"));
    if parent.is_absolute() {
        return Ok((parent.to_path_buf(), name));
    }
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot find the current directory: {e}"))?;
    Ok((cwd.join(parent), name))
}

/// Checks, changing nothing, that a missing `path` could be created safely: its nearest
/// existing ancestor is reached through directories of root's or ours that nobody else can
/// change, and through no link of another user's (the check [`open_private_dir`] makes,
/// done before any directory is created and before a plan is made, so a refusal is one
/// line, not one per step).
pub(crate) fn check_creatable(path: &Path) -> Result<(), String> {
    let (parent, _) = split(path)?;
    walk::walk(&parent, true).map(drop)
}

/// Opens a directory of ours: `path` (absolute or relative), created with `create_mode`
/// when given and missing (its missing parents too), or refused with one line saying why
/// and what to do. `what` names it in messages ("quarantine directory"). The path is
/// walked by handle from `/`, links resolved by [`walk::walk`] (never `canonicalize`):
/// a link of another user's on the way is refused, not followed.
pub(crate) fn open_private_dir(
    path: &Path,
    create_mode: Option<u32>,
    what: &str,
) -> Result<OwnedFd, String> {
    let (parent, name) = split(path)?;
    let reached = walk::walk(&parent, create_mode.is_some())?;
    let (parent_fd, parent) = walk::create_missing(reached)?;
    let full = parent.join(name);
    if let Some(mode) = create_mode {
        make_dir_at(parent_fd.as_fd(), name, mode, &full)?;
    }
    let fd = open_dir_at(parent_fd.as_fd(), name, &full)?;
    check_private(&fstat(&fd).map_err(|e| e.to_string())?, &full, what)?;
    Ok(fd)
}

/// Creates the directory `name` in `dir` unless it exists (`shown` names it in errors).
pub(crate) fn make_dir_at(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    mode: u32,
    shown: &Path,
) -> Result<(), String> {
    match mkdirat(dir, name, Mode::from_bits_truncate(mode)) {
        Ok(()) | Err(Errno::EEXIST) => Ok(()),
        Err(e) => Err(format!(
            "cannot create {}: {}",
            display_path(shown),
            e.desc()
        )),
    }
}

/// Opens `name` in `dir` as a directory, never through a symlink.
pub(crate) fn open_dir_at(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    shown: &Path,
) -> Result<OwnedFd, String> {
    openat(dir, name, DIR_NOFOLLOW, Mode::empty()).map_err(|e| match e {
        Errno::ELOOP | Errno::ENOTDIR => format!(
            "{} is a symlink or not a directory: not followed",
            display_path(shown)
        ),
        Errno::ENOENT => format!("{} does not exist", display_path(shown)),
        e => format!("cannot open {}: {}", display_path(shown), e.desc()),
    })
}

/// Writes `bytes` to a new temporary name in `dir` (`O_EXCL|O_NOFOLLOW`), lets `finish`
/// adjust the open file (times, sync), then renames it over `name`.
pub(crate) fn replace_at(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    bytes: &[u8],
    mode: u32,
    finish: &dyn Fn(&std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let fd = match openat(
        dir,
        tmp_name.as_os_str(),
        NEW_FILE,
        Mode::from_bits_truncate(mode),
    ) {
        Ok(fd) => fd,
        // A leftover of a killed run of ours (the directory is private): replace it.
        Err(Errno::EEXIST) => {
            unlinkat(dir, tmp_name.as_os_str(), UnlinkatFlags::NoRemoveDir)?;
            openat(
                dir,
                tmp_name.as_os_str(),
                NEW_FILE,
                Mode::from_bits_truncate(mode),
            )?
        }
        Err(e) => return Err(e.into()),
    };
    let mut file = std::fs::File::from(fd);
    let written = file.write_all(bytes).and_then(|()| finish(&file));
    drop(file);
    if let Err(e) = written.and_then(|()| Ok(renameat(dir, tmp_name.as_os_str(), dir, name)?)) {
        let _ = unlinkat(dir, tmp_name.as_os_str(), UnlinkatFlags::NoRemoveDir);
        return Err(e);
    }
    Ok(())
}

/// Removes everything inside `dir` without following any link (a symlink is removed as a
/// name, never entered).
pub(crate) fn clear_dir(dir: BorrowedFd<'_>) -> nix::Result<()> {
    let mut listing = nix::dir::Dir::openat(dir, ".", DIR_NOFOLLOW, Mode::empty())?;
    let names: Vec<std::ffi::CString> = listing
        .iter()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_owned())
        .filter(|n| n.as_bytes() != b"." && n.as_bytes() != b"..")
        .collect();
    for name in names {
        match unlinkat(dir, name.as_c_str(), UnlinkatFlags::NoRemoveDir) {
            Ok(()) => continue,
            Err(Errno::EISDIR | Errno::EPERM) => {}
            Err(e) => return Err(e),
        }
        let sub = openat(dir, name.as_c_str(), DIR_NOFOLLOW, Mode::empty())?;
        clear_dir(sub.as_fd())?;
        drop(sub);
        unlinkat(dir, name.as_c_str(), UnlinkatFlags::RemoveDir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::fcntl::open;
    use std::os::unix::fs::PermissionsExt;

    /// Our own links on the way are resolved by the walk (not by `canonicalize`): a
    /// relative one, an absolute one, one to `..`; the directory is created where they
    /// lead, and a loop is an error, not a hang.
    #[test]
    fn our_links_on_the_way_are_resolved_by_the_walk() {
        let t = tempfile::tempdir().unwrap();
        let real = t.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::os::unix::fs::symlink("real", t.path().join("rel")).unwrap();
        std::os::unix::fs::symlink(&real, t.path().join("abs")).unwrap();
        std::os::unix::fs::symlink("../real", real.join("up")).unwrap();
        for (via, made) in [
            ("rel/q1", "q1"),
            ("abs/new/q2", "new/q2"),
            ("rel/up/q3", "q3"),
        ] {
            open_private_dir(&t.path().join(via), Some(0o700), "test directory").unwrap();
            assert!(real.join(made).is_dir(), "{via}");
        }
        std::os::unix::fs::symlink("loop", t.path().join("loop")).unwrap();
        let e = check_creatable(&t.path().join("loop/q")).unwrap_err();
        assert!(e.contains("too many levels"), "{e}");
    }

    #[test]
    fn a_private_directory_is_created_and_reopened() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("a/b");
        open_private_dir(&d, Some(0o700), "test directory").unwrap();
        let mode = std::fs::metadata(&d).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        open_private_dir(&d, None, "test directory").unwrap();
    }

    #[test]
    fn a_writable_or_linked_directory_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("open");
        std::fs::create_dir(&d).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = open_private_dir(&d, None, "test directory").unwrap_err();
        assert!(e.contains("chmod go-w"), "{e}");
        std::os::unix::fs::symlink(t.path(), t.path().join("link")).unwrap();
        let e = open_private_dir(&t.path().join("link"), None, "test directory").unwrap_err();
        assert!(e.contains("not followed"), "{e}");
        // Below a world-writable (not sticky) parent, even our own directory is refused.
        std::fs::create_dir(d.join("q")).unwrap();
        let e = open_private_dir(&d.join("q"), None, "test directory").unwrap_err();
        assert!(e.contains("swap"), "{e}");
    }

    #[test]
    fn a_planted_temp_name_is_never_written_through() {
        let t = tempfile::tempdir().unwrap();
        let victim = t.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let d = t.path().join("store");
        let fd = open_private_dir(&d, Some(0o700), "test directory").unwrap();
        let tmp = d.join(format!("f.jsonl.tmp.{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &tmp).unwrap();
        replace_at(
            fd.as_fd(),
            OsStr::new("f.jsonl"),
            b"new",
            0o600,
            &|_| Ok(()),
        )
        .unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(std::fs::read(d.join("f.jsonl")).unwrap(), b"new");
        assert!(!tmp.exists() && tmp.symlink_metadata().is_err());
    }

    #[test]
    fn clearing_never_follows_links() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("keep"), b"x").unwrap();
        let d = t.path().join("d");
        std::fs::create_dir_all(d.join("sub/deeper")).unwrap();
        std::fs::write(d.join("sub/deeper/f"), b"x").unwrap();
        std::os::unix::fs::symlink(&outside, d.join("link")).unwrap();
        let fd = open(&d, DIR_NOFOLLOW, Mode::empty()).unwrap();
        clear_dir(fd.as_fd()).unwrap();
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0);
        assert!(outside.join("keep").exists());
    }
}
