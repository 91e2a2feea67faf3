//! The classification rules, one behaviour per test.

use super::*;
use crate::pyc::name::parse_tagged;
use crate::pyc::{Location, SourceFound, Status};
use std::io;
use std::path::PathBuf;

fn tagged(name: &str) -> Option<(String, Option<String>, Option<String>, bool)> {
    bytecode_name(name.as_bytes(), true).map(|n| {
        (
            String::from_utf8(n.stem.to_vec()).unwrap(),
            n.tag.map(str::to_string),
            n.opt.map(str::to_string),
            n.leftover,
        )
    })
}

#[test]
fn tagged_names_parse_like_the_pyc_module_does() {
    for name in [
        "m.cpython-313.pyc",
        "a.b.cpython-313.pyc",
        "mod.cpython-312.opt-2.pyc",
        "__init__.pypy39.pyc",
        "m.cpython-34.pyo",
    ] {
        let ours = bytecode_name(name.as_bytes(), true).unwrap();
        let theirs = parse_tagged(name).unwrap();
        assert_eq!(ours.stem, theirs.stem.as_bytes(), "{name}");
        assert_eq!(ours.tag, theirs.tag.as_deref(), "{name}");
        assert_eq!(ours.opt, theirs.opt.as_deref(), "{name}");
    }
}

#[test]
fn untagged_names_keep_their_stem_and_other_files_are_not_bytecode() {
    assert_eq!(tagged("m.pyc"), Some(("m".into(), None, None, false)));
    assert_eq!(tagged("m.py"), None);
    assert_eq!(tagged("README"), None);
    assert_eq!(bytecode_name(b".pyc", false), None);
    let legacy = bytecode_name(b"app.cpython-313.pyc", false).unwrap();
    assert_eq!((legacy.stem, legacy.tag), (&b"app.cpython-313"[..], None));
}

#[test]
fn leftovers_of_interrupted_writes_are_recognised() {
    assert_eq!(
        tagged("m.cpython-313.pyc.140234234"),
        Some(("m".into(), Some("cpython-313".into()), None, true))
    );
    assert_eq!(tagged("m.cpython-313.pyc.tmp"), None);
    assert_eq!(tagged("m.cpython-313.pyc.12a"), None);
    assert!(bytecode_name(b"m.pyc.123", false).unwrap().leftover);
}

#[test]
fn non_utf8_stems_are_kept_as_bytes() {
    let n = bytecode_name(b"caf\xe9.cpython-313.pyc", true).unwrap();
    assert_eq!(n.stem, b"caf\xe9");
    assert_eq!(n.tag, Some("cpython-313"));
    assert_eq!(join_module("pkg", n.stem), "pkg.caf\\xe9");
    assert_eq!(source_stem(b"caf\xe9.py"), Some(&b"caf\xe9"[..]));
}

#[test]
fn sources_are_py_and_pyw_only() {
    assert_eq!(source_stem(b"m.py"), Some(&b"m"[..]));
    assert_eq!(source_stem(b"gui.pyw"), Some(&b"gui"[..]));
    assert_eq!(source_stem(b"m.pyc"), None);
    assert_eq!(source_stem(b".py"), None);
    assert_eq!(source_stem(b"m.pyi"), None);
}

#[test]
fn module_names_are_dotted_below_the_base_and_packages_drop_init() {
    let base = Path::new("/srv/app");
    assert_eq!(module_name(base, Path::new("/srv/app/run.py")), "run");
    assert_eq!(
        module_name(base, Path::new("/srv/app/pkg/sub/mod.py")),
        "pkg.sub.mod"
    );
    assert_eq!(
        module_name(base, Path::new("/srv/app/pkg/__init__.py")),
        "pkg"
    );
    assert_eq!(
        module_name(Path::new("/"), Path::new("/opt/app/m.py")),
        "opt.app.m"
    );
    assert_eq!(join_module("", b"__init__"), "__init__");
}

#[test]
fn prefix_mapping_is_cpythons_rule_both_ways() {
    let prefix = Path::new("/pfx");
    assert_eq!(
        prefix_source_dir(prefix, Path::new("/pfx/a/b")),
        Some(PathBuf::from("/a/b"))
    );
    assert_eq!(prefix_source_dir(prefix, Path::new("/pfx")), None);
    assert_eq!(prefix_source_dir(prefix, Path::new("/pfxother/a")), None);
    assert_eq!(
        prefix_cache_dir(prefix, Path::new("/a/b")),
        PathBuf::from("/pfx/a/b")
    );
}

#[test]
fn tags_are_recognised_and_legacy_tags_come_from_the_magic() {
    assert!(looks_like_tag("cpython-313"));
    assert!(looks_like_tag("pypy39"));
    assert!(!looks_like_tag("cpython"));
    assert!(!looks_like_tag("313"));
    assert!(!looks_like_tag("Cpython-313"));
    use crate::pyc::magic::lookup;
    assert_eq!(legacy_tag(&lookup(62211)).as_deref(), Some("cpython-27"));
    assert_eq!(legacy_tag(&lookup(3531)).as_deref(), Some("cpython-312"));
    assert_eq!(legacy_tag(&lookup(336)).as_deref(), Some("pypy39"));
    assert_eq!(legacy_tag(&lookup(1)), None);
}

