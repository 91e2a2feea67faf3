//! Could this user write a cache into that directory? Decided the way the kernel decides:
//! search permission on every ancestor, then owner / POSIX ACL / group / other bits on the
//! directory (or on the nearest existing ancestor, where the missing directories would be
//! created), a read-only mount (`statvfs`), and the unit's sandbox (`ProtectSystem=`,
//! `ReadOnlyPaths=`...). Not covered: capabilities other than root's, `chattr +i`, LSMs,
//! NFS root squashing.

use super::acl::{acl_decides, has_mask, read_acl};
use super::identity::{Identity, group_name, user_name};
use serde::Serialize;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

const W: u32 = 2;
const X: u32 = 1;

/// What keeps a user from writing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BlockKind {
    /// Mode bits or ACL deny write+search on the directory.
    Permission,
    /// An ancestor cannot be searched (no `x`).
    Search,
    /// The filesystem is mounted read-only.
    ReadOnlyMount,
    /// The service's sandbox makes the path read-only or inaccessible.
    Sandbox,
    /// A path component exists but is not a directory.
    NotADirectory,
    /// A sticky directory keeps the user from replacing another user's cache file.
    Sticky,
}

/// One reason a write fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Blocker {
    /// The kind.
    pub kind: BlockKind,
    /// The path that blocks.
    pub path: PathBuf,
    /// Why, in words ("owned by root:root, mode 755").
    pub why: String,
}

/// The verdict for one cache directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    /// The cache directory asked about.
    pub dir: PathBuf,
    /// True when it exists already.
    pub exists: bool,
    /// True when the user can create it (if missing) and write a cache file in it.
    pub writable: bool,
    /// Everything in the way, in the kernel's order; empty when writable.
    pub blockers: Vec<Blocker>,
}

/// How a sandbox rule treats a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathMode {
    /// Writable as on the host.
    Writable,
    /// Mounted read-only for the service.
    ReadOnly,
    /// Not visible at all.
    Inaccessible,
}

/// A sandbox rule: a path, its mode, and the setting that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathRule {
    /// The path the rule covers (and everything under it).
    pub path: PathBuf,
    /// Read-only, inaccessible or writable.
    pub mode: PathMode,
    /// The setting and where it was written.
    pub why: String,
}

/// The service's mount-namespace rules; empty outside systemd.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Sandbox {
    /// Rules in the order written; the most specific path wins, then the later rule.
    pub rules: Vec<PathRule>,
}

impl Sandbox {
    /// The rule that decides a path: the longest matching rule path.
    pub fn rule_for(&self, path: &Path) -> Option<&PathRule> {
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, r)| path.starts_with(&r.path))
            .max_by_key(|(i, r)| (r.path.components().count(), *i))
            .map(|(_, r)| r)
    }
}

/// Can `id` create (if missing) and write cache files in `dir`?
pub fn check_dir(id: &Identity, dir: &Path, sandbox: &Sandbox) -> Access {
    let mut blockers = Vec::new();
    let (existing, exists) = nearest_existing(dir, &mut blockers);
    if blockers.is_empty() {
        search_ancestors(id, &existing, &mut blockers);
    }
    if blockers.is_empty() {
        if let Err(why) = allows(id, &existing, W | X) {
            blockers.push(Blocker {
                kind: BlockKind::Permission,
                path: existing.clone(),
                why,
            });
        }
        if read_only_mount(&existing) {
            blockers.push(Blocker {
                kind: BlockKind::ReadOnlyMount,
                path: existing.clone(),
                why: "the filesystem is mounted read-only".into(),
            });
        }
    }
    if let Some(rule) = sandbox
        .rule_for(dir)
        .filter(|r| r.mode != PathMode::Writable)
    {
        let what = match rule.mode {
            PathMode::Inaccessible => "inaccessible",
            _ => "read-only",
        };
        blockers.push(Blocker {
            kind: BlockKind::Sandbox,
            path: rule.path.clone(),
            why: format!("{what} for the service: {}", rule.why),
        });
    }
    Access {
        dir: dir.to_path_buf(),
        exists,
        writable: blockers.is_empty(),
        blockers,
    }
}

