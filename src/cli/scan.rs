//! `pycache scan [PATH...]`: find every cache, judge it, and print a summary or JSON.
//!
//! The scan runs on the library's scanner thread; this file only resolves the flags,
//! drains the events into the model (drawing a progress line when stderr is a terminal),
//! and prints. Exit: 0, or 1 with `--check` when a cache is stale, orphaned, shadowed or
//! invalid; 2 for a bad root or flag, or when part of the tree could not be read.

use crate::cli::path_arg::PathArg;
use color_eyre::eyre::{Result, bail};
use pycache::pyc::Status;
use pycache::scan::json::{Origin, problem_dirs};
use pycache::scan::{ScanEvent, ScanModel, ScanOptions, display_path};
use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const AFTER_HELP: &str = "\
Examples:
  What state are the caches of a deployed service in?
    pycache scan /srv/app
  With the PYTHONPYCACHEPREFIX tree the service writes to, without its virtualenv:
    pycache scan /srv/app --pycache-prefix /var/cache/app-pyc --exclude .venv
  What does the service's next start do with each module (loads, compiles, at every start)?
    pycache scan /srv/app --unit myapp
    pycache scan /srv/app --user www-data --python 3.13
  Fail a deploy check when a cache is stale, orphaned, shadowed or invalid:
    pycache scan /srv/app --check
  Save a snapshot, then review it elsewhere in the explorer (read-only):
    pycache scan /srv/app --json > app-scan.json
    pycache --from app-scan.json
  The same over ssh, compressed (--from reads gzip and zstd, and '-' is stdin):
    ssh web1 pycache scan /srv/app --json | gzip > web1.json.gz
    ssh web1 pycache scan /srv/app --json | pycache --from -
  For node_exporter's textfile collector (e.g. from a timer):
    pycache scan /srv/app --metrics /var/lib/node_exporter/textfile/pycache.prom
  One line per host for a fleet, and one object per cache for jq:
    pycache scan /srv/app --summary --json
    pycache scan --from web1.json.gz --from web2.json.gz --summary --json
    pycache scan /srv/app --jsonl | jq -r 'select(.status == \"stale\") | .path'

A progress line (counts and rate) is drawn on stderr when it is a terminal.

Exit status: 0 scanned (with --check: no problem cache), 1 --check found a stale,
orphaned, shadowed or invalid cache, 2 usage or I/O error (a missing path, a file, or a
part of the tree that could not be read: one line on stderr says what was skipped).";

const WHAT: &str = "What to scan";

