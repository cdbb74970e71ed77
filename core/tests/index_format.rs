//! The index file format (core/src/index/FORMAT.md): save -> load -> search gives identical
//! results and later adds stay deterministic, for every kind x storage x metric; every
//! truncation, every flipped byte, wrong versions and hostile headers (checksum recomputed,
//! so validation must catch them) fail with the right error and never panic.

use ferrovec_core::index::{
    HnswParams, Index, IndexMetric, IndexOptions, Match, OnDuplicate, Storage,
};
use ferrovec_core::Error;

// Header offsets (FORMAT.md).
const VERSION: usize = 4;
const DIMS: usize = 8;
const METRIC: usize = 12;
const STORAGE: usize = 16;
const KIND: usize = 20;
const SCALES: usize = 24;
const M: usize = 28;
const EF_CONSTRUCTION: usize = 32;
const EF_SEARCH: usize = 36;
const N: usize = 56;
const LIVE: usize = 64;
const ENTRY: usize = 72;
const MAX_LEVEL: usize = 76;
const GRAPH_WORDS: usize = 80;
const HEADER: usize = 88;
/// v3 (f16 and bf16 rows): v1's header, the model id, the flags.
const HEADER_V3: usize = 104;
const FLAGS: usize = 96;

#[path = "support/index_file.rs"]
mod index_file;
use index_file::{crc32c, get_u32, get_u64, reseal, set_u32, set_u64};

struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn f32(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    fn vecs(&mut self, n: usize, dims: usize) -> Vec<f32> {
        (0..n * dims).map(|_| self.f32()).collect()
    }
}

const PAIRS: [(IndexMetric, Storage); 12] = [
    (IndexMetric::Cosine, Storage::F32),
    (IndexMetric::L2sq, Storage::F32),
    (IndexMetric::InnerProduct, Storage::F32),
    (IndexMetric::Cosine, Storage::I8),
    (IndexMetric::L2sq, Storage::I8),
    (IndexMetric::InnerProduct, Storage::I8),
    (IndexMetric::Hamming, Storage::B1),
    (IndexMetric::Jaccard, Storage::B1),
    (IndexMetric::Cosine, Storage::F16),
    (IndexMetric::L2sq, Storage::F16),
    (IndexMetric::InnerProduct, Storage::BF16),
    (IndexMetric::L2sq, Storage::BF16),
];

fn params() -> HnswParams {
    HnswParams {
        m: 6,
        ef_construction: 40,
        ef_search: 24,
        seed: 77,
    }
}

fn every_options(dims: usize) -> Vec<IndexOptions> {
    let mut all = Vec::new();
    for (metric, storage) in PAIRS {
        let o = IndexOptions::new(dims, metric).storage(storage);
        all.push(o.clone().exact());
        all.push(o.hnsw(params()));
    }
    all
}

fn err_of(r: Result<Index, Error>) -> Error {
    match r {
        Ok(_) => panic!("a corrupt file loaded"),
        Err(e) => e,
    }
}

fn assert_corrupt(r: Result<Index, Error>, what: &str) {
    match err_of(r) {
        Error::CorruptFile(_) => {}
        other => panic!("{what}: expected CorruptFile, got {other:?}"),
    }
}

/// Bitwise equality of result lists (distances compared by bits, not by `==`).
fn same(a: &[Match], b: &[Match]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.key == y.key && x.distance.to_bits() == y.distance.to_bits())
}

/// Both indexes answer every query form identically.
fn assert_same_answers(a: &Index, b: &Index, queries: &[f32], what: &str) {
    let dims = a.dims();
    assert_eq!(a.len(), b.len(), "{what}: len");
    assert_eq!(a.options(), b.options(), "{what}: options");
    for (i, q) in queries.chunks_exact(dims).enumerate() {
        for k in [1, 10, 1000] {
            let (x, y) = (a.search(q, k).unwrap(), b.search(q, k).unwrap());
            assert!(same(&x, &y), "{what}: query {i} k {k}: {x:?} vs {y:?}");
        }
        let odd = |key: u64| key % 2 == 1;
        let (x, y) = (
            a.search_filtered(q, 5, &odd).unwrap(),
            b.search_filtered(q, 5, &odd).unwrap(),
        );
        assert!(same(&x, &y), "{what}: filtered query {i}");
        let allowed: Vec<u64> = (0..400).step_by(7).collect();
        let (x, y) = (
            a.search_allowed(q, 5, &allowed).unwrap(),
            b.search_allowed(q, 5, &allowed).unwrap(),
        );
        assert!(same(&x, &y), "{what}: allowed query {i}");
    }
}

