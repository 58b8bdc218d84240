"""tbcore's built-in plugins: summary types and array adapters.

Each module here is registered through the ``tbcore`` entry-point group of tbcore's own
``pyproject.toml``, exactly as a third-party plugin package registers its modules, and
uses only tbcore's public API.
"""
