"""The parsers without re (django_asgi.parsers says why) accept exactly what their regular
expressions say, for any text."""

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from django_asgi import parsers
from django_asgi.errors import ConfigError

DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
# Near-valid characters first, then anything.
TEXT = st.one_of(
    st.text(alphabet="0123456789kKmMgGiIbB:._-aZ \t\u00a0٣²é", max_size=16),
    st.text(max_size=16),
)


def outcome(parse, raw):
    try:
        return parse("X", raw)
    except ConfigError:
        return "refused"


@settings(max_examples=300)
@given(TEXT)
@example("007")
@example("٣")
def test_integer(raw):
    text = raw.strip()
    valid = re.fullmatch(r"[0-9]+", text) and len(text.lstrip("0")) <= 5 and 1 <= int(text) <= 65535
    assert outcome(lambda n, r: parsers.integer(n, r, 1, 65535), raw) == (int(text) if valid else "refused")


@settings(max_examples=300)
@given(TEXT)
@example("a.b:c.d")
@example("a:")
@example("a:b:c")
@example("é.asgi")
def test_app_path(raw):
    match = re.fullmatch(rf"({DOTTED})(?::({DOTTED}))?", raw.strip())
    expected = f"{match[1]}:{match[2] or 'application'}" if match else "refused"
    assert outcome(parsers.app_path, raw) == expected
    assert parsers.is_dotted(raw) == bool(re.fullmatch(DOTTED, raw))


@settings(max_examples=300)
@given(TEXT)
@example("10001:10001")
@example("0:0")
@example("1:4294967295")
def test_user(raw):
    match = re.fullmatch(r"([0-9]{1,10}):([0-9]{1,10})", raw.strip())
    valid = match and int(match[1]) != 0 and max(int(match[1]), int(match[2])) <= 2**32 - 2
    assert outcome(parsers.user, raw) == ((int(match[1]), int(match[2])) if valid else "refused")


@settings(max_examples=500)
@given(TEXT)
@example("100M")
@example("1 KiB")
@example("2gib")
@example("3IB")
@example("5\u00a0k")
@example("0")
@example("1" * 13)
def test_size(raw):
    match = re.fullmatch(r"([0-9]{1,12})\s*([kKmMgG]?)(?:i?[bB])?", raw.strip())
    units = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
    valid = match and int(match[1]) != 0
    assert outcome(parsers.size, raw) == (int(match[1]) * units[match[2].lower()] if valid else "refused")


@settings(max_examples=300)
@given(TEXT)
@example("Fly-Client-IP")
@example("X Real")
def test_header_name(raw):
    valid = re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", raw.strip())
    assert outcome(parsers.header_name, raw) == (raw.strip() if valid else "refused")


ADDRESS = st.one_of(
    st.ip_addresses().map(str),
    st.ip_addresses(v=6).map(lambda a: a.exploded.upper()),
    # zero-led fields: read as octal by some parsers, refused by ipaddress
    st.ip_addresses(v=4).map(lambda a: ".".join(f"{int(o):03d}" for o in str(a).split("."))),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
    st.tuples(st.ip_addresses(v=6).map(str), st.text(max_size=6)).map("%".join),
    st.tuples(st.ip_addresses(v=4).map(str), st.text(max_size=3)).map("%".join),
    st.text(alphabet="0123456789abcdefABCDEF:.%[] \t٣", max_size=24),
    st.text(max_size=12),
)


@settings(max_examples=1000)
@given(ADDRESS)
@example("010.0.0.1")
@example("::ffff:1.2.3.4")
@example("fe80::1%")
@example("fe80::1%a%b")
@example("1.2.3.4\x00")
def test_host_takes_what_ipaddress_takes(raw):
    import ipaddress

    text = raw.strip()
    text = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        expected = ipaddress.ip_address(text)
    except ValueError:
        expected = "refused"
    got = outcome(parsers.host, raw)
    assert got == "refused" if expected == "refused" else ipaddress.ip_address(got) == expected


@pytest.mark.parametrize("module", ["re", "ipaddress", "shlex"])
def test_the_defaults_need_no_costly_import(module):
    # With the variables most deployments set (HOST='::' for Fly.io's private network), a start
    # imports none of them (each costs milliseconds).
    import subprocess
    import sys

    script = (
        "import sys; from django_asgi import contract; "
        "contract.load({'DJANGO_ASGI_SERVER': 'granian', 'WORKERS': '2', 'DJANGO_ASGI_APP': 'a.asgi', 'PORT': '80', "
        "'HOST': '::'}); "
        f"print({module!r} in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", script], capture_output=True, text=True).stdout == "False\n"
