"""What granian's workers load: the app (django_asgi.runtime.app) with a stop hook that closes open
WebSockets with 1001 (granian drops them on stop without a close frame; django_asgi.servers.granian.worker)."""

from django_asgi.runtime.app import load
from django_asgi.runtime.wrapper import OpenWebSockets
from django_asgi.servers.granian import worker

_websockets = OpenWebSockets()
worker.install_patches(_websockets)
application = load(_websockets)
