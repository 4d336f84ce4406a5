"""Write the gallery of reproductions from the committed outputs in ``validation/``.

For every study folder ``validation/<name>/`` (full runs) -- or, for studies without
one, ``validation/quick/<name>/`` (quick runs) -- this writes
``_generated/<name>.rst`` with the study's notes, its figures, its table (the rows of
``table.json`` formatted like ``table.md``) and a line from its manifest, and
``_generated/studies.rst`` including them all.  Nothing is pasted by hand: rerun
``integrallimits reproduce all --out validation`` and rebuild.
"""
import json
import os
import shutil

_SPECIAL = str.maketrans({"\\": "\\\\", "*": "\\*", "`": "\\`", "|": "\\|", "_": "\\_"})


def _cell(value):
    from integrallimits.studies._result import _fmt
    text = _fmt(value) if value is not None else ""
    return text.translate(_SPECIAL) if text else ".."


def _folders(root):
    found = {}
    for base, label in ((os.path.join(root, "quick"), "quick"), (root, "full")):
        if not os.path.isdir(base):
            continue
        for name in sorted(os.listdir(base)):
            if os.path.isfile(os.path.join(base, name, "table.json")):
                found[name] = (os.path.join(base, name), label)   # full overrides quick
    return found


def _study_page(name, folder, label, out_dir):
    with open(os.path.join(folder, "table.json"), encoding="utf-8") as fh:
        table = json.load(fh)
    manifest = {}
    if os.path.isfile(os.path.join(folder, "manifest.json")):
        with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as fh:
            manifest = json.load(fh)
    from integrallimits.studies import StudyResult
    rows = table.get("rows", [])
    lines = [name, "-" * len(name), ""]
    if table.get("notes"):
        lines += [table["notes"].translate(_SPECIAL), ""]
    version = manifest.get("package", {}).get("version", "?")
    finished = manifest.get("timings", {}).get("finished", "?")
    lines += [f"*{label} run* (``integrallimits reproduce {name}"
              f"{' --quick' if label == 'quick' else ''} --seed {manifest.get('seed', 0)}``), "
              f"integrallimits {version}, {finished}; "
              f"{manifest.get('cells', {}).get('total', '?')} cells, "
              f"{manifest.get('cells', {}).get('seconds', '?')} s of computation.", ""]
    for png in sorted(f for f in os.listdir(folder) if f.endswith(".png")):
        _copy_if_changed(os.path.join(folder, png), os.path.join(out_dir, f"{name}-{png}"))
        lines += [f".. image:: _generated/{name}-{png}", f"   :alt: {name}: {png[:-4]}", ""]
    for part in (StudyResult(name, rows).sections() if rows else []):   # one table per part
        cols = StudyResult(name, part).columns
        lines += [".. list-table::", "   :header-rows: 1", ""]
        lines.append("   * - " + "\n     - ".join(c.translate(_SPECIAL) for c in cols))
        for row in part:
            lines.append("   * - " + "\n     - ".join(_cell(row.get(c)) for c in cols))
        lines.append("")
    return "\n".join(lines) + "\n"


def _write_if_changed(path, text):
    """Write ``text`` to ``path`` unless it holds that text already: an unchanged file keeps its
    time stamp, so a second build from the same doctrees (the doctest build after the html
    build) does not read the gallery's pages again."""
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            if fh.read() == text:
                return
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def _copy_if_changed(source, target):
    """Copy ``source`` to ``target`` unless ``target`` has the same bytes already."""
    if os.path.isfile(target):
        with open(source, "rb") as a, open(target, "rb") as b:
            if a.read() == b.read():
                return
    shutil.copyfile(source, target)


def write_gallery(validation_root, out_dir):
    """Write ``out_dir/studies.rst`` and one page per study found under ``validation_root``
    (files whose content is unchanged are left as they are; files of no study are removed)."""
    os.makedirs(out_dir, exist_ok=True)
    before = set(os.listdir(out_dir))
    found = _folders(validation_root)
    index = []
    for name, (folder, label) in found.items():
        _write_if_changed(os.path.join(out_dir, f"{name}.rst.inc"),
                          _study_page(name, folder, label, out_dir))
        index.append(f".. include:: /_generated/{name}.rst.inc")
    if not index:
        index = ["No reproduction outputs are committed yet: run "
                 "``integrallimits reproduce all --out validation``."]
    _write_if_changed(os.path.join(out_dir, "studies.rst.inc"), "\n\n".join(index) + "\n")
    kept = {f"{name}.rst.inc" for name in found} | {"studies.rst.inc"}
    kept |= {f"{name}-{png}" for name, (folder, _) in found.items()
             for png in os.listdir(folder) if png.endswith(".png")}
    for entry in before - kept:
        os.unlink(os.path.join(out_dir, entry))
    return list(found)
