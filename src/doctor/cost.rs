//! What a missing cache costs, measured with the service's own interpreter.
//!
//! The driver (`driver.py`, run with `-E -s -S -B` from a neutral directory) reads each
//! source and times `compile()`, then times `marshal.loads` of a cache (the fresh one when
//! it exists, else one written by `py_compile` into a private temporary directory). No
//! project code runs. `--measure-import` is the opt-in that does run the application's
//! imports: `python -X importtime` with warm caches and with caches unavailable.

use super::DoctorError;
use crate::actions::child;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DRIVER: &str = include_str!("driver.py");

/// Compile and load times of one module (medians, milliseconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleCost {
    /// The source file.
    pub source: PathBuf,
    /// Reading the source and `compile()`.
    pub compile_ms: Option<f64>,
    /// Reading a cache and `marshal.loads`.
    pub load_ms: Option<f64>,
    /// The fresh cache that was loaded (None: a temporary `py_compile` output was used).
    pub cache_used: Option<PathBuf>,
    /// Why the module could not be measured (a syntax error: its import fails anyway).
    pub error: Option<String>,
}

impl ModuleCost {
    /// What a start pays for compiling instead of loading: compile minus load, never < 0.
    pub fn penalty_ms(&self) -> Option<f64> {
        Some((self.compile_ms? - self.load_ms?).max(0.0))
    }
}

/// Measures every module: `(source, fresh cache if any)`, `-O` level, repetitions.
pub fn measure(
    python: &Path,
    modules: &[(PathBuf, Option<PathBuf>)],
    optimize: u8,
    repeat: usize,
) -> Result<Vec<ModuleCost>, DoctorError> {
    #[derive(Deserialize)]
    struct Answer {
        modules: Vec<ModuleCost>,
    }
    let request = serde_json::json!({
        "repeat": repeat.max(1),
        "optimize": optimize,
        "modules": modules.iter().map(|(s, c)| serde_json::json!({"source": s, "cache": c})).collect::<Vec<_>>(),
    });
    let limit = driver_limit(modules.len(), repeat);
    let out = run_driver(python, Some(request.to_string()), limit)?;
    let answer: Answer = serde_json::from_str(&out).map_err(|e| {
        DoctorError::new(format!(
            "{} gave an unreadable measurement: {e}",
            python.display()
        ))
    })?;
    Ok(answer.modules)
}

/// How long the measuring driver may run: 10 s, plus 0.2 s per module and repetition
/// (a compile takes milliseconds; a hang must still end).
fn driver_limit(modules: usize, repeat: usize) -> Duration {
    Duration::from_secs(10)
        + Duration::from_millis(200)
            * u32::try_from(modules.saturating_mul(repeat.max(1))).unwrap_or(u32::MAX / 1000)
}

fn run_driver(
    python: &Path,
    stdin: Option<String>,
    limit: Duration,
) -> Result<String, DoctorError> {
    let fail = |why: String| {
        DoctorError::new(format!(
            "cannot run {} to measure: {why}; pass --python with a working interpreter or --no-measure",
            python.display()
        ))
    };
    // Only an interpreter nobody else can change is run (by its resolved path); from `/`,
    // because with -S and -c the current directory is first on sys.path.
    let real = crate::actions::trust::trusted_program(python).map_err(DoctorError::new)?;
    let mut cmd = Command::new(real);
    cmd.args(["-E", "-s", "-S", "-B", "-c", DRIVER])
        .current_dir("/");
    let input = stdin.unwrap_or_default();
    let out =
        child::run(&mut cmd, python, Some(input.as_bytes()), limit, 64 << 20).map_err(fail)?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("no output").to_string();
        return Err(fail(format!("the driver failed ({last})")));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `python -X importtime` totals with warm caches and with caches unavailable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportTime {
    /// The command run (without the environment).
    pub command: String,
    /// Median total import time with warm caches, ms.
    pub warm_ms: f64,
    /// Median total with `PYTHONDONTWRITEBYTECODE=1` and an empty prefix, ms.
    pub cold_ms: f64,
    /// Measured runs of each kind.
    pub runs: usize,
    /// Median self time of the project's modules (those named in `project`), warm.
    pub project_warm_ms: f64,
    /// The same with no caches.
    pub project_cold_ms: f64,
    /// Modules with the largest cold-minus-warm median self time: (name, warm ms, cold ms).
    pub slowest: Vec<(String, f64, f64)>,
}

/// One module's line of `-X importtime`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Its own import time, ms.
    pub self_ms: f64,
    /// Including what it imported, ms.
    pub cumulative_ms: f64,
    /// Imported at the top level (not by another module).
    pub top: bool,
}

