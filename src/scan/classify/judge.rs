//! The full [`CacheRecord`] of one cache: its verdict from the header (and, unless the scan
//! is header-only, the whole marshal body), in the import system's order: a name the
//! finder never maps, a source shadowed by an extension module or a package, the header
//! rules of `pyc::judge_with`, then the body `marshal.loads` would read.

use super::import_order::{pytest_verdict, shadowed_by};
use super::{BytecodeName, bytecode_name, legacy_tag, looks_like_tag};
use crate::pyc::header::{parse, read_magic};
use crate::pyc::marshal::{BodyWalk, Dialect};
use crate::pyc::{HashCheck, Location, Outcome, PycErrorKind, SourceFound, Status, Verdict};
use crate::scan::record::{CacheKind, CacheRecord, FileMeta, display_path};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// Everything known about one cache file before its verdict.
#[derive(Debug, Clone)]
pub struct CacheFacts<'a> {
    /// Absolute path of the cache.
    pub path: PathBuf,
    /// The source it maps to (None: CPython maps it to nothing).
    pub source: Option<PathBuf>,
    /// Dotted module name.
    pub module: String,
    /// Where the cache lives.
    pub location: Location,
    /// Its parsed name.
    pub name: BytecodeName<'a>,
    /// The bytes read: the first 16 (header only), or the whole file.
    pub head: &'a [u8],
    /// True when `head` is the whole file (its body can be checked).
    pub whole: bool,
    /// Its `stat`.
    pub meta: FileMeta,
    /// The cache file is a symbolic link (read through it).
    pub link: bool,
    /// What could be imported instead of the source in its directory: extension module
    /// names beginning with the stem, and `STEM/__init__.*` of a package (see
    /// [`super::import_order`]).
    pub shadows: &'a [Vec<u8>],
}

/// How to judge: the interpreter's `--check-hash-based-pycs`, and whether to check bodies.
#[derive(Debug, Default)]
pub struct Judging {
    /// `--check-hash-based-pycs`.
    pub hash_check: HashCheck,
    /// The body walker, when `head` holds whole files.
    pub walk: Option<BodyWalk>,
}

