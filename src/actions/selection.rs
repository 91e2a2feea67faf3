//! Which caches an action applies to: by verdict, tag, location, path, age, or a list.
//!
//! The CLI fills a [`Selection`] from flags; the TUI fills `paths` from marked items.
//! Sourceless caches (importable code, maybe the only copy) are never selected unless
//! named one by one in `include_sourceless`.

use crate::pyc::{Location, Status};
use crate::scan::CacheRecord;
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What clean selects by default: caches Python never uses.
pub const CLEAN_DEFAULT: [Status; 4] = [
    Status::Orphaned,
    Status::Stale,
    Status::Shadowed,
    Status::Invalid,
];

/// Selection criteria; every non-empty criterion must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Selection {
    /// Verdicts to select; empty means the action's default.
    pub statuses: Vec<Status>,
    /// Every verdict except sourceless (`--all`).
    pub all: bool,
    /// Interpreter tags (`cpython-313`); empty means any.
    pub tags: Vec<String>,
    /// Locations; empty means any.
    pub locations: Vec<Location>,
    /// Path prefixes (absolute); empty means anywhere under the roots.
    pub under: Vec<PathBuf>,
    /// Only caches whose own mtime is older than this (seconds since the epoch).
    pub mtime_before: Option<i64>,
    /// Explicit cache paths (the TUI's marks): when non-empty, exactly these are selected
    /// and the other criteria are not applied. A sorted set: planners ask it once per
    /// cache, so a list made a 16k-path selection over a large tree quadratic.
    pub paths: BTreeSet<PathBuf>,
    /// Sourceless caches to select, named one by one.
    pub include_sourceless: BTreeSet<PathBuf>,
}

impl Selection {
    /// True when the cache is selected; `default` is the action's default verdict list.
    pub fn matches(&self, cache: &CacheRecord, default: &[Status]) -> bool {
        if cache.status == Status::Sourceless {
            return self.include_sourceless.contains(&cache.path);
        }
        if !self.paths.is_empty() {
            return self.paths.contains(&cache.path);
        }
        let status_ok = if self.all {
            true
        } else if self.statuses.is_empty() {
            // pytest rewrites its own caches: by default only those of deleted tests go.
            let pytest_kept = cache.kind.pytest.is_some() && cache.status != Status::Orphaned;
            default.contains(&cache.status) && !pytest_kept
        } else {
            self.statuses.contains(&cache.status)
        };
        status_ok
            && self.tag_ok(cache.tag.as_deref())
            && (self.locations.is_empty() || self.locations.contains(&cache.location))
            && self.path_ok(&cache.path)
            && self
                .mtime_before
                .is_none_or(|cutoff| cache.meta.mtime < cutoff)
    }

    /// True when the tag criterion accepts this tag.
    pub fn tag_ok(&self, tag: Option<&str>) -> bool {
        self.tags.is_empty() || tag.is_some_and(|t| self.tags.iter().any(|w| w == t))
    }

    /// True when the path lies under one of the `under` prefixes (or there are none).
    pub fn path_ok(&self, path: &Path) -> bool {
        self.under.is_empty() || self.under.iter().any(|u| path.starts_with(u))
    }
}

