"""Each package's public surface is an `__all__` of names that exist (httpx-style); ruff's
RUF022 keeps it sorted."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import civicshield

PACKAGES = sorted(
    m.name
    for m in pkgutil.walk_packages(civicshield.__path__, "civicshield.")
    if m.ispkg and ".migrations.versions" not in m.name
)


@pytest.mark.parametrize("name", PACKAGES)
def test_package_exports_a_sorted_existing_all(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert len(set(exported)) == len(exported), f"{name}.__all__ has duplicates"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names missing attributes: {missing}"


def test_importing_the_package_has_no_side_effects() -> None:
    """Importing never builds an app, engine or settings (the IRIS anti-pattern)."""
    import subprocess
    import sys

    code = (
        "import logging, civicshield.app, civicshield.cli, civicshield.runtime;"
        "import sqlalchemy.engine as e;"
        "assert not logging.getLogger('civicshield').handlers;"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
