//! One file's report: everything `inspect` prints, gathered with the library's rules.
//!
//! The verdict comes from `scan::classify` (CPython's rules via `pyc::judge`, plus the
//! scanner's naming rules), so `inspect` and `scan` agree on every file. `inspect` also
//! decodes the code objects, so it notices corrupt marshal data the scan cannot see.

use pycache::pyc::header;
use pycache::pyc::{
    CodeSummary, Header, Location, PycError, PycErrorKind, SourceFound, SourceStat, Status,
    Verdict, summarize,
};
use pycache::scan::FileMeta;
use pycache::scan::classify::{self, BytecodeName, CacheFacts};
use pycache::text::path_text;
use serde::Serialize;
use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Files larger than this are refused (stated in `inspect --help`): CPython's biggest
/// generated modules compile to a few MiB, and a file is read whole to be decoded, so
/// inspecting a multi-gigabyte file by mistake must not take that much memory.
pub const MAX_PYC_BYTES: u64 = pycache::fsread::PYC_CAP;

/// The source's actual state, to compare with what the header recorded.
#[derive(Debug, Clone, Serialize)]
pub struct Actual {
    /// `int(st_mtime)`.
    pub mtime: i64,
    /// `st_size`.
    pub size: u64,
    /// SipHash of the source with this file's key (hash-based pycs only), 16 hex digits.
    pub hash: Option<String>,
}

/// Everything known about one file; serialised as one element of `inspect --json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The path as given.
    pub path: String,
    /// Magic number (bytes 0-1), when at least 4 bytes with `\r\n` were read.
    pub magic: Option<u16>,
    /// `CPython 3.13`, `PyPy 3.9`, `unknown magic 7`...
    pub describe: Option<String>,
    /// Python language version (`3.13`).
    pub python: Option<String>,
    /// `cpython`, `pypy` or `unknown`.
    pub implementation: Option<&'static str>,
    /// 8, 12 or 16.
    pub header_size: Option<usize>,
    /// PEP 552 flags word (3.7+).
    pub flags: Option<u32>,
    /// `timestamp`, `checked-hash` or `unchecked-hash`.
    pub invalidation: Option<&'static str>,
    /// Source mtime recorded in the header.
    pub source_mtime: Option<u32>,
    /// Source size recorded in the header.
    pub source_size: Option<u32>,
    /// Source hash recorded in the header (16 hex digits).
    pub source_hash: Option<String>,
    /// The source CPython maps this file to (it may not exist).
    pub source: Option<String>,
    /// The source's actual mtime, size and hash, when it exists.
    pub actual: Option<Actual>,
    /// The verdict.
    pub status: Status,
    /// Why.
    pub reason: Option<String>,
    /// For stale files: `mtime`, `size`, `mtime+size` or `hash`.
    pub stale: Option<&'static str>,
    /// Unchecked-hash files whose source changed are still run by Python.
    pub runs_anyway: bool,
    /// Interpreter tag from the name (or from the magic for legacy files).
    pub tag: Option<String>,
    /// Optimisation level from the name.
    pub opt: Option<String>,
    /// `pycache`, `prefix` or `legacy`.
    pub location: Option<Location>,
    /// Dotted module name of the source.
    pub module: Option<String>,
    /// File size in bytes.
    pub size: Option<u64>,
    /// Owner's user name (or uid as text when it has no name).
    pub owner: Option<String>,
    /// Owner's uid.
    pub uid: Option<u32>,
    /// `st_mode`: file type and permission bits (an integer in every JSON document).
    pub mode: Option<u32>,
    /// The code objects, when they decode.
    pub code: Option<CodeSummary>,
    /// Why the file could not be read or decoded (then the exit code is 2).
    pub error: Option<String>,
    /// Byte offset of a decoding error.
    pub error_offset: Option<usize>,
    /// What to do about the error, appended to its line on stderr.
    #[serde(skip)]
    pub hint: &'static str,
}

