"""What the benchmark runs against each flavor's image: the same image again (the control: the
noise floor), the server's plain command in the same image, and what a user would deploy instead,
built on the same base with the same versions of Django and the server."""

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bench.tools import build_secret, docker
from tests.support.server_facts import server_data

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "bench" / "app"
APP_MODULE = "benchapp.asgi:application"
APP_USER = "10001:10001"  # the image's DJANGO_ASGI_USER: the plain command runs as the same user


@dataclass(frozen=True)
class Contender:
    key: str  # image, control, plain, fly, tiangolo
    label: str  # what the reports call it
    image: str
    # The command, without the image's entrypoint, or None for the image's own; {host}, {port},
    # {workers} and {app} are filled in.
    command: tuple[str, ...] | None = None
    env: dict = field(default_factory=dict)  # {host}, {port} and {workers} are filled in
    user: str = ""
    # daphne has no workers of its own: WORKERS plain daphnes, one per port, for the cold start.
    copies: bool = False
    app: str = APP_MODULE  # the plain command's application

    def run_args(self, ports: list[int], workers: int) -> list[str]:
        """`docker run`'s arguments after its options: on the host's network, bound to 127.0.0.1."""
        args = [arg for key, value in self.environment(ports, workers).items() for arg in ("-e", f"{key}={value}")]
        if self.user:
            args += ["--user", self.user]
        if self.command is None:
            return [*args, "-e", "HOST=127.0.0.1", "-e", f"PORT={ports[0]}", "-e", f"WORKERS={workers}", self.image]
        argv = self.argv(ports, workers)
        return [*args, "--entrypoint", argv[0], self.image, *argv[1:]]

    def environment(self, ports: list[int], workers: int) -> dict[str, str]:
        """Its own variables, filled in."""
        return {key: value.format(host="127.0.0.1", port=ports[0], workers=workers) for key, value in self.env.items()}

    def argv(self, ports: list[int], workers: int) -> list[str]:
        """Its command, one per port: several are started together by a shell, as a user would
        write it, the last one being the shell's exec."""
        lines = [self.filled(port, workers) for port in ports]
        if len(lines) == 1:
            return lines[0]
        script = " & ".join(" ".join(line) for line in lines[:-1]) + " & exec " + " ".join(lines[-1])
        return ["/bin/sh", "-c", script]

    def filled(self, port: int, workers: int) -> list[str]:
        fields = {"host": "127.0.0.1", "port": port, "workers": workers, "app": self.app}
        return [part.format(**fields) for part in self.command]

    def ports_for(self, workers: int) -> int:
        """How many ports it listens on with this many workers (one, but for plain daphnes)."""
        return workers if self.copies else 1


def plain(image: str, flavor: str) -> Contender:
    """The server's own command (plain_command in its folder's testing.toml) in the image, as the app user."""
    command = tuple(server_data(flavor, package=None)["plain_command"])
    copies = "{workers}" not in command
    return Contender("plain", "plain command", image, command=command, user=APP_USER, copies=copies)


def for_flavor(flavor: str, app_image: str, alternatives: dict[tuple[str, str], str]) -> list[Contender]:
    """The image, its control, the plain command and the alternatives that serve with this server."""
    found = [
        Contender("image", "this image", app_image),
        Contender("control", "this image again", app_image),
        plain(app_image, flavor),
    ]
    for alternative in ALTERNATIVES:
        if alternative.flavor == flavor:
            found.append(alternative.contender(alternatives[alternative.key, flavor]))
    return found


# --- the alternatives ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alternative:
    key: str
    label: str
    flavor: str  # the flavor it is an alternative to, and whose lock gives its versions
    packages: tuple[str, ...]  # its requirements.txt, pinned to the flavor's lock
    dockerfile: str
    command: tuple[str, ...]
    env: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)  # more files in its build context
    source: str = ""  # where it is written down

    def contender(self, image: str) -> Contender:
        return Contender(self.key, self.label, image, command=self.command, env=self.env)


