//! Metrics for monitoring: the Prometheus text exposition format (0.0.4), as
//! node_exporter's textfile collector reads it (`--metrics FILE` on `scan` and `doctor`).
//!
//! Every series is a gauge (a scan is a snapshot, not a running count) and carries the
//! label that says which run made it (`roots` for a scan, `root` for a diagnosis), so two
//! runs writing two files into one collector directory never clash. No sample carries a
//! timestamp: the collector refuses them; the run's time is its own gauge.
//!
//! The file is replaced atomically (a new temporary file in the same directory, then a
//! rename), so the collector never reads half a file.

use crate::doctor::Report;
use crate::doctor::targets::Outcome;
use crate::pyc::Status;
use crate::scan::ScanModel;
use crate::text::path_text;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Metric families in the order they were added, each with its samples.
#[derive(Debug, Default)]
pub struct Metrics {
    text: String,
}

impl Metrics {
    /// Starts a gauge family: its `# HELP` and `# TYPE` lines.
    pub fn gauge(&mut self, name: &str, help: &str) -> &mut Self {
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} gauge");
        self
    }

    /// One sample of the family last started: `name{labels} value`.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) -> &mut Self {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{k}=\"{}\"", escape_label(v));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {}", number(value));
        self
    }

    /// The document.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// A sample value: integers without a fraction, never `-0`.
