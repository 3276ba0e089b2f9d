"""Every chapter in JupyterLab, as a reader of the notebooks uses it (issue 14).

For each chapter notebook, in a real JupyterLab from the book's .venv (fixtures: conftest.py; one
JupyterLab page per pytest-xdist worker, each chapter opened in it from the document manager and
closed, with its kernel, when its test ends):

1. Open it. The notebook is not marked modified once its kernel is up (JupyterLab rewrites the
   kernelspec and language_info when they differ from the kernel's: book_ext/nbclean.py).
   jupyterlab-myst is the patched one (book_ext/patch_jupyterlab_myst.py: its cell renders share
   whole-notebook passes, which count themselves on the notebook).
   Every markdown cell is rendered by jupyterlab-myst, with no raw MyST left: no role such as
   {cite}/{doc}/{prf:ref} or directive fence as literal text, no unresolved cross-reference,
   no MyST or KaTeX error; every exercise solution is folded (a closed <details>); the
   theorem/proof/exercise blocks are rendered as such. The browser console has no error and
   no "unsatisfied version" warning from the extensions (the jupyterlab/jupyterlab-myst pair).
2. Run all cells. Every code cell ran, no output is an error, nothing is written to stderr.
3. Every explorer slider (the page's HTML explorers and the ipywidgets sliders): focused, the
   arrow keys move it and update what it drives, and the notebook's cell selection stays.

Nothing is fetched from any host other than 127.0.0.1. With KLBOOK_SCREENSHOTS=1 set, a screenshot of
each chapter after its checks lands in _build/lab-screenshots/.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

NOTEBOOKS = sorted((REPO / "chapters").glob("*.ipynb"))
OPEN_TIMEOUT_MS = 180_000
RUN_TIMEOUT_MS = 600_000
# Waits poll every POLL_MS: Playwright's default polls on every animation frame (60 times a
# second), and MARKDOWN_RENDERED reads innerText of every cell, a layout, each time.
POLL_MS = 250
KEY_TIMEOUT_MS = 10_000   # a key on a widget slider goes through the kernel: allow for a loaded machine

# MyST left as text: a role `{name}` followed by a backtick (innerText drops the backticks of
# inline code, but a raw role keeps its braces), a directive fence, or a directive option line.
RAW_MYST = re.compile(r"\{(?:[a-z]+:)?[a-z-]+\}`?[A-Za-z0-9_:-]|^\s*(?:`{3,}|:{3,})\s*\{|^:(?:class|label|name|nonumber):",
                      re.M)
# Directives that jupyterlab-myst must turn into a rendered block (the book's kinds).
BLOCK_DIRECTIVES = re.compile(r"^(?:`{3,}|:{3,})\{(prf:[a-z]+|exercise|solution|dropdown|admonition|note|tip|"
                              r"warning|important|figure)\}", re.M)

KERNEL_IDLE = """() => {
  const w = window.klbookNb;
  const s = w && w.sessionContext && w.sessionContext.session;
  return !!(w && w.context && w.context.isReady && s && s.kernel && s.kernel.status === 'idle');
}"""

# All markdown cells rendered: each shows its rendered view (jupyterlab-myst's .myst widget).
MARKDOWN_RENDERED = """(n) => {
  const cells = klbookNb.node.querySelectorAll('.jp-Notebook .jp-MarkdownCell');
  if (cells.length !== n) return false;
  return Array.from(cells).every(c => {
    const r = c.querySelector('.myst, .jp-RenderedMarkdown');
    return r && r.textContent.trim().length > 0;
  });
}"""

MARKDOWN_SCAN = """() => {
  const cells = Array.from(klbookNb.node.querySelectorAll('.jp-Notebook .jp-MarkdownCell'));
  const rendered = cells.map(c => c.querySelector('.myst, .jp-RenderedMarkdown'));
  const q = (sel) => rendered.flatMap(r => r ? Array.from(r.querySelectorAll(sel)) : []);
  const text = (e) => (e.innerText || e.textContent || '').trim().slice(0, 120);
  return {
    myst: rendered.filter(r => r && r.classList.contains('myst')).length,
    texts: rendered.map(r => r ? r.innerText : ''),
    unresolved: q('[title="Cross Reference Not Found"], [title*="not found" i]').map(text),
    errors: q('.katex-error, [class*="myst-error"], [class*="text-red"], [title*="error" i]').map(text),
    details: q('details').length,
    open_details: q('details[open]').map(text),
    katex: q('.katex').length,
  };
}"""

CELL_SUMMARY = """() => {
  const nb = klbookNb.content;
  return nb.widgets.map((cell, i) => {
    const m = cell.model;
    const out = m.type === 'code' ? m.outputs.toJSON() : [];
    return {
      index: i, type: m.type, count: m.type === 'code' ? m.executionCount : null,
      source: m.sharedModel.getSource().slice(0, 80),
      errors: out.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue),
      stderr: out.filter(o => o.output_type === 'stream' && o.name === 'stderr')
                 .map(o => (Array.isArray(o.text) ? o.text.join('') : o.text).slice(0, 300)),
    };
  });
}"""

# jupyterlab-myst as make's install step and Binder's postBuild leave it (book_ext/patch_jupyterlab_myst.py):
# the markdown cells' renders share whole-notebook MyST passes, counted on the notebook widget.
MYST_PASSES = "() => { const s = klbookNb.content.klbookMyst; return s ? [s.calls, s.passes] : null; }"

BIB_KEYS = set(re.findall(r"^@\w+\{([^,\s]+),", (REPO / "chapters" / "references.bib").read_text(encoding="utf-8"), re.M))

ACTIVE_CELL = "() => klbookNb.content.activeCellIndex"

# Run All has finished: the kernel is idle, no cell is queued or running ([*]), and every code
# cell ran, or one failed (Run All stops there). Cheap checks first: it is polled while the
# notebook runs, and an output's type is read without serialising the output.
RUN_DONE = """() => {
  const w = klbookNb;
  if (w.sessionContext.session.kernel.status !== 'idle') return false;
  const code = w.content.widgets.filter(c => c.model.type === 'code');
  if (code.some(c => c.promptNode && c.promptNode.textContent.includes('*'))) return false;
  if (code.every(c => c.model.executionCount !== null)) return true;
  return code.some(c => { const o = c.model.outputs;
                          for (let i = 0; i < o.length; i++) if (o.get(i).type === 'error') return true;
                          return false; });
}"""


@functools.cache
def _notebook(path: Path) -> dict:
    """The stored notebook, read once per process (each chapter's test reads every chapter's labels)."""
    return json.loads(path.read_text(encoding="utf-8"))


def _markdown_sources(path: Path) -> list[str]:
    nb = _notebook(path)
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def _figure_labels(path: Path) -> set[str]:
    """Labels of the figures that code cells make (myst-nb cell metadata)."""
    nb = _notebook(path)
    labels = set()
    for cell in nb["cells"]:
        meta = cell.get("metadata", {})
        for key in ("mystnb", "myst"):
            name = meta.get(key, {}).get("figure", {}).get("name")
            if name:
                labels.add(name)
        src = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
        labels.update(re.findall(r"^#\|\s*(?:label|name):\s*(\S+)", src, re.M))
    return labels


def _labels(path: Path) -> set[str]:
    """Targets a notebook defines: ``:label:`` / ``:name:`` options and ``(label)=`` targets."""
    text = "\n".join("".join(c["source"]) for c in _notebook(path)["cells"])
    return set(re.findall(r"^:(?:label|name):\s*(\S+)", text, re.M)) | set(re.findall(r"^\((\S+)\)=\s*$", text, re.M))


def _labels_elsewhere(path: Path) -> set[str]:
    """Labels defined by the other chapters and not by this one."""
    others = set().union(*(_labels(p) | _figure_labels(p) for p in NOTEBOOKS if p != path))
    return others - _labels(path) - _figure_labels(path)


def _stored_language_version(path: Path) -> str | None:
    return _notebook(path)["metadata"].get("language_info", {}).get("version")


# Open a notebook in the running JupyterLab as a reader does (double click in the file browser):
# the document manager opens it with the Notebook factory and starts the kernel its metadata
# names. window.klbookNb is that notebook panel; every script below reads it.
OPEN_NOTEBOOK = """async (path) => {
  const old = window.klbookNb;   // left open by a test that failed half-way
  if (old && !old.isDisposed) { await old.sessionContext.shutdown(); old.context.model.dirty = false; old.close(); }
  const w = await jupyterapp.commands.execute('docmanager:open', {path, factory: 'Notebook'});
  window.klbookNb = w;
  return w.id;
}"""

# Close it as a reader closing the tab after "Shut Down Kernel" and "Discard": no dialog.
CLOSE_NOTEBOOK = """async () => {
  const w = klbookNb;
  await w.sessionContext.shutdown();
  w.context.model.dirty = false;
  w.close();
  for (let i = 0; i < 100 && !w.isDisposed; i++) await new Promise(r => setTimeout(r, 100));
  window.klbookNb = null;
  return w.isDisposed;
}"""


def _open(app, name: str) -> str:
    """Open ``name`` in ``app`` and wait for its kernel; return the panel's DOM id."""
    page = app.page
    panel_id = page.evaluate(OPEN_NOTEBOOK, name)
    page.wait_for_function(KERNEL_IDLE, timeout=OPEN_TIMEOUT_MS, polling=POLL_MS)
    return panel_id


