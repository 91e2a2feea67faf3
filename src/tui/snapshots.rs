//! Snapshot tests: the whole screen in each meaningful state, at 80x24 and 120x40.
//!
//! Deterministic by construction: the fixture's paths are fixed, mtimes are fixed, owners
//! are filled in by hand, and nothing shows a wall-clock duration. Colours are not in the
//! snapshots (meaning is always also in words); `focus_is_visible_without_colour` checks
//! the focused border by its characters.

use super::app::{App, CodeView, Options};
use super::fixture::{self, ROOT};
use super::keymap::action_for;
use super::theme::Theme;
use super::ui;
use super::work::{Dialog, WorkEvent};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pycache::scan::{ScanBatch, ScanError, ScanErrorKind, ScanEvent};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::path::PathBuf;

fn new(model: pycache::scan::ScanModel, opts: Options) -> App {
    let mut a = App::new(model, opts);
    a.owners.insert(0, Some("root".into()));
    a
}

fn finished() -> App {
    new(fixture::model(), Options::default())
}

fn keys(app: &mut App, keys: &str) {
    for c in keys.chars() {
        let code = match c {
            '\n' => KeyCode::Enter,
            '\t' => KeyCode::Tab,
            c => KeyCode::Char(c),
        };
        if let Some(a) = action_for(&KeyEvent::new(code, KeyModifiers::NONE), &app.contexts()) {
            app.handle(a);
        }
    }
    app.take_effects();
}

fn screen(app: &mut App, w: u16, h: u16) -> Terminal<TestBackend> {
    app.resize(w, h);
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| ui::draw(app, f)).unwrap();
    t
}

/// Snapshots the app at both sizes.
fn snap(name: &str, app: &mut App) {
    insta::assert_snapshot!(format!("{name}_80x24"), screen(app, 80, 24).backend());
    insta::assert_snapshot!(format!("{name}_120x40"), screen(app, 120, 40).backend());
}

/// Also at 100x30, the narrowest side-by-side layout (and the README screenshot's size).
fn snap3(name: &str, app: &mut App) {
    snap(name, app);
    insta::assert_snapshot!(format!("{name}_100x30"), screen(app, 100, 30).backend());
}

#[test]
fn scanning_shows_progress_and_what_arrived() {
    let mut a = new(fixture::empty(), Options::default());
    snap("scanning_empty", &mut a);
    let b = fixture::batch();
    a.on_scan(ScanEvent::Batch(Box::new(ScanBatch {
        sources: b.sources[..3].to_vec(),
        caches: b.caches[..3].to_vec(),
        dirs_seen: 2,
        files_seen: 7,
        ..ScanBatch::default()
    })));
    snap("scanning_partial", &mut a);
}

#[test]
fn finished_tree_with_directory_details() {
    let mut a = finished();
    a.access.insert(
        PathBuf::from(ROOT).join("pkg"),
        "no: app cannot write its __pycache__ (owned by root:root, mode 755)".into(),
    );
    snap3("finished", &mut a);
}

#[test]
fn empty_tree() {
    let mut m = fixture::empty();
    m.apply(ScanEvent::Finished);
    snap("empty", &mut new(m, Options::default()));
}

#[test]
fn scan_errors_are_listed_in_the_details() {
    let mut m = fixture::empty();
    m.apply(ScanEvent::Batch(Box::new(ScanBatch {
        errors: vec![
            ScanError {
                path: PathBuf::from(ROOT).join("private"),
                kind: ScanErrorKind::Unreadable,
                message: "permission denied (run as the directory's owner or root)".into(),
            },
            ScanError {
                path: PathBuf::from(ROOT).join("logs"),
                kind: ScanErrorKind::Io,
                message: "input/output error".into(),
            },
        ],
        ..ScanBatch::default()
    })));
    m.apply(ScanEvent::Finished);
    snap("errors", &mut new(m, Options::default()));
}

