//! The sources of a directory, `stat`ed once from its listing, and the entries that may
//! shadow them (extension modules, package directories).

use crate::pyc::{SourceFound, SourceStat};
use crate::scan::classify;
use crate::scan::record::SourceRecord;
use crate::scan::visit::{Listing, What, file_error, is};
use crate::scan::walk::{Job, Out};
use rustix::fs::{AtFlags, FileType, statat};
use rustix::io::Errno;
use std::os::fd::BorrowedFd;

/// The `.py` sources of a directory, by stem, sorted for lookups, and what shadows them.
pub(crate) struct Sources {
    stems: Vec<(Vec<u8>, SourceStat)>,
    /// Stems the import system may find as an extension module or a package first, with
    /// those entries' names (rare: built only when such a name exists).
    shadows: Vec<(Vec<u8>, Vec<Vec<u8>>)>,
}

impl Sources {
    pub(super) fn get(&self, stem: &[u8]) -> SourceFound {
        match self.stems.binary_search_by(|(s, _)| s.as_slice().cmp(stem)) {
            Ok(i) => SourceFound::Present(self.stems[i].1),
            Err(_) => SourceFound::Missing,
        }
    }

    pub(super) fn shadows_of(&self, stem: &[u8]) -> &[Vec<u8>] {
        match self
            .shadows
            .binary_search_by(|(s, _)| s.as_slice().cmp(stem))
        {
            Ok(i) => &self.shadows[i].1,
            Err(_) => &[],
        }
    }

    /// The stems a directory's sources and legacy caches have, for the `__pycache__` of a
    /// directory that cannot be listed.
    pub(super) fn source_stems(&self) -> impl Iterator<Item = &[u8]> {
        self.stems.iter().map(|(s, _)| s.as_slice())
    }
}

/// Extension modules and package directories named like a source or a legacy cache of
/// the directory: what the import system may pick first (see `classify::import_order`).
fn shadowing_entries(
    fd: BorrowedFd<'_>,
    l: &Listing,
    stems: &[(Vec<u8>, SourceStat)],
) -> Vec<(Vec<u8>, Vec<Vec<u8>>)> {
    let mut wanted: Vec<&[u8]> = stems.iter().map(|(s, _)| s.as_slice()).collect();
    for i in 0..l.items.len() {
        if matches!(l.items[i].2, What::Bytecode | What::LinkedBytecode)
            && let Some(bn) = classify::bytecode_name(l.name(i), false)
        {
            wanted.push(bn.stem);
        }
    }
    wanted.sort_unstable();
    wanted.dedup();
    let mut out: Vec<(Vec<u8>, Vec<Vec<u8>>)> = Vec::new();
    let mut add = |stem: &[u8], entry: Vec<u8>| {
        if wanted.binary_search(&stem).is_err() {
            return;
        }
        match out.iter_mut().find(|(s, _)| s.as_slice() == stem) {
            Some((_, v)) => v.push(entry),
            None => out.push((stem.to_vec(), vec![entry])),
        }
    };
    for i in 0..l.items.len() {
        let name = l.name(i);
        match l.items[i].2 {
            What::Extension => {
                let first = name.iter().position(|&c| c == b'.').unwrap_or(name.len());
                add(&name[..first], name.to_vec());
                if let Some(py2) = name.strip_suffix(b"module.so")
                    && !py2.contains(&b'.')
                {
                    add(py2, name.to_vec());
                }
            }
            What::Dir if wanted.binary_search(&name).is_ok() => {
                for init in [&b"/__init__.py"[..], b"/__init__.pyc"] {
                    let mut path = name.to_vec();
                    path.extend_from_slice(init);
                    if statat(fd, &path[..], AtFlags::empty())
                        .is_ok_and(|st| is(&st, FileType::RegularFile))
                    {
                        add(name, path);
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Stats every source once, records it, and returns the `.py` ones for cache lookups.
pub(crate) fn sources(
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
    let has_rivals = l
        .items
        .iter()
        .any(|&(_, _, w)| matches!(w, What::Extension | What::Dir));
    let shadows = if has_rivals {
        shadowing_entries(fd, l, &stems)
    } else {
        Vec::new()
    };
    Sources { stems, shadows }
}
