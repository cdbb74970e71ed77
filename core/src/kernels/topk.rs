//! Top-k selection over a slice of distances.

use alloc::collections::BinaryHeap;
use alloc::vec::Vec;
use core::cmp::Ordering;

/// One selected entry: the position of a score in the input and the score itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Position in the scored slice (for a scan: the row number).
    pub index: usize,
    /// The distance at that position.
    pub score: f32,
}

/// Orders hits by score, NaN after every number, then by lower index.
#[derive(Clone, Copy)]
struct Ranked(Hit);

impl Ranked {
    #[inline]
    fn key(&self) -> (bool, f32, usize) {
        (self.0.score.is_nan(), self.0.score, self.0.index)
    }
}

impl Ord for Ranked {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        let (an, a, ai) = self.key();
        let (bn, b, bi) = other.key();
        an.cmp(&bn)
            .then_with(|| a.partial_cmp(&b).unwrap_or(Ordering::Equal))
            .then_with(|| ai.cmp(&bi))
    }
}

impl PartialOrd for Ranked {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

/// The `k` smallest scores, ascending, ties broken by lower index.
///
/// NaN scores rank after every number (so they are only returned when fewer than `k` numbers
/// exist); `-0.0` and `0.0` tie. `k = 0` gives an empty result, `k >= scores.len()` sorts
/// everything. Runs in `O(n log k)` time and `O(k)` memory.
pub fn top_k(scores: &[f32], k: usize) -> Vec<Hit> {
    if k == 0 {
        return Vec::new();
    }
    // A max-heap of the best k so far: its top is the entry to beat.
    let mut heap: BinaryHeap<Ranked> = BinaryHeap::with_capacity(k.min(scores.len()) + 1);
    for (index, &score) in scores.iter().enumerate() {
        let candidate = Ranked(Hit { index, score });
        if heap.len() < k {
            heap.push(candidate);
        } else if let Some(mut worst) = heap.peek_mut() {
            // Equal scores never displace: the earlier (lower) index stays.
            if candidate < *worst {
                *worst = candidate;
            }
        }
    }
    heap.into_sorted_vec().into_iter().map(|r| r.0).collect()
}
