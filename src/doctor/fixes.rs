//! The fixes offered with each finding, as commands and unit lines to paste.

use super::access::BlockKind;
use super::findings::Facts;
use super::identity::group_name;
use super::targets::Target;
use crate::pyc::Location;
use std::path::{Path, PathBuf};

/// `user:group` for chown and install.
pub fn owner_group(f: &Facts<'_>) -> String {
    let id = &f.ctx.identity;
    let group = id.gid.map_or_else(|| id.name.clone(), group_name);
    format!("{}:{group}", id.name)
}

fn install_dir(f: &Facts<'_>, dir: &Path) -> String {
    let og = owner_group(f);
    let (user, group) = og.split_once(':').unwrap_or((&og, &og));
    format!("install -d -o {user} -g {group} -m 755 {}", dir.display())
}

/// The command that precompiles the imported modules where the service reads them.
pub fn precompile(f: &Facts<'_>) -> String {
    let mut cmd = format!(
        "pycache recompile {} --python {}",
        f.root.display(),
        f.py.path.display()
    );
    if f.ctx.optimize > 0 {
        cmd.push_str(&format!(" --opt {}", f.ctx.optimize.min(2)));
    }
    if let Some(p) = f.ctx.prefix.as_deref().filter(|_| f.py.supports_prefix()) {
        cmd.push_str(&format!(" --pycache-prefix {}", p.display()));
    }
    cmd
}

/// A prefix the user can write, as unit lines (with `CacheDirectory=`, which systemd
/// creates for the service user even under `ProtectSystem=strict`) or as commands.
fn prefix_fix(f: &Facts<'_>) -> Option<String> {
    if !f.py.supports_prefix() {
        return None;
    }
    if let Some(unit) = &f.ctx.unit {
        let name = unit.strip_suffix(".service").unwrap_or(unit);
        let name = name.replace('@', "-");
        return Some(format!(
            "give the service its own cache prefix: systemctl edit {unit}, add\n[Service]\nCacheDirectory={name}\nEnvironment=\"PYTHONPYCACHEPREFIX=/var/cache/{name}\"\nthen systemctl restart {unit} (the first start also caches the standard library there, once)"
        ));
    }
    f.ctx.identity.uid?; // a dynamic user has no home for a prefix but CacheDirectory=
    let dir = PathBuf::from(format!("/var/cache/pycache-{}", f.ctx.identity.name));
    Some(format!(
        "{}: {} then run the service with PYTHONPYCACHEPREFIX={} (in a unit: Environment=\"PYTHONPYCACHEPREFIX={}\")",
        if f.ctx.prefix.is_some() {
            "use a cache prefix the user owns instead"
        } else {
            "set a writable cache prefix"
        },
        install_dir(f, &dir),
        dir.display(),
        dir.display()
    ))
}

/// Fixes for caches the user cannot write. Every blocker of the group's first target is
/// considered: a chown does not help on a read-only mount, and under a sandbox it also
/// needs `ReadWritePaths=`.
pub fn cannot_write(f: &Facts<'_>, group: &[&Target]) -> Vec<String> {
    let mut fixes = Vec::new();
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
    let user = &f.ctx.identity.name;
    let mut steps: Vec<String> = Vec::new();
    for b in blockers {
        match b.kind {
            BlockKind::Permission if f.ctx.identity.uid.is_some() => {
                steps.extend(permission_steps(f, first, &dirs));
            }
            BlockKind::Search => steps.push(format!("chmod o+x {}", b.path.display())),
            BlockKind::Sticky => {
                steps.push(format!("chown {} {}", owner_group(f), b.path.display()))
            }
            BlockKind::NotADirectory => steps.push(format!("rm {}", b.path.display())),
            _ => {}
        }
    }
    if sandboxed && f.ctx.unit.is_some() {
        let d = dirs
            .first()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        steps.push(format!(
            "add ReadWritePaths={d} to the unit (the directory must exist)"
        ));
    }
    let only_sandbox = sandboxed && f.ctx.unit.is_none();
    if !steps.is_empty() && !read_only && !only_sandbox {
        fixes.push(format!(
            "let {user} write the cache {}: {}",
            if dirs.len() > 1 {
                "directories"
            } else {
                "directory"
            },
            steps.join("; ")
        ));
    }
    if let Some(p) = prefix_fix(f) {
        fixes.push(p);
    }
    if read_only {
        fixes.push(format!(
            "precompile when the image is built, before the filesystem is read-only: {}",
            precompile(f)
        ));
    } else {
        fixes.push(format!(
            "precompile at deploy time, as the owner of the code, after every deploy: {}",
            precompile(f)
        ));
    }
    fixes
}

/// `install -d` creates missing cache directories for the user and hands existing ones
/// over (the root-owned caches inside can then be replaced: the directory is the user's);
/// under a prefix, the prefix itself (the user then creates the mirror tree).
fn permission_steps(f: &Facts<'_>, first: &Target, dirs: &[PathBuf]) -> Vec<String> {
    let target_dirs = match (&f.ctx.prefix, first.location == Location::Prefix) {
        (Some(p), true) => vec![p.clone()],
        _ => dirs.to_vec(),
    };
    let og = owner_group(f);
    let (user, group) = og.split_once(':').unwrap_or((&og, &og));
    let list: Vec<String> = target_dirs
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    // An existing prefix holds root-owned mirror directories: hand over the whole tree.
    if first.location == Location::Prefix && target_dirs.iter().all(|d| d.is_dir()) {
        return vec![format!("chown -R {og} {}", list.join(" "))];
    }
    vec![format!(
        "install -d -o {user} -g {group} -m 755 {}",
        list.join(" ")
    )]
}

/// Fixes for `-B` / `PYTHONDONTWRITEBYTECODE`.
pub fn dont_write(f: &Facts<'_>, why: &str) -> Vec<String> {
    let what = if why.starts_with("-B") {
        "remove -B from the command line".to_string()
    } else {
        format!("stop setting PYTHONDONTWRITEBYTECODE ({why})")
    };
    vec![
        what,
        format!(
            "or keep it and precompile at deploy time (Python still reads fresh caches): {}",
            precompile(f)
        ),
    ]
}