fn number(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// Label values escape backslash, double quote and newline (the format's only escapes).
fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Help text escapes backslash and newline.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Seconds since the epoch, with a fraction.
fn unix_seconds(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// How a run went, for the gauges every metrics file carries.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    /// How long it took.
    pub duration: Duration,
    /// True when the whole tree was seen (the run did not exit 2).
    pub complete: bool,
    /// When it ended.
    pub at: SystemTime,
}

/// The scan's metrics: caches and bytes by verdict and interpreter tag, problems,
/// sources, directories and files walked, unread parts, and the run's duration, success
/// and time. `unread` is the number of parts of the tree that could not be read. With the
/// service's view (a scan under a runtime context), also its imported modules by what the
/// next start does, and those compiling at every start.
pub fn scan_metrics(
    model: &ScanModel,
    run: Run,
    unread: usize,
    view: Option<&crate::context::ServiceView>,
) -> Metrics {
    let mut bases: Vec<String> = model.roots.iter().map(|r| path_text(r)).collect();
    bases.extend(model.prefix.as_deref().map(path_text));
    let roots = bases.join(",");
    let run_label = [("roots", roots.as_str())];
    let mut m = Metrics::default();
    let cells = &model.summary.cells;
    m.gauge(
        "pycache_caches",
        "Bytecode caches by CPython's verdict and interpreter tag.",
    );
    for ((status, tag), t) in cells {
        let labels = [
            ("roots", roots.as_str()),
            ("status", status.as_str()),
            ("tag", tag),
        ];
        m.sample("pycache_caches", &labels, t.count as f64);
    }
    m.gauge(
        "pycache_cache_bytes",
        "Apparent size of the caches, by verdict and tag.",
    );
    for ((status, tag), t) in cells {
        let labels = [
            ("roots", roots.as_str()),
            ("status", status.as_str()),
            ("tag", tag),
        ];
        m.sample("pycache_cache_bytes", &labels, t.bytes as f64);
    }
    m.gauge(
        "pycache_cache_disk_bytes",
        "Disk usage of the caches, by verdict and tag.",
    );
    for ((status, tag), t) in cells {
        let labels = [
            ("roots", roots.as_str()),
            ("status", status.as_str()),
            ("tag", tag),
        ];
        m.sample("pycache_cache_disk_bytes", &labels, t.disk_usage as f64);
    }
    // Every verdict, zeros included: an alert on `pycache_caches_by_status{status="stale"}`
    // must see 0, not an absent series, on a clean host.
    m.gauge(
        "pycache_caches_by_status",
        "Bytecode caches by verdict (all verdicts, 0 included).",
    );
    for status in Status::ALL {
        let labels = [("roots", roots.as_str()), ("status", status.as_str())];
        m.sample(
            "pycache_caches_by_status",
            &labels,
            model.summary.count(status) as f64,
        );
    }
    let problems: u64 = Status::ALL
        .iter()
        .filter(|s| s.is_problem())
        .map(|&s| model.summary.count(s))
        .sum();
    let sources = model.modules.values().filter(|x| x.source_exists()).count();
    let single = [
        (
            "pycache_problem_caches",
            "Stale, orphaned, shadowed and invalid caches (scan --check fails when > 0).",
            problems as f64,
        ),
        (
            "pycache_sources",
            "Python source files found.",
            sources as f64,
        ),
        (
            "pycache_scan_dirs",
            "Directories walked.",
            model.progress.dirs as f64,
        ),
        (
            "pycache_scan_files",
            "Files walked.",
            model.progress.files as f64,
        ),
        (
            "pycache_scan_unread_parts",
            "Parts of the tree that could not be read (then the scan exits 2).",
            unread as f64,
        ),
    ];
    for (name, help, value) in single {
        m.gauge(name, help).sample(name, &run_label, value);
    }
    if let Some(view) = view {
        service_gauges(&mut m, &roots, view);
    }
    run_gauges(&mut m, "scan", &run_label, run);
    m
}

/// The service's next start: imported modules by outcome (every outcome, zeros too) and
/// the ones compiling at every start.
fn service_gauges(m: &mut Metrics, roots: &str, view: &crate::context::ServiceView) {
    use crate::context::outcome::NextStart;
    let name = "pycache_service_modules";
    m.gauge(
        name,
        "Modules the service imports, by what its next start does with the cache.",
    );
    for outcome in NextStart::ALL {
        let n = view
            .counts
            .modules
            .get(outcome.as_str())
            .copied()
            .unwrap_or(0);
        let labels = [("roots", roots), ("outcome", outcome.as_str())];
        m.sample(name, &labels, n as f64);
    }
    let every = view
        .counts
        .modules
        .get(NextStart::CompilesEveryStart.as_str())
        .copied()
        .unwrap_or(0);
    let name = "pycache_modules_compiling_every_start";
    m.gauge(
        name,
        "Imported modules the service compiles at every start (no cache it can read or write).",
    )
    .sample(name, &[("roots", roots)], every as f64);
}

/// The diagnosis's metrics: the measured per-start penalty, the imported modules by what
/// their next start does (`compiles-every-start` is the one to alert on), findings by
/// kind, and the run's duration, success and time.
pub fn doctor_metrics(report: &Report, run: Run) -> Metrics {
    let root = path_text(&report.root);
    let run_label = [("root", root.as_str())];
    let mut m = Metrics::default();
    let every = report
        .targets
        .iter()
        .filter(|t| t.outcome == Outcome::CompilesEveryStart)
        .count();
    // Modules compiling at every start with no measured cost (`--no-measure`, or the
    // interpreter could not run) make the penalty unknown: the series is left out, not 0.
    let measured = every == 0
        || report.costs.iter().any(|c| {
            c.penalty_ms().is_some()
                && report
                    .targets
                    .iter()
                    .any(|t| t.outcome == Outcome::CompilesEveryStart && t.source == c.source)
        });
    let per_start = measured.then(|| report.per_start_ms() / 1000.0);
    let single = [
        (
            "pycache_doctor_per_start_seconds",
            "Measured time lost at every start of the service.",
            per_start,
        ),
        (
            "pycache_doctor_modules_compiling_every_start",
            "Imported modules the service compiles at every start (no cache it can read or write).",
            Some(every as f64),
        ),
        (
            "pycache_doctor_needs_action",
            "1 when something needs fixing now (doctor exits 1).",
            Some(f64::from(u8::from(report.needs_action()))),
        ),
    ];
    for (name, help, value) in single {
        if let Some(value) = value {
            m.gauge(name, help).sample(name, &run_label, value);
        }
    }
    let mut by_outcome: BTreeMap<&str, u64> = BTreeMap::new();
    for outcome in [
        Outcome::Loads,
        Outcome::WritesAtNextStart,
        Outcome::CompilesEveryStart,
        Outcome::ImportError,
    ] {
        by_outcome.insert(outcome_name(outcome), 0);
    }
    for t in &report.targets {
        *by_outcome.entry(outcome_name(t.outcome)).or_default() += 1;
    }
    m.gauge(
        "pycache_doctor_modules",
        "Imported modules by what their next start does with the cache.",
    );
    for (outcome, n) in by_outcome {
        let labels = [("root", root.as_str()), ("outcome", outcome)];
        m.sample("pycache_doctor_modules", &labels, n as f64);
    }
    let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
    for f in &report.findings {
        let kind = serde_json::to_value(f.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        *by_kind.entry(kind).or_default() += 1;
    }
    m.gauge("pycache_doctor_findings", "Findings by kind.");
    for (kind, n) in &by_kind {
        let labels = [("root", root.as_str()), ("kind", kind.as_str())];
        m.sample("pycache_doctor_findings", &labels, *n as f64);
    }
    run_gauges(&mut m, "doctor", &run_label, run);
    m
}

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Loads => "loads",
        Outcome::WritesAtNextStart => "writes-at-next-start",
        Outcome::CompilesEveryStart => "compiles-every-start",
        Outcome::ImportError => "import-error",
    }
}