impl Report {
    /// A file that could not be read; `stat` facts when `stat` worked (not `open`).
    fn failed(path: &Path, error: String, meta: Option<FileMeta>) -> Self {
        Self {
            path: path_text(path),
            magic: None,
            describe: None,
            python: None,
            implementation: None,
            header_size: None,
            flags: None,
            invalidation: None,
            source_mtime: None,
            source_size: None,
            source_hash: None,
            source: None,
            actual: None,
            status: Status::Unreadable,
            reason: Some(error.clone()),
            stale: None,
            runs_anyway: false,
            tag: None,
            opt: None,
            location: None,
            module: None,
            size: meta.map(|m| m.size),
            owner: meta.map(|m| owner_name(m.uid)),
            uid: meta.map(|m| m.uid),
            mode: meta.map(|m| m.mode),
            code: None,
            error: Some(error),
            error_offset: None,
            hint: "",
        }
    }
}

/// Inspects one file; `prefix` is the absolute `PYTHONPYCACHEPREFIX` tree, if any.
/// `given` is the path as typed: it is normalised here, once (absolute and lexically
/// clean, as every command-line path), and shown relative to the current directory when it
/// was typed relative (`./pkg/../__pycache__/m.pyc` shows as `__pycache__/m.pyc`).
pub fn inspect(given: &Path, prefix: Option<&Path>) -> Report {
    let cwd = std::env::current_dir().unwrap_or_default();
    let abs = pycache::paths::normalize_in(&cwd, given);
    let shown = match abs.strip_prefix(&cwd) {
        Ok(rel) if given.is_relative() && !rel.as_os_str().is_empty() => rel.to_path_buf(),
        _ => abs.clone(),
    };
    let path = shown.as_path();
    let (bytes, meta) = match read_bytes(&abs) {
        Ok(read) => read,
        Err((why, meta)) => return Report::failed(path, why, meta),
    };
    let place = locate(&abs, prefix);
    let (found, source_error) = stat_source(place.source.as_deref());
    let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let facts = CacheFacts {
        path: abs.clone(),
        source: place.source.clone(),
        module: place.module.clone(),
        location: place.location,
        name: place.name,
        head: &bytes,
        whole: true,
        meta,
        link,
        shadows: &[],
    };
    let source_path = place.source.clone();
    // Hashed by streaming, from a regular file only: a sparse 4 GiB source or a link to
    // /dev/zero costs no memory and cannot hang.
    let hash_source = |magic: &pycache::pyc::MagicInfo| match &source_path {
        Some(p) => {
            let (fd, _) = pycache::fsread::open_regular(p, true)?;
            pycache::pyc::validate::source_hash_of_file(magic, std::os::fd::AsFd::as_fd(&fd))
        }
        None => Err(io::Error::from(io::ErrorKind::NotFound)),
    };
    let mut judging = classify::Judging {
        walk: Some(pycache::pyc::marshal::BodyWalk::new()),
        ..Default::default()
    };
    let record = classify::classify(facts, found, &mut judging, hash_source);
    let parsed = header::parse(&bytes);
    let magic = header::read_magic(&bytes).ok();
    let mut verdict = record.verdict.clone();
    if parsed.is_ok() && !place.bytecode_name {
        verdict = Verdict::new(
            Status::Orphaned,
            "not named NAME.pyc or NAME.pyo: Python never imports it",
        );
    } else if let (Ok(_), Some(e)) = (&parsed, source_error) {
        verdict = Verdict::new(Status::Unreadable, format!("cannot stat the source: {e}"));
    }
    let (code, decode_error) = decode(&bytes, &parsed);
    if let (Ok(h), Some(e)) = (&parsed, &decode_error)
        && h.magic.python.is_some()
        && record.verdict.outcome != pycache::pyc::Outcome::ImportError
    {
        let raises = e.python_raises(&abs);
        verdict = corrupt_verdict(&verdict, &describe_error(e, bytes.len()), &raises);
    }
    let header = parsed.as_ref().ok();
    let actual = match found {
        SourceFound::Present(stat) => Some(Actual {
            mtime: stat.mtime,
            size: stat.size,
            hash: verdict.actual_hash.clone(),
        }),
        SourceFound::Missing => None,
    };
    let meta = record.meta;
    let actual_present = actual.is_some();
    Report {
        path: path_text(path),
        magic: magic.as_ref().map(|m| m.magic),
        describe: magic.as_ref().map(|m| m.describe()),
        python: magic.as_ref().and_then(|m| m.python).map(|v| v.to_string()),
        implementation: magic.as_ref().map(|m| m.implementation.as_str()),
        header_size: header.map(|h| h.header_size),
        flags: header.and_then(|h| h.flags),
        invalidation: header.map(|h| h.invalidation.as_str()),
        source_mtime: header.and_then(|h| h.source_mtime),
        source_size: header.and_then(|h| h.source_size),
        source_hash: header.and_then(Header::source_hash_hex),
        source: record
            .source
            .as_deref()
            .map(|p| display_source(path, &cwd, p)),
        actual,
        status: verdict.status,
        reason: verdict.reason.clone(),
        stale: verdict.stale.map(|s| s.as_str()),
        runs_anyway: verdict.runs_anyway,
        tag: record.tag.clone(),
        opt: record.opt.clone(),
        location: Some(record.location),
        module: Some(record.module.clone()),
        size: Some(meta.size),
        owner: Some(owner_name(meta.uid)),
        uid: Some(meta.uid),
        mode: Some(meta.mode),
        code,
        error_offset: decode_error.as_ref().map(|e| e.offset),
        hint: decode_error
            .as_ref()
            .map_or("", |e| hint(e, actual_present)),
        error: decode_error.map(|e| describe_error(&e, bytes.len())),
    }
}

