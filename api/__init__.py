"""The HTTP service of logistics-co2 (installed as ``logistics_api``; needs the ``[service]`` extra)."""

import importlib.util as _util

_NEEDED = ("fastapi", "uvicorn", "multipart", "httpx", "psycopg", "cryptography", "fastapi_offline")
_missing = [m for m in _NEEDED if _util.find_spec(m) is None]
if _missing:
    raise ImportError(
        f"the logistics-co2 service needs {', '.join(_missing)}: pip install 'logistics-co2[service]'"
    )
