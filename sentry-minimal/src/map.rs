//! [`SortedMap`], the map type of the SDK's data: tags, extra data, contexts, headers.
//!
//! Event data maps are small (a handful to a few hundred entries), read in key order when they
//! are written out, and built once per event. A vector of entries kept sorted by key serves that
//! better than a B-tree: lookups are binary searches over contiguous memory, iteration is a
//! slice walk, and each key/value type adds a few small functions to a program instead of a
//! B-tree's node-balancing code (several tens of kilobytes of machine code per instantiation).

use std::borrow::Borrow;
use std::fmt;
use std::iter::FusedIterator;
use std::ops::Index;

/// A map kept sorted by key, with the interface of [`BTreeMap`](std::collections::BTreeMap)
/// that event data needs.
///
/// Entries live in one vector ordered by key, so iteration is in key order (the JSON the SDK
/// writes is deterministic) and lookups are binary searches. Inserting a key greater than all
/// others (building a map in key order) appends; any other insert or remove moves the entries
/// after it, which is cheap for the sizes event data has (every map in an event is trimmed by
/// Sentry to far fewer entries than make this matter). Bulk operations (`extend`, `collect`,
/// `append`) push, then sort once: O(n log n) whatever the order of their input, so prefer them
/// to many single `insert`s when building a large map from unordered data.
///
/// # Examples
///
/// ```
/// use sentry_minimal::SortedMap;
///
/// let mut tags = SortedMap::new();
/// tags.insert("region".to_owned(), "eu".to_owned());
/// tags.insert("app".to_owned(), "shop".to_owned());
/// assert_eq!(tags.get("region").map(String::as_str), Some("eu"));
/// assert_eq!(tags["app"], "shop");
/// // Iteration is in key order.
/// let keys: Vec<&str> = tags.keys().map(String::as_str).collect();
/// assert_eq!(keys, ["app", "region"]);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SortedMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> SortedMap<K, V> {
    /// An empty map. It does not allocate.
    ///
    /// ```
    /// let map = sentry_minimal::SortedMap::<String, u32>::new();
    /// assert!(map.is_empty());
    /// ```
    pub const fn new() -> Self {
        SortedMap {
            entries: Vec::new(),
        }
    }

    /// An empty map with room for `capacity` entries.
    ///
    /// ```
    /// let map = sentry_minimal::SortedMap::<String, u32>::with_capacity(8);
    /// assert!(map.is_empty());
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        SortedMap {
            entries: Vec::with_capacity(capacity),
        }
    }

    /// The number of entries.
    ///
    /// ```
    /// let map = sentry_minimal::SortedMap::from([("a", 1), ("b", 2)]);
    /// assert_eq!(map.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when the map has no entries.
    ///
    /// ```
    /// assert!(sentry_minimal::SortedMap::<&str, u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes every entry, keeping the allocation.
    ///
    /// ```
    /// let mut map = sentry_minimal::SortedMap::from([("a", 1)]);
    /// map.clear();
    /// assert!(map.is_empty());
    /// ```
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The entries in key order.
    ///
    /// ```
    /// let map = sentry_minimal::SortedMap::from([("b", 2), ("a", 1)]);
    /// let pairs: Vec<_> = map.iter().collect();
    /// assert_eq!(pairs, [(&"a", &1), (&"b", &2)]);
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            inner: self.entries.iter(),
        }
    }

    /// The entries in key order, with mutable values.
    ///
    /// ```
    /// let mut map = sentry_minimal::SortedMap::from([("a", 1), ("b", 2)]);
    /// for (_, value) in map.iter_mut() {
    ///     *value *= 10;
    /// }
    /// assert_eq!(map["b"], 20);
    /// ```
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        IterMut {
            inner: self.entries.iter_mut(),
        }
    }

    /// The keys in order.
    ///
    /// ```
    /// let map = sentry_minimal::SortedMap::from([("b", 2), ("a", 1)]);
    /// assert_eq!(map.keys().copied().collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn keys(&self) -> Keys<'_, K, V> {
        Keys {
            inner: self.entries.iter(),
        }
    }

    /// The values in key order.
    ///
    /// ```
    /// let map = sentry_minimal::SortedMap::from([("b", 2), ("a", 1)]);
    /// assert_eq!(map.values().copied().collect::<Vec<_>>(), [1, 2]);
    /// ```
    pub fn values(&self) -> Values<'_, K, V> {
        Values {
            inner: self.entries.iter(),
        }
    }

    /// The values in key order, mutable.
    ///
    /// ```
    /// let mut map = sentry_minimal::SortedMap::from([("a", 1)]);
    /// map.values_mut().for_each(|v| *v += 1);
    /// assert_eq!(map["a"], 2);
    /// ```
    pub fn values_mut(&mut self) -> ValuesMut<'_, K, V> {
        ValuesMut {
            inner: self.entries.iter_mut(),
        }
    }

    /// The entry with the smallest key.
    ///
    /// ```
    /// let map = sentry_minimal::SortedMap::from([("b", 2), ("a", 1)]);
    /// assert_eq!(map.first_key_value(), Some((&"a", &1)));
    /// ```
    pub fn first_key_value(&self) -> Option<(&K, &V)> {
        self.entries.first().map(|(k, v)| (k, v))
    }

    /// The entry with the greatest key.
    ///
    /// ```
    /// let map = sentry_minimal::SortedMap::from([("b", 2), ("a", 1)]);
    /// assert_eq!(map.last_key_value(), Some((&"b", &2)));
    /// ```
    pub fn last_key_value(&self) -> Option<(&K, &V)> {
        self.entries.last().map(|(k, v)| (k, v))
    }

    /// Removes and returns the entry with the smallest key.
    ///
    /// ```
    /// let mut map = sentry_minimal::SortedMap::from([("b", 2), ("a", 1)]);
    /// assert_eq!(map.pop_first(), Some(("a", 1)));
    /// assert_eq!(map.len(), 1);
    /// ```
    pub fn pop_first(&mut self) -> Option<(K, V)> {
        if self.entries.is_empty() {
            None
        } else {
            Some(self.entries.remove(0))
        }
    }

    /// Removes and returns the entry with the greatest key.
    ///
    /// ```
    /// let mut map = sentry_minimal::SortedMap::from([("b", 2), ("a", 1)]);
    /// assert_eq!(map.pop_last(), Some(("b", 2)));
    /// ```
    pub fn pop_last(&mut self) -> Option<(K, V)> {
        self.entries.pop()
    }

    /// Keeps only the entries for which `keep` returns `true`.
    ///
    /// ```
    /// let mut map = sentry_minimal::SortedMap::from([("a", 1), ("b", 2), ("c", 3)]);
    /// map.retain(|_, v| *v % 2 == 1);
    /// assert_eq!(map.keys().copied().collect::<Vec<_>>(), ["a", "c"]);
    /// ```
    pub fn retain<F: FnMut(&K, &mut V) -> bool>(&mut self, mut keep: F) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// The entries as a slice of pairs, in key order.
    ///
    /// ```
    /// let map = sentry_minimal::SortedMap::from([("b", 2), ("a", 1)]);
    /// assert_eq!(map.as_slice(), [("a", 1), ("b", 2)]);
    /// ```
    pub fn as_slice(&self) -> &[(K, V)] {
        &self.entries
    }

    /// The keys in order, consuming the map.
    ///
    /// ```
    /// let map = sentry_minimal::SortedMap::from([("b", 2), ("a", 1)]);
    /// assert_eq!(map.into_keys().collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn into_keys(self) -> impl DoubleEndedIterator<Item = K> + ExactSizeIterator {
        self.entries.into_iter().map(|(k, _)| k)
    }

    /// The values in key order, consuming the map.
    ///
    /// ```
    /// let map = sentry_minimal::SortedMap::from([("b", 2), ("a", 1)]);
    /// assert_eq!(map.into_values().collect::<Vec<_>>(), [1, 2]);
    /// ```
    pub fn into_values(self) -> impl DoubleEndedIterator<Item = V> + ExactSizeIterator {
        self.entries.into_iter().map(|(_, v)| v)
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    /// Where `key` is (`Ok`) or would be inserted (`Err`).
    fn search<Q>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// The value for `key`.
    ///
    /// ```
    /// let map = sentry_minimal::SortedMap::from([("a".to_owned(), 1)]);
    /// assert_eq!(map.get("a"), Some(&1));
    /// assert_eq!(map.get("z"), None);
    /// ```
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let index = self.search(key).ok()?;
        Some(&self.entries[index].1)
    }

    /// The stored key and value for `key`.
    ///
    /// ```
    /// let map = sentry_minimal::SortedMap::from([("a".to_owned(), 1)]);
    /// assert_eq!(map.get_key_value("a"), Some((&"a".to_owned(), &1)));
    /// ```
    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let index = self.search(key).ok()?;
        let (k, v) = &self.entries[index];
        Some((k, v))
    }

    /// The value for `key`, mutable.
    ///
    /// ```
    /// let mut map = sentry_minimal::SortedMap::from([("a".to_owned(), 1)]);
    /// *map.get_mut("a").unwrap() += 1;
    /// assert_eq!(map["a"], 2);
    /// ```
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let index = self.search(key).ok()?;
        Some(&mut self.entries[index].1)
    }

    /// `true` when the map has an entry for `key`.
    ///
    /// ```
    /// let map = sentry_minimal::SortedMap::from([("a".to_owned(), 1)]);
    /// assert!(map.contains_key("a"));
    /// assert!(!map.contains_key("b"));
    /// ```
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.search(key).is_ok()
    }

    /// Sets the value for `key`, returning the value it replaces. An existing entry keeps its
    /// key.
    ///
    /// ```
    /// let mut map = sentry_minimal::SortedMap::new();
    /// assert_eq!(map.insert("a", 1), None);
    /// assert_eq!(map.insert("a", 2), Some(1));
    /// assert_eq!(map["a"], 2);
    /// ```
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        // Building a map in key order is common (copying another map, parsing sorted data):
        // appending needs no search.
        let index = match self.entries.last() {
            Some((last, _)) if *last < key => self.entries.len(),
            None => 0,
            Some(_) => match self.search(&key) {
                Ok(index) => return Some(std::mem::replace(&mut self.entries[index].1, value)),
                Err(index) => index,
            },
        };
        self.entries.insert(index, (key, value));
        None
    }

    /// Removes the entry for `key` and returns its value.
    ///
    /// ```
    /// let mut map = sentry_minimal::SortedMap::from([("a".to_owned(), 1)]);
    /// assert_eq!(map.remove("a"), Some(1));
    /// assert_eq!(map.remove("a"), None);
    /// ```
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.remove_entry(key).map(|(_, v)| v)
    }

    /// Removes the entry for `key` and returns it.
    ///
    /// ```
    /// let mut map = sentry_minimal::SortedMap::from([("a".to_owned(), 1)]);
    /// assert_eq!(map.remove_entry("a"), Some(("a".to_owned(), 1)));
    /// ```
    pub fn remove_entry<Q>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let index = self.search(key).ok()?;
        Some(self.entries.remove(index))
    }

    /// The entry for `key`, to read, insert or update in place.
    ///
    /// ```
    /// let mut counts = sentry_minimal::SortedMap::new();
    /// for word in ["a", "b", "a"] {
    ///     *counts.entry(word).or_insert(0) += 1;
    /// }
    /// assert_eq!(counts["a"], 2);
    /// assert_eq!(counts["b"], 1);
    /// ```
    pub fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        match self.search(&key) {
            Ok(index) => Entry::Occupied(OccupiedEntry { map: self, index }),
            Err(index) => Entry::Vacant(VacantEntry {
                map: self,
                index,
                key,
            }),
        }
    }

    /// Moves every entry of `other` into `self`; `other`'s values win on equal keys.
    ///
    /// ```
    /// let mut a = sentry_minimal::SortedMap::from([("x", 1), ("y", 2)]);
    /// let mut b = sentry_minimal::SortedMap::from([("y", 20), ("z", 30)]);
    /// a.append(&mut b);
    /// assert!(b.is_empty());
    /// assert_eq!(a.values().copied().collect::<Vec<_>>(), [1, 20, 30]);
    /// ```
    pub fn append(&mut self, other: &mut Self) {
        if self.entries.is_empty() {
            std::mem::swap(&mut self.entries, &mut other.entries);
            return;
        }
        let start = self.entries.len();
        self.entries.append(&mut other.entries);
        self.restore_order(start);
    }

    /// Sorts again after entries were pushed at `start..` without regard to order; on equal
    /// keys the entry pushed last wins. O(n log n) in all (and linear when the pushed entries
    /// are already in order, or form one sorted run), where inserting them one by one would
    /// move the entries after each insertion point: quadratic for keys in reverse order.
    fn restore_order(&mut self, start: usize) {
        let in_order = self.entries[start.saturating_sub(1)..]
            .windows(2)
            .all(|pair| pair[0].0 < pair[1].0);
        if in_order {
            return;
        }
        // Stable: equal keys keep the order they were pushed in, so the last one is the newest.
        self.entries.sort_by(|a, b| a.0.cmp(&b.0));
        self.entries.dedup_by(|later, earlier| {
            let same = later.0 == earlier.0;
            if same {
                std::mem::swap(&mut later.1, &mut earlier.1);
            }
            same
        });
    }
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap::new()
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for SortedMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Ord + Borrow<Q>, Q: Ord + ?Sized, V> Index<&Q> for SortedMap<K, V> {
    type Output = V;

    /// The value for `key`.
    ///
    /// # Panics
    ///
    /// When the map has no entry for `key`, like `BTreeMap`'s indexing.
    fn index(&self, key: &Q) -> &V {
        match self.get(key) {
            Some(value) => value,
            None => panic!("no entry for the key in the SortedMap"),
        }
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    /// Collects entries; a later entry replaces an earlier one with the same key.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = SortedMap::new();
        map.extend(iter);
        map
    }
}

