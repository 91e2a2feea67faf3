//! The runtime-context flags every subcommand that judges a service shares (`scan`,
//! `doctor`): `--unit`, `--pid`, `--user`, `--python PATH|VERSION`, `--venv`, `--entry`,
//! `--env`; and the one parser of `--python` (a path or a version, everywhere).

use crate::cli::path_arg::PathArg;
use pycache::context::{ContextOptions, PythonSpec};
use std::path::PathBuf;

const CONTEXT: &str = "Who runs the service";

/// `--python PATH|VERSION`: a path (or a command name found on PATH), or a version like
/// 3.13 resolved to an installed interpreter.
pub fn parse_python(s: &str) -> Result<PythonSpec, String> {
    PythonSpec::parse(s)
}

/// The flags that describe who runs the service and how.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ContextArgs {
    /// Read the runtime context from a systemd unit (a name, or a unit file path).
    #[arg(long, value_name = "NAME|FILE", conflicts_with = "pid", help_heading = CONTEXT)]
    pub unit: Option<String>,
    /// Look for units and environment files under this root instead of / (as systemctl --root).
    #[arg(value_parser = PathArg, long, value_name = "DIR", help_heading = CONTEXT)]
    pub systemd_root: Option<PathBuf>,
    /// Read the runtime context from a running process.
    #[arg(long, value_name = "N", help_heading = CONTEXT)]
    pub pid: Option<u32>,
    /// The user the service runs as (name or uid; default: the unit's or process's, else you).
    #[arg(long, value_name = "NAME", help_heading = CONTEXT)]
    pub user: Option<String>,
    /// Its primary group (default: the user's).
    #[arg(long, value_name = "NAME", help_heading = CONTEXT)]
    pub group: Option<String>,
    /// The interpreter the service runs: a path (a bare name is looked up on PATH), or a
    /// version like 3.13 (the installed one). Default: the unit's or process's, --venv, a
    /// virtualenv in the project, else the newest one the user can run whose tag has caches
    /// in the tree.
    #[arg(long, value_name = "PATH|VERSION", value_parser = parse_python, help_heading = CONTEXT)]
    pub python: Option<PythonSpec>,
    /// The virtualenv the service runs from (its interpreter decides the tag).
    #[arg(value_parser = PathArg, long, value_name = "DIR", help_heading = CONTEXT)]
    pub venv: Option<PathBuf>,
    /// The script the service starts (default: the unit's ExecStart script, or detected).
    // Not normalised (PathArg): a relative one is looked for here, then in the project.
    #[arg(long, value_name = "FILE", help_heading = CONTEXT)]
    pub entry: Option<PathBuf>,
    /// An environment variable of the service (repeatable), e.g. PYTHONDONTWRITEBYTECODE=1.
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_env, help_heading = CONTEXT)]
    pub env: Vec<(String, String)>,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?} is not KEY=VALUE"))
}

impl ContextArgs {
    /// True when any flag names a context (else `scan` judges caches on their own).
    pub fn given(&self) -> bool {
        self.unit.is_some()
            || self.pid.is_some()
            || self.user.is_some()
            || self.group.is_some()
            || self.python.is_some()
            || self.venv.is_some()
            || self.entry.is_some()
            || !self.env.is_empty()
    }

    /// The library's options, with the prefix and hash-check mode of the subcommand.
    pub fn options(
        &self,
        prefix: Option<PathBuf>,
        check_hash: Option<pycache::pyc::HashCheck>,
    ) -> ContextOptions {
        ContextOptions {
            user: self.user.clone(),
            group: self.group.clone(),
            python: self.python.clone(),
            venv: self.venv.clone(),
            check_hash,
            // A unit written for another machine names users this one lacks: judged by
            // the permission bits for others (a --user that does not exist is refused).
            absent_user_ok: true,
            entry: self.entry.clone(),
            prefix,
            unit: self.unit.clone(),
            systemd_root: self.systemd_root.clone(),
            pid: self.pid,
            env: self.env.clone(),
        }
    }
}
