//! Freshness: is a `.pyc` still valid for its source, exactly as the writing interpreter's
//! import system decides it.
//!
//! Timestamp pycs compare `int(st_mtime)` and `st_size`, with version-specific masking
//! (shared/docs/pyc-format.md §4.1); hash pycs compare a SipHash of the source bytes keyed
//! by the pyc's own magic word (§5).

use super::header::{Header, Invalidation};
use super::magic::{Implementation, MagicInfo, PyVersion};
use serde::Serialize;
use siphasher::sip::{SipHasher13, SipHasher24};
use std::hash::Hasher;

/// What pycache knows of a source file from `stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SourceStat {
    /// `int(os.stat(p).st_mtime)`, as Python 3's importlib compares it (see [`python_mtime`]).
    pub mtime: i64,
    /// `st_mtime` as C's `time_t` (whole seconds), as Python 2's `import.c` compares it.
    #[serde(skip)]
    pub c_mtime: i64,
    /// `st_size`.
    pub size: u64,
}

impl SourceStat {
    /// A stat whose mtime is a whole second (both rules agree).
    pub fn new(mtime: i64, size: u64) -> Self {
        Self {
            mtime,
            c_mtime: mtime,
            size,
        }
    }

    /// From the raw seconds and nanoseconds of `st_mtim`.
    pub fn from_parts(sec: i64, nsec: i64, size: u64) -> Self {
        Self {
            mtime: python_mtime(sec, nsec),
            c_mtime: sec,
            size,
        }
    }

    /// From metadata, reproducing `int(os.stat(p).st_mtime)`.
    pub fn from_metadata(meta: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        Self::from_parts(meta.mtime(), meta.mtime_nsec(), meta.size())
    }
}

/// `int(st_mtime)` exactly as CPython 3 (and PyPy) compute it: `os.stat` builds the float
/// `sec + nsec * 1e-9` (posixmodule.c `fill_time`), which rounds up to the next second for
/// nsec above ~999999880, and `int()` truncates it toward zero.
pub fn python_mtime(sec: i64, nsec: i64) -> i64 {
    (sec as f64 + nsec as f64 * 1e-9) as i64
}

/// Why a cache is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StaleReason {
    /// The recorded mtime differs.
    Mtime,
    /// The recorded size differs.
    Size,
    /// Both differ.
    MtimeAndSize,
    /// The recorded source hash differs.
    Hash,
}

impl StaleReason {
    /// Short name used in reasons and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            StaleReason::Mtime => "mtime",
            StaleReason::Size => "size",
            StaleReason::MtimeAndSize => "mtime+size",
            StaleReason::Hash => "hash",
        }
    }
}

/// The outcome of comparing a header with its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Freshness {
    /// The interpreter would use the cache.
    Fresh,
    /// The source changed since the cache was written.
    Stale {
        /// What differs.
        reason: StaleReason,
        /// Unchecked-hash pycs are used anyway by default (`--check-hash-based-pycs default`).
        runs_anyway: bool,
    },
}

/// The SipHash CPython records in hash-based pycs for `data`, as stored (8 bytes, LE).
///
/// Key: the 4 magic bytes as a little-endian u32 (k0) and 0 (k1). SipHash-2-4 up to 3.10
/// and in PyPy; SipHash-1-3 from CPython 3.11.
pub fn source_hash(magic: &MagicInfo, data: &[u8]) -> [u8; 8] {
    let mut h = SourceHasher::new(magic);
    h.write(data);
    h.finish()
}

/// [`source_hash`] of the regular file behind `fd`, read in chunks: memory stays flat
/// whatever the size of the source.
pub fn source_hash_of_file(
    magic: &MagicInfo,
    fd: rustix::fd::BorrowedFd<'_>,
) -> std::io::Result<[u8; 8]> {
    let mut h = SourceHasher::new(magic);
    crate::fsread::hash_stream(fd, |chunk| h.write(chunk))?;
    Ok(h.finish())
}

/// The streaming form of [`source_hash`]: SipHash needs no more than its state, so a
/// source is fed in pieces and never held whole.
pub enum SourceHasher {
    /// CPython 3.11 and later.
    Sip13(SipHasher13),
    /// Up to 3.10, and PyPy.
    Sip24(SipHasher24),
}

