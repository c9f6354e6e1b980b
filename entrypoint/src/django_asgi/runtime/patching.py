"""Replacing a server's internals, loudly: a patch whose target moved or changed is an error, never
dead code or a lost upstream fix.

Every patch of a server goes through these. replace() checks that the name exists and still takes
the parameters the patch was written for; a replacement that never calls the original (a copy of
upstream code, rewritten) must also name the fingerprint of the upstream source it was written
against (copied=), and a replacement that neither calls the original nor names one is refused.
require() checks a name a patch reads or calls. Each raises PatchOutdated with one line naming the
distribution, its version and what changed. The checks run wherever the patches are applied: in
the servers' processes, and at the image build (images/check_patches.py).
"""

import inspect
import zlib

# The distributions whose internals the patches applied in this process checked.
PATCHED: set[str] = set()


# The fingerprint of the upstream source a copy was written against, or several (supported versions).
Copied = str | tuple[str, ...]


class PatchOutdated(RuntimeError):
    """What a patch replaces is gone or changed shape."""


def replace(
    owner,
    name: str,
    parameters: tuple[str, ...],
    make,
    distribution: str,
    why: str,
    *,
    copied: str | tuple[str, ...] = "",
):
    """Set owner.name to make(original) after checking that original takes `parameters`.

    distribution: the package whose version the error names; why: the upstream code or issue the patch
    works around; copied: fingerprint() of the upstream function, for a replacement that does not call it
    (several, where the supported versions differ in ways the copy was checked against).
    """
    overridden(base=owner, name=name, parameters=parameters, distribution=distribution, why=why, copied=copied)
    original = getattr(owner, name)
    replacement = make(original)
    if not copied and "original" not in _code(replacement).co_freevars:
        raise PatchOutdated(
            _line(
                distribution, f"the patch of {_where(owner, name)} never calls it: give the fingerprint it copies", why
            )
        )
    setattr(owner, name, replacement)
    return original


def overridden(
    base, name: str, parameters: tuple[str, ...], distribution: str, why: str, *, copied: Copied = ""
) -> None:
    """A method a subclass overrides still exists in the base class with these parameters (and, for an
    override that copies it, still has the source the copy was written against)."""
    require(base, name, distribution, why)
    found = tuple(inspect.signature(getattr(base, name)).parameters)
    if found != parameters:
        raise PatchOutdated(
            _line(distribution, f"{_where(base, name)} takes {found}, the patch expects {parameters}", why)
        )
    if copied:
        known = (copied,) if isinstance(copied, str) else copied
        now = fingerprint(getattr(base, name))
        if now not in known:
            problem = f"{_where(base, name)} changed upstream (fingerprint {now}; the copy is of {' or '.join(known)})"
            raise PatchOutdated(_line(distribution, problem, why))


def require(owner, name: str, distribution: str, why: str) -> None:
    """A name a patch reads or calls (without replacing it) exists."""
    PATCHED.add(distribution)
    if getattr(owner, name, None) is None:
        raise PatchOutdated(_line(distribution, f"{_where(owner, name)} is gone", why))


def assigned(owner, method: str, attribute: str, distribution: str, why: str) -> None:
    """An attribute a patch reads from instances (set there, not on the class) is still set by the method
    that sets it upstream: its name is among the names that method's code uses."""
    require(owner, method, distribution, why)
    if attribute not in _names(_code(getattr(owner, method))):
        raise PatchOutdated(_line(distribution, f"{_where(owner, method)} no longer sets {attribute}", why))


def _names(code) -> set[str]:
    nested = [_names(const) for const in code.co_consts if hasattr(const, "co_names")]
    return set(code.co_names).union(*nested)


def fingerprint(function) -> str:
    """A short hash of a function's source, its lines stripped and comments and blank lines left out.

    Read from the lines its code object spans (no inspect.getsource: that tokenizes the file, which
    would cost every worker's start milliseconds)."""
    code = _code(function)
    lines = _source(code.co_filename)
    if lines is None:
        return "(no source)"
    lines = lines[code.co_firstlineno - 1 : _last_line(code)]
    kept = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    return f"{zlib.crc32(chr(10).join(kept).encode()):08x}"


_SOURCES: dict[str, list[str] | None] = {}  # several copies come from one file: read it once


def _source(filename: str) -> list[str] | None:
    if filename not in _SOURCES:
        try:
            with open(filename, encoding="utf-8") as source:
                _SOURCES[filename] = source.read().splitlines()
        except OSError:
            _SOURCES[filename] = None
    return _SOURCES[filename]


def _last_line(code) -> int:
    """The last line a code object (and the functions defined in it) spans."""
    last = max((end for _, end, _, _ in code.co_positions() if end is not None), default=code.co_firstlineno)
    nested = [_last_line(const) for const in code.co_consts if hasattr(const, "co_positions")]
    return max([last, *nested])


def _code(function):
    return getattr(function, "__func__", function).__code__


def _where(owner, name: str) -> str:
    return f"{owner.__name__}.{name}" if inspect.ismodule(owner) else f"{owner.__module__}.{owner.__qualname__}.{name}"


def _line(distribution: str, problem: str, why: str) -> str:
    from importlib.metadata import version

    return f"django-asgi: cannot patch {distribution} {version(distribution)}: {problem} (patch for: {why})"
