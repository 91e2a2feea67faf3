//! Reading one directory: list it once, `stat` its sources, judge its legacy caches and the
//! caches of its `__pycache__` against those `stat`s, and queue its subdirectories.
//!
//! Everything is done relative to directory descriptors (`openat`, `fstatat`), the way
//! the benchmark's C baseline does it: no path is resolved twice. A `__pycache__` is read
//! together with its parent, so each source is stat'ed once for all its caches, and a
//! source's bytes are read only for hash-based caches.

use super::classify::{self, BytecodeName, CacheFacts};
use super::options::VCS_DIRS;
use super::record::{ScanErrorKind, SourceRecord, display_path};
use super::walk::{Chain, Ctx, Job, Kind, Out};
use crate::pyc::{Location, SourceFound, SourceStat};
use nix::dir::{Dir, Type};
use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag, openat};
use nix::sys::stat::{FileStat, Mode, SFlag, fstat, fstatat};
use std::ffi::OsStr;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What an entry is to the scanner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum What {
    Dir,
    Pycache,
    Source,
    Bytecode,
}

/// A directory's interesting entries; names live in one buffer to spare allocations.
#[derive(Default)]
struct Listing {
    names: Vec<u8>,
    items: Vec<(usize, usize, What)>,
}

impl Listing {
    fn name(&self, i: usize) -> &[u8] {
        let (s, e, _) = self.items[i];
        &self.names[s..e]
    }
}

