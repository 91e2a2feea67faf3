//! CPython's verdict on one cache file: would its interpreter use it, and if not, why.
//!
//! The rules (shared/docs/pyc-format.md §3-4): a `__pycache__` or prefix cache without its
//! source is never imported (orphaned); a legacy `NAME.pyc` without a source is importable
//! (sourceless, precious); a legacy `NAME.pyc` beside `NAME.py` is ignored by Python 3.2+
//! (shadowed) but is the normal cache of Python 2; everything else is fresh or stale.

use super::error::PycError;
use super::header::Invalidation;
use super::header::{Header, hex};
use super::magic::{Implementation, MagicInfo, PyVersion, Release};
use super::name::Location;
use super::rules::{HashCheck, Outcome};
use super::validate::{Freshness, SourceStat, StaleReason, check_timestamp, compare_hash};
use serde::Serialize;
use std::io;

/// The verdict classes, in the order a report lists problems.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Cannot be decoded: empty, truncated, unknown magic, bad flags, tag/magic mismatch.
    Invalid,
    /// Permission denied.
    Unreadable,
    /// A `__pycache__`/prefix cache whose source is gone: never imported.
    Orphaned,
    /// The source changed since the cache was written.
    Stale,
    /// Legacy `NAME.pyc` beside `NAME.py`: Python 3 ignores it.
    Shadowed,
    /// Legacy `NAME.pyc` without source: importable code, maybe the only copy.
    Sourceless,
    /// The interpreter would use it.
    Fresh,
}

impl Status {
    /// Every status, worst first.
    pub const ALL: [Status; 7] = [
        Status::Invalid,
        Status::Unreadable,
        Status::Orphaned,
        Status::Stale,
        Status::Shadowed,
        Status::Sourceless,
        Status::Fresh,
    ];

    /// Lower-case name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fresh => "fresh",
            Status::Stale => "stale",
            Status::Orphaned => "orphaned",
            Status::Sourceless => "sourceless",
            Status::Shadowed => "shadowed",
            Status::Invalid => "invalid",
            Status::Unreadable => "unreadable",
        }
    }

    /// Parses a lower-case name.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// True for caches that are safe and useful to remove by default.
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            Status::Stale | Status::Orphaned | Status::Shadowed | Status::Invalid
        )
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verdict with its reason and the values it was decided on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The class.
    pub status: Status,
    /// Why, in words; None for plain fresh caches.
    pub reason: Option<String>,
    /// For stale caches: what differs.
    pub stale: Option<StaleReason>,
    /// Unchecked-hash caches whose source changed are still used by Python.
    pub runs_anyway: bool,
    /// The hash of the current source, when it was computed (16 hex digits).
    pub actual_hash: Option<String>,
    /// What the owning interpreter's import does with it.
    pub outcome: Outcome,
}

impl Verdict {
    /// A verdict with a reason, and the usual outcome of its status.
    pub fn new(status: Status, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: Some(reason.into()),
            stale: None,
            runs_anyway: false,
            actual_hash: None,
            outcome: Outcome::of(status),
        }
    }

    /// The same verdict with another outcome.
    pub fn with_outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }
}

/// What the scanner or `inspect` found beside a cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFound {
    /// The source file exists, with this stat.
    Present(SourceStat),
    /// No source where CPython would look.
    Missing,
}

/// Judges one cache file, with the interpreter's default `--check-hash-based-pycs`.
///
/// `name_tag` is the tag in a PEP 3147 file name (None for legacy files); `hash_source`
/// (the source's hash under a magic's key, streamed) is called only for hash-based pycs,
/// so a scan stats sources but rarely reads them.
pub fn judge(
    header: &Result<Header, PycError>,
    location: Location,
    name_tag: Option<&str>,
    source: SourceFound,
    hash_source: impl FnOnce(&MagicInfo) -> io::Result<[u8; 8]>,
) -> Verdict {
    judge_with(
        header,
        location,
        name_tag,
        source,
        HashCheck::Default,
        hash_source,
    )
}

