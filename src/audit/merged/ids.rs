//! Documents by id: the dense order groups are formed in (the smallest id kept), and the pairs
//! and groups the duplicates section shows.

use std::collections::{HashMap, HashSet};

use super::{IdPair, WorkerDuplicates};
use crate::dedup;

/// Removal groups by id: near pairs at or above `threshold` and exact-text groups joined
/// (union-find), each sorted by [`id_order`] (the first is kept), groups in the order of their
/// first id. What the merged duplicates section counts and the pipeline drops.
pub fn removal_groups_by_id(
    pairs: &[IdPair],
    exact: Option<&[Vec<String>]>,
    threshold: f64,
) -> Vec<Vec<String>> {
    IdIndex::new(pairs, exact).removal_groups(pairs, exact, threshold)
}

/// Ids in a dense order: numeric when every one is an integer, else by the string.
pub(super) struct IdIndex {
    ids: Vec<String>,
    at: HashMap<String, usize>,
}

impl IdIndex {
    fn new(pairs: &[IdPair], exact: Option<&[Vec<String>]>) -> IdIndex {
        let mut ids: Vec<String> = pairs
            .iter()
            .flat_map(|p| [p.id_a.clone(), p.id_b.clone()])
            .chain(exact.into_iter().flatten().flatten().cloned())
            .collect::<HashSet<String>>()
            .into_iter()
            .collect();
        id_order(&mut ids);
        let at = ids
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), i))
            .collect();
        IdIndex { ids, at }
    }

    fn of(&self, id: &str) -> usize {
        self.at[id]
    }

    /// See [`removal_groups_by_id`]; every id named must be indexed.
    pub(super) fn removal_groups(
        &self,
        pairs: &[IdPair],
        exact: Option<&[Vec<String>]>,
        threshold: f64,
    ) -> Vec<Vec<String>> {
        let near = pairs
            .iter()
            .filter(|p| f64::from(p.cosine) >= threshold)
            .map(|p| (self.of(&p.id_a), self.of(&p.id_b)));
        let exact: Option<Vec<Vec<usize>>> = exact.map(|g| {
            g.iter()
                .map(|g| g.iter().map(|i| self.of(i)).collect())
                .collect()
        });
        dedup::removal_groups(self.ids.len(), near, exact.as_deref())
            .into_iter()
            .map(|g| g.into_iter().map(|i| self.ids[i].clone()).collect())
            .collect()
    }
}

/// Sorts ids numerically when every one is an integer, else as strings (how `embedscope.ray`
/// orders its sample, so that the first of a group is the document kept either way).
pub fn id_order(ids: &mut [String]) {
    let numbers: Option<Vec<i128>> = ids.iter().map(|s| s.parse::<i128>().ok()).collect();
    match numbers {
        Some(n) => {
            let mut keyed: Vec<(i128, String)> = n.into_iter().zip(ids.iter().cloned()).collect();
            keyed.sort();
            for (slot, (_, s)) in ids.iter_mut().zip(keyed) {
                *slot = s;
            }
        }
        None => ids.sort(),
    }
}

/// The pairs and groups the section shows: ranked once, for [`WorkerResults::shown_ids`] and
/// the views.
///
/// [`WorkerResults::shown_ids`]: super::WorkerResults::shown_ids
pub(super) struct Views<'a> {
    pub(super) top: Vec<&'a IdPair>,
    pub(super) borderline: Vec<&'a IdPair>,
    /// The removal groups at the threshold.
    pub(super) groups: Vec<Vec<String>>,
    /// The ten largest of `groups`, by position, largest first.
    pub(super) largest: Vec<usize>,
    /// Every id the pairs and exact groups name, in order: what other thresholds group by.
    pub(super) index: IdIndex,
}

impl<'a> Views<'a> {
    pub(super) fn of(d: &'a WorkerDuplicates, threshold: f64) -> Views<'a> {
        let mut ranked: Vec<&IdPair> = d
            .pairs
            .iter()
            .filter(|p| f64::from(p.cosine) >= threshold && !p.same_text)
            .collect();
        let index = IdIndex::new(&d.pairs, d.exact_groups.as_deref());
        let at = |p: &IdPair| (index.of(&p.id_a), index.of(&p.id_b));
        ranked.sort_by(|a, b| b.cosine.total_cmp(&a.cosine).then(at(a).cmp(&at(b))));
        let top = ranked.iter().take(10).copied().collect();
        let borderline = ranked.iter().rev().take(10).copied().collect();
        let groups = index.removal_groups(&d.pairs, d.exact_groups.as_deref(), threshold);
        let mut largest: Vec<usize> = (0..groups.len()).collect();
        // Stable: equal sizes keep the groups' order (by their first id).
        largest.sort_by_key(|&g| std::cmp::Reverse(groups[g].len()));
        largest.truncate(10);
        Views {
            top,
            borderline,
            groups,
            largest,
            index,
        }
    }

    /// Up to the first ten ids of each of the largest groups.
    pub(super) fn largest_ids(&self) -> impl Iterator<Item = &[String]> {
        self.largest
            .iter()
            .map(|&g| &self.groups[g][..self.groups[g].len().min(10)])
    }
}
