//! Reading, decoding and parsing many files on all cores. Every file gets a result:
//! unreadable, undecodable and broken files are reported, never fatal.

use super::extract::{Extracted, extract};
use super::source::decode;
use crate::pyc::magic::PyVersion;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Whether Python could compile a file, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Health {
    /// Parsed without errors.
    Ok,
    /// Syntax errors: Python cannot import the file; the imports listed are what the
    /// error-tolerant parser recovered (approximate).
    SyntaxError {
        /// How many errors.
        errors: usize,
        /// Line of the first.
        line: u32,
        /// The first error.
        message: String,
    },
    /// Python 2 source with errors for the Python 3 grammar pycache parses with: the
    /// imports are what the error-tolerant parse recovered, and they are followed.
    Approximate {
        /// How many errors.
        errors: usize,
        /// Line of the first.
        line: u32,
        /// The first error.
        message: String,
    },
    /// The file could not be read.
    Unreadable {
        /// The operating system's message.
        message: String,
    },
    /// Not decodable as Python source (binary, wrong or undeclared encoding).
    NotSource {
        /// Why.
        message: String,
    },
}

impl Health {
    /// Whether Python can run this file (so its imports happen).
    pub fn runs(&self) -> bool {
        matches!(self, Health::Ok | Health::Approximate { .. })
    }

    /// A clean parse.
    pub fn is_ok(&self) -> bool {
        matches!(self, Health::Ok)
    }

    /// What is wrong, in words (`syntax error at line 3: ...`); empty for a clean parse.
    pub fn describe(&self) -> String {
        match self {
            Health::Ok => String::new(),
            Health::SyntaxError { line, message, .. } => {
                format!("syntax error at line {line}: {message}")
            }
            Health::Approximate { line, message, .. } => {
                format!("parsed approximately (line {line}: {message})")
            }
            Health::Unreadable { message } => format!("cannot be read: {message}"),
            Health::NotSource { message } => message.clone(),
        }
    }
}

/// One file's result.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    /// Whether it parsed.
    pub health: Health,
    /// Its imports (empty when unreadable or not source).
    pub extracted: Extracted,
}

/// Reads and parses one file.
pub fn parse_file(path: &std::path::Path, target: PyVersion) -> ParsedFile {
    let bytes = match crate::fsread::read_capped(path, crate::fsread::SOURCE_CAP) {
        Ok(b) => b,
        Err(e) => {
            return ParsedFile {
                health: Health::Unreadable {
                    message: super::io_reason(&e),
                },
                extracted: Extracted::default(),
            };
        }
    };
    let text = match decode(&bytes) {
        Ok(t) => t,
        Err(e) => {
            return ParsedFile {
                health: Health::NotSource {
                    message: e.to_string(),
                },
                extracted: Extracted::default(),
            };
        }
    };
    let extracted = extract(&text, target);
    let health = match &extracted.first_error {
        None => Health::Ok,
        // ruff parses Python 3: `print "x"` is an error for it, not for Python 2.
        Some((line, message)) if target.major < 3 => Health::Approximate {
            errors: extracted.syntax_errors,
            line: *line,
            message: message.clone(),
        },
        Some((line, message)) => Health::SyntaxError {
            errors: extracted.syntax_errors,
            line: *line,
            message: message.clone(),
        },
    };
    ParsedFile { health, extracted }
}

/// Parses every path, in parallel, keeping the input order.
pub fn parse_all(paths: &[PathBuf], target: PyVersion) -> Vec<ParsedFile> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(paths.len().max(1));
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<ParsedFile>> = vec![None; paths.len()];
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                // Deeply nested generated code makes deep ASTs: give the walk room.
                std::thread::Builder::new()
                    .stack_size(256 << 20)
                    .spawn_scoped(scope, || {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(path) = paths.get(i) else {
                                return done;
                            };
                            done.push((i, parse_guarded(path, target)));
                        }
                    })
            })
            .collect();
        for worker in workers {
            // A thread that could not start leaves its files to the loop below.
            if let Ok(Ok(done)) = worker.map(|w| w.join()) {
                for (i, parsed) in done {
                    results[i] = Some(parsed);
                }
            }
        }
    });
    results
        .into_iter()
        .zip(paths)
        .map(|(r, path)| r.unwrap_or_else(|| parse_guarded(path, target)))
        .collect()
}

/// A parser bug on one file becomes that file's error instead of ending the run.
fn parse_guarded(path: &std::path::Path, target: PyVersion) -> ParsedFile {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse_file(path, target)))
        .unwrap_or_else(|_| ParsedFile {
            health: Health::Unreadable {
                message: "internal error: the parser panicked on this file (please report it)"
                    .into(),
            },
            extracted: Extracted::default(),
        })
}
