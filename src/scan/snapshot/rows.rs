//! The snapshot's tables, read row by row straight into records: a row is an array whose
//! cells come in the table's column order.

use super::{OLD_SCHEMA, out_of_order};
use crate::pyc::{Invalidation, Location, PyVersion, Status, Verdict};
use crate::scan::classify::join_exact;
use crate::scan::json::{
    CACHE_COLUMNS, DIR_COLUMNS, SOURCE_COLUMNS, module_from, usual_source_name,
};
use crate::scan::record::{CacheRecord, FileMeta, Recorded, SourceRecord};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::path::{Path, PathBuf};

/// How to read one table's rows.
pub(super) trait Rows {
    type Row;
    const NAME: &'static str;
    const COLUMNS: &'static [&'static str];
    /// Reads one row's cells, in column order.
    fn row<'de, A: SeqAccess<'de>>(&self, seq: &mut A) -> Result<Self::Row, A::Error>;
}

/// A `{"columns": [...], "rows": [...]}` table, its rows appended to `out`.
pub(super) struct TableSeed<'o, R: Rows> {
    pub(super) rows: R,
    pub(super) out: &'o mut Vec<R::Row>,
}

impl<'de, R: Rows> DeserializeSeed<'de> for TableSeed<'_, R> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, R: Rows> Visitor<'de> for TableSeed<'_, R> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "the '{}' table", R::NAME)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        // Schema 1 listed caches as an array of objects.
        Err(A::Error::custom(OLD_SCHEMA))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut columns_ok = false;
        let mut rows_seen = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "columns" => {
                    let columns: Vec<String> = map.next_value()?;
                    if columns != R::COLUMNS {
                        return Err(A::Error::custom(format!(
                            "snapshot table '{}' has the columns {columns:?}, not the ones this pycache writes; re-run 'pycache scan --json' with this version",
                            R::NAME
                        )));
                    }
                    columns_ok = true;
                }
                "rows" => {
                    map.next_value_seed(RowsSeed {
                        rows: &self.rows,
                        out: &mut *self.out,
                    })?;
                    rows_seen = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !columns_ok || !rows_seen {
            return Err(A::Error::custom(format!(
                "snapshot table '{}' needs both 'columns' and 'rows'",
                R::NAME
            )));
        }
        Ok(())
    }
}

struct RowsSeed<'r, 'o, R: Rows> {
    rows: &'r R,
    out: &'o mut Vec<R::Row>,
}

impl<'de, R: Rows> DeserializeSeed<'de> for RowsSeed<'_, '_, R> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, R: Rows> Visitor<'de> for RowsSeed<'_, '_, R> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "the rows of '{}'", R::NAME)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if let Some(n) = seq.size_hint() {
            self.out.reserve(n);
        }
        while let Some(row) = seq.next_element_seed(RowSeed(self.rows))? {
            self.out.push(row);
        }
        Ok(())
    }
}

struct RowSeed<'r, R: Rows>(&'r R);

impl<'de, R: Rows> DeserializeSeed<'de> for RowSeed<'_, R> {
    type Value = R::Row;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<R::Row, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, R: Rows> Visitor<'de> for RowSeed<'_, R> {
    type Value = R::Row;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a row of '{}' ({} cells)", R::NAME, R::COLUMNS.len())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<R::Row, A::Error> {
        let row = self.0.row(&mut seq)?;
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(A::Error::custom(format!(
                "snapshot row of '{}' has more than {} cells",
                R::NAME,
                R::COLUMNS.len()
            )));
        }
        Ok(row)
    }
}

/// The next cell of a row.
fn cell<'de, T: Deserialize<'de>, A: SeqAccess<'de>>(
    seq: &mut A,
    table: &str,
    column: &str,
) -> Result<T, A::Error> {
    seq.next_element()?.ok_or_else(|| {
        A::Error::custom(format!(
            "snapshot row of '{table}' ends before its '{column}' cell"
        ))
    })
}

/// A directory index cell, checked against the table.
fn dir<'d, E: de::Error>(dirs: &'d [Dir], i: usize, table: &str) -> Result<&'d Dir, E> {
    dirs.get(i).ok_or_else(|| {
        E::custom(format!(
            "snapshot row of '{table}' names directory {i}, but 'dirs' has {} rows",
            dirs.len()
        ))
    })
}

fn meta<'de, A: SeqAccess<'de>>(seq: &mut A, table: &str) -> Result<FileMeta, A::Error> {
    Ok(FileMeta {
        size: cell(seq, table, "size")?,
        disk_usage: cell(seq, table, "disk_usage")?,
        mtime: cell(seq, table, "mtime")?,
        uid: cell(seq, table, "uid")?,
        gid: cell(seq, table, "gid")?,
        mode: cell(seq, table, "mode")?,
        dev: cell(seq, table, "dev")?,
        ino: cell(seq, table, "ino")?,
    })
}

pub(super) struct DirRows<'b> {
    pub(super) bases: &'b [&'b Path],
}

/// A row of the `dirs` table: the absolute directory and its modules' package.
pub(super) struct Dir {
    path: PathBuf,
    package: Option<String>,
}

impl Rows for DirRows<'_> {
    type Row = Dir;
    const NAME: &'static str = "dirs";
    const COLUMNS: &'static [&'static str] = DIR_COLUMNS;

    fn row<'de, A: SeqAccess<'de>>(&self, seq: &mut A) -> Result<Dir, A::Error> {
        let base: Option<usize> = cell(seq, Self::NAME, "base")?;
        let rel: PathBuf = cell(seq, Self::NAME, "path")?;
        let path = match base {
            None => rel,
            Some(i) => match self.bases.get(i) {
                Some(b) if rel.as_os_str().is_empty() => b.to_path_buf(),
                Some(b) => b.join(rel),
                None => {
                    return Err(A::Error::custom(format!(
                        "snapshot directory names base {i}, but there are {} roots and prefixes",
                        self.bases.len()
                    )));
                }
            },
        };
        Ok(Dir {
            path,
            package: cell(seq, Self::NAME, "package")?,
        })
    }
}

