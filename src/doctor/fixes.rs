//! The fixes offered with each finding. A [`Fix`] keeps its words apart from its commands
//! so that every command can be pasted into a shell as it is: paths are quoted when they
//! need it, and unit lines are given as the lines `systemctl edit` expects.

use super::access::BlockKind;
use super::findings::Facts;
use super::identity::group_name;
use super::targets::Target;
use crate::pyc::Location;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One way to resolve a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// What the fix does, in words.
    pub summary: String,
    /// What to do, in order.
    pub steps: Vec<Step>,
}

/// One step of a fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// A shell command, to paste as it is.
    Run(String),
    /// Lines to add to a unit (`systemctl edit UNIT` opens its drop-in).
    EditUnit {
        /// The unit name.
        unit: String,
        /// The lines, `[Service]` first.
        lines: Vec<String>,
    },
    /// Something to do by hand, in words.
    Note(String),
}

impl Fix {
    fn new(summary: impl Into<String>, steps: Vec<Step>) -> Self {
        Self {
            summary: summary.into(),
            steps,
        }
    }
}

/// One line (for the explorer's report): `summary: command; command`.
impl std::fmt::Display for Fix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary)?;
        let steps: Vec<String> = self
            .steps
            .iter()
            .map(|s| match s {
                Step::Run(cmd) => cmd.clone(),
                Step::EditUnit { unit, lines } => {
                    format!("systemctl edit {unit}, add: {}", lines.join(" "))
                }
                Step::Note(text) => text.clone(),
            })
            .collect();
        if !steps.is_empty() {
            write!(f, ": {}", steps.join("; "))?;
        }
        Ok(())
    }
}

