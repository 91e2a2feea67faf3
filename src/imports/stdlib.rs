//! Which top-level module names belong to the standard library of a Python version.
//!
//! The lists are `sys.stdlib_module_names` of the CPython interpreters on the development
//! machine (3.10.13, 3.11.7, 3.12.1, 3.13.0 under `~/.pyenv/versions`), embedded as text
//! files in `src/imports/stdlib/`. They were generated with:
//!
//! ```text
//! python -I -c 'import sys, _imp
//! frozen = {f for f in getattr(_imp, "_frozen_module_names", lambda: [])() if "." not in f}
//! pre = {m.split(".")[0] for m in sys.modules} | set(sys.builtin_module_names) | frozen
//! print("[stdlib]", *sorted(sys.stdlib_module_names), "[preloaded]", *sorted(pre - {"__main__"}), sep="\n")'
//! ```
//!
//! `sys.stdlib_module_names` appeared in 3.10, so 2.7 and 3.6–3.9 use the 3.10 list (a
//! documented approximation: 2.7 names such as `urllib2` are then "missing"), and versions
//! newer than the newest list use the newest list.
//!
//! "Preloaded" names can never be shadowed by a project file of the same name: they are
//! built in, frozen, or already in `sys.modules` when the script starts. Every other
//! standard-library name is shadowed by a project module, because the script's directory
//! comes first on `sys.path`.

use crate::pyc::magic::PyVersion;
use std::sync::LazyLock;

/// One embedded list: the version it was taken from and its two sorted name sets.
struct StdlibList {
    version: PyVersion,
    stdlib: Vec<&'static str>,
    preloaded: Vec<&'static str>,
}

const RAW: [(PyVersion, &str); 4] = [
    (PyVersion::new(3, 10), include_str!("stdlib/py3.10.txt")),
    (PyVersion::new(3, 11), include_str!("stdlib/py3.11.txt")),
    (PyVersion::new(3, 12), include_str!("stdlib/py3.12.txt")),
    (PyVersion::new(3, 13), include_str!("stdlib/py3.13.txt")),
];

static LISTS: LazyLock<Vec<StdlibList>> = LazyLock::new(|| {
    RAW.iter()
        .map(|(version, text)| parse_list(*version, text))
        .collect()
});

fn parse_list(version: PyVersion, text: &'static str) -> StdlibList {
    let mut list = StdlibList {
        version,
        stdlib: Vec::new(),
        preloaded: Vec::new(),
    };
    let mut in_preloaded = false;
    for line in text.lines().map(str::trim) {
        match line {
            "" => {}
            "[stdlib]" => in_preloaded = false,
            "[preloaded]" => in_preloaded = true,
            _ if line.starts_with('#') => {}
            name if in_preloaded => list.preloaded.push(name),
            name => list.stdlib.push(name),
        }
    }
    list.stdlib.sort_unstable();
    list.preloaded.sort_unstable();
    list
}

/// The standard library of one Python version, as far as pycache knows it.
#[derive(Debug, Clone, Copy)]
pub struct Stdlib {
    index: usize,
    requested: PyVersion,
}

impl Stdlib {
    /// The list to use for `version` (see the module docs for the fallbacks).
    pub fn for_version(version: PyVersion) -> Self {
        let lists = &*LISTS;
        let index = lists
            .iter()
            .rposition(|l| l.version <= version)
            .unwrap_or(0);
        Self {
            index,
            requested: version,
        }
    }

    fn list(&self) -> &'static StdlibList {
        &LISTS[self.index]
    }

    /// The version whose list is used.
    pub fn list_version(&self) -> PyVersion {
        self.list().version
    }

    /// A sentence when the list is not the requested version's own, else `None`.
    pub fn fallback_note(&self) -> Option<String> {
        let used = self.list_version();
        (used != self.requested).then(|| {
            format!(
                "no standard-library list for Python {}; using the {} list",
                self.requested, used
            )
        })
    }

    /// Whether a top-level module name is part of the standard library.
    pub fn contains(&self, top_level: &str) -> bool {
        self.list().stdlib.binary_search(&top_level).is_ok()
    }

    /// Whether a top-level name is loaded before any project file could shadow it.
    pub fn is_preloaded(&self, top_level: &str) -> bool {
        self.list().preloaded.binary_search(&top_level).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::process::Command;

    #[test]
    fn lists_parse_and_know_common_modules() {
        let s = Stdlib::for_version(PyVersion::new(3, 13));
        assert!(s.contains("os") && s.contains("json") && s.contains("importlib"));
        assert!(!s.contains("flask") && !s.contains("distutils"));
        assert!(s.is_preloaded("sys") && s.is_preloaded("os"));
        assert!(!s.is_preloaded("json"));
        assert_eq!(s.fallback_note(), None);
    }

    #[test]
    fn old_and_new_versions_fall_back() {
        let old = Stdlib::for_version(PyVersion::new(2, 7));
        assert_eq!(old.list_version(), PyVersion::new(3, 10));
        assert!(old.fallback_note().is_some_and(|n| n.contains("3.10 list")));
        assert!(old.contains("distutils"));
        let new = Stdlib::for_version(PyVersion::new(3, 14));
        assert_eq!(new.list_version(), PyVersion::new(3, 13));
    }

    /// The embedded lists are the interpreters' own: compare with each one present.
    #[test]
    fn lists_match_the_interpreters() {
        let Some(home) = std::env::var_os("HOME") else {
            eprintln!("skipped: HOME is not set");
            return;
        };
        for (version, full) in [
            ((3, 10), "3.10.13"),
            ((3, 11), "3.11.7"),
            ((3, 12), "3.12.1"),
            ((3, 13), "3.13.0"),
        ] {
            let python = PathBuf::from(&home).join(format!(".pyenv/versions/{full}/bin/python"));
            if !python.exists() {
                eprintln!("skipped {full}: {} not found", python.display());
                continue;
            }
            let mut cmd = Command::new(&python);
            cmd.args([
                "-I",
                "-c",
                "import sys; print('\\n'.join(sorted(sys.stdlib_module_names)))",
            ]);
            // A hard limit, so a broken interpreter fails the test instead of hanging it.
            let out = crate::actions::child::run(
                &mut cmd,
                &python,
                None,
                std::time::Duration::from_secs(60),
                1 << 20,
            )
            .unwrap();
            let names: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
            let list = Stdlib::for_version(PyVersion::new(version.0, version.1));
            assert_eq!(names, list.list().stdlib, "stdlib list of {full}");
        }
    }
}
