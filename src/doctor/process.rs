//! A running process as the runtime context: its credentials (`/proc/PID/status`), its
//! environment (`/proc/PID/environ`, when readable), its interpreter and script
//! (`/proc/PID/exe`, `cmdline`, `cwd`), and the systemd unit it belongs to (`cgroup`).

use super::DoctorError;
use super::command::{self, DEFAULT_PATH, PythonCommand, is_python_name};
use super::identity::{Identity, user_name};
use crate::fsread::{CONFIG_CAP, read_capped, read_string_capped};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What `/proc` tells about a process.
#[derive(Debug, Clone, Default)]
pub struct ProcessInfo {
    /// The process id.
    pub pid: u32,
    /// Filesystem uid/gid and supplementary groups: what permission checks use.
    pub identity: Option<Identity>,
    /// The environment, when `/proc/PID/environ` was readable.
    pub env: Option<BTreeMap<String, String>>,
    /// The command line, parsed.
    pub command: PythonCommand,
    /// The raw command line.
    pub cmdline: String,
    /// The working directory.
    pub cwd: Option<PathBuf>,
    /// The systemd unit from `/proc/PID/cgroup` (`name.service`), if any.
    pub unit: Option<String>,
    /// What could not be read.
    pub notes: Vec<String>,
}

/// `environ` and `cmdline` are bounded by the kernel's argument limit (a quarter of the
/// stack limit, 2 MiB by default): 8 MiB leaves room and still bounds the read.
const ARGS_CAP: u64 = 8 << 20;

/// Reads `/proc/PID` (or another procfs root, for tests).
pub fn read(pid: u32, proc_root: &Path) -> Result<ProcessInfo, DoctorError> {
    let dir = proc_root.join(pid.to_string());
    let status = read_string_capped(&dir.join("status"), CONFIG_CAP).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such process".to_string(),
            _ => crate::imports::io_reason(&e),
        };
        DoctorError::new(format!(
            "cannot read {}: {why}; is process {pid} running? (pgrep -af python lists the Python processes)",
            crate::text::display_path(&dir.join("status"))
        ))
    })?;
    let mut info = ProcessInfo {
        pid,
        identity: identity_from_status(&status),
        ..ProcessInfo::default()
    };
    match read_capped(&dir.join("environ"), ARGS_CAP) {
        Ok(bytes) => info.env = Some(nul_split(&bytes).filter_map(|kv| {
            kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string()))
        }).collect()),
        Err(e) => info.notes.push(format!(
            "cannot read {} ({e}): environment variables unknown; run as root or as the process's user",
            crate::text::display_path(&dir.join("environ"))
        )),
    }
    info.cwd = std::fs::read_link(dir.join("cwd")).ok();
    let argv: Vec<String> = read_capped(&dir.join("cmdline"), ARGS_CAP)
        .map(|b| nul_split(&b).map(String::from).collect())
        .unwrap_or_default();
    info.cmdline = argv.join(" ");
    let path_var = info
        .env
        .as_ref()
        .and_then(|e| e.get("PATH").cloned())
        .unwrap_or_else(|| DEFAULT_PATH.to_string());
    info.command = command::parse(&argv, info.cwd.as_deref(), &path_var);
    if let Ok(exe) = std::fs::read_link(dir.join("exe")) {
        let python_exe = exe
            .file_name()
            .is_some_and(|n| is_python_name(&n.to_string_lossy()));
        // argv[0] keeps a virtualenv's path; exe resolves to the base interpreter.
        if python_exe
            && info
                .command
                .interpreter
                .as_ref()
                .is_none_or(|p| !p.exists())
        {
            info.command.interpreter = Some(exe);
            info.command.interpreter_via = crate::text::display_path(&dir.join("exe"));
        }
    }
    info.unit = read_string_capped(&dir.join("cgroup"), CONFIG_CAP)
        .ok()
        .and_then(|c| unit_from_cgroup(&c));
    Ok(info)
}

fn nul_split(bytes: &[u8]) -> impl Iterator<Item = &str> {
    bytes
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .filter_map(|s| std::str::from_utf8(s).ok())
}

/// Uses the filesystem ids (4th column of `Uid:`/`Gid:`) and `Groups:`.
fn identity_from_status(status: &str) -> Option<Identity> {
    let field = |name: &str| -> Vec<u32> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|rest| {
                rest.split_whitespace()
                    .filter_map(|n| n.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    };
    let uid = *field("Uid:").get(3)?;
    let gid = *field("Gid:").get(3)?;
    let mut groups = field("Groups:");
    groups.push(gid);
    groups.sort_unstable();
    groups.dedup();
    Some(Identity {
        name: user_name(uid),
        uid: Some(uid),
        gid: Some(gid),
        groups,
    })
}

/// `0::/system.slice/app.service` -> `app.service` (the last `.service` component).
fn unit_from_cgroup(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| l.splitn(3, ':').nth(2))
        .flat_map(|p| p.split('/'))
        .rfind(|c| c.ends_with(".service"))
        .map(String::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_cgroup_and_a_fake_proc() {
        let id = identity_from_status("Name:\tpython3\nUid:\t0\t65534\t65534\t65534\nGid:\t0\t65534\t65534\t65534\nGroups:\t4 27\n").unwrap();
        assert_eq!(
            (id.uid, id.gid, id.groups.clone()),
            (Some(65534), Some(65534), vec![4, 27, 65534])
        );
        assert_eq!(
            unit_from_cgroup("0::/system.slice/lern.service\n").as_deref(),
            Some("lern.service")
        );
        assert_eq!(
            unit_from_cgroup("0::/user.slice/user-0.slice/session-1.scope\n"),
            None
        );

        let root = tempfile::tempdir().unwrap();
        let p = root.path().join("42");
        std::fs::create_dir(&p).unwrap();
        std::fs::write(
            p.join("status"),
            "Uid:\t1\t1\t1\t1\nGid:\t1\t1\t1\t1\nGroups:\n",
        )
        .unwrap();
        std::fs::write(
            p.join("environ"),
            b"PYTHONDONTWRITEBYTECODE=1\0PATH=/usr/bin\0",
        )
        .unwrap();
        std::fs::write(
            p.join("cmdline"),
            b"/usr/bin/python3\0-X\0pycache_prefix=/c\0run.py\0",
        )
        .unwrap();
        std::os::unix::fs::symlink("/srv/app", p.join("cwd")).unwrap();
        let info = read(42, root.path()).unwrap();
        assert_eq!(info.env.unwrap()["PYTHONDONTWRITEBYTECODE"], "1");
        assert_eq!(info.command.prefix.as_deref(), Some("/c"));
        assert_eq!(info.command.script, Some(PathBuf::from("/srv/app/run.py")));
        assert!(
            read(43, root.path())
                .unwrap_err()
                .to_string()
                .contains("is process 43 running")
        );
    }

    #[test]
    fn reads_this_very_process() {
        let me = read(std::process::id(), Path::new("/proc")).unwrap();
        assert_eq!(
            me.identity.unwrap().uid,
            Some(nix::unistd::Uid::effective().as_raw())
        );
        assert!(me.env.is_some() && me.cwd.is_some());
    }
}