pub(super) struct SourceRows<'d> {
    pub(super) dirs: &'d [Dir],
}

impl Rows for SourceRows<'_> {
    type Row = SourceRecord;
    const NAME: &'static str = "sources";
    const COLUMNS: &'static [&'static str] = SOURCE_COLUMNS;

    fn row<'de, A: SeqAccess<'de>>(&self, seq: &mut A) -> Result<SourceRecord, A::Error> {
        let d: usize = cell(seq, Self::NAME, "dir")?;
        let name: String = cell(seq, Self::NAME, "name")?;
        let dir = dir::<A::Error>(self.dirs, d, Self::NAME)?;
        let module: Option<String> = cell(seq, Self::NAME, "module")?;
        Ok(SourceRecord {
            module: module_or_derived(module, dir, &name)?,
            path: join_exact(&dir.path, name.as_bytes()),
            is_package: cell(seq, Self::NAME, "is_package")?,
            meta: meta(seq, Self::NAME)?,
        })
    }
}

pub(super) struct CacheRows<'d> {
    /// None until the `dirs` table was read: a cache row then is out of order.
    pub(super) dirs: Option<&'d [Dir]>,
}

impl Rows for CacheRows<'_> {
    type Row = CacheRecord;
    const NAME: &'static str = "caches";
    const COLUMNS: &'static [&'static str] = CACHE_COLUMNS;

    fn row<'de, A: SeqAccess<'de>>(&self, seq: &mut A) -> Result<CacheRecord, A::Error> {
        let dirs = self.dirs.ok_or_else(|| out_of_order("caches", "dirs"))?;
        let t = Self::NAME;
        let d: usize = cell(seq, t, "dir")?;
        let name: String = cell(seq, t, "name")?;
        let source_dir: Option<usize> = cell(seq, t, "source_dir")?;
        let source_name: Option<String> = cell(seq, t, "source")?;
        let module: Option<String> = cell(seq, t, "module")?;
        let (source, module) = match source_dir {
            Some(sd) => {
                let sdir = dir::<A::Error>(dirs, sd, t)?;
                let sname = source_name.unwrap_or_else(|| usual_source_name(&name));
                let module = module_or_derived(module, sdir, &sname)?;
                (Some(join_exact(&sdir.path, sname.as_bytes())), module)
            }
            None => (None, module.unwrap_or_default()),
        };
        let path = join_exact(&dir::<A::Error>(dirs, d, t)?.path, name.as_bytes());
        let tag: Option<String> = cell(seq, t, "tag")?;
        let opt: Option<String> = cell(seq, t, "opt")?;
        let location: Location = cell(seq, t, "location")?;
        let status: Status = cell(seq, t, "status")?;
        let reason: Option<String> = cell(seq, t, "reason")?;
        let magic: Option<u16> = cell(seq, t, "magic")?;
        let python: Option<String> = cell(seq, t, "python")?;
        let invalidation: Option<Invalidation> = cell(seq, t, "invalidation")?;
        let header_size: Option<usize> = cell(seq, t, "header_size")?;
        let recorded = header_size.map(|header_size| Recorded {
            header_size,
            flags: None,
            source_mtime: None,
            source_size: None,
            source_hash: None,
        });
        let flags: Option<u32> = cell(seq, t, "flags")?;
        let source_mtime: Option<u32> = cell(seq, t, "source_mtime")?;
        let source_size: Option<u32> = cell(seq, t, "source_size")?;
        let source_hash: Option<String> = cell(seq, t, "source_hash")?;
        let outcome: crate::pyc::Outcome = cell(seq, t, "outcome")?;
        let kind = crate::scan::record::CacheKind {
            link: cell(seq, t, "link")?,
            pytest: cell(seq, t, "pytest")?,
            body_checked: cell(seq, t, "body_checked")?,
        };
        let header = match (recorded, magic, invalidation) {
            (Some(r), Some(m), Some(inv)) => Some(
                Recorded {
                    flags,
                    source_mtime,
                    source_size,
                    source_hash,
                    ..r
                }
                .to_header(m, inv),
            ),
            _ => None,
        };
        let verdict = Verdict {
            reason: reason.clone(),
            ..Verdict::new(status, String::new()).with_outcome(outcome)
        };
        Ok(CacheRecord {
            path,
            source,
            module,
            tag,
            opt,
            location,
            header,
            magic,
            python: python.as_deref().and_then(parse_version),
            invalidation,
            status,
            reason,
            verdict,
            kind,
            meta: meta(seq, t)?,
        })
    }
}

/// A row's module, or the one its directory's package and file name give (null cells).
fn module_or_derived<E: de::Error>(
    module: Option<String>,
    dir: &Dir,
    name: &str,
) -> Result<String, E> {
    match (module, &dir.package) {
        (Some(m), _) => Ok(m),
        (None, Some(package)) => Ok(module_from(package, name)),
        (None, None) => Err(E::custom(format!(
            "snapshot row for {name} has no module and its directory no package"
        ))),
    }
}

fn parse_version(s: &str) -> Option<PyVersion> {
    let (a, b) = s.split_once('.')?;
    Some(PyVersion::new(a.parse().ok()?, b.parse().ok()?))
}
