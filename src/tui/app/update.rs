//! The one entry for what happens outside the app: `App::update(event)` applies a key, a
//! resize, a tick, scan output or an effect's answer and returns the effects it asks for.

use super::{App, Effect};
use crate::tui::event::Event;
use crate::tui::keymap;

impl App {
    /// Applies one event; returns the effects to run and whether the screen changed.
    /// Events the loop owns (signals, input errors, the end of a scan thread) change
    /// nothing here.
    pub fn update(&mut self, ev: Event) -> (Vec<Effect>, bool) {
        let redraw = match ev {
            Event::Key(k) => {
                if let Some(action) = keymap::action_for(&k, &self.contexts()) {
                    self.handle(action);
                }
                true
            }
            Event::Resize(w, h) => {
                self.resize(w, h);
                true
            }
            Event::Tick => self.on_tick(),
            Event::Scan(_, ev) => {
                self.on_scan(ev);
                true
            }
            Event::Work(w) => {
                self.on_work(w);
                true
            }
            Event::Code(path, code) => {
                self.code.insert(path, code);
                true
            }
            Event::Reach(Ok(reach)) => {
                self.reach = reach.into_iter().collect();
                self.refresh_scope();
                true
            }
            Event::Reach(Err(e)) => {
                self.message = Some(format!("import analysis failed: {e}"));
                true
            }
            Event::Access(dir, text) => {
                self.access.insert(dir, text);
                true
            }
            Event::Owner(uid, name) => {
                self.owners.insert(uid, name);
                true
            }
            Event::Planned(result) => {
                self.on_planned(result);
                true
            }
            Event::Service(result) => {
                self.on_service(result);
                true
            }
            Event::Alternatives(round, others) => {
                self.on_alternatives(round, others);
                true
            }
            Event::Measured(title, result) => {
                self.on_measured(&title, result);
                true
            }
            Event::ScanEnded(..) | Event::Signal(_) | Event::InputError(_) => false,
        };
        (self.take_effects(), redraw)
    }
}