#[test]
fn module_details_show_each_cache_and_its_verdict() {
    let mut a = finished();
    keys(&mut a, "j");
    snap("module_details", &mut a);
}

#[test]
fn cache_details_show_header_and_code() {
    let mut a = finished();
    keys(&mut a, "j\nl");
    let path = PathBuf::from(ROOT).join("__pycache__/app.cpython-313.pyc");
    a.code.insert(
        path,
        Ok(CodeView {
            filename: format!("{ROOT}/app.py"),
            functions: vec!["main".into(), "init_app".into()],
            classes: vec!["App".into()],
        }),
    );
    snap3("cache_details", &mut a);
}

#[test]
fn verdict_view_with_an_open_group() {
    let mut a = finished();
    keys(&mut a, "vjl");
    snap("verdict_view", &mut a);
}

#[test]
fn filter_being_typed() {
    let mut a = finished();
    keys(&mut a, "/pkg");
    snap("filter", &mut a);
}

#[test]
fn confirm_dialog_shows_the_plan() {
    let mut a = finished();
    keys(&mut a, "nc");
    assert!(matches!(a.dialog(), Some(Dialog::Confirm { .. })));
    snap("confirm", &mut a);
}

#[test]
fn progress_while_a_plan_runs() {
    let mut a = finished();
    keys(&mut a, "ncy");
    a.on_work(WorkEvent::Progress {
        done: 1,
        total: 3,
        latest: format!("{ROOT}/pkg/__pycache__/views.cpython-313.pyc"),
    });
    snap("progress", &mut a);
}

#[test]
fn report_after_a_run() {
    let mut a = finished();
    keys(&mut a, "ncy");
    a.on_work(WorkEvent::Done {
        title: "report".into(),
        lines: vec!["removed 1 file and 0 directories (2.5 KiB freed), skipped 0, failed 0".into()],
        removed: vec![PathBuf::from(ROOT).join("pkg/__pycache__/views.cpython-313.pyc")],
        rescan: false,
    });
    snap("report", &mut a);
}

#[test]
fn a_long_refusal_in_a_report_wraps_to_its_last_word() {
    let mut a = finished();
    let refusal = "refused /srv/app/pkg/__pycache__: the directory belongs to uid 1001 and is \
                   writable by its group, so another user could swap a file in it between the \
                   check and the removal; run pycache as that user (sudo -u app pycache clean) \
                   or fix the mode (chmod g-w) and scan again";
    a.on_work(WorkEvent::Done {
        title: "clean".into(),
        lines: vec!["removed 0 files".into(), refusal.into()],
        removed: Vec::new(),
        rescan: false,
    });
    let t = screen(&mut a, 80, 24);
    let shown: String = format!("{}", t.backend());
    assert!(shown.contains("scan again"), "the refusal is cut:\n{shown}");
    snap("long_refusal_report", &mut a);
    a.resize(80, 24);
    // The dialog scrolls to the last shown line, not only to the last unwrapped one.
    keys(&mut a, "jjjjjj");
    let Some(Dialog::Report { scroll, .. }) = a.dialog() else {
        panic!("the report is open");
    };
    assert!(*scroll > 1, "scrolled {scroll} of more than 2 shown lines");
}

#[test]
fn a_control_character_in_a_name_is_shown_escaped_in_every_pane() {
    let name = "gone\x1b]0;pwn\x07q";
    let mut batch = ScanBatch::default();
    batch.caches.push(fixture::cache(
        &format!("__pycache__/{name}.cpython-313.pyc"),
        &format!("{name}.py"),
        Some("cpython-313"),
        pycache::pyc::Status::Orphaned,
        Some("source is gone: Python never imports it"),
        135,
    ));
    let mut m = fixture::empty();
    m.apply(ScanEvent::Batch(Box::new(batch)));
    m.apply(ScanEvent::Finished);
    let mut a = new(m, Options::default());
    let t = screen(&mut a, 80, 24);
    let shown = format!("{}", t.backend());
    let safe = r"gone\x1b]0;pwn\x07q";
    // Tree row, details heading, source and cache path, actions title: one escaped name.
    assert!(shown.contains(&format!("module {safe}")), "{shown}");
    assert_eq!(shown.matches(safe).count(), 5, "{shown}");
    assert!(!shown.contains("gone]0;pwnq"), "a stripped name:\n{shown}");
}

