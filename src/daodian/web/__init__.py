"""Server-rendered pages (Jinja2 + htmx) for consumers, merchants and the operator."""