/// The error's text; a truncation also says how long the file is.
fn describe_error(e: &PycError, len: usize) -> String {
    match e.kind {
        PycErrorKind::Truncated => format!("{e} of a {len}-byte file"),
        _ => e.to_string(),
    }
}

/// What to do about a file that does not decode.
fn hint(e: &PycError, has_source: bool) -> &'static str {
    match e.kind {
        PycErrorKind::NotPyc { .. } => "",
        _ if has_source => "; remove it (Python writes a new one from the source)",
        _ => "; remove it, or recompile it from its source",
    }
}

/// Reads a regular file whole, refusing directories, devices, FIFOs and huge files.
/// On failure: why, and the `stat` facts when only `open` failed.
fn read_bytes(path: &Path) -> Result<(Vec<u8>, FileMeta), (String, Option<FileMeta>)> {
    let io_error = |e: io::Error| match e.kind() {
        io::ErrorKind::NotFound => "no such file".to_string(),
        io::ErrorKind::PermissionDenied => {
            "permission denied (run as the file's owner, or with sudo)".to_string()
        }
        _ => format!("cannot read: {e}"),
    };
    let meta = std::fs::metadata(path).map_err(|e| (io_error(e), None))?;
    let refuse = |why: String| Err((why, Some(FileMeta::from_metadata(&meta))));
    if meta.is_dir() {
        return refuse(
            "is a directory (inspect takes .pyc files; 'pycache scan' walks trees)".into(),
        );
    }
    if !meta.is_file() {
        return refuse("not a regular file".into());
    }
    if meta.len() > MAX_PYC_BYTES {
        return refuse(format!(
            "{} bytes is larger than inspect's limit of {} MiB (no real .pyc is that large)",
            meta.len(),
            MAX_PYC_BYTES >> 20
        ));
    }
    // Opened again as a regular file, without blocking: the file may have been swapped
    // since the stat, and a "regular" pseudo file (/proc/kmsg) would block a read.
    let read = pycache::fsread::open_regular(path, true).and_then(|(fd, st)| {
        pycache::fsread::read_all(std::os::fd::AsFd::as_fd(&fd), &st, MAX_PYC_BYTES)
    });
    match read {
        Ok(bytes) => Ok((bytes, FileMeta::from_metadata(&meta))),
        Err(e) => refuse(io_error(e)),
    }
}

