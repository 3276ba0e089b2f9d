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


def _run_without(blocked: list[str], code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter in which importing any of ``blocked`` fails."""
    prelude = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in blocked)
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_import_klbook_needs_neither_extra():
    out = _run_without(["matplotlib", "ipywidgets", "IPython"], (
        "import klbook, sys\n"
        "assert klbook.kl_divergence([0.5, 0.5], [0.9, 0.1]) > 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'ipywidgets', 'IPython')"
        " and sys.modules[m] is not None))\n"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_plotting_without_matplotlib_names_the_extra():
    out = _run_without(["matplotlib", "matplotlib.pyplot"], "import klbook.book.plotting")
    assert out.returncode == 1
    assert "ImportError" in out.stderr and "pip install klbook[plotting]" in out.stderr


def test_widgets_without_ipywidgets_names_the_extra():
    out = _run_without(["ipywidgets"], (
        "from scipy import stats\n"
        "from klbook.book.widgets import integrand_widget\n"
        "integrand_widget(stats.norm(0, 1))\n"))
    assert out.returncode == 1
    assert "ImportError" in out.stderr and "pip install klbook[widgets]" in out.stderr


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
