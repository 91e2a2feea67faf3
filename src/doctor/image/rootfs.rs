//! An unpacked image root filesystem seen from outside: paths inside it resolved as the
//! container would (absolute symlinks point into the root, `..` stops at it), its users
//! and groups from its own `/etc/passwd` and `/etc/group`, and whether a user of the image
//! could write a directory (owner, group and other bits of the directory and the search
//! bit of every one above it, as the kernel checks them). Nothing in the tree is executed;
//! files are read with a size cap.

use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// How many symlinks one resolution may follow (the kernel's limit).
const MAX_LINKS: usize = 40;
/// Most bytes read from a text file of the image (passwd, group, pyvenv.cfg, config).
pub const MAX_TEXT: u64 = 4 << 20;

/// An image root.
#[derive(Debug, Clone)]
pub struct RootFs {
    /// The directory on this machine.
    pub dir: PathBuf,
}

impl RootFs {
    /// The host path of an absolute path inside the image, links not followed.
    pub fn host(&self, inside: &Path) -> PathBuf {
        let mut p = self.dir.clone();
        for c in inside.components() {
            if let Component::Normal(n) = c {
                p.push(n);
            }
        }
        p
    }

    /// `inside` with every symlink resolved inside the image (an absolute target starts
    /// again at the image's root, `..` never leaves it); None when a component is missing
    /// or the links loop.
    pub fn resolve(&self, inside: &Path) -> Option<PathBuf> {
        let mut done = PathBuf::from("/");
        let mut todo: Vec<PathBuf> = inside
            .components()
            .rev()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(PathBuf::from(n)),
                Component::ParentDir => Some(PathBuf::from("..")),
                _ => None,
            })
            .collect();
        let mut links = 0;
        while let Some(name) = todo.pop() {
            if name == Path::new("..") {
                done.pop();
                continue;
            }
            let next = done.join(&name);
            let meta = std::fs::symlink_metadata(self.host(&next)).ok()?;
            if meta.file_type().is_symlink() {
                links += 1;
                if links > MAX_LINKS {
                    return None;
                }
                let target = std::fs::read_link(self.host(&next)).ok()?;
                if target.is_absolute() {
                    done = PathBuf::from("/");
                }
                for c in target.components().rev() {
                    match c {
                        Component::Normal(n) => todo.push(PathBuf::from(n)),
                        Component::ParentDir => todo.push(PathBuf::from("..")),
                        _ => {}
                    }
                }
            } else {
                done = next;
            }
        }
        Some(done)
    }

    /// A text file inside the image (resolved), capped; None when absent. Bytes that are
    /// not UTF-8 (a Latin-1 name in a passwd comment) become U+FFFD: one such line must
    /// not hide the whole file, nor a character cut by the cap.
    pub fn read_text(&self, inside: &Path) -> Option<String> {
        let real = self.resolve(inside)?;
        let (fd, _) = crate::fsread::open_regular(&self.host(&real), true).ok()?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::fs::File::from(fd), MAX_TEXT),
            &mut bytes,
        )
        .ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// True when the file inside the image is longer than [`Self::read_text`] reads.
    pub fn longer_than_read(&self, inside: &Path) -> bool {
        self.resolve(inside)
            .and_then(|real| std::fs::metadata(self.host(&real)).ok())
            .is_some_and(|m| m.len() > MAX_TEXT)
    }

    /// `lstat` of a path inside the image (resolved up to its parent; the last component
    /// is not followed).
    pub fn stat(&self, inside: &Path) -> Option<std::fs::Metadata> {
        std::fs::symlink_metadata(self.host(inside)).ok()
    }
}

/// A user of the image, as the container runs it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImageUser {
    /// The name in the image's passwd, if it has one.
    pub name: Option<String>,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Supplementary groups (the image's /etc/group lists it in them).
    pub groups: Vec<u32>,
    /// Where the choice came from (`--user`, the image config, the default root).
    pub from: String,
}

impl ImageUser {
    /// `name (uid 1000)` or `uid 1000`.
    pub fn describe(&self) -> String {
        match &self.name {
            Some(n) => format!("{n} (uid {})", self.uid),
            None => format!("uid {}", self.uid),
        }
    }
}

