"""Debian's headless Chromium as every browser test starts it (tests/browser, tests/lab and
tests/test_explorers_refs.py): where it is, its command-line switches, and which requests stay on
this machine.

Nothing a page asks of another host may leave the machine, and every such request is a test
failure. Chromium itself refuses them: ``--host-resolver-rules`` makes every host name but
127.0.0.1 fail to resolve, at once. The tests see each request through Playwright's ``request``
event, record those that ``is_local`` rejects, and fail on them.

No Playwright route is set for this. A route intercepts every request of the page: each one then
waits for a round trip through Playwright's driver and the pytest process, and Chromium's HTTP cache
is off while a route is set, so every page load fetches and compiles MathJax's and the theme's
scripts again. Loading the book's 50 pages one after another in one tab (measured in its own
cpuacct cgroup: Chromium, Playwright's driver, pytest, the static server) took 71.0 CPU-s with a
``**/*`` route, 60.6 with this rule and the cache off, 37.5-43.4 with this rule alone.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

CHROMIUM = os.environ.get("KLBOOK_CHROMIUM", "/usr/bin/chromium")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]


def is_local(url: str, origin: str | None = None) -> bool:
    """Whether a request for ``url`` stays on this machine: a ``data:`` or ``blob:`` URL, or a URL of
    ``origin`` (e.g. ``http://127.0.0.1:40123``); with no ``origin``, any URL whose host is 127.0.0.1
    or that has no host."""
    if url.startswith(("data:", "blob:")):
        return True
    if origin is not None:
        return url == origin or url.startswith(origin + "/")
    return urlsplit(url).hostname in ("127.0.0.1", None)
