//! State transitions without a terminal: keys -> actions -> model.

use super::*;
use crate::tui::fixture::{self, ROOT, app, keys};
use crate::tui::keymap::action_for;
use crate::tui::work::{Dialog, WorkEvent};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pycache::pyc::Status;
use pycache::scan::{ScanBatch, ScanEvent};

fn selected_name(app: &App) -> String {
    match app.selected() {
        Some(Row::Node(n)) => app.tree.nodes[n].key.clone(),
        Some(Row::Cache { cache, .. }) => app.model.caches[cache].path.display().to_string(),
        None => String::new(),
    }
}

#[test]
fn arrows_and_vim_keys_move_and_enter_opens() {
    let mut a = app();
    assert_eq!(selected_name(&a), "pkg");
    keys(&mut a, "jj");
    assert_eq!(selected_name(&a), "broken.py");
    keys(&mut a, "k\n");
    assert_eq!(selected_name(&a), "app.py");
    assert!(a.tree.is_open(a.selected().unwrap().node()));
    keys(&mut a, "l");
    assert_eq!(
        selected_name(&a),
        format!("{ROOT}/__pycache__/app.cpython-313.pyc")
    );
    // Selecting a cache asks for its code object and its owner, off the UI thread.
    let effects = a.take_effects();
    assert!(effects.contains(&Effect::LoadCode(
        PathBuf::from(ROOT).join("__pycache__/app.cpython-313.pyc")
    )));
    assert!(effects.contains(&Effect::LookupOwner(0)));
    keys(&mut a, "hh");
    assert_eq!(selected_name(&a), "app.py");
    assert!(!a.tree.is_open(a.selected().unwrap().node()));
    keys(&mut a, "G");
    assert_eq!(selected_name(&a), "utils.py");
    keys(&mut a, "g");
    assert_eq!(selected_name(&a), "pkg");
}

#[test]
fn next_problem_jumps_into_closed_directories() {
    let mut a = app();
    keys(&mut a, "n");
    assert_eq!(selected_name(&a), "pkg/views.py");
    keys(&mut a, "n");
    assert_eq!(selected_name(&a), "app.py");
}

#[test]
fn filter_narrows_and_escape_clears_it_but_never_quits() {
    let mut a = app();
    keys(&mut a, "/old");
    assert_eq!(a.filter_edit(), Some("old"));
    assert_eq!(a.tree.rows.len(), 1);
    assert_eq!(selected_name(&a), "old_api.py");
    keys(&mut a, "\n");
    assert!(a.filter_edit().is_none());
    assert_eq!(a.tree.filter.as_deref(), Some("old"));
    keys(&mut a, "\x1b");
    assert!(a.tree.filter.is_none() && !a.quit);
    assert_eq!(selected_name(&a), "old_api.py");
    keys(&mut a, "\x1b");
    assert!(
        !a.quit,
        "Esc on the main screen must not throw the scan away"
    );
    assert_eq!(
        a.message.as_deref(),
        Some("Esc does not quit: press q to quit")
    );
    keys(&mut a, "q");
    assert!(a.quit);
}

#[test]
fn space_marks_and_moves_on_and_the_scope_follows() {
    let mut a = app();
    keys(&mut a, "j ");
    assert_eq!(a.marks.len(), 1);
    assert_eq!(selected_name(&a), "broken.py");
    keys(&mut a, " ");
    assert_eq!(a.scope.label, "2 marked");
    assert_eq!(a.scope.agg.caches, 3);
    let paths = a.scope_caches(|_| true);
    assert_eq!(paths.len(), 3);
    keys(&mut a, "u");
    assert!(a.marks.is_empty());
    assert_eq!(a.scope.label, "config.py");
}

#[test]
fn tab_cycles_panes_and_details_scroll() {
    let mut a = app();
    keys(&mut a, "\t");
    assert_eq!(a.focus, Pane::Details);
    keys(&mut a, "jjj");
    assert_eq!(a.details_scroll, 3);
    keys(&mut a, "\t");
    assert_eq!(a.focus, Pane::Actions);
    keys(&mut a, "\t");
    assert_eq!(a.focus, Pane::Tree);
}

