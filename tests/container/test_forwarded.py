"""Forwarded headers mean the same on every flavor: which address and scheme Django sees, case by case."""

import ipaddress
import json

import pytest

from tests.support.containers import FLAVORS

# (environment, request headers, expected REMOTE_ADDR or "peer", expected request.is_secure())
CASES = {
    "no proxy trusted": ({}, {"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"}, "peer", False),
    "* takes the proxy's own entry": (
        {"FORWARDED_ALLOW_IPS": "*"},
        {"X-Forwarded-For": "6.6.6.6, 203.0.113.7", "X-Forwarded-Proto": "https"},
        "203.0.113.7",
        True,
    ),
    "port dropped": ({"FORWARDED_ALLOW_IPS": "*"}, {"X-Forwarded-For": "203.0.113.7:5678"}, "203.0.113.7", False),
    "not an address": ({"FORWARDED_ALLOW_IPS": "*"}, {"X-Forwarded-For": "<script>"}, "peer", False),
    "unknown": ({"FORWARDED_ALLOW_IPS": "*"}, {"X-Forwarded-For": "unknown"}, "peer", False),
    "proto of the same hop": (
        {"FORWARDED_ALLOW_IPS": "*"},
        {"X-Forwarded-For": "1.1.1.1, 203.0.113.7", "X-Forwarded-Proto": "https, http"},
        "203.0.113.7",
        False,
    ),
    "trusted networks walked": (
        {"FORWARDED_ALLOW_IPS": "0.0.0.0/0, ::/0"},  # every hop trusted: the left-most
        {"X-Forwarded-For": "198.51.100.9, 10.0.0.5"},
        "198.51.100.9",
        False,
    ),
    "Fly.io with no configuration": (
        {"FLY_APP_NAME": "hello"},
        {"Fly-Client-IP": "198.51.100.4", "X-Forwarded-For": "6.6.6.6, 198.51.100.4", "X-Forwarded-Proto": "https"},
        "198.51.100.4",
        True,
    ),
    "Fly.io, forged X-Forwarded-For": (
        {"FLY_APP_NAME": "hello"},
        {"Fly-Client-IP": "198.51.100.4", "X-Forwarded-For": "6.6.6.6"},
        "198.51.100.4",
        False,
    ),
}


def whoami(container, headers: dict) -> dict:
    status, body = container.get("/whoami/", headers=headers)
    assert status == 200, body
    seen = json.loads(body)
    del seen["host"]  # the host as Django makes it: test_hostile's absolute-form case
    return seen


ENVIRONMENTS = sorted({json.dumps(env, sort_keys=True) for env, _, _, _ in CASES.values()})


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_forwarded_headers_mean_the_same_everywhere(probe_image, environment, run_container):
    container = run_container(probe_image, env={**json.loads(environment), "WORKERS": "1"}).wait_ready()
    peer = whoami(container, {})["remote_addr"]  # the proxy in front (Docker's), as the app sees it
    ipaddress.ip_address(peer)
    wrong = []
    for case, (env, headers, remote_addr, secure) in CASES.items():
        if json.dumps(env, sort_keys=True) != environment:
            continue
        expected = {"remote_addr": peer if remote_addr == "peer" else remote_addr, "secure": secure}
        seen = whoami(container, headers)
        if seen != expected:
            wrong.append(f"{case}: {headers} gave {seen}, expected {expected}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("flavor", FLAVORS)
def test_ipv4_proxy_list_matches_on_an_ipv6_socket(probe_image, run_container):
    # HOST=:: (Fly.io's private network): IPv4 peers arrive as ::ffff:a.b.c.d, and still match.
    container = run_container(
        probe_image,
        env={"HOST": "::", "WORKERS": "1", "FORWARDED_ALLOW_IPS": "0.0.0.0/0"},
        docker_args=("--sysctl", "net.ipv6.conf.all.disable_ipv6=0"),
    ).wait_ready()
    seen = whoami(container, {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
    assert seen == {"remote_addr": "203.0.113.7", "secure": True}