/// Parses an age such as `30d`, `12h`, `90m`, `2w`, `45s` (a bare number is days) into
/// seconds.
pub fn parse_age(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| format!("'{text}' is not an age; write it like 30d, 12h, 90m or 2w"))?;
    let unit_secs = match unit {
        "" | "d" => 86_400,
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "w" => 7 * 86_400,
        _ => {
            return Err(format!(
                "unknown unit '{unit}' in age '{text}'; use s, m, h, d or w (e.g. 30d)"
            ));
        }
    };
    n.checked_mul(unit_secs)
        .ok_or_else(|| format!("age '{text}' is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyc::Verdict;
    use crate::scan::FileMeta;

    fn cache(path: &str, status: Status, tag: &str, mtime: i64) -> CacheRecord {
        CacheRecord {
            path: PathBuf::from(path),
            source: None,
            module: "m".into(),
            tag: Some(tag.into()),
            opt: None,
            location: Location::Pycache,
            header: None,
            magic: None,
            python: None,
            invalidation: None,
            status,
            reason: None,
            verdict: Verdict::new(status, ""),
            kind: Default::default(),
            meta: FileMeta {
                mtime,
                ..FileMeta::default()
            },
        }
    }

    #[test]
    fn pytest_caches_go_by_default_only_when_their_test_is_gone() {
        let pytest = |status| {
            let mut c = cache(
                "/p/__pycache__/test_a.cpython-314-pytest-8.4.2.pyc",
                status,
                "t",
                0,
            );
            c.kind.pytest = Some("8.4.2".into());
            c
        };
        let s = Selection::default();
        assert!(!s.matches(&pytest(Status::Stale), &CLEAN_DEFAULT));
        assert!(s.matches(&pytest(Status::Orphaned), &CLEAN_DEFAULT));
        let asked = Selection {
            statuses: vec![Status::Stale],
            ..Selection::default()
        };
        assert!(asked.matches(&pytest(Status::Stale), &CLEAN_DEFAULT));
    }

    #[test]
    fn default_selects_problems_only_and_never_sourceless() {
        let s = Selection::default();
        assert!(s.matches(&cache("/p/a", Status::Stale, "t", 0), &CLEAN_DEFAULT));
        assert!(!s.matches(&cache("/p/a", Status::Fresh, "t", 0), &CLEAN_DEFAULT));
        let all = Selection {
            all: true,
            ..Selection::default()
        };
        assert!(all.matches(&cache("/p/a", Status::Fresh, "t", 0), &CLEAN_DEFAULT));
        assert!(!all.matches(
            &cache("/p/a.pyc", Status::Sourceless, "t", 0),
            &CLEAN_DEFAULT
        ));
        let named = Selection {
            include_sourceless: ["/p/a.pyc".into()].into(),
            ..Selection::default()
        };
        assert!(named.matches(
            &cache("/p/a.pyc", Status::Sourceless, "t", 0),
            &CLEAN_DEFAULT
        ));
        assert!(!named.matches(
            &cache("/p/b.pyc", Status::Sourceless, "t", 0),
            &CLEAN_DEFAULT
        ));
    }

    #[test]
    fn criteria_combine() {
        let s = Selection {
            statuses: vec![Status::Fresh, Status::Stale],
            tags: vec!["cpython-313".into()],
            under: vec!["/p/sub".into()],
            mtime_before: Some(100),
            ..Selection::default()
        };
        assert!(s.matches(
            &cache("/p/sub/x", Status::Fresh, "cpython-313", 99),
            &CLEAN_DEFAULT
        ));
        assert!(!s.matches(
            &cache("/p/sub/x", Status::Fresh, "cpython-313", 100),
            &CLEAN_DEFAULT
        ));
        assert!(!s.matches(
            &cache("/p/subway/x", Status::Fresh, "cpython-313", 1),
            &CLEAN_DEFAULT
        ));
        assert!(!s.matches(
            &cache("/p/sub/x", Status::Fresh, "cpython-312", 1),
            &CLEAN_DEFAULT
        ));
        assert!(!s.matches(
            &cache("/p/sub/x", Status::Orphaned, "cpython-313", 1),
            &CLEAN_DEFAULT
        ));
        let marks = Selection {
            paths: ["/p/x".into()].into(),
            ..s
        };
        assert!(marks.matches(
            &cache("/p/x", Status::Orphaned, "cpython-39", 500),
            &CLEAN_DEFAULT
        ));
    }

    #[test]
    fn ages_parse_with_units() {
        assert_eq!(parse_age("30d"), Ok(30 * 86_400));
        assert_eq!(parse_age("2w"), Ok(14 * 86_400));
        assert_eq!(parse_age("90m"), Ok(5_400));
        assert_eq!(parse_age("7"), Ok(7 * 86_400));
        assert!(parse_age("d").is_err());
        assert!(parse_age("3y").unwrap_err().contains("unknown unit"));
    }
}