KERNEL_IDLE_NOW = "() => klbookNb.sessionContext.session.kernel.status === 'idle'"
ACTIVE_ELEMENT = "() => { const e = document.activeElement; return e ? e.tagName + '.' + e.className : 'none'; }"

# What a slider shows and what it drives, read in the page from the slider's element
# (one round trip per read; the waits below poll in the page).
# An explorer slider (<input type=range>): its value; what it drives: its explorer's readouts.
KX_VALUE = "el => el.value"
KX_READOUT = "el => Array.from(el.closest('.kx-mounted').querySelectorAll('.kx-readout, output')).map(e => e.innerText)"
# An ipywidgets slider (noUiSlider handle): its value from the widget's readout (noUiSlider's
# aria-valuenow is rounded to 1 decimal: a 0.02 step does not change it) and aria-valuenow;
# what it drives: the widget's whole output.
WIDGET_VALUE = ("el => el.closest('.widget-slider').querySelector('.widget-readout').innerText"
                " + '|' + (el.getAttribute('aria-valuenow') || '')")
WIDGET_READOUT = "el => el.closest('.jp-OutputArea-output').innerText"
# Which arrow key moves it up: "forward" unless it sits at its maximum.
AT_MAX = """el => el.tagName === 'INPUT' ? Number(el.value) >= Number(el.max === '' ? 100 : el.max)
                 : Number(el.getAttribute('aria-valuenow')) >= Number(el.getAttribute('aria-valuemax'))"""