/// Reads one directory.
pub(super) fn visit(ctx: &Ctx, job: Job, out: &mut Out) {
    let mut flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    if !job.is_root && !ctx.opts.follow_symlinks {
        flags |= OFlag::O_NOFOLLOW;
    }
    let mut dir = match Dir::open(&job.path, flags, Mode::empty()) {
        Ok(d) => d,
        Err(e) => return dir_error(out, &job.path, e),
    };
    let mut chain = job.chain.clone();
    if ctx.opts.follow_symlinks || ctx.opts.one_file_system {
        if let Ok(st) = fstat(dir.as_fd()) {
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
    }
    out.batch.dirs_seen += 1;
    let tree = job.kind != Kind::Prefix;
    let listing = list(ctx, &mut dir, &job, tree, out);
    let fd = dir.as_fd();
    let dir_module = if job.kind == Kind::Prefix {
        String::new()
    } else {
        classify::dir_module(&job.root.base, &job.path)
    };
    let sources = sources(fd, &job, &listing, &dir_module, out);
    match job.kind {
        Kind::Tree => {
            for i in 0..listing.items.len() {
                if listing.items[i].2 == What::Bytecode {
                    let name = listing.name(i);
                    legacy(ctx, fd, &job.path, name, &sources, &dir_module, out);
                }
            }
        }
        Kind::Prefix => prefix_dir(ctx, fd, &job.path, &listing, out),
        Kind::PycacheOnly => {}
    }
    for i in 0..listing.items.len() {
        let what = listing.items[i].2;
        let name = Path::new(OsStr::from_bytes(listing.name(i)));
        match what {
            What::Pycache => {
                pycache(ctx, fd, &job, &sources, &dir_module, out);
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
fn list(ctx: &Ctx, dir: &mut Dir, job: &Job, tree: bool, out: &mut Out) -> Listing {
    let mut l = Listing::default();
    let mut unresolved: Vec<(usize, usize)> = Vec::new();
    for entry in dir.iter() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                dir_error(out, &job.path, e);
                break;
            }
        };
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        match entry.file_type() {
            Some(Type::Directory) => add_dir(ctx, job, tree, name, &mut l),
            Some(Type::File) => add_file(ctx, job, name, &mut l, out),
            Some(Type::Symlink) | None => {
                let s = l.names.len();
                l.names.extend_from_slice(name);
                unresolved.push((s, l.names.len()));
            }
            Some(_) => {}
        }
    }
    // Entries of unknown type, and symlinks: a symlinked source counts (CPython stats
    // through links), symlinked directories and caches only with --follow-symlinks.
    for (s, e) in unresolved {
        let name = l.names[s..e].to_vec();
        let Ok(lst) = fstatat(dir.as_fd(), &name[..], AtFlags::AT_SYMLINK_NOFOLLOW) else {
            continue;
        };
        let st = if is(&lst, SFlag::S_IFLNK) {
            let is_source = classify::source_stem(&name).is_some();
            if !ctx.opts.follow_symlinks && !is_source {
                continue;
            }
            match fstatat(dir.as_fd(), &name[..], AtFlags::empty()) {
                Ok(st) => st,
                Err(_) => continue,
            }
        } else {
            lst
        };
        if is(&st, SFlag::S_IFDIR) && (ctx.opts.follow_symlinks || !is(&lst, SFlag::S_IFLNK)) {
            add_dir(ctx, job, tree, &name, &mut l);
        } else if is(&st, SFlag::S_IFREG) {
            add_file(ctx, job, &name, &mut l, out);
        }
    }
    l
}

fn is(st: &FileStat, kind: SFlag) -> bool {
    st.st_mode & SFlag::S_IFMT.bits() == kind.bits()
}

/// True when `--exclude` matches the name or the path below the root.
fn excluded(ctx: &Ctx, root: &Path, dir: &Path, name: &[u8]) -> bool {
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
    } else {
        return;
    };
    if !excluded(ctx, &job.root.path, &job.path, name) {
        push(l, name, what);
    }
}

fn push(l: &mut Listing, name: &[u8], what: What) {
    let s = l.names.len();
    l.names.extend_from_slice(name);
    l.items.push((s, l.names.len(), what));
}

/// The `.py` sources of a directory, by stem, sorted for lookups.
struct Sources {
    stems: Vec<(Vec<u8>, SourceStat)>,
}

impl Sources {
    fn get(&self, stem: &[u8]) -> SourceFound {
        match self.stems.binary_search_by(|(s, _)| s.as_slice().cmp(stem)) {
            Ok(i) => SourceFound::Present(self.stems[i].1),
            Err(_) => SourceFound::Missing,
        }
    }
}

/// Stats every source once, records it, and returns the `.py` ones for cache lookups.
fn sources(
    fd: BorrowedFd<'_>,
    job: &Job,
    l: &Listing,
    dir_module: &str,
    out: &mut Out,
) -> Sources {
    let mut stems = Vec::new();
    for i in 0..l.items.len() {
        if l.items[i].2 != What::Source {
            continue;
        }
        let name = l.name(i);
        let st = match fstatat(fd, name, AtFlags::empty()) {
            Ok(st) if is(&st, SFlag::S_IFREG) => st,
            Ok(_) | Err(Errno::ENOENT) => continue,
            Err(e) => {
                let path = job.path.join(OsStr::from_bytes(name));
                file_error(out, &path, e);
                continue;
            }
        };
        let Some(stem) = classify::source_stem(name) else {
            continue;
        };
        if name.ends_with(b".py") {
            stems.push((stem.to_vec(), classify::source_stat_from(&st)));
        }
        out.batch.sources.push(SourceRecord {
            path: classify::join_exact(&job.path, name),
            module: classify::join_module(dir_module, stem),
            is_package: name == b"__init__.py",
            meta: classify::meta_from_stat(&st),
        });
    }
    stems.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Sources { stems }
}

/// The first 16 bytes and the `stat` of a cache file.
struct Head {
    bytes: [u8; 16],
    len: usize,
    meta: crate::scan::FileMeta,
}

fn read_head(ctx: &Ctx, dirfd: BorrowedFd<'_>, name: &[u8]) -> Result<Head, Errno> {
    let mut flags = OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NOCTTY;
    if !ctx.opts.follow_symlinks {
        flags |= OFlag::O_NOFOLLOW;
    }
    let fd = openat(dirfd, name, flags, Mode::empty())?;
    let st = fstat(&fd)?;
    let mut file = std::fs::File::from(fd);
    let mut head = Head {
        bytes: [0; 16],
        len: 0,
        meta: classify::meta_from_stat(&st),
    };
    while head.len < 16 {
        match file.read(&mut head.bytes[head.len..]) {
            Ok(0) => break,
            Ok(n) => head.len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Errno::from_raw(e.raw_os_error().unwrap_or(0))),
        }
    }
    Ok(head)
}

/// Judges one cache whose directory is open as `cache_dir`; `read_source` reads the source
/// of hash-based caches.
fn judge_one(
    ctx: &Ctx,
    cache_dir: BorrowedFd<'_>,
    facts: CacheFacts<'_>,
    raw_name: &[u8],
    found: SourceFound,
    read_source: impl FnOnce() -> io::Result<Vec<u8>>,
    out: &mut Out,
) {
    match read_head(ctx, cache_dir, raw_name) {
        Ok(head) => {
            let facts = CacheFacts {
                head: &head.bytes[..head.len],
                meta: head.meta,
                ..facts
            };
            out.batch
                .caches
                .push(classify::classify(facts, found, read_source));
        }
        Err(e @ (Errno::EACCES | Errno::EPERM)) => {
            let meta = fstatat(cache_dir, raw_name, AtFlags::AT_SYMLINK_NOFOLLOW)
                .map(|st| classify::meta_from_stat(&st))
                .unwrap_or_default();
            let err = io::Error::from(e);
            out.batch
                .caches
                .push(classify::unreadable(CacheFacts { meta, ..facts }, &err));
        }
        Err(e) => file_error(out, &facts.path, e),
    }
}

