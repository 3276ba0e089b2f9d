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
    A Playwright ``Browser``: ``/usr/bin/chromium`` (or ``$KLBOOK_CHROMIUM``), headless, started
    as ``tests/local_chromium.py`` says (every host name but 127.0.0.1 fails to resolve). Never run
    ``playwright install``: it downloads a browser.
``book_page`` (parameter)
    A test with a ``book_page`` argument runs once for every HTML page of the built book
    (a path relative to its root, e.g. ``"chapters/notation.html"``; ``None`` if unbuilt).
``open_page`` (function)
    ``open_page(url, screenshot=None) -> PageCheck``: opens ``url`` in a browser tab that
    starts as a fresh browser context does (``_Tab``: the test's first page reuses one cleared
    tab per process, any further page gets a new context), waits for the page to load, for MathJax to finish typesetting and for the
    network to go idle, then scans it. While the page is open it records:

    * requests to any host other than the local server (Chromium refuses them:
      ``tests/local_chromium.py``),
    * failed requests and responses with status >= 400 (seen by the browser or the server),
    * console errors and uncaught page errors,
    * raw LaTeX left in the text outside code, and MathJax errors (e.g. an unknown macro),
    * ``<img>`` elements without alt text.

    ``screenshot="name"`` saves a full-page PNG as ``<book>/../screenshots/name.png``
    (``_build/screenshots/``). ``viewport=(width, height)`` sets the window (1280 x 900 by
    default) and ``dark=True`` opens the page in the theme's dark mode. ``PageCheck.page`` is the Playwright ``Page``: interact with
    it (``page.fill``, ``page.click`` ...), call ``check.rescan()`` after a change, and end
    with ``check.assert_clean()``, which fails listing every problem found. Example::

        def test_my_explorer(book_url, open_page):
            check = open_page(f"{book_url}/chapters/04_forward_reverse.html")
            check.page.locator("#my-slider").fill("1.5")
            check.rescan()
            check.assert_clean()

    The screen checks (issue 13), on a page opened by ``open_page``:

    * ``check.view(width, dark)`` resizes the window and switches the theme's mode in place;
      ``check.shoot(name)`` saves a full-page screenshot (capped at 30,000 px tall);
    * ``check.expand()`` opens every folded solution, dropdown and toggle, so that the checks
      below see what a reader sees after opening them;
    * ``check.screen()`` measures the page as it is shown now (see ``SCREEN_JS``): the page
      width against the window, inline formulas clipped by a box that does not scroll, explorer
      controls that are covered or too small, explorer text (contrast < 4.5) and data curves
      (< 3) against what is really behind them, and raster images shown with fewer than two
      image pixels per CSS pixel;
    * ``check.axe()`` runs axe-core (vendored from npm: ``node_modules/axe-core``) with the
      WCAG 2.0/2.1 A and AA rules and returns its serious and critical violations; its
      color-contrast rule skips only what cannot change its verdict (``_MARK_CONTRAST_SKIP_JS``);
      ``check.record_shown(view)`` / ``check.mark_new(views)`` / ``axe(..., only_new=True)`` judge
      only what a view shows that earlier views did not, and ``check.mark_width_coloured()`` adds
      what a width media query colours; a whole-page run of the colour rules takes the formulas'
      boxes out of the page while it runs (``_MATH_SWAP_JS``: cheaper, same verdicts, checked that
      nothing else moves), and ``check.axe_colours(width, modes)`` makes it in several modes at once;
    * ``check.math_colours()``: every formula in its text's colour, with enough contrast
      (MathJax's glyphs are CSS content, which no axe rule reads).
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, TypeVar
from urllib.parse import urlsplit

import pytest

from local_chromium import CHROMIUM, CHROMIUM_ARGS, is_local

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]
AXE_JS = REPO / "node_modules" / "axe-core" / "axe.min.js"
MAX_SHOT_PX = 30_000             # taller pages are cut: Chromium cannot capture much more at once
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


# WCAG colour helpers shared by the screen checks and the formula-colour check: parse a CSS
# rgb()/rgba() colour, composite one colour over another, relative luminance, contrast ratio.
_CONTRAST_HELPERS_JS = r"""
  const parse = (s) => {
    const m = /rgba?\(([^)]+)\)/.exec(s || '');
    if (!m) return null;
    const v = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const lum = (c) => {
    const f = (x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
"""