/// Resolves Docker's `USER` syntax (`name`, `uid`, `name:group`, `uid:gid`) against the
/// image's passwd and group files. A uid the passwd does not list runs with gid 0, as
/// Docker runs it.
pub fn resolve_user(fs: &RootFs, spec: &str, from: &str) -> Result<ImageUser, String> {
    let passwd = fs.read_text(Path::new("/etc/passwd")).unwrap_or_default();
    let group = fs.read_text(Path::new("/etc/group")).unwrap_or_default();
    let (user, grp) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let entry = passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        let (name, uid, gid) = (
            f.first()?,
            f.get(2)?.parse::<u32>().ok()?,
            f.get(3)?.parse::<u32>().ok()?,
        );
        (*name == user || uid.to_string() == user).then(|| (name.to_string(), uid, gid))
    });
    let (name, uid, mut gid) = match (entry, user.parse::<u32>()) {
        (Some((n, u, g)), _) => (Some(n), u, g),
        (None, Ok(uid)) => (None, uid, 0),
        (None, Err(_)) => {
            let cut = if fs.longer_than_read(Path::new("/etc/passwd")) {
                format!(" (only its first {} MiB are read)", MAX_TEXT >> 20)
            } else {
                String::new()
            };
            return Err(format!(
                "user {user:?} ({from}) is not in the image's /etc/passwd ({}){cut}; give a uid (--user 1000)",
                crate::text::display_path(&fs.host(Path::new("/etc/passwd")))
            ));
        }
    };
    let groups_of = |l: &str| -> Option<(String, u32, Vec<String>)> {
        let f: Vec<&str> = l.split(':').collect();
        let members = f.get(3).map_or_else(Vec::new, |m| {
            m.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        });
        Some((f.first()?.to_string(), f.get(2)?.parse().ok()?, members))
    };
    if let Some(g) = grp {
        gid = match group
            .lines()
            .filter_map(groups_of)
            .find(|(n, id, _)| n == g || id.to_string() == g)
        {
            Some((_, id, _)) => id,
            None => g.parse().map_err(|_| {
                format!("group {g:?} ({from}) is not in the image's /etc/group; give a gid")
            })?,
        };
    }
    let mut groups: Vec<u32> = match &name {
        Some(n) => group
            .lines()
            .filter_map(groups_of)
            .filter(|(_, _, members)| members.iter().any(|m| m == n))
            .map(|(_, id, _)| id)
            .collect(),
        None => Vec::new(),
    };
    groups.sort_unstable();
    groups.dedup();
    Ok(ImageUser {
        name,
        uid,
        gid,
        groups,
        from: from.to_string(),
    })
}

/// Why `user` cannot create or replace files in the directory `dir` inside the image, or
/// None when it can: the search bit of every directory from `/` down, then write and
/// search on `dir`. Root passes every mode check (but not a read-only root, which the
/// caller knows).
pub fn write_blocker(fs: &RootFs, user: &ImageUser, dir: &Path) -> Option<String> {
    if user.uid == 0 {
        return None;
    }
    let mut at = PathBuf::from("/");
    let mut chain = vec![at.clone()];
    for c in dir.components() {
        if let Component::Normal(n) = c {
            at.push(n);
            chain.push(at.clone());
        }
    }
    let last = chain.len() - 1;
    for (i, d) in chain.iter().enumerate() {
        let Some(m) = fs.stat(d) else {
            return Some(format!("{} does not exist", d.display()));
        };
        let bits = permission_bits(&m, user);
        if bits & 1 == 0 {
            return Some(format!(
                "{} ({}) cannot be searched",
                d.display(),
                describe(&m)
            ));
        }
        if i == last && bits & 2 == 0 {
            return Some(format!("{} is {}", d.display(), describe(&m)));
        }
    }
    None
}

/// The rwx bits (as 0-7) that apply to `user` for a file.
fn permission_bits(m: &std::fs::Metadata, user: &ImageUser) -> u32 {
    let mode = m.mode();
    if m.uid() == user.uid {
        (mode >> 6) & 7
    } else if m.gid() == user.gid || user.groups.contains(&m.gid()) {
        (mode >> 3) & 7
    } else {
        mode & 7
    }
}

