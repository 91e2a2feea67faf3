//! The runtime context: who runs the code and how (user, interpreter, entry, environment,
//! cache prefix, `-B`, `-O`, `--check-hash-based-pycs`, sandbox), derived from flags, a
//! systemd unit, or a running process, with a record of where each fact came from.

use super::python::{Python, PythonSpec};
use super::settings::{cache_settings, python_and_entry};
use crate::doctor::DoctorError;
use crate::doctor::access::{PathMode, Sandbox};
use crate::doctor::command::PythonCommand;
use crate::doctor::identity::Identity;
use crate::doctor::{process, service, unit};
use crate::pyc::HashCheck;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the user asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct ContextOptions {
    /// `--user`.
    pub user: Option<String>,
    /// `--group`.
    pub group: Option<String>,
    /// `--python PATH|VERSION`.
    pub python: Option<PythonSpec>,
    /// `--venv DIR`: the virtualenv whose interpreter runs the service.
    pub venv: Option<PathBuf>,
    /// `--check-hash-based-pycs MODE` (default: the command line's, else `default`).
    pub check_hash: Option<HashCheck>,
    /// A unit's `User=` that does not exist on this machine is kept as a user without a
    /// uid (judged by the "other" permission bits) instead of refused: for reviewing a
    /// unit written for another machine, and for the demo.
    pub absent_user_ok: bool,
    /// `--entry`.
    pub entry: Option<PathBuf>,
    /// `--pycache-prefix`.
    pub prefix: Option<PathBuf>,
    /// `--unit NAME|FILE`.
    pub unit: Option<String>,
    /// `--systemd-root` (default `/`).
    pub systemd_root: Option<PathBuf>,
    /// `--pid`.
    pub pid: Option<u32>,
    /// `--env KEY=VALUE`.
    pub env: Vec<(String, String)>,
}

/// One derived fact and its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Derived {
    /// What (`user`, `python`, `prefix`...).
    pub what: String,
    /// The value.
    pub value: String,
    /// Where it came from (`--user`, `User= at FILE:LINE`, `/proc/42/status`).
    pub from: String,
}

/// Who runs the code and how.
#[derive(Debug, Clone, Serialize)]
pub struct RuntimeContext {
    /// The user as the kernel sees it.
    pub identity: Identity,
    /// The interpreter's path as named (None: none named; see `python_version` and
    /// [`super::choose_interpreter`]).
    pub python: Option<PathBuf>,
    /// `--python VERSION`: the installed interpreter of this version is wanted.
    pub python_version: Option<crate::pyc::PyVersion>,
    /// `--venv DIR`.
    pub venv: Option<PathBuf>,
    /// The interpreter, once chosen ([`super::choose_interpreter`]).
    pub interpreter: Option<Python>,
    /// The Python command line, when known.
    #[serde(skip)]
    pub command: Option<PythonCommand>,
    /// The script the service starts.
    pub entry: Option<PathBuf>,
    /// Its working directory.
    pub working_dir: Option<PathBuf>,
    /// Its environment (only what was known).
    pub env: BTreeMap<String, String>,
    /// The effective `pycache_prefix`, absolute; whether the interpreter honours it
    /// (3.8+) is decided later.
    pub prefix: Option<PathBuf>,
    /// Why bytecode is not written, when it is not.
    pub dont_write: Option<String>,
    /// `-O` level.
    pub optimize: u8,
    /// `--check-hash-based-pycs`.
    pub hash_check: HashCheck,
    /// Mount rules of the unit.
    pub sandbox: Sandbox,
    /// The systemd unit, when there is one.
    pub unit: Option<String>,
    /// Every derived fact with its source.
    pub derived: Vec<Derived>,
    /// Remarks (unreadable files, odd settings).
    pub notes: Vec<String>,
}

impl RuntimeContext {
    /// The context in a few words, for a title: `cpython-313 as lernmanager, prefix
    /// instance/tmp` (the prefix relative to `root` when it is inside it; `-O`, no
    /// bytecode and a hash-check mode other than the default when they apply).
    pub fn title(&self, root: &Path) -> String {
        let python = self
            .interpreter
            .as_ref()
            .map_or_else(|| "no interpreter".to_string(), super::Python::key);
        let mut out = format!("{python} as {}", self.identity.name);
        if let Some(p) = &self.prefix {
            let shown = p.strip_prefix(root).unwrap_or(p);
            out.push_str(&format!(", prefix {}", crate::text::display_path(shown)));
        }
        if self.optimize > 0 {
            out.push_str(&format!(", -{}", "O".repeat(self.optimize.into())));
        }
        if self.dont_write.is_some() {
            out.push_str(", bytecode writing off");
        }
        if self.hash_check != HashCheck::Default {
            out.push_str(&format!(
                ", hash-based pycs checked: {}",
                self.hash_check.as_str()
            ));
        }
        out
    }

