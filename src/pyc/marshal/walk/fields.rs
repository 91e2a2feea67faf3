//! Code objects in the walk: the layout as the walk reads it, and the fast path that reads
//! a code object's plain fields without the general dispatch.

use super::scalar::field_kind;
use super::{BodyWalk, Cursor, Frame, Kind, MARSHAL_MAX_DEPTH, Open};
use crate::pyc::error::PycError;
use crate::pyc::marshal::codeobj::Field;

/// A code-object layout as the walk reads it: the raw i32 bytes before the first object
/// field, then each object field's required kind and the raw bytes after it.
pub(super) struct Fields {
    pub(super) first_raw: usize,
    kinds: [(Kind, u8); 16],
    count: usize,
}

impl Fields {
    pub(super) fn new(spec: &[Field], py2: bool) -> Self {
        let mut fields = Fields {
            first_raw: 0,
            kinds: [(Kind::Null, 0); 16],
            count: 0,
        };
        for f in spec {
            match (f, fields.count.checked_sub(1)) {
                (Some(name), _) if fields.count < 16 => {
                    fields.kinds[fields.count] = (field_kind(name, py2), 0);
                    fields.count += 1;
                }
                (Some(_), _) => {}
                (None, Some(last)) => fields.kinds[last].1 += 4,
                (None, None) => fields.first_raw += 4,
            }
        }
        fields
    }

    /// Each object field's required kind and the raw bytes after it.
    #[inline]
    pub(super) fn objects(&self) -> &[(Kind, u8)] {
        &self.kinds[..self.count]
    }
}

impl BodyWalk {
    /// Reads the fields of the code object on top of the stack that are plain leaves (byte
    /// strings, names, references of the right kind, tuples of names) without the general
    /// dispatch; true when the object is then complete. A tuple with other items opens its
    /// frame, anything else is left to the general path (which reads the same bytes again
    /// and raises the right error), and the frame records where to go on. `at` becomes the
    /// offset of the last field read, as the general path leaves it (errors report it).
    pub(super) fn code_fields(
        &mut self,
        c: &mut Cursor<'_>,
        fields: &Fields,
        at: &mut usize,
    ) -> Result<bool, PycError> {
        let depth = self.frames.len();
        let Some(&Open {
            frame: Frame::Code { next },
            ..
        }) = self.frames.last()
        else {
            return Ok(false);
        };
        let mut i = usize::from(next);
        // Fields are read at `depth`, tuple items one deeper: both within the limit.
        let fast = !c.python2 && depth + 1 < MARSHAL_MAX_DEPTH;
        while let Some(&(want, raw_after)) = fields.objects().get(i) {
            if !fast {
                break;
            }
            let pos = c.pos;
            let Some(&b) = c.data.get(pos) else { break };
            let flagged = b & 0x80 != 0;
            *at = pos;
            match (want, b & 0x7f) {
                (_, b'r') if !flagged => {
                    let Some(l) = c.data.get(pos + 1..pos + 5) else {
                        break;
                    };
                    let n = u32::from_le_bytes([l[0], l[1], l[2], l[3]]);
                    if self.refs.get(n as usize) != Some(&want) {
                        break;
                    }
                    c.pos = pos + 5;
                }
                (Kind::Bytes, b's') | (Kind::Str, b'a' | b'A') => {
                    let Some(l) = c.data.get(pos + 1..pos + 5) else {
                        break;
                    };
                    let Ok(n) = usize::try_from(i32::from_le_bytes([l[0], l[1], l[2], l[3]]))
                    else {
                        break;
                    };
                    if n > c.data.len() - pos - 5 {
                        break;
                    }
                    self.slot(flagged, want);
                    c.pos = pos + 5 + n;
                }
                (Kind::Str, b'z' | b'Z') => {
                    let Some(&n) = c.data.get(pos + 1) else { break };
                    let end = pos + 2 + usize::from(n);
                    if end > c.data.len() {
                        break;
                    }
                    self.slot(flagged, want);
                    c.pos = end;
                }
                (Kind::Tuple, b')' | b'(') => {
                    let n = if b & 0x7f == b')' {
                        let Some(&n) = c.data.get(pos + 1) else { break };
                        c.pos = pos + 2;
                        usize::from(n)
                    } else {
                        let Some(l) = c.data.get(pos + 1..pos + 5) else {
                            break;
                        };
                        let Ok(n) = usize::try_from(i32::from_le_bytes([l[0], l[1], l[2], l[3]]))
                        else {
                            break;
                        };
                        c.pos = pos + 5;
                        n
                    };
                    if let Some(Open {
                        frame: Frame::Code { next },
                        ..
                    }) = self.frames.last_mut()
                    {
                        *next = i as u8;
                    }
                    if self.open_seq(c, n, Kind::Tuple, flagged, false)? {
                        return Ok(false);
                    }
                }
                _ => break,
            }
            if raw_after != 0 {
                c.skip(usize::from(raw_after))?;
            }
            i += 1;
        }
        if let Some(Open {
            frame: Frame::Code { next },
            ..
        }) = self.frames.last_mut()
        {
            *next = i as u8;
        }
        Ok(i >= fields.objects().len())
    }
}