#[test]
fn clean_shows_a_plan_and_runs_only_when_confirmed() {
    let mut a = app();
    keys(&mut a, "/old\n");
    keys(&mut a, "c");
    let Some(Dialog::Confirm { lines, .. }) = a.dialog() else {
        panic!("expected a confirm dialog, got {:?}", a.dialog());
    };
    assert!(lines[0].contains("remove 1 cache file"), "{lines:?}");
    assert!(a.take_effects().is_empty());
    keys(&mut a, "n");
    assert!(a.dialog().is_none());
    assert_eq!(a.message.as_deref(), Some("cancelled: nothing was changed"));
    keys(&mut a, "cy");
    assert!(matches!(a.dialog(), Some(Dialog::Running { .. })));
    assert!(matches!(a.take_effects()[..], [Effect::Run(_)]));
    // Keys do nothing while it runs.
    keys(&mut a, "j\x1b");
    assert!(matches!(a.dialog(), Some(Dialog::Running { .. })));
    a.on_work(WorkEvent::Progress {
        done: 1,
        total: 1,
        latest: "x".into(),
    });
    let gone = PathBuf::from(ROOT).join("__pycache__/old_api.cpython-313.pyc");
    a.on_work(WorkEvent::Done {
        title: "report".into(),
        lines: vec!["removed 1 file".into()],
        removed: vec![gone.clone()],
        rescan: false,
    });
    assert!(matches!(a.dialog(), Some(Dialog::Report { .. })));
    assert!(a.model.cache(&gone).is_none());
    assert!(a.tree.rows.is_empty(), "the filtered module is gone");
    keys(&mut a, "\n");
    assert!(a.dialog().is_none());
}

#[test]
fn read_only_offers_no_destructive_action() {
    let mut a = App::new(
        fixture::model(),
        Options {
            read_only: true,
            ..Options::default()
        },
    );
    assert_eq!(
        a.items(),
        [ActionItem::Rescan, ActionItem::Imports, ActionItem::Doctor]
    );
    keys(&mut a, "c");
    assert!(a.dialog().is_none());
    assert!(a.message.as_deref().unwrap_or("").contains("read-only"));
}

#[test]
fn actions_list_follows_the_scope() {
    let mut a = app();
    keys(&mut a, "j");
    // app.py: a stale 312 beside a fresh 313.
    assert_eq!(
        a.items(),
        [
            ActionItem::CleanProblems,
            ActionItem::CleanStatus(Status::Stale),
            ActionItem::CleanTag("cpython-312".into()),
            ActionItem::CleanTag("cpython-313".into()),
            ActionItem::CleanAll,
            ActionItem::Recompile,
            ActionItem::Rescan,
            ActionItem::Imports,
            ActionItem::Doctor,
        ]
    );
    keys(&mut a, "\t\tjj\n");
    let Some(Dialog::Confirm { title, .. }) = a.dialog() else {
        panic!("expected a confirm dialog");
    };
    assert_eq!(title, "clean cpython-312 caches in app.py");
}

#[test]
fn scan_batches_keep_the_selection_on_the_same_item() {
    let mut a = App::new(fixture::empty(), Options::default());
    a.resize(80, 24);
    let b = fixture::batch();
    a.on_scan(ScanEvent::Batch(Box::new(ScanBatch {
        sources: b.sources[..2].to_vec(),
        ..ScanBatch::default()
    })));
    keys(&mut a, "j");
    assert_eq!(selected_name(&a), "config.py");
    a.on_scan(ScanEvent::Batch(Box::new(ScanBatch {
        caches: b.caches.clone(),
        ..ScanBatch::default()
    })));
    assert_eq!(selected_name(&a), "config.py");
    assert!(!a.model.progress.finished);
    assert!(a.on_tick());
    a.on_scan(ScanEvent::Finished);
    assert!(!a.on_tick());
}

#[test]
fn switching_views_clears_marks_and_keeps_expansion_per_view() {
    let mut a = app();
    keys(&mut a, "\n ");
    assert!(a.tree.is_open(a.tree.find("pkg").unwrap()));
    keys(&mut a, "v");
    assert_eq!(a.tree.view, View::Verdict);
    assert!(a.marks.is_empty());
    assert_eq!(selected_name(&a), "invalid");
    keys(&mut a, "vv");
    assert_eq!(a.tree.view, View::Directory);
    assert!(a.tree.is_open(a.tree.find("pkg").unwrap()));
}

#[test]
fn help_opens_scrolls_and_closes() {
    let mut a = app();
    keys(&mut a, "?jj");
    assert_eq!(a.help_scroll(), Some(2));
    keys(&mut a, "q");
    assert!(a.help_scroll().is_none() && !a.quit);
    keys(&mut a, "q");
    assert!(a.quit);
}

#[test]
fn suspend_is_an_effect() {
    let mut a = app();
    let ev = KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL);
    a.handle(action_for(&ev, &a.contexts()).unwrap());
    assert_eq!(a.take_effects(), [Effect::Suspend]);
}

