"""The repository's own checks, with the pinned tools of tests/requirements.lock."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else shutil.which(name) or name


def tracked(*patterns: str) -> list[str]:
    return (
        subprocess.run(["git", "ls-files", "-z", "--", *patterns], cwd=ROOT, capture_output=True, check=True, text=True)
        .stdout.strip("\0")
        .split("\0")
    )


def shell_scripts() -> list[str]:
    scripts = []
    for path in tracked("*"):
        file = ROOT / path
        if file.suffix == ".sh":
            scripts.append(path)
        elif file.is_file() and not file.suffix:
            with file.open("rb") as stream:
                first = stream.readline()
            if first.startswith(b"#!") and (b"bash" in first or first.rstrip().endswith(b"/sh")):
                scripts.append(path)
    return scripts


def check(*command: str) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command[:3])} ...:\n{result.stdout}{result.stderr}"


def test_ruff_lint():
    check(tool("ruff"), "check", ".")


def test_ruff_format():
    check(tool("ruff"), "format", "--check", ".")


def test_hadolint_every_dockerfile():
    dockerfiles = tracked("Dockerfile", "*/Dockerfile")
    assert "images/Dockerfile" in dockerfiles
    check(tool("hadolint"), *dockerfiles)


def test_shellcheck_every_script():
    scripts = shell_scripts()
    assert {"tests/run", "images/provision.sh", "bench/run"} <= set(scripts)
    check(tool("shellcheck"), "--external-sources", *scripts)


@pytest.mark.parametrize(
    "schema, pattern",
    [
        ("vendor.github-workflows", ".github/workflows/*.yml"),
        ("vendor.dependabot", ".github/dependabot.yml"),
    ],
)
def test_github_files_match_their_schemas(schema, pattern):
    files = tracked(pattern)
    assert files != [""], f"nothing matches {pattern}"
    check(tool("check-jsonschema"), "--builtin-schema", schema, *files)


def test_zizmor_finds_nothing_of_medium_severity_or_worse():
    check(tool("zizmor"), "--offline", "--min-severity", "medium", ".github/")


def test_kubernetes_example_matches_the_schemas():
    # Offline: kubernetes-validate carries the schemas of each Kubernetes release.
    manifests = tracked("examples/kubernetes/*.yaml")
    assert manifests != [""]
    check(tool("kubernetes-validate"), "--strict", *manifests)
