"""Patches of the servers' internals fail loudly when what they replace has moved (django_asgi.patching)."""

import pytest

from django_asgi import patching
from django_asgi.patching import PatchOutdated


class Server:
    def handle(self, event):
        return f"handled {event}"


def test_replace_wraps_the_original():
    class Patched(Server):
        pass

    patching.replace(Patched, "handle", ("self", "event"), lambda original: lambda self, e: original(self, e) + "!",
                     "pytest", "a test")  # fmt: skip
    assert Patched().handle("x") == "handled x!"


@pytest.mark.parametrize(
    "name, parameters, problem",
    [
        ("gone", ("self",), "tests.unit.test_patching.Server.gone is gone"),
        ("handle", ("self", "event", "extra"), "Server.handle takes ('self', 'event'), the patch expects"),
    ],
)
def test_moved_target_is_one_line_naming_server_version_and_patch(name, parameters, problem):
    with pytest.raises(PatchOutdated) as caught:
        patching.replace(Server, name, parameters, lambda original: original, "pytest", "the upstream issue")
    (line,) = str(caught.value).splitlines()
    assert line.startswith("django-asgi: cannot patch pytest ")  # and its version
    assert problem.split(".")[-1] in line and line.endswith("(patch for: the upstream issue)")


def test_unknown_server_is_a_usage_error(capsys):
    assert patching.main(["nginx"]) == 2
    assert patching.main([]) == 2
