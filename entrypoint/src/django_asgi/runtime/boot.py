"""Import the application in a worker; report a failure to import it once per start.

Every flavor's workers import the app through django_asgi.runtime.asgi. When the import
raises, each worker would print the same traceback, and managers that respawn
workers would print it again and again. The first worker to fail prints it, the
others stay silent. The reporting worker exits with BOOT_ERROR, on which
gunicorn's arbiter and django_asgi.supervise stop; granian stops at its own
crash-loop check.
"""

import importlib
import os
import sys

from django_asgi.runtime.early_stop import Stopped

BOOT_ERROR = 3  # gunicorn's "worker failed to boot"
BOOT_ID = "DJANGO_ASGI_BOOT_ID"  # set per start by the entrypoint and by django_asgi.supervise
MARKER_DIR = "/dev/shm"  # a tmpfs in Docker and Kubernetes, writable with a read-only root


def load(target: str):
    """module:attribute (attribute may be dotted; default application), from the working directory."""
    module_name, _, attribute = target.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    obj = importlib.import_module(module_name)
    for part in (attribute or "application").split("."):
        obj = getattr(obj, part)
    return obj


def load_or_exit(target: str, env=os.environ, marker_dir: str = MARKER_DIR):
    try:
        return load(target)
    except Stopped:
        raise
    except (Exception, SystemExit) as error:
        first = first_to_fail(env, marker_dir)
        if first:
            import traceback

            traceback.print_exc()
            print(f"django-asgi: {target} failed to load{hint(error, env)}; stopping", file=sys.stderr)
        sys.stderr.flush()
        sys.stdout.flush()
        # Only the reporting worker says BOOT_ERROR: gunicorn 27 crashes when two say it at once.
        os._exit(BOOT_ERROR if first else 1)


def hint(error: BaseException, env=os.environ) -> str:
    """What to do about the commonest import failures, as the end of one line."""
    if not isinstance(error, ModuleNotFoundError) or not error.name:
        return ""
    top = error.name.partition(".")[0]
    if top == "daphne":
        # Channels' installation guide adds "daphne" to INSTALLED_APPS (for runserver).
        return (
            f": no module named 'daphne' (this image serves with {env.get('DJANGO_ASGI_SERVER') or 'another server'}); "
            'remove "daphne" from INSTALLED_APPS (it only adds runserver), or add daphne to your requirements'
        )
    return f": no module named {error.name!r}; add the package that provides it to your requirements, or fix the name"


def first_to_fail(env, marker_dir: str = MARKER_DIR) -> bool:
    """True for the first caller with this start's id; True also when that cannot be known."""
    boot_id = env.get(BOOT_ID, "")
    if not boot_id or not all(c.isalnum() or c == "." for c in boot_id):
        return True
    try:
        os.close(os.open(os.path.join(marker_dir, f"django-asgi-boot-{boot_id}"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    except OSError:
        return True
    return True


def new_id() -> str:
    return os.urandom(8).hex()
