//! Describing an interpreter without running it (planning only): what a virtualenv's
//! `pyvenv.cfg` and the name its link resolves to say.

use super::{Interpreter, Origin, version_in_name};
use crate::pyc::PyVersion;
use crate::pyc::magic::{Implementation, Release, lookup};
use crate::scan::record::display_path;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Describes a virtualenv's interpreter without running it: the version from the
/// `pyvenv.cfg` two levels up (`version = 3.12.1` from venv, `version_info = 3.12.1.final.0`
/// and `implementation = CPython` from virtualenv), else from the name its link resolves to
/// (`python3.12`); the magic is that version's final release's.
pub fn describe(path: &Path, origin: Origin) -> Result<Interpreter, String> {
    let cfg = path
        .parent()
        .and_then(Path::parent)
        .map(|venv| venv.join("pyvenv.cfg"));
    let text = cfg
        .as_deref()
        // A regular file only, never blocking (a FIFO named pyvenv.cfg would hang `open`).
        .and_then(|c| crate::fsread::read_capped(c, 64 * 1024).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let field = |name: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == name).then(|| v.trim().to_string())
        })
    };
    let full = field("version")
        .or_else(|| field("version_info"))
        .or_else(|| {
            let real = std::fs::canonicalize(path).ok()?;
            let name = real.file_name()?.to_str()?.to_string();
            version_in_name(&name).map(|v| v.to_string())
        });
    let Some((full, python)) = full.and_then(|f| {
        let v = version_in_name(&f)?;
        let three: Vec<&str> = f.split('.').take(3).collect();
        Some((three.join("."), v))
    }) else {
        return Err(format!(
            "{}: not run (planning only), and neither its pyvenv.cfg nor its name tells its version",
            display_path(path)
        ));
    };
    let pypy = field("implementation").is_some_and(|i| i.eq_ignore_ascii_case("pypy"))
        || path
            .file_name()
            .is_some_and(|n| n.as_bytes().starts_with(b"pypy"));
    let implementation = if pypy { "pypy" } else { "cpython" }.to_string();
    let tag = (python.major >= 3).then(|| {
        if pypy {
            format!("pypy{}{}", python.major, python.minor)
        } else {
            format!("cpython-{}{}", python.major, python.minor)
        }
    });
    Ok(Interpreter {
        path: path.to_path_buf(),
        origin,
        version: full,
        python,
        implementation,
        tag,
        magic: final_magic(python),
        pycache_prefix: None,
        described: true,
    })
}

/// The magic number of a version's final release (0 when the table has none).
fn final_magic(v: PyVersion) -> u16 {
    (0..=u16::MAX)
        .rev()
        .find(|&m| {
            let info = lookup(m);
            info.python == Some(v)
                && info.implementation == Implementation::CPython
                && info.release == Release::Final
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `pyvenv.cfg` that is a FIFO (or a link to /dev/zero) is not read: planning ends at
    /// once with the version from the interpreter's name, instead of waiting for a writer.
    #[test]
    fn a_fifo_pyvenv_cfg_is_not_waited_for() {
        let t = tempfile::tempdir().unwrap();
        let bin = t.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let real = t.path().join("python3.12");
        std::fs::write(&real, "").unwrap();
        std::os::unix::fs::symlink(&real, bin.join("python3")).unwrap();
        let cfg = t.path().join("pyvenv.cfg");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &cfg,
            rustix::fs::Mode::from_raw_mode(0o600),
        )
        .unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let py = bin.join("python3");
        std::thread::spawn(move || {
            let _ = tx.send(describe(&py, Origin::Path));
        });
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("describe waited on a FIFO pyvenv.cfg");
        assert_eq!(got.unwrap().version, "3.12");
        std::fs::remove_file(&cfg).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &cfg).unwrap();
        assert_eq!(
            describe(&bin.join("python3"), Origin::Path)
                .unwrap()
                .version,
            "3.12"
        );
    }
}
