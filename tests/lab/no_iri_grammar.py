"""A pytest plugin (``-p tests.lab.no_iri_grammar``): jsonschema without its IRI grammar.

nbval reads notebooks with nbformat, which imports jsonschema; jsonschema's import builds
rfc3987_syntax's Earley grammar for its "iri"/"iri-reference" format checks, 1.6-2.1 CPU-s in
every process that imports it. nbformat validates notebooks without format checks, so the grammar
is never used: with ``rfc3987_syntax`` marked unimportable before nbval loads, jsonschema leaves
those two formats unchecked (its documented behaviour when a checker's package is missing) and
every notebook is read and validated exactly as before. ``make test-notebooks`` and
``make nbval-NAME`` load it first (the Makefile's NBVAL); tests/lab/conftest.py starts its
JupyterLab server the same way (SERVER_BOOT), and tests/test_notebooks_clean.py imports nbformat so.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)
