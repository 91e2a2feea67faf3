//! The model's modules: an arena indexed by id, found by a hash of their source path.
//!
//! A `BTreeMap<PathBuf, Module>` stored each source path twice (key and `Module::source`)
//! and compared paths component by component on every insert: ~10 % of a scan's CPU went
//! to `std::path::compare_components`. Here each path is stored once (in its module), a
//! lookup hashes its bytes once and compares bytes only on a hash match, and the path order
//! the map gave (`keys`, `values`, `iter`) is computed when it is asked for.

use super::model::Module;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// No next module with the same hash.
const NONE: u32 = u32::MAX;

/// Modules by id (their position), each found by its source path.
#[derive(Clone, Default)]
pub struct Modules {
    items: Vec<Module>,
    /// Hash of a source path -> the first module with that hash.
    heads: HashMap<u64, u32, BuildHasherDefault<Prehashed>>,
    /// Per module: the next module whose path has the same hash (or [`NONE`]).
    chain: Vec<u32>,
    /// Ids in path order, sorted when first asked for after a change (the CLI asks a few
    /// times at the end of a scan; sorting each time cost a fifth of a text scan).
    sorted: OnceLock<Vec<u32>>,
}

impl Modules {
    /// Number of modules.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The id of the module whose source is `path`.
    pub fn id_of(&self, path: &Path) -> Option<usize> {
        let bytes = path.as_os_str().as_bytes();
        let mut id = *self.heads.get(&hash_bytes(bytes))?;
        while id != NONE {
            let i = id as usize;
            if self.items[i].source.as_os_str().as_bytes() == bytes {
                return Some(i);
            }
            id = self.chain[i];
        }
        None
    }

    /// The module whose source is `path`.
    pub fn get<P: AsRef<Path> + ?Sized>(&self, path: &P) -> Option<&Module> {
        self.id_of(path.as_ref()).map(|i| &self.items[i])
    }

    /// The module whose source is `path`, to change (not its `source`: that is its key).
    pub fn get_mut<P: AsRef<Path> + ?Sized>(&mut self, path: &P) -> Option<&mut Module> {
        self.id_of(path.as_ref()).map(|i| &mut self.items[i])
    }

    /// True when a module has this source path.
    pub fn contains_key<P: AsRef<Path> + ?Sized>(&self, path: &P) -> bool {
        self.id_of(path.as_ref()).is_some()
    }

    /// The module with this id.
    pub fn by_id(&self, id: usize) -> Option<&Module> {
        self.items.get(id)
    }

    /// The module with this id, to change.
    pub fn by_id_mut(&mut self, id: usize) -> Option<&mut Module> {
        self.items.get_mut(id)
    }

    /// The module with an id this map gave out.
    pub(super) fn at_mut(&mut self, id: usize) -> &mut Module {
        &mut self.items[id]
    }

    /// Adds a module (its source path must be new) and returns its id.
    pub fn insert_new(&mut self, module: Module) -> usize {
        let id = self.items.len();
        let h = hash_bytes(module.source.as_os_str().as_bytes());
        let next = self.heads.insert(h, id as u32).unwrap_or(NONE);
        self.sorted.take();
        self.chain.push(next);
        self.items.push(module);
        id
    }

    /// Module ids in source path order (the order of `Path`'s `Ord`).
    pub fn sorted_ids(&self) -> &[u32] {
        self.sorted.get_or_init(|| {
            let mut ids: Vec<u32> = (0..self.items.len() as u32).collect();
            let path = |i: u32| self.items[i as usize].source.as_path();
            if self
                .items
                .iter()
                .all(|m| plain(m.source.as_os_str().as_bytes()))
            {
                ids.sort_unstable_by(|&a, &b| plain_order(path(a), path(b)));
            } else {
                ids.sort_unstable_by(|&a, &b| path(a).cmp(path(b)));
            }
            ids
        })
    }

    /// (source path, module) in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&PathBuf, &Module)> {
        self.sorted_ids().iter().map(|&i| {
            let m = &self.items[i as usize];
            (&m.source, m)
        })
    }

    /// Source paths in path order.
    pub fn keys(&self) -> impl Iterator<Item = &PathBuf> {
        self.iter().map(|(k, _)| k)
    }

    /// Modules in path order.
    pub fn values(&self) -> impl Iterator<Item = &Module> {
        self.iter().map(|(_, m)| m)
    }

    /// Modules in id order (cheaper than [`Self::values`] when the order does not matter).
    pub fn by_ids(&self) -> impl Iterator<Item = &Module> {
        self.items.iter()
    }

    /// Every module, to change (not its `source`: that is its key), in id order.
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Module> {
        self.items.iter_mut()
    }

    /// Keeps the modules `keep` accepts (ids are renumbered).
    pub fn retain(&mut self, mut keep: impl FnMut(&Module) -> bool) {
        let items = std::mem::take(&mut self.items);
        // Clears the index and the order too.
        *self = Self::default();
        for m in items.into_iter().filter(|m| keep(m)) {
            self.insert_new(m);
        }
    }
}

