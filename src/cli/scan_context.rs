//! `pycache scan PATH --unit X | --python ... | --user ...`: the service's view of the tree.
//! The library builds the context and judges the next start (`pycache::context::service`);
//! this file prints it (text, or `--json` as a `kind: "service"` document, or the
//! `--summary --json` object with a `context` member: docs/json.md).

use super::scan::{Args, print_quietly, scan_with_progress, summary, warn_skipped, write_quietly};
use color_eyre::eyre::{Result, bail, eyre};
use pycache::context::outcome::NextStart;
use pycache::context::{Service, When};
use pycache::scan::json::Origin;
use std::process::ExitCode;

/// Runs `scan` under the context the flags name.
pub fn run(args: &Args) -> Result<ExitCode> {
    if args.paths.len() > 1 {
        bail!(
            "a service context judges one project: give one PATH (got {}), or drop --unit/--python/--user",
            args.paths.len()
        );
    }
    if args.jsonl {
        bail!(
            "--jsonl lists caches on their own: use --json for the service's view, or drop the context flags"
        );
    }
    // The flags are checked as without a context (a file, a FIFO, a bad --exclude).
    super::scan::options(args)?;
    let opts = args
        .context
        .options(args.pycache_prefix.clone(), args.check_hash_based_pycs);
    let mut scan = |mut o: pycache::scan::ScanOptions| {
        o.excludes = args.exclude.clone();
        o.follow_symlinks = args.follow_symlinks;
        o.one_file_system = args.one_file_system;
        o.header_only = args.header_only;
        scan_with_progress(o).map_err(|e| e.to_string())
    };
    let started = std::time::Instant::now();
    let (svc, model) = pycache::context::service(
        args.paths.first().map(|p| p.as_path()),
        &opts,
        false, // nothing from the project runs: its interpreters are described
        &mut scan,
    )
    .map_err(|e| eyre!(e))?;
    if let Some(file) = &args.metrics {
        let unread = super::scan::skipped(&model).len();
        super::metrics::write_scan(file, &model, started.elapsed(), unread, Some(&svc.view))?;
    }
    if args.summary {
        let mut buf = Vec::new();
        model.write_summary(&mut buf, &Origin::here_and_now(), false)?;
        let mut doc: serde_json::Value = serde_json::from_slice(&buf)?;
        if let Some(obj) = doc.as_object_mut() {
            obj.insert("context".into(), summary_json(&svc));
        }
        write_quietly(|out| pycache::scan::json::write_value(out, &doc, args.pretty))?;
    } else if args.json {
        let doc = service_json(&svc);
        write_quietly(|out| pycache::scan::json::write_value(out, &doc, args.pretty))?;
    } else {
        let mut text = render(&svc);
        text.push('\n');
        text.push_str(&summary(&model, super::color_enabled(false)));
        print_quietly(&pycache::text::terminal_safe_lines(&text))?;
    }
    let bad = svc.view.modules.iter().any(|m| {
        matches!(
            m.next,
            NextStart::CompilesEveryStart | NextStart::ImportError
        )
    });
    Ok(if warn_skipped(&model, "the scan") {
        ExitCode::from(2)
    } else if args.check && (bad || model.has_problems()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The `context` member of `scan --summary --json`.
fn summary_json(svc: &Service) -> serde_json::Value {
    let ctx = &svc.context;
    let py = ctx.interpreter.as_ref();
    serde_json::json!({
        "title": ctx.title(&svc.root),
        "user": ctx.identity.name,
        "uid": ctx.identity.uid,
        "python": py.map(|p| pycache::text::path_text(&p.path)),
        "version": py.map(|p| p.version.clone()),
        "tag": py.map(pycache::context::Python::key),
        "prefix": ctx.prefix.as_deref().map(pycache::text::path_text),
        "optimize": ctx.optimize,
        "dont_write": ctx.dont_write,
        "check_hash_based_pycs": ctx.hash_check,
        "unit": ctx.unit,
        "imports_from": svc.start.how,
        "modules": svc.view.counts.modules,
        "every_start_at_start": svc.view.counts.every_start_at_start,
        "unused_caches": svc.view.counts.unused_caches,
    })
}

/// The `scan --json` document under a context (`kind: "service"`).
fn service_json(svc: &Service) -> serde_json::Value {
    serde_json::json!({
        "schema": pycache::scan::SCHEMA,
        "kind": "service",
        "pycache": env!("CARGO_PKG_VERSION"),
        "root": pycache::text::path_text(&svc.root),
        "title": svc.context.title(&svc.root),
        "context": svc.context.to_public_json(),
        "imports_from": svc.start.how,
        "followed": svc.start.followed,
        "entry_script": svc.start.entry_script.as_deref().map(pycache::text::path_text),
        "counts": svc.view.counts,
        "every_start_ms": svc.view.every_start_ms,
        "first_use_ms": svc.view.first_use_ms,
        "once_ms": svc.view.once_ms,
        "modules": svc.view.modules,
        "caches": svc.view.caches_json(),
        "notes": svc.context.notes.iter().chain(&svc.start.notes).chain(&svc.view.notes).collect::<Vec<_>>(),
    })
}

/// The text report: the context with its sources, then each module's next start.
pub fn render(svc: &Service) -> String {
    let ctx = &svc.context;
    let width = super::wrap::width();
    let mut s = format!("service context: {}\n", ctx.title(&svc.root));
    for d in &ctx.derived {
        s.push_str(&format!("  {:<22} {}\n", d.what, d.value));
        super::wrap::prose(
            &mut s,
            &format!("  {:<22} from ", ""),
            &" ".repeat(30),
            &d.from,
            width,
        );
    }
    let v = &svc.view;
    let n = |o: NextStart| v.counts.modules.get(o.as_str()).copied().unwrap_or(0);
    s.push_str(&format!(
        "\nnext start: {} imported module{} ({})\n",
        v.modules.len(),
        if v.modules.len() == 1 { "" } else { "s" },
        svc.start.how
    ));
    s.push_str(&format!(
        "  {} load{} a cache, {} compile{} and write the cache, {} compile{} at every start, {} fail{} to import\n",
        n(NextStart::LoadsCache),
        plural_s(n(NextStart::LoadsCache)),
        n(NextStart::CompilesWritesCache),
        plural_s(n(NextStart::CompilesWritesCache)),
        n(NextStart::CompilesEveryStart),
        plural_s(n(NextStart::CompilesEveryStart)),
        n(NextStart::ImportError),
        plural_s(n(NextStart::ImportError)),
    ));
    if let Some(ms) = v.every_start_ms {
        s.push_str(&format!("  every start loses {ms:.2} ms compiling\n"));
    }
    s.push_str(&format!(
        "\n  {:<28} {:<13} next start\n",
        "module", "imported"
    ));
    for m in &v.modules {
        let when = match m.when {
            When::AtStart => "at start",
            When::OnFirstUse => "on first use",
        };
        s.push_str(&format!(
            "  {:<28} {:<13} {}\n",
            m.module,
            when,
            m.next.words()
        ));
        if m.next != NextStart::LoadsCache {
            super::wrap::prose(&mut s, "      ", "      ", &m.why, width);
        }
    }
    let mut unused: Vec<(usize, &str)> = v
        .counts
        .unused_caches
        .iter()
        .map(|(k, n)| (*n, unused_words(k)))
        .collect();
    unused.sort_by_key(|u| std::cmp::Reverse(u.0));
    let total: usize = unused.iter().map(|u| u.0).sum();
    if total > 0 {
        let parts: Vec<String> = unused.iter().map(|(n, w)| format!("{n} {w}")).collect();
        s.push_str(&format!("\ncaches this service never reads: {total}\n"));
        super::wrap::prose(&mut s, "  ", "  ", &parts.join(", "), width);
    }
    for note in ctx.notes.iter().chain(&svc.start.notes).chain(&v.notes) {
        super::wrap::prose(&mut s, "note: ", "  ", note, width);
    }
    s
}

fn plural_s(n: usize) -> &'static str {
    if n == 1 { "s" } else { "" }
}

fn unused_words(key: &str) -> &'static str {
    match key {
        "other-tag" => "for another interpreter",
        "other-opt-level" => "for another -O level",
        "pycache-while-prefix" => "in __pycache__ while the prefix is set",
        "prefix-not-in-effect" => "in a prefix tree not in effect",
        "shadowed" => "shadowed legacy .pyc",
        "orphaned" => "orphaned (source gone)",
        "pytest" => "pytest caches",
        _ => "of modules this start does not import",
    }
}
