"""Thread policy for CPU inference: how many intra-op threads torch should use.

torch's default is one thread per core. Its OpenMP threads spin and wait for each other
at every operator, so when another process keeps one of the cores busy, every operator
waits for the thread that lost its core and the whole run slows down many-fold. Leaving
one physical core free costs little when the machine is idle and avoids that collapse
when it is not (measured in ``benchmarks/threads.py``; numbers in
``benchmarks/results/threads/``).

This module only reads the machine; :func:`apply_threads` is the one place that changes
torch's (process-wide) setting, called by the CLI and by a session given ``threads=``.
"""

from __future__ import annotations

import os
from pathlib import Path

_CPUINFO = Path("/proc/cpuinfo")


def usable_cpus() -> int:
    """Logical CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def physical_cores() -> int:
    """Physical cores this process may use (hyper-threads of one core count once).

    Read from ``/proc/cpuinfo`` on Linux (``physical id`` x ``core id`` pairs of the CPUs
    in the affinity mask); elsewhere, or when it cannot be read, the logical count.
    """
    logical = usable_cpus()
    try:
        text = _CPUINFO.read_text()
    except OSError:
        return logical
    try:
        allowed = os.sched_getaffinity(0)
    except AttributeError:
        allowed = None
    cores: set[tuple[str, str]] = set()
    for block in text.strip().split("\n\n"):
        fields = dict(
            (k.strip(), v.strip())
            for k, _, v in (line.partition(":") for line in block.splitlines())
        )
        if "processor" not in fields or "core id" not in fields:
            continue
        if allowed is not None and int(fields["processor"]) not in allowed:
            continue
        cores.add((fields.get("physical id", "0"), fields["core id"]))
    return min(len(cores), logical) if cores else logical


def default_threads() -> int:
    """The default number of torch threads: one per physical core, less one, at least one.

    On a 2-core machine that is one thread, which keeps its speed when the other core is
    busy; torch's own default (two) slows down many-fold then.
    """
    return max(1, physical_cores() - 1)


def resolve_threads(threads: int | str | None) -> int:
    """The thread count for ``threads``: an int >= 1 as given, ``"auto"``/None the default.

    Raises:
        InputError: ``threads`` is not a positive integer or ``"auto"``.
    """
    from vosframe.core.errors import InputError

    if threads is None or threads == "auto":
        return default_threads()
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise InputError(
            f"threads must be a positive integer or 'auto', got {threads!r}. "
            f"Fix: pass 1..{usable_cpus()}, or 'auto' for {default_threads()}."
        )
    return threads


def apply_threads(threads: int | str | None) -> int:
    """Set torch's and OpenCV's thread counts (process-wide) and return the count.

    Args:
        threads: A positive int, or ``"auto"``/None for :func:`default_threads`.
    """
    import cv2
    import torch

    n = resolve_threads(threads)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    cv2.setNumThreads(n)
    return n
