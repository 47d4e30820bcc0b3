"""The HTTP service of logistics-co2 (installed as ``logistics_api``; needs the ``[service]`` extra)."""

import importlib.util as _util

_missing = [m for m in ("fastapi", "uvicorn", "multipart", "httpx", "psycopg", "cryptography") if _util.find_spec(m) is None]
if _missing:
    raise ImportError(
        f"the logistics-co2 service needs {', '.join(_missing)}: pip install 'logistics-co2[service]'"
    )