# Wait in the page: poll pred() every 50 ms (at once first) until it is true; false after ms.
UNTIL = """(pred, ms) => new Promise((resolve, reject) => {
  const t0 = Date.now();
  (function tick() {
    let ok;
    try { ok = pred(); } catch (e) { reject(e); return; }
    if (ok) resolve(true); else if (Date.now() - t0 >= ms) resolve(false); else setTimeout(tick, 50);
  })();
})"""
IDLE_WAIT_MS = 60_000     # a widget's last update done (it goes through the kernel) before the next key


def _slider_checks(page, label: str, handle, value_js: str, readout_js: str) -> list[str]:
    """Press the arrow keys on one focused slider; return what went wrong.

    Each key must move the slider (a widget slider answers through the kernel, so this waits),
    change what the slider drives (its readouts), and leave the notebook's active cell alone.
    The waits after each key are polled in the page, one round trip before and one after each
    key (a Playwright call costs 2-7 ms of CPU across pytest, its driver and Chromium).
    """
    problems = []
    until, idle = f"({UNTIL})", f"({KERNEL_IDLE_NOW})"
    value, readout = f"({value_js})", f"({readout_js})"
    # before a key: the kernel idle; which way is up; what the slider drives, as JSON written by
    # JSON.stringify, as the check after the key writes it (Python's json.dumps, used before, writes
    # ", " between items and \u escapes: an explorer's readouts never equalled it, so that check
    # passed whatever they did)
    ready = f"async el => {{ await {until}({idle}, {IDLE_WAIT_MS}); return [({AT_MAX})(el), JSON.stringify({readout}(el))]; }}"
    # after the forward key: it moved, then what it drives changed; then the kernel idle again
    moved = f"""async (el, [before, shown, ms]) => {{
      const moved = await {until}(() => {value}(el) !== before, ms);
      const drove = moved && await {until}(() => JSON.stringify({readout}(el)) !== shown, ms);
      const r = [moved, drove, {value}(el), ({ACTIVE_ELEMENT})(), ({ACTIVE_CELL})()];
      await {until}({idle}, {IDLE_WAIT_MS});
      return r;
    }}"""
    # after the back key: it is back; the cell selection read, then restored, and the slider focused again
    back_to = f"""async (el, [before, cell, ms]) => {{
      const back = await {until}(() => {value}(el) === before, ms);
      const r = [back, {value}(el), ({ACTIVE_CELL})()];
      klbookNb.content.activeCellIndex = cell;
      el.focus();
      return r;
    }}"""
    handle.scroll_into_view_if_needed()
    handle.focus()
    before, cell = handle.evaluate(value_js), page.evaluate(ACTIVE_CELL)
    for forward, back in [("ArrowRight", "ArrowLeft"), ("ArrowUp", "ArrowDown")]:
        at_max, shown = handle.evaluate(ready)
        if at_max:      # at its maximum: the other way must move it
            forward, back = back, forward
        page.keyboard.press(forward)
        ok, drove, now, focus, cell_now = handle.evaluate(moved, [before, shown, KEY_TIMEOUT_MS])
        if not ok:
            problems.append(f"{label}: {forward} did not move it (value stays {before}; focus on {focus[:80]})")
        elif not drove:
            problems.append(f"{label}: {forward} moved it to {now} but what it drives did not change")
        if cell_now != cell:
            problems.append(f"{label}: {forward} moved the notebook's cell selection ({cell} -> {cell_now})")
        page.keyboard.press(back)
        ok, now, cell_now = handle.evaluate(back_to, [before, cell, KEY_TIMEOUT_MS])
        if not ok:
            problems.append(f"{label}: {back} did not move it back ({now} != {before})")
        if cell_now != cell:
            problems.append(f"{label}: {back} moved the notebook's cell selection")
    return problems