fn read_at(dirfd: BorrowedFd<'_>, name: &Path) -> io::Result<Vec<u8>> {
    let fd = openat(dirfd, name, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())?;
    let mut bytes = Vec::new();
    std::fs::File::from(fd).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A legacy `NAME.pyc`/`NAME.pyo` beside where `NAME.py` is (or was).
fn legacy(
    ctx: &Ctx,
    fd: BorrowedFd<'_>,
    dir: &Path,
    name: &[u8],
    sources: &Sources,
    dir_module: &str,
    out: &mut Out,
) {
    let Some(bn) = classify::bytecode_name(name, false) else {
        return;
    };
    let src_name = classify::source_file_name(bn.stem);
    let facts = CacheFacts {
        path: classify::join_exact(dir, name),
        source: Some(classify::join_source(dir, bn.stem)),
        module: classify::join_module(dir_module, bn.stem),
        location: Location::Legacy,
        name: bn,
        head: &[],
        meta: Default::default(),
    };
    let found = sources.get(bn.stem);
    judge_one(ctx, fd, facts, name, found, || read_at(fd, &src_name), out);
}

/// A directory's `__pycache__`, judged against the sources listed beside it.
fn pycache(
    ctx: &Ctx,
    parent: BorrowedFd<'_>,
    job: &Job,
    sources: &Sources,
    dir_module: &str,
    out: &mut Out,
) {
    let dir = job.path.as_path();
    let path = dir.join("__pycache__");
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC | OFlag::O_NOFOLLOW;
    let mut pc = match Dir::openat(parent, "__pycache__", flags, Mode::empty()) {
        Ok(d) => d,
        Err(e) => return dir_error(out, &path, e),
    };
    out.batch.dirs_seen += 1;
    let mut names: Vec<Vec<u8>> = Vec::new();
    let mut unknown: Vec<Vec<u8>> = Vec::new();
    for entry in pc.iter() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                dir_error(out, &path, e);
                break;
            }
        };
        let name = entry.file_name().to_bytes();
        let regular = match entry.file_type() {
            Some(Type::File) => true,
            Some(Type::Symlink) => ctx.opts.follow_symlinks,
            None => {
                unknown.push(name.to_vec());
                false
            }
            Some(_) => false,
        };
        if regular && classify::bytecode_name(name, false).is_some() {
            names.push(name.to_vec());
        } else if regular {
            out.batch.files_seen += 1;
        }
    }
    let pcfd = pc.as_fd();
    for name in unknown {
        if fstatat(pcfd, &name[..], AtFlags::AT_SYMLINK_NOFOLLOW).is_ok_and(|st| is(&st, SFlag::S_IFREG)) {
            if classify::bytecode_name(&name, false).is_some() {
                names.push(name);
            } else {
                out.batch.files_seen += 1;
            }
        }
    }
    out.batch.files_seen += names.len() as u64;
    if ctx.excludes.is_some() {
        names.retain(|n| !excluded(ctx, &job.root.path, &path, n));
    }
    for name in &names {
        let Some(bn) = classify::bytecode_name(name, true) else {
            continue;
        };
        let src_name = classify::source_file_name(bn.stem);
        let (source, found) = match bn.tag {
            Some(_) => (Some(classify::join_source(dir, bn.stem)), sources.get(bn.stem)),
            None => (None, SourceFound::Missing),
        };
        let facts = CacheFacts {
            path: classify::join_exact(&path, name),
            source,
            module: classify::join_module(dir_module, bn.stem),
            location: Location::Pycache,
            name: bn,
            head: &[],
            meta: Default::default(),
        };
        judge_one(ctx, pcfd, facts, name, found, || read_at(parent, &src_name), out);
    }
}

