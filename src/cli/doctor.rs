//! `pycache doctor [PATH]`: why the service has no usable caches, what it costs per start,
//! and the fix. Exit: 0, or 1 when a finding costs time at each start (or an imported
//! module does not compile); 2 for bad input.
//!
//! `--json` prints one object (`schema` 2):
//! - `schema`, `per_start_ms` (measured total per start), `costs_every_start`,
//!   `needs_action` (the exit status is 1 when true);
//! - `report.root`, `report.python` (`path`, `version`, `tag`, `magic`, `from`),
//!   `report.imports_from`, `report.followed`, `report.entry_script` (`path`, `compile_ms`);
//! - `report.context`: `identity` (`name`, `uid`, `gid`, `groups`), `python`, `entry`,
//!   `working_dir`, `env` (the `PYTHON*` variables only: service environments hold
//!   secrets), `prefix`, `dont_write`, `optimize`, `sandbox.rules`, `unit`, `derived`
//!   (`what`, `value`, `from` for every fact), `notes`;
//! - `report.targets[]`: `module`, `source`, `lazy`, `cache`, `location`, `state`
//!   (`usable`, `missing`, `stale`, `invalid`, `corrupt`) with its `reason`, `access` (`dir`,
//!   `exists`, `writable`, `blockers[]` of `kind`, `path`, `why`), `unreadable`,
//!   `outcome` (`loads`, `writes-at-next-start`, `compiles-every-start`, `import-error`),
//!   `ignored`;
//! - `report.broken[]` (`module`, `source`, `why`), `report.costs[]` (`source`,
//!   `compile_ms`, `load_ms`, `cache_used`, `error`), `report.import_time`;
//! - `report.findings[]`: `kind`, `title`, `per_start_ms`, `once_ms`, `every_start`,
//!   `modules[]` (`module`, `penalty_ms`), `details`, `fixes[]` (`summary`, `steps[]`, each
//!   `{"run": COMMAND}`, `{"edit_unit": {"unit", "lines"}}` or `{"note": TEXT}`);
//! - `report.notes`, `report.repeat`.

mod image;
mod render;

use crate::cli::context_args::ContextArgs;
use crate::cli::path_arg::PathArg;
use color_eyre::eyre::{Result, eyre};
use pycache::doctor::{DoctorOptions, Report, diagnose};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Examples:
  Why does my service recompile on every start?
    pycache doctor --unit myapp
  A project run by www-data with the system Python, no unit:
    pycache doctor /srv/app --user www-data --python /usr/bin/python3
  A running process (its user, environment and script are read from /proc):
    pycache doctor --pid 4242
  A container image, unpacked (nothing in it is run; USER from the inspect output):
    docker export $(docker create myimage) | tar -x -C /tmp/img
    docker inspect myimage > /tmp/img.json
    pycache doctor --root /tmp/img --image-config /tmp/img.json /app

JSON (--json, schema 2): schema, per_start_ms, costs_every_start, needs_action, and report: root, python, context (identity, prefix, dont_write, sandbox, derived facts with their source; of the environment only PYTHON* variables), targets (module, cache, state, access, outcome), broken, costs, findings (kind, title, per_start_ms, modules, details, fixes: summary and steps, each {run: COMMAND}, {edit_unit: {unit, lines}} or {note: TEXT}), notes.

Exit status: 0 no finding costs time at every start; 1 a finding does, or an imported module does not compile; 2 usage or I/O error.";

const CONTEXT: &str = "Who runs the service";
const MEASURE: &str = "Measuring";
const IMAGE: &str = "Container images";

