"""Django's own ASGI handler for DJANGO_SETTINGS_MODULE: all that `startproject`'s asgi.py does.

Served when the settings' packages hold no asgi.py (older projects ship only wsgi.py).
"""

from django.core.asgi import get_asgi_application

application = get_asgi_application()