/// Arguments of `scan`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Directories to scan (default: the current directory).
    #[arg(value_parser = PathArg)]
    pub paths: Vec<PathBuf>,
    /// Read saved snapshots instead of scanning (repeatable: one tree per host; '-' is
    /// stdin; gzip and zstd are read as they are).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["paths", "pycache_prefix", "exclude", "follow_symlinks", "one_file_system", "header_only", "metrics"], help_heading = WHAT)]
    pub from: Vec<PathBuf>,
    /// A PYTHONPYCACHEPREFIX tree to scan too (default: $PYTHONPYCACHEPREFIX when set).
    #[arg(value_parser = PathArg, long, value_name = "DIR", help_heading = WHAT)]
    pub pycache_prefix: Option<PathBuf>,
    /// Skip files and directories matching this glob (name or path below the root); repeatable.
    #[arg(long, value_name = "GLOB", help_heading = WHAT)]
    pub exclude: Vec<String>,
    /// Follow symbolic links to directories (loops are detected and reported).
    #[arg(long, help_heading = WHAT)]
    pub follow_symlinks: bool,
    /// Do not descend into other filesystems.
    #[arg(long, help_heading = WHAT)]
    pub one_file_system: bool,
    /// Print the scan as a JSON snapshot, compact (open it later with 'pycache --from FILE';
    /// layout in docs/json.md).
    #[arg(long, help_heading = super::OUTPUT)]
    pub json: bool,
    /// Indent the JSON (bigger; for reading it yourself).
    #[arg(long, requires = "json", help_heading = super::OUTPUT)]
    pub pretty: bool,
    /// With --json: print one small summary object instead of the snapshot (host, version,
    /// time, counts by verdict and tag, top findings), for fleets.
    #[arg(long, requires = "json", help_heading = super::OUTPUT)]
    pub summary: bool,
    /// Print one JSON object per cache per line, for pipelines (jq, grep).
    #[arg(long, conflicts_with = "json", help_heading = super::OUTPUT)]
    pub jsonl: bool,
    /// Exit 1 when any cache is stale, orphaned, shadowed or invalid.
    #[arg(long, help_heading = super::OUTPUT)]
    pub check: bool,
    /// Also write the counts as a Prometheus textfile (for node_exporter's textfile
    /// collector), replaced atomically; metric names in docs/metrics.md.
    #[arg(value_parser = PathArg, long, value_name = "FILE", help_heading = super::OUTPUT)]
    pub metrics: Option<PathBuf>,
    /// Judge each cache by its 16-byte header alone (faster; a corrupt body is then
    /// not seen). By default every cache Python would load is read whole.
    #[arg(long, help_heading = WHAT)]
    pub header_only: bool,
    /// The interpreter's --check-hash-based-pycs the verdicts assume (default: default, or
    /// the unit's command line).
    #[arg(long, value_name = "MODE", value_parser = parse_hash_check, help_heading = WHAT)]
    pub check_hash_based_pycs: Option<pycache::pyc::HashCheck>,
    /// The service whose next start is judged: each imported module loads its cache,
    /// compiles and writes it, compiles at every start (and why), or fails to import.
    #[command(flatten)]
    pub context: crate::cli::context_args::ContextArgs,
}

fn parse_hash_check(s: &str) -> Result<pycache::pyc::HashCheck, String> {
    pycache::pyc::HashCheck::parse(s)
        .ok_or_else(|| format!("{s:?} is not a mode (use default, always or never)"))
}

/// The line that says a scan judged headers only.
pub const HEADER_ONLY_NOTE: &str =
    "header only (--header-only): marshal bodies were not checked, a corrupt one looks fresh\n";

/// Runs `scan`.
pub fn run(args: Args) -> Result<ExitCode> {
    if !args.from.is_empty() {
        return super::scan_from::run(&args);
    }
    super::metrics::check(args.metrics.as_deref())?;
    if args.context.given() {
        return super::scan_context::run(&args);
    }
    let opts = options(&args)?;
    let started = Instant::now();
    let model = scan_with_progress(opts)?;
    if let Some(file) = &args.metrics {
        super::metrics::write_scan(file, &model, started.elapsed(), skipped(&model).len(), None)?;
    }
    let origin = Origin::here_and_now();
    if args.summary {
        write_quietly(|out| model.write_summary(out, &origin, args.pretty))?;
    } else if args.json {
        write_quietly(|out| model.write_snapshot(out, &origin, args.pretty))?;
    } else if args.jsonl {
        write_quietly(|out| model.write_jsonl(out))?;
    } else if args.header_only {
        let text = summary(&model, super::color_enabled(false));
        let text = match text.split_once('\n') {
            Some((first, rest)) => format!("{first}\n  {HEADER_ONLY_NOTE}{rest}"),
            None => text,
        };
        print_quietly(&text)?;
    } else {
        print_quietly(&summary(&model, super::color_enabled(false)))?;
    }
    let code = if warn_skipped(&model, "the scan") {
        ExitCode::from(2)
    } else if args.check && model.has_problems() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    // The process ends now: freeing a large model record by record only costs time.
    std::mem::forget(model);
    Ok(code)
}

/// Resolves the flags into scan options, refusing roots that cannot be scanned.
pub fn options(args: &Args) -> Result<ScanOptions> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    for p in &paths {
        check_dir(p, "scan")?;
    }
    if let Some(p) = &args.pycache_prefix {
        check_dir(p, "use as --pycache-prefix")?;
    }
    for pattern in &args.exclude {
        if let Err(e) = globset::Glob::new(pattern) {
            bail!("invalid --exclude pattern {pattern:?}: {e} (see 'pycache scan --help')");
        }
    }
    let mut opts = ScanOptions::new(paths).with_prefix(args.pycache_prefix.clone());
    opts.excludes = args.exclude.clone();
    opts.follow_symlinks = args.follow_symlinks;
    opts.one_file_system = args.one_file_system;
    opts.header_only = args.header_only;
    opts.hash_check = args.check_hash_based_pycs.unwrap_or_default();
    Ok(opts)
}

