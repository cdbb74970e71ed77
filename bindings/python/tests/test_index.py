"""Index through the Python layer on the Native and Interpreted backends: results against a
numpy brute force, HNSW recall, allow-lists, batches, duplicates, remove/compact, bad input
leaving the index unchanged, save/load (bytes and files, across backends), close()."""

import threading

import numpy as np
import pytest

import ferrovec
from ferrovec import BackendKind, Engine, FerrovecError, Index, Match
from conftest import assert_matches_agree, load_golden, require

DIMS = 16


def data(n=300, dims=DIMS, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, dims), dtype=np.float32)


def brute_force(rows, keys, q, k, metric):
    rows64, q64 = rows.astype(np.float64), q.astype(np.float64)
    if metric == "l2sq":
        d = ((rows64 - q64) ** 2).sum(axis=1)
    elif metric == "cosine":
        d = 1 - rows64 @ q64 / (np.linalg.norm(rows64, axis=1) * np.linalg.norm(q64))
    else:  # ip
        d = 1 - rows64 @ q64
    order = sorted(range(len(keys)), key=lambda i: (d[i], keys[i]))[:k]
    return [keys[i] for i in order], [d[i] for i in order]


def filled(engine, metric="l2sq", n=300, hnsw=None, storage="f32"):
    index = engine.index(DIMS, metric, storage, hnsw=hnsw)
    rows = data(n)
    keys = np.arange(1000, 1000 + 3 * n, 3, dtype=np.uint64)
    index.add_batch(keys, rows)
    return index, rows, [int(k) for k in keys]


def state(index):
    q = data(3, seed=77)
    return len(index), [index.search(row, 7) for row in q], list(index.get(1000))


@pytest.mark.parametrize("metric", ["l2sq", "cosine", "ip"])
def test_exact_search_matches_brute_force(index_engine, metric):
    index, rows, keys = filled(index_engine, metric)
    assert index.backend == index_engine.kind
    for q in data(10, seed=5):
        got = index.search(q, k=10)
        want_keys, want_d = brute_force(rows, keys, q, 10, metric)
        assert [m.key for m in got] == want_keys
        np.testing.assert_allclose([m.distance for m in got], want_d, rtol=1e-4, atol=1e-4)
        assert all(isinstance(m, Match) for m in got)


def test_hnsw_recall_against_exact(index_engine):
    index, rows, keys = filled(index_engine, "cosine", n=1500, hnsw={"m": 12, "seed": 7})
    assert index.config.hnsw.m == 12 and index.config.hnsw.ef_construction == 128
    hits = total = 0
    for q in data(40, seed=9):
        want, _ = brute_force(rows, keys, q, 10, "cosine")
        got = [m.key for m in index.search(q, 10)]
        hits += len(set(got) & set(want))
        total += 10
    assert hits / total >= 0.9, hits / total
    index.set_ef_search(256)
    with index_engine.index(DIMS) as exact, pytest.raises(FerrovecError.InvalidArgument):
        exact.set_ef_search(10)


@pytest.mark.parametrize("hnsw", [None, True])
def test_allow_list(index_engine, hnsw):
    index, rows, keys = filled(index_engine, hnsw=hnsw)
    allowed = keys[::7] + [999_999]  # unknown keys are ignored
    q = data(1, seed=3)[0]
    got = index.search(q, 5, allowed=np.array(allowed, dtype=np.uint64))
    idx = list(range(0, len(keys), 7))
    want, _ = brute_force(rows[idx], [keys[i] for i in idx], q, 5, "l2sq")
    assert [m.key for m in got] == want
    # A list of ints works the same; a filter that rejects everything returns nothing.
    assert index.search(q, 5, allowed=allowed) == got
    assert index.search(q, 5, allowed=[]) == []


def test_search_batch_matches_equals_single_searches(index_engine):
    index, _, _ = filled(index_engine, hnsw=True)
    queries = data(6, seed=4)
    batch = index.search_batch_matches(queries, 4)
    assert batch == [index.search(q, 4) for q in queries]


def rows_of(result):
    """BatchMatches -> lists of Match (padding dropped), through its own accessor."""
    return [result.matches(i) for i in range(len(result.counts))]


