"""The engine's stages: vocabulary keys, factors, distances, the per-leg computation, checks,
shipment totals, and the engine that composes them (``pipeline.engine``)."""
