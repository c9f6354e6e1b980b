"""Entrypoint of the django-asgi images."""

__version__ = "0.1.0"
