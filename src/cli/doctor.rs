//! `pycache doctor [PATH]`: why the service has no usable caches, what it costs per start,
//! and the fix. Exit: 0, or 1 when a finding costs time at each start; 2 for bad input.

use color_eyre::eyre::{Result, eyre};
use pycache::doctor::context::ContextOptions;
use pycache::doctor::findings::{Finding, ms_text};
use pycache::doctor::targets::Outcome;
use pycache::doctor::{DoctorOptions, Report, diagnose};
use pycache::scan::display_path;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `doctor`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project directory (default: the unit's or process's working directory, the
    /// entry's directory, or the current directory).
    pub path: Option<PathBuf>,
    /// The user the service runs as (name or uid).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Its primary group (default: the user's).
    #[arg(long, value_name = "NAME")]
    pub group: Option<String>,
    /// The interpreter the service runs (default: the unit's or process's, a virtualenv in
    /// the project, else the newest found).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// The script the service starts (default: the unit's ExecStart script, or detected).
    #[arg(long, value_name = "FILE")]
    pub entry: Option<PathBuf>,
    /// The PYTHONPYCACHEPREFIX in effect for the service.
    #[arg(long, value_name = "DIR")]
    pub pycache_prefix: Option<PathBuf>,
    /// Read the runtime context from a systemd unit (a name, or a unit file path).
    #[arg(long, value_name = "NAME|FILE", conflicts_with = "pid")]
    pub unit: Option<String>,
    /// Look for units and environment files under this root instead of / (as systemctl --root).
    #[arg(long, value_name = "DIR")]
    pub systemd_root: Option<PathBuf>,
    /// Read the runtime context from a running process.
    #[arg(long, value_name = "N")]
    pub pid: Option<u32>,
    /// An environment variable of the service (repeatable), e.g. PYTHONDONTWRITEBYTECODE=1.
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// Also time `python -X importtime` of the entry with and without caches. This runs the
    /// application's imports (the entry is imported as a module, not run as __main__).
    #[arg(long)]
    pub measure_import: bool,
    /// Do not run the interpreter to measure compile and load times.
    #[arg(long)]
    pub no_measure: bool,
    /// Repetitions per measurement (the median is reported).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub repeat: u16,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?} is not KEY=VALUE"))
}

/// Runs `doctor`.
pub fn run(args: Args) -> Result<ExitCode> {
    let opts = DoctorOptions {
        path: args.path,
        context: ContextOptions {
            user: args.user,
            group: args.group,
            python: args.python,
            entry: args.entry,
            prefix: args.pycache_prefix,
            unit: args.unit,
            systemd_root: args.systemd_root,
            pid: args.pid,
            env: args.env,
        },
        measure: !args.no_measure,
        measure_import: args.measure_import,
        repeat: usize::from(args.repeat),
    };
    let report = diagnose(&opts).map_err(|e| eyre!(e))?;
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&to_json(&report))?;
        s.push('\n');
        s
    } else {
        render(&report)
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
        _ => {}
    }
    Ok(if report.costs_every_start() {
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
    serde_json::json!({
        "schema": 1,
        "per_start_ms": r.per_start_ms(),
        "costs_every_start": r.costs_every_start(),
        "report": v,
    })
}

/// The text report.
pub fn render(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "pycache doctor: {}\n", display_path(&r.root));
    let _ = writeln!(s, "Runtime context");
    let py = &r.python;
    let tag = py
        .tag
        .clone()
        .unwrap_or_else(|| "no cache tag: caches beside the source".into());
    let mut rows: Vec<(String, String, String)> = r
        .context
        .derived
        .iter()
        .filter(|d| d.what != "python")
        .map(|d| (d.what.clone(), d.value.clone(), d.from.clone()))
        .collect();
    rows.push((
        "python".into(),
        format!("{} ({}, {tag})", display_path(&py.path), py.version),
        py.from.clone(),
    ));
    if r.context.dont_write.is_none() {
        rows.push((
            "write bytecode".into(),
            "yes".into(),
            "no -B, no PYTHONDONTWRITEBYTECODE".into(),
        ));
    }
    if r.context.prefix.is_none() {
        rows.push((
            "pycache prefix".into(),
            "none: caches go to __pycache__ beside each source".into(),
            String::new(),
        ));
    }
    rows.push(("modules".into(), r.imports_from.clone(), String::new()));
    for (what, value, from) in rows {
        let _ = writeln!(s, "  {what:<18} {value}");
        if !from.is_empty() {
            let _ = writeln!(s, "  {:<18}   from {from}", "");
        }
    }
    let _ = writeln!(s);
    let loads = r
        .targets
        .iter()
        .filter(|t| t.outcome == Outcome::Loads)
        .count();
    let _ = writeln!(
        s,
        "Caches: {} of {} imported modules load a usable cache",
        loads,
        r.targets.len()
    );
    if r.findings.is_empty() {
        let _ = writeln!(
            s,
            "\nNo findings: every imported module loads a usable cache the service can keep fresh."
        );
    } else {
        let _ = writeln!(s, "\nFindings, most costly first");
        for (i, f) in r.findings.iter().enumerate() {
            finding(&mut s, i + 1, f);
        }
    }
    let _ = writeln!(s);
    summary(&mut s, r);
    for n in &r.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}

