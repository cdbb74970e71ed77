"""`ferrovec.Encoder` on the tiny random BERT model of `make tiny-model` (32 dims, vocab 50,
max 40 tokens; FERROVEC_TINY_MODEL_DIR, default target/tiny-bert), and the three reference
similarities on all-MiniLM-L6-v2 when `make model` has fetched it (FERROVEC_MINILM_DIR)."""

import os
import pathlib
import threading

import numpy as np
import pytest

import ferrovec
from conftest import ROOT

TINY = pathlib.Path(os.environ.get("FERROVEC_TINY_MODEL_DIR", ROOT / "target" / "tiny-bert"))
MINILM = os.environ.get("FERROVEC_MINILM_DIR")

TEXTS = [
    "the weather is lovely today.",
    "it's so sunny outside!",
    "he drove to the stadium.",
    "",
    "cafe 日本 ? , abcd e",
]

if not (TINY / "model.safetensors").exists():
    pytest.fail(f"{TINY} has no tiny model: run `make tiny-model`", pytrace=False)


@pytest.fixture(scope="module")
def enc():
    with ferrovec.Encoder.load(TINY) as e:
        yield e


def test_properties(enc):
    assert enc.dims == 32
    assert enc.max_tokens == 40
    assert 0 < enc.model_id < 2**64
    assert enc.threads == 1
    assert enc.kind == ferrovec.BackendKind.NATIVE
    assert "dims=32" in repr(enc)


def test_embed_is_a_float32_matrix_of_unit_rows(enc):
    v = enc.embed(TEXTS)
    assert isinstance(v, np.ndarray) and v.dtype == np.float32 and v.shape == (5, 32)
    assert v.flags.writeable and v.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    # A batch gives each text's own vector, with the same bits.
    for i, t in enumerate(TEXTS):
        one = enc.embed(t)
        assert one.shape == (32,)
        assert np.array_equal(one, v[i])
    assert enc.embed(TEXTS[:1] + TEXTS[:1]).tolist()[0] == v[0].tolist()
    assert not np.allclose(v[0], v[1])
    # Any sequence of str; an empty one gives a (0, dims) array.
    assert np.array_equal(enc.embed(tuple(TEXTS)), v)
    assert enc.embed(t for t in TEXTS).shape == (5, 32)
    assert enc.embed([]).shape == (0, 32)


def test_tokenize(enc):
    assert enc.tokenize("the weather is lovely today.") == [2, 5, 6, 7, 8, 9, 10, 3]
    assert enc.tokenize("") == [2, 3]
    ids = enc.tokenize("the sunny " * 100)
    assert len(ids) == enc.max_tokens and ids[0] == 2 and ids[-1] == 3
    # Lone surrogates cannot cross as UTF-8: Python refuses them before Rust sees them.
    with pytest.raises(UnicodeEncodeError):
        enc.tokenize("bad \udcff")


def test_threads_give_the_same_vectors(enc):
    texts = [TEXTS[i % len(TEXTS)] + " sunny" * (i % 7) for i in range(64)]
    one = enc.embed(texts)
    enc.threads = 2
    try:
        assert enc.threads == 2
        np.testing.assert_allclose(enc.embed(texts), one, atol=1e-6)
    finally:
        enc.threads = 1
    with pytest.raises(ValueError):
        enc.threads = -1


def test_concurrent_callers(enc):
    want = enc.embed(TEXTS)
    bad = []

    def work():
        for _ in range(10):
            if not np.array_equal(enc.embed(TEXTS), want):
                bad.append(1)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad


def test_from_bytes_matches_load(enc):
    read = lambda name: (TINY / name).read_bytes()  # noqa: E731
    e = ferrovec.Encoder.from_bytes(
        read("model.safetensors"),
        read("config.json"),
        read("tokenizer.json"),
        pooling_json=read("1_Pooling/config.json"),
        sentence_bert_config_json=read("sentence_bert_config.json"),
    )
    with e:
        assert e.model_id == enc.model_id
        assert np.array_equal(e.embed(TEXTS), enc.embed(TEXTS))
    # vocab.txt instead of tokenizer.json: the same ids.
    with ferrovec.Encoder.from_bytes(
        read("model.safetensors"),
        read("config.json").decode(),
        vocab_txt=read("vocab.txt"),
        sentence_bert_config_json=read("sentence_bert_config.json"),
    ) as e:
        assert e.tokenize("it's so sunny outside!") == enc.tokenize("it's so sunny outside!")


