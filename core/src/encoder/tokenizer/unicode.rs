//! The per-character facts of the BERT normalizer and pre-tokenizer, read from the generated
//! [`tables`](super::tables) (themselves read from HF `tokenizers`; see `gen_tables.py`).

use super::tables::{
    CHINESE, CLEAN_REMOVED, CLEAN_WHITESPACE, COMBINING_KEPT, DECOMP_BMP_KEYS, DECOMP_BMP_VALUES,
    DECOMP_CJK, DECOMP_CJK_FIRST, DECOMP_KEYS, DECOMP_POOL, DECOMP_VALUES, LOWER_MULTI, LOWER_RUNS,
    NONSPACING, PUNCTUATION, SPLIT_WHITESPACE,
};

/// Whether `c` lies in one of the sorted, inclusive, disjoint `ranges`.
fn in_ranges(ranges: &[(u32, u32)], c: u32) -> bool {
    let i = ranges.partition_point(|&(start, _)| start <= c);
    match i.checked_sub(1).and_then(|i| ranges.get(i)) {
        Some(&(_, end)) => c <= end,
        None => false,
    }
}

/// The flag of the packed range of the sorted, disjoint `ranges` (`start << 11 | flag << 10 |
/// end - start`, half the bytes of `(start, end)` pairs) that holds `c`, if one does.
fn in_packed(ranges: &[u32], c: u32) -> Option<bool> {
    let i = ranges.partition_point(|&r| r >> 11 <= c);
    let r = *ranges.get(i.checked_sub(1)?)?;
    (c - (r >> 11) <= r & 0x3FF).then_some(r & 0x400 != 0)
}

/// What `clean_text` does to a char.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Clean {
    /// Removed (U+0000, U+FFFD, control and format chars other than `\t \n \r`).
    Remove,
    /// Replaced by `' '` (whitespace).
    Space,
    /// Kept as it is.
    Keep,
}

pub(super) fn clean(c: char) -> Clean {
    let c = c as u32;
    if in_ranges(&CLEAN_REMOVED, c) {
        Clean::Remove
    } else if in_ranges(&CLEAN_WHITESPACE, c) {
        Clean::Space
    } else {
        Clean::Keep
    }
}

/// Surrounded by spaces by `handle_chinese_chars`.
pub(super) fn is_chinese(c: char) -> bool {
    in_ranges(&CHINESE, c as u32)
}

/// Splits words and is dropped by the pre-tokenizer.
pub(super) fn is_split_whitespace(c: char) -> bool {
    in_ranges(&SPLIT_WHITESPACE, c as u32)
}

/// A word of its own to the pre-tokenizer.
pub(super) fn is_punctuation(c: char) -> bool {
    in_packed(&PUNCTUATION, c as u32).is_some()
}

