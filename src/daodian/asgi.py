"""The ASGI entry point for servers: `uvicorn daodian.asgi:app`."""

from daodian.app import create_app

app = create_app()
