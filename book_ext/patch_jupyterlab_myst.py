"""Make jupyterlab-myst 2.7.0 render a notebook's MyST once per burst of cell renders, not once per cell.

Run by ``make``'s install step (the ``.venv`` stamp: ``make book``, ``make lab``, ``make test``, CI)
and by Binder's ``postBuild``, on the environment of the Python that runs it::

    python book_ext/patch_jupyterlab_myst.py            # the labextension under sys.prefix
    python book_ext/patch_jupyterlab_myst.py PREFIX     # or under PREFIX/share/jupyter/labextensions

The problem. Each markdown cell that renders (``MySTMarkdownCell.render()``, src/MySTMarkdownCell.tsx)
calls ``renderNotebook(notebook)`` (src/myst.ts), which re-parses and re-resolves the MyST of EVERY
markdown cell of the notebook and gives every rendered cell a new ``MySTModel``. Opening a notebook
renders all its markdown cells at once, so a notebook of n markdown cells gets n whole-notebook
passes and n * n model resets (chapter 3: 22 passes, 484 resets); every reader waits for it.

The patch. The calls of one burst share one pass: a call starts a pass a macrotask later (after
the previous pass, if one is running) unless a pass is already waiting to start, which it joins.
Every pass still starts after the last call before it, so it sees every cell's MyST as the last of
the unpatched passes does: the same models, the same rendered HTML (tests/lab checks it). Editing
a cell and rendering it again (shift-enter) is a burst of one call, one pass, as before.
``notebook.klbookMyst`` counts the calls and passes (the JupyterLab test reads it to check that the
running JupyterLab has the patch).

Safety. Only the exact bundle of jupyterlab-myst 2.7.0 is patched (its SHA-256 is checked, and
both places the patch changes must occur exactly once); an already patched bundle is left alone;
any other file or version gets a warning on stderr and is left as it is (exit status 0: the
environment still works, unpatched). The patched file replaces the old one by a rename, so a
hard-linked copy (uv's cache) is never written to.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

VERSION = "2.7.0"
BUNDLE = "static/956.89b7b6dfa74ef07f1f97.js"
ORIGINAL_SHA256 = "3bf7090a8687fbe774bde4b3e5f135b9e18818e0022ce0046a4493a20cd12e07"
PATCHED_SHA256 = "7fcb7842559c2c97d9c3a3dd46ed1c456e8392a368a74cd4255003ad80e4c30d"  # patched(original)

# MySTMarkdownCell.render() as bundled: renderNotebook(this.parent) is inlined as an async IIFE.
OLD_START = "this.isAttached&&(await async function(e){var t;const r=e.widgets.filter(se)"
OLD_END = "e.mystModel=r}})}(this.parent),await this._mystWidget.renderPromise"
# The same IIFE's function handed to a coalescer: per notebook, the pass waiting to start (next),
# the last pass started or scheduled (last), and counts of the calls and the passes run.
COALESCE = ("((n,f)=>{const s=n.klbookMyst||(n.klbookMyst={calls:0,passes:0,next:null,last:Promise.resolve()});"
            "s.calls++;if(!s.next){const p=s.last.catch(()=>{}).then(()=>new Promise(r=>setTimeout(r,0)))"
            ".then(()=>{s.next=null;s.passes++;return f(n)});s.next=p;s.last=p}return s.next})")
NEW_START = "this.isAttached&&(await " + COALESCE + "(this.parent,async function(e){var t;const r=e.widgets.filter(se)"
NEW_END = "e.mystModel=r}})}),await this._mystWidget.renderPromise"


def patched(text: str) -> str:
    """``text`` (the original bundle) with the coalescer; ValueError unless each place occurs once."""
    for old in (OLD_START, OLD_END):
        if text.count(old) != 1:
            raise ValueError(f"expected exactly one {old[:40]!r}..., found {text.count(old)}")
    return text.replace(OLD_START, NEW_START).replace(OLD_END, NEW_END)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def extension_dir(prefix: Path) -> Path:
    return prefix / "share" / "jupyter" / "labextensions" / "jupyterlab-myst"


def patch(ext: Path) -> str:
    """Patch the bundle in the labextension directory ``ext``; return what was done."""
    package = ext / "package.json"
    if not package.is_file():
        return f"warning: no jupyterlab-myst in {ext}: nothing patched"
    version = json.loads(package.read_text(encoding="utf-8")).get("version")
    if version != VERSION:
        return f"warning: jupyterlab-myst {version} in {ext}, the patch is for {VERSION}: left unpatched"
    bundle = ext / BUNDLE
    data = bundle.read_bytes() if bundle.is_file() else b""
    digest = _sha256(data)
    if digest == PATCHED_SHA256:
        return f"{bundle}: already patched"
    if digest != ORIGINAL_SHA256:
        return f"warning: {bundle} is not jupyterlab-myst {VERSION}'s bundle (SHA-256 {digest}): left unpatched"
    new = patched(data.decode("utf-8")).encode("utf-8")
    # A new file renamed over the old one: the old inode (maybe shared with uv's cache) is untouched.
    fd, tmp = tempfile.mkstemp(dir=bundle.parent, prefix=".patch-", suffix=".js")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(new)
        os.chmod(tmp, bundle.stat().st_mode & 0o777)
        os.replace(tmp, bundle)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return f"{bundle}: patched (one MyST pass per burst of cell renders)"


def main(argv: list[str]) -> int:
    prefix = Path(argv[1]) if len(argv) > 1 else Path(sys.prefix)
    message = patch(extension_dir(prefix))
    print(f"patch_jupyterlab_myst: {message}", file=sys.stderr if message.startswith("warning") else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