    /// The context as JSON, with only the interpreter's own environment variables
    /// (`PYTHON*`): a service's environment holds secrets.
    pub fn to_public_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!(self);
        let env: serde_json::Map<String, serde_json::Value> = self
            .env
            .iter()
            .filter(|(k, _)| k.starts_with("PYTHON"))
            .map(|(k, v)| (k.clone(), v.clone().into()))
            .collect();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("env".into(), env.into());
        }
        v
    }

    pub(super) fn note(&mut self, what: &str, value: impl Into<String>, from: impl Into<String>) {
        self.derived.push(Derived {
            what: what.into(),
            value: value.into(),
            from: from.into(),
        });
    }
}

/// Derives the context: unit or process first, then flags on top, then defaults.
pub fn resolve(opts: &ContextOptions) -> Result<RuntimeContext, DoctorError> {
    let mut ctx = RuntimeContext {
        identity: Identity::current(),
        python: None,
        python_version: None,
        venv: None,
        interpreter: None,
        command: None,
        entry: None,
        working_dir: None,
        env: BTreeMap::new(),
        prefix: None,
        dont_write: None,
        optimize: 0,
        hash_check: HashCheck::Default,
        sandbox: Sandbox::default(),
        unit: None,
        derived: Vec::new(),
        notes: Vec::new(),
    };
    let mut env_from: BTreeMap<String, String> = BTreeMap::new();
    let mut cmd_from = String::new();
    let root = opts
        .systemd_root
        .clone()
        .unwrap_or_else(|| PathBuf::from("/"));
    let mut user_known = false;
    if let Some(name) = &opts.unit {
        cmd_from = from_unit(&mut ctx, name, opts, &root, &mut env_from)?;
        user_known = true;
    } else if let Some(pid) = opts.pid {
        (cmd_from, user_known) = from_process(&mut ctx, pid, opts, &root, &mut env_from)?;
    }
    if let Some(user) = &opts.user {
        ctx.identity = Identity::lookup(user, opts.group.as_deref(), &[])?;
        ctx.note("user", ctx.identity.describe(), "--user");
    } else if let Some(group) = &opts.group {
        let name = ctx.identity.name.clone();
        ctx.identity = Identity::lookup(&name, Some(group), &[])?;
        ctx.note("user", ctx.identity.describe(), "--group");
    } else if !user_known {
        ctx.note(
            "user",
            ctx.identity.describe(),
            "the current user (no --user, --unit or --pid)",
        );
        // Diagnosing yourself: your shell's environment is the one that matters.
        for (k, v) in std::env::vars() {
            env_from.insert(k.clone(), "the current environment".into());
            ctx.env.insert(k, v);
        }
    }
    for (k, v) in &opts.env {
        env_from.insert(k.clone(), "--env".into());
        ctx.env.insert(k.clone(), v.clone());
    }
    if let Some(cmd) = &ctx.command {
        for (k, v) in &cmd.env_assignments {
            env_from.insert(k.clone(), format!("env in {cmd_from}"));
            ctx.env.insert(k.clone(), v.clone());
        }
    }
    python_and_entry(&mut ctx, opts, &cmd_from);
    cache_settings(&mut ctx, opts, &env_from, &cmd_from);
    Ok(ctx)
}

/// The context a unit gives; returns where its command line came from.
fn from_unit(
    ctx: &mut RuntimeContext,
    name: &str,
    opts: &ContextOptions,
    root: &Path,
    env_from: &mut BTreeMap<String, String>,
) -> Result<String, DoctorError> {
    let file = unit::UnitFile::load(name, root)?;
    let svc = service::resolve(&file, root)?;
    ctx.unit = Some(svc.name.clone());
    let mut files = vec![crate::text::display_path(&file.path)];
    files.extend(file.dropins.iter().map(|d| crate::text::display_path(d)));
    ctx.note("unit", &svc.name, files.join(" + "));
    apply_service(ctx, &svc, env_from, opts)?;
    let mut cmd_from = String::new();
    if let Some((cmd, line, origin)) = svc.exec {
        cmd_from = format!("ExecStart= at {origin}");
        ctx.note("command", line, &cmd_from);
        ctx.command = Some(cmd);
    }
    Ok(cmd_from)
}

/// The context a running process gives (its unit adds the sandbox); returns where its
/// command line came from, and whether its user is known.
fn from_process(
    ctx: &mut RuntimeContext,
    pid: u32,
    opts: &ContextOptions,
    root: &Path,
    env_from: &mut BTreeMap<String, String>,
) -> Result<(String, bool), DoctorError> {
    let info = process::read(pid, Path::new("/proc"))?;
    if info.command.interpreter.is_none() && opts.python.is_none() {
        return Err(DoctorError::new(format!(
            "process {pid} ({}) does not run a Python interpreter; pass the pid of the service's Python process (or --python with the interpreter it embeds)",
            info.cmdline.split(' ').next().unwrap_or_default()
        )));
    }
    let user_known = info.identity.is_some();
    if let Some(id) = info.identity.clone() {
        ctx.note("user", id.describe(), format!("/proc/{pid}/status"));
        ctx.identity = id;
    }
    for (k, v) in info.env.iter().flatten() {
        env_from.insert(k.clone(), format!("/proc/{pid}/environ"));
        ctx.env.insert(k.clone(), v.clone());
    }
    if let Some(cwd) = &info.cwd {
        ctx.note(
            "working directory",
            crate::text::display_path(cwd),
            format!("/proc/{pid}/cwd"),
        );
        ctx.working_dir = Some(cwd.clone());
    }
    let cmd_from = format!("/proc/{pid}/cmdline");
    ctx.note("command", &info.cmdline, &cmd_from);
    ctx.command = Some(info.command.clone());
    ctx.notes.extend(info.notes.clone());
    if let Some(u) = info
        .unit
        .as_deref()
        .and_then(|u| unit::UnitFile::load(u, root).ok())
        && let Ok(svc) = service::resolve(&u, root)
    {
        ctx.note(
            "unit",
            &svc.name,
            format!(
                "/proc/{pid}/cgroup (sandbox from {})",
                crate::text::display_path(&u.path)
            ),
        );
        ctx.unit = Some(svc.name);
        ctx.sandbox = svc.sandbox;
    }
    Ok((cmd_from, user_known))
}

