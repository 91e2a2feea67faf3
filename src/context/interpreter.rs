//! Which interpreter's caches count: the one named by `--python PATH` (or found for
//! `--python VERSION`), the unit or the process, `--venv`, else a virtualenv in the
//! project, else the newest interpreter the service's user can run whose tag has caches in
//! the tree, else the newest it can run (a service cannot start an interpreter under
//! `/root`). Discovery and probing are `actions::interpreters`', which never runs a program
//! another user could have changed (`actions::trust`): such a virtualenv's interpreter is
//! described from its `pyvenv.cfg`.

use super::python::Python;
use super::runtime::RuntimeContext;
use crate::actions::interpreters::{self, Interpreters, Origin};
use crate::doctor::DoctorError;
use crate::doctor::access;
use crate::imports;
use std::path::{Path, PathBuf};

/// The interpreter whose caches count, and how it was chosen (in `Python::from`); remarks
/// go to `notes`. Without `run` (`--no-measure`) nothing from the tree is executed: a
/// virtualenv's interpreter (or one under `root`) is described from its `pyvenv.cfg`.
///
/// `tags` are the cache keys found in the tree (`cpython-313`), newest guess first: with
/// nothing else to go by, the newest interpreter whose tag has caches there is preferred.
pub fn choose_python(
    ctx: &RuntimeContext,
    root: &Path,
    run: bool,
    tags: &[String],
    notes: &mut Vec<String>,
) -> Result<Python, DoctorError> {
    let user = &ctx.identity;
    let (found, from) = if let Some(p) = &ctx.python {
        let from = ctx
            .derived
            .iter()
            .rev()
            .find(|d| d.what == "python")
            .map_or("--python".into(), |d| d.from.clone());
        let in_tree = p.starts_with(root)
            || std::fs::canonicalize(p).is_ok_and(|real| real.starts_with(root));
        let i = if !run && in_tree {
            let i = interpreters::describe(p, Origin::Flag).map_err(DoctorError::new)?;
            notes.push(format!(
                "{} was not run (--no-measure runs nothing from the project): Python {} read from its pyvenv.cfg",
                crate::scan::record::display_path(p),
                i.version
            ));
            i
        } else if !p.exists()
            && from != "--python"
            && let Some(named) = Python::from_name(p, &from)
        {
            // Not on this machine (a unit written for a server): its name says which.
            notes.push(format!(
                "{} is not on this machine: described as CPython {} from its name",
                crate::text::display_path(p),
                named.version
            ));
            return Ok(Python {
                from: format!("{from}; not on this machine, described from its name"),
                ..named
            });
        } else {
            match probe_given(p, &from) {
                // Without `run`, an interpreter another user could change is described
                // from its virtualenv's pyvenv.cfg instead of refused.
                Err(e) if !run && e.to_string().contains("refusing to run") => {
                    let i = interpreters::describe(p, Origin::Flag).map_err(|_| e)?;
                    notes.push(format!(
                        "{} was not run (another user could change it): Python {} read from its pyvenv.cfg",
                        crate::scan::record::display_path(p),
                        i.version
                    ));
                    i
                }
                other => other?,
            }
        };
        if let Some(b) = access::check_exec(user, p) {
            notes.push(format!(
                "{} cannot run {} ({}: {})",
                user.name,
                p.display(),
                b.path.display(),
                b.why
            ));
        }
        (i, from)
    } else if let Some(v) = ctx.python_version {
        (by_version(v, root, run, user)?, format!("--python {v}"))
    } else {
        let venvs: Vec<PathBuf> = ctx
            .venv
            .clone()
            .or_else(|| imports::venv::detect(root))
            .into_iter()
            .collect();
        let mut all = Interpreters::discover(&[], &venvs);
        if !run {
            all = all.planning_only(&[root.to_path_buf()]);
        }
        all.probe_all();
        // An interpreter pycache refused to run (another user could change it) is named,
        // so a virtualenv that was skipped for that reason does not go unnoticed.
        notes.extend(
            all.problems
                .iter()
                .filter(|p| p.contains("refusing to run"))
                .cloned(),
        );
        let (runnable, barred): (Vec<_>, Vec<_>) = std::mem::take(&mut all.found)
            .into_iter()
            .partition(|i| access::check_exec(user, &i.path).is_none());
        all.found = runnable;
        if let Some(i) = barred
            .iter()
            .filter(|i| i.tag.is_some())
            .max_by_key(|i| i.python)
            && all.newest().is_none_or(|n| n.python < i.python)
        {
            notes.push(format!(
                "{} cannot run {} (Python {}), so it is not the service's interpreter; pass --python if it is",
                user.name,
                i.path.display(),
                i.version
            ));
        }
        let mut pick = all.found.iter().find(|i| i.origin == Origin::Venv).cloned();
        let mut from_venv = match &ctx.venv {
            Some(v) => format!("--venv {}", crate::text::display_path(v)),
            None => "the project's virtualenv".to_string(),
        };
        if pick.is_none() && run {
            // Its interpreter was refused (another user could change it): it is still the
            // service's, so its caches are the ones that count. Described, never run;
            // measuring with it then fails with the refusal.
            pick = refused_venv(&venvs, &all.problems, user);
            from_venv = "the project's virtualenv (described from its pyvenv.cfg: pycache does not run an interpreter another user could change)".into();
        }
        if pick.is_none() && ctx.venv.is_some() {
            return Err(DoctorError::new(format!(
                "--venv {}: no interpreter {} can run in its bin/ (python3, python); pass the virtualenv's directory, or --python PATH",
                crate::text::display_path(&venvs[0]),
                user.name
            )));
        }
        let with_caches = all
            .found
            .iter()
            .filter(|i| tags.contains(&i.key()))
            .max_by_key(|i| i.python)
            .cloned();
        let from = if pick.is_some() {
            from_venv
        } else if let Some(i) = &with_caches {
            pick = Some(i.clone());
            format!(
                "a guess: the newest interpreter {} can run whose tag ({}) has caches in the tree (pass --python or --unit to choose)",
                user.name,
                i.key()
            )
        } else {
            format!(
                "a guess: the newest interpreter {} can run (pass --python or --unit to choose)",
                user.name
            )
        };
        let i = pick.or_else(|| all.newest().cloned()).ok_or_else(|| {
            DoctorError::new(format!(
                "no Python interpreter that {} can run was found; pass --python PATH (the service's interpreter)",
                user.name
            ))
        })?;
        (i, from)
    };
    Ok(Python {
        path: found.path,
        version: found.version,
        python: found.python,
        implementation: found.implementation,
        tag: found.tag,
        magic: found.magic,
        from,
    })
}

