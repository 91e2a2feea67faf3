//! Whole-body validation: does `marshal.loads` accept the bytes after a `.pyc` header, and
//! is the object a code object? A structural walk that builds no values, so the scanner can
//! check every cache of a large tree at close to the speed of reading it.
//!
//! The walk follows CPython's `r_object` (Python/marshal.c): the same type codes per
//! dialect, the same depth limit (`MAX_MARSHAL_STACK_DEPTH`, counted per object read), the
//! same reference rules (a `FLAG_REF` slot per object-building type, in pre-order; code
//! objects, non-empty frozensets and slices are only usable once complete), every length
//! checked against the bytes present before it is skipped, and the field types
//! `PyCode_New` insists on. Errors carry the exception the interpreter raises, as it
//! prints it, at the file offset where it stops. Only the walker's own stacks are kept,
//! reused from one file to the next, so a scan allocates nothing per file once warm.

use super::codeobj::{Field, PY2, PY30, PY38, PY311};

use super::{CodeLayout, Dialect};
use fields::Fields;
use scalar::{names_run, scalar};

mod fields;
mod scalar;
use crate::pyc::error::{PycError, PycErrorKind};

/// CPython's `MAX_MARSHAL_STACK_DEPTH` (2.7 and 3.x on Linux).
pub const MARSHAL_MAX_DEPTH: usize = 2000;

/// What a value is, as far as code-object field checks need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Bytes,
    Str,
    Tuple,
    Code,
    Other,
    /// The slot of an object still being read, which a reference may not name yet.
    Pending,
}

/// A container being read.
#[derive(Debug, Clone, Copy)]
enum Frame {
    /// Tuple, list, set or frozenset with this many items left.
    Seq { left: u32 },
    /// Dict or frozendict: true when the next object is a value.
    Dict { value_next: bool },
    /// Code object: index of the next object field (in [`Fields`]).
    Code { next: u8 },
    /// Slice (3.14+): parts left.
    Slice { left: u8 },
}

#[derive(Debug, Clone, Copy)]
struct Open {
    frame: Frame,
    kind: Kind,
    /// The reference slot it holds until it completes ([`NO_SLOT`] for none).
    slot: u32,
}

/// The reusable state of the walk (keep one per thread).
#[derive(Debug, Default)]
pub struct BodyWalk {
    frames: Vec<Open>,
    /// The kind of each `FLAG_REF` slot, in order ([`Kind::Pending`] while being read).
    refs: Vec<Kind>,
}

/// No reference slot held by an open container.
const NO_SLOT: u32 = u32::MAX;

struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
    python2: bool,
}

const EOF_OBJECT: &str = "EOFError: EOF read where object expected";

impl Cursor<'_> {
    // Errors are the rare path: kept out of line, so the hot loop stays small.
    #[cold]
    #[inline(never)]
    fn fail(&self, at: usize, text: &'static str) -> PycError {
        PycError::new(self.base.saturating_add(at), PycErrorKind::Python(text))
    }
    #[cold]
    #[inline(never)]
    fn short(&self) -> PycError {
        let text = if self.python2 {
            EOF_OBJECT
        } else {
            "EOFError: marshal data too short"
        };
        self.fail(self.pos, text)
    }
    /// The next `n` bytes. `pos` never passes the end, so `len - pos` cannot underflow and
    /// one comparison checks the bounds (no overflow check, no second range check).
    #[inline]
    fn skip(&mut self, n: usize) -> Result<&[u8], PycError> {
        let start = self.pos;
        if n <= self.data.len() - start {
            self.pos = start + n;
            Ok(&self.data[start..start + n])
        } else {
            Err(self.short())
        }
    }
    #[inline]
    fn u8(&mut self) -> Result<u8, PycError> {
        match self.data.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.short()),
        }
    }
    #[inline]
    fn i32(&mut self) -> Result<i32, PycError> {
        let start = self.pos;
        match self.data.get(start..start + 4) {
            Some(&[a, b, c, d]) => {
                self.pos = start + 4;
                Ok(i32::from_le_bytes([a, b, c, d]))
            }
            _ => Err(self.short()),
        }
    }
    /// A length that must be non-negative (CPython: "... size out of range").
    fn length(&mut self, what: &'static str) -> Result<usize, PycError> {
        let at = self.pos;
        let n = self.i32()?;
        usize::try_from(n).map_err(|_| self.fail(at, what))
    }
    /// `n` bytes of a string body.
    fn bytes(&mut self, n: usize) -> Result<&[u8], PycError> {
        self.skip(n)
    }
}

