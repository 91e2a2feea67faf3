//! The `.pyc` header: magic, PEP 552 flags, and the recorded source mtime/size or hash.
//!
//! Three layouts exist (8, 12 and 16 bytes); which one a file uses depends on the Python
//! version its magic names, never on the file's length.

use super::error::{PycError, PycErrorKind};
use super::magic::{self, MagicInfo};
use serde::Serialize;

/// How a `.pyc` is checked against its source (PEP 552).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Invalidation {
    /// Recorded source mtime (and size from 3.3) are compared with the source.
    Timestamp,
    /// The SipHash of the source is recomputed and compared on import.
    CheckedHash,
    /// The hash is recorded but Python does not look at the source by default.
    UncheckedHash,
}

impl Invalidation {
    /// The name used by `compileall --invalidation-mode` and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Invalidation::Timestamp => "timestamp",
            Invalidation::CheckedHash => "checked-hash",
            Invalidation::UncheckedHash => "unchecked-hash",
        }
    }
}

/// A decoded header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    /// What the magic number says.
    pub magic: MagicInfo,
    /// 8, 12 or 16.
    pub header_size: usize,
    /// The PEP 552 flags word (16-byte headers only).
    pub flags: Option<u32>,
    /// Timestamp or hash-based.
    pub invalidation: Invalidation,
    /// Recorded source mtime (timestamp pycs).
    pub source_mtime: Option<u32>,
    /// Recorded source size (timestamp pycs from 3.3 on).
    pub source_size: Option<u32>,
    /// Recorded SipHash of the source (hash-based pycs), as stored (little-endian bytes).
    pub source_hash: Option<[u8; 8]>,
}

impl Header {
    /// The recorded hash as 16 lower-case hex digits, as `importlib.util.source_hash().hex()`.
    pub fn source_hash_hex(&self) -> Option<String> {
        self.source_hash.map(|h| hex(&h))
    }
}

/// Lower-case hex of a byte slice.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// The magic number alone (first 4 bytes), for files too short or odd for a full header.
pub fn read_magic(bytes: &[u8]) -> Result<MagicInfo, PycError> {
    if bytes.is_empty() {
        return Err(PycError::new(0, PycErrorKind::Empty));
    }
    if bytes.len() < 4 {
        return Err(PycError::new(
            bytes.len(),
            PycErrorKind::TruncatedHeader { need: 4 },
        ));
    }
    if bytes[2..4] != [0x0d, 0x0a] {
        return Err(PycError::new(
            2,
            PycErrorKind::NotPyc {
                first: [bytes[0], bytes[1], bytes[2], bytes[3]],
            },
        ));
    }
    Ok(magic::lookup(u16::from_le_bytes([bytes[0], bytes[1]])))
}

/// Decodes the header at the start of `bytes` (the whole file, or at least its first 16 bytes).
pub fn parse(bytes: &[u8]) -> Result<Header, PycError> {
    let magic = read_magic(bytes)?;
    let size = magic.header_size();
    if bytes.len() < size {
        return Err(PycError::new(
            bytes.len(),
            PycErrorKind::TruncatedHeader { need: size },
        ));
    }
    let header = match size {
        8 => Header {
            header_size: 8,
            flags: None,
            invalidation: Invalidation::Timestamp,
            source_mtime: Some(u32_at(bytes, 4)),
            source_size: None,
            source_hash: None,
            magic,
        },
        12 => Header {
            header_size: 12,
            flags: None,
            invalidation: Invalidation::Timestamp,
            source_mtime: Some(u32_at(bytes, 4)),
            source_size: Some(u32_at(bytes, 8)),
            source_hash: None,
            magic,
        },
        _ => {
            let flags = u32_at(bytes, 4);
            // CPython rejects any bit above bit 1; bit 1 alone is read as a timestamp pyc.
            if flags & !0b11 != 0 {
                return Err(PycError::new(4, PycErrorKind::InvalidFlags(flags)));
            }
            if flags & 1 == 0 {
                Header {
                    header_size: 16,
                    flags: Some(flags),
                    invalidation: Invalidation::Timestamp,
                    source_mtime: Some(u32_at(bytes, 8)),
                    source_size: Some(u32_at(bytes, 12)),
                    source_hash: None,
                    magic,
                }
            } else {
                let mut hash = [0u8; 8];
                hash.copy_from_slice(&bytes[8..16]);
                Header {
                    header_size: 16,
                    flags: Some(flags),
                    invalidation: if flags & 2 != 0 {
                        Invalidation::CheckedHash
                    } else {
                        Invalidation::UncheckedHash
                    },
                    source_mtime: None,
                    source_size: None,
                    source_hash: Some(hash),
                    magic,
                }
            }
        }
    };
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn decodes_the_reference_vectors() {
        let h = parse(&unhex("03f30d0a00f153656300000000000000")).unwrap();
        assert_eq!(
            (h.header_size, h.source_mtime, h.source_size),
            (8, Some(1700000000), None)
        );
        let h = parse(&unhex("330d0d0a00f1536506000000e3000000")).unwrap();
        assert_eq!(
            (h.header_size, h.source_mtime, h.source_size),
            (12, Some(1700000000), Some(6))
        );
        let h = parse(&unhex("f30d0d0a0000000000f1536506000000")).unwrap();
        assert_eq!(h.invalidation, Invalidation::Timestamp);
        assert_eq!((h.source_mtime, h.source_size), (Some(1700000000), Some(6)));
        let h = parse(&unhex("f30d0d0a03000000e786e2893651120e")).unwrap();
        assert_eq!(h.invalidation, Invalidation::CheckedHash);
        assert_eq!(h.source_hash_hex().as_deref(), Some("e786e2893651120e"));
        let h = parse(&unhex("50010d0a01000000152e8119840baf92")).unwrap();
        assert_eq!(h.invalidation, Invalidation::UncheckedHash);
        assert_eq!(h.magic.expected_tag().as_deref(), Some("pypy39"));
    }

    #[test]
    fn flag_bit_one_alone_is_a_timestamp_pyc_and_higher_bits_are_invalid() {
        let h = parse(&unhex("f30d0d0a0200000000f1536506000000")).unwrap();
        assert_eq!(h.invalidation, Invalidation::Timestamp);
        let e = parse(&unhex("f30d0d0a0400000000f1536506000000")).unwrap_err();
        assert_eq!(e.offset, 4);
        assert!(matches!(e.kind, PycErrorKind::InvalidFlags(4)));
    }

    #[test]
    fn short_and_foreign_files_are_errors_with_offsets() {
        assert!(matches!(parse(&[]).unwrap_err().kind, PycErrorKind::Empty));
        let e = parse(&unhex("f30d0d0a000000")).unwrap_err();
        assert_eq!(e.offset, 7);
        assert!(matches!(e.kind, PycErrorKind::TruncatedHeader { need: 16 }));
        let e = parse(b"#!/usr/bin/env python\n").unwrap_err();
        assert!(matches!(e.kind, PycErrorKind::NotPyc { .. }));
    }
}
