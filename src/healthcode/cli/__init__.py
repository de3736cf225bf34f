"""The ``healthcode`` command: thin commands over the services, one module per noun."""

from healthcode.cli.main import app

__all__ = ["app"]