# pip trusts the secret "build-ca" where this machine needs it; the images never do (as in
# images/Dockerfile). The line it is on is otherwise the alternative's own.
CA = "--mount=type=secret,id=build-ca { [ ! -s /run/secrets/build-ca ] || export PIP_CERT=/run/secrets/build-ca; } &&"

# `fly launch` on a Django project (superfly/flyctl, scanner/templates/django/Dockerfile and
# scanner/django.go): requirements.txt installed into the base's Python as root, the project in
# /code, and for an asgi.py with uvicorn in the requirements, gunicorn with uvicorn's worker.
FLY_DOCKERFILE = """\
ARG BASE
FROM ${BASE}
ENV PYTHONDONTWRITEBYTECODE=1
ENV PYTHONUNBUFFERED=1
RUN mkdir -p /code
WORKDIR /code
COPY requirements.txt /tmp/requirements.txt
RUN CA_MOUNT set -ex && pip install --upgrade pip && pip install -r /tmp/requirements.txt && rm -rf /root/.cache/
COPY benchapp /code/benchapp
EXPOSE 8000
""".replace("CA_MOUNT", CA)

# tiangolo/uvicorn-gunicorn-docker (docker-images/python3.12-slim.dockerfile, start.sh and
# gunicorn_conf.py): uvicorn[standard] and gunicorn, the app in /app, and with no variable set,
# gunicorn with uvicorn's worker, max(cores, 2) workers, graceful timeout, timeout and keep-alive
# of 120 s, worker heartbeats in /dev/shm. The bench sets WEB_CONCURRENCY, HOST and PORT, which
# that configuration reads.
TIANGOLO_DOCKERFILE = """\
ARG BASE
FROM ${BASE}
COPY requirements.txt /tmp/requirements.txt
RUN CA_MOUNT pip install --no-cache-dir -r /tmp/requirements.txt
COPY start.sh /start.sh
RUN chmod +x /start.sh
COPY benchapp /app/benchapp
WORKDIR /app/
ENV PYTHONPATH=/app
EXPOSE 80
CMD ["/start.sh"]
""".replace("CA_MOUNT", CA)
# The settings of that start script and configuration, as gunicorn flags.
TIANGOLO_START = """\
#!/bin/sh
set -e
workers=${WEB_CONCURRENCY:-$(python -c 'import os; print(max(os.cpu_count(), 2))')}
exec gunicorn --worker-class "${WORKER_CLASS:-uvicorn.workers.UvicornWorker}" --workers "$workers" \\
    --bind "${HOST:-0.0.0.0}:${PORT:-80}" --log-level "${LOG_LEVEL:-info}" --error-logfile - \\
    --worker-tmp-dir /dev/shm --graceful-timeout "${GRACEFUL_TIMEOUT:-120}" --timeout "${TIMEOUT:-120}" \\
    --keep-alive "${KEEPALIVE:-120}" "${APP_MODULE:-main:app}"
"""

