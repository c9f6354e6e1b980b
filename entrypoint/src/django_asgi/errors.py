"""The errors that stop the entrypoint before anything is exec'd, each reported as one line."""


class ConfigError(Exception):
    """Bad configuration: reported as one line on stderr, exit status 2."""

    def __init__(self, variable: str, value: str | None, expected: str) -> None:
        self.variable = variable
        self.value = value
        self.expected = expected
        super().__init__(self.line())

    def line(self) -> str:
        shown = "" if self.value is None else f"={_clip(self.value)!r}"
        return f"django-asgi: {self.variable}{shown}: {self.expected}"


class StartRefused(Exception):
    """The container cannot start as it was run (no capability to switch users, a directory it cannot
    hand over): reported as one line on stderr, exit status 2, like bad configuration."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def line(self) -> str:
        return f"django-asgi: {self.reason}"


def _clip(value: str, limit: int = 80) -> str:
    # repr() (by the caller) escapes line breaks; this keeps the line short.
    return value if len(value) <= limit else value[: limit - 3] + "..."


class StepFailed(Exception):
    """A startup step (migrate, collectstatic, a hook) failed: startup stops with its status."""

    def __init__(self, step: str, status: int) -> None:
        super().__init__(f"django-asgi: startup step {step!r} failed with exit status {status}")
        self.status = status or 1
