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

impl std::error::Error for PycError {}