pub(crate) fn check_dir(p: &Path, what: &str) -> Result<()> {
    let shown = display_path(p);
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => Ok(()),
        // A FIFO or a device is not "a file" one could inspect: say what it is.
        Ok(_) if pycache::fsread::special_kind(p).is_some() => bail!(
            "cannot {what} {shown}: it is {}, not a directory (give the directory to scan)",
            pycache::fsread::special_kind(p).unwrap_or("a special file")
        ),
        Ok(_) => bail!(
            "cannot {what} {shown}: it is a file, not a directory (scan the directory that \
             holds it, or decode it with 'pycache inspect {shown}')"
        ),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            bail!("cannot {what} {shown}: no such directory (check the path)")
        }
        Err(e) => bail!("cannot {what} {shown}: {e}"),
    }
}

/// The error of a crashed scanner (a bug: the panic report is already on stderr).
pub fn crashed(why: &str) -> color_eyre::eyre::Report {
    color_eyre::eyre::eyre!(
        "the scanner crashed ({why}; the report above says where): the scan is incomplete \
         and nothing was done with it; please report this bug"
    )
}

/// Runs the scan, with a progress line on stderr when it is a terminal; an error when the
/// scanner crashed (never a partial model taken for a whole one).
pub fn scan_with_progress(opts: ScanOptions) -> Result<ScanModel> {
    let mut model = ScanModel::new(opts.roots.clone(), opts.prefix.clone());
    let (tx, rx) = std::sync::mpsc::channel::<ScanEvent>();
    let handle = pycache::scan::spawn(opts, tx);
    let mut progress = Progress::on_stderr();
    loop {
        match rx.recv_timeout(Progress::EVERY) {
            Ok(event) => {
                model.apply(event);
                while let Ok(event) = rx.try_recv() {
                    model.apply(event);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
        progress.draw(|secs| {
            let p = model.progress;
            format!(
                "scanning: {} directories, {} files, {} caches ({} files/s)",
                count(p.dirs),
                count(p.files),
                count(model.caches.len() as u64),
                count(rate(p.files, secs))
            )
        });
    }
    progress.clear();
    match handle.join() {
        Ok(()) => Ok(model),
        Err(payload) => Err(crashed(&pycache::scan::walk::panic_message(
            payload.as_ref(),
        ))),
    }
}

/// Items per second, for progress lines.
pub fn rate(items: u64, secs: f64) -> u64 {
    if secs > 0.0 {
        (items as f64 / secs) as u64
    } else {
        0
    }
}

/// A one-line progress indicator on stderr: drawn only when stderr is a terminal, at most
/// ten times a second (a slow ssh link pays for every redraw), and not in the first tenth
/// of a second, so quick runs leave no flicker. Piped runs get nothing.
#[derive(Debug)]
pub struct Progress {
    on: bool,
    start: Instant,
    last: Option<Instant>,
    drawn: bool,
}

impl Progress {
    /// How often the line is redrawn.
    pub const EVERY: Duration = Duration::from_millis(100);

    /// A progress line on stderr, silent unless stderr is a terminal.
    pub fn on_stderr() -> Progress {
        Progress {
            on: io::stderr().is_terminal(),
            start: Instant::now(),
            last: None,
            drawn: false,
        }
    }

    /// Redraws the line with `text(seconds since the start)` when it is time to.
    pub fn draw(&mut self, text: impl FnOnce(f64) -> String) {
        if !self.on {
            return;
        }
        let now = Instant::now();
        let since = self.last.unwrap_or(self.start);
        if now.duration_since(since) < Self::EVERY {
            return;
        }
        self.last = Some(now);
        let mut line = text(now.duration_since(self.start).as_secs_f64());
        // A line longer than the terminal would wrap, and \r could not erase it.
        let width = crossterm::terminal::size().map_or(80, |(w, _)| usize::from(w));
        if let Some((i, _)) = line.char_indices().nth(width.saturating_sub(1)) {
            line.truncate(i);
        }
        let mut err = io::stderr().lock();
        let _ = write!(err, "\r\x1b[K{line}");
        let _ = err.flush();
        self.drawn = true;
    }

    /// Erases the line, if one was drawn.
    pub fn clear(&mut self) {
        if self.drawn {
            let mut err = io::stderr().lock();
            let _ = write!(err, "\r\x1b[K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

/// The errors that mean part of the tree was not judged: everything but a symlink loop
/// (the directory it leads back to was scanned once).
pub fn skipped(model: &ScanModel) -> Vec<&pycache::scan::ScanError> {
    use pycache::scan::ScanErrorKind;
    model
        .errors
        .iter()
        .filter(|e| e.kind != ScanErrorKind::SymlinkLoop)
        .collect()
}

/// When part of the tree could not be read, says so on stderr (`what` is incomplete, how
/// much, the first one) and returns true: the caller then exits 2, never 0, so a deploy
/// check cannot pass on a tree it did not see.
pub fn warn_skipped(model: &ScanModel, what: &str) -> bool {
    let skipped = skipped(model);
    let Some(first) = skipped.first() else {
        return false;
    };
    let first = format!("{}: {}", display_path(&first.path), first.message);
    say_incomplete(what, ("part", "parts"), skipped.len(), &first);
    true
}

/// The one line saying that `what` is incomplete: `n` of `noun` (singular, plural) could
/// not be read, `first` (`path: why`) the first of them.
pub fn say_incomplete(what: &str, noun: (&str, &str), n: usize, first: &str) {
    let one = n == 1;
    eprintln!(
        "{} {what} is incomplete: {n} {} of the tree could not be read and {} skipped \
         (first: {}); run as the owner or with sudo to include {}",
        super::error_prefix(),
        if one { noun.0 } else { noun.1 },
        if one { "was" } else { "were" },
        pycache::text::terminal_safe(first),
        if one { "it" } else { "them" },
    );
}

/// Prints to stdout; a closed pipe (`| head`) ends the output quietly.
pub fn print_quietly(text: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Writes to stdout through a buffer as `write` produces the text; a closed pipe
/// (`| head`) ends the output quietly.
pub fn write_quietly(
    write: impl FnOnce(&mut io::BufWriter<io::StdoutLock<'static>>) -> io::Result<()>,
) -> Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// The human summary: totals by verdict and by tag, the worst directories, the errors.
/// `color` paints the verdict words.
pub fn summary(model: &ScanModel, color: bool) -> String {
    let mut s = String::new();
    let roots: Vec<String> = model.roots.iter().map(|r| display_path(r)).collect();
    s.push_str(&format!("scanned {}", roots.join(", ")));
    if let Some(p) = &model.prefix {
        s.push_str(&format!(" and the pycache prefix {}", display_path(p)));
    }
    s.push('\n');
    let total = model.summary.total();
    let sources = model.modules.values().filter(|m| m.source_exists()).count();
    s.push_str(&format!(
        "  {} directories, {} files: {} sources, {} caches ({}, {} on disk)\n",
        count(model.progress.dirs),
        count(model.progress.files),
        count(sources as u64),
        count(total.count),
        bytes(total.bytes),
        bytes(total.disk_usage)
    ));
    if total.count == 0 {
        s.push_str("\nno bytecode caches found\n");
    } else {
        by_status(model, &mut s, color);
        by_tag(model, &mut s);
        worst_dirs(model, &mut s);
    }
    errors(model, &mut s);
    s
}

fn meaning(status: Status) -> &'static str {
    match status {
        Status::Invalid => "cannot be decoded: Python ignores or rewrites it",
        Status::Unreadable => "permission denied: pycache could not judge it",
        Status::Orphaned => "source is gone: never imported, safe to remove",
        Status::Stale => "source changed: recompiled on the next import",
        Status::Shadowed => "legacy .pyc beside its .py: Python 3 ignores it",
        Status::Sourceless => "legacy .pyc without source: importable, keep it",
        Status::Fresh => "used as is",
    }
}

/// A verdict word padded to `width` columns, in its colour when `color`.
pub fn verdict_word(status: Status, width: usize, color: bool) -> String {
    let word = status.as_str();
    let sgr = match status {
        Status::Fresh => "32",
        Status::Stale => "33",
        Status::Orphaned => "31",
        Status::Invalid | Status::Unreadable => "1;31",
        Status::Shadowed => "35",
        Status::Sourceless => "36",
    };
    let pad = " ".repeat(width.saturating_sub(word.len()));
    format!("{}{pad}", super::paint(color, sgr, word))
}

fn by_status(model: &ScanModel, s: &mut String, color: bool) {
    s.push_str("\nverdict         caches        size\n");
    for (status, t) in model.summary.by_status() {
        s.push_str(&format!(
            "  {}{:>8}  {:>10}   {}\n",
            verdict_word(status, 12, color),
            count(t.count),
            bytes(t.bytes),
            meaning(status)
        ));
    }
}

fn by_tag(model: &ScanModel, s: &mut String) {
    let mut per_tag: BTreeMap<&str, BTreeMap<Status, u64>> = BTreeMap::new();
    for ((status, tag), t) in &model.summary.cells {
        *per_tag
            .entry(tag.as_str())
            .or_default()
            .entry(*status)
            .or_default() += t.count;
    }
    s.push_str("\ninterpreter     caches    fresh  problems        size\n");
    for (tag, t) in model.summary.by_tag() {
        let cells = per_tag.get(tag.as_str());
        let n = |st: Status| cells.and_then(|c| c.get(&st)).copied().unwrap_or(0);
        let problems: u64 = Status::ALL
            .iter()
            .filter(|st| st.is_problem())
            .map(|&st| n(st))
            .sum();
        s.push_str(&format!(
            "  {:<12}{:>8} {:>8}  {:>8}  {:>10}\n",
            pycache::text::terminal_safe(&tag),
            count(t.count),
            count(n(Status::Fresh)),
            count(problems),
            bytes(t.bytes)
        ));
    }
}

fn worst_dirs(model: &ScanModel, s: &mut String) {
    let ranked = problem_dirs(model);
    if ranked.is_empty() {
        return;
    }
    let shown = ranked.len().min(5);
    s.push_str(&format!(
        "\nworst directories ({shown} of {} with problems)\n",
        ranked.len()
    ));
    for d in ranked.iter().take(shown) {
        let what: Vec<String> = d
            .by_status
            .iter()
            .map(|(st, n)| format!("{n} {}", st.as_str()))
            .collect();
        s.push_str(&format!(
            "  {:>10}  {}  ({})\n",
            bytes(d.totals.bytes),
            relative(model, d.dir),
            what.join(", ")
        ));
    }
}

fn errors(model: &ScanModel, s: &mut String) {
    if model.errors.is_empty() {
        return;
    }
    s.push_str(&format!("\nerrors ({})\n", model.errors.len()));
    for e in model.errors.iter().take(20) {
        s.push_str(&format!(
            "  {}: {}\n",
            relative(model, &e.path),
            pycache::text::terminal_safe(&e.message)
        ));
    }
    if model.errors.len() > 20 {
        s.push_str(&format!(
            "  ... and {} more (all are in --json)\n",
            model.errors.len() - 20
        ));
    }
}

/// A path relative to its root when it lies under one, else absolute.
fn relative(model: &ScanModel, path: &Path) -> String {
    match model.root_of(path) {
        Some(root) if model.roots.len() == 1 => match path.strip_prefix(root) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
            Ok(rel) => display_path(rel),
            Err(_) => display_path(path),
        },
        _ => display_path(path),
    }
}

/// `12,345`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1.5 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(62095), "62,095");
        assert_eq!(bytes(10), "10 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
