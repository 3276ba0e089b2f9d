"""Stored mpmath references for the unit tests: computed once by ``tests/refs/generate.py``, read by the tests.

An mpmath reference (a quadrature or a long sum at 30-60 digits) costs from 0.05 to 2 CPU-s and
gives the same number on every run. The tests that need many of them read them from a committed
JSON file, ``tests/refs/<name>.json``, and assert the library against the stored values. Each entry
records:

* ``key``: the test's inputs, written out (the family, every parameter as ``repr``, the quantity);
* ``value``: the reference, as a decimal string with the precision it was computed at;
* ``dps``: that precision (mpmath decimal digits);
* ``code``: the SHA-256 of the source of the functions that compute it (the mpmath expressions),
  and ``functions``, their names (the file also records mpmath's version).

Nothing can rot silently:

* a test asking for a key that is not stored fails (the stored inputs are exactly the tests' inputs;
  each file also checks that no stored key is left over, :meth:`RefStore.check_keys`);
* a stored entry whose ``code`` differs from the current source of its functions fails: a changed
  reference must be recomputed (``python tests/refs/generate.py``);
* ``live=True`` recomputes a reference with mpmath on every run and asserts it equals the stored
  value to ``dps - 5`` digits (each test file keeps at least one live reference per group);
* ``KLBOOK_REFS=live`` recomputes every reference (and compares it with the stored one);
  ``KLBOOK_REFS=write`` recomputes and stores them (what generate.py runs).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import mpmath as mp
import pytest

DIR = Path(__file__).resolve().parent
MODE = os.environ.get("KLBOOK_REFS", "stored")
if MODE not in ("stored", "live", "write"):
    raise ValueError(f"KLBOOK_REFS must be stored, live or write, not {MODE!r}")
REGENERATE = "python tests/refs/generate.py"


class Source(str):
    """Source text standing for code that is not a named function (a table of lambdas): see :func:`assignment`."""

    name = "source"


def assignment(module_file: str, name: str) -> Source:
    """The source of the top-level statement ``name = ...`` of a module (e.g. a dict of lambdas,
    whose lambdas ``inspect.getsource`` gives only the first line of)."""
    text = Path(module_file).read_text(encoding="utf-8")
    for node in ast.parse(text).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            out = Source(ast.get_source_segment(text, node))
            out.name = name
            return out
    raise KeyError(f"{module_file} has no top-level {name} = ...")


@functools.lru_cache(maxsize=None)
def _digest(code: tuple) -> tuple[list[str], str]:
    for f in code:
        if not isinstance(f, Source) and getattr(f, "__name__", "") == "<lambda>":
            raise TypeError("a lambda's source is not reliable (inspect gives its first line): pass assignment(...)")
    text = "\n".join(f if isinstance(f, Source) else inspect.getsource(f) for f in code)
    names = [f.name if isinstance(f, Source) else f.__qualname__ for f in code]
    return names, hashlib.sha256(text.encode()).hexdigest()


def code_digest(code: Iterable) -> tuple[list[str], str]:
    """Names and SHA-256 of the source of ``code`` (functions, or :class:`Source` texts): the code
    that computes a reference."""
    return _digest(tuple(code))


class RefStore:
    """The references of one test file, kept in ``tests/refs/<name>.json``."""

    def __init__(self, name: str):
        self.name = name
        self.path = DIR / f"{name}.json"
        self.entries: dict[str, dict] = {}
        if self.path.exists():
            self.entries = json.loads(self.path.read_text(encoding="utf-8"))["entries"]

    def get(self, key: str, compute: Callable[[], object], *, dps: int, code: Iterable,
            live: bool = False) -> mp.mpf:
        """The reference ``key``: ``compute()`` (an mpmath number, computed at ``dps`` digits).

        Stored value unless ``live`` (or ``KLBOOK_REFS`` is ``live``/``write``), in which case
        ``compute()`` runs and must agree with the stored value to ``dps - 5`` digits.
        """
        names, digest = code_digest(code)
        entry = self.entries.get(key)
        if MODE == "write":
            value = compute()
            with mp.workdps(dps):  # mp.mpf() would round to the caller's precision
                self.entries[key] = {"value": mp.nstr(value, dps, strip_zeros=False), "dps": dps,
                                     "functions": ", ".join(names), "code": digest}
            self._save()
            return value
        if entry is None:
            pytest.fail(f"{self.path.name}: no stored reference for {key!r}; run {REGENERATE}")
        if entry["code"] != digest or entry["dps"] != dps:
            pytest.fail(f"{self.path.name}: the code or precision of {key!r} changed since it was stored "
                        f"({', '.join(names)}); run {REGENERATE}")
        with mp.workdps(dps + 5):
            stored = mp.mpf(entry["value"])
        if not (live or MODE == "live"):
            return stored
        value = compute()
        with mp.workdps(dps + 5):
            value = mp.mpf(value)
            tol = mp.mpf(10) ** (5 - dps) * max(abs(stored), mp.mpf(10) ** (-dps))
            assert abs(value - stored) <= tol, (
                f"{self.path.name}: {key!r} recomputed live is {value}, stored {stored}; run {REGENERATE}")
        return value

    def check_keys(self, expected: Iterable[str]) -> None:
        """Assert the stored keys are exactly ``expected`` (the test file's inputs).

        Skips the calling test while ``generate.py`` writes the file (``KLBOOK_REFS=write``): the
        entries are still being stored then."""
        if MODE == "write":
            pytest.skip("tests/refs/generate.py is writing the stored references")
        expected = set(expected)
        stored = set(self.entries)
        assert stored == expected, (
            f"{self.path.name} out of date (run {REGENERATE}): "
            f"not stored {sorted(expected - stored)[:5]}, stored but unused {sorted(stored - expected)[:5]}")

    def _save(self) -> None:
        data = {"about": "mpmath references of tests/test_" + self.name + ".py, written by " + REGENERATE
                         + " (tests/refs/store.py says what each entry holds)",
                "mpmath": mp.__version__,
                "entries": dict(sorted(self.entries.items()))}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        tmp.replace(self.path)
