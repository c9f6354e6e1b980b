"""HTTP to Django, WebSockets to the chat consumers."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chat.settings")

# Django first: the routing below imports models and consumers.
from django.core.asgi import get_asgi_application

django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from chat.consumers import RoomConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": AllowedHostsOriginValidator(URLRouter([path("ws/<slug:room>/", RoomConsumer.as_asgi())])),
    }
)
