"""The ``integrallimits`` console script and ``python -m integrallimits``.

The command line's module imports NumPy and the package's front end (~0.3 s): a Ctrl-C in
that time is one line and the exit status 130, as it is after (:func:`.cli.main`), not a
traceback of the import.
"""
import sys


def run():
    """:func:`.cli.run` once its module is imported; 130 if Ctrl-C stops the import."""
    try:
        from .cli import run as command
    except KeyboardInterrupt:
        print("integrallimits: interrupted", file=sys.stderr)
        return 130
    return command()