const SIZE_BYTES: &str = "ValueError: bad marshal data (bytes object size out of range)";
const SIZE_STR: &str = "ValueError: bad marshal data (string size out of range)";
const SIZE_TUPLE: &str = "ValueError: bad marshal data (tuple size out of range)";
const SIZE_LIST: &str = "ValueError: bad marshal data (list size out of range)";
const SIZE_SET: &str = "ValueError: bad marshal data (set size out of range)";
const BAD_REF: &str = "ValueError: bad marshal data (invalid reference)";
const BAD_TYPE: &str = "ValueError: bad marshal data (unknown type code)";
const TOO_DEEP: &str = "ValueError: recursion limit exceeded";
const NULL_ITEM: &str = "TypeError: NULL object in marshal data for object";
const BAD_CODE: &str = "SystemError: bad argument to internal function";
const BAD_UTF8: &str = "UnicodeDecodeError: 'utf-8' codec can't decode the marshalled string";

impl BodyWalk {
    /// A walker with empty stacks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks that `after_header` (starting at file offset `base`) holds one marshalled code
    /// object that `marshal.loads` reads and `importlib` accepts. Trailing bytes are
    /// ignored, as CPython ignores them.
    pub fn check_module(
        &mut self,
        after_header: &[u8],
        base: usize,
        dialect: Dialect,
    ) -> Result<(), PycError> {
        self.frames.clear();
        self.refs.clear();
        let mut c = Cursor {
            data: after_header,
            pos: 0,
            base,
            python2: dialect.python2(),
        };
        let spec: &[Field] = match dialect.layout {
            CodeLayout::Py2 => PY2,
            CodeLayout::Py30 => PY30,
            CodeLayout::Py38 => PY38,
            CodeLayout::Py311 => PY311,
        };
        let top = self.walk(&mut c, dialect, spec)?;
        match top {
            Kind::Code => Ok(()),
            Kind::Null => Err(c.fail(0, NULL_ITEM)),
            _ => Err(PycError::new(base, PycErrorKind::NotCode)),
        }
    }

    fn walk(&mut self, c: &mut Cursor<'_>, d: Dialect, spec: &[Field]) -> Result<Kind, PycError> {
        let py2 = d.python2();
        let fields = Fields::new(spec, py2);
        let fields = &fields;
        let mut interned: u64 = 0;
        loop {
            let mut at = c.pos;
            let Some(&byte) = c.data.get(at) else {
                return Err(c.fail(at, EOF_OBJECT));
            };
            c.pos = at + 1;
            if self.frames.len() >= MARSHAL_MAX_DEPTH {
                return Err(c.fail(at, TOO_DEEP));
            }
            let (code, flagged) = if py2 {
                (byte, false)
            } else {
                (byte & 0x7f, byte & 0x80 != 0)
            };
            // One dispatch per object; containers open a frame and read on.
            let mut kind = match code {
                b'z' | b'Z' if !py2 => {
                    let n = usize::from(c.u8()?);
                    c.bytes(n)?;
                    self.slot(flagged, Kind::Str);
                    Kind::Str
                }
                b'r' if !py2 => {
                    let ref_at = c.pos;
                    let n = c.i32()? as u32;
                    match self.refs.get(n as usize) {
                        Some(&k) if k != Kind::Pending => k,
                        _ => return Err(c.fail(ref_at, BAD_REF)),
                    }
                }
                b')' if !py2 => {
                    let n = usize::from(c.u8()?);
                    if self.open_seq(c, n, Kind::Tuple, flagged, false)? {
                        continue;
                    }
                    Kind::Tuple
                }
                b'(' => {
                    let n = c.length(SIZE_TUPLE)?;
                    if self.open_seq(c, n, Kind::Tuple, flagged, false)? {
                        continue;
                    }
                    Kind::Tuple
                }
                b'[' => {
                    let n = c.length(SIZE_LIST)?;
                    if self.open_seq(c, n, Kind::Other, flagged, false)? {
                        continue;
                    }
                    Kind::Other
                }
                b'<' | b'>' => {
                    let n = c.length(SIZE_SET)?;
                    let reserve = code == b'>' && n > 0;
                    if self.open_seq(c, n, Kind::Other, flagged, reserve)? {
                        continue;
                    }
                    Kind::Other
                }
                b'{' => {
                    self.slot(flagged, Kind::Other);
                    self.push(Kind::Other, Frame::Dict { value_next: false }, NO_SLOT);
                    continue;
                }
                b'}' if d.frozendict => {
                    let slot = self.reserve(flagged);
                    self.push(Kind::Other, Frame::Dict { value_next: false }, slot);
                    continue;
                }
                b':' if d.slices => {
                    let slot = self.reserve(flagged);
                    self.push(Kind::Other, Frame::Slice { left: 3 }, slot);
                    continue;
                }
                b'c' => {
                    let slot = self.reserve(flagged);
                    self.push(Kind::Code, Frame::Code { next: 0 }, slot);
                    c.skip(fields.first_raw)?;
                    if !self.code_fields(c, fields, &mut at)? {
                        continue;
                    }
                    self.close_top()
                }
                b'R' if py2 => {
                    let ref_at = c.pos;
                    let n = c.i32()?;
                    if n < 0 || n as u64 >= interned {
                        return Err(c.fail(
                            ref_at,
                            "ValueError: bad marshal data (string ref out of range)",
                        ));
                    }
                    Kind::Bytes
                }
                b'0' => Kind::Null,
                b'N' | b'F' | b'T' | b'S' | b'.' => Kind::Other,
                _ => {
                    let kind = scalar(c, code, at, py2, &mut interned)?;
                    self.slot(flagged, kind);
                    kind
                }
            };
            // Hand the finished value to the containers above, closing each that completes.
            loop {
                let depth_ok = self.frames.len() < MARSHAL_MAX_DEPTH;
                let Some(top) = self.frames.last_mut() else {
                    return Ok(kind);
                };
                let done = match &mut top.frame {
                    Frame::Seq { left } => {
                        if kind == Kind::Null {
                            return Err(c.fail(at, NULL_ITEM));
                        }
                        *left -= 1;
                        if *left > 0 && depth_ok && !py2 {
                            *left = names_run(c, *left, &mut self.refs);
                        }
                        *left == 0
                    }
                    Frame::Code { next } => {
                        let i = usize::from(*next);
                        let Some(&(want, raw_after)) = fields.objects().get(i) else {
                            return Err(c.fail(at, BAD_CODE));
                        };
                        if want != kind {
                            return Err(c.fail(at, BAD_CODE));
                        }
                        // Past the raw i32 fields that follow, to the next object field.
                        if raw_after != 0 {
                            c.skip(usize::from(raw_after))?;
                        }
                        *next = i as u8 + 1;
                        self.code_fields(c, fields, &mut at)?
                    }
                    Frame::Dict { value_next } => {
                        if kind == Kind::Null {
                            true
                        } else {
                            *value_next = !*value_next;
                            false
                        }
                    }
                    Frame::Slice { left } => {
                        if kind == Kind::Null {
                            return Err(c.fail(at, NULL_ITEM));
                        }
                        *left -= 1;
                        *left == 0
                    }
                };
                if !done {
                    break;
                }
                kind = self.close_top();
            }
        }
    }