/// Can `id` replace an existing cache file in a writable directory? Import writes a
/// temporary file and renames it over the old one, which a sticky directory forbids when
/// neither the old file nor the directory belongs to the user.
pub fn check_replace(id: &Identity, file: &Path) -> Option<Blocker> {
    let dir = file.parent()?;
    let dmeta = std::fs::metadata(dir).ok()?;
    let fmeta = std::fs::symlink_metadata(file).ok()?;
    let sticky = dmeta.mode() & 0o1000 != 0;
    let owns = |uid: u32| id.uid == Some(uid);
    if sticky && !id.is_root() && !owns(fmeta.uid()) && !owns(dmeta.uid()) {
        return Some(Blocker {
            kind: BlockKind::Sticky,
            path: file.to_path_buf(),
            why: format!(
                "{} is sticky and {} belongs to {}",
                crate::text::display_path(dir),
                crate::text::display_path(file),
                user_name(fmeta.uid())
            ),
        });
    }
    None
}

/// Can `id` read an existing cache file (search on every ancestor, `r` on the file)?
pub fn check_read(id: &Identity, file: &Path, sandbox: &Sandbox) -> Option<Blocker> {
    let mut blockers = Vec::new();
    search_ancestors(id, file, &mut blockers);
    if let Some(b) = blockers.pop() {
        return Some(b);
    }
    if let Err(why) = allows(id, file, 4) {
        return Some(Blocker {
            kind: BlockKind::Permission,
            path: file.to_path_buf(),
            why,
        });
    }
    sandbox
        .rule_for(file)
        .filter(|r| r.mode == PathMode::Inaccessible)
        .map(|r| Blocker {
            kind: BlockKind::Sandbox,
            path: r.path.clone(),
            why: format!("inaccessible for the service: {}", r.why),
        })
}

/// Can `id` run this program? Search on the ancestors of the path given and of the file it
/// links to, and `x` on that file (a service cannot start an interpreter under `/root`).
pub fn check_exec(id: &Identity, program: &Path) -> Option<Blocker> {
    let real = std::fs::canonicalize(program).unwrap_or_else(|_| program.to_path_buf());
    let mut blockers = Vec::new();
    search_ancestors(id, program, &mut blockers);
    if real != program {
        search_ancestors(id, &real, &mut blockers);
    }
    if let Some(b) = blockers.into_iter().next() {
        return Some(b);
    }
    allows(id, &real, X).err().map(|why| Blocker {
        kind: BlockKind::Permission,
        path: real,
        why,
    })
}

/// The directory itself if it exists, else its nearest existing ancestor.
fn nearest_existing(dir: &Path, blockers: &mut Vec<Blocker>) -> (PathBuf, bool) {
    let mut cur = dir.to_path_buf();
    let mut first = true;
    loop {
        match std::fs::metadata(&cur) {
            Ok(m) if m.is_dir() => return (cur, first),
            Ok(_) => {
                blockers.push(Blocker {
                    kind: BlockKind::NotADirectory,
                    path: cur.clone(),
                    why: "exists and is not a directory".into(),
                });
                return (cur, false);
            }
            Err(_) => {}
        }
        first = false;
        match cur.parent() {
            Some(p) => cur = p.to_path_buf(),
            None => return (cur, false),
        }
    }
}

fn search_ancestors(id: &Identity, dir: &Path, blockers: &mut Vec<Blocker>) {
    for anc in dir
        .ancestors()
        .skip(1)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        if let Err(why) = allows(id, anc, X) {
            blockers.push(Blocker {
                kind: BlockKind::Search,
                path: anc.to_path_buf(),
                why: format!("cannot be searched: {why}"),
            });
            return;
        }
    }
}

