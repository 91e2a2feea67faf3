//! Reading `.pyc` files exactly as CPython does: header layouts, the magic-number table,
//! cache file names, validation against the source, and the verdict.
//!
//! Pure functions over bytes and `stat` results; the only I/O is the caller's. The facts
//! behind every rule are in shared/docs/pyc-format.md (copied facts, cited by section).

pub mod code;
pub mod error;
pub mod header;
pub mod magic;
pub mod marshal;
pub mod name;
pub mod rules;
pub mod validate;
pub mod verdict;

pub use code::{CodeKind, CodeSummary, NestedCode, summarize};
pub use error::{PycError, PycErrorKind};
pub use header::{Header, Invalidation};
pub use magic::{Implementation, MagicInfo, PyVersion};
pub use name::{CacheName, Location};
pub use rules::{HashCheck, Outcome};
pub use validate::{Freshness, SourceStat, StaleReason};
pub use verdict::{SourceFound, Status, Verdict, judge, judge_with};