def test_chapters_found():
    assert len(NOTEBOOKS) >= 6


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_in_jupyterlab(path, lab_app):
    sources = _markdown_sources(path)
    start = time.monotonic()
    page = lab_app.page
    console_from, foreign_from = len(page.klbook_console), len(page.klbook_foreign)
    panel_id = _open(lab_app, path.name)
    panel = f'[id="{panel_id}"]'
    problems: list[str] = []

    # 1. Opened: not modified, MyST rendered ------------------------------------------------------
    page.wait_for_function(MARKDOWN_RENDERED, arg=len(sources), timeout=OPEN_TIMEOUT_MS, polling=POLL_MS)
    page.wait_for_timeout(1500)  # let the last asynchronous renders and metadata updates land
    kernel_version = page.evaluate(
        "() => klbookNb.sessionContext.session.kernel.info.then(i => i.language_info.version)")
    if page.evaluate("() => klbookNb.context.model.dirty"):
        stored = _stored_language_version(path)
        hint = ("run .venv/bin/python book_ext/nbclean.py" if stored == kernel_version else
                f"stored language_info.version {stored}, this kernel's is {kernel_version}")
        problems.append(f"opens modified ({hint})")

    myst_passes = page.evaluate(MYST_PASSES)
    if myst_passes is None:
        problems.append("jupyterlab-myst is not patched (one MyST pass per cell render): "
                        "run .venv/bin/python book_ext/patch_jupyterlab_myst.py")
    scan = page.evaluate(MARKDOWN_SCAN)
    if scan["myst"] != len(sources):
        problems.append(f"jupyterlab-myst rendered {scan['myst']} of {len(sources)} markdown cells")
    for i, text in enumerate(scan["texts"]):
        for m in RAW_MYST.finditer(text):
            line = text[max(0, m.start() - 40): m.end() + 40].replace("\n", " ")
            problems.append(f"raw MyST in markdown cell {i}: ...{line}...")
    # jupyterlab-myst cannot read references.bib (it resolves no bibtex citation): a {cite} role
    # shows its key, marked "not found", instead of "Kullback and Leibler 1951". That is rendered
    # MyST, and README.md says so; any other unresolved reference (a figure, a label) is a defect.
    # The same for figures: their labels live in code-cell metadata (myst-nb's `mystnb.figure.name`),
    # which jupyterlab-myst does not read, so {numref}`fig-...` shows the label.
    # And for labels defined in another chapter ({prf:ref}`thm-04-...` from chapter 8):
    # jupyterlab-myst renders one notebook at a time.
    known = BIB_KEYS | _figure_labels(path) | _labels_elsewhere(path)
    problems += [f"unresolved cross-reference: {t}" for t in scan["unresolved"] if t not in known]
    problems += [f"MyST/KaTeX error: {t}" for t in scan["errors"]]
    problems += [f"unfolded: {t}" for t in scan["open_details"]]
    src = "\n".join(sources)
    folded = sum(1 for m in re.finditer(r"^(?:`{3,}|:{3,})\{(solution|dropdown)\}", src, re.M))
    if scan["details"] < folded:
        problems.append(f"{folded} solutions/dropdowns in the source, {scan['details']} folded blocks rendered")
    if "$" in src and scan["katex"] == 0:
        problems.append("no maths rendered")
    directive_kinds = {m.group(1) for m in BLOCK_DIRECTIVES.finditer(src)}
    for kind in sorted(directive_kinds & {"prf:theorem", "prf:lemma", "prf:proof", "exercise"}):
        label = {"prf:theorem": "Theorem", "prf:lemma": "Lemma", "prf:proof": "Proof", "exercise": "Exercise"}[kind]
        if not any(re.search(rf"\b{label}\b", t) for t in scan["texts"]):
            problems.append(f"no rendered {label} block, though the source has {kind}")
    # JupyterLab's own start (shared by the tests of this worker) is part of opening every chapter
    opened_console = lab_app.boot_console + page.klbook_console[console_from:]
    not_found = re.compile(r"Cross reference target was not found: (\S+)")
    problems += [f"console on opening: {line[:300]}" for line in opened_console
                 if (line.startswith(("error", "pageerror")) or "version" in line.lower())
                 and not (not_found.search(line) and set(not_found.findall(line)) <= known)]

    t_open = time.monotonic() - start
    start = time.monotonic()

    # 2. Run all cells ----------------------------------------------------------------------------
    running_from = len(page.klbook_console)
    page.evaluate("() => { jupyterapp.shell.activateById(klbookNb.id); return jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.wait_for_function(RUN_DONE, timeout=RUN_TIMEOUT_MS, polling=500)
    page.wait_for_timeout(1000)
    for cell in page.evaluate(CELL_SUMMARY):
        if cell["type"] != "code":
            continue
        where = f"cell {cell['index']} ({cell['source'].splitlines()[0] if cell['source'] else ''!r})"
        if cell["count"] is None:
            problems.append(f"{where} did not run")
        problems += [f"{where} error output: {e}" for e in cell["errors"]]
        problems += [f"{where} wrote to stderr: {s}" for s in cell["stderr"]]
    problems += [f"console while running: {line[:300]}" for line in page.klbook_console[running_from:]
                 if line.startswith(("error", "pageerror"))]

    t_run = time.monotonic() - start
    t_keys = time.monotonic()

    # 3. Arrow keys on every explorer slider -------------------------------------------------------
    sliders = page.query_selector_all(f"{panel} .jp-OutputArea .kx-mounted input[type=range]")
    for i, s in enumerate(sliders):
        problems += _slider_checks(page, f"explorer slider {i} ({s.get_attribute('data-param')})", s,
                                   KX_VALUE, KX_READOUT)
    handles = page.query_selector_all(f"{panel} .jp-OutputArea .widget-slider [role=slider]")
    for i, h in enumerate(handles):
        problems += _slider_checks(page, f"ipywidgets slider {i}", h, WIDGET_VALUE, WIDGET_READOUT)
    n_sliders, n_handles = len(sliders), len(handles)
    stored_explorers = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if "kx-fallback" in line)
    if stored_explorers and n_sliders == 0:
        problems.append("the notebook has explorers but none mounted after Run All")

    problems += [f"request to another host: {u}" for u in lab_app.boot_foreign + page.klbook_foreign[foreign_from:]]
    if os.environ.get("KLBOOK_SCREENSHOTS"):  # to look at; nothing asserts on them
        shots = REPO / "_build" / "lab-screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / f"{path.stem}.png"))
    if not page.evaluate(CLOSE_NOTEBOOK):
        problems.append("the notebook did not close")
    print(f"{path.name}: opened {t_open:.0f} s (MyST: {myst_passes and myst_passes[0]} cell renders, "
          f"{myst_passes and myst_passes[1]} notebook passes), ran all cells {t_run:.0f} s, "
          f"{n_sliders} explorer and {n_handles} widget sliders checked in {time.monotonic() - t_keys:.0f} s")
    assert not problems, f"{path.name} in JupyterLab:\n  " + "\n  ".join(problems)


def test_requests_to_other_hosts_are_refused_and_recorded(lab_app):
    """What the chapters' "request to another host" check rests on (tests/local_chromium.py): the
    JupyterLab page's request to another host gets no answer, and it is recorded."""
    page = lab_app.page
    start = len(page.klbook_foreign)
    outcome = page.evaluate("() => fetch('http://example.com/klbook-probe.js').then(() => 'answered', () => 'refused')")
    assert outcome == "refused"
    assert page.klbook_foreign[start:] == ["http://example.com/klbook-probe.js"]