impl<K: Ord, V> Extend<(K, V)> for SortedMap<K, V> {
    /// Adds entries; a later entry replaces an earlier one (or an existing one) with the same
    /// key. O((n + m) log(n + m)) for any order of the new entries.
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        let start = self.entries.len();
        self.entries.extend(iter);
        self.restore_order(start);
    }
}

impl<'a, K: Ord + Copy, V: Copy> Extend<(&'a K, &'a V)> for SortedMap<K, V> {
    fn extend<I: IntoIterator<Item = (&'a K, &'a V)>>(&mut self, iter: I) {
        self.extend(iter.into_iter().map(|(k, v)| (*k, *v)));
    }
}

impl<K: Ord, V, const N: usize> From<[(K, V); N]> for SortedMap<K, V> {
    /// ```
    /// let map = sentry_minimal::SortedMap::from([("b", 2), ("a", 1), ("b", 3)]);
    /// assert_eq!(map.as_slice(), [("a", 1), ("b", 3)]);
    /// ```
    fn from(entries: [(K, V); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl<K, V> IntoIterator for SortedMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, K, V> IntoIterator for &'a SortedMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, K, V> IntoIterator for &'a mut SortedMap<K, V> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

/// One entry of a [`SortedMap`], from [`SortedMap::entry`].
#[derive(Debug)]
pub enum Entry<'a, K, V> {
    /// The key has no entry yet.
    Vacant(VacantEntry<'a, K, V>),
    /// The key has an entry.
    Occupied(OccupiedEntry<'a, K, V>),
}

impl<'a, K, V> Entry<'a, K, V> {
    /// The value, inserting `default` first when there is none.
    ///
    /// ```
    /// let mut map = sentry_minimal::SortedMap::new();
    /// *map.entry("a").or_insert(1) += 1;
    /// assert_eq!(map["a"], 2);
    /// ```
    pub fn or_insert(self, default: V) -> &'a mut V {
        self.or_insert_with(|| default)
    }

    /// The value, inserting `default()` first when there is none.
    ///
    /// ```
    /// let mut map = sentry_minimal::SortedMap::<&str, Vec<u8>>::new();
    /// map.entry("a").or_insert_with(Vec::new).push(1);
    /// assert_eq!(map["a"], [1]);
    /// ```
    pub fn or_insert_with<F: FnOnce() -> V>(self, default: F) -> &'a mut V {
        match self {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(default()),
        }
    }

    /// The value, inserting `V::default()` first when there is none.
    ///
    /// ```
    /// let mut map = sentry_minimal::SortedMap::<&str, u32>::new();
    /// *map.entry("a").or_default() += 3;
    /// assert_eq!(map["a"], 3);
    /// ```
    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    /// Runs `f` on the value when there is one.
    ///
    /// ```
    /// let mut map = sentry_minimal::SortedMap::from([("a", 1)]);
    /// map.entry("a").and_modify(|v| *v = 5).or_insert(0);
    /// map.entry("b").and_modify(|v| *v = 5).or_insert(0);
    /// assert_eq!(map.as_slice(), [("a", 5), ("b", 0)]);
    /// ```
    #[must_use]
    pub fn and_modify<F: FnOnce(&mut V)>(self, f: F) -> Self {
        match self {
            Entry::Occupied(mut entry) => {
                f(entry.get_mut());
                Entry::Occupied(entry)
            }
            vacant @ Entry::Vacant(_) => vacant,
        }
    }

    /// The entry's key.
    ///
    /// ```
    /// let mut map = sentry_minimal::SortedMap::<&str, u8>::new();
    /// assert_eq!(*map.entry("a").key(), "a");
    /// ```
    pub fn key(&self) -> &K {
        match self {
            Entry::Occupied(entry) => entry.key(),
            Entry::Vacant(entry) => entry.key(),
        }
    }
}

/// A key with no entry in a [`SortedMap`], with the place its entry goes.
pub struct VacantEntry<'a, K, V> {
    map: &'a mut SortedMap<K, V>,
    index: usize,
    key: K,
}

impl<'a, K, V> VacantEntry<'a, K, V> {
    /// The key.
    pub fn key(&self) -> &K {
        &self.key
    }