/// Decodes the code objects after the header. Python 1.x-2.2 layouts are not decoded
/// (no error: the file is fine, pycache just does not read that far).
fn decode(
    bytes: &[u8],
    parsed: &Result<Header, PycError>,
) -> (Option<CodeSummary>, Option<PycError>) {
    let h = match parsed {
        Ok(h) => h,
        Err(e) => return (None, Some(e.clone())),
    };
    if h.magic.python.is_some_and(|v| (v.major, v.minor) < (2, 3)) {
        return (None, None);
    }
    if h.magic.python.is_none() {
        let why = format!("{}: no known layout to decode", h.magic.describe());
        return (None, Some(PycError::new(0, PycErrorKind::Other(why))));
    }
    let body = bytes.get(h.header_size..).unwrap_or_default();
    match summarize(body, &h.magic) {
        Ok(summary) => (Some(summary), None),
        Err(e) => (None, Some(e)),
    }
}

/// A file whose code objects do not decode is invalid. What that means depends on the
/// verdict its header alone gets: CPython checks the header first, so a stale or orphaned
/// file is simply not used, but a fresh one is loaded and its import fails.
fn corrupt_verdict(before: &Verdict, e: &str, raises: &str) -> Verdict {
    let loaded = matches!(before.status, Status::Fresh | Status::Sourceless)
        || (before.status == Status::Stale && before.runs_anyway);
    let effect = if loaded {
        format!("importing the module fails with {raises} until it is removed or recompiled")
    } else {
        "Python does not load it anyway".to_string()
    };
    let mut v = Verdict::new(Status::Invalid, format!("corrupt bytecode: {e}; {effect}"));
    v.actual_hash = before.actual_hash.clone();
    v
}

/// Where a file sits and which source CPython maps it to.
struct Place<'a> {
    location: Location,
    name: BytecodeName<'a>,
    source: Option<PathBuf>,
    module: String,
    bytecode_name: bool,
}

/// CPython's `source_from_cache`: a file below the prefix maps to `/` + the path below it;
/// one in `__pycache__` to the parent directory; any other to the directory it is in.
fn locate<'a>(abs: &'a Path, prefix: Option<&Path>) -> Place<'a> {
    let name = abs.file_name().map_or(&b""[..], OsStrExt::as_bytes);
    let dir = abs.parent().unwrap_or(Path::new("/"));
    let prefixed = prefix.and_then(|p| classify::prefix_source_dir(p, dir));
    let in_pycache = dir.file_name() == Some(OsStr::new("__pycache__"));
    let (location, src_dir, tagged) = match prefixed {
        Some(src_dir) => (Location::Prefix, src_dir, true),
        None if in_pycache => (
            Location::Pycache,
            dir.parent().unwrap_or(dir).to_path_buf(),
            true,
        ),
        None => (Location::Legacy, dir.to_path_buf(), false),
    };
    let parsed = classify::bytecode_name(name, tagged);
    let bytecode_name = parsed.is_some();
    let name = parsed.unwrap_or(BytecodeName {
        stem: name,
        tag: None,
        opt: None,
        leftover: false,
        pytest: None,
    });
    let source = (location == Location::Legacy || name.tag.is_some())
        .then(|| src_dir.join(classify::source_file_name(name.stem)));
    let base = classify::name_base(&src_dir);
    let module = classify::join_module(&classify::dir_module(&base, &src_dir), name.stem);
    Place {
        location,
        name,
        source: source.filter(|_| bytecode_name),
        module,
        bytecode_name,
    }
}

/// `stat` of the source as CPython's finder does it (following symlinks); a permission
/// error is reported rather than mistaken for a missing source.
fn stat_source(source: Option<&Path>) -> (SourceFound, Option<io::Error>) {
    let Some(source) = source else {
        return (SourceFound::Missing, None);
    };
    match std::fs::metadata(source) {
        Ok(m) if m.is_file() => (SourceFound::Present(SourceStat::from_metadata(&m)), None),
        Ok(_) => (SourceFound::Missing, None),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => (SourceFound::Missing, Some(e)),
        Err(_) => (SourceFound::Missing, None),
    }
}

/// The source path as the user would type it: relative to the current directory when the
/// cache path was given relative, absolute otherwise.
fn display_source(given: &Path, cwd: &Path, source: &Path) -> String {
    match source.strip_prefix(cwd) {
        Ok(rel) if given.is_relative() => path_text(rel),
        _ => path_text(source),
    }
}

fn owner_name(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => user.name,
        _ => uid.to_string(),
    }
}
