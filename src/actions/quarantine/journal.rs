//! The quarantine manifest as a journal: one JSON object per line, each written with one
//! `write` to a file opened `O_APPEND|O_NOFOLLOW`.
//!
//! A run starts with a `run` line naming the roots it may move files out of (and their
//! device and inode, so a root swapped for another directory is noticed). Each file gets
//! an `intent` line, synced to disk before the file moves, and a `done` line after; a move
//! that failed gets `abandoned`. A crash at any point leaves a manifest that says where
//! every file in `files/` came from. A write that comes up short (a full disk) is cut back
//! to the last whole line, so a torn line can only come from a power cut, and a reader
//! reports such a line without losing the others.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;

/// One manifest line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub(super) enum Record {
    /// A run of `clean --quarantine` begins.
    Run(RunHeader),
    /// A file is about to be moved into `files/`.
    Intent(Intent),
    /// The file of that intent is in `files/`.
    Done {
        /// Name under `files/`.
        file: String,
    },
    /// The move of that intent failed: the file stayed where it was.
    Abandoned {
        /// Name under `files/`.
        file: String,
    },
}

/// The roots one run may move files out of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct RunHeader {
    /// Run id (the prefix of its file names).
    pub run: String,
    /// Root paths, for people.
    pub roots: Vec<String>,
    /// Root path bytes in hex (exact).
    pub roots_hex: Vec<String>,
    /// `(device, inode)` of each root when the run started.
    pub root_ids: Vec<(u64, u64)>,
}

/// One file to quarantine: where it came from and what it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Intent {
    /// The run it belongs to.
    pub run: String,
    /// Name under `DIR/files/`.
    pub file: String,
    /// Original path (escaped text, for people).
    pub path: String,
    /// Original path bytes in hex (exact, for restoring).
    pub path_hex: String,
    /// The scanned identity: size, mtime, device, inode.
    pub size: u64,
    pub mtime: i64,
    pub dev: u64,
    pub ino: u64,
}

/// The manifest, open for appending.
pub(super) struct Journal {
    file: File,
    /// Set once a line could not be written: nothing more is moved.
    broken: Option<String>,
}

impl Journal {
    /// Wraps an open manifest (`O_RDWR|O_APPEND`). A last line without its newline (a power cut
    /// mid-write) is closed off first, so the next line is not glued to it.
    pub fn new(file: File) -> std::io::Result<Self> {
        let len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.read_exact_at(&mut last, len - 1)?;
            if last[0] != b'\n' {
                (&file).write_all(b"\n")?;
            }
        }
        Ok(Self { file, broken: None })
    }

    /// Appends records, one line each, with one `write`; `sync` waits until they are on
    /// disk. A short or failed write is cut back to the previous length and ends the journal.
    pub fn append_all(&mut self, records: &[Record], sync: bool) -> Result<(), String> {
        if let Some(why) = &self.broken {
            return Err(why.clone());
        }
        let mut line = Vec::new();
        for record in records {
            serde_json::to_writer(&mut line, record).map_err(|e| e.to_string())?;
            line.push(b'\n');
        }
        let result = self.write_line(&line, sync);
        if let Err(e) = &result {
            self.broken = Some(format!(
                "cannot write the quarantine manifest ({e}): nothing more is moved; free some space and run again"
            ));
            return Err(self.broken.clone().unwrap_or_default());
        }
        Ok(())
    }

    fn write_line(&mut self, line: &[u8], sync: bool) -> std::io::Result<()> {
        let before = self.file.metadata()?.len();
        let written = match (&self.file).write(line) {
            Ok(n) if n == line.len() => Ok(()),
            Ok(n) => Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                format!("only {n} of {} bytes written", line.len()),
            )),
            Err(e) => Err(e),
        };
        if written.is_err() {
            // Never leave half a line: cut back to the last whole one.
            let _ = self.file.set_len(before);
            return written;
        }
        if sync {
            self.file.sync_data()?;
        }
        Ok(())
    }
}

/// A parsed manifest: records with their line numbers, and the lines that are not records.
#[derive(Debug, Default)]
pub(super) struct Parsed {
    pub records: Vec<(usize, Record)>,
    /// `(line number, text, torn)`: `torn` when it is the last line and has no newline.
    pub bad: Vec<(usize, String, bool)>,
}

/// Parses manifest bytes; blank lines are ignored.
pub(super) fn parse(bytes: &[u8]) -> Parsed {
    let mut out = Parsed::default();
    let ends_whole = bytes.last().is_none_or(|b| *b == b'\n');
    let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    let last = lines.len().saturating_sub(1);
    for (i, line) in lines.iter().enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Record>(line) {
            Ok(r) => out.records.push((i + 1, r)),
            Err(_) => out.bad.push((
                i + 1,
                String::from_utf8_lossy(line).into_owned(),
                i == last && !ends_whole,
            )),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(n: u32) -> Record {
        Record::Done {
            file: format!("f{n}"),
        }
    }

    #[test]
    fn a_torn_last_line_is_closed_off_and_reported_alone() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("m");
        let whole = serde_json::to_string(&done(1)).unwrap();
        std::fs::write(&p, format!("{whole}\n{{\"kind\":\"int")).unwrap();
        let f = std::fs::OpenOptions::new()
            .read(true)
            .append(true)
            .open(&p)
            .unwrap();
        let mut j = Journal::new(f).unwrap();
        j.append_all(&[done(2)], true).unwrap();
        let parsed = parse(&std::fs::read(&p).unwrap());
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.bad.len(), 1);
        assert_eq!(parsed.bad[0].0, 2);
        let torn = parse(format!("{whole}\n{{\"kind\":\"int").as_bytes());
        assert!(torn.bad[0].2, "{:?}", torn.bad);
    }

    #[test]
    fn a_failed_write_leaves_no_partial_line_and_ends_the_journal() {
        let f = std::fs::OpenOptions::new()
            .append(true)
            .open("/dev/full")
            .unwrap();
        let mut j = Journal {
            file: f,
            broken: None,
        };
        let e = j.append_all(&[done(1)], true).unwrap_err();
        assert!(e.contains("nothing more is moved"), "{e}");
        assert_eq!(j.append_all(&[done(2)], false).unwrap_err(), e);
    }
}
