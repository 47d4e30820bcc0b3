"""GLEC Framework v3 / ISO 14083 logistics emissions engine.

    import logistics
    result = logistics.calculate("legs.csv")          # default pack: GLEC Framework v3.0
    result.legs, result.shipments, result.factors      # polars DataFrames

    calc = logistics.Calculator("glec-v3.0", tocs="our_tocs.csv")   # for embedding: keeps its work
    calc.calculate(legs)
"""

from .calculator import Calculator, Result, calculate
from .factors import Pack, PackError, load_pack
from .io import InputError

__all__ = ["Calculator", "InputError", "Leg", "Pack", "PackError", "Result", "Shipment", "calculate", "load_pack"]
__version__ = "0.2.0.dev0"


def __getattr__(name: str):
    # the request models need pydantic: imported when first used, not by every command line run
    if name in ("Leg", "Shipment"):
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module 'logistics' has no attribute {name!r}")
