"""Browser fixtures: a local static server and Debian's headless Chromium, driven by Playwright.

Any test module in ``tests/browser/`` can use these fixtures (pytest shares a conftest with
its directory and below). They check a page the way the book's pages are checked:

``book_html`` (session)
    :class:`pathlib.Path` of the built book, ``_build/html`` (or ``$KLBOOK_HTML``). Fails
    with a hint to run ``make book`` if it is not built.
``serve`` (session)
    ``serve(directory) -> base_url``: serves a directory over HTTP on 127.0.0.1 at a free
    port (one server per directory, stopped at the end of the session). Use it for HTML
    files you write yourself, e.g. an explorer rendered into ``tmp_path``.
``book_url`` (session)
    ``serve(book_html)``: the base URL of the built book, e.g. ``http://127.0.0.1:40123``.
``browser`` (session)
    A Playwright ``Browser``: ``/usr/bin/chromium`` (or ``$KLBOOK_CHROMIUM``), headless, with
    ``--no-sandbox --disable-gpu --disable-background-networking --disable-component-update
    --no-first-run``. Never run ``playwright install``: it downloads a browser.
``book_page`` (parameter)
    A test with a ``book_page`` argument runs once for every HTML page of the built book
    (a path relative to its root, e.g. ``"chapters/notation.html"``; ``None`` if unbuilt).
``open_page`` (function)
    ``open_page(url, screenshot=None) -> PageCheck``: opens ``url`` in a fresh browser
    context, waits for the page to load, for MathJax to finish typesetting and for the
    network to go idle, then scans it. While the page is open it records:

    * requests to any host other than the local server (they are also blocked),
    * failed requests and responses with status >= 400 (seen by the browser or the server),
    * console errors and uncaught page errors,
    * raw LaTeX left in the text outside code, and MathJax errors (e.g. an unknown macro),
    * ``<img>`` elements without alt text.

    ``screenshot="name"`` saves a full-page PNG as ``<book>/../screenshots/name.png``
    (``_build/screenshots/``). ``PageCheck.page`` is the Playwright ``Page``: interact with
    it (``page.fill``, ``page.click`` ...), call ``check.rescan()`` after a change, and end
    with ``check.assert_clean()``, which fails listing every problem found. Example::

        def test_my_explorer(book_url, open_page):
            check = open_page(f"{book_url}/chapters/04_forward_reverse.html")
            check.page.locator("#my-slider").fill("1.5")
            check.rescan()
            check.assert_clean()
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("KLBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
TIMEOUT_MS = 60_000             # page loads and waits; generous: 2 cores are shared
SCREENSHOT_TIMEOUT_MS = 240_000  # a full-page capture of a very long page (the API page) is slow


def book_html_dir() -> Path:
    """Where the built HTML book is: ``$KLBOOK_HTML`` or ``<repo>/_build/html``."""
    return Path(os.environ.get("KLBOOK_HTML", REPO / "_build" / "html")).resolve()


def book_pages(html: Path | None = None) -> list[str]:
    """Every HTML page of the built book, as paths relative to its root (assets excluded)."""
    html = html or book_html_dir()
    skip = {"_static", "_sources", "_images", "_downloads"}
    return sorted(
        p.relative_to(html).as_posix()
        for p in html.rglob("*.html")
        if not skip.intersection(p.relative_to(html).parts)
    )


# ---------------------------------------------------------------- local server


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves files quietly and records (path, status) of every response."""

    log: list[tuple[str, int]]

    def log_message(self, format: str, *args) -> None:  # silence stderr
        pass

    def log_request(self, code="-", size="-") -> None:
        try:
            self.log.append((self.path, int(code)))
        except (TypeError, ValueError):
            self.log.append((self.path, 0))


@dataclass
class StaticServer:
    """A threaded HTTP server on 127.0.0.1 serving one directory."""

    directory: Path
    log: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        handler = type("Handler", (_Handler,), {"log": self.log})
        self._httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(self.directory))
        )
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


_SERVERS: dict[str, StaticServer] = {}


def _server_for_url(url: str) -> StaticServer | None:
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    return next((s for s in _SERVERS.values() if s.url == origin), None)


@pytest.fixture(scope="session")
def serve() -> Iterator[Callable[[str | Path], str]]:
    def start(directory: str | Path) -> str:
        key = str(Path(directory).resolve())
        if key not in _SERVERS:
            _SERVERS[key] = StaticServer(Path(key))
        return _SERVERS[key].url

    yield start
    while _SERVERS:
        _SERVERS.popitem()[1].close()


@pytest.fixture(scope="session")
def book_html() -> Path:
    html = book_html_dir()
    if not (html / "index.html").is_file():
        pytest.fail(f"the book is not built in {html}: run `make book` first", pytrace=False)
    return html


@pytest.fixture(scope="session")
def book_url(book_html: Path, serve) -> str:
    return serve(book_html)


# ---------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: `apt-get install -y chromium` (never `playwright install`)",
                    pytrace=False)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Text outside code that is still LaTeX once MathJax has finished: a control sequence, a math