fn apply_service(
    ctx: &mut RuntimeContext,
    svc: &service::Service,
    env_from: &mut BTreeMap<String, String>,
    opts: &ContextOptions,
) -> Result<(), DoctorError> {
    apply_service_settings(ctx, svc, env_from);
    if opts.user.is_some() {
        return Ok(()); // --user wins; the unit's User= may not exist on this machine
    }
    let extra: Vec<String> = svc.supplementary.iter().map(|g| g.0.clone()).collect();
    let (identity, from) = match (&svc.dynamic_user, &svc.user) {
        (Some(o), user)
            if user
                .as_ref()
                .is_none_or(|u| nix::unistd::User::from_name(&u.0).ok().flatten().is_none()) =>
        {
            let name = user
                .as_ref()
                .map_or(svc.name.trim_end_matches(".service").to_string(), |u| {
                    u.0.clone()
                });
            (
                Identity::dynamic(&name, &extra)?,
                format!("DynamicUser=yes at {o}"),
            )
        }
        (_, Some((name, origin))) => {
            let group = svc.group.as_ref().map(|g| g.0.as_str());
            match Identity::lookup(name, group, &extra) {
                Ok(id) => (id, format!("User= at {origin}")),
                Err(_) if opts.absent_user_ok && !name.is_empty() => {
                    ctx.note(
                        "user",
                        format!("{name} (not on this machine: no uid, so the permission bits for others decide)"),
                        format!("User= at {origin}"),
                    );
                    ctx.identity = Identity::absent(name);
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
        (_, None) => (
            Identity::lookup("root", svc.group.as_ref().map(|g| g.0.as_str()), &extra)?,
            "no User= (systemd runs the service as root)".to_string(),
        ),
    };
    ctx.note("user", identity.describe(), from);
    ctx.identity = identity;
    Ok(())
}

fn apply_service_settings(
    ctx: &mut RuntimeContext,
    svc: &service::Service,
    env_from: &mut BTreeMap<String, String>,
) {
    if let Some((dir, origin)) = &svc.working_dir {
        ctx.note(
            "working directory",
            crate::text::display_path(dir),
            format!("WorkingDirectory= at {origin}"),
        );
        ctx.working_dir = Some(dir.clone());
    }
    for (k, (v, origin)) in &svc.env {
        env_from.insert(k.clone(), origin.to_string());
        ctx.env.insert(k.clone(), v.clone());
    }
    // One row per setting: `/dev /proc /sys writable` from ProtectSystem=strict.
    let mut rows: Vec<(String, String)> = Vec::new();
    for rule in &svc.sandbox.rules {
        let mode = match rule.mode {
            PathMode::Writable => "writable",
            PathMode::ReadOnly => "read-only",
            PathMode::Inaccessible => "inaccessible",
        };
        let path = crate::text::display_path(&rule.path);
        match rows.last_mut() {
            Some((paths, why)) if *why == rule.why && paths.ends_with(mode) => {
                let cut = paths.len() - mode.len();
                paths.replace_range(cut.., &format!("{path} {mode}"));
            }
            _ => rows.push((format!("{path} {mode}"), rule.why.clone())),
        }
    }
    for (value, why) in rows {
        ctx.note("sandbox", value, why);
    }
    ctx.sandbox = svc.sandbox.clone();
    ctx.notes.extend(svc.notes.clone());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_make_a_context_without_the_shell_environment() {
        let ctx = resolve(&ContextOptions {
            user: Some("root".into()),
            env: vec![("PYTHONDONTWRITEBYTECODE".into(), "1".into())],
            prefix: Some("rel".into()),
            ..ContextOptions::default()
        })
        .unwrap();
        assert!(ctx.identity.is_root());
        assert!(ctx.dont_write.as_deref().unwrap().contains("--env"));
        assert!(ctx.prefix.unwrap().is_absolute());
        assert!(
            ctx.derived
                .iter()
                .any(|d| d.what == "user" && d.from == "--user")
        );
        assert!(!ctx.env.contains_key("HOME"));
    }
}
