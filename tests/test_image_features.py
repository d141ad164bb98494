"""Offline image features (`features.image`): the packaged EfficientNet-Lite0 runs without a network
on generated images — shape, determinism, colour telling images apart, the content-keyed cache,
images lined up with cascade ids and a mask, clear errors for what is not an image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cascadekit.errors import CascadeKitError
from cascadekit.features.cache import ArrayCache
from cascadekit.features.image import DIM, encode_images, image_features_of
from cascadekit.simulate.synthetic import planted_images


def test_generated_images_encode_offline_and_colour_separates_them() -> None:
    fast = np.array([True, True, False, False])
    images = planted_images(fast, 4, seed=0)
    f = encode_images(images)
    assert f.shape == (4, DIM) and f.dtype == np.float32 and np.isfinite(f).all()
    np.testing.assert_array_equal(encode_images(images[:1]), f[:1])  # deterministic
    d = np.linalg.norm(f[:, None] - f[None], axis=-1)
    # two warm images are closer to each other than to either cool one
    assert d[0, 1] < min(d[0, 2], d[0, 3], d[1, 2], d[1, 3])
    assert d[2, 3] < min(d[0, 2], d[1, 3])


def test_a_warm_cache_encodes_nothing_and_files_read_like_arrays(tmp_path: Path) -> None:
    from PIL import Image

    images = planted_images(None, 3, seed=1)
    cache = ArrayCache(tmp_path / "cache")
    first = encode_images(images, cache)
    again = encode_images(images, cache)
    assert (cache.misses, cache.hits) == (1, 1)
    np.testing.assert_array_equal(first, again)
    path = tmp_path / "a.png"
    Image.fromarray(images[0]).save(path)
    np.testing.assert_array_equal(encode_images([path]), first[:1])  # PNG is lossless


def test_images_line_up_with_cascade_ids_and_a_mask() -> None:
    images = planted_images(None, 2, seed=2)
    features, mask = image_features_of(["a", "b", "c"], {"c": images[0], "a": images[1]})
    assert mask.tolist() == [True, False, True]
    np.testing.assert_array_equal(features[1], 0)
    np.testing.assert_array_equal(features[2], encode_images(images[:1])[0])


def test_what_is_not_an_image_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CascadeKitError, match=r"\(H, W, 3\) uint8"):
        encode_images([np.zeros((8, 8), dtype=np.uint8)])
    bad = tmp_path / "x.png"
    bad.write_text("not a png")
    with pytest.raises(CascadeKitError, match="x.png: not a readable image"):
        encode_images([bad])
