"""How many CPUs this container may really use.

os.cpu_count() sees every host core; under a 1-CPU Kubernetes limit on a
64-core node that means 64 workers fighting over one CPU. The CFS quota
(cgroup v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us) and the CPU
affinity set both narrow it; the smallest wins.
"""

import os


def available_cpus(
    cgroup_root: str = "/sys/fs/cgroup",
    proc_cgroup: str = "/proc/self/cgroup",
    affinity: int | None = None,
    count: int | None = None,
) -> int:
    limits = [count if count is not None else os.cpu_count() or 1]
    if affinity is None and hasattr(os, "sched_getaffinity"):
        affinity = len(os.sched_getaffinity(0))
    if affinity:
        limits.append(affinity)
    quota = cfs_quota(os.fspath(cgroup_root), _read(os.fspath(proc_cgroup)) or "")
    if quota is not None:
        limits.append(quota)
    return max(1, min(limits))


def cfs_quota(root: str, self_cgroup: str) -> int | None:
    """The CPU quota in whole CPUs (rounded up), or None when there is none."""
    root = os.path.normpath(os.fspath(root))
    if os.path.exists(os.path.join(root, "cgroup.controllers")):
        return _v2_quota(root, _v2_path(self_cgroup))
    return _v1_quota(root, self_cgroup)


def _v2_path(self_cgroup: str) -> str:
    for line in self_cgroup.splitlines():
        if line.startswith("0::"):
            return line[3:]
    return "/"


def _v2_quota(root: str, path: str) -> int | None:
    # A limit may sit on any ancestor; inside a cgroup namespace the path is "/".
    quotas = []
    directory = os.path.normpath(os.path.join(root, path.strip("/")))
    if not os.path.isdir(directory) or not directory.startswith(root):
        directory = root
    while True:
        fields = (_read(os.path.join(directory, "cpu.max")) or "").split()
        if len(fields) == 2 and fields[0] != "max":
            quotas.append(_whole(fields[0], fields[1]))
        if directory == root:
            break
        directory = os.path.dirname(directory)
    quotas = [quota for quota in quotas if quota is not None]
    return min(quotas) if quotas else None


def _v1_quota(root: str, self_cgroup: str) -> int | None:
    path = "/"
    for line in self_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3 and "cpu" in parts[1].split(","):
            path = parts[2]
    # Docker without a cgroup namespace mounts the container's own cgroup at
    # the controller root while /proc/self/cgroup still names the host path.
    for controller in ("cpu,cpuacct", "cpu", "cpuacct,cpu"):
        for directory in (os.path.join(root, controller, path.strip("/")), os.path.join(root, controller)):
            quota = _read(os.path.join(directory, "cpu.cfs_quota_us"))
            if quota is not None:
                return _whole(quota, _read(os.path.join(directory, "cpu.cfs_period_us")) or "100000")
    return None


def _whole(quota: str, period: str) -> int | None:
    try:
        quota_us, period_us = int(quota), int(period)
    except ValueError:
        return None
    if quota_us <= 0 or period_us <= 0:  # -1 is "no limit" in cgroup v1
        return None
    return max(1, -(-quota_us // period_us))  # rounded up


def _read(path: str) -> str | None:
    try:
        with open(path) as file:
            return file.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
