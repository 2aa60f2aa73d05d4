"""ASGI entry point: `uvicorn config.asgi:application`.

uvicorn rather than daphne by default: daphne keeps a whole request body in memory and ignores
slow readers (engineering.md, "Serving").
"""

import os

from config.handler import depot_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django must be set up before anything imports models; its middleware chain runs in one
# thread hop (config/handler.py).
django_handler = depot_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from agents_mcp.server import application as mcp_application  # noqa: E402
from artifacts.tus.streaming_app import TusApp  # noqa: E402
from attachments.uploads.middleware import StreamingUploadMiddleware  # noqa: E402
from config.cors import CorsLayer  # noqa: E402
from config.lifespan import Lifespan  # noqa: E402
from config.loop_reads import LoopAnswers  # noqa: E402
from config.observability import Observed  # noqa: E402
from config.request_gate import RequestGate  # noqa: E402
from config.threads import BoundToThread  # noqa: E402
from config.upload_answers import finish_upload  # noqa: E402
from sessions_app.events.log import WakeUpsSent  # noqa: E402
from sessions_app.routing import long_poll_urlpatterns, websocket_urlpatterns  # noqa: E402
from sessions_app.ws_auth import websocket_auth_stack  # noqa: E402

django_asgi_app = django_handler

application = ProtocolTypeRouter(
    {
        # Every request meets the gate first: authentication, then body limits
        # (config/request_gate.py). Multipart uploads stream to storage before Django sees
        # them (attachments/uploads/); long-polls wait outside Django (no thread each);
        # everything else is Django.
        # Browsers on other origins: preflights answered and every answer marked first
        # (config/cors.py; off unless DEPOT_CORS_ALLOWED_ORIGINS is set).
        # The plain keyed `GET /api/uploads/{sid}` is answered on the event loop, with no
        # thread (config/loop_reads.py); what it does not answer goes on.
        # A request's sync work, from the gate's key lookup to the view, runs on one of a few
        # kept threads, whose database connection outlives the request (config/threads.py).
        "http": CorsLayer(
            LoopAnswers(
                BoundToThread(
                    RequestGate(
                        URLRouter(
                            [
                                *long_poll_urlpatterns,
                                # The MCP server (agents_mcp/): Streamable HTTP, the gate's
                                # keys and caps.
                                re_path(r"^mcp/?$", mcp_application),
                                re_path(r"", django_asgi_app),
                            ]
                        ),
                        uploads=StreamingUploadMiddleware(django_asgi_app, finish=finish_upload),
                        tus=TusApp(),  # /api/tus/: resumable uploads (artifacts/tus/)
                    ),
                    # MCP's session tasks outlive the request that starts them, and a thread
                    # binding ends with its request (asgiref refuses calls from a task that
                    # outlived it). `/healthz` is answered by the gate with no sync work:
                    # binding it cost a sixth of its time (when Django answers it, it runs on
                    # asgiref's one kept thread).
                    unbound_prefixes=("/mcp", "/healthz"),
                )
            )
        ),
        "websocket": websocket_auth_stack(URLRouter(websocket_urlpatterns)),
        # Starts the embedded default's task worker process (config/lifespan.py).
        "lifespan": Lifespan(),
    }
)
# An HTTP request ends once the wake-ups of its writes are sent, after its answer
# (sessions_app/events/log.py).
application = WakeUpsSent(application)
# The outermost layer: request ids, the access log, request metrics and /metrics itself
# (config/observability.py).
application = Observed(application)
