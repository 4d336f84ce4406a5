"""Study "state-space": state dimension and parameter counts of smooth k-th order networks.

For each order k and width d the table gives the state dimension k d of the
smooth network Δ^k x_n = h^k f(x_n), its d^2 weights per layer against (k d)^2 for
a first-order ResNet of the same width (ratio k^2), and whether the state-space
identities were verified exactly with SymPy for that (k, d):

* ``holds``: z_{n+1} = (J_k ⊗ I_d) z_n + (e_k ⊗ I_d) h^k f_n, the closed form
  x_n = Σ_{i<k} C(n,i) Δ^i x_0 + h^k Σ_{j<=n-k} C(n-j-1,k-1) f_j and Δ^k x_n = h^k f_n,
  unrolled with symbolic entries (:func:`integrallimits.symbolic.state_space.check_state_space`);
* ``closed_form_all_n``: the closed form for symbolic n (per k);
* ``skip_equivalent``: the additive skip network with difference coefficients is
  the same network (per k, d);
* ``kernel``: the exact limit of the mixing weights, (t - s)^{k-1}/(k-1)!.
"""
from __future__ import annotations

from ._result import StudyResult
from ._runner import map_calls

__all__ = ["state_space", "figures"]


def _row(k, d):
    # imported here: sympy is loaded only when the study runs
    from ..symbolic import skip_dense
    from ..symbolic import state_space as ss

    row = {"k": k, "d": d}
    row.update(ss.parameter_counts(k, d))
    row["holds"] = bool(ss.check_state_space(k, d))
    row["closed_form_all_n"] = bool(ss.check_closed_form_symbolic_n(k))
    row["skip_equivalent"] = bool(skip_dense.check_coincides_with_smooth(k, d))
    row["kernel"] = str(ss.kernel_limit(k))
    return row


def state_space(quick=False, seed=0, executor=None):
    """State-space identities and parameter counts of smooth k-th order networks.

    Parameters
    ----------
    quick : bool
        k = 1..3, d = 1..2 instead of k = 1..6, d = 1..3.
    seed : int
        Recorded only: the study is exact and deterministic.
    executor : optional
        An object with ``submit`` (``concurrent.futures`` executor or Dask client)
        to run the (k, d) cases in parallel; serial if None.

    Returns
    -------
    StudyResult
        Columns k, d, state_dim, params_smooth, params_resnet, ratio, holds,
        closed_form_all_n, skip_equivalent, kernel.

    Examples
    --------
    >>> res = state_space(quick=True)
    >>> [(r["k"], r["d"], r["ratio"], r["holds"]) for r in res.rows][:3]
    [(1, 1, 1, True), (1, 2, 1, True), (2, 1, 4, True)]
    """
    ks, ds = (range(1, 4), range(1, 3)) if quick else (range(1, 7), range(1, 4))
    cases = [(k, d) for k in ks for d in ds]
    rows = map_calls(_row, *zip(*cases), executor=executor)
    notes = ("Smooth k-th order networks Δ^k x_n = h^k f(x_n): state dimension k d, d^2 weights "
             "per layer against (k d)^2 for a first-order ResNet of width k d (ratio k^2). "
             "'holds' is the exact SymPy verification of the state-space form and closed form "
             "(symbolic entries, n <= 2k+1); 'closed_form_all_n' the proof for symbolic n; "
             "'skip_equivalent' the identity with the k-skip dense network; 'kernel' the exact "
             "h -> 0 limit of the mixing weights.")
    return StudyResult("state-space", rows, params={"quick": quick, "seed": seed}, notes=notes)


def figures(result):
    """Weights per layer of a smooth k-th order network (d^2) against a first-order ResNet of
    the same state dimension ((k d)^2), and their ratio k^2."""
    from ._figures import caption, new_figure
    rows = [r for r in result.rows if isinstance(r.get("k"), int)]
    if not rows:
        return {}
    fig, (ax, bx) = new_figure(2, height=3.7)
    for k, d in enumerate(sorted({r["d"] for r in rows})):
        pts = sorted((r["k"], r["params_smooth"], r["params_resnet"]) for r in rows if r["d"] == d)
        ks, smooth, resnet = zip(*pts)
        ax.plot(ks, resnet, "--o", ms=3, color=f"C{k}", label=f"ResNet, width $kd$, $d = {d}$")
        ax.plot(ks, smooth, "-s", ms=3, color=f"C{k}", label=f"smooth net, $d = {d}$")
        bx.plot(ks, [r / s for s, r in zip(smooth, resnet)], "o", ms=5 - k, color=f"C{k}",
                label=f"$d = {d}$")
    ks = sorted({r["k"] for r in rows})
    bx.plot(ks, [k * k for k in ks], color="0.4", lw=0.9, zorder=0, label="$k^2$")
    ax.set_yscale("log")
    ax.set_ylabel("weights per layer")
    bx.set_ylabel("ratio ResNet / smooth net")
    for a in (ax, bx):
        a.set_xlabel("order $k$ (state dimension $k d$)")
        a.set_xticks(ks)
        a.legend(fontsize="x-small")
    verified = all(r.get("holds") is True for r in rows)
    caption(fig, "Smooth k-th order networks: state dimension k d with d² weights per layer",
            "a factor k² fewer than a first-order ResNet of the same state dimension; "
            + ("state-space identities verified exactly (SymPy) for every (k, d)" if verified
               else "NOT every state-space identity was verified: see the table"))
    return {"state-space": fig}
