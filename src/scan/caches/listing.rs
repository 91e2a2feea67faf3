//! What a `__pycache__` holds: its listing (links to regular files kept as linked caches),
//! or, when it cannot be listed, the names the import system would open in it.

use super::Sources;
use crate::scan::classify;
use crate::scan::visit::{Listing, What, is, push, read_names};
use crate::scan::walk::{Ctx, Out};
use rustix::fs::{AtFlags, FileType, statat};
use std::os::fd::OwnedFd;
use std::path::Path;

/// The cache names a `__pycache__` listing holds; symlinks to regular files are kept as
/// linked caches.
pub(super) fn list_pycache(ctx: &Ctx, pc: &OwnedFd, path: &Path, out: &mut Out) -> Listing {
    let mut names = Listing::default();
    let mut unresolved: Vec<(usize, usize)> = Vec::new();
    read_names(pc, path, out, |name, kind, out| {
        let regular = match kind {
            FileType::RegularFile => true,
            FileType::Symlink | FileType::Unknown => {
                let s = names.names.len();
                names.names.extend_from_slice(name);
                unresolved.push((s, names.names.len()));
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
    for (s, e) in unresolved {
        let name = names.names[s..e].to_vec();
        let Ok(st) = statat(pc, &name[..], AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        let what = if is(&st, FileType::RegularFile) {
            What::Bytecode
        } else if is(&st, FileType::Symlink)
            && (ctx.opts.follow_symlinks || classify::bytecode_name(&name, false).is_some())
            && statat(pc, &name[..], AtFlags::empty()).is_ok()
        {
            // Judged through the link, as Python opens it; a link to a FIFO or a device is
            // kept too, so the open refuses it and the scan says so (never a silent skip).
            What::LinkedBytecode
        } else {
            continue;
        };
        if classify::bytecode_name(&name, false).is_some() {
            push(&mut names, &name, what);
        } else {
            out.batch.files_seen += 1;
        }
    }
    names
}

/// Interpreter tags whose cache names are tried in a `__pycache__` that cannot be listed.
const TAGS_BY_NAME: &[&str] = &[
    "cpython-32",
    "cpython-33",
    "cpython-34",
    "cpython-35",
    "cpython-36",
    "cpython-37",
    "cpython-38",
    "cpython-39",
    "cpython-310",
    "cpython-311",
    "cpython-312",
    "cpython-313",
    "cpython-314",
    "cpython-315",
    "pypy36",
    "pypy37",
    "pypy38",
    "pypy39",
    "pypy310",
    "pypy311",
];

/// The caches of an unlistable `__pycache__`, found as the import system finds them: by
/// the name `cache_from_source` gives each source beside it (every tag and opt level).
pub(super) fn by_name(pc: &OwnedFd, sources: &Sources) -> Listing {
    let mut names = Listing::default();
    for stem in sources.source_stems() {
        for tag in TAGS_BY_NAME {
            for opt in ["", ".opt-1", ".opt-2"] {
                let mut name = stem.to_vec();
                name.push(b'.');
                name.extend_from_slice(tag.as_bytes());
                name.extend_from_slice(opt.as_bytes());
                name.extend_from_slice(b".pyc");
                let Ok(st) = statat(pc, &name[..], AtFlags::SYMLINK_NOFOLLOW) else {
                    continue;
                };
                if is(&st, FileType::RegularFile) {
                    push(&mut names, &name, What::Bytecode);
                } else if is(&st, FileType::Symlink)
                    && statat(pc, &name[..], AtFlags::empty())
                        .is_ok_and(|t| is(&t, FileType::RegularFile))
                {
                    push(&mut names, &name, What::LinkedBytecode);
                }
            }
        }
    }
    names
}
