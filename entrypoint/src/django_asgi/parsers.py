"""Parsers that turn one environment value into a typed one, or a ConfigError.

They run at every container start for each variable that is set, so they use str methods rather
than re (whose import costs several milliseconds there); tests/unit/test_parsers.py holds each to
the regular expression that defines it.
"""

from django_asgi.errors import ConfigError

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _digits(text: str, most: int | None = None) -> bool:
    """[0-9]+ (at most `most` of them)."""
    return text.isascii() and text.isdigit() and (most is None or len(text) <= most)


def boolean(name: str, raw: str) -> bool:
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ConfigError(name, raw, "expected one of 1/0, true/false, yes/no, on/off")


def integer(name: str, raw: str, low: int, high: int) -> int:
    text = raw.strip()
    # int() would also take "1_000", "+5" and non-ASCII digits: be strict.
    # The length check first: int() raises ValueError past 4300 digits.
    if not _digits(text) or len(text.lstrip("0")) > len(str(high)) or not low <= int(text) <= high:
        raise ConfigError(name, raw, f"expected a whole number from {low} to {high}")
    return int(text)


def choice(name: str, raw: str, choices: tuple[str, ...]) -> str:
    word = raw.strip().lower()
    if word not in choices:
        raise ConfigError(name, raw, f"expected one of {', '.join(choices)}")
    return word


def host(name: str, raw: str) -> str:
    """An IP address to bind to, as ipaddress.ip_address takes it; IPv6 may come with or without
    brackets, and with a %scope. Read by socket.inet_pton: the servers import socket anyway, while
    ipaddress costs over a millisecond of every start that sets HOST (tests/unit/test_parsers.py
    holds it to ipaddress)."""
    text = raw.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    address, percent, scope = text.partition("%")
    import socket

    families = (socket.AF_INET6,) if percent else (socket.AF_INET, socket.AF_INET6)  # a scope: IPv6 only
    if not percent or (scope and "%" not in scope and "/" not in scope):
        for family in families:
            try:
                return socket.inet_ntop(family, socket.inet_pton(family, address)) + percent + scope
            except (OSError, ValueError, UnicodeError):
                pass
    raise ConfigError(name, raw, "expected an IP address to bind to, such as 0.0.0.0 or ::")


def networks(name: str, raw: str) -> tuple[str, ...]:
    """'*' or a comma-separated list of addresses and networks (CIDR)."""
    items = tuple(item.strip() for item in raw.split(",") if item.strip())
    if items == ("*",):
        return items
    import ipaddress  # only for a list of networks

    try:
        return tuple(str(ipaddress.ip_network(item, strict=False)) for item in items)
    except ValueError:
        raise ConfigError(name, raw, "expected * or a comma-separated list of IP addresses or networks") from None


def is_dotted(text: str) -> bool:
    """[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*: ASCII identifiers joined by dots."""
    return all(part.isascii() and part.isidentifier() for part in text.split("."))


def app_path(name: str, raw: str) -> str:
    """'module.path:attribute'; a bare module path means attribute 'application'."""
    module, colon, attribute = raw.strip().partition(":")
    if not is_dotted(module) or (colon and not is_dotted(attribute)):
        raise ConfigError(name, raw, "expected module.path:attribute, such as mysite.asgi:application")
    return f"{module}:{attribute or 'application'}"


def arguments(name: str, raw: str) -> tuple[str, ...]:
    import shlex  # only when SERVER_ARGS is set

    try:
        return tuple(shlex.split(raw))
    except ValueError as error:
        raise ConfigError(name, raw, f"expected shell-quoted arguments ({error})") from None


def url_path(name: str, raw: str) -> str:
    text = raw.strip()
    if not text.startswith("/") or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ConfigError(name, raw, "expected a URL path starting with /, such as /healthz")
    return text


def user(name: str, raw: str) -> tuple[int, int]:
    """uid:gid, numeric (the image has no names to look up for arbitrary ids); never root."""
    uid, colon, gid = raw.strip().partition(":")
    if not (colon and _digits(uid, 10) and _digits(gid, 10)) or int(uid) == 0 or max(int(uid), int(gid)) > 2**32 - 2:
        raise ConfigError(name, raw, "expected uid:gid, two numbers such as 10001:10001, the uid not 0 (root)")
    return int(uid), int(gid)


def directories(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated absolute paths, normalised."""
    import posixpath

    items = tuple(item.strip() for item in raw.split(",") if item.strip())
    if not all(item.startswith("/") and posixpath.normpath(item) != "/" for item in items):
        raise ConfigError(name, raw, "expected comma-separated absolute paths of directories, such as /app/media")
    return tuple(posixpath.normpath(item) for item in items)


_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def size(name: str, raw: str) -> int:
    """Bytes: a whole number, optionally with K, M or G (KiB, MiB, GiB), such as 100M:
    ([0-9]{1,12})\\s*([kKmMgG]?)(?:i?[bB])?"""
    text = raw.strip()
    number = text[: len(text) - len(text.lstrip("0123456789"))]
    unit = text[len(number) :].lstrip()
    if unit[:1] and unit[0] in "kKmMgG":
        prefix, unit = unit[0].lower(), unit[1:]
    else:
        prefix = ""
    if not _digits(number, 12) or int(number) == 0 or unit not in ("", "b", "B", "ib", "iB"):
        raise ConfigError(name, raw, "expected a size in bytes, with K, M or G for KiB, MiB, GiB, such as 100M")
    return int(number) * _UNITS[prefix]


# RFC 9110 5.6.2: a token.
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def header_name(name: str, raw: str) -> str:
    text = raw.strip()
    if not text or not set(text) <= _TOKEN:
        raise ConfigError(name, raw, "expected an HTTP header name, such as Fly-Client-IP")
    return text


def text(name: str, raw: str) -> str:
    return raw.strip()


def settings_module(name: str, raw: str) -> str:
    """A dotted module path (DJANGO_SETTINGS_MODULE)."""
    text = raw.strip()
    if ":" in text or not is_dotted(text):
        raise ConfigError(name, text, "expected a dotted module path, such as mysite.settings")
    return text
