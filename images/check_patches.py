"""At the image build: apply a server's patches to the server just installed, and stop the build
with one line when one no longer fits (django_asgi.runtime.patching says what is checked).

    python check_patches.py SERVER                  apply SERVER's patches (exit 1: one line)
    python check_patches.py SERVER --distributions  then list the distributions they patch

Outside the entrypoint's package: the images run the patches, not this check of them.
"""

import importlib
import sys


def main(argv: list[str]) -> int:
    from django_asgi import servers
    from django_asgi.runtime import patching

    listing = argv[1:] == ["--distributions"]
    if listing:
        argv = argv[:1]
    if len(argv) != 1 or argv[0] not in servers.names():
        print(f"usage: check_patches.py {{{','.join(servers.names())}}} [--distributions]", file=sys.stderr)
        return 2
    try:
        for target in servers.load(argv[0]).PATCHES:
            module, _, function = target.partition(":")
            loaded = importlib.import_module(module)
            if function:
                getattr(loaded, function)()
    except patching.PatchOutdated as error:
        print(error, file=sys.stderr)
        return 1
    except ImportError as error:  # a module a patch imports is gone (another version of the server)
        print(f"django-asgi: cannot patch {argv[0]}: {error}", file=sys.stderr)
        return 1
    if listing:
        print("\n".join(sorted(patching.PATCHED)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