def test_refusals(tmp_path):
    with pytest.raises(ferrovec.FerrovecError.InvalidArgument, match="nonexistent"):
        ferrovec.Encoder.load(tmp_path / "nonexistent")
    weights = (TINY / "model.safetensors").read_bytes()
    config = (TINY / "config.json").read_bytes()
    tok = (TINY / "tokenizer.json").read_bytes()
    with pytest.raises(ferrovec.FerrovecError.CorruptFile):
        ferrovec.Encoder.from_bytes(weights[: len(weights) // 2], config, tok)
    with pytest.raises(ferrovec.FerrovecError.CorruptFile):
        ferrovec.Encoder.from_bytes(b"\xff" * 64, config, tok)
    with pytest.raises(ferrovec.FerrovecError):
        ferrovec.Encoder.from_bytes(weights, b'{"hidden_size": 3', tok)
    with pytest.raises(ferrovec.FerrovecError):
        ferrovec.Encoder.from_bytes(weights, config)  # no vocabulary
    e = ferrovec.Encoder.load(TINY)
    with pytest.raises(TypeError):
        e.embed([b"bytes"])
    with pytest.raises(TypeError):
        e.embed(b"bytes")
    e.close()
    e.close()
    assert e.closed
    with pytest.raises(ferrovec.FerrovecError.InvalidHandle):
        e.embed(["x"])
    with pytest.raises(ferrovec.FerrovecError.InvalidHandle):
        e.dims


def test_interpreted_backend_runs_the_encoder_module(enc):
    with ferrovec.Engine.interpreted() as engine:
        with ferrovec.Encoder.load(TINY, engine=engine) as wasm:
            assert wasm.model_id == enc.model_id
            assert wasm.tokenize(TEXTS[0]) == enc.tokenize(TEXTS[0])
            np.testing.assert_allclose(wasm.embed(TEXTS), enc.embed(TEXTS), atol=1e-5)


def test_int8_keeps_the_model_id_and_agrees_with_f32(enc):
    assert enc.precision == ferrovec.Precision.F32
    reference = enc.embed(TEXTS)
    with ferrovec.Encoder.load(TINY, precision="int8") as int8:
        assert int8.precision == ferrovec.Precision.INT8
        assert int8.model_id == enc.model_id
        assert "precision=int8" in repr(int8)
        v = int8.embed(TEXTS)
        assert not np.array_equal(v, reference)
        np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
        cosines = np.sum(v * reference, axis=1)
        assert cosines.min() >= 0.999, cosines
        read = lambda name: (TINY / name).read_bytes()  # noqa: E731
        with ferrovec.Encoder.from_bytes(
            read("model.safetensors"),
            read("config.json"),
            read("tokenizer.json"),
            pooling_json=read("1_Pooling/config.json"),
            sentence_bert_config_json=read("sentence_bert_config.json"),
            precision=ferrovec.Precision.INT8,
        ) as b:
            assert np.array_equal(b.embed(TEXTS), v)
        # The interpreted backend's int8 within 1e-3 of native int8 (exact integer sums; an
        # activation on a quantization rounding boundary may round the other way without FMA).
        with ferrovec.Engine.interpreted() as engine:
            with ferrovec.Encoder.load(TINY, engine=engine, precision="int8") as wasm:
                assert wasm.precision == ferrovec.Precision.INT8
                assert wasm.model_id == enc.model_id
                np.testing.assert_allclose(wasm.embed(TEXTS), v, atol=1e-3, rtol=0)
    with pytest.raises(ValueError, match="precision"):
        ferrovec.Encoder.load(TINY, precision="int4")


def test_vectors_search_in_an_index(enc):
    v = enc.embed(TEXTS[:3])
    with ferrovec.Index(enc.dims, "cosine") as index:
        index.add_batch([10, 11, 12], v)
        assert index.search(enc.embed(TEXTS[1]), k=1)[0].key == 11


@pytest.mark.skipif(
    not MINILM or not os.path.exists(os.path.join(MINILM, "model.safetensors")),
    reason="all-MiniLM-L6-v2 not fetched (make model; make test-python passes FERROVEC_MINILM_DIR)",
)
def test_minilm_reference_similarities():
    """The similarities sentence-transformers publishes for all-MiniLM-L6-v2."""
    with ferrovec.Encoder.load(MINILM) as e:
        assert (e.dims, e.max_tokens) == (384, 256)
        v = e.embed(["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."])
        sims = v @ v.T
        assert round(float(sims[0, 1]), 4) == 0.6660
        assert round(float(sims[0, 2]), 4) == 0.1046
        assert round(float(sims[1, 2]), 4) == 0.1411
