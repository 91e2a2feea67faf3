//! Judging the caches of one directory: its legacy `NAME.pyc` files, its `__pycache__`, or a
//! directory of the prefix tree. Each cache is opened relative to its directory's descriptor,
//! its first 16 bytes read and its descriptor `fstat`ed; each source is `stat`ed once per
//! directory (from the listing) and read only for hash-based caches.

use super::classify::{self, BytecodeName, CacheFacts};
use super::record::ScanErrorKind;
use super::record::SourceRecord;
use super::visit::{Listing, What, dir_error, excluded, file_error, is, push, read_names};
use super::walk::{Ctx, Job, Out};
use crate::pyc::{Location, MagicInfo, SourceFound, SourceStat};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, openat, statat};
use rustix::io::Errno;
use std::io;
use std::os::fd::AsFd;
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The `.py` sources of a directory, by stem, sorted for lookups.
pub(super) struct Sources {
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
pub(super) fn sources(
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
        let st = match statat(fd, name, AtFlags::empty()) {
            Ok(st) if is(&st, FileType::RegularFile) => st,
            Ok(_) | Err(Errno::NOENT) => continue,
            Err(e) => {
                let path = classify::join_exact(&job.path, name);
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

/// Opens and reads the head of a cache: only a regular file is read (a FIFO or device
/// named like a cache is refused before a byte, never waited on), at most 16 bytes.
fn read_head(ctx: &Ctx, dirfd: BorrowedFd<'_>, name: &[u8]) -> io::Result<Head> {
    let name = Path::new(std::ffi::OsStr::from_bytes(name));
    let (fd, st) = crate::fsread::open_regular_at(dirfd, name, ctx.opts.follow_symlinks)?;
    let mut head = Head {
        bytes: [0; 16],
        len: 0,
        meta: classify::meta_from_stat(&st),
    };
    head.len = crate::fsread::read_up_to(fd.as_fd(), &mut head.bytes)?;
    Ok(head)
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
    match read_head(ctx, cache_dir, raw_name) {
        Ok(head) => {
            let facts = CacheFacts {
                head: &head.bytes[..head.len],
                meta: head.meta,
                ..facts
            };
            out.batch
                .caches
                .push(classify::classify(facts, found, hash_source));
        }
        Err(err) if err.kind() == io::ErrorKind::PermissionDenied => {
            let meta = statat(cache_dir, raw_name, AtFlags::SYMLINK_NOFOLLOW)
                .map(|st| classify::meta_from_stat(&st))
                .unwrap_or_default();
            out.batch
                .caches
                .push(classify::unreadable(CacheFacts { meta, ..facts }, &err));
        }
        Err(e) => match e.raw_os_error() {
            Some(n) => file_error(out, &facts.path, Errno::from_raw_os_error(n)),
            None => out.error(&facts.path, ScanErrorKind::Io, e.to_string()),
        },
    }
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
pub(super) fn legacy(
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
    let pc = match openat(parent, "__pycache__", flags, Mode::empty()) {
        Ok(d) => d,
        Err(e) => return dir_error(out, &path, e),
    };
    out.batch.dirs_seen += 1;
    let mut names = Listing::default();
    let mut unknown: Vec<(usize, usize)> = Vec::new();
    read_names(&pc, &path, out, |name, kind, out| {
        let regular = match kind {
            FileType::RegularFile => true,
            FileType::Symlink => ctx.opts.follow_symlinks,
            FileType::Unknown => {
                let s = names.names.len();
                names.names.extend_from_slice(name);
                unknown.push((s, names.names.len()));
                false
            }
            _ => false,
        };
        if regular && classify::bytecode_name(name, false).is_some() {
            push(&mut names, name, What::Bytecode);
        } else if regular {
            out.batch.files_seen += 1;
        }
    });
    for (s, e) in unknown {
        let name = names.names[s..e].to_vec();
        if statat(&pc, &name[..], AtFlags::SYMLINK_NOFOLLOW)
            .is_ok_and(|st| is(&st, FileType::RegularFile))
        {
            if classify::bytecode_name(&name, false).is_some() {
                push(&mut names, &name, What::Bytecode);
            } else {
                out.batch.files_seen += 1;
            }
        }
    }
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
            meta: Default::default(),
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