ALTERNATIVES = (
    Alternative(
        "fly",
        "`fly launch`'s Dockerfile",
        "uvicorn",
        ("asgiref", "django", "sqlparse", "gunicorn", "uvicorn", "h11", "click", "uvloop", "httptools", "websockets"),
        FLY_DOCKERFILE,
        (
            "gunicorn",
            "--bind",
            "{host}:{port}",
            "--workers",
            "{workers}",
            "--worker-class",
            "uvicorn.workers.UvicornWorker",
            "benchapp.asgi",
        ),
        source="superfly/flyctl scanner/django.go: "
        "`gunicorn --bind :8000 --workers 2 --worker-class uvicorn.workers.UvicornWorker <project>.asgi`",
    ),
    Alternative(
        "tiangolo",
        "tiangolo's uvicorn-gunicorn",
        "uvicorn",
        (
            "asgiref",
            "django",
            "sqlparse",
            "gunicorn",
            "uvicorn[standard]",
            "h11",
            "click",
            "uvloop",
            "httptools",
            "websockets",
        ),
        TIANGOLO_DOCKERFILE,
        ("/start.sh",),
        env={"WEB_CONCURRENCY": "{workers}", "HOST": "{host}", "PORT": "{port}", "APP_MODULE": APP_MODULE},
        files={"start.sh": TIANGOLO_START},
        source="tiangolo/uvicorn-gunicorn-docker: `/start.sh`, gunicorn with `gunicorn_conf.py`",
    ),
    Alternative(
        "fly",
        "`fly launch`'s Dockerfile",
        "daphne",
        ("daphne",),  # and everything daphne's lock pins
        FLY_DOCKERFILE,
        # fly launch writes `daphne -b 0.0.0.0 -p 8000 <project>.asgi`, which daphne refuses (it
        # splits its argument at ":"): the bench adds the ":application" the user must add.
        ("daphne", "-b", "{host}", "-p", "{port}", "benchapp.asgi:application"),
        source="superfly/flyctl scanner/django.go: `daphne -b 0.0.0.0 -p 8000 <project>.asgi`",
    ),
)
# What fly launch writes for daphne, run once to show what it does.
FLY_DAPHNE_AS_WRITTEN = ("daphne", "-b", "127.0.0.1", "-p", "{port}", "benchapp.asgi")


def pinned(lock: Path, packages: tuple[str, ...]) -> str:
    """requirements.txt for the packages, at the lock's versions; ("daphne",) takes the whole lock."""
    versions = {}
    for line in lock.read_text().splitlines():
        if line[:1].isalpha() and "==" in line:
            requirement = line.rstrip(" \\")
            versions.setdefault(requirement.split("==")[0].lower(), []).append(requirement)
    if packages == ("daphne",):
        names = [name for name in versions if name != "dumb-init"]
    else:
        names = list(packages)
    lines = []
    for name in names:
        bare = name.split("[")[0]
        for requirement in versions[bare]:
            lines.append(name + requirement[len(bare) :])
    return "\n".join(lines) + "\n"


def with_pip(base: str) -> str:
    """The base, or where its Python has no pip (a stand-in for python:slim built from Debian's
    packages), the base with a virtualenv first on PATH: pip and python where the official image
    has them, at about the size of its pip."""
    if subprocess.run(["docker", "run", "--rm", base, "python3", "-m", "pip", "--version"],
                      capture_output=True).returncode == 0:  # fmt: skip
        return base
    tag = "django-asgi-bench-base:pip"
    context = Path(tempfile.mkdtemp(prefix="django-asgi-bench-"))
    try:
        (context / "Dockerfile").write_text(
            f"FROM {base}\nRUN python3 -m venv /usr/local/python\nENV PATH=/usr/local/python/bin:$PATH\n"
        )
        docker("build", "-q", "-t", tag, str(context), timeout=300)
    finally:
        shutil.rmtree(context)
    return tag


def build(alternative: Alternative, base: str) -> str:
    """The alternative's image, built on the base (with pip), the bench app as its project."""
    tag = f"django-asgi-bench-{alternative.key}:{alternative.flavor}"
    context = Path(tempfile.mkdtemp(prefix="django-asgi-bench-"))
    try:
        lock = ROOT / "images" / "requirements" / f"{alternative.flavor}.lock"
        (context / "requirements.txt").write_text(pinned(lock, alternative.packages))
        (context / "Dockerfile").write_text(alternative.dockerfile)
        for name, text in alternative.files.items():
            (context / name).write_text(text)
        shutil.copytree(APP / "benchapp", context / "benchapp", ignore=shutil.ignore_patterns("__pycache__"))
        docker(
            "build",
            "-q",
            *build_secret(),
            "--build-arg",
            f"BASE={base}",
            "-t",
            tag,
            str(context),
            env={**os.environ, "DOCKER_BUILDKIT": "1"},
            timeout=900,
        )
    finally:
        shutil.rmtree(context)
    return tag
