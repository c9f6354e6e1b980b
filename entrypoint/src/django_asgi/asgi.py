"""The application every flavor's server loads, as django_asgi.asgi:application.

Importing this module imports the app named by DJANGO_ASGI_APP (a failure is
reported once and ends the worker with django_asgi.boot.BOOT_ERROR) and wraps it
(django_asgi.wrapper). Only servers import it: hypercorn looks the attribute up
in the module's namespace, so it must exist at import time.
"""

import os

from django_asgi.boot import load_or_exit
from django_asgi.servers import TRUSTED_PROXIES
from django_asgi.wrapper import TrustedProxies, wrap

application = wrap(load_or_exit(os.environ["DJANGO_ASGI_APP"]), TrustedProxies(os.environ.get(TRUSTED_PROXIES, "")))
