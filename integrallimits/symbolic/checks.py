r"""Registry of every symbolic identity, the table runner and the ``check-symbolic`` entry point.

Each entry of :data:`CHECKS` names an identity, the function proving it and the
parameter cases it is proved for (a full set and a quick subset). A case *holds*
only if SymPy reduces the identity to an exact zero (or exact rational equality);
:func:`run_checks` returns one row per identity::

    {"identity": ..., "parameters": ..., "cases": ..., "holds": True}

and :func:`check_symbolic_main` prints that table and returns a non-zero exit code
if any identity fails.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import dataclass
from typing import Callable

from . import adjoint, dense_rule, exactness, relu, skip_dense, state_space

__all__ = ["SymbolicCheck", "CHECKS", "run_checks", "check_symbolic_main"]


@dataclass(frozen=True)
class SymbolicCheck:
    """One identity: ``function(**case)`` returns True iff it holds exactly for that case."""

    name: str
    statement: str
    function: Callable[..., bool]
    full: tuple
    quick: tuple
    full_parameters: str
    quick_parameters: str

    def cases(self, quick=False):
        return self.quick if quick else self.full

    def parameters(self, quick=False):
        return self.quick_parameters if quick else self.full_parameters

    def run(self, quick=False):
        """True iff every case holds (stops at the first failure)."""
        return all(bool(self.function(**case)) for case in self.cases(quick))


def _grid(**ranges):
    keys = list(ranges)
    return tuple(dict(zip(keys, values)) for values in itertools.product(*ranges.values()))


_RULES = exactness.VOLTERRA_RULES
_ADJ = adjoint.ADJOINT_RULES
_IMPLICIT = ("implicit-rectangle", "trapezoid")


def _unrolled_adjoint_cases(n_max, d_max_rect):
    cases = [dict(rule="rectangle", n_steps=N, d=d) for N in range(1, n_max + 1)
             for d in range(1, d_max_rect + 1)]
    cases += [dict(rule=r, n_steps=N, d=1) for r in _IMPLICIT for N in range(1, n_max + 1)]
    cases += [dict(rule=r, n_steps=1, d=2) for r in _IMPLICIT]
    return tuple(cases)


_COLLOCATION_RADICAL_FULL = tuple([dict(kind="gauss", m=m) for m in range(1, 5)]
                                  + [dict(kind="radau", m=m) for m in range(1, 4)])
_COLLOCATION_RADICAL_QUICK = tuple([dict(kind="gauss", m=m) for m in range(1, 4)]
                                   + [dict(kind="radau", m=m) for m in range(1, 3)])

CHECKS = {c.name: c for c in (
    SymbolicCheck(
        "state-space", "z_{n+1} = (J_k ⊗ I_d) z_n + (e_k ⊗ I_d) h^k f_n, x_n = Σ C(n,i) Δ^i x_0 + "
        "h^k Σ C(n-j-1,k-1) f_j, Δ^k x_n = h^k f_n (unrolled, symbolic entries)",
        state_space.check_state_space,
        _grid(k=range(1, 7), d=range(1, 4)), _grid(k=range(1, 4), d=range(1, 3)),
        "k = 1..6, d = 1..3, n <= 2k+1", "k = 1..3, d = 1..2, n <= 2k+1"),
    SymbolicCheck(
        "closed-form-symbolic-n", "Δ^k of the closed form is h^k f_n for symbolic n "
        "(coefficientwise), initial differences match",
        state_space.check_closed_form_symbolic_n,
        _grid(k=range(1, 9)), _grid(k=range(1, 5)), "k = 1..8, symbolic n", "k = 1..4, symbolic n"),
    SymbolicCheck(
        "closed-form-induction", "Δ S_k = S_{k-1} (Pascal), Δ S_1 = f_n, Δ^k C(n,i) = 0 (i<k): "
        "closed form for symbolic n and k",
        state_space.check_closed_form_induction, ({},), ({},),
        "symbolic n, k", "symbolic n, k"),
    SymbolicCheck(
        "kernel-limit", "lim_{h->0} h^{k-1} C((t-s)/h - 1, k-1) = (t-s)^{k-1}/(k-1)!",
        state_space.check_kernel_limit,
        _grid(k=range(1, 9)), _grid(k=range(1, 5)), "k = 1..8, symbolic t, s", "k = 1..4"),
    SymbolicCheck(
        "parameter-ratio", "(k d)^2 / d^2 = k^2 weights per layer (ResNet of width kd vs smooth net)",
        state_space.check_parameter_ratio, ({},), ({},), "symbolic k, d", "symbolic k, d"),
    SymbolicCheck(
        "skip-companion-closed-form", "z_n = A^n z_0 + Σ_{j<n} A^{n-1-j} B F_j for "
        "x_{n+1} = Σ a_i x_{n-i} + F_n (symbolic a_i)",
        skip_dense.check_companion_closed_form,
        _grid(k=range(1, 7), d=range(1, 4)), _grid(k=range(1, 4), d=range(1, 3)),
        "k = 1..6, d = 1..3, n <= k+3", "k = 1..3, d = 1..2, n <= k+3"),
    SymbolicCheck(
        "skip-characteristic-polynomial", "det(λI - C(a) ⊗ I_d) = (λ^k - Σ a_i λ^{k-1-i})^d",
        skip_dense.check_characteristic_polynomial,
        _grid(k=range(1, 5), d=range(1, 3)), _grid(k=range(1, 4), d=range(1, 3)),
        "k = 1..4, d = 1..2, symbolic a_i", "k = 1..3, d = 1..2"),
    SymbolicCheck(
        "skip-difference-eigenvalues", "a_i = (-1)^i C(k,i+1): det(λI - A) = (λ-1)^{kd}, "
        "rank(A - I) = (k-1)d",
        skip_dense.check_difference_eigenvalues,
        _grid(k=range(1, 7), d=range(1, 4)), _grid(k=range(1, 4), d=range(1, 3)),
        "k = 1..6, d = 1..3", "k = 1..3, d = 1..2"),
    SymbolicCheck(
        "skip-equals-smooth", "T A T^{-1} = J_k ⊗ I_d, T B = e_k ⊗ I_d; skip net with "
        "F_n = h^k f(x_{n-k+1}) = smooth net",
        skip_dense.check_coincides_with_smooth,
        _grid(k=range(1, 7), d=range(1, 4)), _grid(k=range(1, 4), d=range(1, 3)),
        "k = 1..6, d = 1..3", "k = 1..3, d = 1..2"),
    SymbolicCheck(
        "dense-is-rectangle", "x_n = x_0 + h Σ_{j<n} σ(W_nj x_j + b_nj) (and z_n = g_n + "
        "h Σ W_nj σ(z_j)) = direct quadrature with volterra_rule('rectangle')",
        dense_rule.check_dense_is_rectangle,
        _grid(n_steps=range(1, 5), d=range(1, 4), family=("residual", "concatenation")),
        _grid(n_steps=range(1, 4), d=range(1, 3), family=("residual", "concatenation")),
        "N = 1..4, d = 1..3, residual + concatenation", "N = 1..3, d = 1..2"),
    SymbolicCheck(
        "resnet-is-t-independent-dense", "x_{n-1} + h σ(W_{n-1} x_{n-1} + b_{n-1}) = dense net "
        "with W_nj = W_j, b_nj = b_j",
        dense_rule.check_resnet_is_t_independent_dense,
        _grid(n_steps=range(1, 5), d=range(1, 4)), _grid(n_steps=range(1, 4), d=range(1, 3)),
        "N = 1..4, d = 1..3", "N = 1..3, d = 1..2"),
    SymbolicCheck(
        "rule-exactness", "Σ_j w_nj j^q = n^{q+1}/(q+1), q <= degree, every row n >= 1 "
        "(symbolic n past the start, rows enumerated before)",
        exactness.check_rule_exactness, _grid(name=_RULES), _grid(name=_RULES),
        "all VOLTERRA_RULES, all n >= 1", "all VOLTERRA_RULES, all n >= 1"),
    SymbolicCheck(
        "rule-sharpness", "degree + 1 fails on every row n >= 1",
        exactness.check_rule_sharpness, _grid(name=_RULES), _grid(name=_RULES),
        "all VOLTERRA_RULES, all n >= 1", "all VOLTERRA_RULES, all n >= 1"),
    SymbolicCheck(
        "rk4-order-conditions", "Σ a_ij = c_i and Φ(t) = 1/γ(t) for the 8 rooted trees of "
        "order <= 4 (exact rationals)",
        exactness.check_rk_order_conditions, ({},), ({},), "rk4, trees of order <= 4",
        "rk4, trees of order <= 4"),
    SymbolicCheck(
        "rk4-order-sharp", "some order-5 condition fails for rk4",
        exactness.check_rk_order_sharp, ({},), ({},), "rk4, 9 trees of order 5",
        "rk4, 9 trees of order 5"),
    SymbolicCheck(
        "collocation-conditions", "C(m): Σ_j a_ij c_j^{q-1} = c_i^q/q; B(2m) Gauss / B(2m-1) "
        "Radau IIA (exact radicals)",
        exactness.check_collocation_conditions,
        _COLLOCATION_RADICAL_FULL, _COLLOCATION_RADICAL_QUICK,
        "gauss m = 1..4, radau m = 1..3", "gauss m = 1..3, radau m = 1..2"),
    SymbolicCheck(
        "collocation-quadrature-order", "∫_0^1 rem(x^{q-1}, p) = 1/q for q <= 2m (Gauss), "
        "2m-1 (Radau IIA), fails at the next q",
        exactness.check_collocation_quadrature_order,
        _grid(kind=("gauss", "radau"), m=range(1, 9)), _grid(kind=("gauss", "radau"), m=range(1, 5)),
        "gauss, radau m = 1..8 (rationals)", "gauss, radau m = 1..4"),
    SymbolicCheck(
        "collocation-tableau-floats", "package tableau = exact tableau (floats correctly rounded, "
        "50-digit entries to 1e-40)",
        exactness.check_collocation_floats,
        _COLLOCATION_RADICAL_FULL, _COLLOCATION_RADICAL_QUICK,
        "gauss m = 1..4, radau m = 1..3", "gauss m = 1..3, radau m = 1..2"),
    SymbolicCheck(
        "adjoint-unrolled-gradient", "discrete adjoint gradient (∇_θ, ∇_x0) = SymPy gradient "
        "of the unrolled J_N",
        adjoint.check_discrete_adjoint,
        _unrolled_adjoint_cases(3, 2), _unrolled_adjoint_cases(2, 2),
        "rectangle N <= 3, d <= 2; implicit-rectangle, trapezoid N <= 3 (d = 1), N = 1 (d = 2)",
        "rectangle N <= 2, d <= 2; implicit rules N <= 2 (d = 1), N = 1 (d = 2)"),
    SymbolicCheck(
        "adjoint-is-transpose", "recursion rows = E_Y^T μ - Φ_Y^T and gradient = -E_θ^T μ "
        "(implicit function theorem, nonlinear implicit kernel)",
        adjoint.check_adjoint_is_transpose,
        _grid(rule=_ADJ, n_steps=range(1, 4), d=range(1, 3)),
        _grid(rule=_ADJ, n_steps=range(1, 3), d=range(1, 3)),
        "rectangle, implicit-rectangle, trapezoid; N <= 3, d <= 2", "N <= 2, d <= 2"),
    SymbolicCheck(
        "costate-reduction", "t-independent f: λ = f_y^T ∇φ + ∫_s^T f_y^T λ  <=>  -p' = f_y^T p "
        "+ L_y, p(T) = ∇φ, p = ∇φ + ∫_s^T λ; ∇_u J = L_u + f_u^T p",
        adjoint.check_costate_reduction,
        _grid(d=range(1, 4), controls=range(1, 3)), _grid(d=range(1, 3), controls=(1,)),
        "d = 1..3, controls = 1..2, generic functions", "d = 1..2, 1 control"),
    SymbolicCheck(
        "relu-product-formula", "x_n = P_{n,1} x_0 + Σ_k P_{n,k+1} V_k D_k b_k, "
        "P_{n,k} = (I + V_n D_n W_n)⋯(I + V_k D_k W_k)",
        relu.check_relu_product_formula,
        tuple(dict(n_steps=N, d=d, m=m) for N in range(1, 4)
              for d, m in ((1, 2), (2, 3), (3, 2), (2, 1))),
        tuple(dict(n_steps=N, d=d, m=m) for N in range(1, 3) for d, m in ((1, 2), (2, 3), (2, 1))),
        "N = 1..3, (d, m) = (1,2), (2,3), (3,2), (2,1), symbolic D_n",
        "N = 1..2, (d, m) = (1,2), (2,3), (2,1)"),
    SymbolicCheck(
        "relu-activation-pattern", "Max(0, z) = D z on the activation domain of each pattern",
        relu.check_relu_is_pattern, _grid(m=range(1, 5)), _grid(m=range(1, 3)),
        "m = 1..4, all 2^m patterns", "m = 1..2"),
)}


def run_checks(quick=False, names=None, timings=None):
    """Run the identities of :data:`CHECKS` (all, or those in ``names``).

    Parameters
    ----------
    quick : bool
        Use the smaller parameter sets.
    names : str or iterable of str, optional
        The identities to run (one name, or several; not an empty selection).
    timings : dict, optional
        If given, filled with identity -> seconds.

    Returns
    -------
    list of dict
        One row per identity: ``identity``, ``parameters``, ``cases``, ``holds`` (bool).
    """
    if isinstance(names, str):   # one name, not its characters
        names = [names]
    names = list(CHECKS) if names is None else list(names)
    if not names:   # an empty table would read as "every identity holds"
        raise ValueError("names selects no identity; give at least one (or None for all)")
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown identities {unknown}; known: {', '.join(CHECKS)}")
    rows = []
    for name in names:
        check = CHECKS[name]
        start = time.perf_counter()
        holds = check.run(quick)
        if timings is not None:
            timings[name] = time.perf_counter() - start
        rows.append({"identity": name, "parameters": check.parameters(quick),
                     "cases": len(check.cases(quick)), "holds": holds})
    return rows


def _table(rows, timings):
    header = ("identity", "parameters", "cases", "holds", "seconds")
    body = [(r["identity"], r["parameters"], str(r["cases"]), "yes" if r["holds"] else "NO",
             f"{timings.get(r['identity'], float('nan')):.1f}") for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(b) for b in body])


def check_symbolic_main(argv=None):
    """Entry point of ``integrallimits check-symbolic``: print the table, return the exit code.

    Options: ``--quick`` (smaller parameter sets), ``--only NAME`` (repeatable),
    ``--list`` (print the identities and exit). Returns 0 if every identity holds,
    1 if any fails, 2 for an unknown identity name.
    """
    parser = argparse.ArgumentParser(prog="integrallimits check-symbolic",
                                     description="Prove the package's closed forms with SymPy.")
    parser.add_argument("--quick", action="store_true", help="smaller parameter sets")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this identity")
    parser.add_argument("--list", action="store_true", help="list the identities and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, check in CHECKS.items():
            print(f"{name}: {check.statement}")
        return 0
    timings = {}
    try:
        rows = run_checks(quick=args.quick, names=args.only, timings=timings)
    except ValueError as exc:
        print(f"integrallimits: error: {exc}", file=sys.stderr)
        return 2
    print(_table(rows, timings))
    failed = [r["identity"] for r in rows if not r["holds"]]
    if failed:
        print(f"\nFAILED: {', '.join(failed)}")
        return 1
    print(f"\nall {len(rows)} identities hold exactly")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(check_symbolic_main())
