"""The gunicorn worker class of the uvicorn image: uvicorn-worker's, with lifespan off.

Django does not implement lifespan; uvicorn's "auto" would log that at every start.
Only gunicorn imports this module, inside the uvicorn image.
"""

from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker as _UvicornWorker


class UvicornWorker(_UvicornWorker):
    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {**_UvicornWorker.CONFIG_KWARGS, "lifespan": "off"}