    /// Takes the key back without inserting.
    pub fn into_key(self) -> K {
        self.key
    }

    /// Inserts `value` for the key and returns it.
    pub fn insert(self, value: V) -> &'a mut V {
        self.map.entries.insert(self.index, (self.key, value));
        &mut self.map.entries[self.index].1
    }
}

impl<K: fmt::Debug, V> fmt::Debug for VacantEntry<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VacantEntry").field(&self.key).finish()
    }
}

/// An existing entry of a [`SortedMap`].
pub struct OccupiedEntry<'a, K, V> {
    map: &'a mut SortedMap<K, V>,
    index: usize,
}

impl<'a, K, V> OccupiedEntry<'a, K, V> {
    /// The key.
    pub fn key(&self) -> &K {
        &self.map.entries[self.index].0
    }

    /// The value.
    pub fn get(&self) -> &V {
        &self.map.entries[self.index].1
    }

    /// The value, mutable.
    pub fn get_mut(&mut self) -> &mut V {
        &mut self.map.entries[self.index].1
    }

    /// The value, mutable for as long as the map is borrowed.
    pub fn into_mut(self) -> &'a mut V {
        &mut self.map.entries[self.index].1
    }

    /// Replaces the value and returns the old one.
    pub fn insert(&mut self, value: V) -> V {
        std::mem::replace(self.get_mut(), value)
    }

    /// Removes the entry and returns its value.
    pub fn remove(self) -> V {
        self.remove_entry().1
    }

    /// Removes the entry and returns it.
    pub fn remove_entry(self) -> (K, V) {
        self.map.entries.remove(self.index)
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for OccupiedEntry<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OccupiedEntry")
            .field("key", self.key())
            .field("value", self.get())
            .finish()
    }
}

