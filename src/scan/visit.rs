//! Reading one directory: list it once, `stat` its sources, judge its legacy caches and the
//! caches of its `__pycache__` against those `stat`s, and queue its subdirectories.
//!
//! Everything is done relative to directory descriptors (`openat`, `fstatat`), the way
//! the benchmark's C baseline does it: no path is resolved twice. A `__pycache__` is read
//! together with its parent, so each source is stat'ed once for all its caches
//! ([`super::caches`] judges them).

use super::caches;
use super::classify;
use super::options::VCS_DIRS;
use super::record::{ScanErrorKind, display_path};
use super::walk::{Chain, Ctx, Job, Kind, Out};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, RawDir, Stat, fstat, open, statat};
use rustix::io::Errno;
use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;

/// Bytes asked of each `getdents64`: most directories are listed in one call.
const DIRBUF: usize = 64 * 1024;

/// What an entry is to the scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum What {
    Dir,
    Pycache,
    Source,
    Bytecode,
    /// A symbolic link to a regular file named like a cache: judged through the link.
    LinkedBytecode,
    /// A `.so` file: an extension module, which the import system tries before sources.
    Extension,
}

/// A directory's interesting entries; names live in one buffer to spare allocations.
#[derive(Default)]
pub(super) struct Listing {
    pub(super) names: Vec<u8>,
    pub(super) items: Vec<(usize, usize, What)>,
}

impl Listing {
    pub(super) fn name(&self, i: usize) -> &[u8] {
        let (s, e, _) = self.items[i];
        &self.names[s..e]
    }
}

/// Reads one directory.
pub(super) fn visit(ctx: &Ctx, job: Job, out: &mut Out) {
    let mut flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    if !job.is_root && !ctx.opts.follow_symlinks {
        flags |= OFlags::NOFOLLOW;
    }
    let dir = match open(&job.path, flags, Mode::empty()) {
        Ok(d) => d,
        Err(e) => return dir_error(out, &job.path, e),
    };
    let mut chain = job.chain.clone();
    let identity = (ctx.opts.follow_symlinks || ctx.opts.one_file_system)
        .then(|| fstat(&dir).ok())
        .flatten();
    if let Some(st) = identity {
        if ctx.opts.one_file_system && !job.is_root && st.st_dev != job.root.dev {
            return;
        }
        if ctx.opts.follow_symlinks {
            if let Some(seen) = ancestor(&chain, st.st_dev, st.st_ino) {
                let msg = format!(
                    "symlink loop: this is {} again (not followed)",
                    display_path(seen)
                );
                return out.error(&job.path, ScanErrorKind::SymlinkLoop, msg);
            }
            chain = Some(Arc::new(Chain {
                dev: st.st_dev,
                ino: st.st_ino,
                path: job.path.clone(),
                parent: chain,
            }));
        }
    }
    out.batch.dirs_seen += 1;
    let tree = job.kind != Kind::Prefix;
    let listing = list(ctx, &dir, &job, tree, out);
    let fd = dir.as_fd();
    let dir_module = if job.kind == Kind::Prefix {
        String::new()
    } else {
        classify::dir_module(&job.root.base, &job.path)
    };
    let sources = caches::sources(fd, &job, &listing, &dir_module, out);
    match job.kind {
        Kind::Tree => {
            for i in 0..listing.items.len() {
                if matches!(listing.items[i].2, What::Bytecode | What::LinkedBytecode) {
                    let name = listing.name(i);
                    let link = listing.items[i].2 == What::LinkedBytecode;
                    caches::legacy(ctx, fd, &job.path, name, link, &sources, &dir_module, out);
                }
            }
        }
        Kind::Prefix => caches::prefix_dir(ctx, fd, &job.path, &listing, out),
        Kind::PycacheOnly => {}
    }
    for i in 0..listing.items.len() {
        let what = listing.items[i].2;
        let name = Path::new(OsStr::from_bytes(listing.name(i)));
        match what {
            What::Pycache => {
                caches::pycache(ctx, fd, &job, &sources, &dir_module, out);
            }
            What::Dir if job.kind != Kind::PycacheOnly => {
                let path = job.path.join(name);
                let kind = match &ctx.opts.prefix {
                    Some(p) if *p == path => Kind::Prefix,
                    _ => job.kind,
                };
                out.children.push(Job {
                    path,
                    kind,
                    root: job.root.clone(),
                    is_root: false,
                    chain: chain.clone(),
                });
            }
            _ => {}
        }
    }
}