# The screen checks (issue 13). Returns {width, clippedMath, controls, contrast, figures, toc,
# wideDisplay, wideTables}; every list holds one readable line per problem.
SCREEN_JS = r"""
(opts) => {
  // opts: {expand: bool}
  const out = {width: null, clippedMath: [], controls: [], contrast: [], figures: [], toc: [], wideDisplay: [], wideTables: 0};
  const de = document.documentElement;
  if (opts.expand) {
    document.querySelectorAll('details').forEach(d => { d.open = true; });
    document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
  }
  out.width = {scroll: de.scrollWidth, client: de.clientWidth, inner: window.innerWidth};
  const describe = (el) => {
    const sec = el.closest('section[id]');
    const t = (el.getAttribute('aria-label') || el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 70);
    return (sec ? '#' + sec.id + ': ' : '') + t;
  };
  // ---- inline math that no one can see whole: clipped by a box that does not scroll
  const isScroll = (v) => v === 'auto' || v === 'scroll';
  for (const mj of document.querySelectorAll('.bd-article mjx-container:not([display="true"])')) {
    if (mj.parentElement && mj.parentElement.closest('mjx-container')) continue;
    let rect = mj.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) continue;
    let verdict = null;
    for (let a = mj.parentElement; a && a !== de && a !== document.body; a = a.parentElement) {
      const cs = getComputedStyle(a);
      if (cs.overflowX === 'visible') continue;
      const ar = a.getBoundingClientRect();
      const left = ar.left + a.clientLeft, right = left + a.clientWidth;
      if (rect.right <= right + 1 && rect.left >= left - 1) continue;
      if (isScroll(cs.overflowX)) { rect = ar; continue; }
      verdict = `clipped at ${Math.round(right - left)} px of ${Math.round(mj.getBoundingClientRect().width)} px`;
      break;
    }
    if (!verdict && rect.right > de.clientWidth + 1) verdict = `past the screen edge (right ${Math.round(rect.right)} px)`;
    if (verdict) {
      const tex = (mj.querySelector('mjx-assistive-mml') || mj).textContent.replace(/\s+/g, ' ').slice(0, 60);
      const sec = mj.closest('section[id]');
      out.clippedMath.push(`${sec ? '#' + sec.id : ''} "${tex}": ${verdict}`);
    }
  }
  // display math wider than its column (it scrolls sideways), and tables past the screen (counted)
  for (const mj of document.querySelectorAll('.bd-article mjx-container[display="true"]')) {
    const w = mj.scrollWidth, c = mj.clientWidth;
    if (mj.getBoundingClientRect().width > 0 && w > c + 1) out.wideDisplay.push(`${describe(mj)}: ${w} px > ${c} px`);
  }
  for (const t of document.querySelectorAll('.bd-article table, .bd-article pre')) {
    const r = t.getBoundingClientRect();
    if (r.width > 0 && r.right > de.clientWidth + 1) out.wideTables += 1;
  }
  // ---- explorer controls: covered by something else, or too small to use
  for (const c of document.querySelectorAll('.klbook-explorer :is(input, button, select, textarea)')) {
    let r = c.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    c.scrollIntoView({block: 'center', inline: 'nearest'});
    r = c.getBoundingClientRect();
    const name = (c.id || c.getAttribute('aria-label') || c.textContent || c.type).trim().slice(0, 40);
    const range = c.type === 'range';
    if (range && r.width < 200) out.controls.push(`slider ${name}: ${Math.round(r.width)} px wide (< 200)`);
    if (!range && (r.width < 24 || r.height < 24)) out.controls.push(`control ${name}: ${Math.round(r.width)}x${Math.round(r.height)} px (< 24x24)`);
    const y = r.top + r.height / 2;
    for (const f of [0.05, 0.25, 0.5, 0.75, 0.95]) {
      const x = r.left + f * r.width;
      if (x < 0 || x >= de.clientWidth) { out.controls.push(`${name}: off screen at ${Math.round(x)} px`); break; }
      const hit = document.elementFromPoint(x, y);
      if (hit && hit !== c && !c.contains(hit) && !(hit.tagName === 'LABEL' && hit.control === c)) {
        out.controls.push(`${name}: covered at ${Math.round(f * 100)}% of its width by <${hit.tagName.toLowerCase()} class="${hit.getAttribute('class') || ''}"> "${(hit.textContent || '').trim().slice(0, 30)}"`);
        break;
      }
    }
  }
  // ---- contrast of explorer text (4.5) and data lines (3), against what is really behind them
""" + _CONTRAST_HELPERS_JS + r"""  const DATA_LINE = /(^|\s)kx-(p|q|integrand|ref)(\s|-|$)/;
  const SHAPES = new Set(['rect', 'path', 'circle', 'ellipse', 'polygon']);
  const opacityChain = (el) => {
    let o = 1;
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity || '1');
    return o;
  };
  const backgroundAt = (self, x, y) => {
    const layers = [];
    for (const e of document.elementsFromPoint(x, y)) {
      if (e === self || self.contains(e) || e.contains(self) && e.namespaceURI === 'http://www.w3.org/2000/svg' && !SHAPES.has(e.tagName)) continue;
      const cs = getComputedStyle(e);
      let c = null;
      if (e.namespaceURI === 'http://www.w3.org/2000/svg') {
        if (!SHAPES.has(e.tagName)) continue;
        c = parse(cs.fill);
        if (c) c[3] *= parseFloat(cs.fillOpacity || '1') * opacityChain(e);
      } else {
        c = parse(cs.backgroundColor);
        if (c) c[3] *= opacityChain(e);
      }
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 0.999) break; }
    }
    let bg = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const check = (el, fgStr, x, y, min, what) => {
    const fg = parse(fgStr);
    if (!fg) return;
    fg[3] *= opacityChain(el);
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return;
    const bg = backgroundAt(el, x, y);
    const r = ratio(over(fg, bg), bg);
    if (r < min) out.contrast.push(`${what} "${describe(el).slice(0, 50)}": ${r.toFixed(2)} (< ${min}) ${fgStr} on rgb(${bg.slice(0, 3).map(Math.round).join(',')})`);
  };
  for (const root of document.querySelectorAll('.klbook-explorer')) {
    root.scrollIntoView({block: 'start'});
    const els = [...root.querySelectorAll('*')].filter(e =>
      !e.closest('mjx-container') || e.tagName === 'MJX-CONTAINER');
    for (const e of els) {
      const r = e.getBoundingClientRect();
      if (r.width === 0 || r.height === 0) continue;
      if (r.top < 0 || r.bottom > innerHeight) { e.scrollIntoView({block: 'center'}); }
      const rr = e.getBoundingClientRect();
      const cx = rr.left + rr.width / 2, cy = rr.top + rr.height / 2;
      const cs = getComputedStyle(e);
      if (e.namespaceURI === 'http://www.w3.org/2000/svg') {
        if (e.tagName === 'text' && e.textContent.trim()) check(e, cs.fill, cx, cy, 4.5, 'text');
        else if (DATA_LINE.test(e.getAttribute('class') || '') && cs.stroke !== 'none' && e.getTotalLength && e.getTotalLength() > 20) {
          const L = e.getTotalLength();
          const p = e.getPointAtLength(L / 2), m = e.getScreenCTM();
          if (!m) continue;
          const sx = m.a * p.x + m.c * p.y + m.e, sy = m.b * p.x + m.d * p.y + m.f;
          const fg = parse(cs.stroke); if (!fg) continue;
          check(e, `rgba(${fg[0]},${fg[1]},${fg[2]},${fg[3] * parseFloat(cs.strokeOpacity || '1')})`, sx, sy, 3, 'line');
        }
      } else if (e.tagName === 'MJX-CONTAINER' || [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) {
        check(e, cs.color, cx, cy, 4.5, 'text');
      }
    }
  }
  // ---- the page's contents (right sidebar), every entry open as scrolling opens them: nothing past its edge
  const side = document.querySelector('.bd-sidebar-secondary');
  if (side && side.getBoundingClientRect().width > 0) {
    const lists = [...side.querySelectorAll('ul')];
    const shown = lists.map(u => u.style.display);
    lists.forEach(u => { u.style.display = 'block'; });
    const edge = side.getBoundingClientRect().right;
    for (const a of side.querySelectorAll('a')) {   // the entry and its code box
      const right = Math.max(...[a, ...a.querySelectorAll('*')].map(e => e.getBoundingClientRect())
        .filter(r => r.width).map(r => r.right), -Infinity);
      if (right > edge + 0.5) out.toc.push(`${a.textContent.trim().slice(0, 60)}: ${Math.round(right - edge)} px past the sidebar`);
    }
    lists.forEach((u, i) => { u.style.display = shown[i]; });
  }
  // ---- raster figures: at least 2 image pixels per CSS pixel shown
  for (const img of document.querySelectorAll('.bd-article img')) {
    const src = img.currentSrc || img.src || '';
    if (!img.naturalWidth || /\.svg(\?|#|$)/i.test(src) || src.startsWith('data:image/svg')) continue;
    const w = img.getBoundingClientRect().width;
    if (w < 48) continue;   // hidden, or an icon (the module index's minus.png), not a figure
    if (img.naturalWidth < 2 * w - 0.5) out.figures.push(`${src.split('/').pop().slice(0, 16)}: ${img.naturalWidth} px shown at ${Math.round(w)} px (${(img.naturalWidth / w).toFixed(2)}x)`);
  }
  return out;
}
"""

_EXPAND_JS = """
() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
  document.querySelectorAll('button.toggle-button-hidden').forEach(b => b.classList.remove('toggle-button-hidden'));
}
"""

_SET_MODE_JS = """
(mode) => {
  document.documentElement.dataset.theme = mode;
  document.documentElement.dataset.mode = mode;
  localStorage.setItem('theme', mode);
  localStorage.setItem('mode', mode);
}
"""

