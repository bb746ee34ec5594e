"""cfn-lint on the part of sympy it uses (cfngen/partial_import.py) reports exactly what it
reports on all of sympy; anything else asked of sympy gets all of it; another sympy falls back
to the whole import, and a template cfn-lint fails on while sympy is partly loaded is linted
again on all of it. Each case is a new interpreter: the test process may hold sympy already."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "cfn-corpus"
MANY_CONDITIONS = CORPUS / "widdix" / "state" / "elasticache-redis.yaml"  # findings name them

PROBE = """
import json, sys
from cfngen import partial_import
loaded = sorted(m for m in sys.modules if m.startswith("sympy"))
print(json.dumps([partial_import.prepare(), loaded]))
"""


def _python(code: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_cfn_lint_loads_a_fraction_of_sympy() -> None:
    code = PROBE + "import cfnlint.api, cfnlint.runner\n" + PROBE
    first, after = (json.loads(line) for line in _python(code).splitlines())
    assert first[0] is True and after[0] is True
    assert "sympy.logic.boolalg" in after[1] and "sympy.assumptions.cnf" in after[1]
    assert len(after[1]) < 100  # all of sympy is ~420 modules
    assert not any(m.startswith(("sympy.polys", "sympy.matrices")) for m in after[1])


def test_any_other_name_runs_sympys_own_init_in_the_same_module() -> None:
    out = _python(
        "from cfngen import partial_import\n"
        "assert partial_import.prepare()\n"
        "import sympy, sympy.logic.boolalg as b\n"
        "package = sympy\n"
        "assert sympy.And is b.And and type(sympy).__name__ == '_Partial'\n"
        "print(sympy.pi, type(sympy).__name__)\n"  # a name it does not hold: the real __init__
        "from sympy import ordered, SYMPY_DEBUG\n"  # as sympy's own functions ask for them
        "import sys\n"
        "assert sys.modules['sympy'] is package and sympy.And is b.And\n"
        "print(len([m for m in sys.modules if m.startswith('sympy')]) > 300)\n"
        "try:\n    sympy.no_such_name\nexcept AttributeError as err:\n    print(err)\n"
    )
    assert out.splitlines() == [
        "pi module",
        "True",
        "module 'sympy' has no attribute 'no_such_name'",
    ]


def test_a_sympy_without_those_names_imports_whole() -> None:
    out = _python(
        "from cfngen import partial_import\n"
        "partial_import.NAMES['NoSuchName'] = 'sympy.logic.boolalg'\n"
        "import sys\n"
        "print(partial_import.prepare(), 'sympy' in sys.modules)\n"
        "import sympy\n"
        "print(type(sympy).__name__, sympy.pi, hasattr(sympy, 'Matrix'))\n"
    )
    assert out.splitlines() == ["False False", "module pi True"]


def test_a_process_that_has_sympy_is_left_alone() -> None:
    out = _python(
        "import sympy\nfrom cfngen import partial_import\n"
        "print(partial_import.prepare(), type(sympy).__name__)\n"
    )
    assert out.strip() == "False module"


LINT = """
import json, sys
from pathlib import Path
if sys.argv[1] == "whole":
    import sympy  # noqa: F401  (prepare() then leaves sympy alone)
from cfngen.lint import _decode, _runner, canonical_message
out = []
for name in sys.argv[2:]:
    parsed, errors = _decode(Path(name).read_text())
    matches = errors if errors else list(_runner("us-east-1").validate_template(parsed))
    found = sorted([m.rule.id, m.linenumber, m.columnnumber, canonical_message(m.message)]
                   for m in matches)
    out.append([name, type(sys.modules["sympy"]).__name__, found])
