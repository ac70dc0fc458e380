"""Entry point of the ``otclab`` command.

Every module in ``otclab/cli`` that defines ``app`` (a ``typer.Typer``) and ``NAME`` becomes the
sub-command ``otclab NAME``; a module may instead define ``register(root)`` to add plain commands.
Modules import their heavy dependencies inside the commands, so ``otclab --help`` stays fast.
A user error (``OtcError``) prints one line on stderr and exits 2, never a traceback.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from ..core.errors import OtcError

root = typer.Typer(
    name="otclab",
    help="otclab: pricing, risk and operations for an OTC equity-derivatives desk.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@root.callback()
def _root() -> None:
    """otclab: pricing, risk and operations for an OTC equity-derivatives desk."""


@root.command()
def version() -> None:
    """Print the otclab version."""
    from .. import __version__

    print(__version__)


def _load_plugins() -> None:
    import otclab.cli as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name in {"main"} or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"otclab.cli.{info.name}")
        if hasattr(module, "register"):
            module.register(root)
        if hasattr(module, "app") and hasattr(module, "NAME"):
            root.add_typer(module.app, name=module.NAME)


_load_plugins()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (2 for user errors)."""
    try:
        # Without standalone mode click returns the code of typer.Exit instead of exiting.
        code = root(args=argv, standalone_mode=False)
    except OtcError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except SystemExit as exc:  # typer.Exit raised inside commands
        return int(exc.code or 0)
    except Exception as exc:
        # Click's usage errors and aborts (typer may vendor click, so match by shape, not class).
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            return int(exc.exit_code)
        if type(exc).__name__ == "Abort":
            print("aborted", file=sys.stderr)
            return 1
        raise
    return code if isinstance(code, int) else 0


def run() -> None:  # console_scripts entry point
    sys.exit(main())


if __name__ == "__main__":
    run()