/// Duration, success and time of a run, and the version that made it.
fn run_gauges(m: &mut Metrics, what: &str, labels: &[(&str, &str)], run: Run) {
    let duration = format!("pycache_{what}_duration_seconds");
    let success = format!("pycache_{what}_success");
    let time = format!("pycache_{what}_timestamp_seconds");
    m.gauge(&duration, &format!("How long the {what} took."))
        .sample(&duration, labels, run.duration.as_secs_f64());
    m.gauge(
        &success,
        &format!("1 when the {what} saw the whole tree (it did not exit 2)."),
    )
    .sample(&success, labels, f64::from(u8::from(run.complete)));
    m.gauge(
        &time,
        &format!("When the {what} ended, seconds since the epoch (alert when old)."),
    )
    .sample(&time, labels, unix_seconds(run.at).floor());
    // One name per kind of run: node_exporter refuses a family whose label names differ
    // between two files of its directory.
    let info_name = format!("pycache_{what}_info");
    let mut info = labels.to_vec();
    info.push(("version", env!("CARGO_PKG_VERSION")));
    m.gauge(
        &info_name,
        "The pycache version that wrote this file (always 1).",
    )
    .sample(&info_name, &info, 1.0);
}

/// What to do about a bad `--metrics FILE`, appended to each refusal.
const METRICS_ADVICE: &str = "give a NAME.prom file in a directory you can write (the collector's --collector.textfile.directory)";

/// Refuses a `--metrics FILE` before any work is done: node_exporter's textfile collector
/// reads only `*.prom` files (any other name is never collected, and may be a file of the
/// project: `--metrics run.py` would replace the source), the directory must exist and be
/// writable, and an existing FILE must be a regular file or a link (renaming over a
/// device such as `/dev/null` would replace the device node itself, as root).
pub fn check_destination(file: &Path) -> Result<(), String> {
    let shown = crate::text::display_path(file);
    let (dir, name) = destination_parts(file)?;
    let handle = crate::actions::write::open_dir(dir, dir, false, false)
        .map_err(|e| format!("cannot write metrics to {shown}: {e}; {METRICS_ADVICE}"))?;
    check_existing(&handle, name, &shown)?;
    nix::unistd::access(dir, nix::unistd::AccessFlags::W_OK).map_err(|e| {
        format!(
            "cannot write metrics to {shown}: cannot create files in {}: {}; {METRICS_ADVICE}",
            crate::text::display_path(dir),
            e.desc().to_lowercase()
        )
    })
}

/// The directory (`.` for a bare name) and the `*.prom` file name of a destination.
fn destination_parts(file: &Path) -> Result<(&Path, &std::ffi::OsStr), String> {
    let shown = crate::text::display_path(file);
    let name = file.file_name().ok_or_else(|| {
        format!("cannot write metrics to {shown}: no file name; {METRICS_ADVICE}")
    })?;
    if !name.as_encoded_bytes().ends_with(b".prom") || name.len() <= ".prom".len() {
        return Err(format!(
            "cannot write metrics to {shown}: node_exporter's textfile collector reads only files named *.prom; {METRICS_ADVICE}"
        ));
    }
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Ok((dir, name))
}

