//! Where a restored entry may go, and the handle walk that reaches it.
//!
//! Only a `.pyc`/`.pyo` path with no `..` under a root its run recorded (the same directory
//! by device and inode), reached from that root with `openat(O_NOFOLLOW|O_DIRECTORY)`, so
//! a parent that became a symlink is never followed.

use super::journal::{Intent, RunHeader};
use super::unhex;
use crate::actions::remove::{errno_text, is_bytecode};
use crate::safe_dir::DIR_NOFOLLOW;
use crate::scan::record::display_path;
use nix::errno::Errno;
use nix::fcntl::{OFlag, openat};
use nix::sys::stat::{Mode, fchmod, fstat, mkdirat};
use nix::unistd::{Gid, Uid, fchown, geteuid};
use std::collections::HashMap;
use std::ffi::OsString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Component, Path, PathBuf};

/// Where an entry goes: its root (as recorded), the directories below it, and its name.
pub(super) struct Place {
    root: PathBuf,
    root_id: (u64, u64),
    dirs: Vec<OsString>,
    pub name: OsString,
}

/// Accepts an entry only for a plain `.pyc`/`.pyo` path under a root of its run.
pub(super) fn check_entry(i: &Intent, run: Option<&RunHeader>) -> Result<Place, String> {
    if i.file.is_empty() || i.file.starts_with('.') || i.file.contains('/') {
        return Err(format!(
            "its quarantine name {:?} is not a plain file name",
            i.file
        ));
    }
    let run = run.ok_or("the manifest has no run header with the roots it may restore into")?;
    let target = PathBuf::from(OsString::from_vec(
        unhex(&i.path_hex).ok_or("its path is not recorded exactly (path_hex)")?,
    ));
    plain_absolute(&target).ok_or("its path is not a plain absolute path (no '..', no '.')")?;
    let name = target.file_name().ok_or("its path has no file name")?;
    if !is_bytecode(name) {
        return Err("only .pyc and .pyo files are restored".into());
    }
    let mut best: Option<(usize, PathBuf, (u64, u64))> = None;
    for (hex, id) in run.roots_hex.iter().zip(&run.root_ids) {
        let Some(root) = unhex(hex).map(|b| PathBuf::from(OsString::from_vec(b))) else {
            continue;
        };
        let Some(depth) = plain_absolute(&root) else {
            continue;
        };
        if target.starts_with(&root) && target != root && best.as_ref().is_none_or(|b| depth > b.0)
        {
            best = Some((depth, root, *id));
        }
    }
    let (_, root, root_id) = best.ok_or_else(|| {
        format!(
            "{} is not under a root its run cleaned ({})",
            display_path(&target),
            // The exact bytes, escaped: the text copy is not trusted for the terminal.
            run.roots_hex
                .iter()
                .filter_map(|h| unhex(h))
                .map(|b| display_path(Path::new(std::ffi::OsStr::from_bytes(&b))))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let rel = target.strip_prefix(&root).map_err(|e| e.to_string())?;
    let mut dirs: Vec<OsString> = rel
        .components()
        .map(|c| c.as_os_str().to_os_string())
        .collect();
    let name = dirs.pop().ok_or("its path is its root")?;
    Ok(Place {
        root,
        root_id,
        dirs,
        name,
    })
}

/// The number of components of an absolute path made only of plain names, or None.
fn plain_absolute(p: &Path) -> Option<usize> {
    let raw = p.as_os_str().as_bytes();
    if raw.split(|b| *b == b'/').any(|c| c == b".." || c == b".") {
        return None;
    }
    let mut parts = p.components();
    if parts.next() != Some(Component::RootDir) {
        return None;
    }
    let mut n = 0;
    for c in parts {
        if !matches!(c, Component::Normal(_)) {
            return None;
        }
        n += 1;
    }
    Some(n)
}

/// Root handles, opened once per root and checked against the recorded identity.
#[derive(Default)]
pub(super) struct Walker {
    roots: HashMap<PathBuf, Result<OwnedFd, String>>,
}

impl Walker {
    /// The directory an entry goes into, reached from its root without following links;
    /// a missing last `__pycache__` is created when `create` is set.
    pub(super) fn parent(&mut self, place: &Place, create: bool) -> Result<OwnedFd, String> {
        let root = self
            .roots
            .entry(place.root.clone())
            .or_insert_with(|| open_root(&place.root, place.root_id));
        let root = root.as_ref().map_err(Clone::clone)?;
        let mut fd = openat(root, ".", DIR_NOFOLLOW, Mode::empty()).map_err(errno_text)?;
        let mut shown = place.root.clone();
        for (n, name) in place.dirs.iter().enumerate() {
            shown.push(name);
            let last = n + 1 == place.dirs.len();
            fd = match openat(&fd, name.as_os_str(), DIR_NOFOLLOW, Mode::empty()) {
                Ok(next) => next,
                Err(Errno::ENOENT) if create && last && name == "__pycache__" => {
                    make_pycache(fd.as_fd(), &shown)?
                }
                Err(Errno::ENOENT) => {
                    return Err(format!("its directory {} is gone", display_path(&shown)));
                }
                Err(Errno::ELOOP | Errno::ENOTDIR) => {
                    return Err(format!(
                        "{} is a symlink or not a directory now: not followed",
                        display_path(&shown)
                    ));
                }
                Err(e) => {
                    return Err(format!(
                        "cannot open {}: {}",
                        display_path(&shown),
                        e.desc()
                    ));
                }
            };
        }
        Ok(fd)
    }
}

fn open_root(root: &Path, id: (u64, u64)) -> Result<OwnedFd, String> {
    let fd = nix::fcntl::open(
        root,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("cannot open its root {}: {}", display_path(root), e.desc()))?;
    let st = fstat(&fd).map_err(errno_text)?;
    if (st.st_dev, st.st_ino) != id {
        return Err(format!(
            "its root {} is another directory than the one that was cleaned (it was replaced or moved): not restored there",
            display_path(root)
        ));
    }
    Ok(fd)
}

/// Creates `__pycache__` in `parent` by handle: mode 755, owned like its parent.
fn make_pycache(parent: BorrowedFd<'_>, shown: &Path) -> Result<OwnedFd, String> {
    let fail = |e: Errno| format!("cannot create {}: {}", display_path(shown), e.desc());
    match mkdirat(parent, "__pycache__", Mode::from_bits_truncate(0o755)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(fail(e)),
    }
    let fd = openat(parent, "__pycache__", DIR_NOFOLLOW, Mode::empty()).map_err(|e| match e {
        Errno::ELOOP | Errno::ENOTDIR => format!(
            "{} became a symlink as it was created: not followed",
            display_path(shown)
        ),
        e => fail(e),
    })?;
    let st = fstat(&fd).map_err(fail)?;
    // Only the directory made here is adjusted; one someone else made meanwhile is theirs.
    if st.st_uid == geteuid().as_raw() {
        let owner = fstat(parent).map_err(fail)?;
        if owner.st_uid != st.st_uid || owner.st_gid != st.st_gid {
            fchown(
                &fd,
                Some(Uid::from_raw(owner.st_uid)),
                Some(Gid::from_raw(owner.st_gid)),
            )
            .map_err(fail)?;
        }
        fchmod(&fd, Mode::from_bits_truncate(0o755)).map_err(fail)?;
    }
    Ok(fd)
}
