"""What every part of the benchmark uses: commands, Docker, the log."""

import os
import subprocess
import sys
import time


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} exited with {done.returncode}:\n{done.stdout}{done.stderr}")
    return done


def docker(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return run("docker", *args, **kwargs)


def build_secret() -> list[str]:
    """`docker build`'s arguments for this machine's CA bundle (BUILD_CA, set by images/provision.sh
    where pip needs it), as the secret "build-ca" the Dockerfiles mount; none elsewhere."""
    return ["--secret", f"id=build-ca,src={os.environ['BUILD_CA']}"] if os.environ.get("BUILD_CA") else []


def log(message: str) -> None:
    """A line on stderr with the time of day: a run takes most of an hour, and the times say which part took it."""
    print(f"bench: {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)
