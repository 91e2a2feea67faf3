//! Several snapshots opened together, one tree per host (`pycache scan --from a.json
//! --from b.json.gz`): each snapshot's model with where and when it was made (its `host`
//! and `time` header), read from a file or once from stdin, plain, gzip or zstd.

use crate::scan::ScanModel;
use crate::scan::json::Origin;
use crate::scan::snapshot;
use std::io::Read;
use std::path::{Path, PathBuf};

/// How much of a snapshot's (decompressed) start is searched for its header: `host` and
/// `time` come right after `schema`, `kind` and `pycache`.
const HEADER_BYTES: usize = 64 << 10;

/// One host's snapshot.
#[derive(Debug)]
pub struct HostSnapshot {
    /// The file it was read from (`-` for stdin).
    pub file: PathBuf,
    /// Where and when it was made (empty strings when the document does not say).
    pub origin: Origin,
    /// The scan.
    pub model: ScanModel,
}

impl HostSnapshot {
    /// The host's name, or the file's when the snapshot names none.
    pub fn name(&self) -> String {
        if self.origin.host.is_empty() {
            crate::text::display_path(&self.file)
        } else {
            self.origin.host.clone()
        }
    }
}

/// Opens every snapshot; an error names the file. Stdin (`-`) may be given once.
pub fn open_all(files: &[PathBuf]) -> Result<Vec<HostSnapshot>, String> {
    if files.iter().filter(|f| f.as_os_str() == "-").count() > 1 {
        return Err("stdin ('-') can be read once; give it as one --from only".into());
    }
    files.iter().map(|f| open_one(f)).collect()
}

fn open_one(file: &Path) -> Result<HostSnapshot, String> {
    let shown = crate::text::display_path(file);
    let fail = |e: String| format!("cannot read the snapshot {shown}: {e}");
    let (origin, model) = if file == Path::new("-") {
        // Stdin cannot be read twice: keep it (capped as the loader caps it).
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(snapshot::MAX_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| fail(e.to_string()))?;
        (
            origin_of(bytes.as_slice()),
            snapshot::load_reader(bytes.as_slice()).map_err(fail)?,
        )
    } else {
        let model = snapshot::open(file).map_err(fail)?;
        let origin = match crate::fsread::open_regular(file, true) {
            Ok((fd, _)) => origin_of(std::fs::File::from(fd)),
            Err(_) => Origin {
                host: String::new(),
                time: String::new(),
            },
        };
        (origin, model)
    };
    Ok(HostSnapshot {
        file: file.to_path_buf(),
        origin,
        model,
    })
}

/// The `host` and `time` of a snapshot, from the start of its text (empty when absent).
pub fn origin_of<'a>(input: impl Read + 'a) -> Origin {
    let mut head = Vec::new();
    let _ = decompressed(input)
        .take(HEADER_BYTES as u64)
        .read_to_end(&mut head);
    let text = String::from_utf8_lossy(&head);
    // Only the header, before the first table: a path named "host" further on is data.
    let header = text.split("\"roots\":").next().unwrap_or("");
    let field = |key: &str| -> String {
        header
            .split_once(&format!("\"{key}\":"))
            .and_then(|(_, rest)| {
                let mut de = serde_json::Deserializer::from_str(rest.trim_start());
                serde::Deserialize::deserialize(&mut de).ok()
            })
            .unwrap_or_default()
    };
    Origin {
        host: field("host"),
        time: field("time"),
    }
}

/// The text of a plain, gzip or zstd stream (recognised by its first bytes).
fn decompressed<'a>(input: impl Read + 'a) -> Box<dyn Read + 'a> {
    let mut input = std::io::BufReader::new(input);
    let head = std::io::BufRead::fill_buf(&mut input)
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(input))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        match zstd::stream::read::Decoder::with_buffer(input) {
            Ok(d) => Box::new(d),
            Err(_) => Box::new(std::io::empty()),
        }
    } else {
        Box::new(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_is_read_plain_and_compressed() {
        let doc = br#"{"schema":2,"kind":"scan","pycache":"0.1.0","host":"web\"1","time":"2026-12-04T19:00:00Z","roots":["/host"],"x":{"host":"no"}}"#;
        let want = Origin {
            host: "web\"1".into(),
            time: "2026-12-04T19:00:00Z".into(),
        };
        assert_eq!(origin_of(&doc[..]), want);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, doc).unwrap();
        assert_eq!(origin_of(gz.finish().unwrap().as_slice()), want);
        let zst = zstd::encode_all(&doc[..], 1).unwrap();
        assert_eq!(origin_of(zst.as_slice()), want);
        let none = origin_of(&br#"{"schema":2,"roots":[],"host":"late"}"#[..]);
        assert_eq!(none.host, "");
    }
}
