//! A heapsort for the loaders' one-off sorts (tensor table, vocabulary checks).
//!
//! `sort_unstable` instantiates a large pattern-defeating quicksort per element type and
//! comparison: about 5 KB of wasm each, 20 KB for the encoder's four sorts, which the size
//! budget of the encoder modules cannot spare. These sorts run once per load over at most a
//! vocabulary (30,000 short strings: a few milliseconds), so `O(n log n)` in a few hundred
//! bytes is the better trade.

/// Sorts `v` so that no element is `less` than the one before it (not stable).
#[cfg_attr(ferrovec_optimize_size, optimize(size))]
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

/// Restores the heap property below `node` within `v[..end]`, bottom-up: follow the larger
/// children down to a leaf (one comparison per level), climb back to where `v[node]`
/// belongs (usually a step or two), then rotate it into place. About half the comparisons
/// of the textbook sift, which matters for strings in an interpreter (wasmi loads a
/// vocabulary this way).
#[cfg_attr(ferrovec_optimize_size, optimize(size))]
fn sift_down<T>(v: &mut [T], node: usize, end: usize, less: &mut impl FnMut(&T, &T) -> bool) {
    let mut leaf = node;
    loop {
        let child = 2 * leaf + 1;
        if child >= end {
            break;
        }
        leaf = if child + 1 < end && less(&v[child], &v[child + 1]) {
            child + 1
        } else {
            child
        };
    }
    while leaf > node && less(&v[leaf], &v[node]) {
        leaf = (leaf - 1) / 2;
    }
    // `v[node]` goes to `leaf`; each element on the path below `node` moves up one level.
    let mut cur = leaf;
    while cur > node {
        v.swap(node, cur);
        cur = (cur - 1) / 2;
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::heapsort_by;

    #[test]
    fn sorts_like_the_standard_sort() {
        let mut seed = 12_345u32;
        for len in [0usize, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 64, 1000] {
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
