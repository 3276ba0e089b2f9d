"""JupyterLab as a reader runs it: a real server from the book's .venv, driven in headless Chromium.

Fixtures (``make test-lab`` runs ``pytest tests/lab``):

``lab_root`` (session)
    A copy of ``chapters/`` in a temporary directory. JupyterLab serves the copy, so nothing a
    test runs or saves ever touches the repository's notebooks.
``lab`` (session)
    A :class:`Lab`: ``jupyter lab`` started from this interpreter (the .venv; ``SERVER_BOOT``) on 127.0.0.1 at a
    free port with a random token, its config, runtime, settings and workspace directories in
    a temporary directory (a reader's own settings play no part). Settings: notebooks render
    every cell (``windowingMode: none``, so every markdown cell is rendered and checked, not
    only those on screen), no autosave, no news or update checks. ``window.jupyterapp`` is
    exposed (``--LabApp.expose_app_in_browser``) so tests can read the notebook model.
    Stopped, with its kernels, at the end of the session.
``lab_browser`` (session)
    A Playwright ``Browser``: Debian's ``/usr/bin/chromium`` (or ``$KLBOOK_CHROMIUM``), headless.
    Never ``playwright install``.
``lab_page`` (function)
    ``lab_page() -> Page`` in a fresh browser context whose requests to any host other than
    127.0.0.1 are refused by Chromium (``tests/local_chromium.py``) and recorded in ``page.klbook_foreign``; console errors and warnings
    and uncaught page errors are recorded in ``page.klbook_console``.
``lab_app`` (session)
    A :class:`LabApp`: one such page with JupyterLab loaded (``/lab?reset``, a fresh workspace)
    and started, for every test of the session (of each pytest process: ``make test-lab`` runs one). Loading
    JupyterLab costs about 4 CPU-s (its scripts parsed and compiled in the page, served by the
    server); a test opens its notebook in the running app (``docmanager:open``, as a reader's
    double click in the file browser does) and closes it, with its kernel, when done. What the
    console and the request filter recorded while the app loaded (``boot_console``,
    ``boot_foreign``) belongs to every test's "on opening" checks.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from local_chromium import CHROMIUM, CHROMIUM_ARGS, is_local

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 120

# JupyterLab user settings for the test server (plugin id -> settings).
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {"checkForUpdates": False, "fetchNews": "false"},
}

# The test server is `python -m jupyterlab` without jsonschema's IRI grammar: jupyter_server imports
# jsonschema (jupyter_events), whose import builds rfc3987_syntax's Earley grammar for the "iri" and
# "iri-reference" format checks: 1.6-2.1 of the 2.8 CPU-s the server spends importing, in every test
# server. No schema the server validates uses those formats (jupyter_events' event schemas use
# "datetime" and "uri"), and jsonschema leaves a format unchecked when its checker cannot be imported.
SERVER_BOOT = ("import sys; sys.modules['rfc3987_syntax'] = None; "
               "from jupyterlab.labapp import main; sys.exit(main())")

# JupyterLab page config for the test server (labconfig/page_config.json).
PAGE_CONFIG = {"buildCheck": False, "buildAvailable": False}


@dataclass
class Lab:
    url: str      # http://127.0.0.1:PORT
    token: str
    root: Path    # the directory JupyterLab serves

    def notebook_url(self, name: str) -> str:
        """The URL that opens ``name`` (relative to ``root``) in a fresh workspace."""
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"

    def app_url(self) -> str:
        """The URL of JupyterLab itself, in a fresh workspace (no document open)."""
        return f"{self.url}/lab?reset&token={self.token}"


@dataclass
class LabApp:
    page: object              # playwright Page with JupyterLab started (window.jupyterapp)
    boot_console: list[str]   # console errors/warnings while JupyterLab loaded
    boot_foreign: list[str]   # requests to other hosts while JupyterLab loaded


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lab") / "chapters"
    shutil.copytree(REPO / "chapters", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_build"))
    return root


@pytest.fixture(scope="session")
def lab(lab_root, tmp_path_factory) -> Lab:
    home = tmp_path_factory.mktemp("lab-home")
    settings = home / "settings"
    for plugin, values in SETTINGS.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    # No "build recommended" check: on loading, the front end would ask the server to compare
    # JupyterLab's build with the installed extensions, which runs node in a subprocess.
    labconfig = home / "config" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(json.dumps(PAGE_CONFIG))
    env = dict(os.environ,
               JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               PYTHONUNBUFFERED="1")
    port, token = _free_port(), secrets.token_hex(24)
    cmd = [sys.executable, "-c", SERVER_BOOT, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={lab_root}",
           "--LabApp.expose_app_in_browser=True", "--LabApp.extension_manager=readonly",
           "--ServerApp.port_retries=0",
           # no search for language servers (none is installed; the search runs npm, ~0.3 CPU-s)
           "--LanguageServerManager.autodetect=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(home / "server.log", "wb")
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=lab_root)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if server.poll() is not None:
            log.close()
            pytest.fail(f"jupyter lab exited with {server.returncode}:\n{(home / 'server.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"jupyter lab did not answer in {START_TIMEOUT_S} s")
        time.sleep(0.3)
    yield Lab(url=url, token=token, root=lab_root)
    server.terminate()  # jupyter_server shuts its kernels down on SIGTERM
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    log.close()


@pytest.fixture(scope="session")
def lab_browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: sudo apt-get install -y chromium (never `playwright install`)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def _recording_page(context):
    """A new page of ``context`` that records (``page.klbook_foreign``) every request to a host other
    than 127.0.0.1 (Chromium refuses them: ``tests/local_chromium.py``), and records console errors and warnings and uncaught page
    errors (``page.klbook_console``)."""
    page = context.new_page()
    page.klbook_foreign = []
    page.klbook_console = []

    # Chromium refuses every host but 127.0.0.1 (tests/local_chromium.py): no request is intercepted
    page.on("request", lambda r: None if is_local(r.url) else page.klbook_foreign.append(r.url))
    page.on("console", lambda m: page.klbook_console.append(f"{m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: page.klbook_console.append(f"pageerror: {e}"))
    return page


@pytest.fixture
def lab_page(lab_browser):
    contexts = []

    def make(width: int = 1280, height: int = 900):
        context = lab_browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        return _recording_page(context)

    yield make
    for context in contexts:
        context.close()


# JupyterLab has started: its plugins activated and the (reset) workspace restored.
APP_STARTED = """() => !!(window.jupyterapp && jupyterapp.shell && jupyterapp.commands
                       && jupyterapp.commands.hasCommand('docmanager:open')
                       && jupyterapp.commands.hasCommand('notebook:run-all-cells'))"""


@pytest.fixture(scope="session")
def lab_app(lab, lab_browser) -> LabApp:
    context = lab_browser.new_context(viewport={"width": 1280, "height": 900})
    page = _recording_page(context)
    page.goto(lab.app_url())
    page.wait_for_function(APP_STARTED, timeout=START_TIMEOUT_S * 1000, polling=250)
    page.evaluate("() => Promise.all([jupyterapp.started, jupyterapp.restored])")
    yield LabApp(page=page, boot_console=list(page.klbook_console), boot_foreign=list(page.klbook_foreign))
    context.close()
