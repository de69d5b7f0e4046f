"""Mounts every domain's HTML routes."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from daodian.web.rendering import render


def build_pages_router() -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    @pages.get("/", response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        return render(request, "home.html")

    return pages
