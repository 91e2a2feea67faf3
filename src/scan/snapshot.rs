//! Reading a saved `scan --json` document back into a model, for offline review
//! (`pycache --from snapshot.json`), like ncdu's `-o`/`-f`.
//!
//! The document is parsed as a stream, straight into records: no text copy of the file,
//! no value tree. Its tables come in the order [`super::json`] writes them (roots, then
//! directories, then the rows that point at them). Input may be gzip- or
//! zstd-compressed (recognised by its first bytes) and may come from stdin (`-`).
//!
//! A snapshot has no decoded headers (they are re-read lazily only when the file is
//! there) and its model is read-only by contract: the explorer disables every action.

use super::json::{CACHE_COLUMNS, DIR_COLUMNS, SOURCE_COLUMNS, module_from, usual_source_name};
use super::model::{SCHEMA, ScanBatch, ScanEvent, ScanModel};
use super::record::{CacheRecord, FileMeta, Recorded, ScanError, ScanErrorKind, SourceRecord};
use crate::pyc::{Invalidation, Location, PyVersion, Status, Verdict};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Most a snapshot may expand to (a compressed file could expand without end).
pub const MAX_BYTES: u64 = 16 << 30;

/// Parses a `scan --json` document. The error says what is wrong in one line.
pub fn load(json: &str) -> Result<ScanModel, String> {
    load_reader(json.as_bytes())
}

/// Parses a snapshot from a reader, plain, gzip or zstd (recognised by the first bytes).
pub fn load_reader(input: impl Read) -> Result<ScanModel, String> {
    let mut input = BufReader::with_capacity(1 << 16, input);
    let head = input.fill_buf().map_err(|e| e.to_string())?;
    let text: Box<dyn Read> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(input))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::stream::read::Decoder::with_buffer(input).map_err(|e| e.to_string())?)
    } else {
        Box::new(input)
    };
    let text = BufReader::with_capacity(1 << 16, text.take(MAX_BYTES));
    let mut de = serde_json::Deserializer::from_reader(text);
    let model = serde::Deserializer::deserialize_map(&mut de, DocVisitor).map_err(explain)?;
    de.end().map_err(explain)?;
    Ok(model)
}

/// Opens and parses a snapshot file, or stdin for `-`.
pub fn open(file: &Path) -> Result<ScanModel, String> {
    if file == Path::new("-") {
        return load_reader(std::io::stdin().lock());
    }
    let shown = super::display_path(file);
    let f = std::fs::File::open(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            format!("no such file (make one with 'pycache scan DIR --json > {shown}')")
        }
        _ => e.to_string(),
    })?;
    if f.metadata().is_ok_and(|m| m.is_dir()) {
        return Err("it is a directory; give the file that 'pycache scan --json' wrote".into());
    }
    load_reader(f)
}

const OLD_SCHEMA: &str = "old-schema";

fn explain(e: serde_json::Error) -> String {
    let text = e.to_string();
    if text.starts_with(OLD_SCHEMA) {
        format!(
            "snapshot schema 1 is not the schema {SCHEMA} this pycache reads; re-run 'pycache scan --json' with this version"
        )
    } else if text.starts_with("snapshot ") {
        text
    } else {
        format!("not a pycache scan snapshot ({e}); make one with 'pycache scan --json > FILE'")
    }
}

#[derive(Deserialize)]
struct SummaryJson {
    dirs: u64,
    files: u64,
}

#[derive(Deserialize)]
struct ErrorJson {
    path: PathBuf,
    kind: ScanErrorKind,
    message: String,
}

/// The whole document, field by field in the order it was written.
struct DocVisitor;