#[test]
fn recompile_chooser() {
    let mut a = finished();
    keys(&mut a, "j");
    a.interpreters = Some(pycache::actions::Interpreters::default());
    keys(&mut a, "p");
    assert!(matches!(a.dialog(), Some(Dialog::Choose { .. })));
    keys(&mut a, "\n");
    snap("recompile_modes", &mut a);
}

#[test]
fn help_screen_from_the_key_table() {
    let mut a = finished();
    keys(&mut a, "?");
    snap("help", &mut a);
}

#[test]
fn marks_and_actions_pane_focused() {
    let mut a = finished();
    keys(&mut a, "j  \t\t");
    snap("marks_actions", &mut a);
}

#[test]
fn ascii_read_only_session() {
    let opts = Options {
        theme: Theme {
            color: false,
            ascii: true,
        },
        read_only: true,
    };
    let mut a = new(fixture::model(), opts);
    keys(&mut a, "\n");
    snap("ascii_read_only", &mut a);
}

#[test]
fn stale_module_details_put_recorded_over_actual() {
    let mut a = finished();
    keys(&mut a, "jljj");
    snap3("stale_cache_details", &mut a);
}

#[test]
fn whole_project_totals_with_charts() {
    let mut a = finished();
    keys(&mut a, "t");
    assert!(a.project_details);
    snap3("project_totals", &mut a);
    keys(&mut a, "j");
    assert!(
        !a.project_details,
        "moving the selection shows the selection again"
    );
}

#[test]
fn snapshot_session_says_what_it_shows_and_offers_nothing() {
    // Through the JSON, as `--from` loads it: no decoded headers, nothing looked up.
    let json = fixture::model().to_json_string();
    let model = pycache::scan::snapshot::load(&json).unwrap();
    let mut a = App::from_snapshot(model, Options::default(), "app-scan.json".into());
    keys(&mut a, "jll");
    assert!(a.take_effects().is_empty());
    snap("from_snapshot", &mut a);
}

#[test]
fn focus_is_visible_without_colour() {
    let mut a = finished();
    let t = screen(&mut a, 80, 24);
    let buf = t.backend().buffer();
    // The focused tree has a heavy corner and a marker; the details pane a light one.
    assert_eq!(buf[(0, 0)].symbol(), "┏");
    assert_eq!(buf[(1, 0)].symbol(), "▶");
    let details_top = ui::layout(ratatui::layout::Rect::new(0, 0, 80, 24))
        .details
        .y;
    assert_eq!(buf[(0, details_top)].symbol(), "┌");
}

/// The demo's first screen in its service's view (lernmanager.service): the title names
/// the context, and the imported modules without a usable cache are marked. The demo's
/// directory (a temporary one) is written `[DEMO]`.
#[test]
fn demo_first_screen_in_the_services_view() {
    let (_dir, demo_root, svc, model) = crate::tui::fixture::demo_service();
    let mut a = new(model, Options::default());
    a.expect_service("as lernmanager".into());
    let (_, redraw) = a.update(crate::tui::event::Event::Service(Ok(Box::new(svc))));
    assert!(redraw);
    let root = demo_root.display().to_string();
    for (w, h) in [(80, 24), (120, 40)] {
        let text = format!("{}", screen(&mut a, w, h).backend()).replace(&root, "[DEMO]");
        assert!(
            text.contains("cpython-313 as lernmanager, prefix instance/tmp"),
            "the title names the context:\n{text}"
        );
        insta::assert_snapshot!(format!("demo_service_{w}x{h}"), text);
    }
}
