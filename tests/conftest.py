"""Markers for the slow groups, so `make test-fast` can leave them out (`make test` runs all).

- `emulator`: deploys on a real MiniStack (any test using the `ministack` fixture, marked here);
- `checkov`: runs checkov (a separate process that takes seconds to start);
- `fuzz`: hundreds of mutated blueprints per test;
- `slow`: other long runs (corpora).
"""

from __future__ import annotations

import pytest

MARKERS = {
    "emulator": "deploys on a real local emulator (MiniStack)",
    "checkov": "runs checkov",
    "fuzz": "mutation fuzzing over many inputs",
    "slow": "long runs over corpora",
}


@pytest.fixture(autouse=True)
def _own_lint_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test starts with an empty lint cache of its own (never .cfngen-cache in the
    checkout), also for the `cfngen` processes it starts."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


def pytest_configure(config: pytest.Config) -> None:
    for name, what in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {what}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "ministack" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.emulator)
