//! A member's label as the routes carry it: its text, and a number that stays the same for
//! the life of the process. The request path finds a member's site and counters by that
//! number (an index) instead of hashing the text and comparing it with a key stored
//! elsewhere in memory: with thousands of members each of those is a cache miss.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, LazyLock, Mutex};

/// One member's label, interned: the same text always has the same [`Label::id`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Label {
    text: Arc<str>,
    id: u32,
}

/// Every label interned so far, by text and by number. The control side interns, building
/// routes and snapshots; the request path reads a label's fields, and takes this lock only
/// for a form on the apex (rare, and held for one lookup).
#[derive(Default)]
struct Interned {
    by_text: super::FastMap<Arc<str>, u32>,
    by_id: Vec<Arc<str>>,
}

static INTERNED: LazyLock<Mutex<Interned>> = LazyLock::new(Mutex::default);

impl Interned {
    fn intern(&mut self, text: &str) -> Label {
        if let Some((text, id)) = self.by_text.get_key_value(text) {
            return Label { text: text.clone(), id: *id };
        }
        let id = u32::try_from(self.by_id.len()).expect("fewer than 2^32 member labels");
        let text: Arc<str> = Arc::from(text);
        self.by_text.insert(text.clone(), id);
        self.by_id.push(text.clone());
        Label { text, id }
    }
}

impl Label {
    /// The label for `text`, numbered on first sight. Members come and go rarely, and a
    /// label once seen keeps its number, so the table only grows by new labels.
    pub fn intern(text: &str) -> Label {
        INTERNED.lock().unwrap_or_else(|p| p.into_inner()).intern(text)
    }

    /// [`Label::intern`] for many texts under one lock (every member of a route table).
    pub fn intern_all<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<Label> {
        let mut interned = INTERNED.lock().unwrap_or_else(|p| p.into_inner());
        texts.into_iter().map(|text| interned.intern(text)).collect()
    }

    /// The label for `text` if it was ever interned; never adds one (a counter's reader).
    pub fn find(text: &str) -> Option<Label> {
        let interned = INTERNED.lock().unwrap_or_else(|p| p.into_inner());
        let (text, id) = interned.by_text.get_key_value(text)?;
        Some(Label { text: text.clone(), id: *id })
    }

    /// The label's number: small, dense, from 0 (an index into per-member tables).
    #[inline]
    pub fn id(&self) -> usize {
        self.id as usize
    }

    /// The text of every label interned so far, indexed by [`Label::id`].
    pub fn all() -> Vec<Arc<str>> {
        INTERNED.lock().unwrap_or_else(|p| p.into_inner()).by_id.clone()
    }
}

impl Deref for Label {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        &self.text
    }
}

impl From<&str> for Label {
    fn from(text: &str) -> Label {
        Label::intern(text)
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.text, f)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_has_the_same_number_and_back() {
        let a = Label::intern("label-test-ais");
        let b = Label::intern("label-test-vnnic");
        assert_ne!(a.id(), b.id());
        assert_eq!(Label::intern("label-test-ais"), a);
        assert_eq!(Label::from("label-test-vnnic").id(), b.id());
        assert_eq!(Label::intern_all(["label-test-vnnic", "label-test-ais"]), [b.clone(), a.clone()]);
        assert_eq!(Label::find("label-test-ais"), Some(a.clone()));
        assert_eq!(Label::find("label-test-never-interned"), None);
        assert_eq!(Label::find("label-test-never-interned"), None, "a lookup adds nothing");
        assert_eq!(Label::all().get(a.id()).map(|t| &**t), Some("label-test-ais"));
        assert_eq!(&*b, "label-test-vnnic");
        assert_eq!(format!("{a} {a:?}"), "label-test-ais \"label-test-ais\"");
    }
}
