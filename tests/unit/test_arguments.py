"""Extra server flags checked by a server's own parser (django_asgi.arguments), with stand-in servers:
an argparse one and a click one. The real servers' parsers are checked in the images
(tests/container/test_images.py)."""

import argparse
import io
import sys

import click
import pytest

from django_asgi.arguments import Refused, argparse_check, click_check

ran = []


def argparse_server(argv):
    """A server's entry point: it parses, then serves (which a check must never reach)."""
    parser = argparse.ArgumentParser(prog="server")
    parser.add_argument("--backlog", type=int)
    parser.add_argument("application")
    try:
        parser.parse_args(argv)
    except Exception:  # as gunicorn does around its configuration
        sys.exit(1)
    ran.append(argv)


@click.command()
@click.option("--backlog", type=int)
@click.argument("application")
def click_server(backlog, application):
    ran.append(application)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--nope", "app"], "unrecognized arguments: --nope"),
        (["--backlog", "many", "app"], "argument --backlog: invalid int value: 'many'"),
        (["--backlog", "5", "app", "stray"], "unrecognized arguments: stray"),
    ],
)
def test_argparse_refusals_are_one_line(argv, message, capsys):
    with pytest.raises(Refused) as refused:
        argparse_check(lambda: argparse_server(argv))
    assert str(refused.value) == message
    assert capsys.readouterr() == ("", "")  # no usage printed
    assert argparse.ArgumentParser.error.__module__ == "argparse"  # put back


def test_argparse_accepted_flags_do_not_start_the_server(capsys):
    ran.clear()
    argparse_check(lambda: argparse_server(["--backlog", "5", "app"]))
    argparse_check(lambda: argparse_server(["--help"]))
    assert ran == [] and capsys.readouterr() == ("", "")
    assert argparse.ArgumentParser.parse_args.__module__ == "argparse"


def test_argparse_without_stopping_returns_the_values():
    seen = []

    def parse():
        seen.append(argparse.ArgumentParser().parse_args([]))

    argparse_check(parse, stop=False)
    assert seen == [argparse.Namespace()]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--nope", "app"], ("No such option", "--nope")),
        (["--backlog", "many", "app"], ("Invalid value for '--backlog'", "'many' is not a valid integer")),
        (["--backlog", "5", "app", "stray"], ("Got unexpected extra argument", "stray")),
    ],
)
def test_click_refusals_are_one_line(argv, message):
    # click's wording changes between its versions: its parts are checked.
    with pytest.raises(Refused) as refused:
        click_check(click_server, argv)
    assert all(part in str(refused.value) for part in message) and "\n" not in str(refused.value)


def test_click_accepted_flags_do_not_start_the_server(monkeypatch):
    ran.clear()
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    click_check(click_server, ["--backlog", "5", "app"])
    click_check(click_server, ["--help"])
    assert ran == [] and sys.stdout.getvalue() == ""