/// The installed interpreter of language version `v` that `user` can run (the newest
/// patch release; a virtualenv of the project first).
fn by_version(
    v: crate::pyc::PyVersion,
    root: &Path,
    run: bool,
    user: &crate::doctor::identity::Identity,
) -> Result<interpreters::Interpreter, DoctorError> {
    let venvs: Vec<PathBuf> = imports::venv::detect(root).into_iter().collect();
    let mut all = Interpreters::discover(&[], &venvs);
    if !run {
        all = all.planning_only(&[root.to_path_buf()]);
    }
    all.probe_all();
    let mut fits: Vec<interpreters::Interpreter> = all
        .found
        .into_iter()
        .filter(|i| i.python == v && access::check_exec(user, &i.path).is_none())
        .collect();
    fits.sort_by_key(|i| {
        (
            i.origin != Origin::Venv,
            std::cmp::Reverse(super::python::patch_of(&i.version)),
        )
    });
    fits.into_iter().next().ok_or_else(|| {
        DoctorError::new(format!(
            "--python {v}: no installed Python {v} that {} can run was found; install it, or pass --python PATH",
            user.name
        ))
    })
}

/// The interpreter of a project virtualenv that probing refused to run, described from
/// its `pyvenv.cfg`, when the service's user can run it.
fn refused_venv(
    venvs: &[PathBuf],
    problems: &[String],
    user: &crate::doctor::identity::Identity,
) -> Option<interpreters::Interpreter> {
    venvs
        .iter()
        .flat_map(|v| ["python3", "python"].map(|n| v.join("bin").join(n)))
        .filter(|p| {
            let shown = crate::scan::record::display_path(p);
            problems
                .iter()
                .any(|m| m.contains("refusing to run") && m.contains(shown.as_str()))
        })
        .filter(|p| access::check_exec(user, p).is_none())
        .find_map(|p| interpreters::describe(&p, Origin::Venv).ok())
}

/// Probes the interpreter named by a flag, a unit or a process; checks the file first so
/// that the error says what is wrong with it.
fn probe_given(p: &Path, from: &str) -> Result<interpreters::Interpreter, DoctorError> {
    use std::os::unix::fs::PermissionsExt;
    let why = match std::fs::metadata(p) {
        Err(e) => imports::io_reason(&e),
        Ok(m) if m.is_dir() || m.permissions().mode() & 0o111 == 0 => {
            "not an executable file".into()
        }
        Ok(_) => match interpreters::probe(p, Origin::Flag) {
            Ok(i) => return Ok(i),
            // The probe's message starts with the path, which the error names already.
            Err(e) if e.starts_with("refusing to run") => e,
            Err(e) if e.contains("did not answer") => {
                "it does not answer like a Python interpreter".into()
            }
            Err(e) => plain_os_text(e.split_once(": ").map_or(&e, |(_, why)| why)),
        },
    };
    Err(DoctorError::new(format!(
        "cannot use {} as the interpreter (from {from}): {why}; pass --python with the interpreter the service runs",
        p.display()
    )))
}

/// `cannot run it: Exec format error (os error 8)` -> `cannot run it: exec format error`.
fn plain_os_text(text: &str) -> String {
    let text = text.split(" (os error").next().unwrap_or(text);
    match text.rsplit_once(": ") {
        Some((head, os)) => format!("{head}: {}", os.to_lowercase()),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_read_as_words() {
        assert_eq!(
            plain_os_text("cannot run it: Exec format error (os error 8)"),
            "cannot run it: exec format error"
        );
        assert_eq!(plain_os_text("odd"), "odd");
    }
}
