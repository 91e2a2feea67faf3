//! Code objects: the field layouts of pyc-format.md §6.4, checked as CPython checks them
//! when it builds the object (types of fields, localsplus names and kinds of equal length).
//!
//! Fields are first read raw by a loop over the layout (a small stack frame on the
//! recursive path), then converted once the object is complete.

use super::CodeLayout;
use super::reader::Reader;
use super::value::{Code, Value, Vars};
use crate::pyc::error::{PycError, PycErrorKind};
use std::rc::Rc;

/// One field in stream order: a raw i32 (`None`) or an object with its `co_` name.
pub(super) type Field = Option<&'static str>;

pub(super) const PY2: &[Field] = &[
    None, // argcount
    None, // nlocals
    None, // stacksize
    None, // flags
    Some("co_code"),
    Some("co_consts"),
    Some("co_names"),
    Some("co_varnames"),
    Some("co_freevars"),
    Some("co_cellvars"),
    Some("co_filename"),
    Some("co_name"),
    None, // firstlineno
    Some("co_lnotab"),
];
pub(super) const PY30: &[Field] = &[
    None, // argcount
    None, // kwonlyargcount
    None, // nlocals
    None, // stacksize
    None, // flags
    Some("co_code"),
    Some("co_consts"),
    Some("co_names"),
    Some("co_varnames"),
    Some("co_freevars"),
    Some("co_cellvars"),
    Some("co_filename"),
    Some("co_name"),
    None, // firstlineno
    Some("co_lnotab"),
];
pub(super) const PY38: &[Field] = &[
    None, // argcount
    None, // posonlyargcount
    None, // kwonlyargcount
    None, // nlocals
    None, // stacksize
    None, // flags
    Some("co_code"),
    Some("co_consts"),
    Some("co_names"),
    Some("co_varnames"),
    Some("co_freevars"),
    Some("co_cellvars"),
    Some("co_filename"),
    Some("co_name"),
    None, // firstlineno
    Some("co_linetable"),
];
pub(super) const PY311: &[Field] = &[
    None, // argcount
    None, // posonlyargcount
    None, // kwonlyargcount
    None, // stacksize
    None, // flags
    Some("co_code"),
    Some("co_consts"),
    Some("co_names"),
    Some("co_localsplusnames"),
    Some("co_localspluskinds"),
    Some("co_filename"),
    Some("co_name"),
    Some("co_qualname"),
    None, // firstlineno
    Some("co_linetable"),
    Some("co_exceptiontable"),
];

/// An object field as read: name, file offset, value.
struct Raw {
    name: &'static str,
    offset: usize,
    value: Value,
}

impl Reader<'_> {
    /// Reads the fields of a code object whose `c` byte was at `at`.
    pub(super) fn code(&mut self, at: usize) -> Result<(Value, u32), PycError> {
        let layout = self.dialect.layout;
        let spec = match layout {
            CodeLayout::Py2 => PY2,
            CodeLayout::Py30 => PY30,
            CodeLayout::Py38 => PY38,
            CodeLayout::Py311 => PY311,
        };
        let mut ints = Vec::with_capacity(7);
        let mut objects = Vec::with_capacity(11);
        let mut height = 0;
        for field in spec {
            match field {
                None => ints.push(self.i32()?),
                Some(name) => {
                    let offset = self.file_offset();
                    let (value, h) = self.object()?;
                    height = height.max(h);
                    objects.push(Raw {
                        name,
                        offset,
                        value,
                    });
                }
            }
        }
        let code = build(self.offset_of(at), layout, &ints, objects, &mut self.budget)?;
        Ok((Value::Code(Rc::new(code)), height + 1))
    }
}