impl<'de> Visitor<'de> for DocVisitor {
    type Value = ScanModel;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a pycache scan snapshot (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ScanModel, A::Error> {
        let mut schema = None;
        let mut roots: Option<Vec<PathBuf>> = None;
        let mut prefix: Option<PathBuf> = None;
        let mut summary = None;
        let mut dirs: Option<Vec<Dir>> = None;
        let mut sources = Vec::new();
        let mut caches = Vec::new();
        let mut errors = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "schema" => {
                    let s: u32 = map.next_value()?;
                    if s != SCHEMA {
                        return Err(A::Error::custom(format!(
                            "snapshot schema {s} is not the schema {SCHEMA} this pycache reads; re-run 'pycache scan --json' with this version"
                        )));
                    }
                    schema = Some(s);
                }
                "roots" => roots = Some(map.next_value()?),
                "prefix" => prefix = map.next_value()?,
                "summary" => summary = Some(map.next_value::<SummaryJson>()?),
                "dirs" => {
                    let Some(roots) = &roots else {
                        return Err(out_of_order("dirs", "roots"));
                    };
                    let mut bases: Vec<&Path> = roots.iter().map(PathBuf::as_path).collect();
                    bases.extend(prefix.as_deref());
                    let mut out = Vec::new();
                    map.next_value_seed(TableSeed {
                        rows: DirRows { bases: &bases },
                        out: &mut out,
                    })?;
                    dirs = Some(out);
                }
                "sources" => {
                    let dirs = dirs
                        .as_deref()
                        .ok_or_else(|| out_of_order("sources", "dirs"))?;
                    map.next_value_seed(TableSeed {
                        rows: SourceRows { dirs },
                        out: &mut sources,
                    })?;
                }
                "caches" => map.next_value_seed(TableSeed {
                    rows: CacheRows {
                        dirs: dirs.as_deref(),
                    },
                    out: &mut caches,
                })?,
                "errors" => {
                    let list: Vec<ErrorJson> = map.next_value()?;
                    errors = list
                        .into_iter()
                        .map(|e| ScanError {
                            path: e.path,
                            kind: e.kind,
                            message: e.message,
                        })
                        .collect();
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if schema.is_none() {
            return Err(A::Error::missing_field("schema"));
        }
        let roots = roots.ok_or_else(|| A::Error::missing_field("roots"))?;
        let summary: SummaryJson = summary.ok_or_else(|| A::Error::missing_field("summary"))?;
        if dirs.is_none() {
            return Err(A::Error::missing_field("dirs"));
        }
        let mut model = ScanModel::new(roots, prefix);
        model.apply(ScanEvent::Batch(Box::new(ScanBatch {
            sources,
            caches,
            errors,
            dirs_seen: summary.dirs,
            files_seen: summary.files,
        })));
        model.apply(ScanEvent::Finished);
        Ok(model)
    }
}

fn out_of_order<E: de::Error>(table: &str, before: &str) -> E {
    E::custom(format!(
        "snapshot fields out of order: '{before}' must come before '{table}' (as 'pycache scan --json' writes them; was the document re-sorted?)"
    ))
}

/// How to read one table's rows.
trait Rows {
    type Row;
    const NAME: &'static str;
    const COLUMNS: &'static [&'static str];
    /// Reads one row's cells, in column order.
    fn row<'de, A: SeqAccess<'de>>(&self, seq: &mut A) -> Result<Self::Row, A::Error>;
}

/// A `{"columns": [...], "rows": [...]}` table, its rows appended to `out`.
struct TableSeed<'o, R: Rows> {
    rows: R,
    out: &'o mut Vec<R::Row>,
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

struct DirRows<'b> {
    bases: &'b [&'b Path],
}

/// A row of the `dirs` table: the absolute directory and its modules' package.
struct Dir {
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

struct SourceRows<'d> {
    dirs: &'d [Dir],
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
            path: dir.path.join(name),
            is_package: cell(seq, Self::NAME, "is_package")?,
            meta: meta(seq, Self::NAME)?,
        })
    }
}

struct CacheRows<'d> {
    /// None until the `dirs` table was read: a cache row then is out of order.
    dirs: Option<&'d [Dir]>,
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
                (Some(sdir.path.join(sname)), module)
            }
            None => (None, module.unwrap_or_default()),
        };
        let path = dir::<A::Error>(dirs, d, t)?.path.join(name);
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
        let mut verdict = Verdict::new(status, reason.clone().unwrap_or_default());
        verdict.reason = reason.clone();
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

#[cfg(test)]
mod tests;
