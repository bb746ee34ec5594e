"""The catalogue of cfngen checks: every check is described, and every check is tested."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from cfngen.checks import CHECKS

HERE = Path(__file__).parent
MODULES = (
    "test_iam.py",
    "test_network.py",
    "test_ecs.py",
    "test_data.py",
    "test_wiring.py",
    "test_wiring_more.py",
    "test_scopes.py",
    "test_wiring_grants.py",
)


def _test_names() -> dict[str, set[str]]:
    """Test function names of the per-area modules, by module."""
    names: dict[str, set[str]] = {}
    for module in MODULES:
        tree = ast.parse((HERE / module).read_text())
        names[module] = {
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
        }
    return names


def test_every_check_has_a_bad_and_a_good_test() -> None:
    names = {n for found in _test_names().values() for n in found}
    missing = [
        f"{rule}: test_{rule.lower()}_{kind}_*"
        for rule in CHECKS
        for kind in ("bad", "good")
        if not any(n.startswith(f"test_{rule.lower()}_{kind}") for n in names)
    ]
    assert not missing, "checks without tests:\n" + "\n".join(missing)


def test_every_check_is_mentioned_in_the_test_sources() -> None:
    text = "".join((HERE / m).read_text() for m in MODULES)
    mentioned = set(re.findall(r"CFG\d{3}", text))
    assert set(CHECKS) - mentioned == set()
    tested = {n.split("_")[1].upper() for found in _test_names().values() for n in found}
    unknown = {t for t in tested if re.fullmatch(r"CFG\d{3}", t)} - set(CHECKS)
    assert not unknown, f"tests for checks that do not exist: {sorted(unknown)}"


def test_every_check_is_described() -> None:
    assert list(CHECKS) == sorted(CHECKS)
    assert len(CHECKS) >= 19
    for rule, check in CHECKS.items():
        assert check.id == rule
        assert re.fullmatch(r"CFG\d{3}", rule) and rule != "CFG000"  # CFG000: a check crashed
        assert check.title.strip(), rule
        assert check.why.strip() and len(check.why) > 40, rule
        assert re.fullmatch(r"https://[\w.-]+\.[a-z]{2,}/\S*", check.source), (rule, check.source)
        assert check.severity in {"error", "warning"}, rule
        assert check.section in {"Resources", "Outputs"}, rule
        assert callable(check.run), rule


def test_titles_are_unique() -> None:
    titles = [c.title for c in CHECKS.values()]
    assert len(titles) == len(set(titles))


def test_the_lint_page_lists_every_check_as_the_catalog_says() -> None:
    from cfngen.checks import markdown_table

    page = (Path(__file__).resolve().parents[2] / "docs" / "lint.md").read_text()
    begin, end = "<!-- checks:begin -->\n", "\n<!-- checks:end -->"
    table = page[page.index(begin) + len(begin) : page.index(end)]
    assert table == markdown_table(), "docs/lint.md's check table is stale: paste markdown_table()"
