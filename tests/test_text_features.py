"""The offline character n-gram text encoder (`features.text`) on Chinese and English, and the
on-disk array cache (`features.cache`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cascadekit.features.cache import ArrayCache, content_hash
from cascadekit.features.text import CharNgramTextEncoder, TextEncoderConfig

MEDICAL = ["医院的医疗费用太高", "住院医疗费用负担不起", "医院抢救病人医疗", "医疗费用和医院"]
SCAM = ["新骗局提醒大家注意", "骗局已经使很多人上当受骗", "注意快递骗局", "电话骗局上当"]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_idf_is_the_smoothed_formula() -> None:
    enc = CharNgramTextEncoder(TextEncoderConfig(dim=2, ngram_range=(1, 1), min_df=1))
    enc.fit(["ab", "ac"])
    assert enc.vocabulary == ["a", "b", "c"]
    np.testing.assert_allclose(enc.idf, [1.0, np.log(1.5) + 1, np.log(1.5) + 1])


def test_chinese_texts_of_one_topic_are_closer_than_across_topics() -> None:
    enc = CharNgramTextEncoder(TextEncoderConfig(dim=4, min_df=2)).fit(MEDICAL + SCAM)
    z = enc.transform(["医院医疗费用", "快递电话骗局"])
    assert z.shape == (2, 4) and z.dtype == np.float32
    near = cosine(z[0], enc.transform([MEDICAL[0]])[0])
    far = cosine(z[0], enc.transform([SCAM[0]])[0])
    assert near > far + 0.5, (near, far)
    # a text with no training n-gram (and the empty text) encodes to zeros, not noise
    np.testing.assert_array_equal(enc.transform(["ΩΨ", ""]), np.zeros((2, 4), np.float32))


def test_english_works_too_and_save_load_round_trips(tmp_path: Path) -> None:
    texts = ["the hospital bill", "hospital fees are high", "a new phone scam", "scam calls"]
    enc = CharNgramTextEncoder(TextEncoderConfig(dim=3, min_df=1)).fit(texts)
    again = CharNgramTextEncoder.load(enc.save(tmp_path / "enc"))
    np.testing.assert_array_equal(again.transform(texts), enc.transform(texts))
    assert again.state_hash() == enc.state_hash()
    other = CharNgramTextEncoder(TextEncoderConfig(dim=3, min_df=1, seed=1)).fit(texts)
    assert other.state_hash() != enc.state_hash()


def test_bad_use_is_refused() -> None:
    with pytest.raises(ValueError, match="fit the text encoder first"):
        CharNgramTextEncoder().transform(["x"])
    with pytest.raises(ValueError, match="at least 2"):
        CharNgramTextEncoder().fit(["x"])
    with pytest.raises(ValueError, match="no character n-gram"):
        CharNgramTextEncoder(TextEncoderConfig(min_df=5)).fit(["ab", "cd"])


def test_the_cache_computes_once_per_key(tmp_path: Path) -> None:
    cache, calls = ArrayCache(tmp_path / "cache"), []

    def compute() -> np.ndarray:
        calls.append(1)
        return np.arange(6.0).reshape(2, 3)

    key = {"encoder": "x", "content": content_hash(["a", "b"])}
    first = cache.get(key, compute)
    second = ArrayCache(tmp_path / "cache").get(key, compute)  # a new run, same folder
    np.testing.assert_array_equal(first, second)
    assert len(calls) == 1 and cache.misses == 1
    cache.get({**key, "content": content_hash(["ab"])}, compute)  # other content: recomputed
    assert len(calls) == 2
    assert content_hash(["a", "b"]) != content_hash(["ab"])  # the split between parts counts


def test_the_packaged_sentence_model_runs_offline() -> None:
    from cascadekit.features.text import SentenceModelEncoder

    enc = SentenceModelEncoder("all-MiniLM-L6-v2")
    z = enc.transform(["The hospital bills are too high", "Medical costs at the clinic",
                       "Beware of this new phone scam", ""])  # fmt: skip
    assert z.shape == (4, enc.dim) == (4, 384) and z.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(z[:3], axis=1), 1.0, atol=1e-5)
    assert cosine(z[0], z[1]) > cosine(z[0], z[2]) + 0.2
    assert enc.state_hash() == SentenceModelEncoder(enc.path).state_hash()
    with pytest.raises(ValueError, match="not a sentence-transformers model folder"):
        SentenceModelEncoder(Path(__file__).parent)
