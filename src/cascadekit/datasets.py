"""The dataset registry: name → files (public origin at a pinned commit + sha256) → reader.

Where files come from, in order:

1. a local mirror with the same layout (``$CASCADEKIT_MIRROR/<name>/<file>``), read in place;
2. the cache (``$CASCADEKIT_HOME``, default: the user's cache dir), filled by downloading each
   file's origin URL once.

Every file is verified by sha256 before use. A verified file is never downloaded again, and its
hash is not recomputed while its size and modification time stay the same (kept in
``<home>/verified.json``). A mismatch is an error that names the file.

Parsing can take seconds (CED: ~10 s), so ``load`` keeps the bundle it parsed as a Parquet folder
(``DatasetBundle.save``) under ``<home>/processed/<name>/<key>/`` and reads that on the next call
(see ``load`` for the key). The raw files are verified before a cached bundle is used, as before.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import shutil
import sys
import tempfile
import urllib.request
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from cascadekit.data import formats
from cascadekit.data.bundle import DatasetBundle
from cascadekit.errors import CascadeKitError, ChecksumError, UnknownDatasetError

MIRROR_ENV = "CASCADEKIT_MIRROR"
HOME_ENV = "CASCADEKIT_HOME"
_REGISTRY_FILE = Path(__file__).with_name("registry.json")
# Layout of a processed-cache entry (this module's manifest + DatasetBundle.save's folder). Bump it
# when that layout changes in a way the reader-source hash below does not see.
PROCESSED_CACHE_VERSION = 1
_MANIFEST = "processed.json"

log = logging.getLogger(__name__)


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
    """Outcome of verifying one file: "ok", "missing", "mismatch", or "unlisted" (a file in the
    dataset folder that the registry does not pin: reported, never read)."""

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
    """sha256 of files already hashed, keyed by absolute path, valid while the file's device,
    inode, size, mtime and ctime all match. ctime is the guard: a program can restore a file's
    mtime after changing it (``os.utime``), but doing so updates its ctime, which no ordinary
    call can set back, so an edited file is always hashed again. ``force`` re-hashes anyway."""

    def __init__(self) -> None:
        self.path = data_home() / "verified.json"
        try:
            self.entries: dict[str, dict[str, Any]] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.entries = {}

    def sha256(self, file: Path, *, force: bool = False) -> str:
        st = file.stat()
        key = str(file.resolve())
        stamp = [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
        e = self.entries.get(key)
        if not force and e and e.get("stamp") == stamp:
            return e["sha256"]
        digest = sha256_file(file)
        self.entries[key] = {"stamp": stamp, "sha256": digest}
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


def unlisted_files(spec: DatasetSpec, folder: Path) -> list[str]:
    """Files under a dataset's folder that its registry entry does not list: reported by
    `verify`, never read by `load`. Hidden files, partial downloads and Markdown notes (the
    mirror's SOURCE.md; no reader reads Markdown) are not data and are skipped."""
    listed = {f.path for f in spec.files}
    found = (p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return sorted(
        p for p in found
        if p not in listed and not any(part.startswith(".") for part in p.split("/"))
        and not p.endswith((".part", ".md"))
    )  # fmt: skip


def _listed_view(spec: DatasetSpec, folder: Path, view: Path) -> Path:
    """``view`` holding symlinks to the listed files of ``folder`` only (same relative paths)."""
    for f in spec.files:
        link = view / f.path
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to((folder / f.path).resolve())
    return view


def verify(name: str, *, force: bool = False) -> list[FileCheck]:
    """Check every registered file of ``name`` where it would be read from; downloads nothing.
    ``force`` re-hashes every file instead of trusting the verified-hash cache."""
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
        actual = hashes.sha256(found[1], force=force)
        status = "ok" if actual == f.sha256 else "mismatch"
        checks.append(FileCheck(name, f.path, status, str(found[1]), f.sha256, actual))
    for _, folder in _candidates(spec):
        if folder.is_dir():
            for path in unlisted_files(spec, folder):
                checks.append(FileCheck(name, path, "unlisted", str(folder / path), "-"))
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
    except OSError as exc:  # offline, refused, timed out, HTTP errors (URLError is an OSError)
        tmp.unlink(missing_ok=True)
        raise CascadeKitError(
            f"cannot download {url} ({exc}); without network access, put the file at {dest} or "
            f"point {MIRROR_ENV} at a mirror"
        ) from None
    try:
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


def reader_version(module: ModuleType) -> str:
    """sha256 over the source of a reader module and of every cascadekit module it uses.

    The modules are found by following the reader module's globals (imported modules, and the
    modules that define imported classes and functions), transitively, so editing the reader or a
    helper it calls (``lines.clean_sequence``, ``CascadeSet``, ``DatasetBundle``) invalidates the
    processed cache without anyone bumping a number. Imports inside function bodies are not seen.
    """
    seen: dict[str, ModuleType] = {}
    todo = [module]
    while todo:
        m = todo.pop()
        if m.__name__ in seen or not m.__name__.startswith("cascadekit."):
            continue
        seen[m.__name__] = m
        for value in vars(m).values():
            if isinstance(value, ModuleType):
                todo.append(value)
                continue
            owner = getattr(value, "__module__", None)
            if isinstance(owner, str) and owner in sys.modules:
                todo.append(sys.modules[owner])
    h = hashlib.sha256()
    for mod_name in sorted(seen):
        source = getattr(seen[mod_name], "__file__", None)
        if source:
            h.update(mod_name.encode() + b"\0" + Path(source).read_bytes() + b"\0")
    return h.hexdigest()


@dataclass(frozen=True)
class _ProcessedEntry:
    """Where one parsed bundle is cached, and what its key was computed from."""

    path: Path
    inputs: dict[str, Any]


def _processed_entry(
    spec: DatasetSpec, folder: Path, reader: ModuleType, options: dict[str, Any]
) -> _ProcessedEntry | None:
    """The cache entry for these inputs; None when the options are not JSON (then not cached)."""
    inputs = {
        "cache_version": PROCESSED_CACHE_VERSION,
        "dataset": spec.name,
        "reader": spec.reader,
        "reader_version": reader_version(reader),
        "reader_path": spec.reader_path,
        "options": options,
        # readers put their input path into the bundle (report.source), so it is part of the key
        "folder": str(folder),
        "files": {f.path: f.sha256 for f in spec.files},
    }
    try:
        canonical = json.dumps(inputs, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        log.debug("%s: reader options %r are not JSON; not cached", spec.name, options)
        return None
    key = hashlib.sha256(canonical.encode()).hexdigest()
    # kept as JSON gives them back, to compare with the manifest of an entry
    return _ProcessedEntry(data_home() / "processed" / spec.name / key, json.loads(canonical))


def _read_processed(entry: _ProcessedEntry) -> DatasetBundle | None:
    """The cached bundle, or None on a miss; an entry that fails any check is deleted."""
    if not entry.path.exists():
        return None
    try:
        manifest = json.loads((entry.path / _MANIFEST).read_text(encoding="utf-8"))
        if manifest["inputs"] != entry.inputs:
            raise ValueError("manifest was written for other inputs")
        for file_name, digest in manifest["bundle_files"].items():
            if sha256_file(entry.path / file_name) != digest:
                raise ValueError(f"{file_name} changed since it was written")
        bundle = DatasetBundle.load(entry.path)
        # DatasetBundle.save sorts these two; restore the reader's order so the bundle is identical
        bundle.event_splits = {k: bundle.event_splits[k] for k in manifest["order"]["event_splits"]}
        counts = bundle.report.counts
        bundle.report.counts = type(counts)({k: counts[k] for k in manifest["order"]["counts"]})
    except Exception as e:  # any damage: rebuild rather than fail the load
        log.warning("discarding unreadable processed cache entry %s (%s)", entry.path, e)
        shutil.rmtree(entry.path, ignore_errors=True)
        return None
    return bundle


def _write_processed(entry: _ProcessedEntry, bundle: DatasetBundle) -> None:
    """Save ``bundle`` into a temporary folder beside the entry, then rename it into place.

    The rename is atomic, so a crash leaves at most an unused ``.*.tmp`` folder, never an entry
    that loads. Failing to write (read-only home, a bundle that cannot round-trip) only costs
    parsing again next time.
    """
    try:
        if json.loads(json.dumps(bundle.info)) != bundle.info:
            raise ValueError("bundle.info does not survive JSON unchanged")
        entry.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.path.with_name(f".{entry.path.name}.{uuid.uuid4().hex}.tmp")
        tmp.mkdir()  # not mkdtemp: the entry gets the usual permissions, not 0700
        try:
            bundle.save(tmp)
            manifest = {
                "inputs": entry.inputs,
                "bundle_files": {p.name: sha256_file(p) for p in sorted(tmp.iterdir())},
                "order": {
                    "event_splits": list(bundle.event_splits),
                    "counts": list(bundle.report.counts),
                },
            }
            (tmp / _MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
            try:
                os.rename(tmp, entry.path)
            except OSError:
                if not (entry.path / _MANIFEST).is_file():
                    raise
                # another process wrote the same entry meanwhile: keep theirs
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except Exception as e:
        log.warning("could not cache the parsed %s in %s (%s)", bundle.name, entry.path, e)


def load(
    name: str,
    *,
    download: bool = True,
    progress: bool = True,
    cache: bool = True,
    **reader_kwargs: Any,
) -> DatasetBundle:
    """Read dataset ``name`` with its registered reader into a DatasetBundle.

    Keyword arguments override the registry's reader arguments (e.g. ``which="url"`` for
    ``c4_music2_url``, ``marks="artists"`` for ``lastfm_hetrec2011_2k``).

    The raw files are always verified first (``locate``). Then, unless ``cache=False``, the bundle
    is read from the processed cache, ``<home>/processed/<name>/<key>/``, where the key is the
    sha256 of: the registry's sha256 of every file of the dataset, the reader and its arguments,
    the folder read, ``reader_version`` (a hash of the reader's source and the cascadekit modules
    it uses) and ``PROCESSED_CACHE_VERSION`` (the entry layout). On a miss the reader runs and its
    bundle is saved there; an entry that fails its own checksums is deleted and rebuilt. Options
    that are not JSON values are never cached. Delete ``<home>/processed`` to reclaim the space.
    """
    spec = get(name)
    folder = locate(name, download=download, progress=progress)
    module_name, func_name = spec.reader.split(":")
    module = importlib.import_module(f"cascadekit.data.formats.{module_name}")
    options = {**spec.reader_kwargs, **reader_kwargs}
    unlisted = unlisted_files(spec, folder)
    with tempfile.TemporaryDirectory() as view:
        if unlisted:
            # never read what the registry does not pin: the reader sees the listed files only
            log.warning("%s: ignoring %d file(s) the registry does not list: %s", name,
                        len(unlisted), ", ".join(unlisted))  # fmt: skip
            folder = _listed_view(spec, folder, Path(view))
        entry = _processed_entry(spec, folder, module, options) if cache and not unlisted else None
        bundle = None if entry is None else _read_processed(entry)
        if bundle is None:
            bundle = formats.call_reader(
                getattr(module, func_name), folder / spec.reader_path, spec.reader, **options
            )
            if entry is not None:
                _write_processed(entry, bundle)
    if unlisted:
        bundle.report.add("unlisted_file_ignored", len(unlisted))
    bundle.name = name
    bundle.info.setdefault("source", spec.repository + "@" + spec.commit)
    bundle.info.setdefault("citation", spec.license_and_citation)
    return bundle