@pytest.mark.parametrize("hnsw", [None, True])
def test_search_batch_arrays_shapes_dtypes_and_agreement(index_engine, hnsw):
    index, _, _ = filled(index_engine, hnsw=hnsw)
    queries = data(7, seed=4)
    res = index.search_batch(queries, 5)
    assert isinstance(res, ferrovec.BatchMatches)
    keys, dists, counts = res
    assert isinstance(keys, np.ndarray) and keys.dtype == np.uint64 and keys.shape == (7, 5)
    assert isinstance(dists, np.ndarray) and dists.dtype == np.float32 and dists.shape == (7, 5)
    assert isinstance(counts, np.ndarray) and counts.dtype == np.uint32 and counts.shape == (7,)
    assert keys.flags.writeable and dists.flags.c_contiguous
    assert (counts == 5).all()
    # The same bits as the single-query search on this backend.
    for i, q in enumerate(queries):
        single = index.search(q, 5)
        assert keys[i].tolist() == [m.key for m in single]
        assert dists[i].tolist() == [np.float32(m.distance) for m in single]
    assert rows_of(res) == index.search_batch_matches(queries, 5)
    # A flat list of n*dims floats and bytes work too.
    flat = index.search_batch(queries.tobytes(), 5)
    np.testing.assert_array_equal(flat.keys, keys)


def test_search_batch_pads_when_fewer_than_k(index_engine):
    with index_engine.index(DIMS, "l2sq", hnsw=True) as index:
        rows = data(3)
        index.add_batch([10, 20, 30], rows)
        index.remove(20)  # deleted keys never appear
        keys, dists, counts = index.search_batch(rows, 4)
        assert keys.shape == (3, 4) and counts.tolist() == [2, 2, 2]
        assert (keys[:, 2:] == ferrovec.NO_KEY).all() and (keys.view(np.int64)[:, 2:] == -1).all()
        assert np.isinf(dists[:, 2:]).all() and (dists[:, 2:] > 0).all()
        assert set(keys[:, :2].ravel().tolist()) == {10, 30}
        assert keys[0, 0] == 10 and keys[2, 0] == 30
        assert rows_of(index.search_batch(rows, 4)) == [index.search(q, 4) for q in rows]
    with index_engine.index(DIMS) as empty:
        keys, dists, counts = empty.search_batch(data(2), 3)
        assert keys.shape == (2, 3) and (keys == ferrovec.NO_KEY).all()
        assert np.isinf(dists).all() and counts.tolist() == [0, 0]
        assert empty.search_batch(np.zeros((0, DIMS), np.float32), 3).keys.shape == (0, 3)
    with pytest.raises(FerrovecError.InvalidArgument):
        index_engine.index(DIMS).search_batch(data(2), 0)


def test_search_batch_agrees_across_backends():
    native, interp = Engine.native(), Engine.interpreted()
    index, _, _ = filled(native, "cosine", hnsw=True)
    queries = data(9, seed=6)
    want = index.search_batch(queries, 6)
    other = Index.from_bytes(index.to_bytes(), engine=interp)
    got = other.search_batch(queries, 6)
    assert_matches_agree(rows_of(got), rows_of(want))
    assert_matches_agree(rows_of(got), other.search_batch_matches(queries, 6))


def test_search_batch_builds_no_object_per_match():
    import tracemalloc

    index = Index(DIMS, "l2sq", hnsw=True)
    index.add_batch(np.arange(2000, dtype=np.uint64), data(2000))
    queries = data(1000, seed=3)
    index.search_batch(queries, 10)  # warm up caches of the generated module
    tracemalloc.start()
    res = index.search_batch(queries, 10)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # 10,000 matches: the arrays (120 KB + counts) and their flat buffers, nothing per match
    # (a Match tuple with its int and float is ~130 bytes: 1.3 MB).
    assert isinstance(res.keys, np.ndarray) and res.keys.shape == (1000, 10)
    assert peak < 600_000, f"peak Python allocation {peak} bytes for 10,000 matches"


def test_search_batch_without_numpy(monkeypatch):
    from ferrovec import _index

    index = Index(2, "l2sq")
    index.add_batch([1, 2], [0, 0, 1, 0])
    monkeypatch.setattr(_index, "_np", None)
    keys, dists, counts = index.search_batch([0.9, 0, 0, 0], 3)
    assert keys == [[2, 1, ferrovec.NO_KEY], [1, 2, ferrovec.NO_KEY]]
    assert dists[0][2] == float("inf") and counts == [2, 2]


