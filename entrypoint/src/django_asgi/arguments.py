"""Extra server flags (SERVER_ARGS, or flags after the image name) checked by the server's own parser
before anything starts.

Unchecked, a flag the server does not know printed the server's usage (once per worker under
django_asgi.supervise) and exited with the server's own status (1 or 2). Here it is one line and
exit 2, like any bad configuration. Each server module says how its command line is parsed
(check_arguments); these helpers run argparse- and click-based parsers without running the server:
no library does that, as both exit the process on an error and go on to run the command otherwise.
"""

import contextlib
import io


class Refused(BaseException):
    """The server's parser refused the flags; the message is its own, on one line.
    BaseException: servers' entry points catch Exception around their parsing and exit (gunicorn)."""


class _Parsed(BaseException):
    """The parser accepted the flags: stop before the server starts."""


def one_line(message: str) -> str:
    return " ".join(message.split())


def argparse_check(run, stop: bool = True) -> None:
    """Call run(), which parses a command line with argparse; with stop, it is stopped once
    parse_args() returns. A parse error raises Refused with argparse's message."""
    import argparse

    original_parse, original_error = argparse.ArgumentParser.parse_args, argparse.ArgumentParser.error

    def parse_args(self, *args, **kwargs):
        namespace = original_parse(self, *args, **kwargs)
        if stop:
            raise _Parsed
        return namespace

    def error(self, message):
        raise Refused(one_line(message))

    argparse.ArgumentParser.parse_args, argparse.ArgumentParser.error = parse_args, error
    try:
        with _quiet():
            run()
    except (_Parsed, SystemExit):  # SystemExit: --help or --version, which the server may print itself
        pass
    finally:
        argparse.ArgumentParser.parse_args, argparse.ArgumentParser.error = original_parse, original_error


def click_check(command, args: list[str]) -> None:
    """Parse args with a click command (converting the values) without invoking it."""
    import click

    try:
        with _quiet():
            command.make_context(command.name or "server", args)
    except click.exceptions.Exit:  # --help or --version
        pass
    except click.ClickException as error:
        raise Refused(one_line(error.format_message())) from None


@contextlib.contextmanager
def _quiet():
    """What a parser prints while checking (usage, help) is not shown: the server prints it when it runs."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield
