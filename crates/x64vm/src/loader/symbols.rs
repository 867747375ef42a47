//! [`Symbols`]: an image's symbols by name, built in time linear in their number.
//!
//! A large program has thousands of symbols, and inserting each into a
//! `BTreeMap<String, u64>` (string comparisons on every level of the tree) took
//! most of the time `load_elf` spent on a 1.3 MiB file. Loading now keeps the
//! symbols in definition order, deduplicated with one hash set; the name order
//! that lookups and ordered iteration need is built the first time one asks.

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

/// Symbols by name (function and object symbols of an ELF file, relocated; for a
/// packed file, its export table). Behaves like a `BTreeMap<String, u64>`:
/// iteration is in name order, and of several definitions of one name the last
/// one counts.
#[derive(Clone, Default)]
pub struct Symbols {
    /// One entry per name, in the order of each name's last definition.
    entries: Vec<(String, u64)>,
    /// Indices of `entries` in name order, made on first use.
    by_name: OnceLock<Box<[u32]>>,
}

impl Symbols {
    /// No symbols.
    pub fn new() -> Self {
        Self::default()
    }

    /// From `(name, address)` definitions in file order: of equal names the
    /// last one wins, as when inserting them into a map one after the other.
    /// Linear in the number of definitions.
    pub(crate) fn from_definitions(defs: &[(&str, u64)]) -> Self {
        /// Up to this many, comparing with the names kept so far is cheaper than
        /// setting up a hash set.
        const FEW: usize = 32;
        let mut entries: Vec<(String, u64)> = Vec::with_capacity(defs.len());
        // Backwards, so the last definition of a name is the one kept.
        if defs.len() <= FEW {
            for &(name, addr) in defs.iter().rev() {
                if !entries.iter().any(|(n, _)| n == name) {
                    entries.push((name.to_string(), addr));
                }
            }
        } else {
            let mut seen: HashSet<&str> = HashSet::with_capacity(defs.len());
            for &(name, addr) in defs.iter().rev() {
                if seen.insert(name) {
                    entries.push((name.to_string(), addr));
                }
            }
        }
        entries.reverse();
        Symbols {
            entries,
            by_name: OnceLock::new(),
        }
    }

    /// Number of distinct names.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn order(&self) -> &[u32] {
        self.by_name.get_or_init(|| {
            let mut v: Vec<u32> = (0..self.entries.len() as u32).collect();
            // Names are distinct, so an unstable sort gives one order.
            v.sort_unstable_by(|&a, &b| {
                self.entries[a as usize].0.cmp(&self.entries[b as usize].0)
            });
            v.into_boxed_slice()
        })
    }

    /// The address of `name`.
    pub fn get(&self, name: &str) -> Option<&u64> {
        let order = self.order();
        order
            .binary_search_by(|&i| self.entries[i as usize].0.as_str().cmp(name))
            .ok()
            .map(|at| &self.entries[order[at] as usize].1)
    }

    /// Whether `name` is defined.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// `(name, address)` in name order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            symbols: self,
            order: self.order().iter(),
        }
    }

    /// The names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.iter().map(|(n, _)| n)
    }

    /// The addresses, in the order of their names.
    pub fn values(&self) -> impl Iterator<Item = &u64> {
        self.iter().map(|(_, a)| a)
    }

    /// Defines `name` (replacing an earlier definition).
    pub fn insert(&mut self, name: String, addr: u64) -> Option<u64> {
        if let Some((_, a)) = self.entries.iter_mut().find(|(n, _)| *n == name) {
            return Some(std::mem::replace(a, addr));
        }
        self.entries.push((name, addr));
        self.by_name = OnceLock::new();
        None
    }
}

/// Iterator over [`Symbols`] in name order.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    symbols: &'a Symbols,
    order: std::slice::Iter<'a, u32>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a String, &'a u64);
    fn next(&mut self) -> Option<Self::Item> {
        let &i = self.order.next()?;
        let (n, a) = &self.symbols.entries[i as usize];
        Some((n, a))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.order.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Symbols {
    type Item = (&'a String, &'a u64);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<S: Into<String>> FromIterator<(S, u64)> for Symbols {
    /// Of equal names the last one wins.
    fn from_iter<I: IntoIterator<Item = (S, u64)>>(iter: I) -> Self {
        let owned: Vec<(String, u64)> = iter.into_iter().map(|(n, a)| (n.into(), a)).collect();
        let defs: Vec<(&str, u64)> = owned.iter().map(|(n, a)| (n.as_str(), *a)).collect();
        Symbols::from_definitions(&defs)
    }
}

impl PartialEq for Symbols {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Symbols {}

impl fmt::Debug for Symbols {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn behaves_like_a_btreemap_with_inserts_in_order() {
        let defs = [
            ("main", 1u64),
            ("b", 2),
            ("a", 3),
            ("b", 4),
            ("main", 5),
            ("z", 6),
        ];
        let s = Symbols::from_definitions(&defs);
        let mut m = BTreeMap::new();
        for (n, a) in defs {
            m.insert(n.to_string(), a);
        }
        assert_eq!(s.len(), m.len());
        assert!(s.iter().eq(m.iter()));
        assert_eq!(s.keys().collect::<Vec<_>>(), ["a", "b", "main", "z"]);
        assert_eq!(s.get("b"), Some(&4));
        assert_eq!(s.get("main"), Some(&5));
        assert_eq!(s.get("nope"), None);
        assert_eq!(format!("{s:?}"), format!("{m:?}"));
        let mut t: Symbols = m.clone().into_iter().collect();
        assert_eq!(t, s);
        assert_eq!(t.insert("b".into(), 9), Some(4));
        assert_eq!(t.insert("c".into(), 7), None);
        m.insert("b".into(), 9);
        m.insert("c".into(), 7);
        assert!(t.iter().eq(m.iter()));
        assert_ne!(t, s);
        assert!(Symbols::new().is_empty());
    }

    #[test]
    fn many_definitions_dedupe_as_few_do() {
        // Past the small-table path: the hash-set path keeps the same entries.
        let names: Vec<String> = (0..200).map(|i| format!("f{}", i % 70)).collect();
        let defs: Vec<(&str, u64)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i as u64))
            .collect();
        let s = Symbols::from_definitions(&defs);
        let mut m = BTreeMap::new();
        for (n, a) in &defs {
            m.insert(n.to_string(), *a);
        }
        assert_eq!(s.len(), 70);
        assert!(s.iter().eq(m.iter()));
        assert_eq!(s.get("f3"), Some(&143));
    }
}
