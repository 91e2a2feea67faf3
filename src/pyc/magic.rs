//! The magic-number table: which interpreter and Python version wrote a `.pyc`.
//!
//! CPython's numbers come from `assets/pyc-magic-numbers.tsv` (copied from the verified
//! reference in `shared/docs`), parsed once on first use. PyPy's numbers are listed here.
//! An unknown number is not an error: it decodes with the nearest version the numbering
//! rules allow, so a `.pyc` from a newer interpreter still explains itself.

use serde::Serialize;
use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

const CPYTHON_TSV: &str = include_str!("../../assets/pyc-magic-numbers.tsv");

/// A Python language version, e.g. 3.13.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PyVersion {
    /// Major version (1, 2 or 3).
    pub major: u8,
    /// Minor version.
    pub minor: u8,
}

impl PyVersion {
    /// A version from its two numbers.
    pub const fn new(major: u8, minor: u8) -> Self {
        Self { major, minor }
    }
}

impl fmt::Display for PyVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for PyVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Which Python implementation writes a magic number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Implementation {
    /// The reference interpreter.
    CPython,
    /// PyPy (magic numbers below 3000 with the CPython layout).
    PyPy,
    /// Not in any table.
    Unknown,
}

impl Implementation {
    /// Lower-case name as used in JSON and cache tags.
    pub fn as_str(self) -> &'static str {
        match self {
            Implementation::CPython => "cpython",
            Implementation::PyPy => "pypy",
            Implementation::Unknown => "unknown",
        }
    }
}

/// How a magic number is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Release {
    /// The value released interpreters of that series write.
    Final,
    /// Used only by pre-releases.
    Interim,
    /// An unreleased development branch.
    Dev,
    /// Not in the table; the version is inferred from the numbering, if at all.
    Unknown,
}

/// Everything the magic number tells about a `.pyc`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MagicInfo {
    /// The 16-bit magic number (bytes 0-1, little-endian).
    pub magic: u16,
    /// Which implementation writes it.
    pub implementation: Implementation,
    /// The Python language version, when known or inferable.
    pub python: Option<PyVersion>,
    /// CPython's label for the number (e.g. `3.12b1`), or a description. Borrowed from the
    /// table for known numbers, so a scan of 60k caches allocates no labels.
    pub label: Cow<'static, str>,
    /// Final, interim, dev or unknown.
    pub release: Release,
    /// Python 2 `-U` (unicode literals) files use magic + 1.
    pub unicode_flag: bool,
}

impl MagicInfo {
    /// Header size in bytes for files with this magic: 8, 12 or 16.
    pub fn header_size(&self) -> usize {
        match self.implementation {
            Implementation::CPython if (3000..4000).contains(&self.magic) => {
                if self.magic < 3210 {
                    8
                } else if self.magic < 3392 {
                    12
                } else {
                    16
                }
            }
            Implementation::CPython => 8,
            _ => match self.python {
                Some(v) if v >= PyVersion::new(3, 7) => 16,
                Some(v) if v >= PyVersion::new(3, 3) => 12,
                Some(_) => 8,
                // Unknown numbers: assume the modern layout, the only one still written.
                None => 16,
            },
        }
    }

    /// The cache tag an interpreter with this magic uses in `__pycache__` names
    /// (`cpython-313`, `pypy39`), or None for Python 2 / 3.0-3.1 (no `__pycache__`).
    pub fn expected_tag(&self) -> Option<String> {
        let v = self.python?;
        match self.implementation {
            Implementation::CPython if v >= PyVersion::new(3, 2) => {
                Some(format!("cpython-{}{}", v.major, v.minor))
            }
            Implementation::PyPy if v >= PyVersion::new(3, 6) => {
                Some(format!("pypy{}{}", v.major, v.minor))
            }
            _ => None,
        }
    }

    /// True when the magic is listed in a table (not inferred).
    pub fn is_known(&self) -> bool {
        self.release != Release::Unknown
    }

    /// A short human description: `CPython 3.13`, `PyPy 3.9`, `unknown magic 4000`.
    pub fn describe(&self) -> String {
        match (self.implementation, self.python, self.release) {
            (Implementation::Unknown, _, _) => format!("unknown magic {}", self.magic),
            (imp, Some(v), Release::Unknown) => {
                let name = if imp == Implementation::PyPy {
                    "PyPy"
                } else {
                    "CPython"
                };
                format!("unknown magic {} (nearest: {name} {v})", self.magic)
            }
            (imp, Some(v), rel) => {
                let name = if imp == Implementation::PyPy {
                    "PyPy"
                } else {
                    "CPython"
                };
                match rel {
                    Release::Final => format!("{name} {v}"),
                    Release::Interim => format!("{name} {v} pre-release ({})", self.label),
                    _ => format!("{name} {v} development ({})", self.label),
                }
            }
            (_, None, _) => format!("magic {} ({})", self.magic, self.label),
        }
    }
}

struct Row {
    magic: u16,
    python: Option<PyVersion>,
    label: &'static str,
    release: Release,
}

