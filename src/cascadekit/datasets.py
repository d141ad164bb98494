"""The dataset registry: name → files (public origin at a pinned commit + sha256) → reader.

Where files come from, in order:

1. a local mirror with the same layout (``$CASCADEKIT_MIRROR/<name>/<file>``), read in place;
2. the cache (``$CASCADEKIT_HOME``, default: the user's cache dir), filled by downloading each
   file's origin URL once.

Every file is verified by sha256 before use. A verified file is never downloaded again, and its
hash is not recomputed while its size and modification time stay the same (kept in
``<home>/verified.json``). A mismatch is an error that names the file.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from cascadekit.data.bundle import DatasetBundle
from cascadekit.errors import CascadeKitError, ChecksumError, UnknownDatasetError

MIRROR_ENV = "CASCADEKIT_MIRROR"
HOME_ENV = "CASCADEKIT_HOME"
_REGISTRY_FILE = Path(__file__).with_name("registry.json")


@dataclass(frozen=True)
class RemoteFile:
    path: str  # relative to the dataset folder
    url: str | None  # None: not downloadable byte-exact (see note)
    origin_path: str | None
    size: int
    sha256: str
    note: str = ""


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    repository: str
    commit: str
    license_and_citation: str
    reader: str  # "module:function" in cascadekit.data.formats
    reader_path: str  # what the reader is given, relative to the dataset folder
    reader_kwargs: dict[str, Any] = field(default_factory=dict)
    tasks: tuple[str, ...] = ()
    files: tuple[RemoteFile, ...] = ()

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class FileCheck:
    """Outcome of verifying one file: status is "ok", "missing" or "mismatch"."""

    dataset: str
    path: str
    status: str
    location: str
    expected: str
    actual: str | None = None


@cache
def registry() -> dict[str, DatasetSpec]:
    raw = json.loads(_REGISTRY_FILE.read_text(encoding="utf-8"))
    out = {}
    for name, d in raw["datasets"].items():
        files = tuple(RemoteFile(**f) for f in d.pop("files"))
        out[name] = DatasetSpec(name=name, files=files, tasks=tuple(d.pop("tasks")), **d)
    return out


def names() -> list[str]:
    return sorted(registry())


def get(name: str) -> DatasetSpec:
    try:
        return registry()[name]
    except KeyError:
        raise UnknownDatasetError(name, names()) from None


def data_home() -> Path:
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("cascadekit"))


def mirror_root() -> Path | None:
    env = os.environ.get(MIRROR_ENV)
    return Path(env).expanduser().resolve() if env else None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class _VerifiedCache:
    """sha256 of files already hashed, keyed by absolute path, valid while size and mtime match."""

    def __init__(self) -> None:
        self.path = data_home() / "verified.json"
        try:
            self.entries: dict[str, dict[str, Any]] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.entries = {}

    def sha256(self, file: Path) -> str:
        st = file.stat()
        key = str(file.resolve())
        e = self.entries.get(key)
        if e and e["size"] == st.st_size and e["mtime_ns"] == st.st_mtime_ns:
            return e["sha256"]
        digest = sha256_file(file)
        self.entries[key] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
        self._save()
        return digest

    def _save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.entries))
            tmp.replace(self.path)
        except OSError:  # a read-only home only costs re-hashing next time
            pass


def _candidates(spec: DatasetSpec) -> list[tuple[str, Path]]:
    out = []
    mirror = mirror_root()
    if mirror is not None:
        out.append(("mirror", mirror / spec.name))
    out.append(("cache", data_home() / spec.name))
    return out


def verify(name: str) -> list[FileCheck]:
    """Check every registered file of ``name`` where it would be read from; downloads nothing."""
    spec = get(name)
    hashes = _VerifiedCache()
    checks = []
    for f in spec.files:
        found = None
        for where, folder in _candidates(spec):
            if (folder / f.path).is_file():
                found = (where, folder / f.path)
                break
        if found is None:
            checks.append(FileCheck(name, f.path, "missing", "-", f.sha256))
            continue
        actual = hashes.sha256(found[1])
        status = "ok" if actual == f.sha256 else "mismatch"
        checks.append(FileCheck(name, f.path, status, str(found[1]), f.sha256, actual))
    return checks


def _download(url: str, dest: Path, expected: str, progress: bool) -> None:
    from tqdm import tqdm

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(
                total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress
            ) as bar:
                for block in iter(lambda: resp.read(1 << 16), b""):
                    out.write(block)
                    bar.update(len(block))
        actual = sha256_file(tmp)
        if actual != expected:
            raise ChecksumError(url, expected, actual)
        tmp.replace(dest)
    finally:
        tmp.unlink(missing_ok=True)


def locate(name: str, *, download: bool = True, progress: bool = True) -> Path:
    """Folder holding every verified file of ``name`` (the mirror if it has them all, else the cache).

    Raises ChecksumError for a file whose sha256 differs, and CascadeKitError when a file is neither
    in the mirror nor the cache and cannot (or may not) be downloaded.
    """
    spec = get(name)
    hashes = _VerifiedCache()
    mirror = mirror_root()
    if mirror is not None and all((mirror / spec.name / f.path).is_file() for f in spec.files):
        folder = mirror / spec.name
        for f in spec.files:
            actual = hashes.sha256(folder / f.path)
            if actual != f.sha256:
                raise ChecksumError(folder / f.path, f.sha256, actual)
        return folder
    folder = data_home() / spec.name
    for f in spec.files:
        dest = folder / f.path
        if dest.is_file():
            actual = hashes.sha256(dest)
            if actual == f.sha256:
                continue
            raise ChecksumError(dest, f.sha256, actual)
        source = None if mirror is None else mirror / spec.name / f.path
        if source is not None and source.is_file():
            actual = hashes.sha256(source)
            if actual != f.sha256:
                raise ChecksumError(source, f.sha256, actual)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
            continue
        if f.url is None:
            raise CascadeKitError(f"{name}/{f.path} cannot be downloaded byte-exact: {f.note}")
        if not download:
            raise CascadeKitError(
                f"{name}/{f.path} is not in the cache ({dest}) and download=False"
            )
        _download(f.url, dest, f.sha256, progress)
    return folder


def load(
    name: str, *, download: bool = True, progress: bool = True, **reader_kwargs: Any
) -> DatasetBundle:
    """Read dataset ``name`` with its registered reader into a DatasetBundle.

    Keyword arguments override the registry's reader arguments (e.g. ``which="url"`` for
    ``c4_music2_url``, ``marks="artists"`` for ``lastfm_hetrec2011_2k``).
    """
    spec = get(name)
    folder = locate(name, download=download, progress=progress)
    module_name, func_name = spec.reader.split(":")
    module = importlib.import_module(f"cascadekit.data.formats.{module_name}")
    reader = getattr(module, func_name)
    bundle: DatasetBundle = reader(
        folder / spec.reader_path, **{**spec.reader_kwargs, **reader_kwargs}
    )
    bundle.name = name
    bundle.info.setdefault("source", spec.repository + "@" + spec.commit)
    bundle.info.setdefault("citation", spec.license_and_citation)
    return bundle