def test_duplicates_remove_compact_get(index_engine):
    index, rows, keys = filled(index_engine, n=50)
    np.testing.assert_array_equal(index.get(keys[3]), rows[3])
    with pytest.raises(FerrovecError.DuplicateKey, match=str(keys[3])):
        index.add(keys[3], rows[0])
    np.testing.assert_array_equal(index.get(keys[3]), rows[3])
    index.add(keys[3], rows[0], replace=True)
    np.testing.assert_array_equal(index.get(keys[3]), rows[0])
    assert len(index) == 50
    index.remove(keys[4])
    assert keys[4] not in index and keys[5] in index and len(index) == 49
    with pytest.raises(FerrovecError.KeyNotFound):
        index.remove(keys[4])
    with pytest.raises(FerrovecError.KeyNotFound):
        index.get(keys[4])
    index.compact()
    assert len(index) == 49
    assert keys[4] not in [m.key for m in index.search(rows[4], 49)]
    index.reserve(1000)
    assert index.capacity >= 1049
    index.clear()
    assert len(index) == 0 and index.search(rows[0], 3) == []


@pytest.mark.parametrize("hnsw", [None, True])
def test_bad_input_leaves_index_unchanged(index_engine, hnsw):
    index, rows, keys = filled(index_engine, n=60, hnsw=hnsw)
    before = state(index)
    bad = [
        (FerrovecError.DimensionMismatch, lambda: index.add(1, np.ones(DIMS - 1, np.float32))),
        (FerrovecError.InvalidArgument, lambda: index.add(1, [float("nan")] * DIMS)),
        (FerrovecError.InvalidArgument, lambda: index.add(1, b"\0" * 7)),
        (FerrovecError.DuplicateKey, lambda: index.add_batch([1, 2, keys[0]], data(3))),
        (FerrovecError.DuplicateKey, lambda: index.add_batch([1, 1], data(2))),
        (FerrovecError.DimensionMismatch, lambda: index.add_batch([1, 2], data(1))),
        (FerrovecError.InvalidArgument, lambda: index.search(rows[0], 0)),
        (FerrovecError.DimensionMismatch, lambda: index.search(rows[0][:3], 3)),
        (FerrovecError.InvalidArgument, lambda: index.search([float("inf")] * DIMS, 3)),
        (FerrovecError.KeyNotFound, lambda: index.remove(5)),
    ]
    for err, call in bad:
        with pytest.raises(err) as info:
            call()
        assert str(info.value), "errors carry ferrovec's message"
        assert state(index) == before, f"{err.__name__} changed the index"
    # k > len returns everything (not an error); an empty index returns nothing.
    assert len(index.search(rows[0], 1000)) == 60
    with index_engine.index(DIMS) as empty:
        assert empty.search(rows[0], 5) == []


def test_unsupported_options(index_engine):
    with pytest.raises(FerrovecError.InvalidArgument, match="metric/storage"):
        index_engine.index(DIMS, "hamming", "f32")
    with pytest.raises(FerrovecError.InvalidArgument, match="dims"):
        index_engine.index(0)
    with pytest.raises(FerrovecError.InvalidArgument, match="m must"):
        index_engine.index(DIMS, hnsw={"m": 1})
    with pytest.raises(ValueError, match="unknown metric"):
        index_engine.index(DIMS, "manhattan")


def test_quantized_storages(index_engine):
    rows = data(200)
    keys = list(range(200))
    with index_engine.index(DIMS, "cosine", "i8") as i8:
        i8.add_batch(keys, rows)
        # int8 rows: the nearest neighbor of a stored row is itself.
        assert [i8.search(rows[i], 1)[0].key for i in range(0, 200, 20)] == list(range(0, 200, 20))
        np.testing.assert_allclose(i8.get(5), rows[5] / np.linalg.norm(rows[5]), atol=0.02)
    with index_engine.index(DIMS, "hamming", "b1") as b1:
        b1.add_batch(keys, rows)
        assert b1.search(rows[17], 1)[0] == Match(17, 0.0)
        np.testing.assert_array_equal(b1.get(17), (rows[17] > 0).astype(np.float32))


def half_round(x, storage):
    """What an f16 / bf16 row holds for float32 `x`: rounded to nearest even (numpy's float16
    conversion; bf16 as the top 16 bits of the float32 after adding half an ulp, ties to
    even)."""
    x = np.asarray(x, dtype=np.float32)
    if storage == "f16":
        return x.astype(np.float16).astype(np.float32)
    bits = x.view(np.uint32).astype(np.uint64)
    bits = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return bits.astype(np.uint32).view(np.float32)