# delimiter, or $...$ holding TeX syntax. MathJax's own errors (unknown macro ...) count too.
_SCAN_JS = r"""
() => {
  const root = document.body.cloneNode(true);
  root.querySelectorAll(
    'pre, code, kbd, samp, script, style, noscript, textarea, template, svg, math, ' +
    'mjx-container, mjx-assistive-mml, .MathJax, .highlight'
  ).forEach(e => e.remove());
  const text = root.textContent;
  const patterns = [/\\[A-Za-z]+/g, /\\[()\[\]]/g, /\$\$/g, /\$[^$\s][^$\n]*[\\^_{}][^$\n]*\$/g];
  const raw = [];
  for (const re of patterns) {
    for (const m of text.matchAll(re)) {
      raw.push(text.slice(Math.max(0, m.index - 40), m.index + m[0].length + 40).replace(/\s+/g, ' '));
      if (raw.length > 20) break;
    }
  }
  // MathJax's own verdict on each formula: an error (merror), or an unknown macro, which
  // its noundefined extension shows in red instead of failing.
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.document && mj.startup.toMML) {
    for (const item of mj.startup.document.math) {
      const mml = item.root ? mj.startup.toMML(item.root) : '';
      if (/<merror|mathcolor="red"/.test(mml)) raw.push('MathJax cannot typeset: ' + item.math);
    }
  }
  for (const e of document.querySelectorAll('mjx-merror')) {
    raw.push('MathJax error: ' + (e.getAttribute('data-mjx-error') || e.textContent));
  }
  const noAlt = [...document.querySelectorAll('img')]
    .filter(i => !(i.getAttribute('alt') || '').trim())
    .map(i => i.getAttribute('src'));
  return {raw, noAlt, math: document.querySelectorAll('mjx-container').length};
}
"""

_WAIT_FOR_MATHJAX_JS = """
async () => {
  const mj = window.MathJax;
  if (!mj) return 'no MathJax on this page';
  if (!mj.startup || !mj.startup.promise) return 'MathJax configured but not loaded';
  await mj.startup.promise;
  if (mj.typesetPromise) await mj.typesetPromise();
  return 'typeset';
}
"""


@dataclass
class PageCheck:
    """One page opened in the browser, with every problem seen so far (see the module docstring)."""

    url: str
    page: object = None
    external: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    raw_math: list[str] = field(default_factory=list)
    no_alt: list[str] = field(default_factory=list)
    mathjax: str = ""
    math_count: int = 0
    server: StaticServer | None = None
    _log_start: int = 0

    def _evaluate(self, script: str):
        """``page.evaluate``, again after a navigation (a redirect page) destroys the context."""
        from playwright.sync_api import Error

        for attempt in range(5):
            try:
                return self.page.evaluate(script)
            except Error as exc:
                if "context was destroyed" not in str(exc) or attempt == 4:
                    raise
                self.page.wait_for_load_state("load")

    def rescan(self) -> None:
        """Wait for MathJax and the network, then look again for raw LaTeX and images without alt."""
        self.mathjax = self._evaluate(_WAIT_FOR_MATHJAX_JS)
        if self.mathjax == "MathJax configured but not loaded":
            self.page_errors.append("MathJax is configured on this page but its script did not load")
        self.page.wait_for_load_state("networkidle")
        found = self._evaluate(_SCAN_JS)
        self.raw_math = found["raw"]
        self.no_alt = found["noAlt"]
        self.math_count = found["math"]

    def problems(self) -> dict[str, list[str]]:
        """Every problem, by kind; empty lists when the page is clean."""
        failed = list(self.failed)
        if self.server is not None:  # also what the browser fetched on its own (e.g. /favicon.ico)
            failed += [f"{status} {path}" for path, status in self.server.log[self._log_start:]
                       if status >= 400 and f"{status} {path}" not in failed]
        return {
            "external requests": self.external,
            "failed requests / status >= 400": failed,
            "console errors": self.console_errors,
            "page errors": self.page_errors,
            "raw LaTeX or MathJax errors": self.raw_math,
            "<img> without alt": self.no_alt,
        }

    def assert_clean(self) -> None:
        found = {kind: items for kind, items in self.problems().items() if items}
        if found:
            lines = [f"{self.url}:"]
            for kind, items in found.items():
                lines.append(f"  {len(items)} {kind}:")
                lines += [f"    - {item}" for item in items[:15]]
            pytest.fail("\n".join(lines), pytrace=False)


@pytest.fixture
def open_page(browser, book_html_or_none) -> Iterator[Callable[..., PageCheck]]:
    contexts = []
    shots = (book_html_or_none.parent if book_html_or_none else REPO / "_build") / "screenshots"

    def _open(url: str, screenshot: str | None = None, viewport=(1280, 900)) -> PageCheck:
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        check = PageCheck(url=url, server=_server_for_url(url))
        if check.server is not None:
            check._log_start = len(check.server.log)
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)

        def route(r):
            req_url = r.request.url
            if req_url.startswith((origin + "/", "data:", "blob:")) or req_url == origin:
                r.continue_()
            else:
                check.external.append(req_url)
                r.abort("blockedbyclient")

        context.route("**/*", route)
        page = context.new_page()
        check.page = page

        def on_failed(req):
            if req.url not in check.external:
                check.failed.append(f"{req.failure} {req.url}")

        def on_response(resp):
            if resp.status >= 400:
                parts = urlsplit(resp.url)
                check.failed.append(f"{resp.status} {parts.path}" + (f"?{parts.query}" if parts.query else ""))

        page.on("requestfailed", on_failed)
        page.on("response", on_response)
        page.on("console", lambda m: check.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: check.page_errors.append(str(e)))
        page.goto(url, wait_until="load")
        check.rescan()
        if screenshot:
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / f"{screenshot}.png"), full_page=True, animations="disabled",
                            timeout=SCREENSHOT_TIMEOUT_MS)
        return check

    yield _open
    for context in contexts:
        context.close()


def pytest_generate_tests(metafunc):
    """A test taking a ``book_page`` argument runs once per page of the built book."""
    if "book_page" in metafunc.fixturenames:
        pages = book_pages() if book_html_dir().is_dir() else []
        metafunc.parametrize("book_page", pages or [None], ids=pages or ["book-not-built"])


@pytest.fixture(scope="session")
def book_html_or_none() -> Path | None:
    html = book_html_dir()
    return html if html.is_dir() else None
