"""Figures of a study, drawn from its table (matplotlib, the ``plot`` extra).

Each study module defines ``figures(result)`` returning ``{name: Figure}``, drawn with the
helpers below: readable axis labels with the quantity's symbol, O(N^-p) reference slopes on
convergence plots, a caption-like title.  A study without one gets :func:`table_figures`, a
generic figure from the table: a quantity with "error", "change", "difference", ... in its
name against the refinement column (``N``, ``n``, ``M``, ...), one line per value of the
text columns, on log-log axes when the values are positive.  Figures are built with
:class:`matplotlib.figure.Figure` (no pyplot, no global backend state).
"""
from __future__ import annotations

import importlib
import math
import os
import re

from ._result import new_temporary, replace_keeping_mode

__all__ = ["study_figures", "table_figures", "save_figure", "have_matplotlib", "new_figure",
           "plot_lines", "reference_slope", "log2_axis", "caption"]

_X_COLUMNS = ("N", "n", "M", "n_layers", "layers", "depth", "n_steps", "steps", "width", "m",
              "resolution", "samples", "iteration", "epoch")
_Y_PATTERN = re.compile(r"error|change|diff|distance|gap|loss|residual|objective|norm|"
                        r"seconds|value|gradient", re.IGNORECASE)
_TIMING = re.compile(r"seconds|time", re.IGNORECASE)
_NOT_Y = {"declared_order", "observed_order", "rate", "seed"}
_MAX_LINES = 12
_MAX_PANELS = 3