/// What importlib does with a cache it cannot classify (`_classify_pyc` raises): a source
/// beside it is compiled instead; without one, only a legacy (sourceless) file is loaded,
/// and its import fails. Python 3 never opens a legacy file when the source exists.
fn unusable(
    location: Location,
    source: SourceFound,
    python2: bool,
    status: Status,
    reason: String,
) -> Verdict {
    let present = matches!(source, SourceFound::Present(_));
    let outcome = match (location, present) {
        (Location::Legacy, false) => Outcome::ImportError,
        (Location::Legacy, true) if !python2 => Outcome::NeverConsulted,
        (_, true) => Outcome::Recompiled,
        (_, false) => Outcome::NeverConsulted,
    };
    Verdict::new(status, reason).with_outcome(outcome)
}

/// Judges one cache file under a `--check-hash-based-pycs` mode.
pub fn judge_with(
    header: &Result<Header, PycError>,
    location: Location,
    name_tag: Option<&str>,
    source: SourceFound,
    hash_check: HashCheck,
    hash_source: impl FnOnce(&MagicInfo) -> io::Result<[u8; 8]>,
) -> Verdict {
    let header = match header {
        Ok(h) => h,
        Err(e) => {
            return unusable(location, source, false, Status::Invalid, e.to_string());
        }
    };
    let python2_layout = header
        .magic
        .python
        .is_some_and(|v| v < PyVersion::new(3, 2));
    let bad = |reason: String| unusable(location, source, python2_layout, Status::Invalid, reason);
    if header.magic.implementation == Implementation::Unknown
        || (header.magic.release == Release::Unknown && header.magic.python.is_none())
    {
        return bad(header.magic.describe());
    }
    if let (Some(tag), Some(expected)) = (name_tag, header.magic.expected_tag())
        && tag != expected
    {
        return bad(format!(
            "name says {tag} but the bytecode is {} ({expected}): \
             bad magic number for {tag}",
            header.magic.describe()
        ));
    }
    // importlib compares the whole magic word with its own MAGIC_NUMBER: a pre-release
    // number of the same version is a "bad magic number" to the final interpreter.
    // A legacy file is read by its version's interpreter when it is Python 2's cache or
    // has no source (Python 3 ignores it beside a source: shadowed, below).
    let read_by_its_version = name_tag.is_some()
        || (location == Location::Legacy
            && (python2_layout || matches!(source, SourceFound::Missing)));
    if read_by_its_version
        && let Some(v) = header.magic.python
        && let Some(want) = super::magic::final_magic(header.magic.implementation, v)
        && want != header.magic.magic
    {
        return bad(format!(
            "bad magic number: written by {} (magic {}), but Python {v} reads only magic \
             {want}: recompiled on import",
            header.magic.describe(),
            header.magic.magic
        ));
    }
    let stat = match source {
        SourceFound::Present(stat) => stat,
        SourceFound::Missing => {
            return match location {
                Location::Legacy => Verdict::new(
                    Status::Sourceless,
                    format!(
                        "no source beside it: importable by {} without the .py",
                        header.magic.describe()
                    ),
                ),
                _ => Verdict::new(Status::Orphaned, "source is gone: Python never imports it"),
            };
        }
    };
    if location == Location::Legacy && !python2_layout {
        return Verdict::new(
            Status::Shadowed,
            "the .py beside it wins: Python 3 ignores a legacy .pyc when the source exists",
        );
    }
    let mut actual_hash = None;
    let freshness = if header.source_hash.is_some() {
        match hash_source(&header.magic) {
            Ok(actual) => {
                actual_hash = Some(hex(&actual));
                let checked = header.invalidation == Invalidation::CheckedHash;
                match compare_hash(header, actual) {
                    Freshness::Stale { reason, .. } => Freshness::Stale {
                        reason,
                        runs_anyway: !hash_check.validates(checked),
                    },
                    fresh => fresh,
                }
            }
            Err(e) => {
                return Verdict::new(Status::Unreadable, format!("cannot read the source: {e}"));
            }
        }
    } else {
        check_timestamp(header, stat)
    };
    match freshness {
        Freshness::Fresh => Verdict {
            status: Status::Fresh,
            reason: None,
            stale: None,
            runs_anyway: false,
            actual_hash,
            outcome: Outcome::Used,
        },
        Freshness::Stale {
            reason,
            runs_anyway,
        } => {
            let words = match reason {
                StaleReason::Mtime => "source mtime differs from the recorded one",
                StaleReason::Size => "source size differs from the recorded one",
                StaleReason::MtimeAndSize => "source mtime and size differ from the recorded ones",
                StaleReason::Hash => "source hash differs from the recorded one",
            };
            let text = if runs_anyway && header.invalidation == Invalidation::CheckedHash {
                format!(
                    "{words}; --check-hash-based-pycs never: Python runs this old bytecode anyway"
                )
            } else if runs_anyway {
                format!("{words}; unchecked-hash: Python runs this old bytecode anyway")
            } else {
                format!("{words}: recompiled on import")
            };
            Verdict {
                status: Status::Stale,
                reason: Some(text),
                stale: Some(reason),
                runs_anyway,
                actual_hash,
                outcome: if runs_anyway {
                    Outcome::Used
                } else {
                    Outcome::Recompiled
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyc::header::parse;
    use crate::pyc::magic::lookup;
    use crate::pyc::validate::source_hash;

    fn ts313(mtime: u32, size: u32) -> Result<Header, PycError> {
        let mut b = vec![0xf3, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0];
        b.extend(mtime.to_le_bytes());
        b.extend(size.to_le_bytes());
        parse(&b)
    }
    fn present(mtime: i64, size: u64) -> SourceFound {
        SourceFound::Present(SourceStat::new(mtime, size))
    }
    fn no_read(_: &MagicInfo) -> io::Result<[u8; 8]> {
        panic!("timestamp pycs must not read the source")
    }

    #[test]
    fn each_status_comes_from_its_rule() {
        let h = ts313(100, 6);
        let v = |loc, tag, src| judge(&h, loc, tag, src, no_read).status;
        let tag = Some("cpython-313");
        assert_eq!(v(Location::Pycache, tag, present(100, 6)), Status::Fresh);
        assert_eq!(v(Location::Pycache, tag, present(101, 6)), Status::Stale);
        assert_eq!(
            v(Location::Pycache, tag, SourceFound::Missing),
            Status::Orphaned
        );
        assert_eq!(
            v(Location::Prefix, tag, SourceFound::Missing),
            Status::Orphaned
        );
        assert_eq!(
            v(Location::Legacy, None, SourceFound::Missing),
            Status::Sourceless
        );
        assert_eq!(v(Location::Legacy, None, present(100, 6)), Status::Shadowed);
        assert_eq!(
            v(Location::Pycache, Some("cpython-312"), present(100, 6)),
            Status::Invalid
        );
        let empty = parse(&[]);
        assert_eq!(
            judge(&empty, Location::Pycache, tag, present(1, 1), no_read).status,
            Status::Invalid
        );
    }

    #[test]
    fn python2_legacy_pycs_are_judged_by_timestamp() {
        let mut b = vec![0x03, 0xf3, 0x0d, 0x0a];
        b.extend(100u32.to_le_bytes());
        let h = parse(&b);
        assert_eq!(
            judge(&h, Location::Legacy, None, present(100, 9), no_read).status,
            Status::Fresh
        );
        assert_eq!(
            judge(&h, Location::Legacy, None, present(200, 9), no_read).status,
            Status::Stale
        );
    }

    #[test]
    fn hash_pycs_read_the_source_and_report_its_hash() {
        let mut b = vec![0xf3, 0x0d, 0x0d, 0x0a, 3, 0, 0, 0];
        b.extend(source_hash(&lookup(3571), b"x = 1\n"));
        let h = parse(&b);
        let v = judge(
            &h,
            Location::Pycache,
            Some("cpython-313"),
            present(0, 6),
            |m| Ok(source_hash(m, b"x = 2\n")),
        );
        assert_eq!(v.status, Status::Stale);
        assert_eq!(v.stale, Some(StaleReason::Hash));
        assert!(!v.runs_anyway);
        assert_eq!(v.actual_hash.as_deref().map(str::len), Some(16));
    }
}
