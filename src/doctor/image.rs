//! `pycache doctor --root DIR`: a container image's caches, judged from its unpacked root
//! filesystem (`docker export C | tar -x -C DIR`, `umoci unpack`), without running
//! anything in it. The interpreter, its version, the users and every path come from the
//! tree; the service user is `--user`, else the image's `USER` (from an OCI bundle's
//! `config.json` or `--image-config`), else root, as Docker runs it. For the standard
//! library, the site-packages and the project it says how many modules have no usable
//! cache and whether a container could write them (a read-only root, a mode-0555
//! directory, `PYTHONDONTWRITEBYTECODE`), and gives the Dockerfile lines that fix it.
//!
//! In a container a cache written at run time lives as long as the container: without
//! caches in the image, every new container compiles what it imports, and one that
//! cannot write compiles it at every start.

pub mod config;
mod fix;
pub mod pythons;
pub mod rootfs;

use crate::doctor::DoctorError;
use crate::pyc::{Location, Status};
use crate::scan::{ScanModel, ScanOptions};
use config::ImageConfig;
use pythons::ImagePython;
use rootfs::{ImageUser, RootFs};
use serde::Serialize;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What `doctor --root` is asked.
#[derive(Debug, Clone, Default)]
pub struct ImageOptions {
    /// The unpacked root filesystem, or an OCI bundle holding `rootfs/` and `config.json`.
    pub root: PathBuf,
    /// The project, inside the image (default: the image's working directory).
    pub project: Option<PathBuf>,
    /// The service user (Docker `USER` syntax).
    pub user: Option<String>,
    /// The interpreter, inside the image.
    pub python: Option<PathBuf>,
    /// Or its language version, among the image's interpreters.
    pub python_version: Option<crate::pyc::magic::PyVersion>,
    /// `docker inspect` output or an OCI image config.
    pub config: Option<PathBuf>,
    /// The container runs with a read-only root filesystem (`docker run --read-only`).
    pub read_only: bool,
    /// Extra environment of the container (`KEY=VALUE`).
    pub env: Vec<(String, String)>,
}

/// One tree of modules and the state of their caches.
#[derive(Debug, Clone, Serialize)]
pub struct TreeState {
    /// `stdlib`, `site-packages` or `project`.
    pub what: String,
    /// The directory, inside the image.
    pub dir: PathBuf,
    /// Its owner.
    pub uid: u32,
    /// Sources found.
    pub sources: usize,
    /// Sources with a fresh cache of the interpreter's tag.
    pub usable: usize,
    /// Sources without one.
    pub missing: usize,
    /// Sources whose cache is stale.
    pub stale: usize,
    /// Of those without a usable cache, how many the service user could not write.
    pub unwritable: usize,
    /// Why the first unwritable one is (a directory and its mode, the read-only root...).
    pub blocked_by: Option<String>,
    /// Directories whose owner has no write bit (mode 0555): even the owner cannot
    /// compile there, only root.
    pub read_only_dirs: Vec<PathBuf>,
}

impl TreeState {
    /// Modules without a usable cache.
    pub fn uncached(&self) -> usize {
        self.missing + self.stale
    }
}

/// One finding and its fix.
#[derive(Debug, Clone, Serialize)]
pub struct ImageFinding {
    /// `stdlib-without-caches`, `site-packages-without-caches`, `project-without-caches`.
    pub kind: String,
    /// One line.
    pub title: String,
    /// True when the modules are compiled at every start (the container cannot write).
    pub every_start: bool,
    /// Why, line by line.
    pub details: Vec<String>,
    /// The Dockerfile lines that fix it.
    pub dockerfile: Vec<String>,
    /// The alternative, when the code must be compiled at run time.
    pub alternative: Vec<String>,
}

/// The whole diagnosis of an image.
#[derive(Debug, Clone, Serialize)]
pub struct ImageReport {
    /// The root filesystem on this machine.
    pub root: PathBuf,
    /// The image config read, if any.
    pub config: Option<ImageConfig>,
    /// The service user.
    pub user: ImageUser,
    /// The interpreter judged by.
    pub python: ImagePython,
    /// Every interpreter found.
    pub pythons: Vec<ImagePython>,
    /// The root filesystem is read-only in the container.
    pub read_only: bool,
    /// `PYTHONDONTWRITEBYTECODE` is set in the container.
    pub dont_write: bool,
    /// `PYTHONPYCACHEPREFIX` in the container.
    pub prefix: Option<String>,
    /// The trees judged.
    pub trees: Vec<TreeState>,
    /// What to fix.
    pub findings: Vec<ImageFinding>,
    /// Notes (assumptions made).
    pub notes: Vec<String>,
}

