"""The CPUs a container may use (django_asgi.cpus), on cgroup trees written under tmp_path.

Every case passes count and affinity explicitly (8 unless the case is about
them), so only the fixture files decide, never this machine.
"""

import pytest

from django_asgi.cpus import available_cpus


def cgroup_tree(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


V2 = {"cgroup.controllers": "cpuset cpu io memory pids\n"}  # what marks a cgroup v2 mount
V2_SELF = "0::/kubepods/pod1/ctr\n"
V1_SELF = "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n3:cpuset:/docker/abc\n"

CASES = [
    # cgroup v2: cpu.max is "<quota> <period>" in microseconds, quota "max" for none.
    ("v2 unlimited", V2_SELF, {**V2, "kubepods/pod1/ctr/cpu.max": "max 100000\n"}, 8),
    ("v2 fractional rounds up", V2_SELF, {**V2, "kubepods/pod1/ctr/cpu.max": "150000 100000\n"}, 2),
    ("v2 half a cpu is one", V2_SELF, {**V2, "kubepods/pod1/ctr/cpu.max": "50000 100000\n"}, 1),
    ("v2 whole", V2_SELF, {**V2, "kubepods/pod1/ctr/cpu.max": "400000 100000\n"}, 4),
    ("v2 other period", V2_SELF, {**V2, "kubepods/pod1/ctr/cpu.max": "300000 50000\n"}, 6),
    # The pod's limit sits on an ancestor of the container's own cgroup.
    (
        "v2 ancestor",
        V2_SELF,
        {**V2, "kubepods/pod1/ctr/cpu.max": "max 100000\n", "kubepods/pod1/cpu.max": "200000 100000\n"},
        2,
    ),
    (
        "v2 smallest of the chain",
        V2_SELF,
        {
            **V2,
            "kubepods/pod1/ctr/cpu.max": "300000 100000\n",
            "kubepods/pod1/cpu.max": "500000 100000\n",
            "kubepods/cpu.max": "200000 100000\n",
        },
        2,
    ),
    # Inside a cgroup namespace the container's cgroup is the mount's root and the path is "/".
    ("v2 namespace root", "0::/\n", {**V2, "cpu.max": "300000 100000\n"}, 3),
    # The path names a cgroup that is not mounted here: the mount's root is the container's.
    ("v2 path not mounted", V2_SELF, {**V2, "cpu.max": "100000 100000\n"}, 1),
    ("v2 no cpu.max", V2_SELF, {**V2}, 8),
    ("v2 garbage", V2_SELF, {**V2, "kubepods/pod1/ctr/cpu.max": "lots\n"}, 8),
    ("v2 zero quota", V2_SELF, {**V2, "kubepods/pod1/ctr/cpu.max": "0 100000\n"}, 8),
    # cgroup v1: cpu.cfs_quota_us -1 means no limit.
    (
        "v1 unlimited",
        V1_SELF,
        {"cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "-1\n", "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n"},
        8,
    ),
    (
        "v1 two",
        V1_SELF,
        {"cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "200000\n", "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n"},
        2,
    ),
    (
        "v1 fractional",
        V1_SELF,
        {"cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "250000\n", "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n"},
        3,
    ),
    ("v1 period missing", V1_SELF, {"cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "300000\n"}, 3),
    # Docker without a cgroup namespace: the container's own cgroup is mounted at the controller root.
    (
        "v1 controller root",
        V1_SELF,
        {"cpu,cpuacct/cpu.cfs_quota_us": "200000\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"},
        2,
    ),
    # Controllers mounted separately (cpu and cpuacct directories), as on this kind of host.
    (
        "v1 cpu directory",
        "2:cpuacct:/\n1:cpu:/job\n",
        {"cpu/job/cpu.cfs_quota_us": "100000\n", "cpu/job/cpu.cfs_period_us": "100000\n"},
        1,
    ),
    ("v1 no files", V1_SELF, {}, 8),
]


@pytest.mark.parametrize("self_cgroup, files, expected", [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_quota(tmp_path, self_cgroup, files, expected):
    root = tmp_path / "sys-fs-cgroup"
    root.mkdir()
    cgroup_tree(root, files)
    (tmp_path / "self-cgroup").write_text(self_cgroup)
    assert available_cpus(str(root), str(tmp_path / "self-cgroup"), affinity=8, count=8) == expected


@pytest.fixture
def quota_of_four(tmp_path):
    root = tmp_path / "cg"
    cgroup_tree(root, {**V2, "cpu.max": "400000 100000\n"})
    (tmp_path / "self").write_text("0::/\n")
    return str(root), str(tmp_path / "self")


@pytest.mark.parametrize(
    "affinity, count, expected",
    [
        (1, 8, 1),  # cpuset / affinity narrower than the quota
        (2, 8, 2),
        (8, 2, 2),  # fewer CPUs than everything else
        (8, 8, 4),  # the quota is the smallest
        (None, 1, 1),  # affinity read from this process, count still caps it
        (0, 8, 4),  # no affinity information: ignored
        (8, 0, 1),  # never less than one
    ],
)
def test_smallest_wins(quota_of_four, affinity, count, expected):
    root, self_cgroup = quota_of_four
    assert available_cpus(root, self_cgroup, affinity=affinity, count=count) == expected


def test_nothing_readable(tmp_path):
    # No cgroup mount and no /proc: count and affinity alone.
    assert available_cpus(str(tmp_path / "none"), str(tmp_path / "none-either"), affinity=3, count=5) == 3


def test_this_machine():
    # Whatever it finds here is a sane worker count.
    assert 1 <= available_cpus() <= 4096
