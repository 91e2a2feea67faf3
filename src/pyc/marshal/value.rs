//! The values a marshal stream decodes to.
//!
//! Large payloads sit behind `Rc`, so a back-reference (`r`) to an object already read is
//! a pointer copy, never a deep copy: a small file cannot expand into a huge tree.

use std::borrow::Cow;
use std::rc::Rc;

/// One decoded marshal object.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `0`: the dict terminator (never valid elsewhere).
    Null,
    /// `N`.
    None,
    /// `F`.
    False,
    /// `T`.
    True,
    /// `S`: the StopIteration singleton.
    StopIteration,
    /// `.`: Ellipsis.
    Ellipsis,
    /// `i` (i32) or `I` (i64).
    Int(i64),
    /// `l`: an integer of any size.
    Long(Rc<Long>),
    /// `g` or text `f`.
    Float(f64),
    /// `y` or text `x`: real and imaginary parts.
    Complex(f64, f64),
    /// `s`, and Python 2's `t`/`R` strings (Python 2 `str` is bytes).
    Bytes(Rc<[u8]>),
    /// `u`, `a`, `A`, `z`, `Z`, and Python 3's `t`.
    Str(Rc<str>),
    /// `(` or `)`.
    Tuple(Rc<[Value]>),
    /// `[`.
    List(Rc<[Value]>),
    /// `<`.
    Set(Rc<[Value]>),
    /// `>`.
    FrozenSet(Rc<[Value]>),
    /// `{`: key/value pairs in stream order.
    Dict(Rc<[(Value, Value)]>),
    /// `}` (3.15 development): like a dict.
    FrozenDict(Rc<[(Value, Value)]>),
    /// `:` (3.14+): start, stop, step.
    Slice(Rc<[Value; 3]>),
    /// `c`.
    Code(Rc<Code>),
}

/// A marshalled `long`: sign and base-2^15 digits, least significant first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Long {
    /// True for negative numbers.
    pub negative: bool,
    /// Digits of 15 bits each, least significant first (the last one is never zero).
    pub digits: Vec<u16>,
}

impl Long {
    /// The value when it fits in an i128.
    pub fn to_i128(&self) -> Option<i128> {
        let mut v: i128 = 0;
        for (i, d) in self.digits.iter().enumerate() {
            let shift = u32::try_from(i).ok()?.checked_mul(15)?;
            if shift >= 112 {
                return None;
            }
            v |= i128::from(*d) << shift;
        }
        Some(if self.negative { -v } else { v })
    }
}

impl Value {
    /// The text of a string; Python 2 byte strings and invalid UTF-8 are decoded lossily.
    pub fn as_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Value::Str(s) => Some(Cow::Borrowed(s)),
            Value::Bytes(b) => Some(String::from_utf8_lossy(b)),
            _ => None,
        }
    }

    /// The items of a tuple.
    pub fn as_tuple(&self) -> Option<&[Value]> {
        match self {
            Value::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// The code object, if this is one.
    pub fn as_code(&self) -> Option<&Rc<Code>> {
        match self {
            Value::Code(c) => Some(c),
            _ => None,
        }
    }

    /// A short name of the type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::None => "None",
            Value::False | Value::True => "bool",
            Value::StopIteration => "StopIteration",
            Value::Ellipsis => "Ellipsis",
            Value::Int(_) | Value::Long(_) => "int",
            Value::Float(_) => "float",
            Value::Complex(..) => "complex",
            Value::Bytes(_) => "bytes",
            Value::Str(_) => "str",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::FrozenSet(_) => "frozenset",
            Value::Dict(_) => "dict",
            Value::FrozenDict(_) => "frozendict",
            Value::Slice(_) => "slice",
            Value::Code(_) => "code",
        }
    }
}

/// A decoded code object, with the fields every layout shares.
///
/// Names and strings stay the shared values the stream holds (a back-reference can make
/// thousands of code objects share one tuple; copying it into each would let a small
/// file claim unbounded memory). The accessors decode them on use.
#[derive(Debug, Clone, PartialEq)]
pub struct Code {
    /// File offset of the `c` type byte.
    pub offset: usize,
    /// `co_argcount`.
    pub argcount: i32,
    /// `co_posonlyargcount` (0 before 3.8).
    pub posonlyargcount: i32,
    /// `co_kwonlyargcount` (0 in Python 2).
    pub kwonlyargcount: i32,
    /// `co_nlocals` as stored (not stored from 3.11).
    pub nlocals: Option<i32>,
    /// `co_stacksize`.
    pub stacksize: i32,
    /// `co_flags`.
    pub flags: u32,
    /// `co_code`: the bytecode.
    pub code: Rc<[u8]>,
    /// `co_consts`.
    pub consts: Rc<[Value]>,
    /// `co_names` (every item is a string).
    pub names: Rc<[Value]>,
    /// The local, cell and free variable names.
    pub vars: Vars,
    /// `co_filename` (a string).
    pub filename: Value,
    /// `co_name` (a string).
    pub name: Value,
    /// `co_qualname` (a string; stored from 3.11).
    pub qualname: Option<Value>,
    /// `co_firstlineno`.
    pub firstlineno: i32,
    /// `co_lnotab` (up to 3.9) or `co_linetable` (3.10+).
    pub linetable: Rc<[u8]>,
    /// `co_exceptiontable` (3.11+).
    pub exceptiontable: Option<Rc<[u8]>>,
}

