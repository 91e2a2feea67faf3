//! The object reader: type codes of pyc-format.md §6.2, with the reference rules of §6.3.
//!
//! Defensive by construction: every read is bounds-checked, every length is compared with
//! the bytes that remain before anything is allocated, nesting is bounded while reading
//! and, through back-references, after it (each value carries its height), and every
//! failure is a `PycError` at a file offset.

use super::value::{Long, Value};
use super::{Dialect, MAX_DEPTH, MAX_HEIGHT};
use crate::pyc::error::{PycError, PycErrorKind};
use std::rc::Rc;

/// Builds a tuple, list or set from its items.
type MakeSeq = fn(Rc<[Value]>) -> Value;
/// Builds a dict or frozendict from its pairs.
type MakeDict = fn(Rc<[(Value, Value)]>) -> Value;

/// Reads marshal objects from the bytes that follow a `.pyc` header.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// File offset of `data[0]`, so errors name positions in the file.
    base: usize,
    pub(super) dialect: Dialect,
    /// FLAG_REF slots in pre-order; `None` while the object is still being read.
    refs: Vec<Option<(Value, u32)>>,
    /// Python 2's interned-string table (`t` appends, `R` refers).
    interned: Vec<Rc<[u8]>>,
    depth: usize,
    /// Names left to type-check; see [`WORK_PER_BYTE`].
    pub(super) budget: usize,
}

/// Checking that every name in a code object's tuples is a string costs one unit per
/// name. Back-references let thousands of code objects share one huge tuple, so the total
/// is capped at this many units per input byte (plus a floor); real files use about one.
pub const WORK_PER_BYTE: usize = 16;

impl<'a> Reader<'a> {
    /// A reader over `data`, whose first byte is at file offset `base`.
    pub fn new(data: &'a [u8], base: usize, dialect: Dialect) -> Self {
        Self {
            data,
            pos: 0,
            base,
            dialect,
            refs: Vec::new(),
            interned: Vec::new(),
            depth: 0,
            budget: data
                .len()
                .saturating_mul(WORK_PER_BYTE)
                .saturating_add(1 << 16),
        }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Reads one object.
    pub fn read_object(&mut self) -> Result<Value, PycError> {
        self.object().map(|(value, _)| value)
    }

    /// An error at `pos` (an index into `data`).
    pub(super) fn err(&self, pos: usize, kind: PycErrorKind) -> PycError {
        PycError::new(self.offset_of(pos), kind)
    }

    /// The file offset of `pos` (an index into `data`).
    pub(super) fn offset_of(&self, pos: usize) -> usize {
        self.base.saturating_add(pos)
    }

    /// The file offset of the next byte.
    pub(super) fn file_offset(&self) -> usize {
        self.offset_of(self.pos)
    }

    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], PycError> {
        let start = self.pos;
        let slice = start
            .checked_add(n)
            .and_then(|end| self.data.get(start..end))
            .ok_or_else(|| self.err(start, PycErrorKind::Truncated))?;
        self.pos = start + slice.len();
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], PycError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, PycError> {
        Ok(self.array::<1>()?[0])
    }