impl ImageReport {
    /// True when a module of the image has no usable cache (exit status 1).
    pub fn needs_action(&self) -> bool {
        !self.findings.is_empty()
    }

    /// True when a module is compiled at every start.
    pub fn costs_every_start(&self) -> bool {
        self.findings.iter().any(|f| f.every_start)
    }
}

fn err(msg: String) -> DoctorError {
    DoctorError::new(msg)
}

/// Runs the diagnosis of an unpacked image.
pub fn diagnose_image(opts: &ImageOptions) -> Result<ImageReport, DoctorError> {
    let shown = crate::text::display_path(&opts.root);
    if !opts.root.is_dir() {
        let what = if opts.root.exists() {
            "not a directory"
        } else {
            "no such directory"
        };
        return Err(err(format!(
            "cannot diagnose {shown}: {what} (unpack the image first: docker export CONTAINER | tar -x -C DIR)"
        )));
    }
    let mut notes = Vec::new();
    // An OCI runtime bundle holds the root filesystem and the config beside it.
    let bundle = opts.root.join("config.json").is_file() && opts.root.join("rootfs").is_dir();
    let fs = RootFs {
        dir: if bundle {
            opts.root.join("rootfs")
        } else {
            opts.root.clone()
        },
    };
    let config_file = opts
        .config
        .clone()
        .or_else(|| bundle.then(|| opts.root.join("config.json")));
    let config = match &config_file {
        Some(file) => {
            let shown = crate::text::display_path(file);
            let cannot = |e: std::io::Error| {
                err(format!(
                    "cannot read the image config {shown}: {}; give the file 'docker inspect IMAGE > FILE' wrote",
                    crate::imports::io_reason(&e)
                ))
            };
            let (fd, _) = crate::fsread::open_regular(file, true).map_err(cannot)?;
            let mut text = String::new();
            std::io::Read::read_to_string(
                &mut std::io::Read::take(std::fs::File::from(fd), rootfs::MAX_TEXT),
                &mut text,
            )
            .map_err(cannot)?;
            Some(config::parse(&text, &shown).map_err(err)?)
        }
        None => None,
    };
    if !fs.host(Path::new("/etc/passwd")).exists() && !fs.host(Path::new("/usr")).is_dir() {
        return Err(err(format!(
            "cannot diagnose {shown}: it has neither etc/passwd nor usr/, so it is not an image's root filesystem (give the directory the image was unpacked into)"
        )));
    }
    let user = match (&opts.user, config.as_ref().and_then(|c| c.user.clone())) {
        (Some(u), _) => rootfs::resolve_user(&fs, u, "--user"),
        (None, Some(u)) => rootfs::resolve_user(&fs, &u, "the image's USER"),
        (None, None) => {
            notes.push(if config.is_some() {
                "the image config sets no USER: the container runs as root".to_string()
            } else {
                "no image config (--image-config FILE from 'docker inspect IMAGE'): assuming the container runs as root, Docker's default; give --user NAME if the Dockerfile has a USER line".to_string()
            });
            rootfs::resolve_user(&fs, "0", "Docker's default")
        }
    }
    .map_err(err)?;
    let env: Vec<(String, String)> = config
        .iter()
        .flat_map(|c| c.env.iter().cloned())
        .chain(opts.env.iter().cloned())
        .collect();
    let var = |k: &str| {
        env.iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    let dont_write = var("PYTHONDONTWRITEBYTECODE").is_some_and(|v| !v.is_empty());
    let prefix = var("PYTHONPYCACHEPREFIX").filter(|v| !v.is_empty());
    let read_only = opts.read_only || config.as_ref().and_then(|c| c.read_only) == Some(true);
    let project = opts.project.clone().or_else(|| {
        config
            .as_ref()
            .and_then(|c| c.working_dir.clone())
            .filter(|d| d != "/")
            .map(PathBuf::from)
    });
    if let Some(p) = &project
        && (!p.is_absolute() || !fs.host(p).is_dir())
    {
        return Err(err(format!(
            "the project {} is not a directory in the image {shown} (give its absolute path inside the image)",
            p.display()
        )));
    }
    let pythons = pythons::discover(&fs, project.as_deref());
    let python = match (&opts.python, opts.python_version) {
        (Some(p), _) => pythons::examine(&fs, p).ok_or_else(|| {
            err(format!(
                "{} is not an interpreter with a standard library in the image {shown} (give its path inside the image, e.g. /usr/local/bin/python3)",
                p.display()
            ))
        })?,
        (None, Some(v)) => {
            let have: Vec<String> = pythons.iter().map(|p| p.python.to_string()).collect();
            pythons.iter().find(|p| p.python == v).cloned().ok_or_else(|| {
                err(format!(
                    "no Python {v} in the image {shown} (it has: {}); give --python with one of them or a path inside the image",
                    if have.is_empty() { "none".to_string() } else { have.join(", ") }
                ))
            })?
        }
        (None, None) => pythons.first().cloned().ok_or_else(|| {
            err(format!(
                "no Python interpreter with a standard library in the image {shown} (looked in /usr/local/bin, /usr/bin, /opt/python/bin and virtualenvs; give --python PATH inside the image)"
            ))
        })?,
    };
    let tag = python.tag();
    let mut trees = Vec::new();
    let stdlib_excludes = [
        "site-packages",
        "dist-packages",
        "test",
        "tests",
        "idle_test",
    ];
    trees.push(judge(
        &fs,
        &user,
        &tag,
        "stdlib",
        &python.stdlib,
        &stdlib_excludes,
    )?);
    for site in &python.site {
        trees.push(judge(&fs, &user, &tag, "site-packages", site, &[])?);
    }
    if let Some(p) = &project {
        trees.push(judge(
            &fs,
            &user,
            &tag,
            "project",
            p,
            &[".venv", "venv", "node_modules"],
        )?);
    }
    let blocked_globally = if read_only {
        Some("the root filesystem is read-only".to_string())
    } else if dont_write {
        Some("PYTHONDONTWRITEBYTECODE is set, so Python writes no cache".to_string())
    } else {
        None
    };
    for t in &mut trees {
        if let Some(why) = &blocked_globally {
            t.unwritable = t.uncached();
            t.blocked_by = Some(why.clone());
        }
    }
    if let Some(p) = &prefix {
        notes.push(format!(
            "PYTHONPYCACHEPREFIX={p}: Python reads and writes caches only under {p}, so the __pycache__ caches counted here are not used; a prefix on a volume starts empty in every new container"
        ));
    }
    let findings = trees
        .iter()
        .filter(|t| t.uncached() > 0)
        .map(|t| fix::finding(t, &python, &user, &fs, dont_write, read_only))
        .collect();
    Ok(ImageReport {
        root: fs.dir.clone(),
        config,
        user,
        python,
        pythons,
        read_only,
        dont_write,
        prefix,
        trees,
        findings,
        notes,
    })
}

/// Scans one tree of the image and judges every source against the interpreter's tag.
fn judge(
    fs: &RootFs,
    user: &ImageUser,
    tag: &str,
    what: &str,
    dir: &Path,
    excludes: &[&str],
) -> Result<TreeState, DoctorError> {
    let host = fs.host(dir);
    let mut opts = ScanOptions::new(vec![host.clone()]);
    opts.excludes = excludes.iter().map(|s| s.to_string()).collect();
    let model: ScanModel = crate::scan::scan(&opts).map_err(err)?;
    let inside =
        |p: &Path| -> PathBuf { Path::new("/").join(p.strip_prefix(&fs.dir).unwrap_or(p)) };
    let mut state = TreeState {
        what: what.to_string(),
        dir: dir.to_path_buf(),
        uid: fs.stat(dir).map_or(0, |m| m.uid()),
        sources: 0,
        usable: 0,
        missing: 0,
        stale: 0,
        unwritable: 0,
        blocked_by: None,
        read_only_dirs: Vec::new(),
    };
    let mut dir_blocker: HashMap<PathBuf, Option<String>> = HashMap::new();
    for m in model.modules.values().filter(|m| m.source_exists()) {
        state.sources += 1;
        let mine: Vec<_> = model
            .caches_of(m)
            .filter(|c| {
                c.tag.as_deref() == Some(tag) && c.opt.is_none() && c.location == Location::Pycache
            })
            .collect();
        if mine.iter().any(|c| c.status == Status::Fresh) {
            state.usable += 1;
            continue;
        }
        if mine.iter().any(|c| c.status == Status::Stale) {
            state.stale += 1;
        } else {
            state.missing += 1;
        }
        let src_dir = inside(m.source.parent().unwrap_or(Path::new("/")));
        let blocker = dir_blocker
            .entry(src_dir.clone())
            .or_insert_with(|| {
                let cache_dir = src_dir.join("__pycache__");
                let target = if fs.stat(&cache_dir).is_some_and(|m| m.is_dir()) {
                    cache_dir
                } else {
                    src_dir.clone()
                };
                if let Some(meta) = fs.stat(&target)
                    && meta.mode() & 0o200 == 0
                    && !state.read_only_dirs.contains(&target)
                {
                    state.read_only_dirs.push(target.clone());
                }
                rootfs::write_blocker(fs, user, &target)
            })
            .clone();
        if let Some(why) = blocker {
            state.unwritable += 1;
            state
                .blocked_by
                .get_or_insert_with(|| format!("{} cannot write there: {why}", user.describe()));
        }
    }
    state.read_only_dirs.sort();
    Ok(state)
}
