use super::*;

#[test]
fn keys_and_names_give_versions() {
    assert_eq!(version_of_key("cpython-312"), Some(PyVersion::new(3, 12)));
    assert_eq!(version_of_key("pypy39"), Some(PyVersion::new(3, 9)));
    assert_eq!(version_of_key("cpython-27"), Some(PyVersion::new(2, 7)));
    assert_eq!(version_in_name("3.13.0"), Some(PyVersion::new(3, 13)));
    assert_eq!(version_in_name("3"), None);
}

#[test]
fn planning_describes_a_virtualenv_without_running_it() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let venv = t.path().join(".venv");
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    std::fs::write(
        venv.join("pyvenv.cfg"),
        "home = /usr/bin\nversion = 3.12.4\n",
    )
    .unwrap();
    let marker = t.path().join("ran");
    let py = venv.join("bin/python3");
    std::fs::write(&py, format!("#!/bin/sh\ntouch {}\n", marker.display())).unwrap();
    std::fs::set_permissions(&py, std::fs::Permissions::from_mode(0o755)).unwrap();
    // What the explorer's recompile does (`p`): discover, planning only, probe.
    let mut found = Interpreters::discover(&[], std::slice::from_ref(&venv))
        .planning_only(std::slice::from_ref(&venv));
    found.probe_where(|c| c.origin == Origin::Venv);
    assert!(!marker.exists(), "the virtualenv's interpreter ran");
    let i = found
        .found
        .iter()
        .find(|i| i.origin == Origin::Venv)
        .unwrap();
    assert_eq!((i.tag.as_deref(), i.described), (Some("cpython-312"), true));
    assert_eq!(i.magic, 3531, "3.12's final magic");
}

#[test]
fn probing_a_real_interpreter_reports_its_tag_and_magic() {
    // /usr/bin/python3 and every interpreter the live tests know (3.14, 3.15, PyPy...).
    let mut found: Vec<PathBuf> = crate::test_interpreters::all()
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    found.extend(Some(PathBuf::from("/usr/bin/python3")).filter(|p| p.exists()));
    if found.is_empty() {
        eprintln!("skipped: no interpreter found");
        return;
    }
    for p in &found {
        let i = probe(p, Origin::System).unwrap();
        // The magic table names what each interpreter writes: its version, and the tag
        // its caches carry (cpython-315, pypy39).
        let info = crate::pyc::magic::lookup(i.magic);
        assert_eq!(info.python, Some(i.python), "{}", p.display());
        assert_eq!(
            info.implementation.as_str(),
            i.implementation,
            "{}",
            p.display()
        );
        assert_eq!(info.expected_tag(), i.tag, "{}", p.display());
        assert!(
            info.is_known(),
            "{}: magic {} not in the table",
            p.display(),
            i.magic
        );
    }
    assert!(probe(Path::new("/bin/true"), Origin::Flag).is_err());
}
