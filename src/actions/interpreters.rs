//! Finding Python interpreters and asking each, once, what it writes.
//!
//! Candidates come from `--python`, the project's virtualenvs, `PATH`, pyenv and
//! `/usr/bin`. Listing them runs nothing; probing runs each once (`-c` a tiny script that
//! prints its version, cache tag, magic and `sys.pycache_prefix` as JSON). Probing can be
//! limited to the versions a plan needs, so a no-op recompile starts no interpreter at all.

use super::child;
use super::trust::trusted_program;
mod describe;

pub use describe::describe;

use crate::pyc::PyVersion;
use crate::scan::record::{display_path, ser_opt_path, ser_path};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Where an interpreter was found (also its priority: earlier wins for a tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Named with `--python`.
    Flag,
    /// A virtualenv inside the scanned tree.
    Venv,
    /// On `PATH`.
    Path,
    /// Under pyenv's versions directory.
    Pyenv,
    /// In `/usr/bin`.
    System,
}

/// A probed interpreter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interpreter {
    /// The path it was found at.
    #[serde(serialize_with = "ser_path")]
    pub path: PathBuf,
    /// Where it was found.
    pub origin: Origin,
    /// Full version (`3.13.0`).
    pub version: String,
    /// Language version.
    pub python: PyVersion,
    /// `sys.implementation.name` (`cpython`, `pypy`).
    pub implementation: String,
    /// `sys.implementation.cache_tag`; None for Python 2.
    pub tag: Option<String>,
    /// The magic number it writes.
    pub magic: u16,
    /// `sys.pycache_prefix` as the interpreter sees it here.
    #[serde(serialize_with = "ser_opt_path")]
    pub pycache_prefix: Option<PathBuf>,
    /// Not run: described from its virtualenv's `pyvenv.cfg` (planning only).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub described: bool,
}

impl Interpreter {
    /// The key caches are matched on: the cache tag, or `cpython-27` for Python 2 (as the
    /// scan names legacy Python 2 files).
    pub fn key(&self) -> String {
        self.tag.clone().unwrap_or_else(|| {
            format!(
                "{}-{}{}",
                self.implementation, self.python.major, self.python.minor
            )
        })
    }

    /// True when py_compile takes an invalidation mode (3.7+).
    pub fn has_invalidation_modes(&self) -> bool {
        self.python >= PyVersion::new(3, 7)
    }
}

/// A candidate path and the version its name suggests.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Candidate {
    path: PathBuf,
    origin: Origin,
    guess: Option<PyVersion>,
}

/// The interpreters found (probed) and the candidates not probed yet.
#[derive(Debug, Clone, Default)]
pub struct Interpreters {
    candidates: Vec<Candidate>,
    /// Probed interpreters, best first for each tag.
    pub found: Vec<Interpreter>,
    /// Candidates that failed to answer, with why.
    pub problems: Vec<String>,
    /// Planning only: the scanned roots, whose interpreters (and virtualenvs') are
    /// described from `pyvenv.cfg` instead of run.
    planning: Option<Vec<PathBuf>>,
}

const PROBE: &str = r#"import sys, json
try:
    import importlib.util as u
    m = bytearray(u.MAGIC_NUMBER)
except Exception:
    import imp
    m = bytearray(imp.get_magic())
impl = getattr(sys, "implementation", None)
print(json.dumps({"version": "%d.%d.%d" % tuple(sys.version_info[:3]),
  "major": sys.version_info[0], "minor": sys.version_info[1],
  "impl": impl.name if impl else "cpython", "tag": impl.cache_tag if impl else None,
  "magic": m[0] | (m[1] << 8), "prefix": getattr(sys, "pycache_prefix", None)}))
"#;

#[derive(Deserialize)]
struct ProbeAnswer {
    version: String,
    major: u8,
    minor: u8,
    #[serde(rename = "impl")]
    implementation: String,
    tag: Option<String>,
    magic: u16,
    prefix: Option<String>,
}