/// Arguments of `doctor`.
#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// The project directory (default: the unit's or process's working directory, the
    /// entry's directory, or the current directory).
    #[arg(value_parser = PathArg)]
    pub path: Option<PathBuf>,
    #[command(flatten)]
    pub context: ContextArgs,
    /// The PYTHONPYCACHEPREFIX in effect for the service.
    #[arg(value_parser = PathArg, long, value_name = "DIR", help_heading = CONTEXT)]
    pub pycache_prefix: Option<PathBuf>,
    /// Do not run the interpreter to measure compile and load times.
    #[arg(long, help_heading = MEASURE)]
    pub no_measure: bool,
    /// Also time `python -X importtime` of the entry with and without caches. This runs the
    /// application's imports (the entry is imported as a module, not run as __main__).
    #[arg(long, help_heading = MEASURE)]
    pub measure_import: bool,
    /// Repetitions per measurement (the median is reported).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=1000), help_heading = MEASURE)]
    pub repeat: u16,
    /// Diagnose an unpacked container image instead of this machine: its root filesystem
    /// (docker export C | tar -x -C DIR), or an OCI bundle with rootfs/ and config.json.
    /// PATH, --python (a path, or a version among the image's), --venv and --user are
    /// then inside the image; nothing in it is run.
    #[arg(value_parser = PathArg, long, value_name = "DIR", conflicts_with_all = ["unit", "pid", "systemd_root", "entry", "measure_import"], help_heading = IMAGE)]
    pub root: Option<PathBuf>,
    /// With --root: the image's config, for its USER, ENV and WORKDIR ('docker inspect
    /// IMAGE > FILE', or an OCI image config).
    #[arg(value_parser = PathArg, long, value_name = "FILE", requires = "root", help_heading = IMAGE)]
    pub image_config: Option<PathBuf>,
    /// With --root: the container runs with a read-only root filesystem (docker run --read-only).
    #[arg(long, requires = "root", help_heading = IMAGE)]
    pub read_only: bool,
    /// Print JSON instead of text (fields: see below).
    #[arg(long)]
    pub json: bool,
    /// Also write the result as a Prometheus textfile (for node_exporter's textfile
    /// collector), replaced atomically; metric names in docs/metrics.md.
    #[arg(value_parser = PathArg, long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
}

/// Runs `doctor`.
pub fn run(args: Args) -> Result<ExitCode> {
    if let Some(root) = args.root {
        if args.metrics.is_some() {
            return Err(eyre!(
                "--metrics is not written for --root (an image is not a running service); leave one of them out"
            ));
        }
        let c = args.context;
        let (python, python_version) = match c.python {
            Some(pycache::context::PythonSpec::Path(p)) => (Some(p), None),
            Some(pycache::context::PythonSpec::Version(v)) => (None, Some(v)),
            None => (c.venv.map(|v| v.join("bin/python")), None),
        };
        let user = match (c.user, c.group) {
            (Some(u), Some(g)) => Some(format!("{u}:{g}")),
            (None, Some(g)) => Some(format!("0:{g}")),
            (u, None) => u,
        };
        let opts = pycache::doctor::image::ImageOptions {
            root,
            project: args.path,
            user,
            python,
            python_version,
            config: args.image_config,
            read_only: args.read_only,
            env: c.env,
        };
        return image::run(&opts, args.json);
    }
    super::metrics::check(args.metrics.as_deref())?;
    let opts = DoctorOptions {
        path: args.path,
        context: args.context.options(args.pycache_prefix, None),
        measure: !args.no_measure,
        measure_import: args.measure_import,
        repeat: usize::from(args.repeat),
    };
    let started = std::time::Instant::now();
    let report = diagnose(&opts).map_err(|e| eyre!(e))?;
    if let Some(file) = &args.metrics {
        super::metrics::write_doctor(file, &report, started.elapsed())?;
    }
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&to_json(&report))?;
        s.push('\n');
        s
    } else {
        // Names in the report come from the disk and the unit files: no control
        // character from them reaches the terminal (the renderer escapes names; this
        // catches any that a message carries).
        pycache::text::terminal_safe_lines(&render::render(&report, super::wrap::width()))
            .into_owned()
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    if let Some(first) = report.skipped.first() {
        let n = report.skipped.len();
        super::scan::say_incomplete("the diagnosis", ("part", "parts"), n, first);
        return Ok(ExitCode::from(2));
    }
    Ok(if report.needs_action() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn to_json(r: &Report) -> serde_json::Value {
    let python_env: serde_json::Map<String, serde_json::Value> = r
        .context
        .env
        .iter()
        .filter(|(k, _)| k.starts_with("PYTHON"))
        .map(|(k, v)| (k.clone(), v.clone().into()))
        .collect();
    let mut v = serde_json::json!(r);
    if let Some(ctx) = v.get_mut("context").and_then(|c| c.as_object_mut()) {
        // Only the interpreter's own variables: service environments hold secrets.
        ctx.insert("env".into(), python_env.into());
    }
    let mut doc = serde_json::json!({
        "schema": pycache::scan::SCHEMA,
        "kind": "doctor",
        "per_start_ms": r.per_start_ms(),
        "costs_every_start": r.costs_every_start(),
        "needs_action": r.needs_action(),
        "report": v,
    });
    no_negative_zero(&mut doc);
    doc
}

/// Rewrites `-0.0` (a rounded tiny negative difference) as `0.0`: a cost is never
/// negative, and `-0.0` surprises every reader.
fn no_negative_zero(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n)
            if n.as_f64().is_some_and(|x| x == 0.0 && x.is_sign_negative()) =>
        {
            *v = serde_json::json!(0.0);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(no_negative_zero),
        serde_json::Value::Object(map) => map.values_mut().for_each(no_negative_zero),
        _ => {}
    }
}
