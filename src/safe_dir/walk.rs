//! Reaching a directory from `/` by handle, resolving symlinks ourselves (never by the
//! kernel or `canonicalize`), so that every directory on the way and every link that
//! redirects the walk is checked: a link planted by another user in a directory of theirs
//! could otherwise send root's new quarantine to any root-owned place. As OpenSSH's
//! `safe_path`: each directory must be root's or ours and not changeable by others, and
//! a symlink is followed only when it is root's or ours.

use super::{DIR_NOFOLLOW, check_ancestor, owner_name};
use nix::errno::Errno;
use nix::fcntl::{AtFlags, open, openat, readlinkat};
use nix::sys::stat::{Mode, SFlag, fstat, fstatat};
use nix::unistd::geteuid;
use std::collections::VecDeque;
use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use crate::scan::record::display_path;

/// The links one walk may follow, as Linux's `MAXSYMLINKS`.
const MAX_LINKS: usize = 40;

/// Where a walk ended: the handle of the deepest existing directory, its real path, and
/// the names below it that do not exist yet (in order).
#[derive(Debug)]
pub(crate) struct Reached {
    pub fd: OwnedFd,
    pub path: PathBuf,
    pub missing: Vec<OsString>,
}

fn components(path: &Path) -> impl Iterator<Item = Component<'_>> {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir | Component::Prefix(_)))
}

fn open_root() -> Result<(OwnedFd, PathBuf), String> {
    let fd = open("/", DIR_NOFOLLOW, Mode::empty()).map_err(|e| format!("cannot open /: {e}"))?;
    let at = PathBuf::from("/");
    check_ancestor(&fstat(&fd).map_err(|e| e.to_string())?, &at)?;
    Ok((fd, at))
}

/// Walks the absolute `path` from `/`, one component at a time, checking each directory
/// ([`check_ancestor`]) and each symlink (root's or ours, else refused) before following
/// it. With `missing_ok`, a walk that meets a name that does not exist ends there (the
/// rest is [`Reached::missing`]); without it, that is an error.
pub(crate) fn walk(path: &Path, missing_ok: bool) -> Result<Reached, String> {
    let (mut fd, mut at) = open_root()?;
    // Components as owned names: "/" is the root, ".." the parent, else a name.
    let mut rest: VecDeque<OsString> = components(path)
        .map(|c| c.as_os_str().to_os_string())
        .collect();
    let mut links = 0;
    while let Some(name) = rest.pop_front() {
        if name == "/" {
            (fd, at) = open_root()?;
            continue;
        }
        let st = match fstatat(&fd, name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::ENOENT) if missing_ok => {
                let mut missing = vec![name];
                missing.extend(rest);
                if let Some(bad) = missing.iter().find(|n| *n == ".." || *n == "/") {
                    return Err(format!(
                        "{} does not exist, and the path goes on with {}: give a plain path",
                        display_path(&at.join(&missing[0])),
                        bad.to_string_lossy()
                    ));
                }
                return Ok(Reached {
                    fd,
                    path: at,
                    missing,
                });
            }
            Err(Errno::ENOENT) => {
                return Err(format!("{} does not exist", display_path(&at.join(&name))));
            }
            Err(e) => {
                return Err(format!(
                    "cannot open {}: {}",
                    display_path(&at.join(&name)),
                    e.desc()
                ));
            }
        };
        let kind = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits());
        if kind == SFlag::S_IFLNK {
            let link = at.join(&name);
            if st.st_uid != 0 && st.st_uid != geteuid().as_raw() {
                return Err(format!(
                    "{} is a symlink of {}: another user could point it anywhere, so it is not followed; give the path without it",
                    display_path(&link),
                    owner_name(st.st_uid)
                ));
            }
            links += 1;
            if links > MAX_LINKS {
                return Err(format!(
                    "{}: too many levels of symbolic links",
                    display_path(path)
                ));
            }
            let target = readlinkat(&fd, name.as_os_str()).map_err(|e| {
                format!("cannot read the link {}: {}", display_path(&link), e.desc())
            })?;
            // The target's components go first; an absolute one starts again from `/`.
            for c in components(Path::new(&target))
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
            {
                rest.push_front(c.as_os_str().to_os_string());
            }
            continue;
        }
        let next = openat(&fd, name.as_os_str(), DIR_NOFOLLOW, Mode::empty()).map_err(|e| {
            let shown = display_path(&at.join(&name));
            match e {
                Errno::ENOTDIR => format!("{shown} is not a directory"),
                Errno::ELOOP => {
                    format!("{shown} changed into a symlink while pycache opened it: not followed")
                }
                e => format!("cannot open {shown}: {}", e.desc()),
            }
        })?;
        if name == ".." {
            at.pop();
        } else {
            at.push(&name);
        }
        check_ancestor(&fstat(&next).map_err(|e| e.to_string())?, &at)?;
        fd = next;
    }
    Ok(Reached {
        fd,
        path: at,
        missing: Vec::new(),
    })
}

/// Creates the `missing` directories below `reached` one by one (by handle, never through
/// a link, each checked as it is opened); the handle and path of the last.
pub(crate) fn create_missing(reached: Reached) -> Result<(OwnedFd, PathBuf), String> {
    let Reached {
        mut fd,
        mut path,
        missing,
    } = reached;
    for name in missing {
        path.push(&name);
        match nix::sys::stat::mkdirat(&fd, name.as_os_str(), Mode::from_bits_truncate(0o777)) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(e) => {
                return Err(format!(
                    "cannot create {}: {}",
                    display_path(&path),
                    e.desc()
                ));
            }
        }
        fd = openat(&fd, name.as_os_str(), DIR_NOFOLLOW, Mode::empty()).map_err(|e| match e {
            Errno::ELOOP | Errno::ENOTDIR => format!(
                "{} changed into a symlink or file while pycache created it: not followed",
                display_path(&path)
            ),
            e => format!("cannot open {}: {}", display_path(&path), e.desc()),
        })?;
        check_ancestor(&fstat(&fd).map_err(|e| e.to_string())?, &path)?;
    }
    Ok((fd, path))
}