#[test]
fn recompile_probes_once_then_asks_interpreter_and_mode() {
    let mut a = app();
    keys(&mut a, "j");
    a.take_effects();
    keys(&mut a, "p");
    assert!(matches!(a.dialog(), Some(Dialog::Running { .. })));
    assert_eq!(
        a.take_effects(),
        [Effect::Run(crate::tui::work::Work::Probe)]
    );
    a.on_work(WorkEvent::Interpreters(Box::default()));
    let Some(Dialog::Choose { options, .. }) = a.dialog() else {
        panic!("expected the interpreter chooser, got {:?}", a.dialog());
    };
    assert_eq!(
        options.len(),
        1,
        "no interpreter found: only the tree's own"
    );
    keys(&mut a, "\n");
    let Some(Dialog::Choose { options, .. }) = a.dialog() else {
        panic!("expected the mode chooser");
    };
    assert_eq!(options.len(), 4);
    keys(&mut a, "jj\x1b");
    assert!(a.dialog().is_none());
    // The interpreters are kept: the next recompile asks at once.
    keys(&mut a, "p");
    assert!(matches!(a.dialog(), Some(Dialog::Choose { .. })));
    assert!(a.take_effects().is_empty());
}

#[test]
fn doctor_runs_on_a_worker_without_confirmation() {
    let mut a = app();
    keys(&mut a, "D");
    assert!(matches!(a.dialog(), Some(Dialog::Running { .. })));
    assert!(matches!(
        a.take_effects()[..],
        [Effect::Run(crate::tui::work::Work::Doctor { .. })]
    ));
}

#[test]
fn imports_are_analysed_after_a_scan_and_shown_per_module() {
    let mut a = App::new(fixture::empty(), Options::default());
    a.on_scan(ScanEvent::Batch(Box::new(fixture::batch())));
    assert!(!a.take_effects().contains(&Effect::AnalyzeImports));
    a.on_scan(ScanEvent::Finished);
    assert!(a.take_effects().contains(&Effect::AnalyzeImports));
    a.reach.insert(
        PathBuf::from(ROOT).join("app.py"),
        Reach {
            label: "imported",
            runs: true,
            chain: vec!["run.py".into(), "app".into()],
        },
    );
    assert!(!a.items().contains(&ActionItem::Imports));
    keys(&mut a, "j");
    let text: Vec<String> = crate::tui::panes::details::lines(&a, 100)
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect();
    assert!(
        text.iter().any(|l| l.contains("imported: run.py -> app")),
        "{text:?}"
    );
}

#[test]
fn selecting_a_directory_asks_whether_its_cache_is_writable() {
    let mut a = app();
    keys(&mut a, "jk");
    assert!(
        a.take_effects()
            .contains(&Effect::CheckAccess(PathBuf::from(ROOT).join("pkg")))
    );
    a.access.insert(
        PathBuf::from(ROOT).join("pkg"),
        "yes: root can write its __pycache__".into(),
    );
    keys(&mut a, "jk");
    assert!(
        !a.take_effects()
            .iter()
            .any(|e| matches!(e, Effect::CheckAccess(_)))
    );
}

#[test]
fn a_snapshot_offers_nothing_and_reads_nothing_from_this_machine() {
    let json = fixture::model().to_json_string();
    let model = pycache::scan::snapshot::load(&json).unwrap();
    let mut a = App::from_snapshot(model, Options::default(), "scan.json".into());
    a.resize(80, 24);
    assert!(a.opts.read_only);
    assert!(a.items().is_empty());
    // Selecting caches and directories would decode files, look up owners and check access.
    keys(&mut a, "jlljkkk");
    for key in ["c", "p", "R", "D", "\t\n"] {
        keys(&mut a, key);
        assert!(a.dialog().is_none(), "{key:?} opened a dialog");
    }
    keys(&mut a, "c");
    assert_eq!(
        a.message.as_deref(),
        Some("clean is off: a saved scan is read-only")
    );
    assert!(a.take_effects().is_empty());
    assert!(!a.quit);
}

#[test]
fn switching_views_starts_the_new_details_at_the_top() {
    let mut a = app();
    keys(&mut a, "\tjjj");
    assert_eq!(a.focus, Pane::Details);
    assert!(a.details_scroll > 0, "the details scrolled");
    keys(&mut a, "\t\tv");
    assert_eq!((a.focus, a.tree.view), (Pane::Tree, View::Verdict));
    assert_eq!(
        a.details_scroll, 0,
        "the new selection's details start at the top"
    );
}

#[test]
fn recompile_without_any_source_says_so_before_asking_anything() {
    let mut a = app();
    keys(&mut a, "vj");
    assert_eq!(selected_name(&a), "orphaned");
    a.take_effects();
    keys(&mut a, "p");
    assert!(a.dialog().is_none(), "no chooser: {:?}", a.dialog());
    assert!(a.take_effects().is_empty(), "no interpreter probe");
    let msg = a.message.clone().unwrap_or_default();
    assert!(msg.starts_with("nothing to recompile in orphaned"), "{msg}");
    // A group with sources still asks.
    keys(&mut a, "j");
    assert_eq!(selected_name(&a), "stale");
    keys(&mut a, "p");
    assert!(matches!(a.dialog(), Some(Dialog::Running { .. })));
}