fn ancestor(chain: &Option<Arc<Chain>>, dev: u64, ino: u64) -> Option<&Path> {
    let mut link = chain.as_deref();
    while let Some(c) = link {
        if c.dev == dev && c.ino == ino {
            return Some(&c.path);
        }
        link = c.parent.as_deref();
    }
    None
}

/// Lists a directory, keeping the entries that matter and counting files.
fn list(ctx: &Ctx, dir: &OwnedFd, job: &Job, tree: bool, out: &mut Out) -> Listing {
    let mut l = Listing::default();
    let mut unresolved: Vec<(usize, usize)> = Vec::new();
    read_names(dir, &job.path, out, |name, kind, out| match kind {
        FileType::Directory => add_dir(ctx, job, tree, name, &mut l),
        FileType::RegularFile => add_file(ctx, job, name, &mut l, out),
        FileType::Symlink | FileType::Unknown => {
            let s = l.names.len();
            l.names.extend_from_slice(name);
            unresolved.push((s, l.names.len()));
        }
        _ => {}
    });
    // Entries of unknown type, and symlinks: a symlinked source or cache counts (CPython
    // reads through links; a linked cache is judged, never followed to delete), symlinked
    // directories only with --follow-symlinks.
    for (s, e) in unresolved {
        let name = l.names[s..e].to_vec();
        let Ok(lst) = statat(dir, &name[..], AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        let link = is(&lst, FileType::Symlink);
        let st = if link {
            let is_file_kind = classify::source_stem(&name).is_some()
                || classify::bytecode_name(&name, false).is_some()
                || name.ends_with(b".so");
            if !ctx.opts.follow_symlinks && !is_file_kind {
                continue;
            }
            match statat(dir, &name[..], AtFlags::empty()) {
                Ok(st) => st,
                Err(_) => continue,
            }
        } else {
            lst
        };
        if is(&st, FileType::Directory) && (ctx.opts.follow_symlinks || !link) {
            add_dir(ctx, job, tree, &name, &mut l);
        } else if is(&st, FileType::RegularFile) {
            let before = l.items.len();
            add_file(ctx, job, &name, &mut l, out);
            if link
                && let Some(item) = l.items.get_mut(before)
                && item.2 == What::Bytecode
            {
                item.2 = What::LinkedBytecode;
            }
        }
    }
    l
}

/// Calls `each(name, type)` for every entry but `.` and `..`, with raw `getdents64` into
/// the worker's buffer (no allocation per entry). Errors become findings.
pub(super) fn read_names(
    dir: &OwnedFd,
    path: &Path,
    out: &mut Out,
    mut each: impl FnMut(&[u8], FileType, &mut Out),
) {
    let mut buf = std::mem::take(&mut out.dirbuf);
    if buf.capacity() < DIRBUF {
        buf = Vec::with_capacity(DIRBUF);
    }
    let mut entries = RawDir::new(dir, buf.spare_capacity_mut());
    while let Some(entry) = entries.next() {
        match entry {
            Ok(e) => {
                let name = e.file_name().to_bytes();
                if name != b"." && name != b".." {
                    each(name, e.file_type(), out);
                }
            }
            Err(e) => {
                dir_error(out, path, e);
                break;
            }
        }
    }
    out.dirbuf = buf;
}

/// The file type in a `stat`'s mode.
pub(super) fn is(st: &Stat, kind: FileType) -> bool {
    FileType::from_raw_mode(st.st_mode) == kind
}

/// True when `--exclude` matches the name or the path below the root.
pub(super) fn excluded(ctx: &Ctx, root: &Path, dir: &Path, name: &[u8]) -> bool {
    let Some(set) = &ctx.excludes else {
        return false;
    };
    let name = Path::new(OsStr::from_bytes(name));
    if set.is_match(name) {
        return true;
    }
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    set.is_match(rel.join(name))
}

fn add_dir(ctx: &Ctx, job: &Job, tree: bool, name: &[u8], l: &mut Listing) {
    if ctx.opts.skip_vcs && VCS_DIRS.iter().any(|v| v.as_bytes() == name) {
        return;
    }
    if excluded(ctx, &job.root.path, &job.path, name) {
        return;
    }
    let what = if tree && name == b"__pycache__" {
        What::Pycache
    } else {
        What::Dir
    };
    push(l, name, what);
}

fn add_file(ctx: &Ctx, job: &Job, name: &[u8], l: &mut Listing, out: &mut Out) {
    out.batch.files_seen += 1;
    let what = if classify::source_stem(name).is_some() {
        What::Source
    } else if classify::bytecode_name(name, false).is_some() {
        What::Bytecode
    } else if name.ends_with(b".so") {
        What::Extension
    } else {
        return;
    };
    if !excluded(ctx, &job.root.path, &job.path, name) {
        push(l, name, what);
    }
}

pub(super) fn push(l: &mut Listing, name: &[u8], what: What) {
    let s = l.names.len();
    l.names.extend_from_slice(name);
    l.items.push((s, l.names.len(), what));
}

pub(super) fn dir_error(out: &mut Out, path: &Path, e: Errno) {
    let (kind, msg) = match e {
        Errno::ACCESS | Errno::PERM => (
            ScanErrorKind::Unreadable,
            "permission denied: cannot list this directory (run as its owner or with sudo, \
             or skip it with --exclude)"
                .to_string(),
        ),
        Errno::NOENT => (
            ScanErrorKind::Changed,
            "vanished while it was scanned (scan again when the tree is quiet)".to_string(),
        ),
        Errno::LOOP | Errno::NOTDIR => (
            ScanErrorKind::Changed,
            "replaced by a symlink or a file while it was scanned (scan again)".to_string(),
        ),
        Errno::MFILE | Errno::NFILE => (
            ScanErrorKind::Io,
            "too many open files: raise the limit with 'ulimit -n' and scan again".to_string(),
        ),
        e => (
            ScanErrorKind::Io,
            format!("cannot read this directory: {}", errno_text(e)),
        ),
    };
    out.error(path, kind, msg);
}

pub(super) fn file_error(out: &mut Out, path: &Path, e: Errno) {
    let (kind, msg) = match e {
        Errno::NOENT => (
            ScanErrorKind::Changed,
            "vanished while it was scanned (scan again when the tree is quiet)".to_string(),
        ),
        Errno::ACCESS | Errno::PERM => (
            ScanErrorKind::Unreadable,
            "permission denied (run as its owner or with sudo)".to_string(),
        ),
        e => (
            ScanErrorKind::Io,
            format!("cannot read this file: {}", errno_text(e)),
        ),
    };
    out.error(path, kind, msg);
}

/// `input/output error`: the system's words, lower-case, without "(os error 5)".
fn errno_text(e: Errno) -> String {
    let text = std::io::Error::from(e).to_string();
    let text = text.split(" (os error").next().unwrap_or_default();
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    // We run as root in CI, so permission errors cannot be produced with chmod; the
    // mapping from errno to finding is tested here, and end to end in tests/cli/scan.rs
    // when privileges can be dropped.
    #[test]
    fn io_errors_become_findings_with_advice() {
        let mut out = Out::new();
        dir_error(&mut out, Path::new("/srv/secret"), Errno::ACCESS);
        dir_error(&mut out, Path::new("/srv/gone"), Errno::NOENT);
        file_error(&mut out, Path::new("/srv/m.pyc"), Errno::NOENT);
        dir_error(&mut out, Path::new("/srv/x"), Errno::IO);
        let kinds: Vec<ScanErrorKind> = out.batch.errors.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                ScanErrorKind::Unreadable,
                ScanErrorKind::Changed,
                ScanErrorKind::Changed,
                ScanErrorKind::Io
            ]
        );
        assert!(out.batch.errors[0].message.contains("--exclude"));
        assert!(
            out.batch.errors[3]
                .message
                .starts_with("cannot read this directory: input/output error")
        );
    }
}
