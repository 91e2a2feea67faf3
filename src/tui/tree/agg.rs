//! Aggregates of a tree node: how many modules and caches lie below it, by verdict and
//! by interpreter tag, with their bytes. Kept by addition and subtraction so a scan batch
//! only touches the ancestors of the modules it changed.

use pycache::pyc::Status;
use pycache::scan::{CacheRecord, Module};

/// Index of a status in [`Status::ALL`] (worst first).
pub fn status_index(s: Status) -> usize {
    Status::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

/// Counts and bytes below one node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Agg {
    /// Modules (sources, or caches standing for a missing source).
    pub modules: u32,
    /// Modules whose source exists but that have no cache at all.
    pub uncached: u32,
    /// Cache files.
    pub caches: u32,
    /// Apparent bytes of the caches.
    pub bytes: u64,
    /// Caches per status, in [`Status::ALL`] order.
    pub status: [u32; 7],
    /// Bytes per status, in [`Status::ALL`] order.
    pub status_bytes: [u64; 7],
    /// (tag, count, bytes); `-` for caches without a tag.
    pub tags: Vec<(String, u32, u64)>,
    /// The same without sourceless caches: what a clean by tag may remove.
    pub clean_tags: Vec<(String, u32, u64)>,
    /// Newest mtime of a source or cache below (0 when none).
    pub newest: i64,
}

impl Agg {
    /// The aggregate of one module, counting only the caches `keep` accepts.
    pub fn of_module<'a>(
        module: &Module,
        caches: impl Iterator<Item = &'a CacheRecord>,
        keep: impl Fn(&CacheRecord) -> bool,
    ) -> Agg {
        let mut agg = Agg {
            modules: 1,
            newest: module.source_meta.map_or(0, |m| m.mtime),
            ..Agg::default()
        };
        let mut any = false;
        for c in caches {
            any = true;
            if keep(c) {
                agg.add_cache(c);
            }
        }
        if !any && module.source_exists() {
            agg.uncached = 1;
        }
        agg
    }

    /// The aggregate of these caches alone (no modules).
    pub fn of_caches<'a>(caches: impl Iterator<Item = &'a CacheRecord>) -> Agg {
        let mut agg = Agg::default();
        caches.for_each(|c| agg.add_cache(c));
        agg
    }

    fn add_cache(&mut self, c: &CacheRecord) {
        let i = status_index(c.status);
        self.caches += 1;
        self.bytes += c.meta.size;
        self.status[i] += 1;
        self.status_bytes[i] += c.meta.size;
        self.newest = self.newest.max(c.meta.mtime);
        let tag = c.tag.as_deref().unwrap_or("-");
        let one = [(tag.to_string(), 1, c.meta.size)];
        add_tags(&mut self.tags, &one);
        if c.status != Status::Sourceless {
            add_tags(&mut self.clean_tags, &one);
        }
    }

    /// Adds another aggregate (a child's) to this one.
    pub fn add(&mut self, o: &Agg) {
        self.modules += o.modules;
        self.uncached += o.uncached;
        self.caches += o.caches;
        self.bytes += o.bytes;
        for i in 0..7 {
            self.status[i] += o.status[i];
            self.status_bytes[i] += o.status_bytes[i];
        }
        add_tags(&mut self.tags, &o.tags);
        add_tags(&mut self.clean_tags, &o.clean_tags);
        // `newest` only grows: after a removal a directory may keep an mtime that no
        // longer exists below it, which only affects the age order until the next rebuild.
        self.newest = self.newest.max(o.newest);
    }

    /// Subtracts a child's aggregate that was added before.
    pub fn sub(&mut self, o: &Agg) {
        self.modules = self.modules.saturating_sub(o.modules);
        self.uncached = self.uncached.saturating_sub(o.uncached);
        self.caches = self.caches.saturating_sub(o.caches);
        self.bytes = self.bytes.saturating_sub(o.bytes);
        for i in 0..7 {
            self.status[i] = self.status[i].saturating_sub(o.status[i]);
            self.status_bytes[i] = self.status_bytes[i].saturating_sub(o.status_bytes[i]);
        }
        sub_tags(&mut self.tags, &o.tags);
        sub_tags(&mut self.clean_tags, &o.clean_tags);
    }

    /// Caches with this status and their bytes.
    pub fn of_status(&self, s: Status) -> (u32, u64) {
        let i = status_index(s);
        (self.status[i], self.status_bytes[i])
    }

    /// Caches whose status is a problem (stale, orphaned, shadowed, invalid).
    pub fn problems(&self) -> u32 {
        Status::ALL
            .iter()
            .filter(|s| s.is_problem())
            .map(|s| self.status[status_index(*s)])
            .sum()
    }

    /// Tags sorted by name.
    pub fn tags_sorted(&self) -> Vec<(String, u32, u64)> {
        let mut t = self.tags.clone();
        t.sort();
        t
    }
}

fn add_tags(into: &mut Vec<(String, u32, u64)>, from: &[(String, u32, u64)]) {
    for (tag, n, b) in from {
        match into.iter_mut().find(|t| &t.0 == tag) {
            Some(t) => {
                t.1 += n;
                t.2 += b;
            }
            None => into.push((tag.clone(), *n, *b)),
        }
    }
}

fn sub_tags(from: &mut Vec<(String, u32, u64)>, what: &[(String, u32, u64)]) {
    for (tag, n, b) in what {
        if let Some(t) = from.iter_mut().find(|t| &t.0 == tag) {
            t.1 = t.1.saturating_sub(*n);
            t.2 = t.2.saturating_sub(*b);
        }
    }
    from.retain(|t| t.1 > 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_then_sub_returns_to_empty_counts() {
        let mut a = Agg::default();
        let mut b = Agg {
            modules: 2,
            caches: 3,
            bytes: 30,
            ..Agg::default()
        };
        b.status[2] = 3;
        b.status_bytes[2] = 30;
        b.tags.push(("cpython-313".into(), 3, 30));
        a.add(&b);
        a.add(&b);
        assert_eq!(a.of_status(Status::Orphaned), (6, 60));
        assert_eq!(a.problems(), 6);
        a.sub(&b);
        a.sub(&b);
        assert_eq!(a.caches, 0);
        assert!(a.tags.is_empty());
    }
}
