//! A site's paths, frozen for the request path: what [`Entries`] holds once a build is
//! done, in a table that answers a lookup from one cache line.
//!
//! A general hash map keeps its control bytes apart from its slots: a lookup reads the
//! map's header, a group of control bytes and then the slot, three places in memory. With
//! 10,000 sites few of them are in the CPU's caches, and those reads were the largest part
//! of what a request costs more at 10,000 sites than at 100 (issue #13, flatness). Here
//! each slot is one aligned cache line holding the path's hash, the path and its entry;
//! the table is at most half full and is built once, with the hash seed (of a few tried)
//! that puts the most paths in their first slot, so nearly every lookup reads one line
//! after the header. The header is small and cheap to copy (the slots are shared), so the
//! snapshot keeps a copy of each site's beside the site in a dense array, and a request
//! does not read the [`Site`](super::Site) at all on its way to a page.

use super::{Entries, Entry};
use smol_str::SmolStr;
use std::hash::BuildHasher;
use std::sync::Arc;

/// One slot: a cache line of its own.
#[derive(Debug, Default)]
#[repr(C, align(64))]
struct Slot {
    hash: u64,
    path: SmolStr,
    /// `None`: empty (a lookup that reaches it ends there).
    entry: Option<Entry>,
}

const _: () = assert!(std::mem::size_of::<Slot>() == 64, "a slot is one cache line");

/// How many hash seeds a build tries before it keeps the best.
const SEEDS: u64 = 8;

/// Path (decoded, starting with `/`) → entry, immutable. A clone shares the slots.
#[derive(Debug, Clone)]
pub struct Paths {
    /// A power of two of them, at most half taken.
    slots: Arc<[Slot]>,
    seed: u64,
}

impl Default for Paths {
    fn default() -> Paths {
        Paths::from(Entries::default())
    }
}

impl From<Entries> for Paths {
    fn from(entries: Entries) -> Paths {
        let len = entries.len();
        // At most half full, and never full: a lookup always meets an empty slot.
        let capacity = (2 * len).max(1).next_power_of_two();
        let mask = capacity - 1;
        let mut best: Option<Placement> = None;
        for seed in 0..SEEDS {
            let placed = place(entries.keys(), seed, mask);
            if best.as_ref().is_none_or(|b| placed.displaced < b.displaced) {
                best = Some(placed);
            }
            if best.as_ref().is_some_and(|b| b.displaced == 0) {
                break;
            }
        }
        let Placement { seed, at, .. } = best.expect("at least one seed is tried");
        let mut slots: Vec<Slot> = (0..capacity).map(|_| Slot::default()).collect();
        // A map yields its entries in the same order as its keys, which `place` followed.
        for ((path, entry), (i, hash)) in entries.into_iter().zip(at) {
            slots[i] = Slot { hash, path, entry: Some(entry) };
        }
        Paths { slots: slots.into(), seed }
    }
}

impl Paths {
    /// The entry for a decoded request path.
    #[inline]
    pub fn get(&self, path: &str) -> Option<&Entry> {
        let hash = hash(self.seed, path);
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = &self.slots[i];
            let entry = slot.entry.as_ref()?;
            if slot.hash == hash && slot.path == path {
                return Some(entry);
            }
            i = (i + 1) & mask;
        }
    }

    pub fn contains_key(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    /// How many paths (counted: for checks and tests, not the request path).
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every path and its entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&SmolStr, &Entry)> {
        self.slots.iter().filter_map(|s| Some((&s.path, s.entry.as_ref()?)))
    }
}

fn hash(seed: u64, path: &str) -> u64 {
    foldhash::fast::FixedState::with_seed(seed).hash_one(path)
}

/// Where paths go with one seed in a table of `mask + 1` slots.
struct Placement {
    seed: u64,
    /// Each path's slot and hash, in the order the paths came.
    at: Vec<(usize, u64)>,
    /// How many slots past their first the paths sit, in all.
    displaced: u64,
}

fn place<'a>(paths: impl Iterator<Item = &'a SmolStr>, seed: u64, mask: usize) -> Placement {
    let mut taken = vec![false; mask + 1];
    let mut placed = Placement { seed, at: Vec::new(), displaced: 0 };
    for path in paths {
        let hash = hash(seed, path);
        let mut i = hash as usize & mask;
        while taken[i] {
            i = (i + 1) & mask;
            placed.displaced += 1;
        }
        taken[i] = true;
        placed.at.push((i, hash));
    }
    placed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn page() -> Entry {
        Entry::Page(Arc::new(crate::content::render::Prepared::html(
            http::StatusCode::OK,
            crate::content::render::CachePolicy::Page,
            "<p>x</p>".into(),
        )))
    }

    #[test]
    fn every_path_is_found_and_no_other() {
        for n in [0, 1, 2, 3, 7, 15, 16, 17, 100, 1000] {
            let entries: Entries = (0..n).map(|i| (SmolStr::from(format!("/trang-{i}/")), page())).collect();
            let paths = Paths::from(entries);
            assert_eq!(paths.len(), n);
            assert_eq!(paths.iter().count(), n);
            for i in 0..n {
                assert!(paths.get(&format!("/trang-{i}/")).is_some(), "{n}: /trang-{i}/");
            }
            for missing in ["/", "/trang-/", &format!("/trang-{n}/"), "/trang-1", ""] {
                assert!(paths.get(missing).is_none(), "{n}: {missing} is not a path");
            }
        }
    }

    #[test]
    fn a_redirect_and_a_long_path_keep_what_they_say() {
        let long = format!("/{}/", "tin-tuc-".repeat(10));
        let entries: Entries =
            [(SmolStr::from("/page/1/"), Entry::Redirect("/".into())), (SmolStr::from(long.as_str()), page())]
                .into_iter()
                .collect();
        let paths = Paths::from(entries);
        assert!(matches!(paths.get("/page/1/"), Some(Entry::Redirect(to)) if to == "/"));
        assert!(matches!(paths.get(&long), Some(Entry::Page(_))));
    }

    #[test]
    fn a_small_site_finds_most_paths_in_their_first_slot() {
        // A generated site's paths: the seed search keeps the lookups to one line.
        let urls = ["/", "/gioi-thieu/", "/tin-tuc/", "/lien-he/", "/sitemap.xml", "/robots.txt", "/feed.xml"];
        let entries: Entries = urls.iter().map(|u| (SmolStr::from(*u), page())).collect();
        let paths = Paths::from(entries);
        let keys: Vec<SmolStr> = urls.iter().map(|u| SmolStr::from(*u)).collect();
        assert!(place(keys.iter(), paths.seed, paths.slots.len() - 1).displaced <= 1);
    }
}
