"""Recompute and store the mpmath references of the unit tests (tests/refs/store.py says how they are used).

    .venv/bin/python tests/refs/generate.py                 # every stored file
    .venv/bin/python tests/refs/generate.py engine_references  # one

Each ``tests/refs/NAME.json`` belongs to ``tests/test_NAME.py``: the file is deleted, then the test
file runs in one process with ``KLBOOK_REFS=write``, so every reference it asks for is computed with
mpmath and stored with its inputs (the key), its precision and the hash of the code that computed it.
The run also asserts the library against the new references, as the tests always do.
Afterwards ``git diff tests/refs`` shows which references moved.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# One line per stored file: tests/test_<name>.py writes tests/refs/<name>.json.
NAMES = ["engine_references", "engine_ends_noise", "issue4_acceptance", "numeric", "closed_forms_continuous", "mixtures", "integrand", "alpha", "ch07_claims", "estimators", "variational"]


def main(argv: list[str]) -> int:
    names = argv or NAMES
    unknown = set(names) - set(NAMES)
    if unknown:
        print(f"unknown: {sorted(unknown)}; known: {NAMES}", file=sys.stderr)
        return 2
    env = dict(os.environ, KLBOOK_REFS="write", HYPOTHESIS_PROFILE="repro", PYTHONHASHSEED="0",
               OPENBLAS_NUM_THREADS="1")
    status = 0
    for name in names:
        (HERE / f"{name}.json").unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:nbval", "-p", "no:xdist",
               "-q", f"tests/test_{name}.py"]
        print(" ".join(cmd), flush=True)
        status |= subprocess.call(cmd, cwd=ROOT, env=env)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