fn facts<'a>(location: Location, name: &'a [u8], head: &'a [u8]) -> CacheFacts<'a> {
    let tagged = location != Location::Legacy;
    CacheFacts {
        path: PathBuf::from("/p/x.pyc"),
        source: Some(PathBuf::from("/p/x.py")),
        module: "x".into(),
        location,
        name: bytecode_name(name, tagged).unwrap(),
        head,
        whole: false,
        meta: FileMeta::default(),
        link: false,
        shadows: &[],
    }
}

fn ts313(mtime: u32, size: u32) -> Vec<u8> {
    let mut b = vec![0xf3, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0];
    b.extend(mtime.to_le_bytes());
    b.extend(size.to_le_bytes());
    b
}

fn present(mtime: i64, size: u64) -> SourceFound {
    SourceFound::Present(SourceStat::new(mtime, size))
}

fn never(_: &crate::pyc::MagicInfo) -> io::Result<[u8; 8]> {
    panic!("timestamp caches must not read their source")
}

#[test]
fn records_carry_every_field() {
    let head = ts313(100, 6);
    let r = classify(
        facts(Location::Pycache, b"x.cpython-313.opt-1.pyc", &head),
        present(100, 6),
        &mut Judging::default(),
        never,
    );
    assert_eq!(r.status, Status::Fresh);
    assert_eq!(r.tag.as_deref(), Some("cpython-313"));
    assert_eq!(r.opt.as_deref(), Some("1"));
    assert_eq!(r.magic, Some(3571));
    assert_eq!(r.python.map(|v| v.to_string()).as_deref(), Some("3.13"));
    assert_eq!(r.invalidation, Some(crate::pyc::Invalidation::Timestamp));
    assert!(r.header.is_some() && r.reason.is_none());
    let r = classify(
        facts(Location::Pycache, b"x.cpython-313.pyc", &head),
        present(101, 6),
        &mut Judging::default(),
        never,
    );
    assert_eq!(r.status, Status::Stale);
    assert!(r.reason.is_some());
}

#[test]
fn special_names_get_their_own_verdicts() {
    let head = ts313(100, 6);
    let leftover = classify(
        facts(Location::Pycache, b"x.cpython-313.pyc.4711", &head),
        present(100, 6),
        &mut Judging::default(),
        never,
    );
    assert_eq!(leftover.status, Status::Invalid);
    assert!(leftover.reason.unwrap().contains("interrupted write"));
    let mut untagged = facts(Location::Pycache, b"x.pyc", &head);
    untagged.source = None;
    assert_eq!(
        classify(
            untagged,
            SourceFound::Missing,
            &mut Judging::default(),
            never
        )
        .status,
        Status::Invalid
    );
    let stray = classify(
        facts(Location::Legacy, b"app.cpython-313.pyc", &head),
        SourceFound::Missing,
        &mut Judging::default(),
        never,
    );
    assert_eq!(stray.status, Status::Orphaned);
    assert!(stray.reason.unwrap().contains("--pycache-prefix"));
    let sourceless = classify(
        facts(Location::Legacy, b"x.pyc", &head),
        SourceFound::Missing,
        &mut Judging::default(),
        never,
    );
    assert_eq!(sourceless.status, Status::Sourceless);
    assert_eq!(sourceless.tag.as_deref(), Some("cpython-313"));
}

#[test]
fn short_or_foreign_files_are_invalid_and_keep_what_was_read() {
    let r = classify(
        facts(
            Location::Pycache,
            b"x.cpython-313.pyc",
            &[0xf3, 0x0d, 0x0d, 0x0a, 0],
        ),
        present(1, 1),
        &mut Judging::default(),
        never,
    );
    assert_eq!(r.status, Status::Invalid);
    assert_eq!(r.magic, Some(3571));
    assert!(r.header.is_none() && r.invalidation.is_none());
    let empty = classify(
        facts(Location::Pycache, b"x.cpython-313.pyc", &[]),
        present(1, 1),
        &mut Judging::default(),
        never,
    );
    assert_eq!((empty.status, empty.magic), (Status::Invalid, None));
}

#[test]
fn hash_caches_read_the_source_once() {
    use crate::pyc::magic::lookup;
    use crate::pyc::validate::source_hash;
    let mut head = vec![0xf3, 0x0d, 0x0d, 0x0a, 3, 0, 0, 0];
    head.extend(source_hash(&lookup(3571), b"x = 1\n"));
    let r = classify(
        facts(Location::Pycache, b"x.cpython-313.pyc", &head),
        present(0, 6),
        &mut Judging::default(),
        |m| Ok(crate::pyc::validate::source_hash(m, b"x = 1\n")),
    );
    assert_eq!(r.status, Status::Fresh);
    assert_eq!(r.invalidation, Some(crate::pyc::Invalidation::CheckedHash));
}

#[test]
fn paths_are_joined_without_spare_capacity() {
    let p = join_exact(Path::new("/a/b"), b"c.pyc");
    assert_eq!(p, Path::new("/a/b/c.pyc"));
    assert_eq!(p.capacity(), p.as_os_str().len());
    assert_eq!(join_source(Path::new("/"), b"m"), Path::new("/m.py"));
}