/// How long an interpreter may take to answer the probe.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs the probe script with one interpreter, if [`trusted_program`] allows running it
/// (the resolved path is run, from `/`, with `-E -s -S -B`: nothing from the environment,
/// the current directory or site-packages is imported).
pub fn probe(path: &Path, origin: Origin) -> Result<Interpreter, String> {
    let real = trusted_program(path)?;
    let mut cmd = Command::new(&real);
    cmd.args(["-E", "-s", "-S", "-B", "-c", PROBE])
        .current_dir("/");
    let out = child::run(&mut cmd, path, None, PROBE_TIMEOUT, 64 * 1024)
        .map_err(|e| format!("{e} (the version probe)"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let a: ProbeAnswer = serde_json::from_str(text.trim()).map_err(|_| {
        format!(
            "{}: did not answer like a Python interpreter ({})",
            display_path(path),
            out.status
        )
    })?;
    Ok(Interpreter {
        path: path.to_path_buf(),
        origin,
        version: a.version,
        python: PyVersion::new(a.major, a.minor),
        implementation: a.implementation,
        tag: a.tag,
        magic: a.magic,
        pycache_prefix: a.prefix.filter(|p| !p.is_empty()).map(PathBuf::from),
        described: false,
    })
}

impl Interpreters {
    /// Lists candidates without running anything: `explicit` first, then virtualenvs,
    /// `PATH`, pyenv and `/usr/bin`. With explicit interpreters only those are used.
    pub fn discover(explicit: &[PathBuf], venvs: &[PathBuf]) -> Self {
        let mut list = Vec::new();
        if !explicit.is_empty() {
            list.extend(explicit.iter().map(|p| Candidate {
                path: p.clone(),
                origin: Origin::Flag,
                guess: None,
            }));
            return Self::from_candidates(list);
        }
        for v in venvs {
            for name in ["bin/python3", "bin/python"] {
                let p = v.join(name);
                if p.exists() {
                    list.push(Candidate {
                        guess: None,
                        path: p,
                        origin: Origin::Venv,
                    });
                    break;
                }
            }
        }
        for dir in std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .unwrap_or_default()
        {
            // pyenv shims are shell scripts in front of the versions listed below.
            if dir.ends_with("shims") {
                continue;
            }
            list.extend(pythons_in(&dir, Origin::Path));
        }
        let pyenv = std::env::var_os("PYENV_ROOT")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")));
        if let Some(root) = pyenv
            && let Ok(rd) = std::fs::read_dir(root.join("versions"))
        {
            let mut dirs: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
            dirs.sort();
            for d in dirs {
                let guess = d
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(version_in_name);
                for name in ["bin/python", "bin/python3"] {
                    let p = d.join(name);
                    if p.exists() {
                        list.push(Candidate {
                            path: p,
                            origin: Origin::Pyenv,
                            guess,
                        });
                        break;
                    }
                }
            }
        }
        list.extend(pythons_in(Path::new("/usr/bin"), Origin::System));
        Self::from_candidates(list)
    }

    /// Interpreters already probed (tests, or a caller that probed itself).
    pub fn from_found(found: Vec<Interpreter>) -> Self {
        Self {
            candidates: Vec::new(),
            found,
            problems: Vec::new(),
            planning: None,
        }
    }

    /// For planning only (dry runs, the explorer's plan, `doctor --no-measure`): the
    /// interpreters of virtualenvs and any candidate under one of `roots` are described
    /// from `pyvenv.cfg`, never run; the others are probed (if trusted).
    pub fn planning_only(mut self, roots: &[PathBuf]) -> Self {
        self.planning = Some(roots.to_vec());
        self
    }

    fn in_tree(&self, c: &Candidate) -> bool {
        let Some(roots) = &self.planning else {
            return false;
        };
        let real = std::fs::canonicalize(&c.path).unwrap_or_else(|_| c.path.clone());
        c.origin == Origin::Venv
            || roots
                .iter()
                .any(|r| c.path.starts_with(r) || real.starts_with(r))
    }

    fn from_candidates(list: Vec<Candidate>) -> Self {
        // One candidate per real executable: the first keeps its place (priority), and takes
        // the version a later name suggests (a venv's `python` links to `python3.12`).
        let mut at: HashMap<PathBuf, usize> = HashMap::new();
        let mut candidates: Vec<Candidate> = Vec::new();
        for c in list {
            let real = std::fs::canonicalize(&c.path).unwrap_or_else(|_| c.path.clone());
            match at.get(&real) {
                Some(&i) => {
                    let first = &mut candidates[i];
                    first.guess = first.guess.or(c.guess);
                }
                None => {
                    at.insert(real, candidates.len());
                    candidates.push(c);
                }
            }
        }
        Self {
            candidates,
            found: Vec::new(),
            problems: Vec::new(),
            planning: None,
        }
    }

    /// Probes every candidate (in parallel).
    pub fn probe_all(&mut self) {
        self.probe_where(|_| true);
    }

    /// Probes the candidates that may write one of these keys (`cpython-312`, `cpython-27`):
    /// first those whose name suggests a wanted version, then, for keys still without an
    /// interpreter, those whose name says nothing (`python3`, a venv's `python`).
    pub fn probe_for(&mut self, keys: &BTreeSet<String>) {
        let wanted: Vec<PyVersion> = keys.iter().filter_map(|k| version_of_key(k)).collect();
        self.probe_where(|c| c.guess.is_some_and(|g| wanted.contains(&g)));
        if keys.iter().any(|k| self.for_key(k).is_none()) {
            self.probe_where(|c| c.guess.is_none());
        }
    }

    fn probe_where(&mut self, pick: impl Fn(&Candidate) -> bool) {
        let (now, later): (Vec<Candidate>, Vec<Candidate>) = std::mem::take(&mut self.candidates)
            .into_iter()
            .partition(|c| pick(c));
        self.candidates = later;
        let tree: Vec<bool> = now.iter().map(|c| self.in_tree(c)).collect();
        let results: Vec<(Origin, Result<Interpreter, String>)> = std::thread::scope(|s| {
            let handles: Vec<_> = now
                .iter()
                .zip(&tree)
                .map(|(c, &tree)| {
                    (
                        c.origin,
                        s.spawn(move || {
                            if tree {
                                describe(&c.path, c.origin)
                            } else {
                                probe(&c.path, c.origin)
                            }
                        }),
                    )
                })
                .collect();
            handles
                .into_iter()
                .map(|(o, h)| {
                    (
                        o,
                        h.join()
                            .unwrap_or_else(|_| Err("probe thread panicked".into())),
                    )
                })
                .collect()
        });
        for (_, r) in results {
            match r {
                Ok(i) => {
                    let dup = self.found.iter().any(|f| {
                        f.key() == i.key()
                            && f.magic == i.magic
                            && f.version == i.version
                            && f.implementation == i.implementation
                    });
                    if !dup {
                        self.found.push(i);
                    }
                }
                Err(e) => self.problems.push(e),
            }
        }
        self.found.sort_by_key(|i| i.origin);
    }

    /// The interpreter that writes caches with this key, best first.
    pub fn for_key(&self, key: &str) -> Option<&Interpreter> {
        self.found.iter().find(|i| i.key() == key)
    }

    /// The newest CPython 3 found.
    pub fn newest(&self) -> Option<&Interpreter> {
        self.found
            .iter()
            .filter(|i| i.tag.is_some())
            .max_by_key(|i| i.python)
    }

    /// `cpython-313 (/path), cpython-312 (/path)`, or `none` — for skip messages.
    pub fn describe(&self) -> String {
        if self.found.is_empty() {
            return "none".into();
        }
        let mut keys = BTreeSet::new();
        self.found
            .iter()
            .filter(|i| keys.insert(i.key()))
            .map(|i| format!("{} ({})", i.key(), display_path(&i.path)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `pythonX.Y`-like executables in a directory.
fn pythons_in(dir: &Path, origin: Origin) -> Vec<Candidate> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<Candidate> = rd
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let rest = name
                .strip_prefix("python")
                .or_else(|| name.strip_prefix("pypy"))?;
            let plain = rest.is_empty() || rest.chars().all(|c| c.is_ascii_digit() || c == '.');
            plain.then(|| Candidate {
                path: e.path(),
                origin,
                guess: version_in_name(rest),
            })
        })
        .collect();
    out.sort_by(|a, b| b.guess.cmp(&a.guess).then(a.path.cmp(&b.path)));
    out
}

/// `3.12` in `3.12`, `3.12.1`, `python3.12`; None for `3` or ``.
fn version_in_name(text: &str) -> Option<PyVersion> {
    let digits = text.trim_start_matches(|c: char| !c.is_ascii_digit());
    let mut parts = digits.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some(PyVersion::new(major, minor))
}

/// The version a key names: `cpython-312` → 3.12, `pypy39` → 3.9, `cpython-27` → 2.7.
pub fn version_of_key(key: &str) -> Option<PyVersion> {
    if let Some(v) = key.strip_prefix("python") {
        return version_in_name(v);
    }
    let digits: String = key.chars().skip_while(|c| !c.is_ascii_digit()).collect();
    let (major, minor) = digits.split_at_checked(1)?;
    Some(PyVersion::new(major.parse().ok()?, minor.parse().ok()?))
}

/// Virtualenvs among these directories (those holding a `pyvenv.cfg`).
pub fn venvs_under(dirs: impl IntoIterator<Item = PathBuf>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = dirs
        .into_iter()
        .filter(|d| d.join("pyvenv.cfg").is_file())
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests;