# Wait until the page has settled: two animation frames (layout, then what ResizeObservers
# and style changes did in the first), then bring every finite CSS transition or animation
# running now to its end (switching the theme's mode starts colour transitions, e.g. on the
# search button), again until a frame starts none. Infinite ones never end. No fixed sleeps.
# Each is ended at once by Animation.finish(): the page is then in the state it would reach at the
# transition's natural end (the end value; finished promise resolved, transitionend fired), without
# the 15-20 frames of the transition in between (switching the mode starts ~40, on the theme's
# buttons: on a chapter ~0.15 CPU-s per switch). The explorers animate with requestAnimationFrame,
# not with CSS or Web Animations: nothing of theirs is in document.getAnimations().
_TRANSITIONS_DONE_JS = """
async () => {
  const frames = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  for (let round = 0; round < 20; round++) {
    await frames();
    const running = document.getAnimations().filter(a => a.playState === 'running'
        && a.effect && a.effect.getComputedTiming().endTime !== Infinity);
    if (!running.length) return round;
    running.forEach(a => a.finish());
    await Promise.all(running.map(a => a.finished.catch(() => null)));
  }
  return -1;
}
"""

# What axe's color-contrast rule may skip without changing its verdict (axe-core 4.11). The rule
# costs 4-6 ms per text element, and its `matches` step walks every element of the page.
# 1. An element none of whose children is a text node holding more than white space, but a form
#    field: the rule's matches (colorContrastMatches -> hasRealTextChildren: its text children's
#    visible text, sanitised (trimmed), is empty) is false for it, so axe never evaluates it;
#    skipping it only saves the walk (MathJax alone puts ~10,000 such boxes on a chapter page; the
#    blocks and lists whose text children are the line breaks between their children, 350-800 on
#    a page, cost axe's matches step more: 14 % of the colour runs on 4 pages).
#    colorContrastMatches takes input, select and textarea before it asks for text children (it
#    judges their value): they are never skipped as textless (before 2026-12-07 they were; no page
#    of the book showed one that axe would judge: its one text field, the search box, is hidden).
# 2. An element inside a box that clip: rect() cuts to nothing (position absolute or fixed, as
#    axe's clipHidden reads it), or that box itself: MathJax's assistive MathML (mjx-assistive-mml,
#    1,000-2,000 text elements on a page with math). axe's isVisibleOnScreen is false for it, so
#    colorContrastEvaluate passes it ("hidden") before looking at any colour.
# 3. All but one of each class of "twin" text pieces. Most of the rule's elements are small
#    inline pieces of text: Pygments' tokens in a code block (2,500 of the 2,830 elements on
#    chapter 5), the parts of the API pages' signatures (each function's signature repeats the
#    same few kinds of piece), the <em>s of a paragraph. The rule's verdict on a text element is
#    a function of these inputs and of nothing else (colorContrastEvaluate): whether it is visible
#    on screen, its visible text (empty, one character or longer, emoji), font size and weight,
#    text shadow, the pseudo-elements of it and its ancestors (findPseudoElement: their area
#    against the element's own), the colours under its text (its background stack) and its
#    foreground (color, -webkit-text-fill-color and -stroke, opacity, of it and its ancestors).
#    Call a "piece" an inline element (display inline) whose only children are text, whose only
#    attribute is class, and whose text is plain ASCII. Two pieces are twins when
#    * the computed styles that enter those inputs (``props`` below, and ::before/::after) are
#      equal element by element along their whole ancestor chains, from the piece up to <html>
#      (chains of the same length and tags),
#    * their text-length class (empty, one character, longer) is equal,
#    * each lies wholly inside the box of every ancestor that has one (the padding box of those
#      that clip, the border box of the others; axe's fullyEncompasses / visible-rect tests),
#    * no element that is not one of its ancestors overlaps either (so the background stack axe
#      finds under each holds its ancestors only, in tree order), and
#    * no element of either chain has a pseudo-element that findPseudoElement counts (absolutely
#      positioned, shown, with a background): its verdict would then depend on the piece's size.
#    Then every input above is equal for the two, so axe gives both the same verdict. The first
#    piece of each such class is checked, the others are skipped. (Two pieces of one block share
#    every ancestor from the block up; the chain condition also pairs, e.g., the same kind of
#    signature piece on two functions of an API page.)
# Skipped elements carry data-klbook-axe-skip; the rule's selector (axe.configure) passes over
# them. Every other element of the page, and every piece failing a condition above, is checked.
# Returns {pieces, twins, textless, blank, clipped}: pieces seen, pieces skipped, and the textless, blank and
# clipped elements skipped.
_MARK_CONTRAST_SKIP_JS = r"""
() => {
  const SKIP = 'data-klbook-axe-skip';
  const t0 = performance.now();
  document.querySelectorAll('[' + SKIP + ']').forEach(e => e.removeAttribute(SKIP));
  const all = [...document.querySelectorAll('*')];
  // axe's clipHidden (isVisibleOnScreen) of an element or an ancestor: MathJax's assistive MathML
  const clipRe = /rect\s*\(([0-9]+)px,?\s*([0-9]+)px,?\s*([0-9]+)px,?\s*([0-9]+)px\s*\)/;
  const clipMemo = new Map();
  const clipHidden = (e) => {
    if (!e) return false;
    if (clipMemo.has(e)) return clipMemo.get(e);
    const cs = getComputedStyle(e), m = cs.clip.match(clipRe);
    const v = (m !== null && (cs.position === 'fixed' || cs.position === 'absolute') && m[3] - m[1] <= 0 && m[2] - m[4] <= 0)
              || clipHidden(e.parentElement);
    clipMemo.set(e, v);
    return v;
  };
  const FIELDS = new Set(['INPUT', 'SELECT', 'TEXTAREA']);   // judged by their value, not by text children
  let textless = 0, blank = 0, clipped = 0;
  const pieces = [], skip = [];   // marked at the end, once every style and box is read
  for (const e of all) {
    if (e.shadowRoot || e.tagName === 'SLOT') continue;
    let text = false, words = false, elems = false;
    for (const n of e.childNodes) {
      if (n.nodeType === 3) { text = true; words = words || /\S/.test(n.nodeValue); } else if (n.nodeType === 1) elems = true;
    }
    if (!words && !FIELDS.has(e.tagName)) { skip.push(e); if (text) blank += 1; else textless += 1; continue; }
    if (clipHidden(e)) { skip.push(e); clipped += 1; continue; }
    if (!elems && e.attributes.length <= 1 && (e.attributes.length === 0 || e.hasAttribute('class'))
        && /^[\x20-\x7e\s]*$/.test(e.textContent)) pieces.push(e);
  }
  // every element's boxes (each line's fragment of an inline element), in 100 px bands of the page's height
  const bands = new Map(), BAND = 100, boxes = new Map();
  for (const e of all) {
    const rs = [...e.getClientRects()].filter(r => r.width > 0 && r.height > 0);
    boxes.set(e, rs);
    for (const r of rs) {
      for (let k = Math.floor(r.top / BAND); k <= Math.floor(r.bottom / BAND); k++) {
        if (!bands.has(k)) bands.set(k, []);
        bands.get(k).push([e, r]);
      }
    }
  }
  const meet = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const overlapped = (t, r) => {
    for (let k = Math.floor(r.top / BAND); k <= Math.floor(r.bottom / BAND); k++) {
      for (const [e, b] of bands.get(k) || []) if (e !== t && meet(r, b) && !e.contains(t) && !t.contains(e)) return true;
    }
    return false;
  };
  const props = ['color', 'background-color', 'background-image', 'opacity', 'filter', 'mix-blend-mode',
                 'text-shadow', '-webkit-text-fill-color', '-webkit-text-stroke-width', '-webkit-text-stroke-color',
                 'visibility', 'content-visibility', 'display', 'font-size', 'font-weight', 'font-family',
                 'position', 'z-index', 'transform', 'clip', 'clip-path', 'overflow-x', 'overflow-y'];
  const styleCache = new Map(), pseudoFree = new Map();
  const style = (e) => {
    if (styleCache.has(e)) return styleCache.get(e);
    const cs = getComputedStyle(e);
    let free = true;
    const pseudo = (p) => {
      const c = getComputedStyle(e, p);
      const vals = [c.content, c.display, c.backgroundColor, c.backgroundImage, c.width, c.height];   // each read once
      // findPseudoElement's getPseudoElementArea is 0 for exactly these
      if (!(vals[0] === 'none' || vals[1] === 'none' || c.visibility === 'hidden' || c.position !== 'absolute'
            || (vals[2] === 'rgba(0, 0, 0, 0)' && vals[3] === 'none'))) free = false;
      return vals.join('|');
    };
    const v = [e.tagName, props.map(p => cs.getPropertyValue(p)).join('|'), pseudo('::before'), pseudo('::after')].join('#');
    styleCache.set(e, v);
    pseudoFree.set(e, free);
    return v;
  };
  // one number per distinct style chain from an element up to <html>, and whether that whole
  // chain is free of pseudo-elements findPseudoElement counts
  const chainIds = new Map(), chainKeys = new Map(), chainFree = new Map();
  const chain = (e) => {
    if (!e) return 0;
    if (chainIds.has(e)) return chainIds.get(e);
    const k = style(e) + '^' + chain(e.parentElement);
    if (!chainKeys.has(k)) chainKeys.set(k, chainKeys.size + 1);
    chainIds.set(e, chainKeys.get(k));
    chainFree.set(e, pseudoFree.get(e) && (!e.parentElement || chainFree.get(e.parentElement)));
    return chainIds.get(e);
  };
  // the box an ancestor's content must lie in: its padding box when it has one (it may clip),
  // else (inline boxes, table rows and groups, which never clip) its border box
  const boxCache = new Map();
  const box = (a) => {
    if (boxCache.has(a)) return boxCache.get(a);
    const r = a.getBoundingClientRect();
    let b = null;
    if (r.width > 0 || r.height > 0) {
      b = (a.clientWidth || a.clientHeight)
        ? {left: r.left + a.clientLeft, top: r.top + a.clientTop, right: r.left + a.clientLeft + a.clientWidth,
           bottom: r.top + a.clientTop + a.clientHeight}
        : {left: r.left, top: r.top, right: r.right, bottom: r.bottom};
    }
    boxCache.set(a, b);
    return b;
  };
  const inside = (rects, a) => {
    const b = box(a);
    return b !== null && rects.every(r => r.left >= b.left && r.right <= b.right && r.top >= b.top && r.bottom <= b.bottom);
  };
  const inlineCache = new Map();
  const isInline = (e) => {
    if (!inlineCache.has(e)) inlineCache.set(e, getComputedStyle(e).display === 'inline');
    return inlineCache.get(e);
  };
  const html = document.documentElement;
  const seen = new Set();
  let twins = 0;
  for (const t of pieces) {
    if (!isInline(t)) continue;
    const rects = boxes.get(t);   // its boxes, read above
    if (!rects.length) continue;
    let ok = true, block = false;
    for (let a = t.parentElement; a && a !== html; a = a.parentElement) {
      if (!isInline(a)) block = true;
      if (!inside(rects, a)) { ok = false; break; }
    }
    if (!ok || !block) continue;
    const id = chain(t);
    if (!chainFree.get(t)) continue;
    if (rects.some(r => overlapped(t, r))) continue;
    const len = t.textContent.replace(/\s+/g, ' ').trim().length;
    const key = Math.min(len, 2) + '/' + id;
    if (seen.has(key)) { skip.push(t); twins += 1; } else seen.add(key);
  }
  skip.forEach(e => e.setAttribute(SKIP, ''));
  return {pieces: pieces.length, twins, textless, blank, clipped, ms: Math.round(performance.now() - t0)};
}
"""