/// An index of `n` vectors, some removed and some replaced (tombstones), keys 0..n.
fn build(options: &IndexOptions, n: usize, rng: &mut Rng) -> Index {
    let dims = options.dims;
    let mut index = Index::new(options.clone()).unwrap();
    let keys: Vec<u64> = (0..n as u64).collect();
    index
        .add_batch(&keys, &rng.vecs(n, dims), OnDuplicate::Error)
        .unwrap();
    for key in (0..n as u64).step_by(9) {
        index.remove(key).unwrap();
    }
    for key in (1..n as u64).step_by(13) {
        if index.contains(key) {
            index
                .add_with(key, &rng.vecs(1, dims), OnDuplicate::Replace)
                .unwrap();
        }
    }
    index
}

#[test]
fn round_trip_every_kind_storage_and_metric() {
    let dims = 19;
    for options in every_options(dims) {
        let what = format!("{options:?}");
        let mut rng = Rng(42);
        let mut original = build(&options, 300, &mut rng);
        let bytes = original.to_bytes().unwrap();
        let mut loaded = Index::from_bytes(&bytes).unwrap();
        // Byte-identical when saved again.
        assert_eq!(loaded.to_bytes().unwrap(), bytes, "{what}: re-save");
        for key in 0..300u64 {
            assert_eq!(original.contains(key), loaded.contains(key), "{what}");
            if original.contains(key) {
                let (x, y) = (original.get(key).unwrap(), loaded.get(key).unwrap());
                assert!(x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()));
            }
        }
        let queries = rng.vecs(12, dims);
        assert_same_answers(&original, &loaded, &queries, &what);

        // Adds, replaces and removes after the load: the same as on the original.
        let keys: Vec<u64> = (300..380).collect();
        let more = rng.vecs(keys.len(), dims);
        for index in [&mut original, &mut loaded] {
            index.add_batch(&keys, &more, OnDuplicate::Error).unwrap();
            index.remove(301).unwrap();
            index
                .add_with(5, &more[..dims], OnDuplicate::Replace)
                .unwrap();
        }
        assert_same_answers(&original, &loaded, &queries, &what);
        assert_eq!(
            original.to_bytes().unwrap(),
            loaded.to_bytes().unwrap(),
            "{what}"
        );

        // Compaction rebuilds the same graph on both.
        original.compact().unwrap();
        loaded.compact().unwrap();
        assert_same_answers(&original, &loaded, &queries, &what);
        assert_eq!(
            original.to_bytes().unwrap(),
            loaded.to_bytes().unwrap(),
            "{what}"
        );
    }
}

#[test]
fn empty_index_round_trips_and_grows_the_same() {
    for options in every_options(9) {
        let what = format!("{options:?}");
        let mut original = Index::new(options.clone()).unwrap();
        let bytes = original.to_bytes().unwrap();
        let mut loaded = Index::from_bytes(&bytes).unwrap();
        assert!(loaded.is_empty(), "{what}");
        assert_eq!(loaded.options(), &options, "{what}");
        assert_eq!(loaded.search(&[0.5; 9], 3).unwrap(), vec![], "{what}");
        let mut rng = Rng(5);
        let keys: Vec<u64> = (0..50).collect();
        let v = rng.vecs(50, 9);
        original.add_batch(&keys, &v, OnDuplicate::Error).unwrap();
        loaded.add_batch(&keys, &v, OnDuplicate::Error).unwrap();
        assert_same_answers(&original, &loaded, &rng.vecs(5, 9), &what);
    }
}

#[test]
fn all_removed_and_cleared_indexes_round_trip() {
    let options = IndexOptions::new(4, IndexMetric::L2sq).hnsw(params());
    let mut index = Index::new(options).unwrap();
    let mut rng = Rng(3);
    index
        .add_batch(&[1, 2, 3], &rng.vecs(3, 4), OnDuplicate::Error)
        .unwrap();
    for k in [1, 2, 3] {
        index.remove(k).unwrap();
    }
    let loaded = Index::from_bytes(&index.to_bytes().unwrap()).unwrap();
    assert!(loaded.is_empty());
    assert_eq!(loaded.search(&[0.0; 4], 2).unwrap(), vec![]);
    index.clear();
    let loaded = Index::from_bytes(&index.to_bytes().unwrap()).unwrap();
    assert!(loaded.is_empty());
}

