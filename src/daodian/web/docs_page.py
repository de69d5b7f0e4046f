"""The API's interactive docs (/docs) from our own static files, and the site's icon at the address browsers try
first: nothing here is fetched from a CDN, so both work offline and inside the page's Content-Security-Policy."""

import secrets

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse

router = APIRouter()

SWAGGER = "/static/vendor/swagger-ui"
FAVICON = "/static/favicon.svg"


@router.get("/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    page = get_swagger_ui_html(openapi_url=request.app.openapi_url, title=f"{request.app.title} API",
                               swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
                               swagger_css_url=f"{SWAGGER}/swagger-ui.css", swagger_favicon_url=FAVICON)
    # Swagger UI starts from one inline script: it carries this response's nonce (kit.html.security_headers).
    nonce = request.state.csp_nonce = secrets.token_urlsafe(16)
    html = page.body.decode().replace("<script>", f'<script nonce="{nonce}">')
    return HTMLResponse(html)


@router.get("/favicon.ico")
async def favicon() -> RedirectResponse:
    return RedirectResponse(FAVICON, status_code=301)
