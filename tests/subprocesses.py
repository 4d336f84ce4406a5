"""Helpers for the tests that run a child Python process and interrupt it."""
import signal


def sigint_as_in_a_terminal():
    """SIGINT's default action in the child, as in a shell (a pytest-xdist worker ignores SIGINT,
    and an ignored signal stays ignored across exec: Python would then never raise
    KeyboardInterrupt).  Pass as ``preexec_fn`` to :class:`subprocess.Popen`."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