#[test]
fn ef_search_and_seed_survive() {
    let options = IndexOptions::new(8, IndexMetric::Cosine).hnsw(HnswParams {
        m: 5,
        ef_construction: 30,
        ef_search: 10,
        seed: u64::MAX - 3,
    });
    let mut index = build(&options, 60, &mut Rng(1));
    index.set_ef_search(333).unwrap();
    let loaded = Index::from_bytes(&index.to_bytes().unwrap()).unwrap();
    assert_eq!(loaded.options(), index.options());
    match loaded.kind() {
        ferrovec_core::index::IndexKind::Hnsw(p) => {
            assert_eq!(p.ef_search, 333);
            assert_eq!(p.seed, u64::MAX - 3);
        }
        other => panic!("kind {other:?}"),
    }
}

/// Small files of every storage and kind (with a tombstone) for the exhaustive tests.
fn small_files() -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    for (i, options) in every_options(5).into_iter().enumerate() {
        if i % 2 == 1 || i < 2 || i == 12 || i == 16 {
            let index = build(&options, 10, &mut Rng(i as u64));
            files.push(index.to_bytes().unwrap());
        }
    }
    files
}

#[test]
fn every_truncation_is_corrupt() {
    for bytes in small_files() {
        for len in 0..bytes.len() {
            assert_corrupt(Index::from_bytes(&bytes[..len]), &format!("length {len}"));
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_corrupt(Index::from_bytes(&longer), "one extra byte");
    }
}

#[test]
fn every_flipped_byte_is_an_error() {
    for bytes in small_files() {
        for at in 0..bytes.len() {
            for mask in [0x01u8, 0x80, 0xff, 0x5a] {
                let mut b = bytes.clone();
                b[at] ^= mask;
                let what = format!("byte {at} ^ {mask:#x}");
                match err_of(Index::from_bytes(&b)) {
                    Error::UnsupportedVersion(v) if (VERSION..VERSION + 4).contains(&at) => {
                        assert_ne!(v, 1, "{what}")
                    }
                    Error::CorruptFile(_) => {}
                    other => panic!("{what}: {other:?}"),
                }
            }
        }
    }
}

/// Every other value of every byte of a small HNSW file (CRC-32C detects any error within
/// 32 consecutive bits, so this must hold exhaustively, not just with high probability).
#[test]
fn every_value_of_every_byte_is_an_error() {
    let options = IndexOptions::new(2, IndexMetric::L2sq).hnsw(params());
    let bytes = build(&options, 4, &mut Rng(8)).to_bytes().unwrap();
    for at in 0..bytes.len() {
        for value in 0..=255u8 {
            if value == bytes[at] {
                continue;
            }
            let mut b = bytes.clone();
            b[at] = value;
            match err_of(Index::from_bytes(&b)) {
                Error::UnsupportedVersion(_) if (VERSION..VERSION + 4).contains(&at) => {}
                Error::CorruptFile(_) => {}
                other => panic!("byte {at} = {value}: {other:?}"),
            }
        }
    }
}

#[test]
fn bit_flips_in_a_bigger_file_are_corrupt() {
    let options = IndexOptions::new(64, IndexMetric::Cosine).hnsw(HnswParams::default());
    let bytes = build(&options, 2000, &mut Rng(9)).to_bytes().unwrap();
    let mut rng = Rng(10);
    for _ in 0..40 {
        let at = 8 + (rng.next_u64() as usize % (bytes.len() - 8));
        let bit = rng.next_u64() % 8;
        let mut b = bytes.clone();
        b[at] ^= 1 << bit;
        assert_corrupt(Index::from_bytes(&b), &format!("bit {bit} of byte {at}"));
    }
}

#[test]
fn wrong_version_and_bad_magic() {
    let bytes = small_files().swap_remove(1);
    // 4: the first version after this build's (1, 2 and 3); a newer reader's file.
    for v in [0u32, 4, 5, 0xffff_ffff] {
        let mut b = bytes.clone();
        set_u32(&mut b, VERSION, v);
        reseal(&mut b);
        assert_eq!(err_of(Index::from_bytes(&b)), Error::UnsupportedVersion(v));
        // The version is checked before the checksum (a newer format may change it).
        b.truncate(12);
        assert_eq!(err_of(Index::from_bytes(&b)), Error::UnsupportedVersion(v));
    }
    let mut b = bytes.clone();
    b[..4].copy_from_slice(b"FVIY");
    reseal(&mut b);
    let e = err_of(Index::from_bytes(&b));
    assert!(
        matches!(&e, Error::CorruptFile(m) if m.contains("magic")),
        "{e:?}"
    );
    assert_corrupt(Index::from_bytes(b""), "empty");
    assert_corrupt(Index::from_bytes(&[0u8; 200]), "zeros");
}

/// Parses the sections of a file the way FORMAT.md lays them out: (rows start, levels
/// start, lists start) for an HNSW file.
fn sections(b: &[u8]) -> (usize, usize, usize) {
    let n = get_u64(b, N) as usize;
    let dims = get_u32(b, DIMS) as usize;
    let header = if get_u32(b, VERSION) == 3 {
        HEADER_V3
    } else {
        HEADER
    };
    let rows = header + 8 * n + n.div_ceil(8);
    let row_bytes = match get_u32(b, STORAGE) {
        0 => 4 * dims * n,
        1 => (dims + 4) * n,
        3 | 4 => 2 * dims * n,
        _ => dims.div_ceil(8) * n,
    };
    let levels = rows + row_bytes;
    (rows, levels, levels + n)
}

/// The layout in FORMAT.md is the one written: sections add up to the file length.
#[test]
fn layout_matches_the_documentation() {
    for bytes in small_files() {
        assert_eq!(&bytes[..4], b"FVIX");
        // The lowest version that holds the index: 3 for f16 and bf16 rows, else 1 (no
        // model id here).
        let half = matches!(get_u32(&bytes, STORAGE), 3 | 4);
        assert_eq!(get_u32(&bytes, VERSION), if half { 3 } else { 1 });
        if half {
            assert_eq!(get_u64(&bytes, MODEL_ID), 0);
            assert_eq!(get_u64(&bytes, FLAGS), 0);
        }
        let (_, levels, lists) = sections(&bytes);
        let end = if get_u32(&bytes, KIND) == 1 {
            lists + 4 * get_u64(&bytes, GRAPH_WORDS) as usize
        } else {
            levels
        };
        assert_eq!(end + 4, bytes.len());
        assert_eq!(
            get_u32(&bytes, bytes.len() - 4),
            crc32c(&bytes[..bytes.len() - 4])
        );
        let scales = if get_u32(&bytes, STORAGE) == 1 { 1 } else { 0 };
        assert_eq!(get_u32(&bytes, SCALES), scales);
    }
}

/// An HNSW f32 file with tombstones whose graph has upper levels.
fn hnsw_file() -> Vec<u8> {
    let options = IndexOptions::new(3, IndexMetric::L2sq).hnsw(HnswParams {
        m: 2,
        ef_construction: 8,
        ef_search: 8,
        seed: 1,
    });
    let index = build(&options, 40, &mut Rng(2));
    let b = index.to_bytes().unwrap();
    assert!(get_u32(&b, MAX_LEVEL) >= 1, "test file needs upper levels");
    b
}

/// Applies `edit`, reseals, and expects CorruptFile whose message contains `needle`.
fn hostile(base: &[u8], what: &str, needle: &str, edit: impl Fn(&mut Vec<u8>)) {
    let mut b = base.to_vec();
    edit(&mut b);
    reseal(&mut b);
    match err_of(Index::from_bytes(&b)) {
        Error::CorruptFile(msg) => assert!(
            msg.contains(needle),
            "{what}: message {msg:?} lacks {needle:?}"
        ),
        other => panic!("{what}: expected CorruptFile, got {other:?}"),
    }
}

#[test]
fn hostile_headers_are_caught_by_validation() {
    let base = hnsw_file();
    let n = get_u64(&base, N);
    hostile(&base, "n = 2^60", "slot count", |b| set_u64(b, N, 1 << 60));
    hostile(&base, "n = 2^32 - 2", "keys", |b| {
        set_u64(b, N, (1 << 32) - 2)
    });
    hostile(&base, "n = u64::MAX", "slot count", |b| {
        set_u64(b, N, u64::MAX)
    });
    hostile(&base, "n = 2^32", "slot count", |b| set_u64(b, N, 1 << 32));
    hostile(&base, "n + 1", "", |b| set_u64(b, N, n + 1));
    hostile(&base, "n - 1", "", |b| set_u64(b, N, n - 1));
    hostile(&base, "live > n", "live", |b| set_u64(b, LIVE, n + 1));
    hostile(&base, "live off by one", "live", |b| {
        let live = get_u64(b, LIVE);
        set_u64(b, LIVE, live - 1)
    });
    hostile(&base, "dims 0", "dims", |b| set_u32(b, DIMS, 0));
    hostile(&base, "dims huge", "dims", |b| set_u32(b, DIMS, u32::MAX));
    hostile(&base, "dims 65537", "dims", |b| set_u32(b, DIMS, 65537));
    hostile(&base, "dims + 1", "", |b| set_u32(b, DIMS, 4));
    hostile(&base, "metric 99", "metric", |b| set_u32(b, METRIC, 99));
    hostile(&base, "metric -1", "metric", |b| {
        set_u32(b, METRIC, u32::MAX)
    });
    hostile(&base, "hamming on f32", "unsupported", |b| {
        set_u32(b, METRIC, 3)
    });
    hostile(&base, "storage 7", "storage", |b| set_u32(b, STORAGE, 7));
    hostile(&base, "kind 2", "kind", |b| set_u32(b, KIND, 2));
    hostile(&base, "exact kind with a graph", "exact", |b| {
        set_u32(b, KIND, 0)
    });
    hostile(&base, "scale scheme", "scale", |b| set_u32(b, SCALES, 1));
    hostile(&base, "m 0", "m must", |b| set_u32(b, M, 0));
    hostile(&base, "m huge", "m must", |b| set_u32(b, M, 1 << 30));
    hostile(&base, "ef_construction 0", "ef_construction", |b| {
        set_u32(b, EF_CONSTRUCTION, 0)
    });
    hostile(&base, "ef_search huge", "ef_search", |b| {
        set_u32(b, EF_SEARCH, u32::MAX)
    });
    hostile(&base, "entry out of range", "entry", |b| {
        set_u32(b, ENTRY, n as u32)
    });
    hostile(&base, "entry none", "entry", |b| {
        set_u32(b, ENTRY, u32::MAX)
    });
    hostile(&base, "top level 32", "top level", |b| {
        set_u32(b, MAX_LEVEL, 32)
    });
    hostile(&base, "top level + 1", "entry", |b| {
        let l = get_u32(b, MAX_LEVEL);
        set_u32(b, MAX_LEVEL, l + 1)
    });
    hostile(&base, "graph words huge", "neighbor lists", |b| {
        set_u64(b, GRAPH_WORDS, 1 << 62)
    });
    hostile(&base, "graph words - 1", "neighbor lists", |b| {
        let w = get_u64(b, GRAPH_WORDS);
        set_u64(b, GRAPH_WORDS, w - 1)
    });
}

#[test]
fn hostile_bodies_are_caught_by_validation() {
    let base = hnsw_file();
    let n = get_u64(&base, N) as usize;
    let (rows, levels, lists) = sections(&base);
    let keys = HEADER;
    let bitmap = keys + 8 * n;

    // Two live slots with one key: slots 2 and 3 are live in build().
    hostile(&base, "duplicate live key", "live in two slots", |b| {
        let k = get_u64(b, keys + 16);
        set_u64(b, keys + 24, k)
    });
    hostile(&base, "bitmap padding", "padding", |b| {
        let last = bitmap + n.div_ceil(8) - 1;
        b[last] |= 0x80
    });
    hostile(&base, "NaN row", "f32 rows", |b| {
        set_u32(b, rows + 4, f32::NAN.to_bits())
    });
    hostile(&base, "infinite row", "f32 rows", |b| {
        set_u32(b, rows, f32::INFINITY.to_bits())
    });
    hostile(&base, "level 200", "level", |b| b[levels] = 200);
    hostile(&base, "level above top", "level", |b| {
        let top = get_u32(b, MAX_LEVEL) as u8;
        b[levels + 1] = top + 1
    });
    // Slot 0's level-0 list: a count, then ids.
    let count = get_u32(&base, lists);
    assert!(count >= 1);
    hostile(&base, "neighbor id = n", "links to", |b| {
        set_u32(b, lists + 4, n as u32)
    });
    hostile(&base, "neighbor id u32::MAX", "links to", |b| {
        set_u32(b, lists + 4, u32::MAX)
    });
    hostile(
        &base,
        "neighbor count above 2M",
        "neighbors at level 0",
        |b| set_u32(b, lists, 5),
    );
    hostile(&base, "neighbor count huge", "neighbors at level 0", |b| {
        set_u32(b, lists, u32::MAX)
    });
    // An upper-level link to a node that has no such level.
    let lv = &base[levels..levels + n];
    let upper = (0..n).find(|&s| lv[s] >= 1).unwrap();
    let ground = (0..n).find(|&s| lv[s] == 0).unwrap() as u32;
    let mut at = lists;
    for &level in &lv[..upper] {
        for _ in 0..=level {
            at += 4 + 4 * get_u32(&base, at) as usize;
        }
    }
    at += 4 + 4 * get_u32(&base, at) as usize; // Past `upper`'s level-0 list.
    assert!(
        get_u32(&base, at) >= 1,
        "node {upper} has level-1 neighbors"
    );
    hostile(&base, "upper link to a level-0 node", "links to", |b| {
        set_u32(b, at + 4, ground)
    });
}

#[test]
fn hostile_quantized_rows_are_caught() {
    let i8file = build(
        &IndexOptions::new(6, IndexMetric::L2sq).storage(Storage::I8),
        10,
        &mut Rng(4),
    )
    .to_bytes()
    .unwrap();
    let (rows, _, _) = sections(&i8file);
    let scales = rows + 6 * get_u64(&i8file, N) as usize;
    hostile(&i8file, "i8 -128", "-128", |b| b[rows + 3] = 0x80);
    hostile(&i8file, "negative scale", "scales", |b| {
        set_u32(b, scales, (-1.0f32).to_bits())
    });
    hostile(&i8file, "NaN scale", "scales", |b| {
        set_u32(b, scales + 8, f32::NAN.to_bits())
    });
    let b1file = build(
        &IndexOptions::new(5, IndexMetric::Hamming).storage(Storage::B1),
        10,
        &mut Rng(4),
    )
    .to_bytes()
    .unwrap();
    let (rows, _, _) = sections(&b1file);
    hostile(&b1file, "b1 padding bits", "padding", |b| {
        b[rows + 2] |= 0x20
    });
}

/// Random edits with the checksum recomputed: whatever loads must be safe to use (search,
/// add, remove, compact, save) and everything else is CorruptFile or UnsupportedVersion.
#[test]
fn resealed_random_edits_never_panic() {
    let files = [hnsw_file(), small_files().swap_remove(3)];
    let mut rng = Rng(11);
    let mut loaded = 0;
    for round in 0..3000 {
        let mut b = files[round % 2].clone();
        for _ in 0..1 + rng.next_u64() % 3 {
            let at = rng.next_u64() as usize % (b.len() - 4);
            b[at] = rng.next_u64() as u8;
        }
        reseal(&mut b);
        match Index::from_bytes(&b) {
            Ok(mut index) => {
                loaded += 1;
                let q = vec![0.25f32; index.dims()];
                let hits = index.search(&q, 5).unwrap();
                assert!(hits.len() <= 5);
                let _ = index.add(1 << 40, &q);
                if let Some(h) = hits.first() {
                    index.remove(h.key).unwrap();
                }
                index.compact().unwrap();
                index.search(&q, 3).unwrap();
                Index::from_bytes(&index.to_bytes().unwrap()).unwrap();
            }
            Err(Error::CorruptFile(_) | Error::UnsupportedVersion(_)) => {}
            Err(other) => panic!("round {round}: {other:?}"),
        }
    }
    // Edits of keys and vector values are legal, so some of the files must have loaded.
    assert!(loaded > 0);
}

/// v1 files written by an independent implementation of FORMAT.md (a Python script, not
/// the Rust writer): pinned so that every later release keeps loading today's files.
const PINNED_EXACT_L2_F32: &str = "465649580100000003000000010000000000000000000000000000000000000000000000000000000000000000000000000000000000000004000000000000000300000000000000ffffffff0000000000000000000000000a0000000000000014000000000000001e000000000000001400000000000000020000803f0000000000000000000000000000803f0000000000000000000000000000803f00000000000000400000000099484081";
const PINNED_HNSW_HAMMING_B1: &str = "46564958010000000a0000000300000002000000010000000000000002000000080000000400000007000000000000004674df7d2c6da6da0300000000000000030000000000000000000000010000000a0000000000000001000000000000000200000000000000030000000000000000070238000f02010000020000000100000002000000000000000200000000000000020000000200000000000000010000006ce2e839";

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn pinned_v1_files_load_and_save_identically() {
    // Exact, squared L2, f32: keys 10, 20 (removed, then re-added by a replace), 30.
    let bytes = unhex(PINNED_EXACT_L2_F32);
    let mut index = Index::from_bytes(&bytes).unwrap();
    assert_eq!(
        index.options(),
        &IndexOptions::new(3, IndexMetric::L2sq).exact()
    );
    assert_eq!(index.len(), 3);
    assert_eq!(index.get(20).unwrap(), vec![0.0, 2.0, 0.0]);
    let hits = index.search(&[0.0, 1.9, 0.0], 10).unwrap();
    let keys: Vec<u64> = hits.iter().map(|h| h.key).collect();
    assert_eq!(keys, vec![20, 10, 30]);
    assert!((hits[0].distance - 0.01).abs() < 1e-6, "{hits:?}");
    assert!((hits[1].distance - 4.61).abs() < 1e-5, "{hits:?}");
    assert_eq!(index.to_bytes().unwrap(), bytes);
    index.add(40, &[5.0, 5.0, 5.0]).unwrap();
    assert_eq!(index.search(&[5.0, 5.0, 4.0], 1).unwrap()[0].key, 40);

    // HNSW (m 2), hamming, b1 over 10 dims: three nodes, node 0 on level 1.
    let bytes = unhex(PINNED_HNSW_HAMMING_B1);
    let mut index = Index::from_bytes(&bytes).unwrap();
    assert_eq!(
        index.options(),
        &IndexOptions::new(10, IndexMetric::Hamming)
            .storage(Storage::B1)
            .hnsw(HnswParams {
                m: 2,
                ef_construction: 8,
                ef_search: 4,
                seed: 7
            })
    );
    let q = [1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, 1.0];
    let hits = index.search(&q, 3).unwrap();
    assert_eq!(
        hits,
        vec![
            Match {
                key: 1,
                distance: 0.0
            },
            Match {
                key: 3,
                distance: 1.0
            },
            Match {
                key: 2,
                distance: 7.0
            },
        ]
    );
    assert_eq!(index.to_bytes().unwrap(), bytes);
    index.add(4, &[1.0; 10]).unwrap();
    assert_eq!(index.search(&[1.0; 10], 1).unwrap()[0].key, 4);
}

// ---- version 2: the model id of a text index ----

const MODEL_ID: usize = HEADER;
const MODEL: u64 = 0x0123_4567_89ab_cdef;

/// Every kind x storage x metric with a model id: written as v2 (v1 + the id), reloads the
/// same index with the same id, re-saves the same bytes; without an id it is still v1.
/// (f16 and bf16 rows are always v3, which carries the id behind a flag: index_half.rs.)
#[test]
fn v2_model_id_round_trips_for_every_kind() {
    for (i, options) in every_options(6).into_iter().enumerate() {
        if matches!(options.storage, Storage::F16 | Storage::BF16) {
            continue;
        }
        let mut index = build(&options, 40, &mut Rng(100 + i as u64));
        let v1 = index.to_bytes().unwrap();
        assert_eq!(get_u32(&v1, VERSION), 1, "no id: v1");
        index.set_model_id(Some(MODEL)).unwrap();
        let v2 = index.to_bytes().unwrap();
        assert_eq!(get_u32(&v2, VERSION), 2);
        assert_eq!(v2.len(), v1.len() + 8);
        assert_eq!(get_u64(&v2, MODEL_ID), MODEL);
        // The rest is v1's layout, shifted by the 8 bytes of the id.
        assert_eq!(&v2[8..HEADER], &v1[8..HEADER]);
        assert_eq!(&v2[HEADER + 8..v2.len() - 4], &v1[HEADER..v1.len() - 4]);
        let loaded = Index::from_bytes(&v2).unwrap();
        assert_eq!(loaded.model_id(), Some(MODEL));
        assert_eq!(loaded.to_bytes().unwrap(), v2);
        let queries = Rng(7).vecs(3, 6);
        assert_same_answers(&index, &loaded, &queries, &format!("{options:?}"));
        assert_eq!(Index::from_bytes(&v1).unwrap().model_id(), None);
    }
}

/// Any id value is valid (0 and all ones included), on an empty index too (the smallest
/// v2 file: 100 bytes), and survives clear and compact.
#[test]
fn v2_edge_values_empty_clear_and_compact() {
    for id in [0, 1, u64::MAX] {
        let mut index = Index::new(IndexOptions::new(4, IndexMetric::Cosine)).unwrap();
        index.set_model_id(Some(id)).unwrap();
        let b = index.to_bytes().unwrap();
        assert_eq!(b.len(), 100);
        assert_eq!(Index::from_bytes(&b).unwrap().model_id(), Some(id));
    }
    let options = IndexOptions::new(4, IndexMetric::L2sq).hnsw(params());
    let mut index = build(&options, 30, &mut Rng(5));
    index.set_model_id(Some(MODEL)).unwrap();
    index.compact().unwrap();
    assert_eq!(index.model_id(), Some(MODEL));
    let reloaded = Index::from_bytes(&index.to_bytes().unwrap()).unwrap();
    assert_eq!(reloaded.model_id(), Some(MODEL));
    index.clear();
    assert_eq!(index.model_id(), Some(MODEL));
    assert_eq!(get_u32(&index.to_bytes().unwrap(), VERSION), 2);
}

/// An index that holds vectors of one model refuses another model's id (unchanged), takes
/// the same id again, and any id once empty; an index without an id adopts one.
#[test]
fn set_model_id_rules() {
    let mut index = Index::new(IndexOptions::new(2, IndexMetric::Cosine)).unwrap();
    index.set_model_id(Some(1)).unwrap();
    index.set_model_id(Some(2)).unwrap(); // empty: any id
    index.add(1, &[1.0, 0.0]).unwrap();
    index.set_model_id(Some(2)).unwrap(); // same id
    let e = index.set_model_id(Some(3)).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidArgument(m) if m.contains("0000000000000002") && m.contains("0000000000000003")),
        "{e}"
    );
    assert_eq!(index.model_id(), Some(2));
    index.set_model_id(None).unwrap(); // dropping the id (no more checks) is always allowed
    index.set_model_id(Some(2)).unwrap();
    index.remove(1).unwrap();
    // A removed slot still holds the old model's vector until compacted.
    assert!(index.set_model_id(Some(3)).is_err());
    index.compact().unwrap();
    index.set_model_id(Some(3)).unwrap();
    let mut plain = Index::new(IndexOptions::new(2, IndexMetric::Cosine)).unwrap();
    plain.add(1, &[1.0, 0.0]).unwrap();
    plain.set_model_id(Some(9)).unwrap(); // adopts: plain vectors declared to be model 9's
    assert_eq!(plain.model_id(), Some(9));
}