# The colour of typeset math. MathJax draws glyphs as CSS content of aria-hidden boxes
# (mjx-math), which no axe rule reads: this is the contrast check for them. Every formula must
# inherit its text's colour (the container's colour is its parent's), no box inside it may set
# another colour, an opacity or a background (no \color, \colorbox), and the colour must have
# contrast >= 4.5 (>= 3 for large text, WCAG 1.4.3) against the backgrounds of its ancestors
# composited down to the first opaque one. Returns one line per problem.
_MATH_COLOUR_JS = r"""
() => {
  const out = [];
""" + _CONTRAST_HELPERS_JS + r"""  const bgCache = new Map();
  // [r, g, b, 1] behind an element's content, or a string saying why it cannot be known
  const backdrop = (el) => {
    if (!el || el.nodeType !== 1) return [255, 255, 255, 1];
    if (bgCache.has(el)) return bgCache.get(el);
    const cs = getComputedStyle(el);
    let res;
    if (cs.backgroundImage !== 'none') res = `a background image on <${el.tagName.toLowerCase()} class="${el.className}">`;
    else {
      const c = parse(cs.backgroundColor);
      if (c && c[3] >= 0.999) res = c;
      else {
        const below = backdrop(el.parentElement);
        res = typeof below === 'string' || !c || c[3] === 0 ? below : over(c, below);
      }
    }
    bgCache.set(el, res);
    return res;
  };
  const opacity = (el) => { let o = 1; for (let e = el; e && e.nodeType === 1; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity); return o; };
  let n = 0;
  for (const mj of document.querySelectorAll('mjx-container')) {
    if (mj.parentElement.closest('mjx-container')) continue;
    const r = mj.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;      // not shown (hidden ancestor)
    n += 1;
    const tex = (mj.querySelector('mjx-assistive-mml') || mj).textContent.replace(/\s+/g, ' ').slice(0, 40);
    const sec = mj.closest('section[id]');
    const name = `${sec ? '#' + sec.id + ' ' : ''}"${tex}"`;
    const cs = getComputedStyle(mj);
    const inherited = getComputedStyle(mj.parentElement).color;
    if (cs.color !== inherited) { out.push(`${name}: colour ${cs.color}, its text's ${inherited}`); continue; }
    const odd = [...mj.querySelectorAll('mjx-math, mjx-math *')].find(e => {
      const c = getComputedStyle(e);
      return c.color !== cs.color || c.opacity !== '1' || c.backgroundImage !== 'none' || parse(c.backgroundColor)[3] !== 0;
    });
    if (odd) {
      const c = getComputedStyle(odd);
      out.push(`${name}: <${odd.tagName.toLowerCase()}> inside it has colour ${c.color}, opacity ${c.opacity}, background ${c.backgroundColor} ${c.backgroundImage}`);
      continue;
    }
    const bg = backdrop(mj);
    if (typeof bg === 'string') { out.push(`${name}: background unknown (${bg})`); continue; }
    const fg = parse(cs.color);
    fg[3] *= opacity(mj);
    const px = parseFloat(cs.fontSize), bold = parseFloat(cs.fontWeight) >= 700;
    const min = px >= 24 || (bold && px >= 18.66) ? 3 : 4.5;
    const k = ratio(over(fg, bg), bg);
    if (k < min) out.push(`${name}: contrast ${k.toFixed(2)} (< ${min}) ${cs.color} on rgb(${bg.slice(0, 3).map(Math.round).join(',')})`);
  }
  return {checked: n, problems: out};
}
"""

