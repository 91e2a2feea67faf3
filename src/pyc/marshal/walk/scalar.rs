//! The walk's leaves: values without children (numbers, strings, floats as text), runs
//! of names in a tuple, and the kind a code-object field must have.

use super::{BAD_TYPE, BAD_UTF8, Cursor, Kind, SIZE_BYTES, SIZE_STR};
use crate::pyc::error::PycError;

/// The bulk of a Python 3 code object is tuples of short strings and references (names,
/// consts): reads a run of those items of a sequence without the general dispatch, and
/// returns how many items are left. Anything else, or anything wrong, is left to the
/// general path, which reads the same bytes again and raises the right error.
#[inline(always)]
pub(super) fn names_run(c: &mut Cursor<'_>, mut left: u32, refs: &mut Vec<Kind>) -> u32 {
    // The rest of the data as a slice: slice patterns check each item's length once.
    let mut rest = c.data.get(c.pos..).unwrap_or_default();
    while left > 0 {
        match *rest {
            [b'r', b0, b1, b2, b3, ref tail @ ..] => {
                let n = u32::from_le_bytes([b0, b1, b2, b3]) as usize;
                if refs.get(n).is_none_or(|&k| k == Kind::Pending) {
                    break;
                }
                rest = tail;
            }
            [b @ (b'Z' | b'z' | 0xda | 0xfa), n, ref tail @ ..] => {
                let Some(after) = tail.get(usize::from(n)..) else {
                    break;
                };
                if b & 0x80 != 0 {
                    refs.push(Kind::Str);
                }
                rest = after;
            }
            [b'N' | b'T' | b'F', ref tail @ ..] => rest = tail,
            [
                b @ (b'a' | b'A' | 0xe1 | 0xc1 | b'u' | b't' | 0xf5 | 0xf4),
                b0,
                b1,
                b2,
                b3,
                ref tail @ ..,
            ] => {
                let Ok(n) = usize::try_from(i32::from_le_bytes([b0, b1, b2, b3])) else {
                    break;
                };
                let (Some(body), Some(after)) = (tail.get(..n), tail.get(n..)) else {
                    break;
                };
                // `u` and `t` are UTF-8 (surrogates pass); `a` and `A` are not checked.
                if b & 0x7f >= b't' && !utf8_surrogatepass(body) {
                    break;
                }
                if b & 0x80 != 0 {
                    refs.push(Kind::Str);
                }
                rest = after;
            }
            [b @ (b'i' | 0xe9), _, _, _, _, ref tail @ ..] => {
                if b & 0x80 != 0 {
                    refs.push(Kind::Other);
                }
                rest = tail;
            }
            _ => break,
        }
        left -= 1;
    }
    c.pos = c.data.len() - rest.len();
    left
}

/// The kind `PyCode_New` (and 3.11's `_PyCode_Validate`) requires of a field.
pub(super) fn field_kind(name: &str, py2: bool) -> Kind {
    match name {
        "co_consts" | "co_names" | "co_varnames" | "co_freevars" | "co_cellvars"
        | "co_localsplusnames" => Kind::Tuple,
        "co_filename" | "co_name" | "co_qualname" if py2 => Kind::Bytes,
        "co_filename" | "co_name" | "co_qualname" => Kind::Str,
        _ => Kind::Bytes,
    }
}

/// Reads a value without children; returns its kind.
#[inline]
pub(super) fn scalar(
    c: &mut Cursor<'_>,
    code: u8,
    at: usize,
    py2: bool,
    interned: &mut u64,
) -> Result<Kind, PycError> {
    Ok(match code {
        b'i' => {
            c.skip(4)?;
            Kind::Other
        }
        b'I' => {
            c.skip(8)?;
            Kind::Other
        }
        b'l' => {
            long(c)?;
            Kind::Other
        }
        b'g' => {
            c.skip(8)?;
            Kind::Other
        }
        b'y' => {
            c.skip(16)?;
            Kind::Other
        }
        b'f' => {
            text_float(c)?;
            Kind::Other
        }
        b'x' => {
            text_float(c)?;
            text_float(c)?;
            Kind::Other
        }
        b's' => {
            let n = c.length(if py2 { SIZE_STR } else { SIZE_BYTES })?;
            c.bytes(n)?;
            Kind::Bytes
        }
        b't' if py2 => {
            let n = c.length(SIZE_STR)?;
            c.bytes(n)?;
            *interned += 1;
            Kind::Bytes
        }
        b't' | b'u' => {
            let n = c.length(SIZE_STR)?;
            let body_at = c.pos;
            let b = c.bytes(n)?;
            if !utf8_surrogatepass(b) {
                return Err(c.fail(body_at, BAD_UTF8));
            }
            // Python 2's `u` is `unicode`, which code objects do not take for names.
            if py2 { Kind::Other } else { Kind::Str }
        }
        b'a' | b'A' if !py2 => {
            let n = c.length(SIZE_STR)?;
            c.bytes(n)?;
            Kind::Str
        }
        _ => return Err(c.fail(at, BAD_TYPE)),
    })
}

fn long(c: &mut Cursor<'_>) -> Result<(), PycError> {
    let at = c.pos;
    let n = c.i32()?;
    let count = n.unsigned_abs() as usize;
    let digits = c.skip(count.saturating_mul(2))?;
    for (i, d) in digits.chunks_exact(2).enumerate() {
        if d[1] & 0x80 != 0 {
            return Err(c.fail(
                at + 4 + 2 * i,
                "ValueError: bad marshal data (digit out of range in long)",
            ));
        }
    }
    if count > 0 && digits[digits.len() - 2..] == [0, 0] {
        return Err(c.fail(at, "ValueError: bad marshal data (unnormalized long data)"));
    }
    Ok(())
}

/// Marshal versions 0-1 wrote floats as text: a length byte and the repr.
fn text_float(c: &mut Cursor<'_>) -> Result<(), PycError> {
    let at = c.pos;
    let n = usize::from(c.u8()?);
    let text = c.bytes(n)?;
    let ok = std::str::from_utf8(text)
        .ok()
        .is_some_and(|s| s.trim().parse::<f64>().is_ok());
    if ok {
        Ok(())
    } else {
        Err(c.fail(
            at,
            "ValueError: could not convert string to float in marshal data",
        ))
    }
}

/// UTF-8 as CPython's `surrogatepass` decoder takes it: lone surrogates (ED A0-BF xx) pass.
fn utf8_surrogatepass(mut b: &[u8]) -> bool {
    loop {
        match std::str::from_utf8(b) {
            Ok(_) => return true,
            Err(e) => {
                let rest = &b[e.valid_up_to()..];
                let surrogate = rest.len() >= 3
                    && rest[0] == 0xed
                    && (0xa0..=0xbf).contains(&rest[1])
                    && (0x80..=0xbf).contains(&rest[2]);
                if !surrogate {
                    return false;
                }
                b = &rest[3..];
            }
        }
    }
}
