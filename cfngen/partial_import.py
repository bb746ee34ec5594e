"""sympy for cfn-lint, without importing all of sympy: ~0.1 s of every lint process.

cfn-lint reasons about a template's Conditions with sympy's propositional logic: it takes
`And`, `Or`, `Not`, `Implies`, `Equivalent`, `Symbol` and `Dummy` from the `sympy` package, and
`satisfiable`, `EncodedCNF` and a few Boolean classes from its `logic`, `assumptions.cnf` and
`core` modules. Importing the package runs `sympy/__init__.py`, which imports all of sympy
(calculus, polynomials, matrices, printing: about 420 modules, ~0.2 s, a third of loading
cfn-lint) before the first of those names is there. The modules cfn-lint uses are 65 of them.

`prepare()` (called before cfn-lint is imported, in whichever process imports it) puts a
`sympy` package in `sys.modules` whose `__path__` and `__spec__` are the real package's but
whose `__init__` has not run yet, imports the submodules cfn-lint uses (in the order sympy's
own `__init__` imports them: `core`, then `logic`, then `assumptions`) and sets on the package
the seven names cfn-lint imports from it, taken from the modules that define them (the objects
the real `__init__` would have set: the same classes, not copies). Nothing of sympy is changed
or replaced: every module that loads is sympy's own file, run by the import system as usual.
If the submodules do not import or define those names (another sympy version), the partial
package is taken out of `sys.modules` again and sympy imports whole, as it always did. A
process that already imported sympy is left alone.

cfn-lint calls sympy only for a template's `Conditions` and `Rules` (it builds their logic when
it reads the template, and asks it whether branches can both hold). There sympy's own
functions import more of sympy as they go, and some import names from the package, which its
`__init__` would have set long before. So `whole(template)`, called before cfn-lint reads a
template, runs the real `__init__` first (in the same module object, as importing it would
have) when the template has either section; every template cfngen renders has neither. The
same happens on the first other name anyone asks of the package (`sympy.pi`): code that
needs more of sympy gets all of it, only later. And should cfn-lint fail on a template while
only part of sympy is loaded (a path of cfn-lint's this rule did not foresee, say a later
version's), `run` makes sympy whole and lints that template again: a failure of this
shortcut costs time, never a different result.

tests/test_partial_import.py shows that cfn-lint reports the same findings either way, on the
third-party templates of the corpus that have Conditions.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")

PACKAGE = "sympy"
# the submodules cfn-lint imports, in the order sympy's __init__ imports them (core first:
# `sympy.logic` imports only part of `sympy.core`, which then imports `sympy.logic` back)
SUBMODULES = ("sympy.core", "sympy.logic", "sympy.assumptions.cnf")
# what cfn-lint takes from the package itself, and the module that defines it
NAMES = {
    "And": "sympy.logic.boolalg",
    "Or": "sympy.logic.boolalg",
    "Not": "sympy.logic.boolalg",
    "Implies": "sympy.logic.boolalg",
    "Equivalent": "sympy.logic.boolalg",
    "Symbol": "sympy.core.symbol",
    "Dummy": "sympy.core.symbol",
}
# the template sections cfn-lint hands to sympy
SECTIONS = ("Conditions", "Rules")


class _Partial(types.ModuleType):
    """A package whose `__init__` runs on the first name it does not hold yet."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        self._cfngen_run_init()
        return getattr(self, name)

    def _cfngen_run_init(self) -> None:
        self.__class__ = types.ModuleType  # type: ignore[assignment]  # plain from now on
        loader: Any = self.__loader__  # set by prepare(): sympy's own
        try:
            loader.exec_module(self)  # sympy's __init__, in this module, as import runs it
        except BaseException:
            self.__class__ = _Partial  # not whole yet: the next name asked runs it again
            raise


def _complete() -> bool:
    """All of sympy now, if only part of it is loaded; True if it was."""
    package = sys.modules.get(PACKAGE)
    if not isinstance(package, _Partial):
        return False
    package._cfngen_run_init()
    return True


def whole(template: Any) -> None:
    """Before cfn-lint reads `template` (a parsed template): all of sympy, if the template has
    a section cfn-lint gives to sympy and only part of sympy is loaded."""
    if isinstance(template, dict) and any(template.get(section) for section in SECTIONS):
        _complete()


def run(lint: Callable[[], Iterable[T]], template: Any) -> list[T]:
    """`lint()` (cfn-lint on `template`) with all of sympy where the template needs it, and
    once more with all of sympy if it raised while only part was loaded: whatever path of
    cfn-lint's the Conditions rule did not foresee, the result is the one all of sympy gives."""
    whole(template)
    try:
        return list(lint())
    except Exception:
        if not _complete():
            raise
        return list(lint())


def prepare() -> bool:
    """Make `import sympy` (and cfn-lint's imports from it) load only what cfn-lint uses.
    True when the partial package is in place; False when sympy was imported already, is
    not installed, or did not import in part (then it imports whole, as before)."""
    if PACKAGE in sys.modules:
        return isinstance(sys.modules[PACKAGE], _Partial)
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return False
    package = _Partial(PACKAGE)
    package.__spec__ = spec
    package.__loader__ = spec.loader
    package.__file__ = spec.origin
    package.__path__ = list(spec.submodule_search_locations)
    package.__package__ = PACKAGE
    sys.modules[PACKAGE] = package
    try:
        for name in SUBMODULES:
            importlib.import_module(name)
        for name, module in NAMES.items():
            package.__dict__[name] = getattr(sys.modules[module], name)
    except Exception:  # another sympy: forget the part, import it whole when asked
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]
        return False
    return True