macro_rules! slice_iterator {
    ($(#[$doc:meta])* $name:ident<$lt:lifetime>, $slice_iter:ident, $item:ty, |$entry:ident| $map:expr) => {
        $(#[$doc])*
        pub struct $name<$lt, K, V> {
            inner: std::slice::$slice_iter<$lt, (K, V)>,
        }

        impl<$lt, K, V> Iterator for $name<$lt, K, V> {
            type Item = $item;

            fn next(&mut self) -> Option<Self::Item> {
                self.inner.next().map(|$entry| $map)
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                self.inner.size_hint()
            }
        }

        impl<K, V> DoubleEndedIterator for $name<'_, K, V> {
            fn next_back(&mut self) -> Option<Self::Item> {
                self.inner.next_back().map(|$entry| $map)
            }
        }

        impl<K, V> ExactSizeIterator for $name<'_, K, V> {}

        impl<K, V> FusedIterator for $name<'_, K, V> {}

        impl<K, V> fmt::Debug for $name<'_, K, V> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).field("remaining", &self.inner.len()).finish()
            }
        }
    };
}

slice_iterator!(
    /// The entries of a [`SortedMap`] in key order, from [`SortedMap::iter`].
    Iter<'a>, Iter, (&'a K, &'a V), |entry| (&entry.0, &entry.1)
);
slice_iterator!(
    /// The entries of a [`SortedMap`] with mutable values, from [`SortedMap::iter_mut`].
    IterMut<'a>, IterMut, (&'a K, &'a mut V), |entry| (&entry.0, &mut entry.1)
);
slice_iterator!(
    /// The keys of a [`SortedMap`] in order, from [`SortedMap::keys`].
    Keys<'a>, Iter, &'a K, |entry| &entry.0
);
slice_iterator!(
    /// The values of a [`SortedMap`] in key order, from [`SortedMap::values`].
    Values<'a>, Iter, &'a V, |entry| &entry.1
);
slice_iterator!(
    /// The mutable values of a [`SortedMap`] in key order, from [`SortedMap::values_mut`].
    ValuesMut<'a>, IterMut, &'a mut V, |entry| &mut entry.1
);

