//! Start-up calls, constant import names and used `lazy import`s, on small projects.

use crate::imports::{Options, Reachability, Scope, analyze};
use crate::pyc::magic::PyVersion;
use std::fs;

fn graph(version: (u8, u8), files: &[(&str, &str)]) -> crate::imports::ImportGraph {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = dir.path().join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    let g = analyze(&Options {
        root: dir.path().to_path_buf(),
        entries: vec!["run.py".into()],
        paths: Vec::new(),
        venv: None,
        python: Some(PyVersion::new(version.0, version.1)),
        scope: Scope::Project,
        lazy_imports: crate::imports::lazy::Mode::Normal,
    })
    .unwrap();
    drop(dir);
    g
}

fn level(g: &crate::imports::ImportGraph, path: &str) -> Reachability {
    g.modules
        .iter()
        .find(|m| m.path == path)
        .unwrap_or_else(|| panic!("no {path}"))
        .reachability
}

const IMPORTED: Reachability = Reachability::Imported;
const LAZY: Reachability = Reachability::Lazy;

#[test]
fn factory_reexported_and_methods_of_instances_classes_and_bases() {
    let g = graph(
        (3, 13),
        &[
            ("run.py", "from pkg import create_app\napp = create_app()\n"),
            ("pkg/__init__.py", "from .factory import create_app\n"),
            (
                "pkg/factory.py",
                "from .ext import db\nfrom . import base\n\ndef create_app():\n    from . import views\n    db.init_app(None)\n    base.Child()\n    return views\n\ndef unused():\n    import pkg.never\n",
            ),
            (
                "pkg/ext.py",
                "class Db:\n    def init_app(self, app):\n        self.setup()\n    def setup(self):\n        import pkg.driver\n\ndb = Db()\n",
            ),
            (
                "pkg/base.py",
                "class Base:\n    def __init__(self):\n        import pkg.base_dep\n\nclass Child(Base):\n    pass\n",
            ),
            ("pkg/views.py", ""),
            ("pkg/driver.py", ""),
            ("pkg/base_dep.py", ""),
            ("pkg/never.py", ""),
        ],
    );
    for p in ["pkg/views.py", "pkg/driver.py", "pkg/base_dep.py"] {
        assert_eq!(level(&g, p), IMPORTED, "{p}");
    }
    assert_eq!(level(&g, "pkg/never.py"), LAZY);
    let factory = g
        .modules
        .iter()
        .find(|m| m.path == "pkg/factory.py")
        .unwrap();
    let views = factory
        .imports
        .iter()
        .find(|i| i.module == "pkg.views")
        .unwrap();
    assert_eq!(
        views.at_start.as_deref(),
        Some("run.py line 2 calls create_app()")
    );
    assert!(views.context.lazy, "the statement is still in a function");
}

