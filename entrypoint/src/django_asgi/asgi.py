"""The wrapped application that servers load as django_asgi.asgi:application.

Importing this module imports the app named by DJANGO_ASGI_APP: only servers
import it (hypercorn looks the attribute up in the module's namespace, so it
must exist at import time).
"""

import os

from django_asgi.wrapper import TrustedProxies, load, wrap

application = wrap(load(os.environ["DJANGO_ASGI_APP"]), TrustedProxies(os.environ.get("FORWARDED_ALLOW_IPS", "")))
