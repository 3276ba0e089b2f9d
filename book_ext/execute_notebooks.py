"""Execute the chapter notebooks into the book's execution cache, several at a time.

``execute_notebooks: cache`` makes jupyter-book run every notebook whose code changed,
one after another, during the build. ``make book`` runs this script first: it executes
those notebooks in parallel (one process per core, as ``jcache project execute
--executor local-parallel`` would) into the same cache, ``_build/.jupyter_cache``. The
build then finds them cached and only renders. A notebook that fails here is simply not
cached: the build runs it again and reports the error.

Usage: ``python book_ext/execute_notebooks.py [--stored] CACHE_DIR TIMEOUT NOTEBOOK...``

``--stored`` executes nothing: it puts each notebook into the cache *as stored*, with the
outputs in the file, so the build renders exactly what the repository holds (and what a
JupyterLab reader opens). ``make test-notebooks`` (nbval) re-runs every notebook and fails if
a stored output differs from a fresh run, so the two agree whenever the tests pass. This saves
the build the whole execution (``make book STORED=1``).
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    stored = "--stored" in argv
    argv = [a for a in argv if a != "--stored"]
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    from jupyter_cache import get_cache
    from jupyter_cache.executors import load_executor

    cache_dir, timeout, notebooks = argv[0], int(argv[1]), [str(Path(p).resolve()) for p in argv[2:]]
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logger = logging.getLogger("execute_notebooks")
    cache = get_cache(cache_dir)
    for path in notebooks:
        cache.add_nb_to_project(path)
    if stored:
        # Every notebook, not only those whose code changed: a notebook re-executed with the same
        # code has new outputs (e.g. an explorer's embedded script), and the cache keys on code,
        # so it would keep serving the old outputs.
        for uri in notebooks:
            cache.cache_notebook_file(uri, check_validity=False, overwrite=True)
        print(f"execute_notebooks: {len(notebooks)} notebooks cached as stored (not executed)")
        return 0
    todo = [record.uri for record in cache.list_unexecuted(filter_uris=notebooks)]
    if not todo:
        print(f"execute_notebooks: all {len(notebooks)} notebooks are cached")
        return 0
    print(f"execute_notebooks: running {len(todo)} of {len(notebooks)} notebooks in parallel")
    start = time.perf_counter()
    executor = load_executor("local-parallel", cache=cache, logger=logger)
    result = executor.run_and_cache(filter_uris=todo, timeout=timeout, allow_errors=False)
    failed = result.excepted + result.errored
    print(f"execute_notebooks: {len(result.succeeded)} cached, {len(failed)} failed "
          f"(the build re-runs and reports those) in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
