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

use super::model::{SCHEMA, ScanBatch, ScanEvent, ScanModel};
use super::record::{ScanError, ScanErrorKind};
use rows::{CacheRows, Dir, DirRows, SourceRows, TableSeed};
use serde::Deserialize;
use serde::de::{self, Error as _, IgnoredAny, MapAccess, Visitor};
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
    // A regular file only (a FIFO or device given by mistake is refused, never waited on).
    let (fd, _) = crate::fsread::open_regular(file, true).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            format!("no such file (make one with 'pycache scan DIR --json > {shown}')")
        }
        std::io::ErrorKind::IsADirectory => {
            "it is a directory; give the file that 'pycache scan --json' wrote".to_string()
        }
        _ => format!("{e}; give the file that 'pycache scan --json' wrote"),
    })?;
    load_reader(std::fs::File::from(fd))
}

const OLD_SCHEMA: &str = "old-schema";

/// How the error for another of pycache's JSON documents begins.
const NOT_A_SNAPSHOT: &str = "not a snapshot: this is";

/// What a document of this `kind` is, when it is not a snapshot (`scan`).
fn other_document(kind: &str) -> Option<String> {
    Some(match kind {
        "scan" => return None,
        "service" => {
            "the service's view ('pycache scan --json' with --unit, --python, --user...)".into()
        }
        "summary" => "a 'pycache scan --summary --json' line".into(),
        "cache" => "'pycache scan --jsonl' output".into(),
        other => format!("a {other:?} document"),
    })
}

fn explain(e: serde_json::Error) -> String {
    let text = e.to_string();
    if text.starts_with(OLD_SCHEMA) {
        format!(
            "snapshot schema 1 is not the schema {SCHEMA} this pycache reads; re-run 'pycache scan --json' with this version"
        )
    } else if text.starts_with("snapshot ") || text.starts_with(NOT_A_SNAPSHOT) {
        // Our own message is whole: serde's " at line L column C" after its advice is noise.
        let at = format!(" at line {} column {}", e.line(), e.column());
        text.strip_suffix(&at).unwrap_or(&text).to_string()
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
                // Before the schema: not a snapshot (they write it first). Another
                // document of pycache's (sorted keys: the service's view) is told by its
                // kind below, a schema-1 snapshot by its schema.
                "caches" if schema.is_none() => {
                    map.next_value::<IgnoredAny>()?;
                }
                "kind" => {
                    let kind: String = map.next_value()?;
                    if let Some(what) = other_document(&kind) {
                        return Err(A::Error::custom(format!(
                            "{NOT_A_SNAPSHOT} {what}; save a snapshot with 'pycache scan DIR --json > FILE' (without --summary, --jsonl or context flags)"
                        )));
                    }
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

mod rows;
#[cfg(test)]
mod tests;
