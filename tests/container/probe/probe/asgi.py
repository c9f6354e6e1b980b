from django.core.asgi import get_asgi_application

django_application = get_asgi_application()


async def application(scope, receive, send):
    # The hostile-client tests look for this line: a smuggled request must never get this far.
    if scope["type"] == "http" and scope["path"].startswith("/smuggled"):
        print(f"probe: saw {scope['method']} {scope['path']}", flush=True)
    return await django_application(scope, receive, send)
