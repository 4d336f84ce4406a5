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
        target = os.path.join(out_dir, f"{name}-{png}")
        shutil.copyfile(os.path.join(folder, png), target)
        lines += [f".. image:: _generated/{name}-{png}", f"   :alt: {name}: {png[:-4]}", ""]
    for part in (StudyResult(name, rows).sections() if rows else []):   # one table per part
        cols = StudyResult(name, part).columns
        lines += [".. list-table::", "   :header-rows: 1", ""]
        lines.append("   * - " + "\n     - ".join(c.translate(_SPECIAL) for c in cols))
        for row in part:
            lines.append("   * - " + "\n     - ".join(_cell(row.get(c)) for c in cols))
        lines.append("")
    return "\n".join(lines) + "\n"


def write_gallery(validation_root, out_dir):
    """Write ``out_dir/studies.rst`` and one page per study found under ``validation_root``."""
    os.makedirs(out_dir, exist_ok=True)
    for entry in os.listdir(out_dir):
        os.unlink(os.path.join(out_dir, entry))
    found = _folders(validation_root)
    index = []
    for name, (folder, label) in found.items():
        with open(os.path.join(out_dir, f"{name}.rst.inc"), "w", encoding="utf-8") as fh:
            fh.write(_study_page(name, folder, label, out_dir))
        index.append(f".. include:: /_generated/{name}.rst.inc")
    if not index:
        index = ["No reproduction outputs are committed yet: run "
                 "``integrallimits reproduce all --out validation``."]
    with open(os.path.join(out_dir, "studies.rst.inc"), "w", encoding="utf-8") as fh:
        fh.write("\n\n".join(index) + "\n")
    return list(found)
