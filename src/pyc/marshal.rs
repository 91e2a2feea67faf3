//! A defensive reader of CPython's marshal format, enough to rebuild the code objects a
//! `.pyc` holds: CPython 2.3-2.7 and 3.0-3.14 layouts (and PyPy, which shares them).
//!
//! Facts: shared/docs/pyc-format.md §6. Guarantees, for any input: no panic, no
//! allocation larger than the remaining input allows, bounded recursion (including through
//! back-references), and every error is a `PycError` with a file offset.

mod codeobj;
mod reader;
mod value;
mod walk;

pub use reader::{Reader, WORK_PER_BYTE};
pub use value::{Code, Long, Value, VarKind, Vars, flags};
pub use walk::{BodyWalk, MARSHAL_MAX_DEPTH};

use super::error::{PycError, PycErrorKind};
use super::magic::PyVersion;
use std::rc::Rc;

/// Deepest nesting read from the stream. Real modules stay far below (the parsers of
/// CPython 3.x refuse more than 200 nested brackets); the limit keeps the recursion
/// within a small thread stack.
pub const MAX_DEPTH: usize = 200;

/// Tallest value allowed once back-references are followed: a reference can graft an
/// earlier object below a deep one, so heights are checked as well as reading depth.
pub const MAX_HEIGHT: u32 = 2 * MAX_DEPTH as u32;

/// The code-object field layout of a Python version (§6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CodeLayout {
    /// 2.3-2.7: no keyword-only arguments, byte strings.
    Py2,
    /// 3.0-3.7: adds `kwonlyargcount`.
    Py30,
    /// 3.8-3.10: adds `posonlyargcount`.
    Py38,
    /// 3.11+: localsplus names/kinds, `qualname`, exception table; no `nlocals`.
    Py311,
}

/// What a marshal stream of one Python version may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// The code-object layout.
    pub layout: CodeLayout,
    /// `:` slices (marshal version 5, 3.14+).
    pub slices: bool,
    /// `}` frozendicts (3.15 development).
    pub frozendict: bool,
}

impl Dialect {
    /// The dialect of a Python language version, or why it cannot be read.
    pub fn for_version(v: PyVersion) -> Result<Self, String> {
        let layout = match (v.major, v.minor) {
            (2, 3..) => CodeLayout::Py2,
            (3, 0..=7) => CodeLayout::Py30,
            (3, 8..=10) => CodeLayout::Py38,
            (3, _) => CodeLayout::Py311,
            _ => return Err(format!("code objects of Python {v} are not supported")),
        };
        Ok(Self {
            layout,
            slices: v >= PyVersion::new(3, 14),
            frozendict: v >= PyVersion::new(3, 15),
        })
    }

    /// True for Python 2 streams (no references, an interned-string table).
    pub fn python2(self) -> bool {
        self.layout == CodeLayout::Py2
    }
}

/// The module code object of a `.pyc`, and how many bytes its marshal data took.
#[derive(Debug, Clone)]
pub struct ModuleCode {
    /// The top-level (module) code object.
    pub code: Rc<Code>,
    /// Bytes read after the header.
    pub consumed: usize,
}

/// Reads the code object stored after a `.pyc` header. `after_header` starts at file
/// offset `base` (the header size), so errors carry offsets in the file.
pub fn read_module_code(
    after_header: &[u8],
    base: usize,
    dialect: Dialect,
) -> Result<ModuleCode, PycError> {
    let mut reader = Reader::new(after_header, base, dialect);
    if after_header.is_empty() {
        return Err(PycError::new(base, PycErrorKind::Truncated));
    }
    match reader.read_object()? {
        Value::Code(code) => Ok(ModuleCode {
            code,
            consumed: reader.position(),
        }),
        _ => Err(PycError::new(base, PycErrorKind::NotCode)),
    }
}

/// Checks the marshal body of a whole `.pyc` file whose header decoded, as `marshal.loads`
/// and importlib would (see [`BodyWalk`]); a version without a known layout passes.
pub fn check_body(file: &[u8], header: &crate::pyc::Header) -> Result<(), PycError> {
    let Some(dialect) = header
        .magic
        .python
        .and_then(|v| Dialect::for_version(v).ok())
    else {
        return Ok(());
    };
    let body = file.get(header.header_size..).unwrap_or_default();
    BodyWalk::new().check_module(body, header.header_size, dialect)
}

#[cfg(test)]
mod tests;
