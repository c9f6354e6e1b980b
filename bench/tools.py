"""What every part of the benchmark uses: commands, Docker, waiting for a 200, the log."""

import subprocess
import sys
import time
import urllib.request


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=True, **kwargs)


def docker(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return run("docker", *args, **kwargs)


def wait_200(url: str, timeout: float, interval: float = 0.01) -> float:
    """Seconds until url answers 200 (polling), or raise."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.monotonic() - began
        except OSError:
            pass
        time.sleep(interval)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)