/// Variable names: three tuples up to 3.10, one tuple with a kind byte per name from 3.11.
#[derive(Debug, Clone, PartialEq)]
pub enum Vars {
    /// `co_varnames`, `co_cellvars`, `co_freevars`.
    Classic {
        /// `co_varnames`.
        varnames: Rc<[Value]>,
        /// `co_cellvars`.
        cellvars: Rc<[Value]>,
        /// `co_freevars`.
        freevars: Rc<[Value]>,
    },
    /// `co_localsplusnames` and `co_localspluskinds` (equal lengths).
    LocalsPlus {
        /// The names.
        names: Rc<[Value]>,
        /// One kind byte per name: 0x20 local, 0x40 cell, 0x80 free.
        kinds: Rc<[u8]>,
    },
}

/// Which of the three classic lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarKind {
    /// `co_varnames` (kind bit 0x20).
    Local,
    /// `co_cellvars` (kind bit 0x40).
    Cell,
    /// `co_freevars` (kind bit 0x80).
    Free,
}

impl Vars {
    /// The names of one list, in order, as CPython rebuilds them from the kinds.
    pub fn of(&self, kind: VarKind) -> Vec<Cow<'_, str>> {
        match self {
            Vars::Classic {
                varnames,
                cellvars,
                freevars,
            } => {
                let list = match kind {
                    VarKind::Local => varnames,
                    VarKind::Cell => cellvars,
                    VarKind::Free => freevars,
                };
                list.iter().filter_map(Value::as_text).collect()
            }
            Vars::LocalsPlus { names, kinds } => {
                let bit = match kind {
                    VarKind::Local => 0x20,
                    VarKind::Cell => 0x40,
                    VarKind::Free => 0x80,
                };
                names
                    .iter()
                    .zip(kinds.iter())
                    .filter(|(_, k)| *k & bit != 0)
                    .filter_map(|(n, _)| n.as_text())
                    .collect()
            }
        }
    }

    /// Every name of the three lists, a name in several lists once per list.
    pub fn all(&self) -> impl Iterator<Item = &Value> {
        let (a, b, c): (&[Value], &[Value], &[Value]) = match self {
            Vars::Classic {
                varnames,
                cellvars,
                freevars,
            } => (varnames, cellvars, freevars),
            Vars::LocalsPlus { names, .. } => (names, &[], &[]),
        };
        a.iter().chain(b).chain(c)
    }
}

impl Code {
    /// `co_name` as text.
    pub fn name(&self) -> Cow<'_, str> {
        self.name.as_text().unwrap_or_default()
    }

    /// `co_filename` as text.
    pub fn filename(&self) -> Cow<'_, str> {
        self.filename.as_text().unwrap_or_default()
    }

    /// `co_qualname` as text (3.11+).
    pub fn qualname(&self) -> Option<Cow<'_, str>> {
        self.qualname.as_ref().and_then(Value::as_text)
    }

    /// `co_names` as text.
    pub fn names(&self) -> Vec<Cow<'_, str>> {
        self.names.iter().filter_map(Value::as_text).collect()
    }

    /// The `i`-th of `co_names`.
    pub fn name_at(&self, i: usize) -> Option<Cow<'_, str>> {
        self.names.get(i).and_then(Value::as_text)
    }
}

/// `co_flags` bits (CPython `Include/cpython/code.h`).
pub mod flags {
    /// Locals are fast locals (functions, not class bodies or modules).
    pub const OPTIMIZED: u32 = 0x01;
    /// A new locals dict per call.
    pub const NEWLOCALS: u32 = 0x02;
    /// Takes `*args`.
    pub const VARARGS: u32 = 0x04;
    /// Takes `**kwargs`.
    pub const VARKEYWORDS: u32 = 0x08;
    /// Nested inside another function.
    pub const NESTED: u32 = 0x10;
    /// A generator.
    pub const GENERATOR: u32 = 0x20;
    /// An `async def` coroutine.
    pub const COROUTINE: u32 = 0x80;
    /// An async generator.
    pub const ASYNC_GENERATOR: u32 = 0x200;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longs_convert_when_they_fit() {
        let l = Long {
            negative: true,
            digits: vec![0, 0, 0, 0, 0x7fff],
        };
        assert_eq!(l.to_i128(), Some(-(0x7fffi128 << 60)));
        let huge = Long {
            negative: false,
            digits: vec![1; 9],
        };
        assert_eq!(huge.to_i128(), None);
    }

    #[test]
    fn python2_strings_read_as_text() {
        let b = Value::Bytes(Rc::from(&b"na\xefve"[..]));
        assert_eq!(b.as_text().as_deref(), Some("na\u{fffd}ve"));
        assert_eq!(Value::Int(1).as_text(), None);
    }
}
