"""Symbolic (SymPy) statements and exact proofs of the closed forms the package relies on.

One module per family of identities:

* :mod:`.state_space` -- smooth k-th order networks Δ^k x_n = h^k f(x_n): the
  state-space form with J_k ⊗ I_d, the closed form with binomial mixing weights
  (for symbolic n and k), the limit kernel (t - s)^{k-1}/(k-1)!, parameter counts;
* :mod:`.skip_dense` -- additive dense networks with k skip connections: block
  companion form, closed form, characteristic polynomial, equivalence with the
  smooth network for difference coefficients;
* :mod:`.dense_rule` -- the DenseNet map is the explicit rectangle rule, the ResNet
  its t-independent case;
* :mod:`.exactness` -- degree of exactness of every Volterra rule (all rows), RK4
  order conditions (rooted trees), collocation conditions of the Gauss/Radau tableaux;
* :mod:`.adjoint` -- discrete adjoint = exact gradient of tiny networks; the Volterra
  adjoint of a t-independent kernel is the costate ODE;
* :mod:`.relu` -- the activation-matrix product formula of ReLU ResNets;
* :mod:`.checks` -- the registry of all identities, :func:`run_checks` and the
  ``integrallimits check-symbolic`` entry point :func:`check_symbolic_main`.

Every check returns True only for an exact zero (or exact rational equality), and
takes a parameter that injects a deliberately broken variant, so it can fail.
"""
from .checks import CHECKS, SymbolicCheck, check_symbolic_main, run_checks

__all__ = ["CHECKS", "SymbolicCheck", "check_symbolic_main", "run_checks"]