#[test]
fn conditions_main_guard_type_checking_and_depth() {
    let mut chain = String::new();
    for k in 0..12 {
        chain.push_str(&format!("def f{k}():\n    import d{k}\n    f{}()\n", k + 1));
    }
    chain.push_str("def f12():\n    pass\n");
    let mut files = vec![
        (
            "run.py".to_owned(),
            "import lib, chain\nfrom typing import TYPE_CHECKING\nlib.main()\nchain.f0()\nif TYPE_CHECKING:\n    lib.typed()\n".to_owned(),
        ),
        (
            "lib.py".to_owned(),
            "import sys\ndef main():\n    import always\n    if sys.argv[1:]:\n        import sometimes\n        helper()\n    try:\n        import tried\n    except ImportError:\n        import fallback\n    main()\n\ndef helper():\n    import via_branch\n\ndef typed():\n    import typed_dep\n\nif __name__ == '__main__':\n    typed()\n".to_owned(),
        ),
        ("chain.py".to_owned(), chain),
    ];
    for name in [
        "always",
        "sometimes",
        "via_branch",
        "tried",
        "fallback",
        "typed_dep",
    ] {
        files.push((format!("{name}.py"), String::new()));
    }
    for k in 0..12 {
        files.push((format!("d{k}.py"), String::new()));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let g = graph((3, 13), &refs);
    assert_eq!(level(&g, "always.py"), IMPORTED);
    assert_eq!(level(&g, "tried.py"), IMPORTED);
    // Under a condition of the called function: pycache does not evaluate it.
    assert_eq!(level(&g, "sometimes.py"), LAZY);
    assert_eq!(level(&g, "via_branch.py"), LAZY);
    assert_eq!(
        level(&g, "fallback.py"),
        Reachability::NotImported,
        "try succeeds"
    );
    // Called only under TYPE_CHECKING, or in the main guard of a module that is not main.
    assert_eq!(level(&g, "typed_dep.py"), LAZY);
    // Followed to a bounded depth; deeper imports stay lazy.
    let depth = super::MAX_DEPTH;
    assert_eq!(level(&g, &format!("d{}.py", depth - 1)), IMPORTED);
    assert_eq!(level(&g, &format!("d{depth}.py")), LAZY);
}

#[test]
fn constant_loops_concatenation_and_fstrings() {
    let g = graph(
        (3, 13),
        &[
            (
                "run.py",
                "import importlib\nBASE = 'plugins'\nNAMES = ['a', 'b']\nfor n in ('c', 'd'):\n    importlib.import_module('plugins.' + n)\nfor n in NAMES:\n    importlib.import_module(f'{BASE}.{n}')\nfor n in sorted(NAMES):\n    importlib.import_module('plugins.' + n + '_x')\n__import__(BASE + '.e')\n",
            ),
            ("plugins/__init__.py", ""),
            ("plugins/a.py", ""),
            ("plugins/b.py", ""),
            ("plugins/c.py", ""),
            ("plugins/d.py", ""),
            ("plugins/e.py", ""),
            ("plugins/a_x.py", ""),
        ],
    );
    for p in ["a", "b", "c", "d", "e"] {
        assert_eq!(level(&g, &format!("plugins/{p}.py")), IMPORTED, "{p}");
    }
    // A loop over something not constant: the name is unknown.
    assert_eq!(level(&g, "plugins/a_x.py"), Reachability::NotImported);
    assert_eq!(g.unresolved.len(), 1);
    assert_eq!(g.unresolved[0].line, 9);
}

#[test]
fn lazy_imports_load_when_used_at_start() {
    let g = graph(
        (3, 15),
        &[
            (
                "run.py",
                "lazy import pkg.used\nlazy import pkg.unused\nlazy from pkg import helper\nlazy import pkg.in_call as ic\nlazy import pkg.in_uncalled\nlazy import pkg.hidden as hid\n\nprint(pkg.used.X)\nhelper()\n\ndef start():\n    return ic.Y\n\ndef later():\n    return pkg.in_uncalled\n\ndef shadow():\n    import os as hid\n    return hid\n\nstart()\nshadow()\n",
            ),
            ("pkg/__init__.py", ""),
            ("pkg/used.py", "X = 1\n"),
            ("pkg/unused.py", ""),
            ("pkg/helper.py", ""),
            ("pkg/in_call.py", "Y = 1\n"),
            ("pkg/in_uncalled.py", ""),
            ("pkg/hidden.py", ""),
        ],
    );
    assert_eq!(level(&g, "pkg/used.py"), IMPORTED);
    assert_eq!(
        level(&g, "pkg/helper.py"),
        IMPORTED,
        "lazy from: the submodule"
    );
    assert_eq!(level(&g, "pkg/in_call.py"), IMPORTED);
    // `pkg.used` does not load `pkg.unused`, though both bind `pkg`.
    assert_eq!(level(&g, "pkg/unused.py"), LAZY);
    assert_eq!(level(&g, "pkg/in_uncalled.py"), LAZY);
    // A function's own `hid` hides the module's lazy one.
    assert_eq!(level(&g, "pkg/hidden.py"), LAZY);
    let run = g.modules.iter().find(|m| m.path == "run.py").unwrap();
    let used = run.imports.iter().find(|i| i.module == "pkg.used").unwrap();
    assert_eq!(
        used.at_start.as_deref(),
        Some("pkg.used.X is used at line 8 of run.py")
    );
}

#[test]
fn lazy_modules_listed_load_when_used_at_start() {
    let g = graph(
        (3, 15),
        &[
            (
                "run.py",
                "__lazy_modules__ = ['pkg.a', 'pkg.b']\nimport pkg.a\nimport pkg.b\n\nprint(pkg.a.X)\n",
            ),
            ("pkg/__init__.py", ""),
            ("pkg/a.py", "X = 1\n"),
            ("pkg/b.py", ""),
        ],
    );
    assert_eq!(level(&g, "pkg/a.py"), IMPORTED);
    assert_eq!(level(&g, "pkg/b.py"), LAZY);
}
