"""The suites share their helpers as the package tests.support (tests/ and each suite are packages: pytest puts the
repository on sys.path); the --long switch."""


def pytest_addoption(parser):
    parser.addoption(
        "--long", action="store_true", help="run the reliability tests at full length and write docs/reliability.md"
    )