/// Where the entry's imports run and as whom.
pub struct ImportRun<'a> {
    /// The service's environment.
    pub env: &'a BTreeMap<String, String>,
    /// Its working directory.
    pub cwd: &'a Path,
    /// `(uid, gid)` to run as: the service user (or the tree's owner) when pycache is root,
    /// so the application's code never runs with more rights than it has in production.
    pub run_as: Option<(u32, u32)>,
}

/// The most of `-X importtime`'s report that is read (a few hundred KiB for big apps).
const IMPORTTIME_CAP: u64 = 16 << 20;

/// Runs the entry's imports (the entry imported as a module, so its
/// `if __name__ == "__main__"` block does not run) under `-X importtime`. `project` names
/// the project's modules (dotted names) for the project share.
pub fn measure_import(
    python: &Path,
    entry: &Path,
    how: &ImportRun<'_>,
    repeat: usize,
    project: &[String],
) -> Result<ImportTime, DoctorError> {
    let dir = entry.parent().unwrap_or(Path::new("/"));
    let stem = entry
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let code = format!(
        "import sys; sys.path.insert(0, {:?}); import {stem}",
        dir.display().to_string()
    );
    let tmp = Scratch::new()?;
    let (warm_dir, cold_dir) = (tmp.path().join("warm"), tmp.path().join("cold"));
    // Only the prefix directories belong to the user the imports run as; the scratch
    // directory and the report file in it stay root's, so the application's code cannot
    // plant a link where root writes.
    for d in [&warm_dir, &cold_dir] {
        tmp.subdir(d, how.run_as)?;
    }
    let mut base = how.env.clone();
    base.remove("PYTHONDONTWRITEBYTECODE");
    let mut warm_env = base.clone();
    warm_env.insert("PYTHONPYCACHEPREFIX".into(), warm_dir.display().to_string());
    let mut cold_env = base;
    cold_env.insert("PYTHONPYCACHEPREFIX".into(), cold_dir.display().to_string());
    cold_env.insert("PYTHONDONTWRITEBYTECODE".into(), "1".into());
    let run = |env: &BTreeMap<String, String>| importtime(python, &code, env, how, tmp.path());
    run(&warm_env)?; // fills the warm prefix
    let mut warm = Vec::new();
    let mut cold = Vec::new();
    for _ in 0..repeat.max(1) {
        warm.push(run(&warm_env)?);
        cold.push(run(&cold_env)?);
    }
    let total = |runs: &[BTreeMap<String, Timing>], pick: &dyn Fn(&str, &Timing) -> Option<f64>| {
        median(
            runs.iter()
                .map(|r| r.iter().filter_map(|(n, t)| pick(n, t)).sum())
                .collect(),
        )
    };
    let top = |_: &str, t: &Timing| t.top.then_some(t.cumulative_ms);
    let mut own: Vec<String> = project.to_vec();
    own.push(stem.clone());
    let mine = |n: &str, t: &Timing| own.iter().any(|p| p == n).then_some(t.self_ms);
    let self_median = |runs: &[BTreeMap<String, Timing>], name: &str| {
        median(
            runs.iter()
                .filter_map(|r| r.get(name).map(|t| t.self_ms))
                .collect(),
        )
    };
    let mut slowest: Vec<(String, f64, f64)> = cold[0]
        .keys()
        .map(|n| (n.clone(), self_median(&warm, n), self_median(&cold, n)))
        .collect();
    slowest.sort_by(|a, b| (b.2 - b.1).total_cmp(&(a.2 - a.1)));
    slowest.truncate(5);
    Ok(ImportTime {
        command: format!("{} -X importtime -c '{code}'", python.display()),
        warm_ms: total(&warm, &top),
        cold_ms: total(&cold, &top),
        runs: repeat.max(1),
        project_warm_ms: total(&warm, &mine),
        project_cold_ms: total(&cold, &mine),
        slowest,
    })
}