impl PartialEq for Modules {
    /// Equal when they hold the same modules under the same paths, whatever their ids.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Modules {}

impl std::fmt::Debug for Modules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl std::ops::Index<&Path> for Modules {
    type Output = Module;
    fn index(&self, path: &Path) -> &Module {
        match self.get(path) {
            Some(m) => m,
            None => panic!("no module for {}", path.display()),
        }
    }
}

impl std::ops::Index<&PathBuf> for Modules {
    type Output = Module;
    fn index(&self, path: &PathBuf) -> &Module {
        &self[path.as_path()]
    }
}

/// `Path`'s order for plain paths (see [`plain`]; a scan builds no others): bytes compared
/// 8 at a time to the first difference, where `/` ranks below every other byte, which is
/// what comparing component by component gives, at the cost of a byte comparison.
fn plain_order(a: &Path, b: &Path) -> std::cmp::Ordering {
    let (x, y) = (a.as_os_str().as_bytes(), b.as_os_str().as_bytes());
    let n = x.len().min(y.len());
    let mut i = 0;
    while i + 8 <= n && x[i..i + 8] == y[i..i + 8] {
        i += 8;
    }
    while i < n && x[i] == y[i] {
        i += 1;
    }
    if i == n {
        return x.len().cmp(&y.len());
    }
    let key = |c: u8| if c == b'/' { 0 } else { u16::from(c) + 1 };
    key(x[i]).cmp(&key(y[i]))
}

/// True when a path's components are exactly its `/`-separated pieces (no `.`, no doubled
/// or trailing separator).
fn plain(p: &[u8]) -> bool {
    !(p.ends_with(b"/")
        || p.ends_with(b"/.")
        || p.starts_with(b"./")
        || p.windows(2).any(|w| w == b"//")
        || p.windows(3).any(|w| w == b"/./"))
}

/// A fast hash of a path's bytes (FxHash's mixing, 8 bytes at a time): the table's keys
/// are these hashes, so its own hasher passes them through.
fn hash_bytes(b: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    let rest = chunks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    h = (h.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    // Fold the high bits down: the table takes its bucket from the low ones.
    h ^ (h >> 29)
}

/// A map hasher for byte strings (paths as bytes): [`hash_bytes`]'s mixing as they are
/// written, rather than SipHash over each component as `Path`'s `Hash` does.
pub type BytesHash = BuildHasherDefault<ByteHasher>;

/// The hasher of [`BytesHash`].
#[derive(Default, Clone, Copy)]
pub struct ByteHasher(u64);

impl Hasher for ByteHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = (self.0.rotate_left(5) ^ hash_bytes(bytes)).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

/// Passes a `u64` key through as its own hash.
#[derive(Default, Clone, Copy)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(path: &str) -> Module {
        Module {
            name: String::new(),
            source: PathBuf::from(path),
            source_meta: None,
            is_package: false,
            caches: Vec::new(),
        }
    }

    #[test]
    fn plain_order_is_paths_order() {
        // Longer than 8 bytes, so the word-at-a-time loop runs.
        let paths = [
            "/x/a.b",
            "/x/a/z.py",
            "/x/a",
            "/x/a-b/c",
            "/x/ab",
            "/x//a/q",
            "/x/./a/r",
            "/x/a/",
            "/",
            "/x/\u{e9}",
            "/x/A",
            "/srv/releases/app/mod/a.py",
            "/srv/releases/app/mod.py",
            "/srv/releases/app/mod/b/c.py",
            "/srv/releases/app/mod-x.py",
        ];
        for a in paths {
            for b in paths {
                let (p, q) = (Path::new(a), Path::new(b));
                if plain(a.as_bytes()) && plain(b.as_bytes()) {
                    assert_eq!(plain_order(p, q), p.cmp(q), "{a} vs {b}");
                }
            }
        }
        for odd in ["/x//a/q", "/x/./a/r", "/x/a/", "./a"] {
            assert!(!plain(odd.as_bytes()), "{odd}");
        }
    }

    #[test]
    fn found_by_path_iterated_in_path_order_equal_whatever_the_insertion_order() {
        let mut m = Modules::default();
        let mut n = Modules::default();
        let names = ["/p/b.py", "/p/a/x.py", "/p/a.py", "/q/z.py"];
        for p in names {
            m.insert_new(module(p));
        }
        for p in names.iter().rev() {
            n.insert_new(module(p));
        }
        assert_eq!(m, n);
        let keys: Vec<&str> = m.keys().map(|k| k.to_str().unwrap()).collect();
        // Path order: the component `a` sorts before `a.py`.
        assert_eq!(keys, ["/p/a/x.py", "/p/a.py", "/p/b.py", "/q/z.py"]);
        assert_eq!(m.id_of(Path::new("/p/a.py")), Some(2));
        assert!(m.get(Path::new("/p/c.py")).is_none());
        m.retain(|x| x.source != Path::new("/p/b.py"));
        assert_eq!(m.len(), 3);
        assert!(!m.contains_key(Path::new("/p/b.py")));
        assert_eq!(m[Path::new("/q/z.py")].source, Path::new("/q/z.py"));
    }

    #[test]
    fn thousands_of_paths_each_found() {
        let mut m = Modules::default();
        for i in 0..5000 {
            m.insert_new(module(&format!("/r/{i}.py")));
        }
        for i in 0..5000 {
            assert_eq!(m.id_of(Path::new(&format!("/r/{i}.py"))), Some(i));
        }
    }
}
