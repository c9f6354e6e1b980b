"""The servers: a folder each (django_asgi.servers.<name>), named in SERVERS, each turning a Config into a Plan.

A server's folder holds everything of that server. Its __init__ declares its facts and builds its command:
- DISTRIBUTIONS: the packages whose versions the summary line reports (the first is the server);
- SUPPORTED: {distribution: (oldest, below)}, the versions the folder's command and patches are made
  for, oldest included (a release that exists), `below` excluded. The image's pip and uv take them as
  constraints (a derived image's `pip install` of another version fails, naming the range), a start
  with another version installed stops with one line, and the tests run on the oldest and the newest;
- PATCHES: the functions ("module:function", or "module" for one that patches when imported) that
  patch the server's internals; the image build applies them to check them (images/check_patches.py);
- TAG: what the README's tag table says of the image;
- FLAVOR_TABLE: its column of the README's flavor table ("Which flavor?"), by row;
- plan(config, app, extra) -> Plan (django_asgi.servers.command has the shared pieces);
- check_arguments(args): the server's own parser run over extra flags (django_asgi.arguments); it
  imports what it needs itself, as nothing else on the way to the server may cost a start time.
Beside it: the code that runs inside the server's processes (a runner, `python -m`; a worker class;
its patches; its own app hook), and testing.toml, what the tests and the benchmark know of it (left
out of the images).

Adding a server is its folder, its line in SERVERS, and its images/requirements/<name>.in and lock;
everything else (the bake file's versions, the README's tables, the tests) is derived from these.
"""

import importlib
import os
import sys

from django_asgi.errors import ConfigError, StartRefused

# In the order of the README's tables.
SERVERS = {
    "granian": "django_asgi.servers.granian",
    "uvicorn": "django_asgi.servers.uvicorn",
    "hypercorn": "django_asgi.servers.hypercorn",
    "daphne": "django_asgi.servers.daphne",
}


def names() -> tuple[str, ...]:
    """The servers, alphabetically (as messages list them)."""
    return tuple(sorted(SERVERS))


def load(name: str):
    if name not in SERVERS:
        raise ConfigError("DJANGO_ASGI_SERVER", name, f"expected one of {', '.join(names())}")
    return importlib.import_module(SERVERS[name])


def versions(name: str) -> list[str]:
    """'distribution version' for each package the server's module names."""
    return [f"{distribution} {installed(distribution)}" for distribution in load(name).DISTRIBUTIONS]


def constraints(name: str) -> str:
    """The server's supported ranges as a pip constraints file (the image's PIP_CONSTRAINT, UV_CONSTRAINT)."""
    return "".join(f"{dist}>={oldest},<{below}\n" for dist, (oldest, below) in load(name).SUPPORTED.items())


def check_supported(name: str) -> None:
    """Every installed distribution of the server lies in its SUPPORTED range; else one line (exit 2)."""
    for distribution, (oldest, below) in load(name).SUPPORTED.items():
        found = installed(distribution)
        if found == "(not installed)":
            continue  # its command fails with the server's own error
        if not release(oldest) <= release(found) < release(below):
            raise StartRefused(
                f"{distribution} {found} is installed, and the {name} image supports {distribution}>={oldest},<{below} "
                f"(a requirement of the project replaced the image's): pin a version in that range, or drop the pin"
            )


def older(distribution: str, version: str) -> bool:
    """The installed distribution is older than this version (a flag or a patch that depends on it);
    not installed, the command is the newest's."""
    found = installed(distribution)
    return found != "(not installed)" and release(found) < release(version)


def release(version: str) -> tuple[int, ...]:
    """The release numbers of a version ("0.36.0" -> (0, 36, 0); "2.8.9.post1", "27.1rc1" -> their
    numbers), enough to place the versions PyPI has in the ranges above: the stdlib has no version
    parser (packaging is not in the images)."""
    numbers = []
    for part in version.split("."):
        digits = ""
        for char in part:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        numbers.append(int(digits))
        if len(digits) < len(part):
            break  # a pre-release or local suffix ends the release numbers
    while numbers and numbers[-1] == 0:
        numbers.pop()  # 22.0.0 == 22
    return tuple(numbers)


def installed(distribution: str) -> str:
    """The installed version of a distribution (a project's requirements may have replaced the image's),
    read from the name of its .dist-info directory, as the first entry of sys.path that has one says:
    importlib.metadata would say the same after importing about 40 modules at every start."""
    global _DISTRIBUTIONS
    if _DISTRIBUTIONS is None:
        found: dict[str, str] = {}
        for directory in reversed(sys.path):  # earlier entries win, as for imports
            try:
                names = os.listdir(directory or ".")
            except OSError:
                continue
            for name in names:
                if name.endswith(".dist-info"):
                    project, _, version = name[: -len(".dist-info")].partition("-")
                    found[_normalised(project)] = version
        _DISTRIBUTIONS = found
    return _DISTRIBUTIONS.get(_normalised(distribution), "(not installed)")


_DISTRIBUTIONS: dict[str, str] | None = None


def _normalised(name: str) -> str:
    """PEP 503: case, and runs of -, _ and . are not significant (re.sub would say it in one line,
    but importing re costs milliseconds at every start)."""
    out, last = [], ""
    for char in name.lower():
        if char in "-_.":
            if last != "-":
                out.append("-")
            last = "-"
        else:
            out.append(char)
            last = char
    return "".join(out)


def check_arguments(config, extra: tuple[str, ...] | list[str]) -> None:
    """Extra flags (SERVER_ARGS, then those after the image name) the server's parser refuses stop the
    start with one line. Without the server installed there is nothing to ask (its command then fails)."""
    args = [*config.server_args, *extra]
    if not args:
        return
    from django_asgi.arguments import Refused

    server = load(config.server)
    try:
        server.check_arguments(args)
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in server.DISTRIBUTIONS:
            raise
    except Refused as error:
        import shlex

        raise StartRefused(f"{config.server} refuses the server flags {shlex.join(args)!r}: {error}") from None