fn finding(s: &mut String, n: usize, f: &Finding) {
    let _ = writeln!(s, "{n:>2}. {}", f.title);
    if !f.modules.is_empty() {
        let mods: Vec<String> = f
            .modules
            .iter()
            .map(|m| match m.penalty_ms {
                Some(ms) => format!("{} {}", m.module, ms_text(ms)),
                None => m.module.clone(),
            })
            .collect();
        let _ = writeln!(s, "    modules: {}", mods.join(", "));
    }
    for d in &f.details {
        let _ = writeln!(s, "    {d}");
    }
    match f.fixes.as_slice() {
        [] => {}
        [one] => {
            let _ = writeln!(s, "    fix: {}", indent(one));
        }
        many => {
            let _ = writeln!(s, "    fix, one of:");
            for fix in many {
                let _ = writeln!(s, "      - {}", indent(fix));
            }
        }
    }
}

fn indent(text: &str) -> String {
    text.replace('\n', "\n          ")
}

fn summary(s: &mut String, r: &Report) {
    let every: Vec<&Finding> = r.findings.iter().filter(|f| f.every_start).collect();
    let measured: Vec<_> = r
        .costs
        .iter()
        .filter(|c| c.penalty_ms().is_some())
        .collect();
    if every.is_empty() {
        let _ = writeln!(s, "Cost per start: none from caches.");
    } else if measured.is_empty() {
        let _ = writeln!(
            s,
            "Cost per start: not measured (--no-measure, or the interpreter could not run)."
        );
    } else {
        let every_sources: Vec<&std::path::Path> = r
            .targets
            .iter()
            .filter(|t| t.outcome == Outcome::CompilesEveryStart)
            .map(|t| t.source.as_path())
            .collect();
        let sel = measured
            .iter()
            .filter(|c| every_sources.contains(&c.source.as_path()));
        let (compile, load) = sel.fold((0.0, 0.0), |acc, c| {
            (
                acc.0 + c.compile_ms.unwrap_or(0.0),
                acc.1 + c.load_ms.unwrap_or(0.0),
            )
        });
        let _ = writeln!(
            s,
            "Cost per start: about {} ({} modules compile in {}; loading their caches would take {}; medians of {} runs of the interpreter's own compile() and marshal.loads)",
            ms_text(r.per_start_ms()),
            every_sources.len(),
            ms_text(compile),
            ms_text(load),
            r.repeat
        );
    }
    if let Some((entry, ms)) = &r.entry_script {
        let cost = ms
            .map(|m| format!(" ({} to compile)", ms_text(m)))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "Entry script {}: runs as __main__, so Python compiles it at every start and never caches it{cost}",
            display_path(entry)
        );
    }
    if let Some(t) = &r.import_time {
        let _ = writeln!(
            s,
            "Import time (-X importtime, median of {} runs): {} with warm caches, {} with no caches available (+{})",
            t.runs,
            ms_text(t.warm_ms),
            ms_text(t.cold_ms),
            ms_text(t.cold_ms - t.warm_ms)
        );
        let _ = writeln!(
            s,
            "    of which the project's own modules: {} -> {} (the rest is the standard library and installed packages, compiled here only because the cold run hides every cache)",
            ms_text(t.project_warm_ms),
            ms_text(t.project_cold_ms)
        );
        let _ = writeln!(s, "    largest differences (self time):");
        for (name, warm, cold) in &t.slowest {
            let _ = writeln!(s, "      {name}: {} -> {}", ms_text(*warm), ms_text(*cold));
        }
        let _ = writeln!(
            s,
            "    ran: {} (as {}, with the service's environment)",
            t.command,
            whoami()
        );
    }
}

fn whoami() -> String {
    pycache::doctor::identity::Identity::current().name
}
