//! The interpreter, the entry and the cache settings of a context: from the flags, then
//! the command line (`-B`, `-O`, `-E`/`-I`, `-X pycache_prefix`,
//! `--check-hash-based-pycs`), then the environment (`PYTHONPYCACHEPREFIX`,
//! `PYTHONDONTWRITEBYTECODE`, `PYTHONOPTIMIZE`), as CPython combines them.

use super::python::PythonSpec;
use super::runtime::{ContextOptions, RuntimeContext};
use crate::doctor::command::absolute;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub(super) fn python_and_entry(ctx: &mut RuntimeContext, opts: &ContextOptions, cmd_from: &str) {
    let cmd = ctx.command.clone().unwrap_or_default();
    if let Some(v) = &opts.venv {
        ctx.venv = Some(v.clone());
        ctx.note("virtualenv", crate::text::display_path(v), "--venv");
    }
    if let Some(PythonSpec::Path(p)) = &opts.python {
        // A bare name is looked up on PATH, as a shell would.
        let p = super::python::on_path(p);
        ctx.python = Some(p.clone());
        ctx.note("python", crate::text::display_path(&p), "--python");
    } else if let Some(PythonSpec::Version(v)) = &opts.python {
        ctx.python_version = Some(*v);
    } else if opts.venv.is_some() {
        // The virtualenv decides (its interpreter is chosen with the project known).
    } else if let Some(p) = &cmd.interpreter {
        ctx.python = Some(p.clone());
        ctx.note(
            "python",
            crate::text::display_path(p),
            format!("{} ({cmd_from})", cmd.interpreter_via),
        );
    }
    if let Some(e) = &opts.entry {
        ctx.entry = Some(e.clone()); // resolved against the project once it is known
        ctx.note("entry", crate::text::display_path(e), "--entry");
    } else if let Some(s) = &cmd.script {
        ctx.entry = Some(s.clone());
        ctx.note("entry", crate::text::display_path(s), cmd_from);
    } else if let (Some(m), Some(wd)) = (&cmd.module, &ctx.working_dir) {
        let rel = m.replace('.', "/");
        let candidates = [
            wd.join(format!("{rel}.py")),
            wd.join(&rel).join("__main__.py"),
        ];
        if let Some(found) = candidates.into_iter().find(|p| p.is_file()) {
            ctx.note(
                "entry",
                crate::text::display_path(&found),
                format!("-m {m} in {cmd_from}"),
            );
            ctx.entry = Some(found);
        }
    }
}

pub(super) fn cache_settings(
    ctx: &mut RuntimeContext,
    opts: &ContextOptions,
    env_from: &BTreeMap<String, String>,
    cmd_from: &str,
) {
    let cmd = ctx.command.clone().unwrap_or_default();
    let env_var = |ctx: &RuntimeContext, name: &str| {
        if cmd.ignore_env {
            return None;
        }
        let v = ctx.env.get(name).filter(|v| !v.is_empty())?;
        Some((v.clone(), env_from.get(name).cloned().unwrap_or_default()))
    };
    let env_prefix = env_var(ctx, "PYTHONPYCACHEPREFIX");
    let env_dont_write = env_var(ctx, "PYTHONDONTWRITEBYTECODE");
    let env_optimize = env_var(ctx, "PYTHONOPTIMIZE");
    if cmd.ignore_env
        && (ctx.env.contains_key("PYTHONPYCACHEPREFIX")
            || ctx.env.contains_key("PYTHONDONTWRITEBYTECODE"))
    {
        ctx.notes.push(format!(
            "-E/-I in {cmd_from}: the interpreter ignores PYTHON* environment variables"
        ));
    }
    // -X pycache_prefix wins over the environment; the flag overrides both.
    let prefix = match (&opts.prefix, &cmd.prefix, env_prefix) {
        (Some(p), _, _) => Some((p.display().to_string(), "--pycache-prefix".to_string())),
        (None, Some(p), _) if !p.is_empty() => {
            Some((p.clone(), format!("-X pycache_prefix in {cmd_from}")))
        }
        (None, _, Some((v, from))) => Some((v, format!("PYTHONPYCACHEPREFIX from {from}"))),
        _ => None,
    };
    if let Some((raw, from)) = prefix {
        let p = PathBuf::from(&raw);
        if p.is_relative() {
            ctx.notes.push(format!(
                "the cache prefix {raw} is relative: Python resolves it against the current directory at each import"
            ));
        }
        let cwd = ctx
            .working_dir
            .clone()
            .or_else(|| std::env::current_dir().ok());
        let abs = absolute(&p, cwd.as_deref());
        ctx.note("pycache prefix", crate::text::display_path(&abs), from);
        ctx.prefix = Some(abs);
    }
    if cmd.dont_write {
        ctx.dont_write = Some(format!("-B in {cmd_from}"));
    } else if let Some((v, from)) = env_dont_write {
        ctx.dont_write = Some(format!("PYTHONDONTWRITEBYTECODE={v} from {from}"));
    }
    if let Some(why) = ctx.dont_write.clone() {
        ctx.note("write bytecode", "no", why);
    }
    match (opts.check_hash, cmd.check_hash) {
        (Some(m), _) => {
            ctx.hash_check = m;
            ctx.note(
                "check hash-based pycs",
                m.as_str(),
                "--check-hash-based-pycs",
            );
        }
        (None, Some(m)) => {
            ctx.hash_check = m;
            ctx.note(
                "check hash-based pycs",
                m.as_str(),
                format!("--check-hash-based-pycs in {cmd_from}"),
            );
        }
        (None, None) => {}
    }
    // CPython counts the -O flags, then raises the level to PYTHONOPTIMIZE's when that is
    // higher (a value that is not a number counts as 1).
    ctx.optimize = cmd.optimize.min(2);
    let mut optimize_from =
        (ctx.optimize > 0).then(|| format!("-{} in {cmd_from}", "O".repeat(ctx.optimize.into())));
    if let Some((v, from)) = env_optimize {
        let level = v.trim().parse::<u8>().unwrap_or(1).min(2);
        if level > ctx.optimize {
            ctx.optimize = level;
            optimize_from = Some(format!("PYTHONOPTIMIZE={v} from {from}"));
        }
    }
    if let Some(from) = optimize_from {
        ctx.note("optimize", format!("-O level {}", ctx.optimize), from);
    }
}