# Which elements a view shows. record(name) keeps the set of elements shown now (display,
# visibility, content-visibility: Element.checkVisibility); mark(names) marks with
# data-klbook-axe-only every element shown now that none of the views `names` showed (an element
# created since counts as never shown), and returns how many; record(name, names) does both in one
# pass over the page (one visibility test per element) and returns what mark returns. An axe run
# restricted to the marked elements (axe(..., only_new=True)) checks what those views' runs could
# not see: the dark figures, the phone's header buttons, the theme switch's other icon.
_SHOWN_JS = r"""
([op, arg, against]) => {
  const ONLY = 'data-klbook-axe-only';
  const shown = window.__klbookShown = window.__klbookShown || {};
  const all = document.querySelectorAll('*');
  const vis = [...all].map(e => e.checkVisibility({visibilityProperty: true, contentVisibilityAuto: true}));
  const mark = (names) => {   // the attributes are written once every element's visibility is read
    document.querySelectorAll('[' + ONLY + ']').forEach(e => e.removeAttribute(ONLY));
    const marked = [...all].filter((e, i) => vis[i] && !names.some(name => shown[name].has(e)));
    marked.forEach(e => e.setAttribute(ONLY, ''));
    return marked.length;
  };
  if (op === 'mark') return mark(arg);
  const n = against ? mark(against) : all.length;
  const set = new WeakSet();
  all.forEach((e, i) => { if (vis[i]) set.add(e); });
  shown[arg] = set;
  return n;
}
"""

# Style rules inside a width media query (@media (max-width ...)) that set a property colour
# contrast depends on (color, background, opacity, filter, text shadow or stroke, blending): each
# element shown now that such a rule selects (whether its query holds at this width or not) gets
# data-klbook-axe-only, so that the colour rules judge it again in this view. Returns
# "selector { properties }: n elements" per rule that selects any.
_WIDTH_COLOURS_JS = r"""
() => {
  const props = /^(color|background-color|background-image|opacity|filter|backdrop-filter|text-shadow|-webkit-text-stroke-width|-webkit-text-stroke-color|-webkit-text-fill-color|mix-blend-mode)$/;
  const out = [];
  const visible = (e) => e.checkVisibility({visibilityProperty: true, contentVisibilityAuto: true});
  const walk = (rules, inWidth) => {
    for (const r of rules) {
      if (r.cssRules && !(r instanceof CSSStyleRule)) {   // @media, @supports, @layer, ...
        walk(r.cssRules, inWidth || (r.media && /width/.test(r.media.mediaText)));
      } else if (r instanceof CSSStyleRule) {
        const set = inWidth ? [...r.style].filter(p => props.test(p)) : [];
        if (set.length) {
          const sel = r.selectorText.replace(/::?(before|after|marker|placeholder|selection|first-line|first-letter)\b/g, '');
          let els = [];
          try { els = [...document.querySelectorAll(sel || '*')]; } catch (e) { els = [...document.querySelectorAll('*')]; }
          const shown = els.filter(visible);
          shown.forEach(e => e.setAttribute('data-klbook-axe-only', ''));
          if (shown.length) out.push(`${r.selectorText.slice(0, 80)} { ${set.join(', ')} }: ${shown.length} elements`);
        }
        if (r.cssRules) walk(r.cssRules, inWidth);   // nested rules
      }
    }
  };
  for (const sheet of document.styleSheets) {
    let rules = null;
    try { rules = sheet.cssRules; } catch (e) { }
    if (rules === null) {   // unreadable: any element may change
      document.querySelectorAll('*').forEach(e => { if (visible(e)) e.setAttribute('data-klbook-axe-only', ''); });
      out.push(`unreadable style sheet ${sheet.href}`);
      continue;
    }
    walk(rules, sheet.media && /width/.test(sheet.media.mediaText));
  }
  return out;
}
"""