    /// Closes the innermost container (now complete): its reserved slot becomes usable.
    #[inline]
    fn close_top(&mut self) -> Kind {
        let Some(closed) = self.frames.pop() else {
            return Kind::Null;
        };
        if let Some(k) = self.refs.get_mut(closed.slot as usize) {
            *k = closed.kind;
        }
        closed.kind
    }

    /// Registers a `FLAG_REF` slot of a finished (or at once usable) object.
    #[inline]
    fn slot(&mut self, flagged: bool, kind: Kind) {
        if flagged {
            self.refs.push(kind);
        }
    }

    /// Registers a slot that may be named only once its object is complete; returns it.
    #[inline]
    fn reserve(&mut self, flagged: bool) -> u32 {
        if flagged {
            self.refs.push(Kind::Pending);
            self.refs.len() as u32 - 1
        } else {
            NO_SLOT
        }
    }

    /// Starts a sequence of `n` items; false when it is empty (complete at once).
    #[inline(always)]
    fn open_seq(
        &mut self,
        c: &mut Cursor<'_>,
        n: usize,
        kind: Kind,
        flagged: bool,
        reserve: bool,
    ) -> Result<bool, PycError> {
        // Each item takes at least one byte: more items than bytes is a short read.
        if n > c.data.len() - c.pos {
            c.pos = c.data.len();
            return Err(c.fail(c.pos, EOF_OBJECT));
        }
        let slot = if reserve {
            self.reserve(flagged)
        } else {
            self.slot(flagged, kind);
            NO_SLOT
        };
        if n == 0 {
            return Ok(false);
        }
        let mut left = n as u32;
        // Its first items too can be a run of names (the general path takes them after
        // each item it reads): read at the depth the frame would give them.
        if !c.python2 && slot == NO_SLOT && self.frames.len() + 1 < MARSHAL_MAX_DEPTH {
            left = names_run(c, left, &mut self.refs);
            if left == 0 {
                return Ok(false);
            }
        }
        self.push(kind, Frame::Seq { left }, slot);
        Ok(true)
    }

    fn push(&mut self, kind: Kind, frame: Frame, slot: u32) {
        self.frames.push(Open { frame, kind, slot });
    }
}

#[cfg(test)]
mod tests;
