"""Exchange formats: PACT ProductFootprints (v2.3 and v3.0) carrying iLEAP v1.0.0 ShipmentFootprint,
TOC and HOC payloads, iLEAP TAD, their validation against the published schemas, and parsing.

    from logistics import exchange
    docs = exchange.export_documents(result.legs, result.shipments, "pact-v2", exchange.load_config("exchange.toml"))
    exchange.validate_document(docs[0])          # [] when valid, else "<JSON path>: <problem>" lines
    footprints = exchange.parse_footprints(docs)  # typed models; exchange.tce_table(footprints) -> polars

Modules: ``export`` (engine results → documents, CLI helpers), ``ileap`` (iLEAP payloads),
``pact`` (ProductFootprint wrapping and the mapping tables), ``validate``, ``parse``, ``models``,
``config``, ``decimals``.
"""

from .config import ExchangeConfig, load_config
from .export import (
    FORMATS,
    Export,
    ExportReport,
    build_export,
    dangling_references,
    export_documents,
    export_file,
    incomplete_shipments,
)
from .ileap import ExchangeError, hoc_payload, measured_toc_payload, tad_payloads, toc_payload
from .models import HOC, TAD, TCE, TOC, ProductFootprintV2, ProductFootprintV3, ShipmentFootprint
from .parse import ParseError, footprint_table, parse_footprints, parse_ileap, tce_table
from .validate import document_kind, validate_document

__all__ = [
    "FORMATS", "HOC", "TAD", "TCE", "TOC", "ExchangeConfig", "ExchangeError", "Export", "ExportReport", "ParseError",
    "ProductFootprintV2", "ProductFootprintV3", "ShipmentFootprint", "build_export", "dangling_references", "document_kind",
    "export_documents", "export_file", "footprint_table", "hoc_payload", "incomplete_shipments", "load_config",
    "measured_toc_payload", "parse_footprints", "parse_ileap", "tad_payloads", "tce_table", "toc_payload",
    "validate_document",
]