    /// A raw little-endian i32 (code object counters, lengths).
    pub(super) fn i32(&mut self) -> Result<i32, PycError> {
        Ok(i32::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, PycError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn f64(&mut self) -> Result<f64, PycError> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// An i32 length or count that must be non-negative and fit in the remaining bytes
    /// (each unit taking at least `unit` bytes).
    fn length(&mut self, unit: usize) -> Result<usize, PycError> {
        let at = self.pos;
        let n = self.i32()?;
        let len =
            usize::try_from(n).map_err(|_| self.err(at, PycErrorKind::BadLength(n.into())))?;
        if len.saturating_mul(unit) > self.remaining() {
            return Err(self.err(at, PycErrorKind::Truncated));
        }
        Ok(len)
    }

    fn short_length(&mut self) -> Result<usize, PycError> {
        Ok(usize::from(self.u8()?))
    }

    /// Reads one object and its height (0 for scalars; containers are 1 + their tallest item).
    pub(super) fn object(&mut self) -> Result<(Value, u32), PycError> {
        let at = self.pos;
        let byte = self.u8()?;
        // Python 2 has no FLAG_REF: a set high bit is an unknown type there.
        let (code, flagged) = if self.dialect.python2() {
            (byte, false)
        } else {
            (byte & 0x7f, byte & 0x80 != 0)
        };
        if self.depth >= MAX_DEPTH {
            return Err(self.err(at, PycErrorKind::TooDeep));
        }
        // CPython reserves a slot only for types that build an object (not for singletons
        // or `r`), at the type byte, before children: pre-order indices.
        let slot = (flagged && creates_object(code)).then(|| {
            self.refs.push(None);
            self.refs.len() - 1
        });
        self.depth += 1;
        let result = self.payload(code, byte, at);
        self.depth -= 1;
        let (value, height) = result?;
        if height > MAX_HEIGHT {
            return Err(self.err(at, PycErrorKind::TooDeep));
        }
        if let Some(entry) = slot.and_then(|i| self.refs.get_mut(i)) {
            *entry = Some((value.clone(), height));
        }
        Ok((value, height))
    }

    /// Dispatches on the type code. Containers recurse, so their path keeps small stack
    /// frames; scalars are read in a separate function.
    fn payload(&mut self, code: u8, byte: u8, at: usize) -> Result<(Value, u32), PycError> {
        let py3 = !self.dialect.python2();
        let (n, make): (usize, MakeSeq) = match code {
            b'(' => (self.length(1)?, Value::Tuple),
            b')' if py3 => (self.short_length()?, Value::Tuple),
            b'[' => (self.length(1)?, Value::List),
            b'<' => (self.length(1)?, Value::Set),
            b'>' => (self.length(1)?, Value::FrozenSet),
            b'{' => return self.dict(Value::Dict),
            b'}' if self.dialect.frozendict => return self.dict(Value::FrozenDict),
            b':' if self.dialect.slices => return self.slice(),
            b'c' => return self.code(at),
            b'r' if py3 => return self.reference(),
            _ => return self.scalar(code, byte, at).map(|v| (v, 0)),
        };
        self.sequence(n, make)
    }

    #[inline(never)]
    fn scalar(&mut self, code: u8, byte: u8, at: usize) -> Result<Value, PycError> {
        let py3 = !self.dialect.python2();
        Ok(match code {
            b'0' => Value::Null,
            b'N' => Value::None,
            b'F' => Value::False,
            b'T' => Value::True,
            b'S' => Value::StopIteration,
            b'.' => Value::Ellipsis,
            b'i' => Value::Int(self.i32()?.into()),
            b'I' => Value::Int(i64::from_le_bytes(self.array()?)),
            b'l' => self.long()?,
            b'g' => Value::Float(self.f64()?),
            b'y' => Value::Complex(self.f64()?, self.f64()?),
            b'f' => Value::Float(self.text_float()?),
            b'x' => Value::Complex(self.text_float()?, self.text_float()?),
            b's' => {
                let n = self.length(1)?;
                Value::Bytes(Rc::from(self.take(n)?))
            }
            b't' if py3 => {
                let n = self.length(1)?;
                utf8(self.take(n)?)
            }
            b't' => {
                let n = self.length(1)?;
                let bytes: Rc<[u8]> = Rc::from(self.take(n)?);
                self.interned.push(bytes.clone());
                Value::Bytes(bytes)
            }
            b'R' if !py3 => {
                let ref_at = self.pos;
                let i = self.u32()?;
                let bytes = usize::try_from(i)
                    .ok()
                    .and_then(|i| self.interned.get(i))
                    .cloned()
                    .ok_or_else(|| self.err(ref_at, PycErrorKind::BadRef(i)))?;
                Value::Bytes(bytes)
            }
            b'u' => {
                let n = self.length(1)?;
                utf8(self.take(n)?)
            }
            b'a' | b'A' if py3 => {
                let n = self.length(1)?;
                latin1(self.take(n)?)
            }
            b'z' | b'Z' if py3 => {
                let n = self.short_length()?;
                latin1(self.take(n)?)
            }
            _ => return Err(self.err(at, PycErrorKind::BadType(byte))),
        })
    }

    /// `r`: an object read earlier, shared (a pointer copy).
    fn reference(&mut self) -> Result<(Value, u32), PycError> {
        let at = self.pos;
        let i = self.u32()?;
        usize::try_from(i)
            .ok()
            .and_then(|i| self.refs.get(i))
            .and_then(Option::as_ref)
            .cloned()
            .ok_or_else(|| self.err(at, PycErrorKind::BadRef(i)))
    }

    fn slice(&mut self) -> Result<(Value, u32), PycError> {
        let (start, h1) = self.item()?;
        let (stop, h2) = self.item()?;
        let (step, h3) = self.item()?;
        Ok((
            Value::Slice(Rc::new([start, stop, step])),
            1 + h1.max(h2).max(h3),
        ))
    }

    /// An item of a container: anything but NULL, which only ends a dict.
    fn item(&mut self) -> Result<(Value, u32), PycError> {
        let at = self.pos;
        let (value, height) = self.object()?;
        if matches!(value, Value::Null) {
            return Err(self.err(
                at,
                PycErrorKind::Other("NULL object inside a container".into()),
            ));
        }
        Ok((value, height))
    }

    fn sequence(&mut self, n: usize, make: MakeSeq) -> Result<(Value, u32), PycError> {
        let mut items = Vec::with_capacity(n.min(1024));
        let mut height = 0;
        for _ in 0..n {
            let (v, h) = self.item()?;
            height = height.max(h);
            items.push(v);
        }
        Ok((make(Rc::from(items)), height + 1))
    }

    /// Key/value pairs until a NULL key (CPython also stops at a NULL value).
    fn dict(&mut self, make: MakeDict) -> Result<(Value, u32), PycError> {
        let mut items = Vec::new();
        let mut height = 0;
        loop {
            let (key, hk) = self.object()?;
            if matches!(key, Value::Null) {
                break;
            }
            let (value, hv) = self.object()?;
            if matches!(value, Value::Null) {
                break;
            }
            height = height.max(hk).max(hv);
            items.push((key, value));
        }
        Ok((make(Rc::from(items)), height + 1))
    }

    fn long(&mut self) -> Result<Value, PycError> {
        let at = self.pos;
        let n = self.i32()?;
        let count = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
        if count.saturating_mul(2) > self.remaining() {
            return Err(self.err(at, PycErrorKind::Truncated));
        }
        let mut digits = Vec::with_capacity(count);
        for _ in 0..count {
            let digit_at = self.pos;
            let d = u16::from_le_bytes(self.array()?);
            if d >= 1 << 15 {
                return Err(self.err(
                    digit_at,
                    PycErrorKind::Other("digit out of range in long".into()),
                ));
            }
            digits.push(d);
        }
        if digits.last() == Some(&0) {
            return Err(self.err(at, PycErrorKind::Other("unnormalized long".into())));
        }
        let long = Long {
            negative: n < 0,
            digits,
        };
        Ok(Value::Long(Rc::new(long)))
    }

    /// Marshal versions 0-1 wrote floats as text: a length byte and the repr.
    fn text_float(&mut self) -> Result<f64, PycError> {
        let at = self.pos;
        let n = self.short_length()?;
        let text = self.take(n)?;
        std::str::from_utf8(text)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.err(at, PycErrorKind::Other("unreadable float text".into())))
    }
}

/// True for the type codes that build an object, which FLAG_REF can register.
fn creates_object(code: u8) -> bool {
    !matches!(code, b'0' | b'N' | b'F' | b'T' | b'S' | b'.' | b'r')
}

/// Python 3 strings are UTF-8 with `surrogatepass`; lone surrogates become U+FFFD here.
fn utf8(bytes: &[u8]) -> Value {
    Value::Str(Rc::from(String::from_utf8_lossy(bytes)))
}

/// The ASCII string types (`a`, `z`...) are decoded as Latin-1 by CPython.
fn latin1(bytes: &[u8]) -> Value {
    Value::Str(Rc::from(
        bytes.iter().map(|&b| char::from(b)).collect::<String>(),
    ))
}
