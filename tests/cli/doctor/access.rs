//! The writability verdict against the kernel's: for each case, `check_dir` must say what
//! a real attempt as nobody says (`setpriv ... test -w D -a -x D`, or `mkdir -p` for a
//! directory that does not exist yet), and both must say what the case is built to say.

use super::fixture::{as_nobody, chown_nobody, is_root};
use crate::support::skip;
use pycache::doctor::access::{BlockKind, Sandbox, check_dir, check_replace};
use pycache::doctor::acl::{AclEntry, acl_entry, encode_acl};
use pycache::doctor::identity::Identity;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

fn gid(name: &str) -> u32 {
    nix::unistd::Group::from_name(name)
        .unwrap()
        .unwrap()
        .gid
        .as_raw()
}

fn mode(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

fn chgrp(p: &Path, group: &str) {
    nix::unistd::chown(p, None, Some(nix::unistd::Gid::from_raw(gid(group)))).unwrap();
}

/// What the kernel says when nobody (with `regid` as primary group) tries.
fn real_attempt(dir: &Path, regid: &str) -> bool {
    let script = if dir.exists() {
        format!("test -w '{0}' -a -x '{0}'", dir.display())
    } else {
        // Creating it is the attempt; undo it so the tree stays as built.
        let top = first_missing(dir);
        format!(
            "mkdir -p '{}' && test -w '{1}' -a -x '{1}' && rm -r '{2}'",
            dir.display(),
            dir.display(),
            top.display()
        )
    };
    Command::new("setpriv")
        .args([
            "--reuid=nobody",
            &format!("--regid={regid}"),
            "--init-groups",
            "sh",
            "-c",
            &script,
        ])
        .status()
        .unwrap()
        .success()
}

fn first_missing(dir: &Path) -> PathBuf {
    let mut top = dir.to_path_buf();
    while top.parent().is_some_and(|p| !p.exists()) {
        top = top.parent().unwrap().to_path_buf();
    }
    top
}

fn set_acl(p: &Path, entries: &[AclEntry]) -> bool {
    xattr::set(p, "system.posix_acl_access", &encode_acl(entries)).is_ok()
}

#[test]
fn writability_matches_a_real_attempt_as_nobody() {
    if !is_root() {
        return skip(
            "access matrix",
            "needs root to build trees owned by others and act as nobody",
        );
    }
    if Command::new("setpriv").arg("--version").output().is_err() {
        return skip("access matrix", "setpriv is not installed");
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path();
    mode(base, 0o755);
    let nobody = nix::unistd::User::from_name("nobody")
        .unwrap()
        .unwrap()
        .uid
        .as_raw();
    let (nogroup, adm) = (gid("nogroup"), gid("adm"));
    let mk = |name: &str, m: u32| {
        let p = base.join(name);
        std::fs::create_dir_all(&p).unwrap();
        mode(&p, m);
        p
    };
    let acl = |mask: u16, extra: AclEntry| {
        vec![
            acl_entry("user_obj", 7, 0),
            extra,
            acl_entry("group_obj", 5, 0),
            acl_entry("mask", mask, 0),
            acl_entry("other", 5, 0),
        ]
    };
    let mut cases: Vec<(&str, PathBuf, &str, bool)> = Vec::new();
    cases.push(("root 755", mk("a", 0o755), "nogroup", false));
    cases.push(("777", mk("b", 0o777), "nogroup", true));
    let c = mk("c", 0o770);
    chgrp(&c, "nogroup");
    cases.push(("root:nogroup 770", c, "nogroup", true));
    let f = mk("f", 0o555);
    chown_nobody(&f);
    cases.push(("owner nobody 555", f, "nogroup", false));
    let g = mk("g", 0o700);
    chown_nobody(&g);
    cases.push(("owner nobody 700", g, "nogroup", true));
    let h = mk("h", 0o770);
    chgrp(&h, "adm");
    cases.push((
        "root:adm 770, nobody in nogroup",
        h.clone(),
        "nogroup",
        false,
    ));
    cases.push(("root:adm 770, --group adm", h, "adm", true));
    let n = mk("n", 0o755);
    cases.push((
        "missing __pycache__ under root 755",
        n.join("__pycache__"),
        "nogroup",
        false,
    ));
    let o = mk("o", 0o755);
    chown_nobody(&o);
    cases.push((
        "missing __pycache__ under nobody's dir",
        o.join("__pycache__"),
        "nogroup",
        true,
    ));
    cases.push((
        "missing prefix levels under 777",
        mk("p", 0o777).join("srv/app"),
        "nogroup",
        true,
    ));
    mk("q", 0o700);
    cases.push((
        "777 below a root 700 parent",
        mk("q/inner", 0o777),
        "nogroup",
        false,
    ));
    let acls = [
        (
            "ACL user:nobody:rwx",
            acl(7, acl_entry("user", 7, nobody)),
            true,
        ),
        (
            "ACL user:nobody:rwx masked r-x",
            acl(5, acl_entry("user", 7, nobody)),
            false,
        ),
        (
            "ACL group:nogroup:rwx",
            acl(7, acl_entry("group", 7, nogroup)),
            true,
        ),
        (
            "ACL group:adm:rwx, nobody not in adm",
            acl(7, acl_entry("group", 7, adm)),
            false,
        ),
    ];
    let mut acl_ok = true;
    for (i, (name, entries, want)) in acls.into_iter().enumerate() {
        let d = mk(&format!("acl{i}"), 0o755);
        acl_ok &= set_acl(&d, &entries);
        cases.push((name, d, "nogroup", want));
    }
    if !acl_ok {
        skip(
            "access matrix ACL cases",
            "the filesystem of the temporary directory refuses POSIX ACLs",
        );
        cases.retain(|c| !c.0.starts_with("ACL"));
    }
    for (name, dir, group, want) in cases {
        let id = Identity::lookup("nobody", Some(group), &[]).unwrap();
        let got = check_dir(&id, &dir, &Sandbox::default());
        let truth = real_attempt(&dir, group);
        assert_eq!(truth, want, "{name}: the case is not built as intended");
        assert_eq!(
            got.writable, truth,
            "{name}: pycache says {got:?}, the kernel says {truth}"
        );
    }
}

#[test]
fn a_sticky_directory_keeps_others_caches() {
    if !is_root() {
        return skip("sticky", "needs root");
    }
    let tmp = tempfile::tempdir().unwrap();
    mode(tmp.path(), 0o755);
    let d = tmp.path().join("__pycache__");
    std::fs::create_dir(&d).unwrap();
    mode(&d, 0o1777);
    let pyc = d.join("m.cpython-313.pyc");
    std::fs::write(&pyc, b"x").unwrap();
    let id = Identity::lookup("nobody", None, &[]).unwrap();
    assert!(check_dir(&id, &d, &Sandbox::default()).writable);
    let blocked = check_replace(&id, &pyc).map(|b| b.kind);
    // What import does: write a temporary file, then rename it over the old cache.
    let script = format!("echo y > '{0}.tmp' && mv -f '{0}.tmp' '{0}'", pyc.display());
    let truth = as_nobody()
        .args(["sh", "-c", &script])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(!truth, "the kernel refuses the rename");
    assert_eq!(blocked, Some(BlockKind::Sticky));
    chown_nobody(&pyc);
    assert_eq!(check_replace(&id, &pyc), None);
}

/// A read-only tmpfs mounted in a temporary directory; unmounted on drop.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_read_only_mount_blocks_even_mode_777() {
    if !is_root() {
        return skip("read-only mount", "needs root to mount");
    }
    let tmp = tempfile::tempdir().unwrap();
    mode(tmp.path(), 0o755);
    let mnt = tmp.path().join("ro");
    std::fs::create_dir(&mnt).unwrap();
    let out = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "ro,size=1m,mode=0777", "tmpfs"])
        .arg(&mnt)
        .output()
        .unwrap();
    if !out.status.success() {
        return skip(
            "read-only mount",
            &format!(
                "mount -t tmpfs -o ro refused: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        );
    }
    let _guard = Mount(mnt.clone());
    for who in ["nobody", "root"] {
        let id = Identity::lookup(who, None, &[]).unwrap();
        let got = check_dir(&id, &mnt, &Sandbox::default());
        assert!(!got.writable, "{who}");
        assert!(
            got.blockers
                .iter()
                .any(|b| b.kind == BlockKind::ReadOnlyMount),
            "{who}: {got:?}"
        );
    }
    let truth = as_nobody()
        .arg("sh")
        .arg("-c")
        .arg(format!("test -w '{}'", mnt.display()))
        .status()
        .unwrap()
        .success();
    assert!(!truth);
    let root_truth = Command::new("sh")
        .arg("-c")
        .arg(format!("touch '{}/x'", mnt.display()))
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(!root_truth, "not even root writes a read-only mount");
}