impl SourceHasher {
    /// The hasher CPython keys with `magic`.
    pub fn new(magic: &MagicInfo) -> Self {
        let k0 = u64::from(u32::from(magic.magic) | 0x0a0d_0000);
        let siphash13 = magic.implementation == Implementation::CPython
            && magic.python.is_some_and(|v| v >= PyVersion::new(3, 11));
        if siphash13 {
            SourceHasher::Sip13(SipHasher13::new_with_keys(k0, 0))
        } else {
            SourceHasher::Sip24(SipHasher24::new_with_keys(k0, 0))
        }
    }

    /// Feeds the next piece of the source.
    pub fn write(&mut self, data: &[u8]) {
        match self {
            SourceHasher::Sip13(s) => s.write(data),
            SourceHasher::Sip24(s) => s.write(data),
        }
    }

    /// The hash as stored in the pyc (8 bytes, LE).
    pub fn finish(&self) -> [u8; 8] {
        match self {
            SourceHasher::Sip13(s) => s.finish(),
            SourceHasher::Sip24(s) => s.finish(),
        }
        .to_le_bytes()
    }
}

/// Compares a timestamp pyc with its source's stat, with the writing version's rules.
pub fn check_timestamp(header: &Header, stat: SourceStat) -> Freshness {
    let version = header.magic.python.unwrap_or(PyVersion::new(3, 13));
    let recorded_mtime = header.source_mtime.unwrap_or(0);
    let mtime_ok = if version.major < 3 {
        // 2.x (import.c): header value sign-extended, the C `time_t` masked to 32 bits.
        i64::from(recorded_mtime as i32) == (stat.c_mtime as u64 & 0xFFFF_FFFF) as i64
    } else if version < PyVersion::new(3, 7) && version >= PyVersion::new(3, 3) {
        // 3.3-3.6: unmasked comparison with int(st_mtime).
        i64::from(recorded_mtime) == stat.mtime
    } else {
        u64::from(recorded_mtime) == (stat.mtime as u64 & 0xFFFF_FFFF)
    };
    let size_ok = match header.source_size {
        Some(recorded) => u64::from(recorded) == (stat.size & 0xFFFF_FFFF),
        None => true,
    };
    match (mtime_ok, size_ok) {
        (true, true) => Freshness::Fresh,
        (false, true) => stale(StaleReason::Mtime),
        (true, false) => stale(StaleReason::Size),
        (false, false) => stale(StaleReason::MtimeAndSize),
    }
}

fn stale(reason: StaleReason) -> Freshness {
    Freshness::Stale {
        reason,
        runs_anyway: false,
    }
}

/// Compares a hash-based pyc with the source bytes.
pub fn check_hash(header: &Header, source: &[u8]) -> Freshness {
    compare_hash(header, source_hash(&header.magic, source))
}