def test_half_round_reference():
    # Ties go to even: 1 + 2^-11 -> 1 (f16), 1 + 3 * 2^-11 -> 1 + 2^-9; 1 + 2^-8 -> 1 and
    # 1 + 3 * 2^-8 -> 1 + 2^-6 (bf16).
    f16 = half_round([1 + 2**-11, 1 + 3 * 2**-11, 65504, 300.7], "f16")
    np.testing.assert_array_equal(f16, np.array([1, 1 + 2**-9, 65504, 300.75], np.float32))
    bf16 = half_round([1 + 2**-8, 1 + 3 * 2**-8, 300.7, -0.5], "bf16")
    np.testing.assert_array_equal(bf16, np.array([1, 1 + 2**-6, 300, -0.5], np.float32))


@pytest.mark.parametrize("storage", ["f16", "bf16"])
def test_half_storages(index_engine, storage):
    """f16 / bf16: get returns the rounded values, exact search ranks the rounded rows, HNSW
    finds them, out-of-range values are refused with nothing added, and the files (format
    version 3) load on both backends and save back to the same bytes."""
    rows = data(200) * 100
    keys = list(range(200))
    stored = half_round(rows, storage)
    assert (stored != rows).mean() > 0.5, "the inputs round"
    queries = data(6, seed=4) * 100
    with index_engine.index(DIMS, "l2sq", storage) as index:
        assert index.config.storage == getattr(ferrovec.Storage, storage.upper())
        assert f"storage={storage}" in repr(index)
        index.add_batch(keys, rows)
        np.testing.assert_array_equal(index.get(17), stored[17])
        for q in queries:
            got = index.search(q, 10)
            want_keys, want_d = brute_force(stored, keys, q, 10, "l2sq")
            assert [m.key for m in got] == want_keys
            np.testing.assert_allclose([m.distance for m in got], want_d, rtol=1e-5)
        blob = index.to_bytes()
        assert int.from_bytes(blob[4:8], "little") == 3, "format version 3"

        big = 65520.0 if storage == "f16" else -3.4e38
        bad = np.zeros(DIMS, np.float32)
        bad[5] = big
        with pytest.raises(FerrovecError.InvalidArgument, match=f"out of {storage} range"):
            index.add(1000, bad)
        with pytest.raises(FerrovecError.InvalidArgument, match="vector 1 .*out of"):
            index.add_batch([1000, 1001], np.stack([rows[0], bad]))
        assert len(index) == 200 and 1000 not in index
        assert index.to_bytes() == blob
        if storage == "f16":
            # The largest f16 and what rounds to it are kept.
            index.add(2000, np.full(DIMS, 65519.0, np.float32))
            np.testing.assert_array_equal(index.get(2000), np.full(DIMS, 65504.0, np.float32))

    for engine in (Engine.native(), Engine.interpreted()):
        with Index.from_bytes(blob, engine=engine) as loaded:
            assert loaded.config.storage == getattr(ferrovec.Storage, storage.upper())
            np.testing.assert_array_equal(loaded.get(17), stored[17])
            want_keys, _ = brute_force(stored, keys, queries[0], 10, "l2sq")
            assert [m.key for m in loaded.search(queries[0], 10)] == want_keys
            assert loaded.to_bytes() == blob

    # Cosine keeps the unit vector, rounded; HNSW finds each stored row first.
    with index_engine.index(DIMS, "cosine", storage, hnsw=True) as cos:
        cos.add_batch(keys, rows)
        unit = rows[5] / np.linalg.norm(rows[5].astype(np.float64))
        np.testing.assert_allclose(cos.get(5), unit, atol=2e-3 if storage == "f16" else 8e-3)
        assert [cos.search(rows[i], 1)[0].key for i in range(0, 200, 20)] == list(range(0, 200, 20))


