//! Judging the caches of one directory: its legacy `NAME.pyc` files, its `__pycache__`, or a
//! directory of the prefix tree. Each cache is opened relative to its directory's descriptor,
//! its first 16 bytes read and its descriptor `fstat`ed; each source is `stat`ed once per
//! directory (from the listing) and read only for hash-based caches.

use super::classify::{self, BytecodeName, CacheFacts};
use super::record::ScanErrorKind;
use super::record::SourceRecord;
use super::visit::{Listing, What, dir_error, excluded, file_error, is};
use super::walk::{Ctx, Job, Out};
use crate::pyc::{Location, MagicInfo, SourceFound};
use listing::{by_name, list_pycache};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, openat, statat};
use rustix::io::Errno;
use std::io;
use std::os::fd::AsFd;
use std::os::fd::BorrowedFd;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

mod listing;
mod source_list;

pub(super) use source_list::{Sources, sources};

/// The first 16 bytes and the `stat` of a cache file.
struct Head {
    bytes: [u8; 16],
    len: usize,
    meta: crate::scan::FileMeta,
}

/// Opens a cache and `fstat`s it: only a regular file is opened for reading (a FIFO or
/// device named like a cache is refused before a byte, never waited on). A link (a
/// symlinked cache, judged as Python reads it) is opened through.
fn open_cache(
    ctx: &Ctx,
    dirfd: BorrowedFd<'_>,
    name: &[u8],
    link: bool,
) -> io::Result<(OwnedFd, rustix::fs::Stat)> {
    let name = Path::new(std::ffi::OsStr::from_bytes(name));
    crate::fsread::open_regular_at(dirfd, name, link || ctx.opts.follow_symlinks)
}

/// Reads the first 16 bytes of a cache (the `--header-only` path).
fn read_head(ctx: &Ctx, dirfd: BorrowedFd<'_>, name: &[u8], link: bool) -> io::Result<Head> {
    let (fd, st) = open_cache(ctx, dirfd, name, link)?;
    let mut head = Head {
        bytes: [0; 16],
        len: 0,
        meta: classify::meta_from_stat(&st),
    };
    head.len = crate::fsread::read_up_to(fd.as_fd(), &mut head.bytes)?;
    Ok(head)
}

/// Largest cache read whole for the body check (real ones stay far below); a larger file
/// is judged by its header alone.
const MAX_BODY: usize = 64 << 20;

/// Reads a whole cache file into `buf` (reused): one `fstat` to size it, then reads until
/// a short one. Returns its `stat`, the bytes read, and whether they are the whole file
/// (false when it exceeds [`MAX_BODY`]: then only the header was read).
fn read_cache(
    ctx: &Ctx,
    dirfd: BorrowedFd<'_>,
    name: &[u8],
    link: bool,
    buf: &mut Vec<u8>,
) -> io::Result<(crate::scan::FileMeta, usize, bool)> {
    let (fd, st) = open_cache(ctx, dirfd, name, link)?;
    let size = usize::try_from(st.st_size).unwrap_or(usize::MAX);
    let whole = size < MAX_BODY;
    // One byte more than the size, so a file that grew since the fstat is seen whole.
    let want = if whole { size + 1 } else { 16 };
    if buf.len() < want {
        buf.resize(want, 0);
    }
    let mut len = 0;
    while len < want {
        match crate::fsread::read_some(fd.as_fd(), &mut buf[len..want])? {
            0 => break,
            n => {
                len += n;
                // A short read of a regular file is its end.
                if whole && len < want {
                    break;
                }
            }
        }
    }
    // Filled to the last byte asked: the file grew since the fstat, so it is not whole.
    Ok((classify::meta_from_stat(&st), len, whole && len < want))
}

/// Judges one cache whose directory is open as `cache_dir`; `hash_source` hashes the source
/// of hash-based caches.
fn judge_one(
    ctx: &Ctx,
    cache_dir: BorrowedFd<'_>,
    facts: CacheFacts<'_>,
    raw_name: &[u8],
    found: SourceFound,
    hash_source: impl FnOnce(&MagicInfo) -> io::Result<[u8; 8]>,
    out: &mut Out,
) {
    out.judging.hash_check = ctx.opts.hash_check;
    let mut buf = std::mem::take(&mut out.filebuf);
    let read = if ctx.opts.header_only {
        read_head(ctx, cache_dir, raw_name, facts.link).map(|head| {
            buf.clear();
            buf.extend_from_slice(&head.bytes[..head.len]);
            (head.meta, head.len, false)
        })
    } else {
        read_cache(ctx, cache_dir, raw_name, facts.link, &mut buf)
    };
    match read {
        Ok((meta, len, whole)) => {
            // A link's own identity is what a removal re-checks (it removes the link).
            let meta = if facts.link {
                statat(cache_dir, raw_name, AtFlags::SYMLINK_NOFOLLOW)
                    .map(|st| classify::meta_from_stat(&st))
                    .unwrap_or(meta)
            } else {
                meta
            };
            if whole && out.judging.walk.is_none() {
                out.judging.walk = Some(crate::pyc::marshal::BodyWalk::new());
            }
            let facts = CacheFacts {
                head: &buf[..len],
                whole,
                meta,
                ..facts
            };
            let record = classify::classify(facts, found, &mut out.judging, hash_source);
            out.batch.caches.push(record);
        }
        Err(err) if err.kind() == io::ErrorKind::PermissionDenied => {
            let meta = statat(cache_dir, raw_name, AtFlags::SYMLINK_NOFOLLOW)
                .map(|st| classify::meta_from_stat(&st))
                .unwrap_or_default();
            out.batch
                .caches
                .push(classify::unreadable(CacheFacts { meta, ..facts }, &err));
        }
        Err(e) if facts.link && e.kind() == io::ErrorKind::NotFound => {
            let meta = statat(cache_dir, raw_name, AtFlags::SYMLINK_NOFOLLOW)
                .map(|st| classify::meta_from_stat(&st))
                .unwrap_or_default();
            let err = io::Error::other(format!("a symbolic link to nothing Python can read ({e})"));
            out.batch
                .caches
                .push(classify::unreadable(CacheFacts { meta, ..facts }, &err));
        }
        Err(e) => match e.raw_os_error() {
            Some(n) => file_error(out, &facts.path, Errno::from_raw_os_error(n)),
            None => out.error(&facts.path, ScanErrorKind::Io, e.to_string()),
        },
    }
    out.filebuf = buf;
}

