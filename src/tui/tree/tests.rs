//! Tree building, incremental updates, views, filter, sort and problem search.

use super::*;
use crate::tui::fixture::{self, ROOT};
use pycache::scan::{ScanBatch, ScanEvent};

fn names(t: &Tree) -> Vec<String> {
    t.rows
        .iter()
        .map(|r| match r {
            Row::Node(n) => format!(
                "{}{}",
                "  ".repeat(t.nodes[*n].depth as usize),
                t.nodes[*n].name
            ),
            Row::Cache { cache, .. } => format!("cache {cache}"),
        })
        .collect()
}

fn built(view: View, model: &ScanModel) -> Tree {
    let mut t = Tree::build(view, model, HashSet::new());
    t.ensure_rows(model);
    t
}

#[test]
fn directory_view_lists_dirs_first_then_modules_by_name() {
    let m = fixture::model();
    let t = built(View::Directory, &m);
    assert_eq!(
        names(&t),
        [
            "pkg",
            "app.py",
            "broken.py",
            "config.py",
            "migrate.py",
            "old_api.py",
            "utils.py"
        ]
    );
    let root = &t.nodes[0].agg;
    assert_eq!(root.modules, 9);
    assert_eq!(root.caches, 9);
    assert_eq!(root.uncached, 1);
    assert_eq!(root.of_status(Status::Orphaned), (2, 7300));
    assert_eq!(root.problems(), 5);
}

#[test]
fn verdict_view_puts_the_worst_groups_first() {
    let m = fixture::model();
    let t = built(View::Verdict, &m);
    assert_eq!(
        names(&t),
        [
            "invalid",
            "orphaned",
            "stale",
            "sourceless",
            "fresh",
            "no cache"
        ]
    );
    let stale = t.find("stale").unwrap();
    assert_eq!(t.nodes[stale].agg.caches, 2);
    // app.py has a fresh and a stale cache: it sits in both groups, each counting its own.
    assert!(t.find("stale/app.py").is_some() && t.find("fresh/app.py").is_some());
    assert_eq!(t.nodes[t.find("stale/app.py").unwrap()].agg.caches, 1);
}

#[test]
fn tag_view_groups_by_interpreter() {
    let m = fixture::model();
    let t = built(View::Tag, &m);
    assert_eq!(
        names(&t),
        ["cpython-312", "cpython-313", "no tag", "no cache"]
    );
}

#[test]
fn incremental_batches_build_the_same_tree_as_one_build() {
    let whole = fixture::model();
    let mut m = fixture::empty();
    let mut t = Tree::new(View::Directory, HashSet::new());
    let b = fixture::batch();
    // Caches first, sources later: modules change place and aggregates as data arrives.
    let parts = [
        ScanBatch {
            caches: b.caches[..4].to_vec(),
            ..ScanBatch::default()
        },
        ScanBatch {
            sources: b.sources.clone(),
            ..ScanBatch::default()
        },
        ScanBatch {
            caches: b.caches[4..].to_vec(),
            ..ScanBatch::default()
        },
    ];
    for part in parts {
        let keys: Vec<PathBuf> = part
            .sources
            .iter()
            .map(|s| s.path.clone())
            .chain(part.caches.iter().map(|c| c.source.clone().unwrap()))
            .collect();
        m.apply(ScanEvent::Batch(Box::new(part)));
        t.update(&m, keys.iter());
    }
    t.ensure_rows(&m);
    let fresh = built(View::Directory, &whole);
    assert_eq!(names(&t), names(&fresh));
    assert_eq!(t.nodes[0].agg, fresh.nodes[0].agg);
    let pkg = t.find("pkg").unwrap();
    assert_eq!(
        t.nodes[pkg].agg,
        fresh.nodes[fresh.find("pkg").unwrap()].agg
    );
}

