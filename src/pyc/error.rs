//! Errors from decoding `.pyc` bytes. Each carries the byte offset where decoding stopped.

use std::fmt;

/// What went wrong while decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PycErrorKind {
    /// The file has no bytes.
    Empty,
    /// The file ends inside the header.
    TruncatedHeader {
        /// Bytes the header needs.
        need: usize,
    },
    /// Bytes 2-3 are not `\r\n`: not a `.pyc` (or Python 1.0-1.2).
    NotPyc {
        /// The first four bytes.
        first: [u8; 4],
    },
    /// PEP 552 flags with bits CPython rejects.
    InvalidFlags(u32),
    /// The marshal stream ends early.
    Truncated,
    /// An unknown marshal type code.
    BadType(u8),
    /// A length or count that cannot fit the remaining bytes.
    BadLength(i64),
    /// Objects nested deeper than the reader allows.
    TooDeep,
    /// A back-reference to an object that was never stored.
    BadRef(u32),
    /// The top-level object is not a code object.
    NotCode,
    /// Anything else, described.
    Other(String),
    /// The exception the interpreter raises reading it, as it prints it
    /// (`EOFError: marshal data too short`).
    Python(&'static str),
}

/// A decoding error at a byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PycError {
    /// Byte offset from the start of the file.
    pub offset: usize,
    /// What went wrong.
    pub kind: PycErrorKind,
}

impl PycError {
    /// An error at `offset`.
    pub fn new(offset: usize, kind: PycErrorKind) -> Self {
        Self { offset, kind }
    }
}

impl fmt::Display for PycError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            PycErrorKind::Empty => write!(f, "empty file"),
            PycErrorKind::TruncatedHeader { need } => write!(
                f,
                "truncated header: {} of {need} bytes at byte {}",
                self.offset, self.offset
            ),
            PycErrorKind::NotPyc { first } => write!(
                f,
                "not a .pyc file: starts with {:02x} {:02x} {:02x} {:02x} (bytes 2-3 must be 0d 0a)",
                first[0], first[1], first[2], first[3]
            ),
            PycErrorKind::InvalidFlags(v) => {
                write!(f, "invalid flags {v} at byte 4 (CPython accepts 0-3)")
            }
            PycErrorKind::Truncated => {
                write!(f, "truncated marshal stream at byte {}", self.offset)
            }
            PycErrorKind::BadType(t) => {
                write!(f, "unknown marshal type 0x{t:02x} at byte {}", self.offset)
            }
            PycErrorKind::BadLength(n) => {
                write!(f, "impossible length {n} at byte {}", self.offset)
            }
            PycErrorKind::TooDeep => {
                write!(f, "objects nested too deeply at byte {}", self.offset)
            }
            PycErrorKind::BadRef(i) => {
                write!(f, "reference to unknown object {i} at byte {}", self.offset)
            }
            PycErrorKind::NotCode => {
                write!(
                    f,
                    "top-level object is not a code object at byte {}",
                    self.offset
                )
            }
            PycErrorKind::Other(s) => write!(f, "{s} at byte {}", self.offset),
            PycErrorKind::Python(s) => write!(f, "{s} (at byte {})", self.offset),
        }
    }
}

impl PycError {
    /// The exception CPython's import raises for a body that fails like this, as Python
    /// prints it (`EOFError: marshal data too short`), for the cache at `path`. Checked
    /// with `marshal.loads` and `_compile_bytecode` on 3.13 and 3.15. Header errors never
    /// reach the body: with a source beside it Python recompiles instead. A truncation is
    /// an EOFError whose message depends on what CPython was reading when the bytes ran
    /// out ("marshal data too short", "EOF read where object expected", "EOF read where
    /// not expected"; a container's count is not checked up front), so only the exception
    /// is named.
    pub fn python_raises(&self, path: &std::path::Path) -> String {
        let bad = |why: &str| format!("ValueError: bad marshal data ({why})");
        // Python shows the path with repr(): single quotes.
        let path = format!("'{}'", path.display());
        match &self.kind {
            PycErrorKind::Empty | PycErrorKind::TruncatedHeader { .. } => {
                format!("EOFError: reached EOF while reading pyc header of {path}")
            }
            PycErrorKind::NotPyc { .. } => format!("ImportError: bad magic number in {path}"),
            PycErrorKind::InvalidFlags(v) => format!("ImportError: invalid flags {v} in {path}"),
            PycErrorKind::Truncated => "EOFError (the marshal data ends early)".into(),
            PycErrorKind::BadLength(n) if *n < 0 => bad("size out of range"),
            PycErrorKind::BadLength(_) => "EOFError: marshal data too short".into(),
            PycErrorKind::BadType(_) => bad("unknown type code"),
            PycErrorKind::BadRef(_) => bad("invalid reference"),
            PycErrorKind::TooDeep => "ValueError: recursion limit exceeded".into(),
            PycErrorKind::NotCode => format!("ImportError: Non-code object in {path}"),
            PycErrorKind::Other(_) => "ValueError: bad marshal data".into(),
            // Already the interpreter's own words.
            PycErrorKind::Python(text) => (*text).into(),
        }
    }
}

impl std::error::Error for PycError {}