def have_matplotlib():
    """True if matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _numeric(rows, col):
    values = [r[col] for r in rows if col in r and r[col] is not None]
    ok = values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    return bool(ok)


def _figure(ncols=1, width=4.6, height=3.6):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    axes = [fig.add_subplot(1, ncols, k + 1) for k in range(ncols)]
    return fig, axes


def new_figure(ncols=1, width=4.6, height=3.6):
    """A constrained-layout Figure with ``ncols`` panels side by side: (fig, [axes])."""
    return _figure(ncols, width, height)


def caption(fig, title, detail=None):
    """A caption-like title: what the figure shows, then (smaller) how to read it."""
    text = title if detail is None else f"{title}\n{detail}"
    fig.suptitle(text, fontsize="medium")


def log2_axis(ax, which="x"):
    """A log axis in base 2 (refinement by doubling reads as equal steps)."""
    (ax.set_xscale if which == "x" else ax.set_yscale)("log", base=2)


def plot_lines(ax, rows, x, y, group, label=str, positive=True, **style):
    """One line per value of ``group(row)`` through the points (row[x], row[y]), sorted by x;
    non-finite values (and, if ``positive``, values <= 0, which a log axis cannot show) are
    left out.  Returns {group value: [(x, y), ...]}."""
    lines = {}
    for r in rows:
        if _finite(r.get(x)) and _finite(r.get(y)) and (r[y] > 0 or not positive):
            lines.setdefault(group(r), []).append((r[x], r[y]))
    for key, pts in lines.items():
        ax.plot(*zip(*sorted(pts)), marker="o", ms=3, label=label(key), **style)
    return lines


def reference_slope(ax, x, y, order, where=0.5, text=True, above=2.5, **style):
    """A dashed reference line C x^-order through the point a fraction ``where`` of the way
    along the points (x, y), shifted up by the factor ``above`` (so that it runs beside the
    data, not under it), labelled O(N^-p) at its right end."""
    pts = sorted((a, b) for a, b in zip(x, y) if _finite(a) and _finite(b) and a > 0 and b > 0)
    if len(pts) < 2:
        return
    k = min(int(round(where * (len(pts) - 1))), len(pts) - 1)
    x0, y0 = pts[k][0], pts[k][1] * above
    xs = [pts[0][0], pts[-1][0]]
    ys = [y0 * (xi / x0) ** (-order) for xi in xs]
    ax.plot(xs, ys, ls="--", lw=0.9, color=style.pop("color", "0.45"), zorder=0, **style)
    if text:
        p = f"{order:g}"
        ax.annotate(f"$O(N^{{-{p}}})$" if order > 0 else "$O(1)$", (xs[-1], ys[-1]),
                    textcoords="offset points", xytext=(3, 0), fontsize="x-small", color="0.3",
                    va="center")


def _orders_figure(result):
    rows = [r for r in result.rows if _finite(r.get("observed_order"))
            and isinstance(r.get("declared_order"), (int, float))]
    if not rows:
        return {}
    fig, (ax,) = _figure()
    problems = sorted({str(r.get("problem", "")) for r in rows})
    markers = "osD^v<>px*h+"
    for k, problem in enumerate(problems):
        pts = [(r["declared_order"], r["observed_order"]) for r in rows
               if str(r.get("problem", "")) == problem]
        ax.scatter(*zip(*pts), marker=markers[k % len(markers)], label=problem or None, alpha=0.75)
    top = max(max(r["declared_order"], r["observed_order"]) for r in rows) + 0.5
    ax.plot([0, top], [0, top], color="0.6", lw=0.8, zorder=0)
    ax.set_xlabel("declared order")
    ax.set_ylabel("observed order")
    ax.set_title(result.name)
    if len(problems) > 1:
        ax.legend(fontsize="small")
    return {"orders": fig}


def _finite(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def table_figures(result):
    """Generic figures from a study's table (see the module docstring); {} if none fit.

    Parameters
    ----------
    result : StudyResult

    Returns
    -------
    dict
        name -> matplotlib Figure.
    """
    rows = result.rows
    cols = result.columns
    if not rows:
        return {}
    if "declared_order" in cols and "observed_order" in cols and not any(
            c in cols and _numeric(rows, c) for c in _X_COLUMNS):
        return _orders_figure(result)
    x = next((c for c in _X_COLUMNS if c in cols and _numeric(rows, c)
              and len({r.get(c) for r in rows}) > 1), None)
    if x is None:
        return {}
    groups_by = [c for c in cols if c != x and not _numeric(rows, c)
                 and all(isinstance(r.get(c, ""), str) for r in rows)
                 and len({r.get(c) for r in rows}) <= _MAX_LINES]

    def varies(c):  # a quantity that changes along some line (not a per-line constant)
        seen = {}
        for r in rows:
            key = tuple(r.get(g) for g in groups_by)
            seen.setdefault(key, set()).add(r.get(c))
        return any(len(v) > 1 for v in seen.values())

    ys = [c for c in cols if c != x and c not in _NOT_Y and not c.startswith("rate")
          and _Y_PATTERN.search(c) and _numeric(rows, c) and varies(c)]
    ys = sorted(ys, key=lambda c: bool(_TIMING.search(c)))[:_MAX_PANELS]   # timings last
    if not ys:
        return {}
    fig, axes = _figure(len(ys))
    for ax, y in zip(axes, ys):
        lines = {}
        for r in rows:
            if _finite(r.get(x)) and _finite(r.get(y)):
                label = ", ".join(str(r.get(g, "")) for g in groups_by)
                lines.setdefault(label, []).append((r[x], r[y]))
        values = [p for pts in lines.values() for p in pts]
        if not values:
            continue
        logx = all(px > 0 for px, _ in values) and max(v for v, _ in values) >= 8 * min(
            v for v, _ in values)
        # log axes when the values are positive; exact zeros (errors at rounding) are left out
        positive = sum(py > 0 for _, py in values)
        logy = positive == len(values) or (positive >= 0.8 * len(values) and all(
            py >= 0 for _, py in values))
        for label, pts in list(lines.items())[:_MAX_LINES]:
            pts = sorted(p for p in pts if p[1] > 0 or not logy)
            if pts:
                ax.plot(*zip(*pts), marker="o", ms=3, label=label or None)
        if logx:
            ax.set_xscale("log", base=2)
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        if len(lines) > 1:
            ax.legend(fontsize="x-small")
    fig.suptitle(result.name)
    return {result.name: fig}


def study_figures(name, result):
    """The figures of study ``name``: its module's ``figures(result)`` if it defines one,
    else :func:`table_figures`; {} without matplotlib."""
    if not have_matplotlib():
        return {}
    from . import _LOCATIONS
    location = _LOCATIONS.get(name)
    if location:
        module = importlib.import_module(f"{__package__}.{location.split(':')[0]}")
        custom = getattr(module, "figures", None)
        if callable(custom):
            return dict(custom(result))
    return table_figures(result)


def save_figure(fig, path):
    """Save ``fig`` as a PNG at ``path`` atomically, without time stamps in the file."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = new_temporary(folder, os.path.basename(path))
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=110, metadata={"Software": None})
        replace_keeping_mode(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
