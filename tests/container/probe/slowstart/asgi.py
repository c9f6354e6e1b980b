"""The probe's application, three seconds in loading: a container stopped while its workers load."""

import os
import time

print(f"probe: loading in {os.getpid()}", flush=True)
time.sleep(3)

from probe.asgi import application  # noqa: E402  (loaded after the wait, as a slow project would be)

__all__ = ["application"]