static CPYTHON: LazyLock<Vec<Row>> = LazyLock::new(|| {
    let mut rows: Vec<Row> = CPYTHON_TSV
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut cols = line.split('\t');
            let magic = cols.next()?.trim().parse().ok()?;
            let label = cols.next()?.trim();
            let note = cols.next().unwrap_or("").trim();
            let release = if note.starts_with("FINAL") {
                Release::Final
            } else if note.starts_with("dev") {
                Release::Dev
            } else {
                Release::Interim
            };
            Some(Row {
                magic,
                python: parse_version_prefix(label),
                label,
                release,
            })
        })
        .collect();
    rows.sort_by_key(|r| r.magic);
    rows
});

/// PyPy's magic numbers (values below 3000 or CPython + 7): magic, Python version, label.
const PYPY: &[(u16, u8, u8, &str)] = &[
    (48, 3, 2, "PyPy3 (Python 3.2)"),
    (64, 3, 3, "PyPy3 5.x (Python 3.3)"),
    (112, 3, 5, "PyPy3.5"),
    (160, 3, 6, "PyPy3.6 7.1.0-beta0"),
    (192, 3, 6, "PyPy3.6 7.x"),
    (224, 3, 7, "PyPy3.7"),
    (240, 3, 7, "PyPy3.7"),
    (256, 3, 8, "PyPy3.8"),
    (320, 3, 9, "PyPy3.9 7.3.8"),
    (336, 3, 9, "PyPy3.9 7.3.9+"),
    (384, 3, 10, "PyPy3.10"),
    (416, 3, 11, "PyPy3.11"),
    (3187, 3, 2, "PyPy3 2.x (Python 3.2)"),
    (62218, 2, 7, "PyPy 2.7"),
];

fn parse_version_prefix(label: &str) -> Option<PyVersion> {
    let mut parts = label.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some(PyVersion::new(major, minor))
}

/// Nearest CPython version for a number the table does not list, by CPython's
/// numbering rules (blocks of 50 per minor version from 3.11 on).
fn infer_cpython(magic: u16) -> Option<PyVersion> {
    let ranges: &[(u16, u16, u8)] = &[
        (3000, 3140, 0),
        (3141, 3159, 1),
        (3160, 3189, 2),
        (3190, 3249, 3),
        (3250, 3319, 4),
        (3320, 3359, 5),
        (3360, 3389, 6),
        (3390, 3399, 7),
        (3400, 3419, 8),
        (3420, 3429, 9),
        (3430, 3449, 10),
    ];
    if let Some(&(_, _, minor)) = ranges
        .iter()
        .find(|(lo, hi, _)| (*lo..=*hi).contains(&magic))
    {
        return Some(PyVersion::new(3, minor));
    }
    if (3450..4000).contains(&magic) {
        return u8::try_from((magic - 2900) / 50)
            .ok()
            .map(|minor| PyVersion::new(3, minor));
    }
    None
}

/// Looks up a magic number. Never fails: unknown numbers yield `Release::Unknown`.
pub fn lookup(magic: u16) -> MagicInfo {
    let table = &*CPYTHON;
    if let Ok(i) = table.binary_search_by_key(&magic, |r| r.magic) {
        let r = &table[i];
        return MagicInfo {
            magic,
            implementation: Implementation::CPython,
            python: r.python,
            label: Cow::Borrowed(r.label),
            release: r.release,
            unicode_flag: false,
        };
    }
    if let Some(&(_, major, minor, label)) = PYPY.iter().find(|p| p.0 == magic) {
        return MagicInfo {
            magic,
            implementation: Implementation::PyPy,
            python: Some(PyVersion::new(major, minor)),
            label: Cow::Borrowed(label),
            release: Release::Final,
            unicode_flag: false,
        };
    }
    // Python 2's -U flag wrote magic + 1.
    if magic > 20000
        && let Ok(i) = table.binary_search_by_key(&(magic - 1), |r| r.magic)
        && table[i].python.is_some_and(|v| v.major < 3)
    {
        let r = &table[i];
        return MagicInfo {
            magic,
            implementation: Implementation::CPython,
            python: r.python,
            label: Cow::Owned(format!("{} with -U", r.label)),
            release: r.release,
            unicode_flag: true,
        };
    }
    if let Some(v) = infer_cpython(magic) {
        let (release, label) = unlisted(magic, v);
        return MagicInfo {
            magic,
            implementation: Implementation::CPython,
            python: Some(v),
            label,
            release,
            unicode_flag: false,
        };
    }
    MagicInfo {
        magic,
        implementation: Implementation::Unknown,
        python: None,
        label: Cow::Borrowed("not a known magic number"),
        release: Release::Unknown,
        unicode_flag: false,
    }
}