/// A directory of the prefix tree: each cache maps to `/<path below the prefix>/NAME.py`.
fn prefix_dir(ctx: &Ctx, fd: BorrowedFd<'_>, dir: &Path, l: &Listing, out: &mut Out) {
    let Some(prefix) = &ctx.opts.prefix else {
        return;
    };
    let src_dir = classify::prefix_source_dir(prefix, dir).unwrap_or_else(|| PathBuf::from("/"));
    let (base, under_root) = match ctx.roots.iter().find(|r| src_dir.starts_with(&r.base)) {
        Some(r) => (r.base.as_path(), src_dir.starts_with(&r.path)),
        None => (Path::new("/"), false),
    };
    let dir_module = classify::dir_module(base, &src_dir);
    let mut order: Vec<usize> = (0..l.items.len())
        .filter(|&i| l.items[i].2 == What::Bytecode)
        .collect();
    order.sort_unstable_by(|&a, &b| l.name(a).cmp(l.name(b)));
    let mut last: Option<(Vec<u8>, SourceFound)> = None;
    for i in order {
        let name = l.name(i);
        let Some(bn) = classify::bytecode_name(name, true) else {
            continue;
        };
        let src = classify::join_source(&src_dir, bn.stem);
        let found = match (&last, bn.tag) {
            (_, None) => SourceFound::Missing,
            (Some((stem, found)), _) if stem.as_slice() == bn.stem => *found,
            _ => {
                let found = stat_source(&src, &dir_module, bn, under_root, out);
                last = Some((bn.stem.to_vec(), found));
                found
            }
        };
        let facts = CacheFacts {
            path: classify::join_exact(dir, name),
            source: bn.tag.map(|_| src.clone()),
            module: classify::join_module(&dir_module, bn.stem),
            location: Location::Prefix,
            name: bn,
            head: &[],
            meta: Default::default(),
        };
        judge_one(ctx, fd, facts, name, found, || std::fs::read(&src), out);
    }
}

/// Stats a prefix cache's source by its absolute path; a source outside every root is
/// recorded here, since no walk will meet it.
fn stat_source(
    src: &Path,
    dir_module: &str,
    bn: BytecodeName<'_>,
    under_root: bool,
    out: &mut Out,
) -> SourceFound {
    match nix::sys::stat::stat(src) {
        Ok(st) if is(&st, SFlag::S_IFREG) => {
            if !under_root {
                out.batch.sources.push(SourceRecord {
                    path: src.to_path_buf(),
                    module: classify::join_module(dir_module, bn.stem),
                    is_package: bn.stem == b"__init__",
                    meta: classify::meta_from_stat(&st),
                });
            }
            SourceFound::Present(classify::source_stat_from(&st))
        }
        _ => SourceFound::Missing,
    }
}

fn dir_error(out: &mut Out, path: &Path, e: Errno) {
    let (kind, msg) = match e {
        Errno::EACCES | Errno::EPERM => (
            ScanErrorKind::Unreadable,
            "permission denied: cannot list this directory (run as its owner or with sudo, \
             or skip it with --exclude)"
                .to_string(),
        ),
        Errno::ENOENT => (
            ScanErrorKind::Changed,
            "vanished while it was scanned (scan again when the tree is quiet)".to_string(),
        ),
        Errno::ELOOP | Errno::ENOTDIR => (
            ScanErrorKind::Changed,
            "replaced by a symlink or a file while it was scanned (scan again)".to_string(),
        ),
        Errno::EMFILE | Errno::ENFILE => (
            ScanErrorKind::Io,
            "too many open files: raise the limit with 'ulimit -n' and scan again".to_string(),
        ),
        e => (
            ScanErrorKind::Io,
            format!("cannot read this directory: {}", e.desc().to_lowercase()),
        ),
    };
    out.error(path, kind, msg);
}

fn file_error(out: &mut Out, path: &Path, e: Errno) {
    let (kind, msg) = match e {
        Errno::ENOENT => (
            ScanErrorKind::Changed,
            "vanished while it was scanned (scan again when the tree is quiet)".to_string(),
        ),
        Errno::EACCES | Errno::EPERM => (
            ScanErrorKind::Unreadable,
            "permission denied (run as its owner or with sudo)".to_string(),
        ),
        e => (
            ScanErrorKind::Io,
            format!("cannot read this file: {}", e.desc().to_lowercase()),
        ),
    };
    out.error(path, kind, msg);
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
        dir_error(&mut out, Path::new("/srv/secret"), Errno::EACCES);
        dir_error(&mut out, Path::new("/srv/gone"), Errno::ENOENT);
        file_error(&mut out, Path::new("/srv/m.pyc"), Errno::ENOENT);
        dir_error(&mut out, Path::new("/srv/x"), Errno::EIO);
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
        assert!(out.batch.errors[3].message.starts_with("cannot read this directory: i/o"));
    }
}
