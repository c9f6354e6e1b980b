"""Django for HTTP; a WebSocket echo at /ws, answered in plain ASGI."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchapp.settings")

# Imported only now: Django reads the settings module named above.
from django.core.asgi import get_asgi_application

django_application = get_asgi_application()


async def application(scope, receive, send):
    if scope["type"] != "websocket":
        return await django_application(scope, receive, send)
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": message.get("text"), "bytes": message.get("bytes")})
        elif message["type"] == "websocket.disconnect":
            return
