//! A heapsort for the loaders' one-off sorts (tensor table, vocabulary checks).
//!
//! `sort_unstable` instantiates a large pattern-defeating quicksort per element type and
//! comparison: about 5 KB of wasm each, 20 KB for the encoder's four sorts, which the size
//! budget of the encoder modules cannot spare. These sorts run once per load over at most a
//! vocabulary (30,000 short strings: a few milliseconds), so `O(n log n)` in a few hundred
//! bytes is the better trade.

/// Sorts `v` so that no element is `less` than the one before it (not stable).
pub(crate) fn heapsort_by<T>(v: &mut [T], mut less: impl FnMut(&T, &T) -> bool) {
    let len = v.len();
    // Build a max-heap, then move the maximum to the end `len - 1` times.
    for start in (0..len / 2).rev() {
        sift_down(v, start, len, &mut less);
    }
    for end in (1..len).rev() {
        v.swap(0, end);
        sift_down(v, 0, end, &mut less);
    }
}

/// Restores the heap property below `node` within `v[..end]`.
fn sift_down<T>(v: &mut [T], mut node: usize, end: usize, less: &mut impl FnMut(&T, &T) -> bool) {
    loop {
        let mut child = 2 * node + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && less(&v[child], &v[child + 1]) {
            child += 1;
        }
        if !less(&v[node], &v[child]) {
            return;
        }
        v.swap(node, child);
        node = child;
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::heapsort_by;

    #[test]
    fn sorts_like_the_standard_sort() {
        let mut seed = 12_345u32;
        for len in [0usize, 1, 2, 3, 7, 64, 1000] {
            let v: Vec<u32> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (seed >> 20) % 50
                })
                .collect();
            let mut got = v.clone();
            heapsort_by(&mut got, |a, b| a < b);
            let mut want = v;
            want.sort_unstable();
            assert_eq!(got, want, "len {len}");
        }
    }
}
