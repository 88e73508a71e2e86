"""Sphinx configuration of optuna-rl's API reference.

Build it as ``.ci/run`` does (HTML with warnings as errors, then the ``.. testcode::`` examples of
the docstrings)::

    sphinx-build -b html -W --keep-going docs/source docs/build/html
    sphinx-build -b doctest docs/source docs/build/doctest
"""

from __future__ import annotations

import optuna_rl


project = "optuna-rl"
author = "The optuna-rl developers"
copyright = "2026, The optuna-rl developers"
release = optuna_rl.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.napoleon",
]

# Google-style docstrings, as Optuna writes them.
napoleon_google_docstring = True
napoleon_numpy_docstring = False
autodoc_member_order = "bysource"
autodoc_typehints = "description"

# The docstrings' examples run in a fresh namespace each; keep Optuna's per-trial log quiet.
doctest_global_setup = """
import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
"""

exclude_patterns = ["_build"]
html_theme = "sphinx_rtd_theme"
html_title = f"optuna-rl {release}"
