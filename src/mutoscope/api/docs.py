"""``/docs`` that works offline: Swagger UI's script and style come from this server.

FastAPI's own pages load Swagger UI and Redoc from a CDN, so on an offline machine (or behind
a strict firewall) the page linked from every studio page was blank. The assets are the ones
the ``fastapi-offline`` package ships; only its static folder is used. There is no
``/redoc``: Redoc fetches its logo from its own CDN whatever it is given.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
BACK_LINK = (
    '<p class="swagger-ui" id="back-to-studio"><a class="link" href="/">'
    "← Back to the Mutoscope studio</a></p>"
)


def install(app: FastAPI) -> None:
    """Serve the interactive API docs at ``/docs`` from packaged assets.

    Build the app with ``docs_url=None, redoc_url=None`` so FastAPI's CDN pages are not added.
    """
    static = files("fastapi_offline") / "static"
    app.mount(ASSETS, StaticFiles(directory=str(static)), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
        )
        # A way back: the studio links here from every page.
        html = bytes(page.body).decode().replace("<body>", f"<body>\n{BACK_LINK}", 1)
        return HTMLResponse(html)