/// `mode 0555, owner 0:0`.
pub fn describe(m: &std::fs::Metadata) -> String {
    format!(
        "mode {:04o}, owner {}:{}",
        m.mode() & 0o7777,
        m.uid(),
        m.gid()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn links_resolve_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let fs = RootFs {
            dir: dir.path().to_path_buf(),
        };
        std::fs::create_dir_all(fs.host(Path::new("/usr/local/bin"))).unwrap();
        std::fs::write(fs.host(Path::new("/usr/local/bin/python3.12")), "").unwrap();
        std::os::unix::fs::symlink("python3.12", fs.host(Path::new("/usr/local/bin/python3")))
            .unwrap();
        std::os::unix::fs::symlink(
            "/usr/local/bin/python3",
            fs.host(Path::new("/usr/local/bin/python")),
        )
        .unwrap();
        // Out of the root by `..`: clamped at the image's root, never the host's.
        std::os::unix::fs::symlink(
            "../../../../../etc/passwd",
            fs.host(Path::new("/usr/local/bin/evil")),
        )
        .unwrap();
        assert_eq!(
            fs.resolve(Path::new("/usr/local/bin/python")),
            Some(PathBuf::from("/usr/local/bin/python3.12"))
        );
        assert_eq!(
            fs.resolve(Path::new("/usr/local/bin/evil")),
            None,
            "no /etc/passwd in the image"
        );
        std::os::unix::fs::symlink("loop", fs.host(Path::new("/loop"))).unwrap();
        assert_eq!(fs.resolve(Path::new("/loop")), None);
    }

    /// One Latin-1 byte in a comment hid every user ("not in the image's /etc/passwd").
    #[test]
    fn a_passwd_with_non_utf8_bytes_still_lists_its_users() {
        let (_dir, fs) = image_with_passwd(
            b"root:x:0:0::/root:/bin/sh\nold:x:999:999:M\xfcller:/h:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n",
        );
        let app = resolve_user(&fs, "app", "--user").unwrap();
        assert_eq!((app.uid, app.gid), (1000, 1000));
        // A passwd longer than the cap says so when the user is not in the part read.
        let mut big = b"root:x:0:0::/root:/bin/sh\n".to_vec();
        big.resize(usize::try_from(MAX_TEXT).unwrap() + 10, b'#');
        big.extend_from_slice(b"\nlate:x:1001:1001::/h:/bin/sh\n");
        std::fs::write(fs.host(Path::new("/etc/passwd")), big).unwrap();
        let err = resolve_user(&fs, "late", "--user").unwrap_err();
        assert!(err.contains("only its first 4 MiB are read"), "{err}");
    }

    /// An image root in a temporary directory with this `/etc/passwd`.
    fn image_with_passwd(passwd: &[u8]) -> (tempfile::TempDir, RootFs) {
        let dir = tempfile::tempdir().unwrap();
        let fs = RootFs {
            dir: dir.path().to_path_buf(),
        };
        std::fs::create_dir_all(fs.host(Path::new("/etc"))).unwrap();
        std::fs::write(fs.host(Path::new("/etc/passwd")), passwd).unwrap();
        (dir, fs)
    }

    #[test]
    fn users_come_from_the_image_and_modes_decide_writes() {
        let (dir, fs) =
            image_with_passwd(b"root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n");
        std::fs::write(
            fs.host(Path::new("/etc/group")),
            "root:x:0:\napp:x:1000:\nwww:x:33:app\n",
        )
        .unwrap();
        let app = resolve_user(&fs, "app", "USER").unwrap();
        assert_eq!(
            (app.uid, app.gid, app.groups.clone()),
            (1000, 1000, vec![33])
        );
        let anon = resolve_user(&fs, "4242", "USER").unwrap();
        assert_eq!((anon.name.clone(), anon.gid), (None, 0));
        assert_eq!(resolve_user(&fs, "1000:www", "USER").unwrap().gid, 33);
        assert!(
            resolve_user(&fs, "nobody", "USER")
                .unwrap_err()
                .contains("not in the image")
        );
        let srv = fs.host(Path::new("/srv"));
        std::fs::create_dir(&srv).unwrap();
        std::fs::set_permissions(&srv, std::fs::Permissions::from_mode(0o555)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let why = write_blocker(&fs, &app, Path::new("/srv")).unwrap();
        assert!(why.contains("mode 0555"), "{why}");
        let root = resolve_user(&fs, "root", "USER").unwrap();
        assert_eq!(write_blocker(&fs, &root, Path::new("/srv")), None);
    }
}
