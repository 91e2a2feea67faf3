//! Scan output waiting to be applied: the loop queues it while draining the channel and
//! applies it within a time budget per frame, merging consecutive batches, so that
//! scanner threads that outpace the model never keep the screen or a key waiting.

use super::app::{App, Effect};
use super::event::Event;
use pycache::scan::ScanEvent;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Scan output is applied for at most this long before the screen is drawn again, so a
/// frame follows at least every ~100 ms during a large scan and keys are not kept waiting.
pub const SCAN_BUDGET: Duration = Duration::from_millis(40);

/// Most caches merged into one model update. Within it, the merge is sized so one update
/// fits what is left of the budget, by the time updates took per cache so far: the
/// per-update work (the tree's refresh) is paid rarely, and one update never holds a frame.
const MERGE_CACHES: usize = 8192;

/// Scan output received but not yet applied, in order, with its generation.
#[derive(Default)]
pub struct PendingScan {
    pub events: VecDeque<(u64, ScanEvent)>,
    /// The scanner thread of the current generation ended (cleanly) after these events.
    pub ended: bool,
    /// Seconds one cache took to apply, smoothed over the updates so far.
    secs_per_cache: f64,
}

impl PendingScan {
    /// Applies queued events of `generation` until `budget` is spent, merging consecutive
    /// batches; returns true when something was applied.
    pub fn apply(
        &mut self,
        app: &mut App,
        generation: u64,
        budget: Duration,
        effects: &mut Vec<Effect>,
    ) -> bool {
        let start = Instant::now();
        let mut applied = false;
        while start.elapsed() < budget {
            let Some((g, ev)) = self.events.pop_front() else {
                break;
            };
            if g != generation {
                continue;
            }
            applied = true;
            let ScanEvent::Batch(mut batch) = ev else {
                effects.extend(app.update(Event::Scan(g, ev)).0);
                continue;
            };
            let left = budget.saturating_sub(start.elapsed()).as_secs_f64();
            // Before the first update, a guess: 50 µs a cache.
            let per = if self.secs_per_cache > 0.0 {
                self.secs_per_cache
            } else {
                5e-5
            };
            let fits = (left / per) as usize;
            while batch.caches.len() < fits.clamp(64, MERGE_CACHES)
                && let Some((g2, ScanEvent::Batch(_))) = self.events.front()
                && *g2 == generation
            {
                if let Some((_, ScanEvent::Batch(next))) = self.events.pop_front() {
                    let next = *next;
                    batch.sources.extend(next.sources);
                    batch.caches.extend(next.caches);
                    batch.errors.extend(next.errors);
                    batch.dirs_seen += next.dirs_seen;
                    batch.files_seen += next.files_seen;
                }
            }
            let n = batch.caches.len();
            let t = Instant::now();
            effects.extend(app.update(Event::Scan(g, ScanEvent::Batch(batch))).0);
            if n > 0 {
                let per = t.elapsed().as_secs_f64() / n as f64;
                self.secs_per_cache = if self.secs_per_cache == 0.0 {
                    per
                } else {
                    (self.secs_per_cache + per) / 2.0
                };
            }
        }
        applied
    }
}
