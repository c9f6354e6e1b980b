"""The application every flavor's server loads, as django_asgi.runtime.asgi:application.

Importing this module loads the user's app (django_asgi.runtime.app). Only servers import it:
hypercorn looks the attribute up in the module's namespace, so it must exist at import time.
"""

from django_asgi.runtime.app import load

application = load()
