"""What granian's workers load: the app (django_asgi.runtime.app) with a stop hook that closes open
WebSockets with 1001 (granian drops them on stop without a close frame; django_asgi.servers.granian.worker),
and a 400 for a malformed chunked body (granian's own answer is 500)."""

from django_asgi.runtime.app import load
from django_asgi.runtime.wrapper import OpenWebSockets
from django_asgi.servers.granian import worker

_websockets = OpenWebSockets()
worker.install_patches(_websockets)
# granian answers 500 when a chunked body it could not parse got no response (src/asgi/callbacks.rs).
application = load(_websockets, answer_cut_bodies=True)
