//! The finding for a tree of an image without usable caches, and the Dockerfile lines
//! that fix it, as the user who should run them.

use super::pythons::ImagePython;
use super::rootfs::{ImageUser, RootFs};
use super::{ImageFinding, TreeState};
use std::path::Path;

/// The finding for a tree with uncached modules, with its Dockerfile lines.
pub fn finding(
    t: &TreeState,
    py: &ImagePython,
    user: &ImageUser,
    fs: &RootFs,
    dont_write: bool,
    read_only: bool,
) -> ImageFinding {
    let every_start = t.unwritable > 0;
    let label = match t.what.as_str() {
        "stdlib" => format!("standard-library modules of {}", py.path.display()),
        "site-packages" => format!("installed modules in {}", t.dir.display()),
        _ => format!("project modules in {}", t.dir.display()),
    };
    let title = format!(
        "{} of {} {label} have no usable {} cache: {}",
        t.uncached(),
        t.sources,
        py.tag(),
        if every_start {
            format!(
                "{} are compiled at every start of the container",
                t.unwritable
            )
        } else {
            "every new container compiles the ones it imports (its writes die with it)".to_string()
        }
    );
    let mut details = vec![format!(
        "{} without a cache, {} with a stale one, {} usable",
        t.missing, t.stale, t.usable
    )];
    if let Some(why) = &t.blocked_by {
        details.push(format!("not written at run time: {why}"));
    }
    if !t.read_only_dirs.is_empty() {
        let shown: Vec<String> = t
            .read_only_dirs
            .iter()
            .take(5)
            .map(|d| d.display().to_string())
            .collect();
        let n = t.read_only_dirs.len();
        details.push(format!(
            "{n} {} not writable even by the owner (mode 0555 or like it): {}{}; only root can compile there",
            if n == 1 { "directory is" } else { "directories are" },
            shown.join(", "),
            if t.read_only_dirs.len() > 5 { ", ..." } else { "" }
        ));
    }
    // Compile as the tree's owner, so the caches belong with the sources; as root when
    // root owns it or a directory is closed even to its owner.
    let owner_name = owner_name(fs, t.uid);
    let as_root = t.uid == 0 || !t.read_only_dirs.is_empty();
    let compile_user = if as_root {
        "root".to_string()
    } else {
        owner_name.clone()
    };
    let service = user.name.clone().unwrap_or_else(|| user.uid.to_string());
    let run = format!(
        "RUN {} -m compileall -q -j0 {}",
        py.path.display(),
        t.dir.display()
    );
    // As root: before the Dockerfile's USER line (no USER switch needed); as the owner:
    // switch to it, then back to the service user.
    let when = if t.what == "stdlib" {
        "the base image ships the standard library without caches".to_string()
    } else {
        format!(
            "after the COPY or pip install that puts {} in place",
            t.dir.display()
        )
    };
    let mut dockerfile = vec![format!(
        "# {when}; as {compile_user}{}",
        if as_root {
            ", before the USER line"
        } else {
            ""
        }
    )];
    let switch = !as_root && compile_user != service;
    if switch {
        dockerfile.push(format!("USER {compile_user}"));
    }
    dockerfile.push(run);
    if switch {
        dockerfile.push(format!("USER {service}"));
    }
    if dont_write {
        dockerfile.push(
            "# ENV PYTHONDONTWRITEBYTECODE=1 may stay: it stops writes at run time, not reads, and compileall ignores it".to_string(),
        );
    }
    // With PYTHONDONTWRITEBYTECODE nothing is written anywhere: no prefix helps.
    let alternative = if dont_write {
        Vec::new()
    } else {
        vec![
            "# or, when code changes at run time: caches on a writable volume".to_string(),
            "ENV PYTHONPYCACHEPREFIX=/var/cache/pycache".to_string(),
            format!("RUN mkdir -p /var/cache/pycache && chown {service} /var/cache/pycache"),
            format!(
                "# and run with a writable volume there{}: docker run -v pycache:/var/cache/pycache ... (Python then reads caches only there)",
                if read_only {
                    " (the root is read-only)"
                } else {
                    ""
                }
            ),
        ]
    };
    ImageFinding {
        kind: format!("{}-without-caches", t.what),
        title,
        every_start,
        details,
        dockerfile,
        alternative,
    }
}

/// The image's name for a uid, else the number.
fn owner_name(fs: &RootFs, uid: u32) -> String {
    let passwd = fs.read_text(Path::new("/etc/passwd")).unwrap_or_default();
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.get(2)? == &uid.to_string().as_str()).then(|| f[0].to_string())
        })
        .unwrap_or_else(|| uid.to_string())
}
