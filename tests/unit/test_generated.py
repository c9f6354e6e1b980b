"""Generated files stay in step with their sources."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bake_versions_block_matches_the_locks():
    result = subprocess.run([sys.executable, "images/versions.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_flavor_has_a_server_module_and_a_lock():
    import runpy

    from django_asgi import servers

    flavors = runpy.run_path(str(ROOT / "images" / "versions.py"))["flavors"]()
    assert flavors == sorted(servers.names())
    for flavor in flavors:
        assert (ROOT / "images" / "requirements" / f"{flavor}.lock").is_file()
