"""The gunicorn worker class of the uvicorn image: uvicorn-worker's, with lifespan off.

Django does not implement lifespan; uvicorn's "auto" would log that at every start.
Only gunicorn imports this module, inside the uvicorn image.
"""

from uvicorn_worker import UvicornWorker as _UvicornWorker


class UvicornWorker(_UvicornWorker):
    CONFIG_KWARGS = {**_UvicornWorker.CONFIG_KWARGS, "lifespan": "off"}
