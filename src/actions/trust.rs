//! The one rule for running a file: pycache executes a program only when the file (after
//! resolving symlinks) and every directory above it are owned by root or by the invoking
//! user and are not writable by group or others — the checks OpenSSH's `StrictModes` and
//! sudo make. Anyone else who could change one of them could make root run their code.
//!
//! A world-writable directory with the sticky bit (`/tmp`) passes: nobody but an entry's
//! owner can rename or remove that entry, and the entries below are checked themselves.
//! The resolved path is what gets executed, so a link cannot be re-pointed between the
//! check and the `exec`, and a virtualenv's `pyvenv.cfg` beside a link is never read
//! (`-S` runs need nothing from the virtualenv: its interpreter is the base one).

use crate::scan::record::display_path;
use nix::unistd::{Uid, User};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What to tell the user to do instead, appended to every refusal.
const ADVICE: &str =
    "pass --python with an interpreter owned by root (e.g. /usr/bin/python3), or run pycache as";

/// What to do when the named program cannot be run at all (missing, not a file).
pub const NOT_RUNNABLE: &str = "pass --python with the path of an interpreter";

/// The path to execute for `program` (symlinks resolved), or why it must not be run.
pub fn trusted_program(program: &Path) -> Result<PathBuf, String> {
    let real = std::fs::canonicalize(program).map_err(|e| {
        format!(
            "cannot run {}: {}; {NOT_RUNNABLE}",
            display_path(program),
            crate::imports::io_reason(&e)
        )
    })?;
    let me = Uid::effective().as_raw();
    let meta = std::fs::metadata(&real).map_err(|e| {
        format!(
            "cannot run {}: {}",
            display_path(program),
            crate::imports::io_reason(&e)
        )
    })?;
    if !meta.is_file() {
        return Err(format!(
            "cannot run {}: not a regular file",
            display_path(program)
        ));
    }
    for (i, p) in real.ancestors().enumerate() {
        let m = std::fs::symlink_metadata(p)
            .map_err(|e| format!("cannot check {}: {e}", display_path(p)))?;
        if let Some(why) = untrusted(m.uid(), m.mode(), i > 0, me) {
            let what = if i == 0 {
                String::new()
            } else {
                format!(" (a directory above {})", display_path(&real))
            };
            let via = if real == program {
                String::new()
            } else {
                format!(" (reached from {})", display_path(program))
            };
            return Err(format!(
                "refusing to run {}{via}: {}{what} is owned by {} with mode {:04o}: {why}; {ADVICE} {}",
                display_path(&real),
                display_path(p),
                owner_name(m.uid()),
                m.mode() & 0o7777,
                owner_name(m.uid()).split(' ').next().unwrap_or("its owner"),
            ));
        }
    }
    Ok(real)
}

/// Why a file or directory with this owner and mode is not trusted by user `me`, if so.
pub fn untrusted(uid: u32, mode: u32, dir: bool, me: u32) -> Option<&'static str> {
    if uid != 0 && uid != me {
        return Some("another user could change it");
    }
    let sticky = dir && mode & 0o1000 != 0 && uid == 0;
    if mode & 0o022 != 0 && !sticky {
        return Some(if mode & 0o002 != 0 {
            "anyone can write to it"
        } else {
            "its group can write to it"
        });
    }
    None
}

/// `nobody (uid 65534)`, or `uid 1234` when the user has no name.
pub fn owner_name(uid: u32) -> String {
    match User::from_uid(Uid::from_raw(uid)) {
        Ok(Some(u)) => format!("{} (uid {uid})", u.name),
        _ => format!("uid {uid}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn owners_and_modes() {
        assert_eq!(untrusted(0, 0o100755, false, 1000), None);
        assert_eq!(untrusted(1000, 0o100755, false, 1000), None);
        assert!(untrusted(1001, 0o100755, false, 1000).is_some());
        assert!(untrusted(0, 0o100775, false, 1000).is_some());
        assert!(untrusted(0, 0o100757, false, 1000).is_some());
        // /tmp: root's sticky world-writable directory.
        assert_eq!(untrusted(0, 0o41777, true, 1000), None);
        assert!(untrusted(1000, 0o41777, true, 0).is_some());
        assert!(untrusted(0, 0o40777, true, 1000).is_some());
    }

    #[test]
    fn a_group_writable_program_is_refused_with_its_owner_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("python3");
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o775)).unwrap();
        let err = trusted_program(&p).unwrap_err();
        assert!(
            err.contains("mode 0775") && err.contains("--python"),
            "{err}"
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        let link = dir.path().join("python");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        assert_eq!(
            trusted_program(&link).unwrap(),
            std::fs::canonicalize(&p).unwrap()
        );
    }
}
