"""Memory checks made before large arrays are allocated: a size that cannot fit is a
``MemoryError`` with the figures, not a process killed by the system (every layer uses them)."""
from __future__ import annotations

import os

__all__ = ["SMALL", "available_memory", "check_memory", "format_bytes"]

#: Memory needs (bytes) below which the checks do not ask the system what is free (~100 us).
SMALL = 2.0 ** 26


def available_memory():
    """Bytes of memory available (MemAvailable on Linux, else the physical memory; None if
    unknown)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return None


def format_bytes(n):
    """``n`` bytes as a short text: 1.5 GB."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000:
            return f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} EB"


def check_memory(need, what):
    """Raise ``MemoryError`` ("``what`` needs about ... of memory; ... are available") if
    ``need`` bytes exceed the memory available."""
    available = available_memory() if need > SMALL else None
    if available and need > available:
        raise MemoryError(f"{what} needs about {format_bytes(need)} of memory; "
                          f"{format_bytes(available)} are available")