#[test]
fn removed_caches_update_aggregates_and_drop_orphan_modules() {
    let mut m = fixture::model();
    let mut t = built(View::Directory, &m);
    let gone = PathBuf::from(ROOT).join("__pycache__/old_api.cpython-313.pyc");
    let key = PathBuf::from(ROOT).join("old_api.py");
    m.apply(ScanEvent::Removed(vec![gone]));
    t.update(&m, [&key]);
    t.ensure_rows(&m);
    assert!(!names(&t).contains(&"old_api.py".to_string()));
    assert_eq!(t.nodes[0].agg.of_status(Status::Orphaned), (1, 3100));
    assert_eq!(t.nodes[0].agg.modules, 8);
}

#[test]
fn a_directory_emptied_of_modules_disappears() {
    let mut m = fixture::model();
    let mut t = built(View::Verdict, &m);
    let gone = PathBuf::from(ROOT).join("__pycache__/broken.cpython-313.pyc");
    m.apply(ScanEvent::Removed(vec![gone]));
    t.update(&m, [&PathBuf::from(ROOT).join("broken.py")]);
    t.ensure_rows(&m);
    assert!(t.find("invalid").is_none());
    assert_eq!(names(&t)[0], "orphaned");
    // broken.py still exists as a source without cache.
    assert!(t.find("no cache/broken.py").is_some());
}

#[test]
fn filter_shows_matches_with_their_directories() {
    let m = fixture::model();
    let mut t = built(View::Directory, &m);
    t.set_filter("VIEW");
    t.ensure_rows(&m);
    assert_eq!(names(&t), ["pkg", "  views.py"]);
    // A directory name finds the modules below it.
    t.set_filter("pkg/");
    t.ensure_rows(&m);
    assert_eq!(
        names(&t),
        ["pkg", "  __init__.py", "  legacy.py", "  views.py"]
    );
    t.set_filter("");
    t.ensure_rows(&m);
    assert_eq!(t.rows.len(), 7);
}

#[test]
fn sort_by_size_puts_the_largest_first() {
    let m = fixture::model();
    let mut t = built(View::Directory, &m);
    t.set_sort(SortKey::Size);
    t.ensure_rows(&m);
    // pkg/ stays first (directories first), then the biggest module: old_api.py (4200).
    assert_eq!(names(&t)[..3], ["pkg", "old_api.py", "app.py"]);
}

#[test]
fn next_problem_opens_the_way_and_wraps() {
    let m = fixture::model();
    let mut t = built(View::Directory, &m);
    let pkg = t.find("pkg").unwrap();
    let first = t.next_problem(Some(pkg)).unwrap();
    assert_eq!(t.nodes[first].key, "pkg/views.py");
    assert!(t.is_open(pkg));
    let second = t.next_problem(Some(first)).unwrap();
    assert_eq!(t.nodes[second].key, "app.py");
    let last = t.find("old_api.py").unwrap();
    let wrapped = t.next_problem(Some(last)).unwrap();
    assert_eq!(t.nodes[wrapped].key, "pkg/views.py");
}

#[test]
fn open_modules_list_their_caches_newest_tag_first() {
    let m = fixture::model();
    let mut t = built(View::Directory, &m);
    let app = t.find("app.py").unwrap();
    t.set_open(app, true);
    t.ensure_rows(&m);
    let tags: Vec<&str> = t
        .rows
        .iter()
        .filter_map(|r| match r {
            Row::Cache { cache, .. } => m.caches[*cache].tag.as_deref(),
            _ => None,
        })
        .collect();
    assert_eq!(tags, ["cpython-313", "cpython-312"]);
    let key = t.row_key(&m, t.rows[2]);
    assert_eq!(t.row_of_key(&m, &key), Some(2));
}

#[test]
fn reversed_order_keeps_directories_first() {
    let m = fixture::model();
    let mut t = built(View::Directory, &m);
    let forward = names(&t);
    t.set_reverse(true);
    t.ensure_rows(&m);
    let back = names(&t);
    assert_eq!(back[0], "pkg", "directories stay before modules: {back:?}");
    let mut modules: Vec<String> = forward[1..].to_vec();
    modules.reverse();
    assert_eq!(back[1..], modules[..], "the modules in reverse order");
}