/// True when the filesystem holding `path` is mounted read-only.
pub fn read_only_mount(path: &Path) -> bool {
    use nix::sys::statvfs::{FsFlags, statvfs};
    statvfs(path).is_ok_and(|s| s.flags().contains(FsFlags::ST_RDONLY))
}

/// The owner/group/mode description used in reasons: `owned by root:root, mode 755`.
pub fn describe_owner(meta: &std::fs::Metadata) -> String {
    format!(
        "owned by {}:{}, mode {:o}",
        user_name(meta.uid()),
        group_name(meta.gid()),
        meta.mode() & 0o7777
    )
}

/// Does the mode/ACL of `path` grant `want` (bits of rwx = 4/2/1) to `id`? Root passes on
/// directories (CAP_DAC_OVERRIDE).
fn allows(id: &Identity, path: &Path, want: u32) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot stat: {e}"))?;
    if id.is_root() {
        return Ok(());
    }
    let mode = meta.mode();
    let deny = |detail: &str| Err(format!("{}{detail}", describe_owner(&meta)));
    if id.uid == Some(meta.uid()) {
        return if (mode >> 6) & want == want {
            Ok(())
        } else {
            deny("")
        };
    }
    if let Some(acl) = read_acl(path).filter(|a| has_mask(a)) {
        return acl_decides(id, meta.gid(), &acl, want)
            .map_err(|d| format!("{}, {d}", describe_owner(&meta)));
    }
    let bits = if id.in_group(meta.gid()) {
        (mode >> 3) & 7
    } else {
        mode & 7
    };
    if bits & want == want {
        Ok(())
    } else {
        deny("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(uid: u32, groups: &[u32]) -> Identity {
        Identity::for_test(uid, groups)
    }

    #[test]
    fn the_most_specific_sandbox_rule_wins() {
        let rule = |p: &str, mode| PathRule {
            path: p.into(),
            mode,
            why: p.into(),
        };
        let sb = Sandbox {
            rules: vec![
                rule("/", PathMode::ReadOnly),
                rule("/srv/app/tmp", PathMode::Writable),
                rule("/srv", PathMode::ReadOnly),
            ],
        };
        assert_eq!(
            sb.rule_for(Path::new("/srv/app/tmp/x")).map(|r| r.mode),
            Some(PathMode::Writable)
        );
        assert_eq!(
            sb.rule_for(Path::new("/srv/app")).map(|r| r.why.as_str()),
            Some("/srv")
        );
        assert!(Sandbox::default().rule_for(Path::new("/x")).is_none());
    }

    #[test]
    fn programs_under_a_private_directory_cannot_be_run() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("private");
        std::fs::create_dir(&private).unwrap();
        let program = private.join("python");
        std::fs::write(&program, "").unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let link = dir.path().join("python3");
        std::os::unix::fs::symlink(&program, &link).unwrap();
        let owner = user(std::fs::metadata(&private).unwrap().uid(), &[]);
        let stranger = user(owner.uid.unwrap() + 12345, &[54321]);
        assert_eq!(check_exec(&stranger, &link), None);
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
        let b = check_exec(&stranger, &link).unwrap();
        assert_eq!((b.kind, b.path), (BlockKind::Search, private.clone()));
        assert_eq!(check_exec(&owner, &link), None);
    }

    #[test]
    fn root_writes_any_existing_directory_and_files_block() {
        let dir = tempfile::tempdir().unwrap();
        let root = user(0, &[0]);
        let a = check_dir(
            &root,
            &dir.path().join("new/__pycache__"),
            &Sandbox::default(),
        );
        assert!(a.writable && !a.exists);
        let file = dir.path().join("f");
        std::fs::write(&file, "").unwrap();
        let a = check_dir(&root, &file.join("__pycache__"), &Sandbox::default());
        assert_eq!(a.blockers[0].kind, BlockKind::NotADirectory);
    }
}
