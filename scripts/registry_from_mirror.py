"""Maintainer tool: rebuild `src/cascadekit/registry.json` checksums from a local mirror.

Usage: .venv/bin/python scripts/registry_from_mirror.py ../shared/data
Only sizes and sha256 are refreshed; names, origins, readers and citations are edited by hand in the
JSON. A file missing from the mirror is an error (the registry must describe what exists).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cascadekit.datasets import sha256_file

REGISTRY = Path(__file__).resolve().parents[1] / "src" / "cascadekit" / "registry.json"


def main(mirror: Path) -> None:
    reg = json.loads(REGISTRY.read_text())
    for name, spec in reg["datasets"].items():
        for f in spec["files"]:
            p = mirror / name / f["path"]
            f["size"] = p.stat().st_size
            f["sha256"] = sha256_file(p)
    REGISTRY.write_text(json.dumps(reg, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
