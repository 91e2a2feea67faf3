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
        .and_then(|c| std::fs::File::open(c).ok())
        .and_then(|f| {
            use std::io::Read;
            let mut s = String::new();
            f.take(64 * 1024).read_to_string(&mut s).ok().map(|_| s)
        })
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