# axe's colour rules (color-contrast, link-in-text-block) find what lies under a piece of text with
# a position grid that every axe.run builds anew over EVERY element of the page (axe 4.11 keeps no
# grid between runs): on a chapter most of them are MathJax's boxes, 10,000-11,000 drawn boxes inside
# the formulas (mjx-math) and 3,000-6,000 elements of their hidden MathML copies (mjx-assistive-mml),
# of 15,000-25,000 in all, and the grid is most of a colour run's cost. So for the whole-page colour
# runs, each formula's boxes leave the page and come back right after the run (``_MATH_SWAP_JS``):
# * mjx-math's children are replaced by one empty box with the same width, height and baseline
#   (mjx-math is an inline-block with line-height 0: its line holds only that box, so mjx-math keeps
#   its size and its baseline). The swap then compares the box of every element left on the page
#   with its box before the swap and fails the test if any moved by any amount (``check.axe``):
#   the layout that axe judges is the layout the reader sees.
# * mjx-assistive-mml's children are replaced by one text node holding their text, in the same
#   order. It stays clipped to nothing (position absolute, clip: rect(1px, 1px, 1px, 1px)): its own
#   box changes size, which is not compared, but nothing else may move, nor the page's size.
# Why every verdict of the two colour rules stays the same, except some "needs review" answers
# (not reported by these tests) that may become judgments:
# * A formula's boxes are swapped only when every box inside mjx-math is a MathJax element (mjx-*)
#   holding no text node (the glyphs are CSS content), with no background colour, no background
#   image, opacity 1 and blend mode normal (checked here, box by box; a formula failing this keeps
#   its boxes), and its assistive MathML holds no link. Then no colour rule judges any of them (they
#   hold no text; no link), and in another element's background stack each is passed over: axe's
#   getBackgroundColor skips elements with a transparent background and no image, and a stacking
#   context of opacity 1, normal blending and a transparent background leaves the colour under it
#   unchanged. Their one other effect is "needs review" for text they lie on (getBackgroundStack:
#   bgOverlap, elmPartiallyObscuring), which the swap can only turn into a judgment.
# * link-in-text-block asks whether a link sits in a block of text (isInTextBlock): the text of the
#   block outside widgets, which the MathML copy's one text node keeps letter for letter, against
#   the widgets' text (no widget inside a formula: no link).
# * The assistive MathML is clipped to nothing: color-contrast passes it as hidden either way.
# test_page_checks.py: the same verdicts with and without the swap on formulas, faint text and a
# link whose block's text is a formula; a formula with a background keeps its boxes; a box that
# moves fails the test.
GRID_RULES = ("color-contrast", "link-in-text-block")   # the rules that read axe's position grid
_MATH_SWAP_JS = r"""
(op) => {
  const st = window.__klbookMathSwap = window.__klbookMathSwap || {swapped: [], chosen: []};
  const transparent = /^rgba\(0, 0, 0, 0\)$|^transparent$/;
  const eligible = (m) => {
    if (getComputedStyle(m).display !== 'inline-block') return false;
    for (const e of m.querySelectorAll('*')) {
      if (!e.tagName.startsWith('MJX-')) return false;
      for (const n of e.childNodes) if (n.nodeType === 3) return false;
      const c = getComputedStyle(e);
      if (c.backgroundImage !== 'none' || !transparent.test(c.backgroundColor) || c.opacity !== '1'
          || c.mixBlendMode !== 'normal') return false;
    }
    const mml = m.parentElement.querySelector(':scope > mjx-assistive-mml');
    return !mml || !mml.querySelector('a, [href], [role]');
  };
  const compare = (before, after, others) => {
    const moved = [];
    before.forEach((b, i) => {
      if (b.some((v, k) => v !== after[i][k]) && moved.length < 5)
        moved.push(`${i < others.length ? `<${others[i].tagName.toLowerCase()} class="${others[i].getAttribute('class') || ''}">` : 'page size'} ${b.join(',')} -> ${after[i].join(',')}`);
    });
    return moved;
  };
  if (op === 'back') {   // the boxes back; in this view too, nothing moved and every swapped formula was eligible
    const before = st.rects();
    for (const [el, kids] of st.swapped) el.replaceChildren(...kids);
    const n = st.swapped.length;
    st.swapped = [];
    const moved = compare(before, st.rects(), st.others);
    const ineligible = st.chosen.filter(m => !eligible(m)).length;
    st.chosen = [];
    return {restored: n, moved, ineligible};
  }
  const maths = [...document.querySelectorAll('mjx-container > mjx-math')]
    .filter(m => !m.parentElement.parentElement || !m.parentElement.parentElement.closest('mjx-container'));
  const chosen = maths.filter(eligible);
  const mmls = chosen.map(m => m.parentElement.querySelector(':scope > mjx-assistive-mml')).filter(Boolean);
  const inner = new Set();
  for (const el of chosen.concat(mmls)) for (const e of el.querySelectorAll('*')) inner.add(e);
  // every element left on the page but the MathML copies themselves (clipped to nothing: their text
  // changes their own size, not what is shown), and the size of the page
  const copies = new Set(mmls);
  const others = [...document.querySelectorAll('*')].filter(e => !inner.has(e) && !copies.has(e));
  const de = document.documentElement;
  const rects = () => others.map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })
    .concat([[de.scrollWidth, de.scrollHeight, 0, 0]]);
  const before = rects();
  // each formula's baseline: the bottom of a zero-size box at the start of its line
  const marks = chosen.map(m => {
    const b = document.createElement('mjx-klbook-mark');
    b.style.cssText = 'display:inline-block;width:0;height:0;vertical-align:baseline';
    m.prepend(b);
    return b;
  });
  const geo = chosen.map((m, i) => {
    const r = m.getBoundingClientRect(), c = getComputedStyle(m), px = (p) => parseFloat(c.getPropertyValue(p));
    const top = r.top + px('border-top-width') + px('padding-top');
    const bottom = r.bottom - px('border-bottom-width') - px('padding-bottom');
    const width = r.width - px('border-left-width') - px('padding-left') - px('border-right-width') - px('padding-right');
    const base = marks[i].getBoundingClientRect().bottom;
    return [width, base - top, bottom - base];
  });
  marks.forEach(b => b.remove());
  st.swapped = chosen.map((m, i) => {
    const [w, a, d] = geo[i];
    const box = document.createElement('mjx-klbook-box');
    box.style.cssText = `display:inline-block;width:${w}px;height:${a + d}px;vertical-align:${-d}px`;
    const kids = [...m.childNodes];
    m.replaceChildren(box);
    return [m, kids];
  });
  for (const mml of mmls) {
    const kids = [...mml.childNodes];
    mml.replaceChildren(document.createTextNode(mml.textContent));
    st.swapped.push([mml, kids]);
  }
  Object.assign(st, {others, rects, chosen});
  return {formulas: maths.length, swapped: chosen.length, removed: inner.size, moved: compare(before, rects(), others)};
}
"""

_AXE_RUN_JS = """
async ([rules, without, twins, onlyNew]) => {
  // No part of the page is excluded: MathJax's glyph boxes (mjx-math, aria-hidden) hold no
  // text node (glyphs are CSS content), so axe's rules pass over them at little cost, while an
  // exclude list costs every rule one containment test per excluded node per candidate.
  // Their colour is checked by math_colours().
  axe.configure({rules: [{id: 'color-contrast', selector: twins ? '*:not([data-klbook-axe-skip])' : '*'}]});
  const context = onlyNew ? {include: [['[data-klbook-axe-only]']]} : document;
  const result = await axe.run(context, {
    runOnly: rules ? {type: 'rule', values: rules} : {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
    rules: Object.fromEntries(without.map(id => [id, {enabled: false}])),
    resultTypes: ['violations'],   // passes and incomplete results are not collected: much faster
    // css-orientation-lock reads the style sheets (preload), the same in every view: whole-page runs only
    preload: (!rules || rules.includes('css-orientation-lock')) && !without.includes('css-orientation-lock') && !onlyNew,
  });
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v =>
    `${v.id} (${v.impact}, ${v.nodes.length}x): ${v.help}; e.g. ` +
    v.nodes.slice(0, 3).map(n => n.target.join(' ') + (n.any[0] && n.any[0].message ? ' [' + n.any[0].message.slice(0, 120) + ']' : '')).join(' | '));
}
"""


# axe-core memoizes its helpers (memoizee, no options), and memoizee's normalizers for functions of a
# fixed number of arguments find the arguments seen before with indexOf over every one seen so far in
# the run: each call to such a helper walks a list as long as the elements it has met (a chapter has
# 15,000-25,000), ~1 CPU-s of a whole-page run of the rules that do not read colours on a chapter.
# _AXE_MEMO_JS is the same normalizer with a Map per argument instead of an array: the same cache
# entries, found by the same equality (indexOf's ===, NaN found as memoizee's own indexOf finds it:
# a Map's SameValueZero), so every helper returns what it returns unpatched and every verdict stays
# the same (test_page_checks.py: the same calls reach a memoized function, and axe's whole answer,
# passes and needs-review included, is the same with and without it; so it was on chapters 3, 4 and 5,
# core-engine, book-ml and book-explorers-alpha). Functions of no argument (one cached value) and of a
# variable number keep memoizee's own code. _axe_source() fails the test if axe-core's text no longer holds the one
# place it replaces (another axe-core version: see whether its memoizee still does this).
_AXE_MEMO_CHOICE = "1===t?ua()():sa()(t)"   # axe 4.11's min.js: length 1 ? get-1 : get-fixed(length)
_AXE_MEMO_JS = r"""
function __klbookMemoNormalizer(length) {
  const END = {};   // the key under which a node of the tree holds the id of its argument list
  let lastId = 0, root = new Map(), byId = Object.create(null);
  return {
    get(args) {
      let n = root;
      for (let i = 0; i < length; i++) { n = n.get(args[i]); if (n === undefined) return null; }
      const id = n.get(END);
      return id === undefined ? null : id;
    },
    set(args) {
      let n = root;
      for (let i = 0; i < length; i++) {
        let m = n.get(args[i]);
        if (m === undefined) { m = new Map(); n.set(args[i], m); }
        n = m;
      }
      n.set(END, ++lastId);
      byId[lastId] = args;
      return lastId;
    },
    delete(id) {
      const args = byId[id];
      let n = root;
      for (let i = 0; i < length && n !== undefined; i++) n = n.get(args[i]);
      if (n !== undefined) n.delete(END);
      delete byId[id];
    },
    clear() { root = new Map(); byId = Object.create(null); },
  };
}
"""