/// A path as one shell word: as it is when that is safe, else single-quoted.
pub fn shell_word(path: &Path) -> String {
    let text = crate::scan::display_path(path);
    let safe = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+,:=@%".contains(c));
    if safe {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// `user:group` for chown and install.
pub fn owner_group(f: &Facts<'_>) -> String {
    let id = &f.ctx.identity;
    let group = id.gid.map_or_else(|| id.name.clone(), group_name);
    format!("{}:{group}", id.name)
}

/// `install -d` with the service user as owner: creates what is missing, hands over what
/// exists (the files inside can then be replaced: the directory is the user's).
fn install_dirs(f: &Facts<'_>, dirs: &[PathBuf]) -> String {
    let og = owner_group(f);
    let (user, group) = og.split_once(':').unwrap_or((&og, &og));
    let list: Vec<String> = dirs.iter().map(|d| shell_word(d)).collect();
    format!("install -d -o {user} -g {group} -m 755 {}", list.join(" "))
}

/// The command that precompiles the imported modules where the service reads them.
pub fn precompile(f: &Facts<'_>) -> String {
    let mut cmd = format!(
        "pycache recompile {} --python {}",
        shell_word(f.root),
        shell_word(&f.py.path)
    );
    if f.ctx.optimize > 0 {
        cmd.push_str(&format!(" --opt {}", f.ctx.optimize.min(2)));
    }
    if let Some(p) = f.ctx.prefix.as_deref().filter(|_| f.py.supports_prefix()) {
        cmd.push_str(&format!(" --pycache-prefix {}", shell_word(p)));
    }
    cmd
}

/// The precompile command as a fix.
pub fn precompile_fix(summary: &str, f: &Facts<'_>) -> Fix {
    Fix::new(summary, vec![Step::Run(precompile(f))])
}

/// A prefix the user can write: with a unit, `CacheDirectory=` (systemd creates it for the
/// service user, even under `ProtectSystem=strict`); otherwise a directory made for them.
fn prefix_fix(f: &Facts<'_>) -> Option<Fix> {
    if !f.py.supports_prefix() {
        return None;
    }
    if let Some(unit) = &f.ctx.unit {
        let name = unit
            .strip_suffix(".service")
            .unwrap_or(unit)
            .replace('@', "-");
        return Some(Fix::new(
            "give the service its own cache prefix (the first start also caches the standard library there, once)",
            vec![
                Step::EditUnit {
                    unit: unit.clone(),
                    lines: vec![
                        "[Service]".into(),
                        format!("CacheDirectory={name}"),
                        format!("Environment=\"PYTHONPYCACHEPREFIX=/var/cache/{name}\""),
                    ],
                },
                Step::Run(format!("systemctl restart {unit}")),
            ],
        ));
    }
    f.ctx.identity.uid?; // a dynamic user owns nothing here: only CacheDirectory= works
    let dir = PathBuf::from(format!("/var/cache/pycache-{}", f.ctx.identity.name));
    let summary = if f.ctx.prefix.is_some() {
        format!("use a cache prefix {} owns instead", f.ctx.identity.name)
    } else {
        format!("set a cache prefix {} can write", f.ctx.identity.name)
    };
    Some(Fix::new(
        summary,
        vec![
            Step::Run(install_dirs(f, std::slice::from_ref(&dir))),
            Step::Note(format!(
                "then start the service with PYTHONPYCACHEPREFIX={} (in a unit: Environment=\"PYTHONPYCACHEPREFIX={}\")",
                dir.display(),
                dir.display()
            )),
        ],
    ))
}

/// Fixes for caches the user cannot write. Every blocker of the group's first target is
/// considered: a chown does not help on a read-only mount, and under a sandbox it also
/// needs `ReadWritePaths=`.
pub fn cannot_write(f: &Facts<'_>, group: &[&Target]) -> Vec<Fix> {
    let first = group[0];
    let mut dirs: Vec<PathBuf> = group
        .iter()
        .filter_map(|t| t.cache.parent().map(Path::to_path_buf))
        .collect();
    dirs.sort();
    dirs.dedup();
    let blockers = &first.access.blockers;
    let has = |k: BlockKind| blockers.iter().any(|b| b.kind == k);
    let read_only = has(BlockKind::ReadOnlyMount);
    let sandboxed = has(BlockKind::Sandbox);
    let mut steps: Vec<Step> = Vec::new();
    for b in blockers {
        let path = shell_word(&b.path);
        match b.kind {
            BlockKind::Permission if f.ctx.identity.uid.is_some() => {
                steps.push(Step::Run(permission_step(f, first, &dirs)));
            }
            BlockKind::Search => steps.push(Step::Run(format!("chmod o+x {path}"))),
            BlockKind::Sticky => {
                steps.push(Step::Run(format!("chown {} {path}", owner_group(f))));
            }
            BlockKind::NotADirectory => steps.push(Step::Run(format!("rm {path}"))),
            _ => {}
        }
    }
    if let (true, Some(unit)) = (sandboxed, &f.ctx.unit) {
        // systemd refuses to start a unit whose ReadWritePaths= does not exist.
        let missing: Vec<PathBuf> = dirs.iter().filter(|d| !d.is_dir()).cloned().collect();
        let made = steps
            .iter()
            .any(|s| matches!(s, Step::Run(c) if c.starts_with("install -d")));
        if !missing.is_empty() && !made && f.ctx.identity.uid.is_some() {
            steps.push(Step::Run(install_dirs(f, &missing)));
        }
        let mut lines = vec!["[Service]".to_string()];
        lines.extend(
            dirs.iter()
                .map(|d| format!("ReadWritePaths={}", d.display())),
        );
        steps.push(Step::EditUnit {
            unit: unit.clone(),
            lines,
        });
        steps.push(Step::Run(format!("systemctl restart {unit}")));
    }
    let mut fixes = Vec::new();
    let only_sandbox = sandboxed && f.ctx.unit.is_none();
    if !steps.is_empty() && !read_only && !only_sandbox {
        let what = if dirs.len() > 1 {
            "directories"
        } else {
            "directory"
        };
        fixes.push(Fix::new(
            format!("let {} write the cache {what}", f.ctx.identity.name),
            steps,
        ));
    }
    fixes.extend(prefix_fix(f));
    fixes.push(if read_only {
        precompile_fix(
            "precompile when the image is built, before the filesystem is read-only",
            f,
        )
    } else {
        precompile_fix(
            "precompile at deploy time, as the owner of the code, after every deploy",
            f,
        )
    });
    fixes
}

/// Under a prefix the user is given the prefix itself (and then creates the mirror tree);
/// an existing prefix holds root-owned mirror directories, so the whole tree is handed over.
fn permission_step(f: &Facts<'_>, first: &Target, dirs: &[PathBuf]) -> String {
    match (&f.ctx.prefix, first.location == Location::Prefix) {
        (Some(p), true) if p.is_dir() => format!("chown -R {} {}", owner_group(f), shell_word(p)),
        (Some(p), true) => install_dirs(f, std::slice::from_ref(p)),
        _ => install_dirs(f, dirs),
    }
}

/// Fixes for `-B` / `PYTHONDONTWRITEBYTECODE`.
pub fn dont_write(f: &Facts<'_>, why: &str) -> Vec<Fix> {
    let stop = if why.starts_with("-B") {
        Fix::new(
            "remove -B from the command line",
            vec![Step::Note(format!("it comes from {why}"))],
        )
    } else {
        Fix::new(
            "stop setting PYTHONDONTWRITEBYTECODE",
            vec![Step::Note(format!("it is set by {why}"))],
        )
    };
    vec![
        stop,
        precompile_fix(
            "keep it, and precompile at deploy time (Python still reads fresh caches)",
            f,
        ),
    ]
}

/// The fix for a precompiled tree the user cannot rewrite.
pub fn keep_precompiled(f: &Facts<'_>) -> Fix {
    precompile_fix("precompile after every deploy", f)
}

/// The fix for fresh caches the user cannot read.
pub fn make_readable(f: &Facts<'_>, file: &Path) -> Fix {
    Fix::new(
        format!(
            "make the caches readable (or chown them to {})",
            f.ctx.identity.name
        ),
        vec![Step::Run(format!("chmod a+r {}", shell_word(file)))],
    )
}

/// A `pycache clean` command with a summary.
pub fn clean(summary: impl Into<String>, args: &str, f: &Facts<'_>) -> Fix {
    Fix::new(
        summary,
        vec![Step::Run(format!(
            "pycache clean {} {args}",
            shell_word(f.root)
        ))],
    )
}

/// A fix that is only words.
pub fn note(summary: impl Into<String>) -> Fix {
    Fix::new(summary, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_single_shell_words() {
        assert_eq!(
            shell_word(Path::new("/srv/app-1/x_y.py")),
            "/srv/app-1/x_y.py"
        );
        assert_eq!(shell_word(Path::new("/srv/my app")), "'/srv/my app'");
        assert_eq!(shell_word(Path::new("/srv/it's")), r"'/srv/it'\''s'");
        assert_eq!(shell_word(Path::new("/a;rm -rf b")), "'/a;rm -rf b'");
    }

    #[test]
    fn a_fix_reads_as_one_line_too() {
        let fix = Fix::new(
            "give the service a prefix",
            vec![
                Step::EditUnit {
                    unit: "app.service".into(),
                    lines: vec!["[Service]".into(), "CacheDirectory=app".into()],
                },
                Step::Run("systemctl restart app.service".into()),
            ],
        );
        assert_eq!(
            fix.to_string(),
            "give the service a prefix: systemctl edit app.service, add: [Service] CacheDirectory=app; systemctl restart app.service"
        );
        let json = serde_json::to_value(&fix).unwrap();
        assert_eq!(json["steps"][1]["run"], "systemctl restart app.service");
        assert_eq!(
            json["steps"][0]["edit_unit"]["lines"][1],
            "CacheDirectory=app"
        );
    }
}