/// Compares a hash-based pyc with an already computed source hash (the scanner reports
/// the actual hash too, so it hashes once and compares here).
pub fn compare_hash(header: &Header, actual: [u8; 8]) -> Freshness {
    if header.source_hash == Some(actual) {
        Freshness::Fresh
    } else {
        Freshness::Stale {
            reason: StaleReason::Hash,
            runs_anyway: header.invalidation == Invalidation::UncheckedHash,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyc::header::{hex, parse};
    use crate::pyc::magic::lookup;

    #[test]
    fn streaming_hash_equals_the_whole_hash() {
        let data: Vec<u8> = (0..100_003u32).map(|i| (i % 253) as u8).collect();
        for magic in [3571, 3439] {
            let m = lookup(magic);
            let mut h = SourceHasher::new(&m);
            for piece in data.chunks(4099) {
                h.write(piece);
            }
            assert_eq!(h.finish(), source_hash(&m, &data));
        }
    }

    #[test]
    fn source_hash_matches_cpython_for_every_version() {
        let cases = [
            (3394, "20329d810db227ea"),
            (3413, "1506f08f32bf3ff3"),
            (3425, "f1d665a9e50fdffa"),
            (3439, "d94aade28c8cbebf"),
            (3495, "4c0372aa93f75252"),
            (3531, "1522561917f5df08"),
            (3571, "e786e2893651120e"),
            (336, "152e8119840baf92"),
        ];
        for (magic, want) in cases {
            assert_eq!(
                hex(&source_hash(&lookup(magic), b"x = 1\n")),
                want,
                "magic {magic}"
            );
        }
        let bytes: Vec<u8> = (0..64).collect();
        assert_eq!(hex(&source_hash(&lookup(3571), &bytes)), "8df0f44b7fd0b1f6");
        assert_eq!(hex(&source_hash(&lookup(3439), &bytes)), "4d12293bdea7c14c");
        assert_eq!(hex(&source_hash(&lookup(3495), b"")), "738d9cd5d5e87f73");
    }

    fn ts_header(magic_hex: &str, mtime: u32, size: u32) -> Header {
        let mut b = Vec::new();
        for i in (0..magic_hex.len()).step_by(2) {
            b.push(u8::from_str_radix(&magic_hex[i..i + 2], 16).unwrap());
        }
        let h = parse(&[b.clone(), vec![0; 12]].concat()).unwrap();
        let mut bytes = b;
        match h.header_size {
            8 => bytes.extend(mtime.to_le_bytes()),
            12 => {
                bytes.extend(mtime.to_le_bytes());
                bytes.extend(size.to_le_bytes());
            }
            _ => {
                bytes.extend(0u32.to_le_bytes());
                bytes.extend(mtime.to_le_bytes());
                bytes.extend(size.to_le_bytes());
            }
        }
        parse(&bytes).unwrap()
    }

    #[test]
    fn timestamp_rules_follow_each_version() {
        let h = ts_header("f30d0d0a", 1_700_000_000, 6);
        let st = SourceStat::new;
        assert_eq!(check_timestamp(&h, st(1_700_000_000, 6)), Freshness::Fresh);
        assert_eq!(
            check_timestamp(&h, st(1_700_000_010, 6)),
            stale(StaleReason::Mtime)
        );
        assert_eq!(
            check_timestamp(&h, st(1_700_000_000, 7)),
            stale(StaleReason::Size)
        );
        assert_eq!(
            check_timestamp(&h, st(1, 7)),
            stale(StaleReason::MtimeAndSize)
        );
        // 3.7+: masked, so a source from 2106+ still matches.
        let big = (1i64 << 32) + 1000;
        let h = ts_header("f30d0d0a", 1000, 6);
        assert_eq!(check_timestamp(&h, st(big, 6)), Freshness::Fresh);
        // 3.3-3.6: unmasked, never reused.
        let h = ts_header("330d0d0a", 1000, 6);
        assert_eq!(check_timestamp(&h, st(big, 6)), stale(StaleReason::Mtime));
        // 2.7: no size field; sign extension breaks 2038..2106.
        let h = ts_header("03f30d0a", 1_700_000_000, 0);
        assert_eq!(
            check_timestamp(&h, st(1_700_000_000, 999)),
            Freshness::Fresh
        );
        let h = ts_header("03f30d0a", 3_000_000_000, 0);
        assert_eq!(
            check_timestamp(&h, st(3_000_000_000, 1)),
            stale(StaleReason::Mtime)
        );
        let h = ts_header("03f30d0a", 1000, 0);
        assert_eq!(check_timestamp(&h, st(big, 1)), Freshness::Fresh);
    }

    #[test]
    fn mtimes_round_as_python_3_floats_and_truncate_as_python_2() {
        let s = SourceStat::from_parts(1_700_000_000, 999_999_999, 6);
        assert_eq!((s.mtime, s.c_mtime), (1_700_000_001, 1_700_000_000));
        assert_eq!(python_mtime(1_700_000_000, 999_999_800), 1_700_000_000);
        assert_eq!(python_mtime(-1, 500_000_000), 0);
        let h = ts_header("f30d0d0a", 1_700_000_001, 6);
        assert_eq!(check_timestamp(&h, s), Freshness::Fresh);
        let h = ts_header("03f30d0a", 1_700_000_000, 0);
        assert_eq!(check_timestamp(&h, s), Freshness::Fresh);
    }

    #[test]
    fn unchecked_hash_pycs_run_anyway_when_stale() {
        let mut b = vec![0xf3, 0x0d, 0x0d, 0x0a, 1, 0, 0, 0];
        b.extend(source_hash(&lookup(3571), b"x = 1\n"));
        let h = parse(&b).unwrap();
        assert_eq!(check_hash(&h, b"x = 1\n"), Freshness::Fresh);
        assert_eq!(
            check_hash(&h, b"x = 2\n"),
            Freshness::Stale {
                reason: StaleReason::Hash,
                runs_anyway: true
            }
        );
        b[4] = 3;
        let h = parse(&b).unwrap();
        assert_eq!(
            check_hash(&h, b"x = 2\n"),
            Freshness::Stale {
                reason: StaleReason::Hash,
                runs_anyway: false
            }
        );
    }
}
