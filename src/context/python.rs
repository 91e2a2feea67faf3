//! The interpreter a service runs, as far as caches are concerned ([`Python`]), and the
//! `--python PATH|VERSION` argument every subcommand shares ([`PythonSpec`]).

use crate::pyc::PyVersion;
use serde::Serialize;
use std::path::PathBuf;

/// The interpreter the service runs, as far as caches are concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Python {
    /// Its path.
    pub path: PathBuf,
    /// Full version (`3.13.0`).
    pub version: String,
    /// Language version.
    pub python: PyVersion,
    /// `sys.implementation.name` (`cpython`, `pypy`).
    pub implementation: String,
    /// Cache tag; None for Python 2 (caches beside the source).
    pub tag: Option<String>,
    /// The magic number it writes and accepts.
    pub magic: u16,
    /// How it was chosen.
    pub from: String,
}

impl Python {
    /// `PYTHONPYCACHEPREFIX` exists from 3.8.
    pub fn supports_prefix(&self) -> bool {
        self.python >= PyVersion::new(3, 8)
    }

    /// The key the scan files its caches under: the tag, or `cpython-27` for Python 2.
    pub fn key(&self) -> String {
        self.tag.clone().unwrap_or_else(|| {
            format!(
                "{}-{}{}",
                self.implementation, self.python.major, self.python.minor
            )
        })
    }

    /// Described from its program name alone (`python3.13`): CPython of that version, its
    /// final magic number. For an interpreter that is not on this machine (a unit written
    /// for a server, the demo's unit).
    pub fn from_name(path: &std::path::Path, from: &str) -> Option<Python> {
        let name = path.file_name()?.to_str()?;
        let version = name.strip_prefix("python")?;
        let version = crate::imports::venv::parse_version(
            version.trim_end_matches(|c: char| c.is_ascii_alphabetic()),
        )?;
        let magic =
            crate::pyc::magic::final_magic(crate::pyc::magic::Implementation::CPython, version)?;
        let tag =
            (version.major >= 3).then(|| format!("cpython-{}{}", version.major, version.minor));
        Some(Python {
            path: path.to_path_buf(),
            version: version.to_string(),
            python: version,
            implementation: "cpython".into(),
            tag,
            magic,
            from: from.to_string(),
        })
    }
}

/// `--python PATH|VERSION`: an interpreter's path (or a bare name found on `PATH`, as a
/// service would), or a language version (`3.13`) resolved to an installed interpreter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PythonSpec {
    /// A path, or a command name such as `python3.13`.
    Path(PathBuf),
    /// `MAJOR.MINOR`.
    Version(PyVersion),
}

impl PythonSpec {
    /// Parses the argument: `MAJOR.MINOR` is a version, anything else a path or a command
    /// name.
    pub fn parse(text: &str) -> Result<PythonSpec, String> {
        if text.is_empty() {
            return Err(
                "an empty --python: give a path (/usr/bin/python3) or a version (3.13)".into(),
            );
        }
        let looks_numeric = text.chars().all(|c| c.is_ascii_digit() || c == '.');
        if !looks_numeric {
            return Ok(PythonSpec::Path(PathBuf::from(text)));
        }
        match crate::imports::venv::parse_version(text) {
            Some(v) if text.matches('.').count() == 1 => Ok(PythonSpec::Version(v)),
            _ => Err(format!(
                "{text:?} is neither a version like 3.13 nor a path to an interpreter"
            )),
        }
    }
}

/// The language version `spec` names: the version itself, or what the interpreter at the
/// path answers (it is run only when [`crate::actions::trust`] allows; a virtualenv's
/// interpreter that it refuses is described from its `pyvenv.cfg`).
pub fn version_of(spec: &PythonSpec) -> Result<PyVersion, String> {
    use crate::actions::interpreters::{Origin, describe, probe};
    let p = match spec {
        PythonSpec::Version(v) => return Ok(*v),
        PythonSpec::Path(p) => on_path(p),
    };
    if !p.exists() {
        return Err(format!(
            "--python {}: no such file; give the interpreter's path or a version like 3.13",
            crate::text::display_path(&p)
        ));
    }
    probe(&p, Origin::Flag)
        .or_else(|refused| describe(&p, Origin::Flag).map_err(|_| refused))
        .map(|i| i.python)
        .map_err(|e| format!("--python {e}; give another interpreter, or a version like 3.13"))
}

/// The installed interpreter of version `v` (the newest patch release found), for
/// subcommands that run it (`recompile --python 3.13`).
pub fn installed(v: PyVersion) -> Result<PathBuf, String> {
    let mut all = crate::actions::interpreters::Interpreters::discover(&[], &[]);
    all.probe_all();
    all.found
        .into_iter()
        .filter(|i| i.python == v)
        .max_by_key(|i| patch_of(&i.version))
        .map(|i| i.path)
        .ok_or_else(|| {
            format!(
                "--python {v}: no installed Python {v} was found; install it, or pass --python PATH"
            )
        })
}

/// The patch number of a full version (`3.13.2` -> 2).
pub fn patch_of(version: &str) -> u32 {
    version
        .split('.')
        .nth(2)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

/// A bare command name looked up on `PATH`, as a shell would; other paths as they are.
pub fn on_path(p: &std::path::Path) -> PathBuf {
    match p.to_str().filter(|s| !s.contains('/')) {
        Some(name) => {
            let path = std::env::var("PATH")
                .unwrap_or_else(|_| crate::doctor::command::DEFAULT_PATH.into());
            crate::doctor::command::which(name, &path).unwrap_or_else(|| p.to_path_buf())
        }
        None => p.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_or_a_path() {
        assert_eq!(
            PythonSpec::parse("3.13"),
            Ok(PythonSpec::Version(PyVersion::new(3, 13)))
        );
        assert_eq!(
            PythonSpec::parse("/usr/bin/python3"),
            Ok(PythonSpec::Path("/usr/bin/python3".into()))
        );
        assert_eq!(
            PythonSpec::parse("python3.12"),
            Ok(PythonSpec::Path("python3.12".into()))
        );
        assert!(PythonSpec::parse("3").is_err());
        assert!(PythonSpec::parse("3.13.1").is_err());
        assert!(PythonSpec::parse("").is_err());
    }

    #[test]
    fn an_absent_interpreter_is_described_by_its_name() {
        let p = Python::from_name(std::path::Path::new("/usr/bin/python3.13"), "test").unwrap();
        assert_eq!(p.tag.as_deref(), Some("cpython-313"));
        assert_eq!(p.magic, 3571);
        assert!(Python::from_name(std::path::Path::new("/usr/bin/python3"), "t").is_none());
    }
}
