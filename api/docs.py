"""The API documentation pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served entirely by
the service: they work offline and need no script or style from another host.

The assets come from the package ``fastapi-offline`` (pinned in ``constraints.txt``; MIT), which
ships Swagger UI 5 (Apache-2.0, SmartBear Software) and ReDoc 2 (MIT, Redocly) as released; only
its ``static`` folder is used. The pages have no inline script (Swagger UI starts from
``/docs/init.js``), so the content security policy of ``logistics_api.limits`` allows scripts
from this origin only.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"

SWAGGER_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{title}}: API</title>
<link rel="icon" href="{ASSETS}/favicon.png"><link rel="stylesheet" href="{ASSETS}/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script><script src="/docs/init.js"></script></body></html>
"""
SWAGGER_INIT = """SwaggerUIBundle({url: "%s", dom_id: "#swagger-ui", validatorUrl: null, deepLinking: true,
  layout: "BaseLayout", presets: [SwaggerUIBundle.presets.apis]});
"""
REDOC_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{title}}: API</title>
<link rel="icon" href="{ASSETS}/favicon.png"></head>
<body><redoc spec-url="{{openapi}}"></redoc><script src="{ASSETS}/redoc.standalone.js"></script></body></html>
"""


def install(app: FastAPI) -> None:
    """Serve ``/docs``, ``/docs/init.js``, ``/redoc`` and the assets (the app is created with
    ``docs_url=None, redoc_url=None``)."""
    openapi = app.openapi_url or "/openapi.json"
    app.mount(ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_page() -> HTMLResponse:
        return HTMLResponse(SWAGGER_PAGE.format(title=app.title))

    @app.get("/docs/init.js", include_in_schema=False)
    async def swagger_init() -> Response:
        return Response(SWAGGER_INIT % openapi, media_type="text/javascript")

    @app.get("/redoc", include_in_schema=False)
    async def redoc_page() -> HTMLResponse:
        return HTMLResponse(REDOC_PAGE.format(title=app.title, openapi=openapi))
