"""GLEC Framework v3 / ISO 14083 logistics emissions engine.

    import logistics
    result = logistics.calculate("legs.csv")          # default pack: GLEC Framework v3.0
    result.legs, result.shipments                      # polars DataFrames
"""

from .engine import Result, calculate
from .factors import Pack, PackError, load_pack
from .io import InputError
from .model import Leg, Shipment

__all__ = ["calculate", "Result", "load_pack", "Pack", "PackError", "InputError", "Leg", "Shipment"]
__version__ = "0.1.0"
