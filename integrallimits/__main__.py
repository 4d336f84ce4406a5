import sys

from ._console import run

sys.exit(run())