impl<K, V> Clone for Iter<'_, K, V> {
    fn clone(&self) -> Self {
        Iter {
            inner: self.inner.clone(),
        }
    }
}

impl<K, V> Clone for Keys<'_, K, V> {
    fn clone(&self) -> Self {
        Keys {
            inner: self.inner.clone(),
        }
    }
}

impl<K, V> Clone for Values<'_, K, V> {
    fn clone(&self) -> Self {
        Values {
            inner: self.inner.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A small deterministic generator, so the tests need no dependency.
    fn numbers(seed: u64, count: usize) -> Vec<u64> {
        let mut state = seed;
        (0..count)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state % 97
            })
            .collect()
    }

    #[test]
    fn behaves_like_a_btree_map() {
        let mut ours = SortedMap::new();
        let mut theirs = BTreeMap::new();
        for (step, n) in numbers(0x9E37_79B9, 2_000).into_iter().enumerate() {
            match step % 5 {
                0..=2 => assert_eq!(ours.insert(n, step), theirs.insert(n, step)),
                3 => assert_eq!(ours.remove(&n), theirs.remove(&n)),
                _ => {
                    *ours.entry(n).or_insert(0) += 1;
                    *theirs.entry(n).or_insert(0) += 1;
                }
            }
            assert_eq!(ours.get(&n), theirs.get(&n));
            assert_eq!(ours.len(), theirs.len());
        }
        assert!(ours.iter().eq(theirs.iter()));
        assert!(ours.clone().into_iter().eq(theirs.clone()));
        assert_eq!(ours.first_key_value(), theirs.first_key_value());
        assert_eq!(ours.last_key_value(), theirs.last_key_value());
        ours.retain(|k, _| k % 3 == 0);
        theirs.retain(|k, _| k % 3 == 0);
        assert!(ours.iter().eq(theirs.iter()));
    }

    #[test]
    fn bulk_operations_agree_with_a_btree_map_in_any_order() {
        // 100,000 keys in reverse order took seconds when each was inserted on its own.
        let reversed: SortedMap<u64, u64> = (0..100_000).rev().map(|k| (k, k)).collect();
        assert_eq!(reversed.len(), 100_000);
        assert!(reversed.keys().copied().eq(0..100_000));

        for seed in [1, 2, 3] {
            let pairs: Vec<(u64, usize)> = numbers(seed, 5_000)
                .into_iter()
                .enumerate()
                .map(|(i, n)| (n, i))
                .collect();
            let (first, second) = pairs.split_at(1_000);
            let mut ours: SortedMap<u64, usize> = first.iter().copied().collect();
            let mut theirs: BTreeMap<u64, usize> = first.iter().copied().collect();
            assert!(ours.iter().eq(theirs.iter()));
            ours.extend(second.iter().copied());
            theirs.extend(second.iter().copied());
            assert!(ours.iter().eq(theirs.iter()));
            let mut other: SortedMap<u64, usize> = numbers(seed + 10, 300)
                .into_iter()
                .map(|n| (n, 0))
                .collect();
            let mut their_other: BTreeMap<u64, usize> = other.clone().into_iter().collect();
            ours.append(&mut other);
            theirs.append(&mut their_other);
            assert!(other.is_empty());
            assert!(ours.iter().eq(theirs.iter()));
        }
    }

    #[test]
    fn collecting_keeps_the_last_value_of_a_key() {
        let map: SortedMap<u8, char> = [(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd')]
            .into_iter()
            .collect();
        assert_eq!(map.as_slice(), [(1, 'b'), (2, 'd'), (3, 'c')]);
    }

    #[test]
    fn string_keys_are_looked_up_by_str() {
        let mut map = SortedMap::new();
        map.insert("b".to_owned(), 1);
        map.insert("a".to_owned(), 2);
        assert_eq!(map["a"], 2);
        assert!(map.contains_key("b"));
        assert_eq!(map.remove("b"), Some(1));
        let mut cows: SortedMap<std::borrow::Cow<'static, str>, u8> = SortedMap::new();
        cows.insert("x".into(), 1);
        cows.insert(String::from("w").into(), 2);
        assert_eq!(cows.get("x"), Some(&1));
        assert_eq!(cows.keys().next().map(|k| &**k), Some("w"));
    }

    #[test]
    fn entries_update_in_place() {
        let mut map = SortedMap::from([("a", 1)]);
        match map.entry("a") {
            Entry::Occupied(mut entry) => {
                assert_eq!(entry.insert(7), 1);
                assert_eq!(*entry.key(), "a");
            }
            Entry::Vacant(_) => panic!("expected an entry"),
        }
        match map.entry("b") {
            Entry::Vacant(entry) => {
                assert_eq!(*entry.key(), "b");
                *entry.insert(2) += 1;
            }
            Entry::Occupied(_) => panic!("expected no entry"),
        }
        assert_eq!(map.as_slice(), [("a", 7), ("b", 3)]);
        if let Entry::Occupied(entry) = map.entry("a") {
            assert_eq!(entry.remove_entry(), ("a", 7));
        }
        assert_eq!(map.as_slice(), [("b", 3)]);
    }

    #[test]
    fn iterators_run_both_ways() {
        let mut map = SortedMap::from([(1, 'a'), (2, 'b'), (3, 'c')]);
        assert_eq!(map.iter().next_back(), Some((&3, &'c')));
        assert_eq!(map.keys().len(), 3);
        assert_eq!(map.values().rev().copied().collect::<String>(), "cba");
        for (_, v) in &mut map {
            *v = v.to_ascii_uppercase();
        }
        assert_eq!(map.into_values().collect::<String>(), "ABC");
        assert_eq!(
            format!("{:?}", SortedMap::from([(1, 2)])),
            "{1: 2}",
            "Debug prints like a map"
        );
    }

    #[test]
    #[should_panic(expected = "no entry")]
    fn indexing_a_missing_key_panics_like_a_btree_map() {
        let map = SortedMap::<u8, u8>::new();
        let _ = map[&1];
    }
}
