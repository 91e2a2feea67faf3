//! Paths given by the user, made absolute and lexically clean once, at the edge.
//!
//! Everything below compares paths as bytes (planning keys, `strip_prefix`, the known-failure
//! memory, the prefix mapping), while `Path::parent` and `Path::components` silently drop an
//! interior `.`: `/srv/app/./config.py` has the parent `/srv/app` by `Path::parent` but
//! `/srv/app/.` by its bytes. So a path that is not clean is two different keys at once.
//! [`normalize`] gives each path one spelling, the one `os.path.abspath` gives: absolute,
//! no `.`, no `//`, no trailing `/`, and `..` removed with the component before it. It never
//! resolves a symbolic link, as CPython does not for `__file__` or the prefix mapping.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// `path` made absolute against `cwd` (when relative) and lexically clean: `.` and empty
/// components dropped, `..` removes the component before it (at `/` it stays `/`, as
/// POSIX defines `/..`). Symbolic links are never resolved. `cwd` should itself be absolute.
pub fn normalize_in(cwd: &Path, path: &Path) -> PathBuf {
    let bytes = path.as_os_str().as_bytes();
    let mut parts: Vec<&[u8]> = Vec::new();
    if !bytes.starts_with(b"/") {
        parts.extend(cwd.as_os_str().as_bytes().split(|&b| b == b'/'));
    }
    let mut clean: Vec<&[u8]> = Vec::new();
    for part in parts.into_iter().chain(bytes.split(|&b| b == b'/')) {
        match part {
            b"" | b"." => {}
            b".." => {
                clean.pop();
            }
            name => clean.push(name),
        }
    }
    let mut out = Vec::with_capacity(bytes.len() + 1);
    for name in &clean {
        out.push(b'/');
        out.extend_from_slice(name);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    PathBuf::from(OsString::from_vec(out))
}

/// `path` normalised against the current directory ([`normalize_in`]). An error only when
/// the path is relative and the current directory cannot be read (it was removed).
pub fn normalize(path: &Path) -> io::Result<PathBuf> {
    if path.is_absolute() {
        return Ok(normalize_in(Path::new("/"), path));
    }
    let cwd = std::env::current_dir()?;
    Ok(normalize_in(&cwd, path))
}

/// True when `path` is already what [`normalize`] gives (absolute and clean).
pub fn is_normal(path: &Path) -> bool {
    normalize_in(Path::new("/"), path).as_os_str() == path.as_os_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(cwd: &str, p: &str) -> String {
        normalize_in(Path::new(cwd), Path::new(p))
            .display()
            .to_string()
    }

    #[test]
    fn relative_paths_join_the_current_directory_and_lose_dots() {
        assert_eq!(n("/srv/app", "."), "/srv/app");
        assert_eq!(n("/srv/app", "./"), "/srv/app");
        assert_eq!(n("/srv/app", "sub/./x.py"), "/srv/app/sub/x.py");
        assert_eq!(n("/srv/app", "../pfx"), "/srv/pfx");
        assert_eq!(n("/srv/app", "../../../.."), "/");
        assert_eq!(n("/srv/app/", "a//b/"), "/srv/app/a/b");
    }

    #[test]
    fn absolute_paths_are_cleaned_without_the_current_directory() {
        assert_eq!(n("/ignored", "/x/./a.py"), "/x/a.py");
        assert_eq!(n("/ignored", "/x/trees/../r2"), "/x/r2");
        assert_eq!(n("/ignored", "//x///y/."), "/x/y");
        assert_eq!(n("/ignored", "/.."), "/");
        assert_eq!(n("/ignored", "/"), "/");
    }

    #[test]
    fn names_that_only_look_like_dots_are_kept() {
        assert_eq!(n("/r", "...//.x/..y"), "/r/.../.x/..y");
    }

    #[test]
    fn non_utf8_names_survive() {
        let p = PathBuf::from(OsString::from_vec(b"/r/./caf\xe9/../\xff".to_vec()));
        let got = normalize_in(Path::new("/"), &p);
        assert_eq!(got.as_os_str().as_bytes(), b"/r/\xff");
    }

    #[test]
    fn normal_paths_are_recognised() {
        assert!(is_normal(Path::new("/srv/app")));
        assert!(is_normal(Path::new("/")));
        assert!(!is_normal(Path::new("/srv/./app")));
        assert!(!is_normal(Path::new("app")));
        assert!(!is_normal(Path::new("/srv/app/")));
    }

    #[test]
    fn the_current_directory_is_used_for_relative_paths() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            normalize(Path::new(".")).unwrap(),
            normalize_in(&cwd, Path::new(""))
        );
    }
}