@functools.lru_cache(maxsize=None)
def _axe_source(memo_map: bool = True) -> str:
    """axe-core's script, with ``_AXE_MEMO_JS`` as the normalizer of its memoized helpers (``memo_map``)."""
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS} is missing: run `make book` (npm ci installs axe-core)", pytrace=False)
    src = AXE_JS.read_text(encoding="utf8")
    if not memo_map:
        return src
    if src.count(_AXE_MEMO_CHOICE) != 1:
        pytest.fail(f"{AXE_JS}: memoizee's choice of normalizer {_AXE_MEMO_CHOICE!r} is not in it once "
                    "(another axe-core version?): conftest _AXE_MEMO_JS", pytrace=False)
    return _AXE_MEMO_JS + src.replace(_AXE_MEMO_CHOICE, "__klbookMemoNormalizer(t)")


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
    contrast_skip: dict = field(default_factory=dict)   # the last axe run's {pieces, twins, textless, clipped}
    math_checked: int = 0                             # formulas seen by the last math_colours()
    math_swap: dict = field(default_factory=dict)     # the last colour run's _MATH_SWAP_JS report
    shots: Path = REPO / "_build" / "screenshots"
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

    def view(self, width: int, dark: bool = False, height: int = 900) -> None:
        """Resize the window and switch the theme's light / dark mode, in place; return once the
        theme's colour transitions have ended (a check during one sees a colour half-way)."""
        self.page.set_viewport_size({"width": width, "height": height})
        self._evaluate_arg(_SET_MODE_JS, "dark" if dark else "light")
        self._evaluate(_TRANSITIONS_DONE_JS)   # layout, ResizeObservers, colour transitions

    def shoot(self, name: str) -> Path:
        """A full-page screenshot in ``_build/screenshots/<name>.png`` (at most MAX_SHOT_PX tall)."""
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{name}.png"
        height = self._evaluate("() => document.documentElement.scrollHeight")
        width = self.page.viewport_size["width"]
        clip = {"x": 0, "y": 0, "width": width, "height": min(height, MAX_SHOT_PX)}
        self.page.screenshot(path=str(path), full_page=True, clip=clip, animations="disabled",
                             timeout=SCREENSHOT_TIMEOUT_MS)
        return path

    def expand(self) -> None:
        """Open every folded solution, dropdown and toggle on the page."""
        self._evaluate(_EXPAND_JS)
        self._evaluate(_TRANSITIONS_DONE_JS)

    def screen(self) -> dict:
        """The screen measurements of the page as shown now (see ``SCREEN_JS``)."""
        return self._evaluate_arg(SCREEN_JS, {"expand": False})

    def axe(self, rules: list[str] | None = None, *, without: list[str] = (), twins: bool = True,
            only_new: bool = False, swap_math: bool = True) -> list[str]:
        """axe-core's serious and critical WCAG 2 A/AA violations on the page as shown now.

        ``rules``: only these axe rules (e.g. the colour ones, to check a second colour mode);
        ``without``: all WCAG 2 A/AA rules but these.
        ``twins``: color-contrast skips what cannot change its verdict (``_MARK_CONTRAST_SKIP_JS``
        says why: textless boxes, twin pieces of text in one block); ``False`` checks every element. ``only_new``: only the elements ``mark_new`` marked (and what they hold).
        ``swap_math``: a whole-page run of the colour rules (``GRID_RULES``) takes the formulas' boxes
        out of the page for its duration (``_MATH_SWAP_JS`` says why every verdict stays the same), and
        runs the other rules on its own first; ``False``: one run on the page as it is.
        """
        self._axe_ready()
        grid = [r for r in GRID_RULES if (rules is None or r in rules) and r not in without]
        if not (swap_math and grid and not only_new):
            return self._axe_run(rules, without, twins, only_new)
        found = []
        if rules is None or set(rules) - set(grid):   # the other rules, on the page as it is
            found += self._axe_run(rules and [r for r in rules if r not in grid], list(without) + grid, twins, only_new)
        return found + self._swapped(lambda: self._axe_run(grid, [], twins, only_new))

    def axe_colours(self, width: int, modes: list[bool]) -> dict[bool, list[str]]:
        """``axe(GRID_RULES)`` in each of ``modes`` (dark or not) at ``width``, in that order, with the
        formulas' boxes taken out once for all of them (``_MATH_SWAP_JS``): {dark: violations}.
        The page is left in the last view."""
        self.view(width, modes[0])
        self._axe_ready()

        def runs() -> dict[bool, list[str]]:
            found = {}
            for dark in modes:
                if dark != modes[0]:
                    self.view(width, dark)
                    self._evaluate("() => window.scrollTo(0, 0)")
                found[dark] = self._axe_run(list(GRID_RULES), [], True, False)
            return found

        return self._swapped(runs)

    def _axe_ready(self) -> None:
        """axe-core in the page, scrolled to its top: the same page state for every run."""
        self._evaluate("() => window.scrollTo(0, 0)")
        if not self._evaluate("() => typeof axe !== 'undefined'"):
            self.page.add_script_tag(content=_axe_source())

    def _swapped(self, run: Callable[[], T]) -> T:
        """``run()`` with the formulas' boxes out of the page (``_MATH_SWAP_JS``); fails the test if
        any other element moved when they left (in the view then) or came back (in the view then), or
        a swapped formula's boxes were not transparent in the view they came back in."""
        self.math_swap = self._evaluate_arg(_MATH_SWAP_JS, "out")
        try:
            if not self.math_swap["moved"]:
                return run()
        finally:
            back = self._evaluate_arg(_MATH_SWAP_JS, "back")
            moved = self.math_swap["moved"] or back["moved"]
            if moved or back["ineligible"]:
                pytest.fail(f"{self.url}: taking the formulas' boxes out for axe's colour rules moved other "
                            f"elements or hid coloured boxes ({back['ineligible']} formulas; conftest _MATH_SWAP_JS):"
                            "\n  " + "\n  ".join(moved), pytrace=False)

    def _axe_run(self, rules, without, twins: bool, only_new: bool) -> list[str]:
        twins = twins and not only_new   # a run on a few marked elements has nothing to skip
        marked = twins and (rules is None or "color-contrast" in rules) and "color-contrast" not in without
        if marked:
            self.contrast_skip = self._evaluate(_MARK_CONTRAST_SKIP_JS)
        try:
            return self._evaluate_arg(_AXE_RUN_JS, [rules, list(without), twins, only_new])
        finally:
            if marked:   # a run that marked nothing leaves nothing to take off
                self._evaluate("() => document.querySelectorAll('[data-klbook-axe-skip]')"
                               ".forEach(e => e.removeAttribute('data-klbook-axe-skip'))")

    def mark_width_coloured(self) -> list[str]:
        """Also mark every element shown now whose colours a width media query sets (``_WIDTH_COLOURS_JS``)."""
        return self._evaluate(_WIDTH_COLOURS_JS)

    def settle(self) -> None:
        """Wait for two frames and every finite transition (``_TRANSITIONS_DONE_JS``)."""
        self._evaluate(_TRANSITIONS_DONE_JS)

    def mark_contrast_skips(self) -> dict:
        """Mark what color-contrast may skip, as ``axe`` does before a run (``_MARK_CONTRAST_SKIP_JS``)."""
        return self._evaluate(_MARK_CONTRAST_SKIP_JS)

    def record_shown(self, name: str, mark_new: list[str] | None = None) -> int | None:
        """Remember which elements this view shows, under ``name`` (see ``_SHOWN_JS``). With ``mark_new``
        (views), also ``self.mark_new(mark_new)`` in the same pass over the page, and return its count."""
        n = self._evaluate_arg(_SHOWN_JS, ["record", name, None if mark_new is None else list(mark_new)])
        return None if mark_new is None else n

    def mark_new(self, seen_in: list[str]) -> int:
        """Mark the elements shown now that no view in ``seen_in`` showed; return how many."""
        return self._evaluate_arg(_SHOWN_JS, ["mark", list(seen_in)])

    def math_colours(self) -> list[str]:
        """The colour of every formula shown, as ``_MATH_COLOUR_JS`` checks it: one line per problem."""
        found = self._evaluate(_MATH_COLOUR_JS)
        self.math_checked = found["checked"]
        return found["problems"]

    def _evaluate_arg(self, script: str, arg):
        return self.page.evaluate(script, arg)

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