/// A private temporary directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Self, DoctorError> {
        use std::os::unix::fs::DirBuilderExt;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("pycache-doctor-{}-{nanos}", std::process::id()));
        // 0711: a user the imports run as can reach its own subdirectory, nothing else.
        std::fs::DirBuilder::new()
            .mode(0o711)
            .create(&dir)
            .map_err(|e| DoctorError::new(format!("cannot create {}: {e}", dir.display())))?;
        Ok(Self(dir))
    }

    /// Creates `dir` (inside the scratch directory), owned by `owner` when given.
    fn subdir(&self, dir: &Path, owner: Option<(u32, u32)>) -> Result<(), DoctorError> {
        use std::os::unix::fs::DirBuilderExt;
        let fail =
            |e: std::io::Error| DoctorError::new(format!("cannot create {}: {e}", dir.display()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(dir)
            .map_err(fail)?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::lchown(dir, Some(uid), Some(gid)).map_err(fail)?;
        }
        Ok(())
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One `-X importtime` run: module -> timing.
fn importtime(
    python: &Path,
    code: &str,
    env: &BTreeMap<String, String>,
    how: &ImportRun<'_>,
    tmp: &Path,
) -> Result<BTreeMap<String, Timing>, DoctorError> {
    let err_path = tmp.join("stderr.txt");
    let err_file = std::fs::File::create(&err_path)
        .map_err(|e| DoctorError::new(format!("cannot create {}: {e}", err_path.display())))?;
    let real = crate::actions::trust::trusted_program(python).map_err(DoctorError::new)?;
    let mut cmd = Command::new(real);
    child::own_group(&mut cmd);
    if let Some((uid, gid)) = how.run_as {
        // std also clears the supplementary groups when root sets the uid.
        cmd.uid(uid).gid(gid);
    }
    let mut child = cmd
        .args(["-X", "importtime", "-c", code])
        .env_clear()
        .envs(env)
        .current_dir(how.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err_file)
        .spawn()
        .map_err(|e| {
            let who = how.run_as.map_or_else(String::new, |(uid, _)| {
                format!(" as {}", crate::actions::trust::owner_name(uid))
            });
            DoctorError::new(format!(
                "cannot run {}{who}: {e}; pass --python with an interpreter that user can run",
                python.display()
            ))
        })?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if started.elapsed() > Duration::from_secs(60) => {
                child::kill(&mut child);
                return Err(DoctorError::new(
                    "the entry's imports ran for 60 s (does importing it start the server?); measure without --measure-import",
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                return Err(DoctorError::new(format!(
                    "waiting for {}: {e}",
                    python.display()
                )));
            }
        }
    };
    let text = crate::fsread::read_capped(&err_path, IMPORTTIME_CAP)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| {
            DoctorError::new(format!(
                "cannot read the import times of {}: {e}",
                python.display()
            ))
        })?;
    if !status.success() {
        let last = text.lines().last().unwrap_or("no output");
        return Err(DoctorError::new(format!(
            "importing the entry failed: {last}"
        )));
    }
    Ok(parse_importtime(&text))
}

/// Parses `import time:   self |  cumulative | <indent>name` lines.
pub fn parse_importtime(text: &str) -> BTreeMap<String, Timing> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("import time:") else {
            continue;
        };
        let parts: Vec<&str> = rest.split('|').collect();
        let [own, cum, name] = parts.as_slice() else {
            continue;
        };
        let (Ok(own), Ok(cum)) = (own.trim().parse::<f64>(), cum.trim().parse::<f64>()) else {
            continue;
        };
        let name = name.strip_prefix(' ').unwrap_or(name);
        let timing = Timing {
            self_ms: own / 1000.0,
            cumulative_ms: cum / 1000.0,
            top: !name.starts_with(' '),
        };
        out.insert(name.trim().to_string(), timing);
    }
    out
}

/// The median of some values (0 for none).
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => xs[n / 2],
        _ => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn importtime_lines_parse_with_nesting() {
        let text = "import time: self [us] | cumulative | imported package\n\
                    import time:       100 |        100 |   _io\n\
                    import time:      2000 |       2100 | app\n\
                    import time:       300 |        300 |     deep\n\
                    something else\n";
        let m = parse_importtime(text);
        assert_eq!(
            (m["app"].self_ms, m["app"].cumulative_ms, m["app"].top),
            (2.0, 2.1, true)
        );
        assert!(!m["_io"].top && !m["deep"].top);
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn medians_and_penalties() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0]), 2.5);
        let c = ModuleCost {
            source: "m.py".into(),
            compile_ms: Some(1.0),
            load_ms: Some(3.0),
            cache_used: None,
            error: None,
        };
        assert_eq!(c.penalty_ms(), Some(0.0));
    }
}
