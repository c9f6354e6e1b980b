"""echo's runner: its one patch."""

from django_asgi.runtime.patching import replace


class Upstream:
    def serve(self, app):
        return app


def install_patches() -> None:
    def serve(original):
        def serve(self, app):
            return original(self, app)

        return serve

    replace(Upstream, "serve", ("self", "app"), serve, "echo", "a patch of the fifth server")