print(json.dumps(out))
"""


def _corpus(conditions: bool, count: int) -> list[str]:
    """The `count` largest YAML corpus templates under 10 kB with (or without) Conditions or
    Rules (the test checks which way sympy went on each, so a wrong pick fails it)."""
    section = re.compile(r"^(Conditions|Rules):", re.MULTILINE)
    found = []
    for path in sorted(CORPUS.rglob("*.y*ml")):
        text = path.read_text(errors="replace")
        if len(text) < 10_000 and "Resources:" in text and bool(section.search(text)) == conditions:
            found.append((len(text), str(path)))
    return [name for _, name in sorted(found)[-count:]]


@pytest.mark.slow  # two interpreters lint 24 third-party templates each: make test
def test_cfn_lint_finds_the_same_on_part_of_sympy_as_on_all_of_it() -> None:
    """On the corpus (2026-12-04): the 260 templates without Conditions or Rules linted on part
    of sympy, which stayed partial throughout, and all 407 gave the same 1,916 findings as on
    all of sympy. Here: 16 without, then 8 with (the largest under 10 kB, and one whose
    findings name conditions)."""
    if not CORPUS.is_dir():
        pytest.skip(f"the public template corpus is not beside the checkout ({CORPUS})")
    plain, branching = _corpus(False, 16), [*_corpus(True, 7), str(MANY_CONDITIONS)]
    assert len(plain) == 16 and len(set(branching)) == 8
    runs = [  # side by side
        subprocess.Popen(
            [sys.executable, "-c", LINT, mode, *plain, *branching],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        for mode in ("part", "whole")
    ]
    (part_out, part_err), (whole_out, whole_err) = (run.communicate(timeout=300) for run in runs)
    assert runs[0].returncode == 0 and runs[1].returncode == 0, part_err + whole_err
    part, whole = json.loads(part_out), json.loads(whole_out)
    assert [m for _, _, m in part] == [m for _, _, m in whole]
    # the plain templates ran on part of sympy; the first with Conditions made it whole
    assert [kind for _, kind, _ in part] == ["_Partial"] * 16 + ["module"] * 8
    assert {kind for _, kind, _ in whole} == {"module"}
    assert sum(len(m) for _, _, m in whole[:16]) > 20  # the rules did find things
    assert any("condition" in f[3] for _, _, m in whole[16:] for f in m)


FAULT = """
import json, sys
from pathlib import Path
from cfngen import partial_import
partial_import.SECTIONS = ()  # as if the Conditions rule missed this template
partial_import.prepare()
import cfnlint.conditions.conditions as conditions
from cfngen.lint import _decode, _runner

build = conditions.Conditions.__init__
tries = []

def fragile(self, cfn):  # sympy failing mid-import while only part of it is loaded
    if not cfn.template.get("Conditions"):
        return build(self, cfn)
    tries.append(type(sys.modules["sympy"]).__name__)
    if tries[-1] == "_Partial":
        raise ImportError("cannot import name 'x' from partially initialized module 'sympy'")
    return build(self, cfn)

if sys.argv[1] == "fault":
    conditions.Conditions.__init__ = fragile
parsed, _ = _decode(Path(sys.argv[2]).read_text())
matches = _runner("us-east-1").validate_template(parsed)
found = sorted(m.rule.id + str(m.linenumber) for m in matches)
print(json.dumps([tries, type(sys.modules["sympy"]).__name__, found]))
"""


@pytest.mark.slow  # two interpreters loading cfn-lint: make test
def test_cfn_lint_failing_on_part_of_sympy_lints_again_on_all_of_it() -> None:
    """The safety net: whatever fails while only part of sympy is loaded, the template is
    linted again on all of it, and the findings are those all of sympy gives."""
    if not CORPUS.is_dir():
        pytest.skip(f"the public template corpus is not beside the checkout ({CORPUS})")
    tries, kind, found = json.loads(_python(FAULT, "fault", str(MANY_CONDITIONS)))
    assert tries[0] == "_Partial" and set(tries[1:]) == {"module"} and kind == "module"
    _, _, expected = json.loads(_python(FAULT, "plain", str(MANY_CONDITIONS)))
    assert found == expected and len(found) > 5


@pytest.mark.slow  # a cfngen lint process: make test
def test_cfngen_lint_loads_part_of_sympy(tmp_path: Path) -> None:
    """The wiring: `cfngen lint` (the worker that loads cfn-lint, and the parent) imports the
    part of sympy, not all of it (about 0.1 s of every run)."""
    folder = Path(__file__).parent / "golden" / "legocity" / "shared"
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cfngen", "lint", "--no-cache", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "XDG_CACHE_HOME": str(tmp_path)},
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    loaded = set(re.findall(r"\|\s+(sympy[\w.]*)$", proc.stderr, re.MULTILINE))
    assert "sympy.logic.boolalg" in loaded  # cfn-lint was loaded
    assert len(loaded) < 100 and "sympy.polys" not in loaded
