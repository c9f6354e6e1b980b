import html
import os
import platform

import django
from django.http import HttpResponse, JsonResponse

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>django-asgi: {server}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem}}
code,pre{{background:#f3f3f3;padding:.1em .3em}}pre{{padding:.8em}}</style></head>
<body><h1>django-asgi is serving</h1>
<ul><li>Server: <b>{server}</b> {server_version}</li><li>Django {django}</li><li>Python {python}</li></ul>
<p>This is the built-in page of the image. To serve your own project, build on the image:</p>
<pre>FROM django-asgi:{server}
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
ENV DJANGO_ASGI_APP=mysite.asgi:application</pre>
<p>WebSocket echo: <code>ws://&lt;this host&gt;/ws</code></p>
</body></html>
"""


def versions() -> dict[str, str]:
    from django_asgi import servers

    name = os.environ.get("DJANGO_ASGI_SERVER", "")
    found = servers.versions(name) if name in servers.names() else []
    return {
        "server": name or "unknown",
        "server_version": ", ".join(found),
        "django": django.get_version(),
        "python": platform.python_version(),
    }


def index(request):
    info = versions()
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(info)
    return HttpResponse(PAGE.format(**{key: html.escape(value) for key, value in info.items()}))


async def health(request):
    return JsonResponse({"status": "ok"})
