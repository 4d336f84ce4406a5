r"""Is the implicit step of a ReLU network's forward map well defined (one root)?

With an implicit rule (w_nn != 0) layer n >= S is the root of the step equation

.. math:: x = c_n + h w_{nn} A_n\, \mathrm{relu}(B_n x + \beta_n),

(c_n: the input and the earlier layers' terms; K(t_n, t_n, x) = A_n relu(B_n x + beta_n) for
the ReLU families: A = I for the ResNet and residual-dense ones, B = I for the concatenation-dense
one, A = V_n / h for :class:`~integrallimits.networks.ReLUResNet`, A = I and
B = sum_r W^r_nn kron S_r for a :class:`~integrallimits.networks.NonlocalDense` of linear maps;
a :class:`~integrallimits.networks.SmoothNet`'s K(t_n, t_j) vanishes for j > n - k, so its step
equations, the starting rows' too, are explicit: one root), and the starting rows
1..S-1 of a Gregory rule are one such system.  The equation is piecewise linear and may have
several roots; the solver's Newton iteration returns the one it reaches from the explicit step,
so the network's forward map is then not defined by its rule.  :func:`plan` finds, once per
forward call, the steps whose map x -> c + h w_nn K is not a contraction
(|h w_nn| ||A|| ||B|| >= 1 and ||h w_nn B A|| >= 1: a contraction has one root, whatever c);
:func:`checked` counts the roots of those steps of a solve by the activation patterns (for a
fixed pattern the equation is linear; a root is kept where its pre-activations agree with the
pattern), up to :data:`MAX_UNITS` pre-activations, and turns a solve with a step of several
roots into a failure (status -1, ``message``, ``stats["failure"]`` "several-roots" and
``stats["roots"]``) that keeps the layers before it; steps whose roots it could not count stay
in a success whose message says so (``stats["roots_unchecked"]``: how many).  A step that
reads an attention map (a :class:`~integrallimits.networks.NonlocalDense` whose map is not
linear: not piecewise linear in x) is not searched and counted there too.  A Newton failure at
a step n >= S (or in the starting block) whose equation has exactly one root takes that root
and continues with the one roots of the later steps (``stats["roots_solved"]``; a later step
of several roots fails "several-roots" there); where that step, or a later one, has no root the
solve fails "no-root" there (``stats["roots"]`` 0: the forward map is not defined), and where
it has several, "several-roots".
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ..volterra import METHODS, solve_volterra
from ..volterra._mesh import uniform_mesh
from ..volterra._solution import Solution, SolverError

__all__ = ["plan", "checked", "solve_checked", "step_roots", "MAX_UNITS"]

#: The most pre-activations (activation units) of a step whose 2^units patterns are searched;
#: a larger non-contractive step is reported as not checked.
MAX_UNITS = 12
_FAMILIES = ("residual-dense", "resnet", "concat-dense", "relu-resnet", "nonlocal-dense")
#: the families whose pre-activations B_nj x + beta_nj differ for each pair (n, j)
_PAIRED = ("residual-dense", "nonlocal-dense")
_HEADER = 6


class _Pairs:
    """The pair fields (A_nj, b_nj) of a :class:`~integrallimits.networks.NonlocalDense` of linear
    maps as the residual-dense network's W[n, j] and b[n, j] (state index a M + p), made when
    indexed (``[n, j]`` with integers, index arrays or slices), not stored for every pair:
    A_nj = sum_r W^r_nj kron S_r, the bias repeated on the nodes unless it is spatial."""

    def __init__(self, net, bias, S=None):
        self.W, self.b, self.bias, self.d = net.W, net.b, bias, net.d
        self.S = [m.spatial_matrix() for m in net.maps] if S is None else S

    def _one(self, n, j):
        if self.bias:
            b = self.b[n, j]
            return b.ravel() if b.ndim == 2 else np.repeat(b, self.S[0].shape[0])
        return sum(np.kron(W[n, j], S) for W, S in zip(self.W, self.S))

    def __getitem__(self, key):
        n, j = key
        if isinstance(n, slice):
            n, j = np.ix_(np.arange(len(self.b))[n], np.arange(len(self.b))[j])
        n, j = np.broadcast_arrays(n, j)
        if n.ndim == 0:
            return self._one(int(n), int(j))
        out = [self._one(int(a), int(c)) for a, c in zip(n.ravel(), j.ravel())]
        return np.array(out).reshape(n.shape + out[0].shape) if out else \
            np.zeros(n.shape + ((self.d,) if self.bias else (self.d, self.d)))

    def frobenius_bound(self, n, j):
        """sum_r ||W^r_nj||_F ||S_r||_F >= ||A_nj||_F for the index arrays n, j (no A made)."""
        return sum(np.sqrt(np.einsum("...ij,...ij->...", W[n, j], W[n, j])) * np.linalg.norm(S)
                   for W, S in zip(self.W, self.S))


def _fields(net):
    """The grid values the kernel reads from theta (rows 0..N, the padded last one included)."""
    if net.family == "nonlocal-dense":
        W = _Pairs(net, False)
        return None, W, _Pairs(net, True, W.S)
    theta, d, P = net.theta, net.d, net.n_layers + 1
    o = _HEADER
    if net.family == "relu-resnet":
        m = net.m
        V = theta[o:o + P * d * m].reshape(P, d, m)
        o += P * d * m
        W = theta[o:o + P * m * d].reshape(P, m, d)
        o += P * m * d
        return V, W, theta[o:o + P * m].reshape(P, m)
    if net.family == "resnet":
        W = theta[o:o + P * d * d].reshape(P, d, d)
        return None, W, theta[o + P * d * d:o + P * d * d + P * d].reshape(P, d)
    W = theta[o:o + P * P * d * d].reshape(P, P, d, d)
    if net.family == "concat-dense":
        return W, None, None
    o += P * P * d * d
    return None, W, theta[o:o + P * P * d].reshape(P, P, d)


def _parts(net, fields, n, j):
    """(A, B, beta) of K(t_n, t_j, x) = A relu(B x + beta)."""
    F, W, b = fields
    eye = np.eye(net.d)
    if net.family == "relu-resnet":
        return F[j] / net.h, W[j], b[j]
    if net.family == "resnet":
        return eye, W[j], b[j]
    if net.family == "concat-dense":
        return F[n, j], eye, np.zeros(net.d)
    return eye, W[n, j], b[n, j]


def _diagonal_weights(rule, N):
    """h-free weights w_nn of the rows n = S..N (the loops' ``_diagonal``) and S."""
    start, left, right = METHODS[rule]._data
    S = start.shape[0]
    n = np.arange(S, N + 1)
    w = np.ones(n.shape)
    if right.shape[0]:
        w += right[0]
    inside = n < left.shape[0]
    w[inside] += left[n[inside]]
    return n, w, S


def _centred(cols, rows):
    """Has u = c + sum_u cols_u relu(rows_u . u + beta_u) one root for every c and beta?
    (Stacks: cols, rows (..., U, n).)  With relu(z) = (z + |z|) / 2 the equation is
    M0 u = c' + sum_u cols_u |z_u| / 2, M0 = I - sum_u cols_u rows_u^T / 2 (the pieces' centre),
    so z = R u + beta solves z = a + G |z| with G = R M0^-1 C / 2 (R: the rows, C: the columns),
    and u = M0^-1 (c' + C |z| / 2) is one-to-one with z.  Where the spectral radius of |G| is
    below 1, z -> a + G |z| is a contraction in a weighted max-norm (||z| - |w|| <= |z - w|):
    one root.  (A contraction of the step map itself, ||C|| ||R|| < 1, passes this test.)"""
    n = cols.shape[-1]
    M0 = np.eye(n) - 0.5 * np.einsum("...ui,...uj->...ij", cols, rows)
    ok = np.abs(np.linalg.det(M0)) > 1e-12
    out = np.zeros(cols.shape[:-2], dtype=bool)
    if ok.any():
        PC = np.linalg.solve(M0[ok], np.swapaxes(cols[ok], -1, -2))          # (..., n, U)
        G = np.abs(0.5 * np.einsum("...ui,...iv->...uv", rows[ok], PC))
        out[ok] = _radius_below_one(G)
    return out


def _radius_below_one(G, iterations=60):
    """Is the spectral radius of the non-negative matrices G (..., U, U) below 1?  By the
    Collatz-Wielandt bound rho(G) <= max_i (G x)_i / x_i for any positive x, with x from the
    power iteration (matrix-vector products: no eigenvalues of a U x U matrix, U up to
    (S-1)^2 d for a Gregory rule's starting rows); False where 1 is not reached below."""
    x = np.ones(G.shape[:-1])
    below = np.zeros(G.shape[:-2], dtype=bool)
    for _ in range(iterations):
        y = np.einsum("...uv,...v->...u", G, x)
        y += 1e-12 * np.max(y, axis=-1, keepdims=True) + 1e-300     # (kept positive)
        ratio = y / x
        below |= np.max(ratio, axis=-1) < 1.0
        if np.all(below | (np.min(ratio, axis=-1) >= 1.0)):   # (min ratio <= rho: settled)
            break
        x = y / np.max(y, axis=-1, keepdims=True)
    return below


def _spectral(M):
    return np.linalg.norm(M, ord=2, axis=(-2, -1)) if M.size else np.zeros(M.shape[:-2])


def plan(net):
    """The steps of ``net``'s forward map that :func:`checked` examines (None: none, every
    step is a contraction, or the network is not a ReLU network on an implicit rule).

    Returns None or a dict: ``steps`` (rows n >= S whose step map is not shown to be a
    contraction), ``block`` (whether the starting rows 1..S-1 are not), the rule's weights."""
    if net.activation != "relu" or net.family not in _FAMILIES or \
            not METHODS[net.rule].implicit:
        return None
    if net.family == "nonlocal-dense" and not all(m.linear for m in net.maps):
        return _attention_plan(net)
    N, h = net.n_layers, net.h
    fields = _fields(net)
    n, w, S = _diagonal_weights(net.rule, N)
    hw = np.abs(h * w)
    F, W, _ = fields
    open_ = np.ones(n.shape, dtype=bool)
    if net.family == "nonlocal-dense":      # a bound first, the matrices only where it fails
        open_ = hw * W.frobenius_bound(n, n) >= 1.0
    k = np.flatnonzero(open_)
    # M_n = B_n A_n (the step map's Jacobian on a pattern is h w_nn A D B; B A D on z = B x + b)
    # for the rows n[k]
    if net.family == "relu-resnet":
        M = np.matmul(W[n[k]], F[n[k]]) / h
    elif net.family == "resnet":
        M = W[n[k]]
    elif net.family == "concat-dense":
        M = F[n[k], n[k]]
    else:
        M = W[n[k], n[k]]
    lip = hw[k] * np.sqrt(np.einsum("nij,nij->n", M, M))          # Frobenius >= spectral
    open_[k] = lip >= 1.0
    if open_.any():
        M = M[open_[k]]
        k = np.flatnonzero(open_)
        lip2 = hw[k] * _spectral(M)
        if net.family == "relu-resnet":
            lip2 = np.minimum(lip2, hw[k] * _spectral(F[n[k]] / h) * _spectral(W[n[k]]))
        open_[k] = lip2 >= 1.0
    if open_.any():       # the centred test: the units' columns h w_nn A[:, k], rows B[k]
        k = np.flatnonzero(open_)
        if net.family == "relu-resnet":
            A, B = F[n[k]] / h, W[n[k]]
        elif net.family == "resnet":
            A, B = np.broadcast_to(np.eye(net.d), (k.size, net.d, net.d)), W[n[k]]
        elif net.family == "concat-dense":
            A, B = F[n[k], n[k]], np.broadcast_to(np.eye(net.d), (k.size, net.d, net.d))
        else:
            A, B = np.broadcast_to(np.eye(net.d), (k.size, net.d, net.d)), W[n[k], n[k]]
        cols = (h * w[k])[:, None, None] * np.swapaxes(A, 1, 2)
        open_[k] = ~_centred(cols, B)
    start = METHODS[net.rule]._data[0]
    block = False
    if S > 1:       # the starting rows: max_r sum_j |h w_rj| ||A_rj|| ||B_rj|| (rows' inf-norm)
        weights = np.abs(h * start[1:, 1:])
        block = True
        if net.family == "nonlocal-dense":      # the bound of the A_rj first (none made)
            j = np.arange(1, S)
            block = np.max(np.sum(weights * W.frobenius_bound(j[:, None], j), axis=1)) >= 1.0
        if block:
            block = _block_bound(net, fields, S, weights, lambda M: np.sqrt(
                np.einsum("...ij,...ij->...", M, M))) >= 1.0
        if block:
            block = _block_bound(net, fields, S, weights, _spectral) >= 1.0
        if block:
            cols, rows = _units(net, fields, list(range(1, S)))
            block = not bool(_centred(cols, rows))
    if not open_.any() and not block:
        return None
    return {"steps": n[open_], "block": block, "S": S, "fields": fields}


def _attention_plan(net):
    """:func:`plan` of a :class:`~integrallimits.networks.NonlocalDense` with an attention map.

    The attention map A(u) u is not piecewise linear in u (its softmax weights depend on u) and
    it is not Lipschitz with a constant independent of u, so a step whose equation reads it
    (a weight W^r_nn != 0 of an attention map; a starting-row pair (r, j) of the rows 1..S-1
    for a Gregory rule) can have several roots (a two-node example with symmetric states has
    the ReLU ResNet's two) that are neither searched nor excluded by a contraction bound: such
    steps are ``unsearchable`` (counted in ``roots_unchecked`` by :func:`checked`).  The other
    steps' equations read the linear maps only: planned as a network of those maps."""
    att = [W for m, W in zip(net.maps, net.W) if not m.linear]
    n, _, S = _diagonal_weights(net.rule, net.n_layers)
    reads = np.zeros(n.shape, dtype=bool)
    for W in att:
        reads |= np.any(W[n, n] != 0.0, axis=(-2, -1))
    block = False
    if S > 1:
        j = np.arange(1, S)
        used = METHODS[net.rule]._data[0][1:, 1:] != 0.0
        block = any(bool(np.any(np.any(W[j[:, None], j] != 0.0, axis=(-2, -1)) & used))
                    for W in att)
    linear = SimpleNamespace(   # (what plan and _Pairs read of the network: its linear maps)
        activation=net.activation, family=net.family, rule=net.rule, n_layers=net.n_layers,
        h=net.h, d=net.d, b=net.b, maps=[m for m in net.maps if m.linear],
        W=tuple(W for m, W in zip(net.maps, net.W) if m.linear))
    rest = plan(linear) if linear.maps else None
    if rest is None:
        rest = {"steps": n[:0], "block": False, "S": S, "fields": None}
    rest["steps"] = rest["steps"][~np.isin(rest["steps"], n[reads])]
    rest["block"] = bool(rest["block"]) and not block
    rest["unsearchable"] = {"steps": n[reads], "block": block}
    return rest


def _system(net, fields, rows, Y):
    """The step equations of ``rows`` (consecutive) as groups of pre-activations: a list of
    (column j, B, beta, {row: h w_rj A_rj}) for the unknown columns j in ``rows``, and the
    constants c_r = y_r - sum over those groups (from the solve's values Y)."""
    start = METHODS[net.rule]._data[0]
    _, diagonal, S = _diagonal_weights(net.rule, max(rows))
    h = net.h
    groups = {}
    for r in rows:
        for j in rows:
            if r < S:
                w = start[r, j]
            elif j != r:
                continue
            else:
                w = diagonal[r - S]
            if w == 0.0:
                continue
            A, B, beta = _parts(net, fields, r, j)
            # groups share a pre-activation when B, beta are the same (t-independent families)
            key = (j, r) if net.family in _PAIRED else (j,)
            g = groups.setdefault(key, (j, B, beta, {}))
            g[3][r] = h * w * A
    groups = list(groups.values())
    if Y is None:
        return groups, None
    c = {r: np.array(Y[r], dtype=float) for r in rows}
    for j, B, beta, coef in groups:
        act = np.maximum(B @ Y[j] + beta, 0.0)
        for r, C in coef.items():
            c[r] = c[r] - C @ act
    return groups, c


def _block_bound(net, fields, S, weights, norm):
    """max over the starting rows r of sum_j weights[r, j] ||A_rj|| ||B_rj|| (j = 1..S-1) in
    the matrix norm ``norm`` (of a stack); the identity's norm is 1."""
    F, W, _ = fields
    if net.family == "relu-resnet":
        lip = (norm(F[1:S]) / net.h * norm(W[1:S]))[None, :]
    elif net.family == "resnet":
        lip = norm(W[1:S])[None, :]
    else:
        lip = norm((F if net.family == "concat-dense" else W)[1:S, 1:S])
    return float(np.max(np.sum(weights * lip, axis=1)))


def _units(net, fields, rows):
    """The columns and rows (U, R d) of the units' rank-one terms of ``rows``' equations."""
    groups, _ = _system(net, fields, rows, None)
    d, index = net.d, {r: i for i, r in enumerate(rows)}
    units = [(g, k) for g in groups for k in range(g[1].shape[0])]
    cols, rws = np.zeros((len(units), len(rows) * d)), np.zeros((len(units), len(rows) * d))
    for q, ((j, B, beta, coef), k) in enumerate(units):
        rws[q, index[j] * d:(index[j] + 1) * d] = B[k]
        for r, C in coef.items():
            cols[q, index[r] * d:(index[r] + 1) * d] = C[:, k]
    return cols, rws


def step_roots(net, rows, Y, fields=None, chunk=1024, c=None):
    """The roots of the step equations of ``rows`` (a list of consecutive layer indices: one
    row n >= S, or the starting rows 1..S-1) with the constants read from the solve's values
    ``Y`` (or given: ``c``, a dict row -> c_r, with ``Y`` None): an array (roots, len(rows), d),
    or None when the pre-activations are more than :data:`MAX_UNITS` (2^units linear systems)
    or a pattern's system is singular and consistent (a continuum of roots cannot be
    excluded)."""
    groups, c0 = _system(net, _fields(net) if fields is None else fields, rows,
                         Y if c is None else None)
    c = c0 if c is None else c
    d, R = net.d, len(rows)
    index = {r: i for i, r in enumerate(rows)}
    units = [(gi, k) for gi, g in enumerate(groups) for k in range(g[1].shape[0])]
    U = len(units)
    if U > MAX_UNITS:
        return None
    # the pattern-free parts: for a pattern D (U,), (I - sum C D B) u = c + sum C D beta
    n_u = R * d
    L = np.zeros((U, n_u, n_u))      # the contribution of unit u when on, to the matrix
    v = np.zeros((U, n_u))           # ... and to the right-hand side
    Zb = np.zeros((U, n_u))          # the unit's pre-activation: Zb . u + zc
    zc = np.zeros(U)
    for q, (gi, k) in enumerate(units):
        j, B, beta, coef = groups[gi]
        cj = index[j]
        Zb[q, cj * d:(cj + 1) * d] = B[k]
        zc[q] = beta[k]
        for r, C in coef.items():
            ri = index[r]
            L[q, ri * d:(ri + 1) * d, cj * d:(cj + 1) * d] = np.outer(C[:, k], B[k])
            v[q, ri * d:(ri + 1) * d] = C[:, k] * beta[k]
    rhs0 = np.concatenate([c[r] for r in rows])
    eye = np.eye(n_u)
    found = []
    total = 1 << U
    scale = 1.0 + (np.max(np.abs(Y[rows[0]:rows[-1] + 1])) if Y is not None else
                   max(float(np.max(np.abs(c[r]))) for r in rows))
    for lo in range(0, total, chunk):
        codes = np.arange(lo, min(total, lo + chunk))
        D = ((codes[:, None] >> np.arange(U)[None, :]) & 1).astype(float)      # (P, U)
        M = eye[None] - np.einsum("pu,uij->pij", D, L)
        rhs = rhs0[None] + D @ v
        ok = np.abs(np.linalg.det(M)) > 1e-12
        u = np.full(rhs.shape, np.nan)
        if ok.any():
            u[ok] = np.linalg.solve(M[ok], rhs[ok][..., None])[..., 0]
        if not ok.all():
            for p in np.flatnonzero(~ok):    # singular: a consistent one may hold a continuum
                sol, *_ = np.linalg.lstsq(M[p], rhs[p], rcond=None)
                if np.max(np.abs(M[p] @ sol - rhs[p])) <= 1e-9 * scale:
                    return None
        z = u @ Zb.T + zc[None]
        tol = 1e-9 * (1.0 + np.abs(z))
        agree = ok & np.all(np.where(D > 0, z >= -tol, z <= tol), axis=1)
        for p in np.flatnonzero(agree):
            if not any(np.max(np.abs(u[p] - f)) <= 1e-8 * scale for f in found):
                found.append(u[p])
    return np.array(found).reshape(len(found), R, d)


def checked(net, sol, steps, t_eval=None):
    """``sol`` (a solve of ``net``'s forward map), or, if a step of ``steps`` (a :func:`plan`)
    that it solved has several roots or roots that could not be counted, a failed Solution
    that keeps the layers before that step and says which step, and why."""
    if steps is not None and sol.status != 0:
        sol = _continued(net, sol, steps, t_eval)
    if steps is None or sol.status != 0:
        return sol
    Y = sol._y2
    S = steps["S"]
    todo = ([list(range(1, S))] if steps["block"] else []) + \
        [[int(n)] for n in steps["steps"] if n < Y.shape[0]]
    # (steps that read an attention map: not searched, see _attention_plan)
    att = steps.get("unsearchable", {"steps": (), "block": False})
    skip = ([list(range(1, S))] if att["block"] else []) + \
        [[int(n)] for n in att["steps"] if n < Y.shape[0]]
    todo = sorted(todo + skip)
    skip = {tuple(rows) for rows in skip}
    unchecked = []
    for rows in todo:
        roots = None if tuple(rows) in skip else step_roots(net, rows, Y, steps["fields"])
        if roots is not None and roots.shape[0] == 1:
            continue
        first, t = rows[0], float(sol.mesh[rows[0]])
        what = (f"layer {first}" if len(rows) == 1 else
                f"the starting layers {rows[0]}..{rows[-1]} (solved together)")
        eq = ("its step equation x = c + h w_nn K(t_n, t_n, x)" if len(rows) == 1 else
              "their system of step equations")
        if roots is None or roots.shape[0] == 0:
            unchecked.append((t, what, eq, "attention" if tuple(rows) in skip else roots is None))
            continue
        return _several(sol, first, t, what, eq, roots.shape[0], "the solver returned the one "
                        "Newton's method reached from the explicit step", t_eval)
    if unchecked:
        # (not a failure: the value is a root of the rule's equations, as every implicit step of
        # a smooth activation is, whose roots are not counted either; it says so)
        t, what, eq, wide = unchecked[0]
        why = (f"not a contraction there, and its activation patterns were not searched (more "
               f"than {MAX_UNITS} pre-activations, or a singular pattern)" if wide else
               "the search of its activation patterns did not find the solver's root (on a "
               "pattern boundary)")
        why = (f"{eq} reads an attention map, which is not piecewise linear (its softmax "
               f"weights depend on the state): its roots are not searched, and no contraction "
               f"bound holds for every state" if wide == "attention" else
               f"{eq} is piecewise linear for a ReLU network, {why}")
        sol.stats["roots_unchecked"] = len(unchecked)
        sol.message += (f"  {len(unchecked)} implicit step(s), the first at t = {t:.6g} "
                        f"({what}), could not be shown to have one root ({why}): their values "
                        f"are the roots Newton's method reached from the explicit steps.")
    return sol


def _several(sol, first, t, what, eq, count, which, t_eval):
    """The failure of a solve whose step at row ``first`` has ``count`` roots."""
    message = (f"The implicit step at t = {t:.6g} ({what}) has {count} roots: {eq} is piecewise "
               f"linear for a ReLU network, and the network's rule does not say which root its "
               f"value is ({which}); the forward map is not defined by the rule there, and the "
               f"layers from t = {t:.6g} on are not kept.")
    stats = dict(sol.stats, failure="several-roots", roots=int(count))
    return Solution(sol.mesh[:first], sol._y2[:first], scalar=sol.scalar, status=-1,
                    message=message, stats=stats, method=sol.method, order=sol.order,
                    t_failure=t, error_estimate=sol._est2[:first], t_eval=t_eval)


def _continued(net, sol, steps, t_eval):
    """``sol``, a solve whose Newton iteration failed at a row n >= S or in a Gregory rule's
    starting block (rows 1..S-1, one system), continued where that step's equations have
    exactly one root: the root the search of their activation patterns finds
    (:func:`step_roots`, its residual checked) is taken as the layer(s), and the layers after
    are the one roots of their equations found the same way (constants from the rule's
    weights).  A success (``stats["roots_solved"]``: the layers so found) when every step from
    the failed one on has one root; a failure "no-root" at the first of those steps whose
    equations have no root (the forward map is not defined there), "several-roots" at the first
    with several.  Where the failed step's patterns could not be searched (more than
    :data:`MAX_UNITS` pre-activations, or a singular pattern) the Newton failure's message says
    so; ``sol`` itself when a later step could not be searched or a root's residual is not
    small (or for a network with an attention map, whose steps are not piecewise linear)."""
    n, N = sol._y2.shape[0], net.n_layers
    start, left, right = METHODS[net.rule]._data
    S = start.shape[0]
    if sol.stats.get("failure") != "newton" or "unsearchable" in steps or not 1 <= n <= N or \
            (n < S and n != 1):
        return sol
    fields, h, d = steps["fields"], net.h, net.d
    if fields is None:
        fields = _fields(net)
    Y = np.empty((N + 1, d))
    Y[:n] = sol._y2
    mesh = uniform_mesh(0.0, net.T, N)
    if not np.array_equal(sol.mesh, mesh[:n]):
        return sol
    first = list(range(1, S)) if n < S else [n]
    r = first[0]
    while r <= N:
        rows = first if r == first[0] else [r]
        c = {}
        for q in rows:
            c[q] = Y[0].copy()      # (the identity forcing: g(t) = x_0)
            for j in range(rows[0]):
                if q < S:       # the starting rows: x_0's term is the only known one
                    w = start[q, j]
                else:
                    w = 1.0 + (left[j] if j < left.shape[0] else 0.0) + \
                        (right[q - j] if q - j < right.shape[0] else 0.0)
                if w != 0.0:
                    A, B, beta = _parts(net, fields, q, j)
                    c[q] += h * w * (A @ np.maximum(B @ Y[j] + beta, 0.0))
        roots = step_roots(net, rows, None, fields, c=c)
        what = (f"layer {r}" if len(rows) == 1 else
                f"the starting layers {rows[0]}..{rows[-1]} (solved together)")
        eq = ("its step equation x = c + h w_nn K(t_n, t_n, x)" if len(rows) == 1 else
              "their system of step equations")
        t = float(mesh[r])
        if roots is not None and roots.shape[0] == 1:     # (its residual, with the kernel's parts)
            x = roots[0]
            groups, _ = _system(net, fields, rows, None)
            step = {q: np.zeros(d) for q in rows}
            for j, B, beta, coef in groups:
                act = np.maximum(B @ x[j - rows[0]] + beta, 0.0)
                for q, C in coef.items():
                    step[q] += C @ act
            if all(np.max(np.abs(x[i] - c[q] - step[q])) <= 1e-13 * (1.0 + np.max(np.abs(x[i])))
                   for i, q in enumerate(rows)):
                Y[rows[0]:rows[-1] + 1] = x
                r = rows[-1] + 1
                continue
            return sol
        if roots is None:
            if r != first[0]:
                return sol
            which = (f"The step equation of layer {r}" if len(rows) == 1 else
                     f"The system of step equations of {what}")
            sol.message += (f"  {which} is piecewise linear for a ReLU network, but its "
                            f"activation patterns were not searched (more than {MAX_UNITS} "
                            f"pre-activations, or a singular pattern): whether it has a root, "
                            f"one or several, is not known.")
            return sol
        newton = (f"Newton's method failed at t = {float(mesh[n]):.6g} ("
                  + (f"layer {n}), whose step has one root" if n >= S else
                     f"the starting layers {n}..{S - 1}), whose system has one root"))
        if r == first[0]:
            done, which = sol, "Newton's method did not converge there"
        else:
            done = Solution(mesh[:r], Y[:r], scalar=sol.scalar, status=0, message="",
                            stats=dict(sol.stats), method=sol.method, order=sol.order)
            which = (f"{newton}, and the layers {first[-1] + 1}..{r - 1} are the one roots of "
                     f"their steps, found by the search of their activation patterns"
                     if r > first[-1] + 1 else f"{newton}, found by the search of its "
                     f"activation patterns")
        if roots.shape[0] == 0:
            return _no_root(done, r, t, what, eq, None if r == first[0] else which, t_eval)
        return _several(done, r, t, what, eq, roots.shape[0], which, t_eval)
    est = np.full((N + 1, d), np.nan)
    est[:n] = sol._est2
    stats = {k: v for k, v in sol.stats.items() if k != "failure"}
    stats["roots_solved"] = N + 1 - n
    if "max_error_estimate" in stats:
        stats["max_error_estimate"] = float("nan")
    last = first[-1]
    step = (f"(layer {n}), whose step equation has one root" if n >= S else
            f"(the starting layers {n}..{last}, solved together), whose system of step "
            f"equations has one root")
    message = (f"Newton's method did not converge at t = {float(mesh[n]):.6g} {step} (it is "
               f"piecewise linear for a ReLU network: the search of its activation patterns "
               f"found one): that root is the layer" + ("s" if n < last else "")
               + (f", and the layers {last + 1}..{N} are the one roots of their step equations, "
                  f"found the same way" if last < N else "") + " (no error estimate there).")
    return Solution(mesh, Y, scalar=sol.scalar, status=0, message=message, stats=stats,
                    method=sol.method, order=sol.order, error_estimate=est, t_eval=t_eval)


def _no_root(sol, first, t, what, eq, which, t_eval):
    """The failure ("no-root") of a solve whose step at row ``first`` has no root: where Newton's
    method failed (``which`` None), or a later step (``which``: how the layers before it were
    found)."""
    body = (f"piecewise linear for a ReLU network, and the search of its activation patterns "
            f"found none: no value satisfies the rule's equation there, so the network's forward "
            f"map is not defined there (not a blow-up: the step has no solution), and the layers "
            f"from t = {t:.6g} on are not kept.")
    message = (f"Newton's method did not converge at t = {t:.6g} ({what}), and {eq} has no "
               f"root: it is {body}" if which is None else
               f"The implicit step at t = {t:.6g} ({what}) has no root ({which}): {eq} is "
               f"{body}")
    stats = dict(sol.stats, failure="no-root", roots=0)
    return Solution(sol.mesh[:first], sol._y2[:first], scalar=sol.scalar, status=-1,
                    message=message, stats=stats, method=sol.method, order=sol.order,
                    t_failure=t, error_estimate=sol._est2[:first], t_eval=t_eval)


def solve_checked(net, steps, kernel, forcing, raise_on_failure=True, **options):
    """``solve_volterra`` of ``net``'s forward map for one sample (``kernel``, ``forcing``),
    :func:`checked` with ``steps`` (a :func:`plan`; None: ``solve_volterra`` itself, bitwise).

    Raises
    ------
    SolverError
        If ``raise_on_failure`` and the solve failed or a step has several roots (the message
        names the layer)."""
    if steps is None:
        return solve_volterra(kernel, forcing, (0.0, net.T), net.n_layers, method=net.rule,
                              raise_on_failure=raise_on_failure, **options)
    sol = checked(net, solve_volterra(kernel, forcing, (0.0, net.T), net.n_layers,
                                      method=net.rule, raise_on_failure=False, **options),
                  steps, options.get("t_eval"))
    if raise_on_failure and not sol.success:
        raise SolverError(sol.message)
    return sol
