"""Redraw time of every explorer per slider event, in headless Chromium (printed, never asserted).

Goal (issue 15): median <= 5 ms and p95 <= 16 ms per event on this machine. Each event sets a
range input to a new position and dispatches ``input`` (what a drag or a key press does); the time
covers the explorer's whole response (numbers, SVG, the ch. 4 landscapes when p changes) and a
forced style and layout pass. Chapter 4's sliders are split into q's (mean, log sigma) and p's
(the bump sliders, which also recompute and repaint both landscapes).

Usage: ``.venv/bin/python benchmarks/bench_explorers.py [events per slider, default 60]``
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from klbook.book.explorers import (
    alpha_explorer,
    bernoulli_explorer,
    estimator_explorer,
    forward_reverse_explorer,
    integrand_explorer,
    page,
)
from klbook.core.mixtures import GaussianMixture

CHROMIUM = os.environ.get("KLBOOK_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

TIME_JS = """
([kind, events]) => {
  const root = document.querySelector(`div.klbook-explorer[data-kind=${kind}]`);
  const groups = {};
  const inputs = [...root.querySelectorAll('input[type=range]')];
  for (const inp of inputs) {
    const param = inp.dataset.param;
    const group = kind === 'forward_reverse' ? (/^[msw][0-9]$/.test(param) ? 'p sliders' : 'q sliders') : 'sliders';
    const lo = +inp.min, hi = +inp.max, st = +inp.step, n = Math.round((hi - lo) / st);
    for (let k = 0; k < events; k++) {
      const pos = Math.round(((k * 37) % 101) / 100 * n);
      inp.value = String(lo + pos * st);
      const t0 = performance.now();
      inp.dispatchEvent(new Event('input', {bubbles: true}));
      root.getBoundingClientRect(); document.body.offsetHeight;
      (groups[group] = groups[group] || []).push(performance.now() - t0);
    }
  }
  return new Promise(res => requestAnimationFrame(() => requestAnimationFrame(() => res(groups))));
}
"""


def main(events: int = 60) -> None:
    p = GaussianMixture([0.5, 0.5], [-2.0, 2.0], [0.6, 0.6])
    explorers = [
        integrand_explorer(GaussianMixture([0.7, 0.3], [-1.0, 1.5], [0.6, 0.9]), init=(0.5, 1.0)),
        bernoulli_explorer(),
        forward_reverse_explorer(p),
        estimator_explorer(),
        alpha_explorer(p),
    ]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench.html"
        path.write_text(page(*explorers), encoding="utf-8")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            pg = browser.new_page(viewport={"width": 1000, "height": 900})
            pg.goto(path.as_uri(), wait_until="load")
            pg.wait_for_timeout(300)
            print(f"explorer redraw per slider event, ms ({events} events per slider; Chromium headless; "
                  f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
            print(f"{'explorer':16} {'sliders':10} {'events':>6} {'median':>7} {'p95':>7} {'max':>7}")
            for e in explorers:
                groups = pg.evaluate(TIME_JS, [e.kind, events])
                for name, ts in groups.items():
                    ts = sorted(ts)
                    p95 = ts[int(0.95 * (len(ts) - 1))]
                    print(f"{e.kind:16} {name:10} {len(ts):6d} {statistics.median(ts):7.2f} {p95:7.2f} {ts[-1]:7.2f}")
            paints = pg.evaluate("() => document.querySelector('div.klbook-explorer[data-kind=forward_reverse]')"
                                 ".klbookExplorer.paintTimings || []")
            if paints:
                paints = sorted(paints)
                print(f"{'forward_reverse':16} {'landscape':10} {len(paints):6d} {statistics.median(paints):7.2f} "
                      f"{paints[int(0.95 * (len(paints) - 1))]:7.2f} {paints[-1]:7.2f}   (repaint after a change of p, "
                      "once per animation frame)")
            browser.close()


if __name__ == "__main__":
    t = time.perf_counter()
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
    print(f"({time.perf_counter() - t:.0f} s)")
