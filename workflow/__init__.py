"""The pure core of Sluice: types, parsing, validation, templating, expressions, naming and the engine.

Nothing in this package performs I/O or reads a clock (DESIGN.md, contract 1); tests/unit/test_layering.py
keeps it that way.
"""
