"""Replacing a server's internals, loudly: a patch whose target moved is an error, never dead code.

Every patch of hypercorn, daphne (Twisted) and uvicorn goes through replace(),
which checks that the name exists and still takes the parameters the patch was
written for. `python -m django_asgi.patching SERVER` applies a server's patches
and exits non-zero with one line when one no longer fits: the image build runs
it, so an upgrade that renames what a patch replaces fails the build; with
--distributions it then lists the packages patched, each of which the image's
requirements keep within the release range the patches were tested on.
"""

import importlib
import inspect
import sys

# The distributions whose internals the patches applied in this process checked.
PATCHED: set[str] = set()


class PatchOutdated(RuntimeError):
    """What a patch replaces is gone or changed shape."""


def replace(owner, name: str, parameters: tuple[str, ...], make, distribution: str, why: str):
    """Set owner.name to make(original) after checking that original takes `parameters`.

    distribution: the package whose version the error names; why: the upstream code or issue the patch works around.
    """
    overridden(owner, name, parameters, distribution, why)
    original = getattr(owner, name)
    setattr(owner, name, make(original))
    return original


def overridden(base, name: str, parameters: tuple[str, ...], distribution: str, why: str) -> None:
    """A method a subclass overrides still exists in the base class with these parameters."""
    require(base, name, distribution, why)
    found = tuple(inspect.signature(getattr(base, name)).parameters)
    if found != parameters:
        raise PatchOutdated(
            _line(distribution, f"{_where(base, name)} takes {found}, the patch expects {parameters}", why)
        )


def require(owner, name: str, distribution: str, why: str) -> None:
    """A name a patch calls (without replacing it) exists."""
    PATCHED.add(distribution)
    if getattr(owner, name, None) is None:
        raise PatchOutdated(_line(distribution, f"{_where(owner, name)} is gone", why))


def _where(owner, name: str) -> str:
    return f"{owner.__name__}.{name}" if inspect.ismodule(owner) else f"{owner.__module__}.{owner.__qualname__}.{name}"


def _line(distribution: str, problem: str, why: str) -> str:
    from importlib.metadata import version

    return f"django-asgi: cannot patch {distribution} {version(distribution)}: {problem} (patch for: {why})"


def main(argv: list[str]) -> int:
    """Apply the patches the server's module names in PATCHES ("module" or "module:function")."""
    from django_asgi import servers

    listing = argv[1:] == ["--distributions"]
    if listing:
        argv = argv[:1]
    if len(argv) != 1 or argv[0] not in servers.names():
        print(
            f"usage: python -m django_asgi.patching {{{','.join(servers.names())}}} [--distributions]", file=sys.stderr
        )
        return 2
    target = getattr(servers.load(argv[0]), "PATCHES", None)
    if not target:
        return 0
    module, _, function = target.partition(":")
    try:
        loaded = importlib.import_module(module)
        if function:
            getattr(loaded, function)()
    except PatchOutdated as error:
        print(error, file=sys.stderr)
        return 1
    if listing:
        from django_asgi import patching  # under python -m this module is __main__, not the one the patches use

        print("\n".join(sorted(patching.PATCHED)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
