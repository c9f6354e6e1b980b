"""Patches of the servers' internals fail loudly when what they replace has moved or changed
(django_asgi.runtime.patching)."""

import pytest

from django_asgi.runtime import patching
from django_asgi.runtime.patching import PatchOutdated


class Server:
    def handle(self, event):
        return f"handled {event}"

    def start(self):
        self.listeners = []


def test_replace_wraps_the_original():
    class Patched(Server):
        pass

    def make(original):
        return lambda self, e: original(self, e) + "!"

    patching.replace(Patched, "handle", ("self", "event"), make, "pytest", "a test")
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


def _copy(original):
    def handle(self, event):  # rewritten whole: original is never called
        return f"handled {event} better"

    return handle


def test_a_replacement_that_drops_the_original_must_name_what_it_copies():
    class Patched(Server):
        pass

    with pytest.raises(PatchOutdated, match=r"the patch of .*Patched\.handle never calls it: give the fingerprint"):
        patching.replace(Patched, "handle", ("self", "event"), _copy, "pytest", "a copy")
    patching.replace(Patched, "handle", ("self", "event"), _copy, "pytest", "a copy",
                     copied=patching.fingerprint(Server.handle))  # fmt: skip
    assert Patched().handle("x") == "handled x better"


def test_a_copy_of_changed_upstream_code_is_one_line_naming_the_function(tmp_path, monkeypatch):
    # The upstream function as written when the copy was made, then as a later release has it.
    def upstream(body: str):
        # A file per release, as installed packages are (the sources are read once per process).
        path = tmp_path / f"upstream{len(list(tmp_path.iterdir()))}.py"
        path.write_text(f"class Server:\n    def handle(self, event):\n{body}\n")
        namespace: dict = {}
        exec(compile(path.read_text(), str(path), "exec"), namespace)
        return namespace["Server"]

    before = patching.fingerprint(upstream("        # a comment\n        return event").handle)
    # Comment lines, blank lines and indentation do not count; code does.
    assert patching.fingerprint(upstream("\n        # another comment\n            return event").handle) == before
    changed = upstream("        event = event.strip()\n        return event")
    assert patching.fingerprint(changed.handle) != before
    with pytest.raises(PatchOutdated) as caught:
        patching.replace(changed, "handle", ("self", "event"), _copy, "pytest", "a copy", copied=before)
    (line,) = str(caught.value).splitlines()
    assert line.startswith("django-asgi: cannot patch pytest ")
    assert (
        f"Server.handle changed upstream (fingerprint {patching.fingerprint(changed.handle)}; the copy is of {before})"
        in line
    )


def test_an_attribute_set_upstream_is_checked_where_it_is_set():
    patching.assigned(Server, "start", "listeners", "pytest", "a test")
    with pytest.raises(PatchOutdated, match=r"Server\.start no longer sets servers \(patch for: a test\)"):
        patching.assigned(Server, "start", "servers", "pytest", "a test")


def _patch_calls():
    """Each replace() and overridden() call in the servers' folders, with the comment lines directly above
    it (above its for loop, where a loop makes several)."""
    import ast
    from pathlib import Path

    servers = Path(patching.__file__).parents[1] / "servers"
    for path in sorted(servers.glob("*/*.py")):
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        loops = {id(call): loop for loop in ast.walk(tree) if isinstance(loop, ast.For) for call in ast.walk(loop)}
        for call in ast.walk(tree):
            name = getattr(call, "func", None)
            if isinstance(call, ast.Call) and isinstance(name, ast.Name) and name.id in ("replace", "overridden"):
                line = loops[id(call)].lineno if id(call) in loops else call.lineno
                comment = []
                while line > 1 and lines[line - 2].strip().startswith("#"):
                    line -= 1
                    comment.insert(0, lines[line - 1].strip())
                yield f"{path.parent.name}/{path.name}:{call.lineno}", " ".join(comment)


def test_every_patch_says_whether_it_can_go_upstream_and_what_to_send():
    """The comment above each patch carries the report to send upstream (or its number), or says that the
    behaviour is this image's own choice."""
    calls = dict(_patch_calls())
    assert len(calls) >= 25  # every server's patches were found
    missing = [where for where, comment in calls.items() if "Upstream" not in comment and "Not upstream" not in comment]
    assert missing == []
    reports = [comment for comment in calls.values() if "to send" in comment or "to add" in comment]
    assert all('"' in comment for comment in reports)  # the text itself, quoted