/// A damaged v2 file: a changed id byte fails the checksum; every truncation is corrupt; a
/// v1 file relabeled v2 (or the reverse), checksum recomputed, does not parse.
#[test]
fn v2_corrupt_id_field_and_relabeled_versions() {
    let options = IndexOptions::new(3, IndexMetric::L2sq).hnsw(params());
    let mut index = build(&options, 12, &mut Rng(11));
    let v1 = index.to_bytes().unwrap();
    index.set_model_id(Some(MODEL)).unwrap();
    let v2 = index.to_bytes().unwrap();
    for at in MODEL_ID..MODEL_ID + 8 {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut b = v2.clone();
            b[at] ^= mask;
            assert_corrupt(Index::from_bytes(&b), &format!("id byte {at} ^ {mask:#x}"));
            // With the checksum recomputed the id is simply another model's.
            reseal(&mut b);
            let other = Index::from_bytes(&b).unwrap();
            assert_ne!(other.model_id(), Some(MODEL));
        }
    }
    for len in 0..v2.len() {
        assert_corrupt(Index::from_bytes(&v2[..len]), &format!("v2 length {len}"));
    }
    let mut b = v1.clone();
    set_u32(&mut b, VERSION, 2);
    reseal(&mut b);
    assert_corrupt(Index::from_bytes(&b), "v1 relabeled v2");
    let mut b = v2.clone();
    set_u32(&mut b, VERSION, 1);
    reseal(&mut b);
    assert_corrupt(Index::from_bytes(&b), "v2 relabeled v1");
    // v3 is for f16 and bf16 rows only.
    let mut b = v2.clone();
    set_u32(&mut b, VERSION, 3);
    reseal(&mut b);
    assert_corrupt(Index::from_bytes(&b), "v2 relabeled v3");
    set_u32(&mut b, VERSION, 4);
    reseal(&mut b);
    assert_eq!(err_of(Index::from_bytes(&b)), Error::UnsupportedVersion(4));
}

/// A v2 file written from FORMAT.md by hand (the pinned v1 exact file plus an id): loads
/// with its id, searches, and saves the same bytes.
#[test]
fn hand_made_v2_file_loads() {
    let v1 = unhex(PINNED_EXACT_L2_F32);
    let mut b = Vec::new();
    b.extend_from_slice(&v1[..4]);
    b.extend_from_slice(&2u32.to_le_bytes());
    b.extend_from_slice(&v1[8..HEADER]);
    b.extend_from_slice(&MODEL.to_le_bytes());
    b.extend_from_slice(&v1[HEADER..v1.len() - 4]);
    let sum = crc32c(&b);
    b.extend_from_slice(&sum.to_le_bytes());
    let index = Index::from_bytes(&b).unwrap();
    assert_eq!(index.model_id(), Some(MODEL));
    assert_eq!(index.len(), 3);
    assert_eq!(index.search(&[0.0, 1.9, 0.0], 1).unwrap()[0].key, 20);
    assert_eq!(index.to_bytes().unwrap(), b);
}