/// The lowercase of a char: one char, or (U+0130 so far) a short string.
pub(super) enum Lower {
    One(char),
    Many(&'static str),
}

pub(super) fn lowercase(c: char) -> Lower {
    let u = c as u32;
    let i = LOWER_RUNS.partition_point(|&(packed, _)| packed >> 11 <= u);
    if let Some(&(packed, delta)) = i.checked_sub(1).and_then(|i| LOWER_RUNS.get(i)) {
        let off = u - (packed >> 11);
        let stride = 1 + (packed >> 10 & 1);
        if off.is_multiple_of(stride) && off / stride < packed & 0x3FF {
            let mapped = u.wrapping_add_signed(delta);
            if let Some(m) = char::from_u32(mapped) {
                return Lower::One(m);
            }
        }
    }
    if let Ok(i) = LOWER_MULTI.binary_search_by_key(&u, |&(k, _)| k) {
        if let Some(&(_, s)) = LOWER_MULTI.get(i) {
            return Lower::Many(s);
        }
    }
    Lower::One(c)
}

/// The canonical combining class of a char that `strip_accents` keeps (0 for starters).
pub(super) fn kept_combining_class(c: char) -> u8 {
    match COMBINING_KEPT.binary_search_by_key(&(c as u32), |&(k, _)| k) {
        Ok(i) => COMBINING_KEPT.get(i).map_or(0, |&(_, ccc)| ccc),
        Err(_) => 0,
    }
}

/// At most this many chars come out of `strip_accents` for one char.
pub(super) const MAX_STRIPPED: usize = 7;

/// What `strip_accents` (NFD, then drop the nonspacing marks) does to one char.
pub(super) enum Strip {
    /// Kept as it is, with this canonical combining class (0: a starter).
    Keep(u8),
    /// Dropped; `starter`: its canonical combining class is 0, so NFD's reordering of
    /// combining marks restarts after it.
    Drop { starter: bool },
    /// Replaced by `chars[..len]` (each a kept char: a starter or a kept combining mark);
    /// `starter`: the decomposition starts with a starter (the reordering restarts there).
    Decompose {
        starter: bool,
        chars: [char; MAX_STRIPPED],
        len: usize,
    },
}

const HANGUL_FIRST: u32 = 0xAC00;
const HANGUL_LAST: u32 = 0xD7A3;

pub(super) fn strip_accents(c: char) -> Strip {
    let u = c as u32;
    if (HANGUL_FIRST..=HANGUL_LAST).contains(&u) {
        // Hangul syllables decompose algorithmically into conjoining jamo (all starters).
        let s = u - HANGUL_FIRST;
        let mut chars = ['\0'; MAX_STRIPPED];
        let jamo = [0x1100 + s / 588, 0x1161 + (s % 588) / 28, 0x11A7 + s % 28];
        let len = if s.is_multiple_of(28) { 2 } else { 3 };
        for (slot, j) in chars.iter_mut().zip(jamo) {
            *slot = char::from_u32(j).unwrap_or('\u{FFFD}');
        }
        return Strip::Decompose {
            starter: true,
            chars,
            len,
        };
    }
    if let Ok(key) = u16::try_from(u) {
        if let Ok(i) = DECOMP_BMP_KEYS.binary_search(&key) {
            let mut chars = ['\0'; MAX_STRIPPED];
            let v = DECOMP_BMP_VALUES.get(i).copied().unwrap_or(0);
            chars[0] = char::from_u32(u32::from(v)).unwrap_or('\u{FFFD}');
            return Strip::Decompose {
                starter: true,
                chars,
                len: 1,
            };
        }
    }
    if let Some(&v) = u
        .checked_sub(DECOMP_CJK_FIRST)
        .and_then(|i| DECOMP_CJK.get(i as usize))
    {
        let mut chars = ['\0'; MAX_STRIPPED];
        chars[0] = char::from_u32(v).unwrap_or('\u{FFFD}');
        return Strip::Decompose {
            starter: true,
            chars,
            len: 1,
        };
    }
    if let Ok(i) = DECOMP_KEYS.binary_search(&u) {
        let v = DECOMP_VALUES.get(i).copied().unwrap_or(0);
        let starter = v & (1 << 31) != 0;
        let mut chars = ['\0'; MAX_STRIPPED];
        let mut len = 0;
        if v & (1 << 24) != 0 {
            let off = (v & 0x1F_FFFF) as usize;
            let n = ((v >> 21) & 7) as usize;
            let pool = DECOMP_POOL.get(off..off + n).unwrap_or(&[]);
            for (slot, &p) in chars.iter_mut().zip(pool) {
                *slot = char::from_u32(p).unwrap_or('\u{FFFD}');
                len += 1;
            }
        } else if let Some(ch) = char::from_u32(v & 0x1F_FFFF) {
            chars[0] = ch;
            len = 1;
        }
        return Strip::Decompose {
            starter,
            chars,
            len,
        };
    }
    if let Some(starter) = in_packed(&NONSPACING, u) {
        return Strip::Drop { starter };
    }
    Strip::Keep(kept_combining_class(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn sorted_disjoint(r: &[(u32, u32)]) -> bool {
        r.iter().all(|&(a, b)| a <= b) && r.windows(2).all(|w| w[0].1 < w[1].0)
    }

    fn unpacked(r: &[u32]) -> Vec<(u32, u32)> {
        r.iter()
            .map(|&p| (p >> 11, (p >> 11) + (p & 0x3FF)))
            .collect()
    }

    #[test]
    fn tables_are_sorted() {
        for t in [
            &CLEAN_REMOVED[..],
            &CLEAN_WHITESPACE,
            &CHINESE,
            &SPLIT_WHITESPACE,
            &unpacked(&PUNCTUATION),
            &unpacked(&NONSPACING),
        ] {
            assert!(sorted_disjoint(t));
        }
        assert!(DECOMP_KEYS.windows(2).all(|w| w[0] < w[1]));
        assert!(DECOMP_BMP_KEYS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(DECOMP_BMP_KEYS.len(), DECOMP_BMP_VALUES.len());
        assert_eq!(DECOMP_KEYS.len(), DECOMP_VALUES.len());
        for &k in &DECOMP_KEYS {
            if let Ok(k) = u16::try_from(k) {
                assert!(
                    DECOMP_BMP_KEYS.binary_search(&k).is_err(),
                    "{k:X} in both tables"
                );
            }
        }
        assert!(COMBINING_KEPT.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(LOWER_RUNS.windows(2).all(|w| w[0].0 >> 11 < w[1].0 >> 11));
        // DECOMP_CJK is looked up first: its block must not be listed in DECOMP_KEYS as well.
        let cjk = DECOMP_CJK_FIRST..DECOMP_CJK_FIRST + DECOMP_CJK.len() as u32;
        assert!(DECOMP_KEYS.iter().all(|k| !cjk.contains(k)));
        assert!(LOWER_MULTI.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn a_few_facts() {
        assert_eq!(clean('\0'), Clean::Remove);
        assert_eq!(clean('\u{FFFD}'), Clean::Remove);
        assert_eq!(clean('\t'), Clean::Space);
        assert_eq!(clean('a'), Clean::Keep);
        assert!(is_chinese('中') && !is_chinese('a'));
        assert!(is_punctuation('$') && is_punctuation('、') && !is_punctuation('a'));
        assert!(is_split_whitespace(' ') && is_split_whitespace('\u{3000}'));
        assert!(matches!(lowercase('A'), Lower::One('a')));
        assert!(matches!(lowercase('Σ'), Lower::One('σ')));
        assert!(matches!(lowercase('İ'), Lower::Many("i\u{307}")));
        assert!(matches!(lowercase('a'), Lower::One('a')));
        match strip_accents('é') {
            Strip::Decompose {
                starter: true,
                chars,
                len: 1,
            } => assert_eq!(chars[0], 'e'),
            _ => panic!("é"),
        }
        assert!(matches!(
            strip_accents('\u{301}'),
            Strip::Drop { starter: false }
        ));
        assert!(matches!(strip_accents('a'), Strip::Keep(0)));
        // A nonspacing mark of class 0 (U+0E31) and one of class 216 (U+0F39), and the CJK
        // compatibility block (U+2F800 -> U+4E3D).
        assert!(matches!(
            strip_accents('\u{E31}'),
            Strip::Drop { starter: true }
        ));
        assert!(matches!(
            strip_accents('\u{F39}'),
            Strip::Drop { starter: false }
        ));
        match strip_accents('\u{2F800}') {
            Strip::Decompose {
                starter: true,
                chars,
                len: 1,
            } => assert_eq!(chars[0], '\u{4E3D}'),
            _ => panic!("U+2F800"),
        }
        match strip_accents('한') {
            Strip::Decompose { len: 3, chars, .. } => {
                assert_eq!(&chars[..3], &['\u{1112}', '\u{1161}', '\u{11AB}'])
            }
            _ => panic!("한"),
        }
    }
}
