"""The result object of a study: a table (list of row dicts), figures and metadata."""
from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import secrets
import stat
from dataclasses import dataclass, field

__all__ = ["StudyResult", "atomic_write", "left_out"]


def left_out(study, what, extra, distribution):
    """Warn that ``what`` (a part of ``study``'s table) is left out because the optional
    ``distribution`` (the ``extra`` of the package) is not installed, and return the sentence
    for the study's notes: the table must not read as the whole study (the command line
    shows the warning as one line; the manifest's notes keep it)."""
    import warnings
    text = (f"{what} left out: {distribution} is not installed (pip install "
            f"'integrallimits[{extra}]', then rerun: finished cells are reused).")
    warnings.warn(f"{study}: {text}", UserWarning, stacklevel=3)
    return text


def new_temporary(folder, name):
    """Create a new empty file in ``folder`` to be renamed onto ``folder/name``: (fd, path).

    Its name (``.tmp-<random>-<name>``) is unique to this call, so concurrent writers never
    touch each other's files; unlike :func:`tempfile.mkstemp` (mode 0600) its mode is 0666
    less the umask, as for any file a program writes."""
    while True:
        path = os.path.join(folder, f".tmp-{secrets.token_hex(8)}-{name}")
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), path
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue


def replace_keeping_mode(tmp, path):
    """Rename the finished temporary file ``tmp`` onto ``path``; a file already at ``path``
    passes its permission bits on (a table the user made read-only or group-writable stays so:
    a new file would have had 0666 less the umask)."""
    try:
        os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
    except FileNotFoundError:
        pass
    os.replace(tmp, path)


def atomic_write(path, text, make_folder=True):
    """Write ``text`` to ``path`` atomically (temporary file in the same folder + rename).

    The folder is made if it does not exist, unless ``make_folder`` is False: then, as for
    ``numpy.savetxt`` or ``open``, a FileNotFoundError.  A ``path`` that is a folder is an
    IsADirectoryError (the rename onto it failed with EBUSY for ".", EISDIR for others)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file: give a file name",
                                path)
    if make_folder:
        os.makedirs(folder, exist_ok=True)
    elif not os.path.isdir(folder):
        raise FileNotFoundError(errno.ENOENT, "no such folder (it is not made): cannot write "
                                f"{os.path.basename(path)!r} in it", folder)
    fd, tmp = new_temporary(folder, os.path.basename(path))
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write(text)
        replace_keeping_mode(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_table(path, text):
    """Write a table's ``text`` to the file ``path`` as :func:`atomic_write` does (the folder is
    not made), but keeping what is not a regular file: through a symbolic link, whose target
    is replaced (the rename replaced the user's link by a file), and in place on a device or a
    pipe (``/dev/stdout``), which a rename would replace."""
    path = os.fspath(path)
    if os.path.islink(path):
        real = os.path.realpath(path)
        if not os.path.lexists(real) or os.path.isfile(real):
            atomic_write(real, text, make_folder=False)
            return
        path = real
    if os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path):
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        return
    atomic_write(path, text, make_folder=False)


def _columns(rows):
    cols = []
    for row in rows:
        for key in row:
            if key not in cols:
                cols.append(key)
    return cols


def _fmt(value):
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return f"{value:.4g}" if (value == 0 or 1e-3 <= abs(value) < 1e5) else f"{value:.3e}"
    return str(value)


@dataclass
class StudyResult:
    """A reference computation's output.

    Attributes
    ----------
    name : str
    rows : list of dict
        One dict per table row; values are plain floats, ints, strings or bools.
    params : dict
        The parameters the study ran with (quick, seed, ...).
    figures : dict
        name -> matplotlib Figure (empty without matplotlib).
    notes : str
        What the table shows (one paragraph).
    data : dict
        Arrays behind the figures that are not table columns (e.g. sampled fields for
        heatmaps); not written to the table files.
    """

    name: str
    rows: list
    params: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    notes: str = ""
    data: dict = field(default_factory=dict)

    @property
    def columns(self):
        return _columns(self.rows)

    def sections(self):
        """The rows split by their ``part`` column (a study whose table has several parts with
        different columns), as a list of row lists; one list without such a column."""
        parts = [row.get("part") for row in self.rows]
        if not self.rows or not all(isinstance(p, str) for p in parts):
            return [self.rows]
        return [[row for row in self.rows if row["part"] == part] for part in dict.fromkeys(parts)]

    def to_markdown(self):
        """The table in Markdown: one table per part (see :meth:`sections`), each with its own
        columns, separated by a blank line."""
        blocks = []
        for rows in self.sections():
            cols = _columns(rows)
            lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
            for row in rows:
                lines.append("| " + " | ".join(_fmt(row.get(c, "")) for c in cols) + " |")
            blocks.append("\n".join(lines) + "\n")
        return "\n".join(blocks)

    def to_csv(self, path=None):
        """The table as CSV text; written (atomically) to the file ``path`` if it is given.

        As ``numpy.savetxt`` and ``pandas.DataFrame.to_csv``, a ``path`` in a folder that does
        not exist is a FileNotFoundError (the folder is not made), and a folder an
        IsADirectoryError.  A symbolic link is kept (its target is written), and a device such
        as ``/dev/stdout`` written in place."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.columns)
        writer.writeheader()
        writer.writerows(self.rows)
        if path is not None:
            _write_table(path, buf.getvalue())
        return buf.getvalue()

    def to_json(self, path=None):
        """The name, parameters, notes and rows as JSON text; written to ``path`` as by
        :meth:`to_csv`."""
        text = json.dumps({"name": self.name, "params": self.params, "notes": self.notes,
                           "rows": self.rows}, indent=2, default=float)
        if path is not None:
            _write_table(path, text)
        return text
