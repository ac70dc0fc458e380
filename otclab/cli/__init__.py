"""The ``otclab`` command line. Each area registers a Typer sub-app in a module of this package."""
