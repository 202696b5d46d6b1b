"""The web dashboard: Jinja2 pages and htmx fragments over the same services as the API.

``install(app)`` serves it at ``/`` (the API stays under ``/v1``). The pages call
services only, never repositories (an import contract), so tenant checks and every rule
live in one place; htmx is vendored under ``static/vendor`` with its licence, so nothing
loads from a CDN and no build step is needed.
"""

from launchgate.dashboard.router import install

__all__ = ["install"]
