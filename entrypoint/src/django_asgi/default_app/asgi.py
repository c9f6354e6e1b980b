"""ASGI entry of the default app: Django for HTTP, a WebSocket echo at /ws."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_asgi.default_app.settings")

# Imported only now: Django reads the settings module named above.
from django.core.asgi import get_asgi_application

django_application = get_asgi_application()


async def echo(scope, receive, send):
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": message["text"]})
            else:
                await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})
        elif message["type"] == "websocket.disconnect":
            return


async def application(scope, receive, send):
    if scope["type"] == "websocket":
        if scope["path"] == "/ws":
            return await echo(scope, receive, send)
        await send({"type": "websocket.close", "code": 4404})
        return
    return await django_application(scope, receive, send)