/// Converts raw fields into a `Code`, checking their types.
#[inline(never)]
fn build(
    offset: usize,
    layout: CodeLayout,
    ints: &[i32],
    objects: Vec<Raw>,
    budget: &mut usize,
) -> Result<Code, PycError> {
    let int = |i: usize| ints.get(i).copied().unwrap_or(0);
    // Positions of the counters in `ints`, per layout (see the tables above).
    let (argcount, posonly, kwonly, nlocals, stacksize, flags, firstlineno) = match layout {
        CodeLayout::Py2 => (int(0), 0, 0, Some(int(1)), int(2), int(3), int(4)),
        CodeLayout::Py30 => (int(0), 0, int(1), Some(int(2)), int(3), int(4), int(5)),
        CodeLayout::Py38 => (int(0), int(1), int(2), Some(int(3)), int(4), int(5), int(6)),
        CodeLayout::Py311 => (int(0), int(1), int(2), None, int(3), int(4), int(5)),
    };
    let mut fields = objects.into_iter();
    let mut next = || {
        fields.next().ok_or_else(|| {
            PycError::new(offset, PycErrorKind::Other("bad code object layout".into()))
        })
    };
    let mut names_of = |raw: Raw| names(raw, budget);
    let code = convert(next()?, as_bytes)?;
    let consts = convert(next()?, as_tuple)?;
    let names = names_of(next()?)?;
    let vars = if layout == CodeLayout::Py311 {
        let plus = next()?;
        let plus_offset = plus.offset;
        let plus = names_of(plus)?;
        let kinds = convert(next()?, as_bytes)?;
        if plus.len() != kinds.len() {
            return Err(PycError::new(
                plus_offset,
                PycErrorKind::Other(format!(
                    "bad code object: {} localsplus names but {} kinds",
                    plus.len(),
                    kinds.len()
                )),
            ));
        }
        Vars::LocalsPlus { names: plus, kinds }
    } else {
        let varnames = names_of(next()?)?;
        let freevars = names_of(next()?)?;
        let cellvars = names_of(next()?)?;
        Vars::Classic {
            varnames,
            cellvars,
            freevars,
        }
    };
    let filename = convert(next()?, as_string)?;
    let name = convert(next()?, as_string)?;
    let qualname = if layout == CodeLayout::Py311 {
        Some(convert(next()?, as_string)?)
    } else {
        None
    };
    let linetable = convert(next()?, as_bytes)?;
    let exceptiontable = if layout == CodeLayout::Py311 {
        Some(convert(next()?, as_bytes)?)
    } else {
        None
    };
    Ok(Code {
        offset,
        argcount,
        posonlyargcount: posonly,
        kwonlyargcount: kwonly,
        nlocals,
        stacksize,
        flags: flags.cast_unsigned(),
        code,
        consts,
        names,
        vars,
        filename,
        name,
        qualname,
        firstlineno,
        linetable,
        exceptiontable,
    })
}

/// Converts one field, or names it in the error.
fn convert<T>(raw: Raw, f: fn(&Value) -> Result<T, &'static str>) -> Result<T, PycError> {
    f(&raw.value).map_err(|want| {
        let got = article(raw.value.type_name());
        bad(&raw, format!("{} is {got}, not {want}", raw.name))
    })
}

fn bad(raw: &Raw, what: String) -> PycError {
    PycError::new(
        raw.offset,
        PycErrorKind::Other(format!("bad code object: {what}")),
    )
}

/// A tuple of strings, checked item by item against the work budget.
fn names(raw: Raw, budget: &mut usize) -> Result<Rc<[Value]>, PycError> {
    let Value::Tuple(items) = &raw.value else {
        let got = article(raw.value.type_name());
        return Err(bad(&raw, format!("{} is {got}, not a tuple", raw.name)));
    };
    *budget = budget.checked_sub(items.len()).ok_or_else(|| {
        let why = "back-references repeat more names than a file this size holds";
        bad(&raw, why.to_string())
    })?;
    if let Some(item) = items.iter().find(|v| v.as_text().is_none()) {
        let got = article(item.type_name());
        return Err(bad(
            &raw,
            format!("{} holds {got}, not only strings", raw.name),
        ));
    }
    Ok(items.clone())
}

fn article(type_name: &str) -> String {
    match type_name {
        "None" | "NULL" | "Ellipsis" | "StopIteration" => type_name.to_string(),
        t if t.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {t}"),
        t => format!("a {t}"),
    }
}

fn as_bytes(v: &Value) -> Result<Rc<[u8]>, &'static str> {
    match v {
        Value::Bytes(b) => Ok(b.clone()),
        _ => Err("bytes"),
    }
}

fn as_tuple(v: &Value) -> Result<Rc<[Value]>, &'static str> {
    match v {
        Value::Tuple(items) => Ok(items.clone()),
        _ => Err("a tuple"),
    }
}

/// A string field stays the shared value: Python 3 `str`, or Python 2 `str` (bytes).
fn as_string(v: &Value) -> Result<Value, &'static str> {
    match v {
        Value::Str(_) | Value::Bytes(_) => Ok(v.clone()),
        _ => Err("a string"),
    }
}
