"""Compare two error-control study tables row by row (key: problem, method, adaptive, tol).

Usage: ``python tools/ec_compare.py A/table.json B/table.json``: prints the rows whose N,
success, nfev, max_error or max_estimate differ, the nfev ratio range (B / A) over the
adaptive rows, and the adaptive rows over their work goals in B (work_ratio > 4 on a smooth
problem, > 1 on tan).
"""
import json
import sys


def rows(path):
    return {(r["problem"], r["method"], r["adaptive"], r["tol"]): r
            for r in json.load(open(path))["rows"]}


def main(a, b):
    A, B = rows(a), rows(b)
    changed, ratios = 0, []
    for k in sorted(A, key=str):
        ra, rb = A[k], B.get(k)
        if rb is None:
            print("missing in B:", k)
            continue
        if ra["adaptive"] and ra["nfev"]:
            ratios.append((rb["nfev"] / ra["nfev"], k))
        diff = [f for f in ("N", "success", "nfev", "max_error", "max_estimate")
                if ra[f] != rb[f] and not (ra[f] != ra[f] and rb[f] != rb[f])]   # (NaN = NaN)
        if diff:
            changed += 1
            print(k, {f: (ra[f], rb[f]) for f in diff},
                  f"work {ra.get('work_ratio')} -> {rb.get('work_ratio')}")
    print(f"{changed} of {len(A)} rows changed")
    if ratios:
        lo, hi = min(ratios), max(ratios)
        print(f"adaptive nfev ratio B/A: {lo[0]:.3f} ({lo[1]}) - {hi[0]:.3f} ({hi[1]})")
    for k, r in B.items():
        w = r.get("work_ratio")
        if r["adaptive"] and w is not None and (w > 4 or (k[0] == "tan" and w > 1)):
            print("over work goal:", k, w)


if __name__ == "__main__":
    main(*sys.argv[1:3])
