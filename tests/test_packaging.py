"""klbook as a package, and the repository's channel settings (issue 14).

- The library's metadata: core dependencies numpy and scipy only, extras `plotting` and
  `widgets`, the MIT licence file, klbook/README.md as the long description (its examples run).
- A missing extra raises an ImportError that names it; `import klbook` needs neither.
- One repository URL: _config.yml's repository.url is what the Binder button, the README
  badge and the package's Source URL all use.
- The Python version: runtime.txt (Binder) and the Makefile's check agree.

The wheel itself (LICENSE and README inside, importable with numpy and scipy only) is built and
checked by hand and in the report of issue 14: building it here would need the network.
"""

from __future__ import annotations

import doctest
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_core_dependencies_are_numpy_and_scipy_only():
    assert _names(PYPROJECT["project"]["dependencies"]) == {"numpy", "scipy"}


def test_extras():
    extras = {k: _names(v) for k, v in PYPROJECT["project"]["optional-dependencies"].items()}
    assert extras["plotting"] == {"matplotlib"}
    assert extras["widgets"] == {"ipywidgets", "matplotlib"}  # the widgets draw with matplotlib


def test_license_and_readme():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert project["readme"] == "klbook/README.md"
    assert "# klbook" in (ROOT / project["readme"]).read_text(encoding="utf-8")


def test_library_readme_examples_run():
    text = (ROOT / "klbook" / "README.md").read_text(encoding="utf-8")
    test = doctest.DocTestParser().get_doctest(text, {}, "klbook/README.md", str(ROOT / "klbook/README.md"), 0)
    assert len(test.examples) >= 4
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0


# The three checks below each need an interpreter in which klbook has never been imported and some
# modules are blocked. One fresh interpreter loads numpy and scipy (klbook's own dependencies, which
# it imports in any case, and which load none of the extras: checked) and forks one child per check;
# each child blocks its modules, then imports klbook afresh. That is the fresh interpreter of each
# check without paying Python's and scipy's start-up three times.
_FORK_RUNNER = r"""
import json, os, sys, tempfile, traceback
import numpy, scipy, scipy.linalg, scipy.optimize, scipy.special, scipy.stats
cases = json.loads(sys.argv[1])
results = {"preloaded": sorted(m for m in sys.modules if m.split(".")[0] in ("matplotlib", "ipywidgets", "IPython", "klbook"))}
for name, (blocked, code) in cases.items():
    out, err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
    pid = os.fork()
    if pid == 0:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        status = 0
        try:
            for b in blocked:
                sys.modules[b] = None
            exec(compile(code, "<" + name + ">", "exec"), {"__name__": "__main__"})
        except SystemExit as exc:  # as the interpreter would exit
            status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # an uncaught exception: the traceback on stderr, exit code 1
            traceback.print_exc()
            status = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    _, wait_status = os.waitpid(pid, 0)
    out.seek(0)
    err.seek(0)
    results[name] = (os.waitstatus_to_exitcode(wait_status), out.read(), err.read())
print(json.dumps(results))
"""

_CASES = {
    "core": (["matplotlib", "ipywidgets", "IPython"], (
        "import klbook, sys\n"
        "assert klbook.kl_divergence([0.5, 0.5], [0.9, 0.1]) > 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'ipywidgets', 'IPython')"
        " and sys.modules[m] is not None))\n")),
    "plotting": (["matplotlib", "matplotlib.pyplot"], "import klbook.book.plotting"),
    "widgets": (["ipywidgets"], (
        "from scipy import stats\n"
        "from klbook.book.widgets import integrand_widget\n"
        "integrand_widget(stats.norm(0, 1))\n")),
}


@pytest.fixture(scope="module")
def without_extras() -> dict:
    """{check: (exit code, stdout, stderr)} of each case above, plus what the parent had loaded."""
    proc = subprocess.run([sys.executable, "-c", _FORK_RUNNER, json.dumps(_CASES)], capture_output=True,
                          text=True, cwd=ROOT, timeout=240)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    # numpy and scipy loaded none of the extras (nor klbook) before the children blocked them
    assert results.pop("preloaded") == []
    return results


def test_import_klbook_needs_neither_extra(without_extras):
    code, out, err = without_extras["core"]
    assert code == 0, err
    assert out.strip() == "[]"


def test_plotting_without_matplotlib_names_the_extra(without_extras):
    code, _, err = without_extras["plotting"]
    assert code == 1
    assert "ImportError" in err and "pip install klbook[plotting]" in err


def test_widgets_without_ipywidgets_names_the_extra(without_extras):
    code, _, err = without_extras["widgets"]
    assert code == 1
    assert "ImportError" in err and "pip install klbook[widgets]" in err


def test_one_repository_url():
    url = CONFIG["repository"]["url"].rstrip("/")
    branch = CONFIG["repository"].get("branch", "main")
    assert CONFIG["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert PYPROJECT["project"]["urls"]["Source"] == url
    owner_repo = url.removeprefix("https://github.com/")
    badge = f"https://mybinder.org/v2/gh/{owner_repo}/{branch}?urlpath=lab/tree/chapters"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert badge in readme, f"README.md's Binder badge should link {badge} (from _config.yml repository.url)"
    binder_links = set(re.findall(r"https://mybinder\.org/v2/gh/[^\s)\"']+", readme))
    assert binder_links == {badge}, binder_links


def test_runtime_python():
    runtime = (ROOT / "runtime.txt").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"python-3\.\d+", runtime)
    minor = int(runtime.split(".")[1])
    # The pins need it (numpy 2.4, scipy 1.17, ipython 9 require Python >= 3.11) ...
    assert minor >= 11
    # ... and README.md states it.
    assert f"Python ≥ 3.{minor}" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("pattern", ["/build/", "/dist/"])
def test_build_outputs_ignored(pattern):
    assert pattern in (ROOT / ".gitignore").read_text(encoding="utf-8").split()