/// What an unlisted number in `v`'s block is: below the final number of the newest
/// released version, a pre-release of it; in the next version's block, that version's
/// development; anything else unknown (a released series keeps its number).
fn unlisted(magic: u16, v: PyVersion) -> (Release, Cow<'static, str>) {
    let newest = CPYTHON
        .iter()
        .filter(|r| r.release == Release::Final)
        .max_by_key(|r| (r.python, r.magic));
    let Some(newest) = newest.filter(|r| r.python.is_some()) else {
        return (
            Release::Unknown,
            Cow::Owned(format!("unknown, in the {v} range")),
        );
    };
    let released = newest.python.unwrap_or(v);
    if v == released && magic < newest.magic {
        (Release::Interim, Cow::Borrowed("unlisted number"))
    } else if v == PyVersion::new(released.major, released.minor + 1) {
        (Release::Dev, Cow::Borrowed("unreleased branch"))
    } else {
        (
            Release::Unknown,
            Cow::Owned(format!("unknown, in the {v} range")),
        )
    }
}

/// The magic number importlib of CPython `v` compares caches with (its `MAGIC_NUMBER`:
/// the newest final number of that version), when the table marks one. PyPy: None.
pub fn final_magic(implementation: Implementation, v: PyVersion) -> Option<u16> {
    if implementation != Implementation::CPython {
        return None;
    }
    CPYTHON
        .iter()
        .filter(|r| r.release == Release::Final && r.python == Some(v))
        .map(|r| r.magic)
        .max()
}

/// Python versions with a final magic number, newest first (for `--version`).
pub fn known_versions() -> Vec<PyVersion> {
    let mut v: Vec<PyVersion> = CPYTHON
        .iter()
        .filter(|r| r.release == Release::Final)
        .filter_map(|r| r.python)
        .collect();
    v.sort();
    v.dedup();
    v.reverse();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_versions_map_to_their_magic() {
        for (magic, minor) in [(3379, 6), (3394, 7), (3413, 8), (3425, 9), (3439, 10)] {
            let info = lookup(magic);
            assert_eq!(info.python, Some(PyVersion::new(3, minor)));
            assert_eq!(info.release, Release::Final);
        }
        for (magic, minor) in [(3495, 11), (3531, 12), (3571, 13), (3627, 14), (3666, 15)] {
            let info = lookup(magic);
            assert_eq!(info.python, Some(PyVersion::new(3, minor)));
            assert_eq!(info.release, Release::Final, "{magic}");
            assert_eq!(info.describe(), format!("CPython 3.{minor}"));
        }
        assert_eq!(lookup(62211).python, Some(PyVersion::new(2, 7)));
        assert_eq!(lookup(20121).python, Some(PyVersion::new(1, 5)));
    }

    #[test]
    fn header_sizes_follow_the_three_layouts() {
        assert_eq!(lookup(62211).header_size(), 8);
        assert_eq!(lookup(3180).header_size(), 8);
        assert_eq!(lookup(3230).header_size(), 12);
        assert_eq!(lookup(3379).header_size(), 12);
        assert_eq!(lookup(3394).header_size(), 16);
        assert_eq!(lookup(336).header_size(), 16);
        assert_eq!(lookup(192).header_size(), 12);
    }

    #[test]
    fn tags_follow_the_implementation() {
        assert_eq!(lookup(3571).expected_tag().as_deref(), Some("cpython-313"));
        assert_eq!(lookup(3439).expected_tag().as_deref(), Some("cpython-310"));
        assert_eq!(lookup(336).expected_tag().as_deref(), Some("pypy39"));
        assert_eq!(lookup(62211).expected_tag(), None);
    }

    #[test]
    fn unknown_magics_decode_with_the_nearest_version() {
        // 3.15 is released (3666): an unseen number below it is one of its pre-releases.
        let info = lookup(3660);
        assert_eq!(info.python, Some(PyVersion::new(3, 15)));
        assert_eq!(info.release, Release::Interim);
        assert_eq!(
            info.describe(),
            "CPython 3.15 pre-release (unlisted number)"
        );
        // The next block is the branch in development; beyond it, nothing is known.
        let info = lookup(3700);
        assert_eq!(info.python, Some(PyVersion::new(3, 16)));
        assert_eq!(info.release, Release::Dev);
        assert_eq!(
            info.describe(),
            "CPython 3.16 development (unreleased branch)"
        );
        let info = lookup(3760);
        assert_eq!(info.python, Some(PyVersion::new(3, 17)));
        assert_eq!(info.release, Release::Unknown);
        assert!(info.describe().contains("unknown magic 3760"));
        let info = lookup(7);
        assert_eq!(info.implementation, Implementation::Unknown);
        assert_eq!(info.describe(), "unknown magic 7");
    }

    #[test]
    fn python2_unicode_flag_is_magic_plus_one() {
        let info = lookup(62212);
        assert!(info.unicode_flag);
        assert_eq!(info.python, Some(PyVersion::new(2, 7)));
    }

    #[test]
    fn the_table_lists_every_row_of_the_tsv() {
        let rows = CPYTHON_TSV
            .lines()
            .skip(1)
            .filter(|l| !l.is_empty())
            .count();
        assert_eq!(CPYTHON.len(), rows);
        let versions = known_versions();
        assert_eq!(versions.first(), Some(&PyVersion::new(3, 15)));
        assert!(versions.contains(&PyVersion::new(1, 5)));
    }
}
