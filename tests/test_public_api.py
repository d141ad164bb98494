"""The public surface: every name `cascadekit` exports resolves, and importing it is light."""

from __future__ import annotations

import subprocess
import sys

import cascadekit


def test_every_export_resolves() -> None:
    for name in cascadekit.__all__:
        assert getattr(cascadekit, name) is not None, name


def test_import_does_not_load_torch_or_pick_a_matplotlib_backend() -> None:
    code = (
        "import sys, cascadekit; "
        "assert 'torch' not in sys.modules and 'matplotlib' not in sys.modules; "
        "print(cascadekit.__version__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == cascadekit.__version__
