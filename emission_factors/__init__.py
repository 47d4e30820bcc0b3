"""The shipped factor packs, one folder each (``<pack>/pack.json`` and its tables).

This folder is the packs' source in the repository; the wheel installs it as the package
``logistics.emission_factors`` and ``logistics.factors`` reads it through ``importlib.resources``.
"""
