"""The GLEC Framework v3.0 / ISO 14083 arithmetic as small pure functions.

Each function takes and returns quantities whose unit is in the argument name, and cites where the
rule is written. They use arithmetic operators only, so the same function works on floats, NumPy
arrays and polars expressions: the engine builds its query from them, and tests check them on
hand-calculated numbers.

References:
- GLEC: Smart Freight Centre, *GLEC Framework for Logistics Emissions Accounting and Reporting*,
  v3.0 (2023, revision of 2 April 2024); pages as printed.
- ISO 14083: ISO 14083:2023, *Greenhouse gases — Quantification and reporting of greenhouse gas
  emissions arising from transport chain operations*.
"""
