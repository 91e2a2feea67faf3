//! THIRD-PARTY-NOTICES (made by `scripts/make-notices.sh`) lists every package of
//! Cargo.lock with its version, and every licence file it names has its text.

use std::collections::BTreeSet;
use std::path::Path;

/// `name version` of every package in Cargo.lock but pycache itself.
fn locked_packages(lock: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for block in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            block.lines().find_map(|l| {
                l.strip_prefix(&format!("{key} = \""))
                    .and_then(|r| r.strip_suffix('"'))
                    .map(str::to_string)
            })
        };
        let (name, version) = (field("name").unwrap(), field("version").unwrap());
        if name != "pycache" {
            out.insert(format!("{name} {version}"));
        }
    }
    out
}

#[test]
fn notices_list_every_locked_package_with_its_licence_texts() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lock = std::fs::read_to_string(dir.join("Cargo.lock")).unwrap();
    let notices = std::fs::read_to_string(dir.join("THIRD-PARTY-NOTICES")).unwrap();
    let locked = locked_packages(&lock);
    assert!(locked.len() > 100, "{} packages", locked.len());
    let listed: BTreeSet<String> = notices
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('['))
        .filter_map(|l| l.split_once(": ").map(|(p, _)| p.to_string()))
        .filter(|p| p.split(' ').count() == 2)
        .collect();
    let missing: Vec<_> = locked.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "not in THIRD-PARTY-NOTICES (run scripts/make-notices.sh): {missing:?}"
    );
    let extra: Vec<_> = listed.difference(&locked).collect();
    assert!(extra.is_empty(), "no longer in Cargo.lock: {extra:?}");
    // Every text id a package names is printed, with that package among its shippers.
    for line in notices
        .lines()
        .filter(|l| l.starts_with("    files: ") && l.contains('['))
    {
        for id in line.split('[').skip(1).map(|s| &s[..12]) {
            assert!(
                notices.contains(&format!("\n[{id}] shipped by: ")),
                "text {id} missing"
            );
        }
    }
    assert!(notices.contains("Apache License") && notices.contains("Permission is hereby granted"));
}