def test_save_and_load_across_backends(tmp_path):
    native = Engine.native()
    interp = Engine.interpreted()
    queries = data(5, seed=8)
    for hnsw in (None, True):
        index, _, _ = filled(native, "cosine", hnsw=hnsw)
        want = index.search_batch_matches(queries, 5)
        blob = index.to_bytes()
        assert blob[:4] == b"FVIX"
        for engine in (native, interp):
            loaded = Index.from_bytes(blob, engine=engine)
            assert loaded.backend == engine.kind
            got = loaded.search_batch_matches(queries, 5)
            if engine is native:
                # Same backend, same kernels: the same bits.
                assert got == want
            else:
                assert_matches_agree(got, want)
            assert loaded.config == index.config
            # ... and back: the interpreted index saves the same bytes.
            assert loaded.to_bytes() == blob
        path = tmp_path / "index.fvix"
        index.save(path)
        with Index.load(path, engine=native) as from_file:
            assert from_file.search_batch_matches(queries, 5) == want
        with Index.load(path, engine=interp) as from_file:
            assert_matches_agree(from_file.search_batch_matches(queries, 5), want)
    with pytest.raises(FerrovecError.CorruptFile):
        Index.from_bytes(blob[:-1])
    flipped = bytearray(blob)
    flipped[len(flipped) // 2] ^= 0x40
    for engine in (native, interp):
        with pytest.raises(FerrovecError.CorruptFile):
            Index.from_bytes(bytes(flipped), engine=engine)
    with pytest.raises(FerrovecError.InvalidArgument, match="missing"):
        Index.load(tmp_path / "missing" / "x.fvix")


def test_close_and_context_manager(index_engine):
    with index_engine.index(4, "l2sq") as index:
        index.add(1, [1, 2, 3, 4])
        assert "len=1" in repr(index)
    assert index.closed
    with pytest.raises(FerrovecError.InvalidHandle):
        index.search([1, 2, 3, 4], 1)
    index.close()
    # Indexes outlive their engine.
    engine = Engine.interpreted() if index_engine.kind == BackendKind.INTERPRETED else Engine.native()
    index = engine.index(2)
    engine.close()
    index.add(1, [1, 0])
    assert index.search([1, 0], 1)[0].key == 1
    with pytest.raises(FerrovecError.InvalidHandle):
        engine.index(2)


def test_numpy_inputs_are_not_copied():
    import tracemalloc

    index = Index(384, "l2sq")
    rows = data(2000, dims=384)
    keys = np.arange(2000, dtype=np.uint64)
    tracemalloc.start()
    index.add_batch(keys, rows)
    index.search(rows[0], 10)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < rows.nbytes // 10, f"peak Python allocation {peak} bytes for {rows.nbytes} of rows"
    # Non-contiguous and float64 inputs are converted, with the same result.
    assert index.search(rows[0].astype(np.float64), 3) == index.search(rows[0], 3)


def test_concurrent_searches_while_adding():
    index = Index(DIMS, "l2sq", hnsw=True)
    base = data(500)
    index.add_batch(range(500), base)
    errors = []

    def searcher():
        try:
            for q in data(50, seed=threading.get_ident() % 1000):
                found = index.search(q, 5)
                assert len(found) == 5 and all(0 <= m.key < 1000 for m in found)
        except Exception as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for t in threads:
        t.start()
    extra = data(500, seed=2)
    for i in range(500):
        index.add(500 + i, extra[i])
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(index) == 1000


def test_default_engine_is_native():
    assert ferrovec.default_engine().kind == BackendKind.NATIVE
    assert Index(3).backend == BackendKind.NATIVE


GOLDEN_INDEX = load_golden("index.json")
METRIC_NAMES = {"l2sq": "l2sq", "ip": "ip", "cosine": "cosine", "hamming": "hamming", "jaccard": "jaccard"}


@pytest.mark.parametrize("case", (GOLDEN_INDEX or {"cases": []})["cases"], ids=lambda c: c["name"])
def test_golden_index_cases(index_engine, case):
    """tests/golden/index.json: exact search gives exactly the expected keys (distances within
    tol) after the inserts and removals, and HNSW reaches the case's recall."""
    dims, k = case["dims"], case["k"]
    keys = np.array(case["keys"], dtype=np.uint64)
    vectors = np.array(case["vectors"], dtype=np.float32).reshape(len(keys), dims)
    queries = np.array(case["queries"], dtype=np.float32).reshape(-1, dims)
    assert len(queries) == len(case["expected"])
    metric = METRIC_NAMES[case["metric_name"]]
    for hnsw in (None, case["hnsw"]):
        with index_engine.index(dims, metric, case["storage_name"], hnsw=hnsw) as index:
            index.add_batch(keys, vectors)
            for key in case["removed"]:
                index.remove(key)
            assert len(index) == len(keys) - len(case["removed"])
            found = 0
            for q, want in zip(queries, case["expected"]):
                got = index.search(q, k)
                if hnsw is None:
                    assert [m.key for m in got] == want["keys"], case["name"]
                    np.testing.assert_allclose(
                        [m.distance for m in got], want["distances"], rtol=0, atol=case["tol"] + 1e-12
                    )
                found += len({m.key for m in got} & set(want["keys"]))
            if hnsw is not None:
                recall = found / (k * len(queries))
                assert recall >= case["min_hnsw_recall"], f"{case['name']}: recall {recall}"


def test_golden_index_file_present_or_skipped_loudly():
    if GOLDEN_INDEX is None:
        require("tests/golden/index.json")
    assert GOLDEN_INDEX["format"] == "ferrovec-golden-index" and GOLDEN_INDEX["cases"]