/// Refuses to rename over anything but a regular file or a symlink (which is replaced
/// itself, never followed).
fn check_existing(
    handle: &crate::actions::write::Dir,
    name: &std::ffi::OsStr,
    shown: &str,
) -> Result<(), String> {
    use nix::fcntl::AtFlags;
    use nix::sys::stat::{SFlag, fstatat};
    let Ok(st) = fstatat(handle.fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW) else {
        return Ok(());
    };
    let kind = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits());
    let what = match kind {
        SFlag::S_IFREG | SFlag::S_IFLNK => return Ok(()),
        SFlag::S_IFDIR => "a directory",
        SFlag::S_IFCHR | SFlag::S_IFBLK => "a device",
        SFlag::S_IFIFO => "a named pipe",
        SFlag::S_IFSOCK => "a socket",
        _ => "not a regular file",
    };
    Err(format!(
        "cannot write metrics to {shown}: it is {what}, which would be replaced; {METRICS_ADVICE}"
    ))
}

/// Replaces `file` with `text` atomically: a new temporary file (`O_EXCL|O_NOFOLLOW`) in
/// the same directory, then `renameat` over the old one, all by directory handle, so no
/// link planted in the directory redirects the write (root may write into a collector
/// directory another user owns). Mode 0644: the collector runs as another user. The
/// checks of [`check_destination`] are made again on the handle.
pub fn write_atomically(file: &Path, text: &str) -> Result<(), String> {
    let shown = crate::text::display_path(file);
    let (dir, name) = destination_parts(file)?;
    let handle = crate::actions::write::open_dir(dir, dir, false, false)
        .map_err(|e| format!("cannot write metrics to {shown}: {e}; {METRICS_ADVICE}"))?;
    check_existing(&handle, name, &shown)?;
    handle
        .replace(name, text.as_bytes(), 0o644, false)
        .map_err(|e| format!("cannot write metrics to {shown}: {e}; {METRICS_ADVICE}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_escape_labels_and_write_plain_numbers() {
        let mut m = Metrics::default();
        m.gauge("x", "a \\ help\nline")
            .sample("x", &[("p", "a\"b\\c\nd")], 3.0);
        m.sample("x", &[], -0.0).sample("x", &[], 0.25);
        assert_eq!(
            m.text(),
            "# HELP x a \\\\ help\\nline\n# TYPE x gauge\nx{p=\"a\\\"b\\\\c\\nd\"} 3\nx 0\nx 0.25\n"
        );
    }

    #[test]
    fn a_service_view_adds_the_modules_compiling_at_every_start() {
        let dir = tempfile::tempdir().unwrap();
        let info = crate::demo::write(&dir.path().join("demo")).unwrap();
        let opts = crate::context::service::demo_options(&info);
        let mut scan = |o: crate::scan::ScanOptions| crate::scan::scan(&o);
        let (service, model) =
            crate::context::service(Some(&info.root), &opts, true, &mut scan).unwrap();
        let run = Run {
            duration: Duration::from_millis(5),
            complete: true,
            at: SystemTime::now(),
        };
        let without = scan_metrics(&model, run, 0, None);
        assert!(
            !without
                .text()
                .contains("pycache_modules_compiling_every_start")
        );
        let with = scan_metrics(&model, run, 0, Some(&service.view));
        let every = service
            .view
            .modules
            .iter()
            .filter(|m| m.next == crate::context::outcome::NextStart::CompilesEveryStart)
            .count();
        assert!(every > 0, "the demo's service cannot write some caches");
        let line = with
            .text()
            .lines()
            .find(|l| l.starts_with("pycache_modules_compiling_every_start{"))
            .unwrap();
        assert!(line.ends_with(&format!(" {every}")), "{line}");
        let per_outcome = with
            .text()
            .lines()
            .filter(|l| l.starts_with("pycache_service_modules{"))
            .count();
        assert_eq!(per_outcome, 4);
    }

    #[test]
    fn written_atomically_over_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pycache.prom");
        std::fs::write(&file, "old").unwrap();
        write_atomically(&file, "new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new\n");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left");
        let err = write_atomically(&dir.path().join("missing/x.prom"), "").unwrap_err();
        assert!(err.starts_with("cannot write metrics to "), "{err}");
    }
}
