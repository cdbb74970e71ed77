//! Writes the committed seed corpora (`corpus/<target>/`): `cargo run --example seeds` from
//! fuzz/. Small on purpose: libFuzzer grows its own corpus from these while it runs.

use std::fs;
use std::path::Path;

use ferrovec_core::index::{HnswParams, Index, IndexMetric, IndexOptions, Storage};

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    fs::create_dir_all(&dir).expect("corpus dir");
    fs::write(dir.join(name), bytes).expect("write a seed");
}

fn index(options: IndexOptions, n: u64) -> Vec<u8> {
    let dims = options.dims;
    let mut ix = Index::new(options).expect("valid options");
    for key in 0..n {
        let v: Vec<f32> = (0..dims)
            .map(|i| ((key as usize * 7 + i * 3) % 11) as f32 - 5.0)
            .collect();
        ix.add(key * 3 + 1, &v).expect("add");
    }
    if n > 2 {
        ix.remove(4).expect("key 4 exists");
    }
    ix.to_bytes().expect("save")
}

fn main() {
    let hnsw = HnswParams {
        m: 4,
        ef_construction: 16,
        ef_search: 8,
        seed: 7,
    };
    let seeds = [
        (
            "exact_f32_cosine",
            index(IndexOptions::new(4, IndexMetric::Cosine).exact(), 6),
        ),
        (
            "exact_empty_l2",
            index(IndexOptions::new(3, IndexMetric::L2sq).exact(), 0),
        ),
        (
            "hnsw_f32_l2",
            index(IndexOptions::new(3, IndexMetric::L2sq).hnsw(hnsw), 12),
        ),
        (
            "hnsw_i8_ip",
            index(
                IndexOptions::new(5, IndexMetric::InnerProduct)
                    .storage(Storage::I8)
                    .hnsw(hnsw),
                9,
            ),
        ),
        (
            "exact_b1_hamming",
            index(
                IndexOptions::new(16, IndexMetric::Hamming)
                    .storage(Storage::B1)
                    .exact(),
                5,
            ),
        ),
    ];
    for (name, bytes) in &seeds {
        write("index_load", name, bytes);
    }

    let mm = [
        ("general", "%%MatrixMarket matrix coordinate real general\n% c\n3 3 4\n1 1 4.0\n2 2 5\n3 1 -1e-3\n3 3 2.5\n"),
        ("symmetric", "%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n1 1 2\n2 1 -1\n3 3 2\n"),
        ("skew_integer", "%%MatrixMarket matrix coordinate integer skew-symmetric\n2 2 1\n2 1 3\n"),
        ("pattern", "%%MatrixMarket matrix coordinate pattern general\n2 3 2\n1 3\n2 1\n"),
        ("crlf_empty", "%%MatrixMarket matrix coordinate real general\r\n0 0 0\r\n"),
    ];
    for (name, text) in mm {
        write("matrix_market", name, text.as_bytes());
    }
    // The C API target reads Matrix Market text too (op 11).
    let mut capi_mm = vec![11u8, 120];
    capi_mm.extend_from_slice(mm[0].1.as_bytes());
    capi_mm.extend_from_slice(&[13, 0, 14, 0, 3, 1, 1, 1, 3, 3, 15, 0, 3, 3, 3, 3, 12, 0]);
    write("capi", "matrix_market_solve", &capi_mm);

    // CSR target: kind, n_rows, n_cols, nnz, [indptr], indices, values (see sparse::csr).
    let csr_seeds: [(&str, Vec<u8>); 5] = [
        (
            "from_csr",
            vec![
                0, 3, 3, 4, 0, 1, 2, 4, 0, 1, 1, 2, 100, 0, 120, 0, 130, 0, 140, 0,
            ],
        ),
        (
            "unsorted",
            vec![1, 2, 3, 3, 0, 2, 3, 2, 0, 1, 9, 9, 9, 9, 9, 9],
        ),
        (
            "triplets",
            vec![
                2, 3, 3, 3, 0, 1, 2, 3, 0, 1, 1, 50, 0, 60, 0, 70, 0, 0, 1, 0,
            ],
        ),
        (
            "edges_weighted",
            vec![
                0x43, 4, 4, 3, 0, 0, 0, 0, 3, 1, 2, 3, 200, 1, 200, 2, 200, 3, 0, 1, 2,
            ],
        ),
        ("graph_csr", vec![4, 3, 3, 3, 0, 1, 2, 3, 1, 2, 0]),
    ];
    for (name, bytes) in csr_seeds {
        write("csr", name, &bytes);
    }

    // C API: op bytes (see capi.rs): new index, adds, search, save, load, remove, compact,
    // free twice (the second is stale); matrices and graphs.
    let capi_seeds: [(&str, Vec<u8>); 4] = [
        (
            "index_roundtrip",
            vec![
                0, 4, 1, 0, 0, 4, 16, 8, 1, 0, 0, 0, 0, 0, 0, 0, //
                2, 0, 4, 130, 140, 150, 160, 1, 0, //
                2, 0, 4, 131, 120, 150, 161, 2, 0, //
                3, 0, 4, 130, 140, 150, 160, 5, //
                6, 0, 7, 0, 1, 4, 0, 5, 0, 1, 0, 1, 14, //
            ],
        ),
        (
            "hnsw_ops",
            vec![
                0, 3, 0, 0, 1, 4, 8, 8, 3, 0, 0, 0, 0, 0, 0, 0, //
                2, 0, 3, 130, 140, 150, 1, 0, 2, 0, 3, 131, 141, 151, 2, 0, //
                2, 0, 3, 132, 142, 152, 3, 0, 3, 0, 3, 130, 140, 150, 3, //
                4, 0, 2, 5, 0, 8, 0, 3, 0, 3, 130, 140, 150, 3,
            ],
        ),
        (
            "csr_cg",
            vec![
                9, 3, 3, 3, 1, 0, 1, 2, 3, 0, 1, 2, 160, 0, 160, 0, 160, 0, 1, //
                15, 0, 3, 140, 0, 140, 0, 140, 0, 3, 20, 1, 1, //
                17, 0, 3, 140, 0, 140, 0, 140, 0, 3, 20, 0, 1, 13, 0, 12, 0, 12, 14,
            ],
        ),
        (
            "graph_push",
            vec![
                18, 4, 4, 0, 1, 2, 3, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, //
                23, 0, 21, 0, 1, 20, 1, 0, 5, 22, 0, 1, 200, 0, 8, //
                20, 0, 20, 14, 23, 14,
            ],
        ),
    ];
    for (name, bytes) in capi_seeds {
        write("capi", name, &bytes);
    }

    // wasm ABI: op bytes pick exports by sorted index; 0xF0.. writes memory.
    let abi_seeds: [(&str, Vec<u8>); 3] = [
        ("alloc_free", vec![1, 1, 32, 6, 0, 0, 2, 1, 0]),
        (
            "index_new_add",
            vec![
                18, 1, 4, 1, 1, 1, 2, 1, 0, 1, 0, 1, 8, 1, 8, 1, 8, 1, 1, 9, 0, 2, 3, 0, 5,
            ],
        ),
        (
            "write_and_load",
            vec![
                1, 1, 100, 0xF0, 2, 40, b'F', b'V', b'I', b'X', 1, 0, 0, 0, 17, 0, 2, 0, 1, 40, 1,
                0,
            ],
        ),
    ];
    for (name, bytes) in abi_seeds {
        write("wasm_abi", name, &bytes);
    }
}
