"""The web service (``ccp serve``): pages and a JSON API over the same use cases as ``ccp``.

FastAPI, pages rendered on the server from the report templates, charts drawn
in the browser by the Vega JavaScript that the service serves itself (no
network needed). ``create_service`` builds the application; ``ccp serve`` runs
it under uvicorn.
"""

from ccpwaterfall.service.application import ServiceConfig, create_service

__all__ = ["ServiceConfig", "create_service"]
