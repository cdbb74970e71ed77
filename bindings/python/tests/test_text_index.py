"""Text on `ferrovec.Index` with a `ferrovec.Encoder`, on the tiny random BERT models of
`make tiny-model`: target/tiny-bert (FERROVEC_TINY_MODEL_DIR) and its seed-2 twin
target/tiny-bert-seed2 (FERROVEC_TINY_SEED2_MODEL_DIR: same shape, another model id). The
same behaviour every surface asserts: a text finds itself first, search_text equals embed +
search, save + load keep the model id, another model's encoder is refused naming both ids,
and the interpreted backend gives the same top keys as native."""

import os
import pathlib

import numpy as np
import pytest

import ferrovec
from conftest import ROOT

TINY = pathlib.Path(os.environ.get("FERROVEC_TINY_MODEL_DIR", ROOT / "target" / "tiny-bert"))
SEED2 = pathlib.Path(
    os.environ.get("FERROVEC_TINY_SEED2_MODEL_DIR", TINY.parent / (TINY.name + "-seed2"))
)

TEXTS = [
    "The weather is lovely today.",
    "It's so sunny outside!",
    "He drove to the stadium.",
    "a cafe today",
    "日本 is so lovely",
    "the stadium is outside",
]
KEYS = [100 + i for i in range(len(TEXTS))]

for d in (TINY, SEED2):
    if not (d / "model.safetensors").exists():
        pytest.fail(f"{d} has no tiny model: run `make tiny-model`", pytrace=False)


@pytest.fixture(scope="module")
def enc():
    with ferrovec.Encoder.load(TINY) as e:
        yield e


@pytest.fixture(scope="module")
def other():
    with ferrovec.Encoder.load(SEED2) as e:
        yield e


@pytest.fixture
def index(enc):
    with ferrovec.Index.for_encoder(enc) as ix:
        ix.add_text(KEYS[0], TEXTS[0])
        ix.add_texts(KEYS[1:], TEXTS[1:])
        yield ix


def test_add_and_search_by_text(enc, index):
    assert len(index) == len(TEXTS)
    assert index.dims == enc.dims == 32
    assert index.model_id == enc.model_id
    assert index.has_encoder
    for key, text in zip(KEYS, TEXTS):
        hits = index.search_text(text, k=3)
        assert hits[0].key == key
        assert hits[0].distance < 1e-5
        assert hits == index.search(enc.embed(text), k=3)
    batch = index.search_texts(TEXTS, k=2)
    assert [r[0].key for r in batch] == KEYS
    assert batch[2] == index.search_text(TEXTS[2], k=2)


def test_duplicates_and_failed_batches_change_nothing(index):
    with pytest.raises(ferrovec.FerrovecError.DuplicateKey):
        index.add_text(KEYS[0], "so sunny")
    before = index.to_bytes()
    with pytest.raises(ferrovec.FerrovecError.DuplicateKey):
        index.add_texts([7, KEYS[1]], ["a", "b"])
    with pytest.raises(ferrovec.FerrovecError.DimensionMismatch):
        index.add_texts([7, 8], ["a"])
    assert index.to_bytes() == before
    index.add_text(KEYS[0], "so sunny", replace=True)
    assert index.search_text("so sunny", k=1)[0].key == KEYS[0]


def test_constructor_forms(enc):
    with ferrovec.Index(encoder=enc, metric="ip", hnsw=True) as ix:
        assert (ix.dims, ix.model_id) == (enc.dims, enc.model_id)
        ix.add_texts(KEYS, TEXTS)
        assert ix.search_text(TEXTS[3], k=1)[0].key == KEYS[3]
    with pytest.raises(ferrovec.FerrovecError.DimensionMismatch):
        ferrovec.Index(8, encoder=enc)
    with pytest.raises(TypeError):
        ferrovec.Index()


def test_plain_index_takes_an_encoder(enc):
    with ferrovec.Index(enc.dims) as plain:
        assert plain.model_id is None and not plain.has_encoder
        with pytest.raises(ferrovec.FerrovecError.InvalidArgument, match="no text encoder"):
            plain.search_text("sunny")
        text = plain.with_encoder(enc)
        text.add_texts(KEYS, TEXTS)
        assert len(plain) == len(TEXTS), "the handles share one index"
        assert plain.model_id == enc.model_id
        text.close()


def test_files_keep_the_model_id_and_refuse_another_model(enc, other, index, tmp_path):
    assert enc.model_id != other.model_id
    ids = (f"{enc.model_id:016x}", f"{other.model_id:016x}")
    path = tmp_path / "text.fvix"
    index.save(path)
    with ferrovec.Index.load(path, encoder=enc) as loaded:
        assert loaded.model_id == enc.model_id
        assert loaded.search_text(TEXTS[4], k=1)[0].key == KEYS[4]
    with ferrovec.Index.load(path) as plain:
        assert plain.model_id == enc.model_id and not plain.has_encoder
        with pytest.raises(ferrovec.FerrovecError.InvalidArgument) as e:
            plain.with_encoder(other)
        assert all(i in str(e.value) for i in ids)
    for load in (
        lambda: ferrovec.Index.load(path, encoder=other),
        lambda: ferrovec.Index.from_bytes(index.to_bytes(), encoder=other),
    ):
        with pytest.raises(ferrovec.FerrovecError.InvalidArgument) as e:
            load()
        assert "models are not comparable" in str(e.value)
        assert all(i in str(e.value) for i in ids)


def test_interpreted_backend_gives_the_same_top_keys(enc):
    engine = ferrovec.Engine.interpreted()
    with ferrovec.Encoder.load(TINY, engine=engine) as wasm_enc:
        with ferrovec.Index.for_encoder(wasm_enc, engine=engine) as wasm, ferrovec.Index.for_encoder(
            enc
        ) as native:
            wasm.add_texts(KEYS, TEXTS)
            native.add_texts(KEYS, TEXTS)
            for text in TEXTS:
                a = native.search_text(text, k=3)
                b = wasm.search_text(text, k=3)
                assert a[0].key == b[0].key
                assert np.allclose([m.distance for m in a], [m.distance for m in b], atol=1e-5)
            assert wasm.model_id == enc.model_id
            with ferrovec.Index.from_bytes(wasm.to_bytes(), encoder=enc) as back:
                assert back.model_id == enc.model_id
    engine.close()
