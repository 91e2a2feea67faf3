//! The outputs for pipelines and fleets: one object per cache (`scan --jsonl`) and the
//! summary (`scan --summary --json`), with where and when a document was made.

use super::{Paths, SCHEMA, Snapshot, by_status, by_tag, write_value};
use crate::pyc::Status;
use crate::scan::model::{ScanModel, Totals};
use crate::scan::record::{CacheRecord, path_text};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::Path;

/// How many problem directories the summary names.
pub const TOP_FINDINGS: usize = 10;

/// Where and when a document was made: the header every scan document carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The host name.
    pub host: String,
    /// UTC time the document was written, RFC 3339 (`2026-12-04T18:55:00Z`).
    pub time: String,
}

impl Origin {
    /// This host, now.
    pub fn here_and_now() -> Self {
        let host = rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned();
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            host,
            time: rfc3339_utc(i64::try_from(secs).unwrap_or(i64::MAX)),
        }
    }
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
pub fn rfc3339_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

impl ScanModel {
    /// Writes one compact object per cache per line (`scan --jsonl`), in snapshot order,
    /// with absolute paths.
    pub fn write_jsonl<W: Write>(&self, out: &mut W) -> io::Result<()> {
        let origin = Origin {
            host: String::new(),
            time: String::new(),
        };
        let snap = Snapshot::new(self, &origin);
        for &(_, _, _, c) in &snap.caches {
            write_value(out, &CacheObject(c), false)?;
        }
        Ok(())
    }

    /// Writes the fleet summary (`scan --summary --json`): one small object.
    pub fn write_summary<W: Write>(
        &self,
        out: &mut W,
        origin: &Origin,
        pretty: bool,
    ) -> io::Result<()> {
        write_value(out, &SummaryDoc(self, origin), pretty)
    }
}

/// One cache as an object, for `--jsonl`.
struct CacheObject<'a>(&'a CacheRecord);

impl Serialize for CacheObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let m = &c.meta;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("schema", &SCHEMA)?;
        map.serialize_entry("kind", "cache")?;
        map.serialize_entry("path", &path_text(&c.path))?;
        map.serialize_entry("source", &c.source.as_deref().map(path_text))?;
        map.serialize_entry("module", &c.module)?;
        map.serialize_entry("tag", &c.tag)?;
        map.serialize_entry("opt", &c.opt)?;
        map.serialize_entry("location", &c.location)?;
        map.serialize_entry("status", &c.status)?;
        map.serialize_entry("reason", &c.reason)?;
        map.serialize_entry("magic", &c.magic)?;
        map.serialize_entry("python", &c.python)?;
        map.serialize_entry("invalidation", &c.invalidation)?;
        map.serialize_entry(
            "recorded",
            &c.header.as_ref().map(crate::scan::Recorded::of),
        )?;
        map.serialize_entry("outcome", &c.verdict.outcome)?;
        map.serialize_entry("link", &c.kind.link)?;
        map.serialize_entry("pytest", &c.kind.pytest)?;
        map.serialize_entry("body_checked", &c.kind.body_checked)?;
        map.serialize_entry("size", &m.size)?;
        map.serialize_entry("disk_usage", &m.disk_usage)?;
        map.serialize_entry("mtime", &m.mtime)?;
        map.serialize_entry("uid", &m.uid)?;
        map.serialize_entry("gid", &m.gid)?;
        map.serialize_entry("mode", &m.mode)?;
        map.serialize_entry("dev", &m.dev)?;
        map.serialize_entry("ino", &m.ino)?;
        map.end()
    }
}

/// A directory with problem caches: the directory a user would look in (a `__pycache__`'s
/// source directory), its problem caches by verdict, and their count and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemDir<'a> {
    /// The directory.
    pub dir: &'a Path,
    /// Problem caches by verdict.
    pub by_status: BTreeMap<Status, u64>,
    /// Their count and bytes.
    pub totals: Totals,
}

/// Directories with problem caches, most problems (then bytes) first.
pub fn problem_dirs(model: &ScanModel) -> Vec<ProblemDir<'_>> {
    let mut dirs: HashMap<&Path, ProblemDir<'_>> = HashMap::new();
    for c in model.caches.iter().filter(|c| c.status.is_problem()) {
        let dir = shown_dir(c);
        let e = dirs.entry(dir).or_insert_with(|| ProblemDir {
            dir,
            by_status: BTreeMap::new(),
            totals: Totals::default(),
        });
        *e.by_status.entry(c.status).or_default() += 1;
        e.totals.count += 1;
        e.totals.bytes += c.meta.size;
        e.totals.disk_usage += c.meta.disk_usage;
    }
    let mut ranked: Vec<ProblemDir<'_>> = dirs.into_values().collect();
    ranked.sort_by(|a, b| {
        (b.totals.count, b.totals.bytes)
            .cmp(&(a.totals.count, a.totals.bytes))
            .then_with(|| a.dir.cmp(b.dir))
    });
    ranked
}

/// The directory a cache is shown under: its source directory for `__pycache__` files.
fn shown_dir(c: &CacheRecord) -> &Path {
    let dir = c.path.parent().unwrap_or(Path::new("/"));
    match dir.file_name() {
        Some(n) if n == "__pycache__" => dir.parent().unwrap_or(dir),
        _ => dir,
    }
}

/// `scan --summary --json`.
struct SummaryDoc<'a>(&'a ScanModel, &'a Origin);

impl Serialize for SummaryDoc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let SummaryDoc(m, origin) = *self;
        let ranked = problem_dirs(m);
        let top: Vec<Finding<'_>> = ranked.iter().take(TOP_FINDINGS).map(Finding).collect();
        let sources = m.modules.values().filter(|x| x.source_exists()).count();
        let problems: u64 = Status::ALL
            .iter()
            .filter(|st| st.is_problem())
            .map(|&st| m.summary.count(st))
            .sum();
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("schema", &SCHEMA)?;
        map.serialize_entry("kind", "summary")?;
        map.serialize_entry("pycache", env!("CARGO_PKG_VERSION"))?;
        map.serialize_entry("host", &origin.host)?;
        map.serialize_entry("time", &origin.time)?;
        map.serialize_entry("roots", &Paths(&m.roots))?;
        map.serialize_entry("prefix", &m.prefix.as_deref().map(path_text))?;
        map.serialize_entry("finished", &m.progress.finished)?;
        map.serialize_entry("dirs", &m.progress.dirs)?;
        map.serialize_entry("files", &m.progress.files)?;
        map.serialize_entry("sources", &sources)?;
        map.serialize_entry("total", &m.summary.total())?;
        map.serialize_entry("problems", &problems)?;
        map.serialize_entry("errors", &m.errors.len())?;
        map.serialize_entry("by_status", &by_status(m))?;
        map.serialize_entry("by_tag", &by_tag(m))?;
        map.serialize_entry("problem_dirs", &ranked.len())?;
        map.serialize_entry("top_findings", &top)?;
        map.end()
    }
}

struct Finding<'a>(&'a ProblemDir<'a>);

impl Serialize for Finding<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("dir", &path_text(d.dir))?;
        map.serialize_entry("caches", &d.totals.count)?;
        map.serialize_entry("bytes", &d.totals.bytes)?;
        let by: BTreeMap<&str, u64> = d.by_status.iter().map(|(s, n)| (s.as_str(), *n)).collect();
        map.serialize_entry("by_status", &by)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_are_rfc3339() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_796_410_800), "2026-12-04T19:00:00Z");
        assert_eq!(rfc3339_utc(-1), "1969-12-31T23:59:59Z");
    }
}
