"""Safe output folders: checked before any work, written beside, swapped in at the end.

:func:`check_output_dir` refuses an output folder that is, holds or sits inside an input,
that is a file, sits under a file or in a folder that cannot be written, and an existing
non-empty folder unless the caller asked to replace it. :func:`staged_output_dir` writes
into a hidden temporary sibling and moves it into place only when the work succeeded; an
error, Ctrl-C or SIGTERM (see :func:`terminate_as_interrupt`) removes the temporary folder
and leaves the previous output as it was. :func:`write_report_files` writes a report's
files one by one, each atomically. Only the standard library is imported.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from vosframe.core.errors import InputError

_SWAP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _within(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def _visible_entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def check_output_dir(
    out: str | os.PathLike,
    *,
    inputs: Mapping[str, str | os.PathLike | None] = {},
    overwrite: bool = False,
    out_name: str = "out_dir",
    overwrite_name: str = "overwrite=True",
    will_hold: str = "the results",
) -> Path:
    """Check an output folder before any work is done.

    Args:
        out: The output folder.
        inputs: Input paths by the name the user gave them (``{"--frames": path}``); the
            output may not be, hold, or sit inside any of them.
        overwrite: Allow an existing non-empty folder (it will be replaced as a whole).
        out_name: Name of the output argument in messages (``--out``).
        overwrite_name: How the user asks to replace an existing folder (``--overwrite``).
        will_hold: What the folder will hold, for the message about an existing folder.

    Returns:
        The output path (absolute).

    Raises:
        InputError: The folder would touch an input, is a file, sits under a file, cannot
            be created or written, or already holds files and ``overwrite`` is False.
    """
    path = Path(out).expanduser().absolute()
    real = Path(os.path.realpath(path))
    for name, given in inputs.items():
        if given is None:
            continue
        src = Path(os.path.realpath(Path(given).expanduser()))
        if real == src or _within(real, src) or _within(src, real):
            how = "is" if real == src else ("is inside" if _within(real, src) else "holds")
            raise InputError(
                f"{out_name} {out} {how} the {name} input {given}; writing there would "
                f"overwrite or delete your input files. Fix: pass a new folder as {out_name}, "
                f"e.g. {path.parent / (path.name + '_masks')}."
            )
    if path.is_file():
        raise InputError(
            f"{out_name} {out} is an existing file, not a folder. Fix: pass a folder path "
            f"as {out_name} (it is created if missing)."
        )
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(
            f"{out_name} {out} sits under {existing}, which is a file, not a folder. Fix: "
            f"pass a folder path as {out_name}."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(
            f"{out_name} {out} cannot be written: no write permission in {existing}. Fix: "
            f"pass a folder you can write to as {out_name}."
        )
    if path.is_dir():
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise InputError(
                f"{out_name} {out} cannot be replaced: no write permission in {path.parent}. "
                f"Fix: pass a new folder you can write to as {out_name}."
            )
        entries = _visible_entries(path)
        if entries and not overwrite:
            raise InputError(
                f"{out_name} {out} already holds {len(entries)} file(s) (e.g. "
                f"{', '.join(entries[:3])}); this run would replace the whole folder with "
                f"{will_hold}, so files of an earlier run would be lost. Fix: pass "
                f"{overwrite_name} to replace it, or choose a new folder."
            )
    return path


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back while the block runs (delivered right after it)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _SWAP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def swap_into_place(staged: Path, out: Path) -> None:
    """Replace ``out`` (if any) by the folder ``staged``, with signals held back.

    The old folder is renamed aside first and deleted after the new one is in place, so
    at no point does ``out`` hold a mix of the two runs.
    """
    with _signals_deferred():
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            old.rmdir()
            os.replace(out, old)
        try:
            os.replace(staged, out)
        except BaseException:
            if old is not None:
                os.replace(old, out)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def staged_output_dir(out: str | os.PathLike) -> Iterator[Path]:
    """Yield a hidden temporary sibling of ``out`` to write into; on success swap it in.

    On any exception (Ctrl-C included) the temporary folder is removed and ``out`` is
    left as it was.
    """
    out = Path(out).absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        yield tmp
        swap_into_place(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def terminate_as_interrupt() -> None:
    """Make SIGTERM raise ``KeyboardInterrupt`` (as Ctrl-C does), so that cleanup code in
    ``finally`` blocks runs when a job is killed. Call from the main thread only."""

    def _raise(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _raise)


def write_report_files(
    out_dir: str | os.PathLike,
    texts: Mapping[str, str],
    *,
    overwrite: bool = False,
    what: str = "results",
) -> dict[str, str]:
    """Write a report's files (``{file name: text}``) into ``out_dir``, each atomically
    (written beside under a hidden name, then renamed into place).

    Returns:
        ``{file name: path written}``.

    Raises:
        InputError: One of the files exists and ``overwrite`` is False (nothing written).
    """
    out = Path(out_dir)
    files = {name: out / name for name in texts}
    if not overwrite and any(p.exists() for p in files.values()):
        raise InputError(
            f"{out} already holds {what}. Fix: choose another --name/--out, or pass "
            "--overwrite to replace them."
        )
    out.mkdir(parents=True, exist_ok=True)
    for name, path in files.items():
        tmp = path.with_name(f".{path.name}.partial")
        tmp.write_text(texts[name])
        os.replace(tmp, path)
    return {name: str(p) for name, p in files.items()}