/// The hash of the source `name` in `dirfd` under `magic`'s key, streamed: a source is
/// read only when it is a regular file (a symlink to a FIFO or `/dev/zero` is refused)
/// and never held whole (a sparse 4 GiB source costs 64 KiB of memory).
fn hash_at(dirfd: BorrowedFd<'_>, name: &Path, magic: &MagicInfo) -> io::Result<[u8; 8]> {
    let (fd, _) = crate::fsread::open_regular_at(dirfd, name, true)?;
    crate::pyc::validate::source_hash_of_file(magic, fd.as_fd())
}

/// [`hash_at`] by path (sources of a prefix tree).
fn hash_path(path: &Path, magic: &MagicInfo) -> io::Result<[u8; 8]> {
    let (fd, _) = crate::fsread::open_regular(path, true)?;
    crate::pyc::validate::source_hash_of_file(magic, fd.as_fd())
}

/// A legacy `NAME.pyc`/`NAME.pyo` beside where `NAME.py` is (or was).
#[allow(clippy::too_many_arguments)]
pub(super) fn legacy(
    ctx: &Ctx,
    fd: BorrowedFd<'_>,
    dir: &Path,
    name: &[u8],
    link: bool,
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
        whole: false,
        meta: Default::default(),
        link,
        shadows: sources.shadows_of(bn.stem),
    };
    let found = sources.get(bn.stem);
    judge_one(
        ctx,
        fd,
        facts,
        name,
        found,
        |m| hash_at(fd, &src_name, m),
        out,
    );
}

/// A directory's `__pycache__`, judged against the sources listed beside it.
pub(super) fn pycache(
    ctx: &Ctx,
    parent: BorrowedFd<'_>,
    job: &Job,
    sources: &Sources,
    dir_module: &str,
    out: &mut Out,
) {
    let dir = job.path.as_path();
    let path = dir.join("__pycache__");
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    let (pc, listable) = match openat(parent, "__pycache__", flags, Mode::empty()) {
        Ok(d) => (d, true),
        Err(e @ (Errno::ACCESS | Errno::PERM)) => {
            // Traversable but not listable (mode 711): Python still opens caches by name.
            let by_path = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
            match openat(parent, "__pycache__", by_path, Mode::empty()) {
                Ok(d) => (d, false),
                Err(_) => return dir_error(out, &path, e),
            }
        }
        Err(e) => return dir_error(out, &path, e),
    };
    out.batch.dirs_seen += 1;
    let mut names = if listable {
        list_pycache(ctx, &pc, &path, out)
    } else {
        out.error(
            &path,
            crate::scan::ScanErrorKind::Unreadable,
            "cannot list this __pycache__ (traversable only, as with mode 711): its caches \
             are judged by the names Python opens; others in it (pytest's, leftovers) are \
             not seen (list it as its owner or with sudo)",
        );
        by_name(&pc, sources)
    };
    out.batch.files_seen += names.items.len() as u64;
    if ctx.excludes.is_some() {
        let keep: Vec<bool> = (0..names.items.len())
            .map(|i| !excluded(ctx, &job.root.path, &path, names.name(i)))
            .collect();
        let mut i = 0;
        names.items.retain(|_| {
            i += 1;
            keep[i - 1]
        });
    }
    let pcfd = rustix::fd::AsFd::as_fd(&pc);
    for i in 0..names.items.len() {
        let name = names.name(i);
        let link = names.items[i].2 == What::LinkedBytecode;
        let Some(bn) = classify::bytecode_name(name, true) else {
            continue;
        };
        let src_name = classify::source_file_name(bn.stem);
        let (source, found) = match bn.tag {
            Some(_) => (
                Some(classify::join_source(dir, bn.stem)),
                sources.get(bn.stem),
            ),
            None => (None, SourceFound::Missing),
        };
        let facts = CacheFacts {
            path: classify::join_exact(&path, name),
            source,
            module: classify::join_module(dir_module, bn.stem),
            location: Location::Pycache,
            name: bn,
            head: &[],
            whole: false,
            meta: Default::default(),
            link,
            shadows: sources.shadows_of(bn.stem),
        };
        judge_one(
            ctx,
            pcfd,
            facts,
            name,
            found,
            |m| hash_at(parent, &src_name, m),
            out,
        );
    }
}

/// A directory of the prefix tree: each cache maps to `/<path below the prefix>/NAME.py`.
pub(super) fn prefix_dir(ctx: &Ctx, fd: BorrowedFd<'_>, dir: &Path, l: &Listing, out: &mut Out) {
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
        .filter(|&i| matches!(l.items[i].2, What::Bytecode | What::LinkedBytecode))
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
            whole: false,
            meta: Default::default(),
            link: l.items[i].2 == What::LinkedBytecode,
            shadows: &[],
        };
        judge_one(ctx, fd, facts, name, found, |m| hash_path(&src, m), out);
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
    match rustix::fs::stat(src) {
        Ok(st) if is(&st, FileType::RegularFile) => {
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
