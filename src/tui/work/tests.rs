//! The explorer's clean dialog does exactly what its title says: for every kind of scope
//! (cache row, module, directory, marks, verdict group, tag group, whole project) the plan
//! holds the scope's matching caches and nothing else, and a scope with nothing to clean
//! says so and plans nothing.

use super::*;
use crate::tui::fixture::{ROOT, app, keys};

/// Selects the row named `name` (a node's name, or a cache's file name).
fn select(app: &mut App, name: &str) {
    let row = app.tree.rows.iter().position(|r| match *r {
        Row::Node(n) => app.tree.nodes[n].name == name,
        Row::Cache { cache, .. } => app.model.caches[cache]
            .path
            .file_name()
            .is_some_and(|f| f == name),
    });
    let row = row.unwrap_or_else(|| panic!("no row {name} in {:?}", app.tree.rows));
    app.select(row);
}

/// The plan's title and the files it removes, relative to the fixture's root, sorted.
fn planned(app: &mut App, item: ActionItem) -> Result<(String, Vec<String>), String> {
    let Dialog::Confirm { title, work, .. } = plan(app, &item)? else {
        panic!("a clean plans before it runs");
    };
    let Work::Execute(plan) = work else {
        panic!("a clean executes a plan");
    };
    let mut files: Vec<String> = plan
        .steps
        .iter()
        .filter_map(|s| match s {
            actions::Step::RemoveFile(f) => Some(
                f.path
                    .strip_prefix(ROOT)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            ),
            _ => None,
        })
        .collect();
    files.sort();
    Ok((title, files))
}

fn nothing(result: Result<(String, Vec<String>), String>, scope: &str) {
    match result {
        Err(why) => assert!(
            why.starts_with("nothing to clean") && why.contains(scope),
            "{why}"
        ),
        Ok(plan) => panic!("{scope} has nothing to clean, yet the plan is {plan:?}"),
    }
}

#[test]
fn a_cache_row_plans_only_itself() {
    let mut a = app();
    select(&mut a, "app.py");
    keys(&mut a, "\n");
    select(&mut a, "app.cpython-313.pyc");
    nothing(
        planned(&mut a, ActionItem::CleanProblems),
        "app.cpython-313.pyc",
    );
    let (title, files) = planned(&mut a, ActionItem::CleanAll).unwrap();
    assert_eq!(title, "clean all caches in app.cpython-313.pyc");
    assert_eq!(files, ["__pycache__/app.cpython-313.pyc"]);
    select(&mut a, "app.cpython-312.pyc");
    let (_, files) = planned(&mut a, ActionItem::CleanProblems).unwrap();
    assert_eq!(files, ["__pycache__/app.cpython-312.pyc"]);
}

#[test]
fn a_module_plans_only_its_caches_and_one_without_problems_plans_nothing() {
    let mut a = app();
    // The case: a module whose caches are all fresh planned 8 other files.
    select(&mut a, "config.py");
    nothing(planned(&mut a, ActionItem::CleanProblems), "config.py");
    nothing(
        planned(&mut a, ActionItem::CleanStatus(Status::Stale)),
        "config.py",
    );
    select(&mut a, "app.py");
    let (title, files) = planned(&mut a, ActionItem::CleanProblems).unwrap();
    assert_eq!(title, "clean problem caches in app.py");
    assert_eq!(files, ["__pycache__/app.cpython-312.pyc"]);
    nothing(
        planned(&mut a, ActionItem::CleanTag("cpython-311".into())),
        "app.py",
    );
}

#[test]
fn a_directory_plans_only_what_lies_below_it() {
    let mut a = app();
    select(&mut a, "pkg");
    let (title, files) = planned(&mut a, ActionItem::CleanProblems).unwrap();
    assert_eq!(title, "clean problem caches in pkg/");
    assert_eq!(files, ["pkg/__pycache__/views.cpython-313.pyc"]);
    // Everything but the sourceless legacy file, which the explorer never removes.
    let (_, files) = planned(&mut a, ActionItem::CleanAll).unwrap();
    assert_eq!(
        files,
        [
            "pkg/__pycache__/__init__.cpython-313.pyc",
            "pkg/__pycache__/views.cpython-313.pyc"
        ]
    );
    nothing(
        planned(&mut a, ActionItem::CleanStatus(Status::Orphaned)),
        "pkg/",
    );
}

#[test]
fn marks_plan_only_the_marked_items() {
    let mut a = app();
    select(&mut a, "config.py");
    keys(&mut a, " ");
    nothing(planned(&mut a, ActionItem::CleanProblems), "1 marked");
    select(&mut a, "broken.py");
    keys(&mut a, " ");
    let (title, files) = planned(&mut a, ActionItem::CleanProblems).unwrap();
    assert_eq!(title, "clean problem caches in 2 marked");
    assert_eq!(files, ["__pycache__/broken.cpython-313.pyc"]);
}

#[test]
fn a_verdict_group_plans_only_that_verdict() {
    let mut a = app();
    keys(&mut a, "v");
    assert_eq!(a.tree.view, View::Verdict);
    select(&mut a, "stale");
    let (_, files) = planned(&mut a, ActionItem::CleanAll).unwrap();
    assert_eq!(
        files,
        [
            "__pycache__/app.cpython-312.pyc",
            "pkg/__pycache__/views.cpython-313.pyc"
        ]
    );
    select(&mut a, "fresh");
    nothing(planned(&mut a, ActionItem::CleanProblems), "fresh");
}

#[test]
fn a_tag_group_plans_only_that_tag() {
    let mut a = app();
    keys(&mut a, "vv");
    assert_eq!(a.tree.view, View::Tag);
    select(&mut a, "cpython-312");
    let (_, files) = planned(&mut a, ActionItem::CleanAll).unwrap();
    assert_eq!(
        files,
        [
            "__pycache__/app.cpython-312.pyc",
            "__pycache__/migrate.cpython-312.pyc"
        ]
    );
    nothing(
        planned(&mut a, ActionItem::CleanStatus(Status::Invalid)),
        "cpython-312",
    );
}

#[test]
fn the_whole_project_plans_every_problem_and_nothing_else() {
    let mut a = app();
    let top: Vec<usize> = (0..a.tree.rows.len()).collect();
    for row in top {
        a.select(row);
        keys(&mut a, " ");
    }
    let (_, files) = planned(&mut a, ActionItem::CleanProblems).unwrap();
    assert_eq!(
        files,
        [
            "__pycache__/app.cpython-312.pyc",
            "__pycache__/broken.cpython-313.pyc",
            "__pycache__/migrate.cpython-312.pyc",
            "__pycache__/old_api.cpython-313.pyc",
            "pkg/__pycache__/views.cpython-313.pyc"
        ]
    );
}