class _Tab:
    """The browser tab that each test's first ``open_page`` uses, one per pytest process.

    Opening a new tab costs Chromium ~1.5-2 CPU-s of its own (a renderer process that starts
    cold: every script of the page, MathJax's 1.1 MB among them, compiled again), about as much
    as loading a book page; a page loaded into a tab that has held pages before costs about half.
    So the first page a test opens goes into this tab, after everything an earlier test left in
    it is gone: the tab is first sent to about:blank (the old page unloads there, and its unload
    handlers run: the theme saves the sidebar's scroll position in sessionStorage), then every
    origin it has shown gets its storage cleared (local and session storage, cookies, caches:
    Storage.clearDataForOrigin "all"), the earlier test's listeners and init script are removed,
    and the window is set to the new test's size. A new document then starts as it would in a
    fresh browser context: nothing in storage but the mode this test asks for, no script of the
    old page running. Only Chromium's HTTP cache is kept, as in a reader's browser going from page
    to page of the book: the site's scripts (MathJax, the theme), fonts and styles come from it and
    are not compiled again (tests/local_chromium.py says how much that saves). What a page checks
    does not change: a request that fails or gets a status >= 400 is never cached, and a request to
    another host never gets an answer to cache.
    A second page opened within one test gets its own fresh context, as before.
    """

    def __init__(self, browser) -> None:
        self.browser = browser
        self.context = None
        self.page = None
        self.cdp = None
        self.origins: set[str] = set()
        self.undo: list[Callable[[], None]] = []

    def take(self, viewport) -> object:
        if self.page is None or self.page.is_closed():
            if self.context is not None:
                self.context.close()
            self.context = self.browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            self.context.set_default_timeout(TIMEOUT_MS)
            self.page = self.context.new_page()
            self.cdp = self.context.new_cdp_session(self.page)
            self.origins = set()
        else:
            self.page.goto("about:blank")
            self.page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
            for origin in self.origins:
                self.cdp.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
            self.context.clear_cookies()
        return self.page

    def release(self) -> None:
        """Remove what the test added to the tab (listeners, init script)."""
        while self.undo:
            self.undo.pop()()

    def close(self) -> None:
        if self.context is not None:
            self.context.close()


@pytest.fixture(scope="session")
def _tab(browser) -> Iterator[_Tab]:
    tab = _Tab(browser)
    yield tab
    tab.close()


@pytest.fixture
def open_page(browser, book_html_or_none, _tab) -> Iterator[Callable[..., PageCheck]]:
    contexts = []
    shots = (book_html_or_none.parent if book_html_or_none else REPO / "_build") / "screenshots"
    tab_used = False

    def _open(url: str, screenshot: str | None = None, viewport=(1280, 900), dark: bool = False) -> PageCheck:
        nonlocal tab_used
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        check = PageCheck(url=url, server=_server_for_url(url), shots=shots)
        if check.server is not None:
            check._log_start = len(check.server.log)

        mode = "dark" if dark else "light"
        mode_js = f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');"
        if not tab_used:   # the first page of this test: the shared tab (_Tab says why and how)
            tab_used = True
            page = _tab.take(viewport)
            _tab.origins.add(origin)
            script = page.add_init_script(f"try {{ {mode_js} }} catch (e) {{ }}")   # not on about:blank
            _tab.undo.append(script.close)
        else:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            contexts.append(context)
            context.set_default_timeout(TIMEOUT_MS)
            context.add_init_script(mode_js)
            page = context.new_page()
        check.page = page

        def on_request(req):   # Chromium refuses other hosts (tests/local_chromium.py); each is a problem
            if not is_local(req.url, origin):
                check.external.append(req.url)

        def on_failed(req):
            if req.url not in check.external:
                check.failed.append(f"{req.failure} {req.url}")

        def on_response(resp):
            if resp.status >= 400:
                parts = urlsplit(resp.url)
                check.failed.append(f"{resp.status} {parts.path}" + (f"?{parts.query}" if parts.query else ""))

        def on_console(m):
            if m.type == "error":
                check.console_errors.append(m.text)

        def on_error(e):
            check.page_errors.append(str(e))

        for event, handler in (("request", on_request), ("requestfailed", on_failed), ("response", on_response),
                               ("console", on_console), ("pageerror", on_error)):
            page.on(event, handler)
            if page is _tab.page:
                _tab.undo.append(functools.partial(page.remove_listener, event, handler))
        page.goto(url, wait_until="load")
        check.rescan()
        if screenshot:
            check.shoot(screenshot)
        return check

    yield _open
    _tab.release()
    for context in contexts:
        context.close()


def pytest_generate_tests(metafunc):
    """A test taking a ``book_page`` argument runs once per page of the built book (``None``: no
    book). Pages with explorers have them checked in the same test (test_book_pages.py)."""
    if "book_page" in metafunc.fixturenames:
        pages = book_pages() if book_html_dir().is_dir() else []
        metafunc.parametrize("book_page", pages or [None], ids=pages or ["book-not-built"])


@pytest.fixture(scope="session")
def book_html_or_none() -> Path | None:
    html = book_html_dir()
    return html if html.is_dir() else None