/// Judges one cache and fills its record.
pub fn classify(
    facts: CacheFacts<'_>,
    source: SourceFound,
    judging: &mut Judging,
    hash_source: impl FnOnce(&crate::pyc::MagicInfo) -> io::Result<[u8; 8]>,
) -> CacheRecord {
    let header = parse(facts.head);
    // Only undecodable headers need the magic read again (most caches decode).
    let fallback = header
        .is_err()
        .then(|| read_magic(facts.head).ok())
        .flatten();
    let magic_info = header.as_ref().ok().map(|h| &h.magic).or(fallback.as_ref());
    let python = magic_info.and_then(|m| m.python);
    let name_tag = facts.name.tag;
    let tag = match (name_tag, facts.location) {
        (Some(t), Location::Pycache | Location::Prefix) => Some(t.to_string()),
        _ => magic_info.and_then(legacy_tag),
    };
    let after_header = header
        .as_ref()
        .ok()
        .and_then(|h| facts.head.get(h.header_size..))
        .filter(|_| facts.whole && judging.walk.is_some());
    let shadow = tag
        .as_deref()
        .and_then(|t| shadowed_by(t, facts.name.stem, facts.shadows));
    let mut body_checked = false;
    let mut verdict = if let Some(version) = facts.name.pytest {
        body_checked = after_header.is_some();
        let mut v = pytest_verdict(
            &header,
            name_tag,
            version,
            after_header,
            source,
            judging.walk.as_mut(),
        );
        v.outcome = Outcome::NeverConsulted;
        v
    } else if facts.source.is_none() {
        Verdict::new(
            Status::Invalid,
            "the name has no interpreter tag: Python never maps it to a source",
        )
        .with_outcome(Outcome::NeverConsulted)
    } else if let Some(winner) = shadow {
        let winner = display_path(std::path::Path::new(std::ffi::OsStr::from_bytes(winner)));
        Verdict::new(
            Status::Shadowed,
            format!(
                "{winner} is imported instead (the import system tries extension modules \
                 and packages first): Python never reads this cache"
            ),
        )
    } else {
        crate::pyc::judge_with(
            &header,
            facts.location,
            name_tag,
            source,
            judging.hash_check,
            hash_source,
        )
    };
    if facts.name.pytest.is_none()
        && verdict.outcome == Outcome::Used
        && let (Some(walk), Some(body), Ok(h)) = (judging.walk.as_mut(), after_header, &header)
        && let Some(v) = h.magic.python
        && let Ok(dialect) = Dialect::for_version(v)
    {
        body_checked = true;
        if let Err(e) = walk.check_module(body, h.header_size, dialect) {
            let said = match e.kind {
                PycErrorKind::NotCode => format!(
                    "ImportError: Non-code object in '{}' (at byte {})",
                    display_path(&facts.path),
                    e.offset
                ),
                _ => e.to_string(),
            };
            verdict = Verdict::new(
                Status::Invalid,
                format!("corrupt body: the import fails with {said}; Python does not recompile it"),
            )
            .with_outcome(Outcome::ImportError);
        }
    }
    if facts.name.leftover {
        verdict = Verdict::new(
            Status::Invalid,
            "temporary file left by an interrupted write: Python never reads it",
        )
        .with_outcome(Outcome::NeverConsulted);
    } else if facts.location == Location::Legacy
        && verdict.status == Status::Sourceless
        && named_like_tagged(facts.name.stem)
    {
        verdict = Verdict::new(
            Status::Orphaned,
            "named like a tagged cache outside __pycache__: Python never imports it \
             (part of a PYTHONPYCACHEPREFIX tree? scan with --pycache-prefix)",
        );
    }
    if facts.location == Location::Legacy
        && verdict.status == Status::Stale
        && facts.path.extension().is_some_and(|e| e == "pyo")
    {
        // Python 2 -O rewrites it on import; `pycache recompile` never does.
        let reason = verdict.reason.take().unwrap_or_default();
        verdict.reason = Some(format!(
            "{reason} (by python2 -O only: pycache recompile does not rewrite .pyo files; \
             run python2 -O -m compileall on the directory)"
        ));
    }
    let (invalidation, header) = match header {
        Ok(h) => (Some(h.invalidation), Some(h)),
        Err(_) => (None, None),
    };
    let magic = (facts.head.len() >= 4).then(|| u16::from_le_bytes([facts.head[0], facts.head[1]]));
    CacheRecord {
        path: facts.path,
        source: facts.source,
        module: facts.module,
        tag,
        opt: facts.name.opt.map(str::to_string),
        location: facts.location,
        header,
        magic,
        python,
        invalidation,
        status: verdict.status,
        reason: verdict.reason.clone(),
        verdict,
        kind: CacheKind {
            link: facts.link,
            pytest: facts.name.pytest.map(str::to_string),
            body_checked,
        },
        meta: facts.meta,
    }
}

/// True when a legacy stem is itself `NAME.TAG[.opt-N]` (`app.cpython-313`).
fn named_like_tagged(stem: &[u8]) -> bool {
    let mut name = stem.to_vec();
    name.extend_from_slice(b".pyc");
    bytecode_name(&name, true)
        .and_then(|n| n.tag)
        .is_some_and(looks_like_tag)
}

/// The record of a cache that could not be opened (permission denied, dangling link).
pub fn unreadable(facts: CacheFacts<'_>, err: &io::Error) -> CacheRecord {
    let outcome = match facts.location {
        Location::Legacy => Outcome::ImportError,
        _ => Outcome::Recompiled,
    };
    let verdict = Verdict::new(
        Status::Unreadable,
        format!("cannot read it: {err} (run as its owner, or with sudo)"),
    )
    .with_outcome(outcome);
    CacheRecord {
        path: facts.path,
        source: facts.source,
        module: facts.module,
        tag: facts.name.tag.map(str::to_string),
        opt: facts.name.opt.map(str::to_string),
        location: facts.location,
        header: None,
        magic: None,
        python: None,
        invalidation: None,
        status: Status::Unreadable,
        reason: verdict.reason.clone(),
        verdict,
        kind: CacheKind {
            link: facts.link,
            pytest: facts.name.pytest.map(str::to_string),
            body_checked: false,
        },
        meta: facts.meta,
    }
}
