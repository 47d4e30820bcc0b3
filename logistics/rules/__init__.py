"""GLEC Framework / ISO 14083 formulas as small pure functions.

Every function uses arithmetic operators only, so the same function works on polars expressions,
NumPy arrays and plain floats. Units are in the argument names; each docstring cites the
publication, edition and page the formula comes from.
"""
