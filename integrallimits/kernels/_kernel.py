"""The integrand K(t, s, y; theta) and the forcing g(t) in the form the compiled solvers call.

Every kernel reaches the solvers as a :class:`Kernel` holding Numba functions
with fixed signatures:

    function(t, s, Y, j, theta, out)              # out[:] = K(t, s, Y[j, :]; theta)
    block_sum(t, svals, Y, a, b, w, theta, out)   # out[:] = sum_r w[r] K(t, svals[r], Y[r])
    jacobian_function(t, s, Y, j, theta, J)       # J[:, :] = dK/dy   (optional)

theta is a flat parameter array (empty for kernels without parameters; the
networks keep their weights there).  Because the signatures are fixed, the
solver loops are compiled once (and cached on disk) for all kernels; a user's
function costs only the compilation of its own small body, and the history
sums run inside ``block_sum`` with the kernel inlined.  A kernel is compiled
once per Python function: calling a solver again with the same function reuses it.
"""
from __future__ import annotations

import copy
import inspect
import math
import re
import threading
import weakref
import warnings
from dataclasses import dataclass, field, fields
from functools import cached_property
from types import FunctionType

import numba
import numpy as np
from numba.core import types
from numba.core.errors import NumbaError
from numba.extending import typeof_impl

from .._inputs import refuse_masked
from .._numba import deferred_interrupt, jit
from . import _user

__all__ = ["Kernel", "KERNEL_SIGNATURE", "JACOBIAN_SIGNATURE", "BLOCK_SIGNATURE", "as_kernel",
           "as_forcing", "make_block_sum", "KernelCompilationError"]

_f8, _i8 = types.float64, types.int64
_A1, _A2 = types.float64[::1], types.float64[:, ::1]

#: ``function(t, s, Y, j, theta, out)``: out[:] = K(t, s, Y[j]; theta)
KERNEL_SIGNATURE = types.void(_f8, _f8, _A2, _i8, _A1, _A1)
#: ``jacobian_function(t, s, Y, j, theta, J)``: J[:, :] = dK/dy (t, s, Y[j]; theta)
JACOBIAN_SIGNATURE = types.void(_f8, _f8, _A2, _i8, _A1, _A2)
#: ``block_sum(t, svals, Y, a, b, w, theta, out)``: out[:] = sum_{a <= r < b} w[r] K(t, svals[r], Y[r])
BLOCK_SIGNATURE = types.void(_f8, _A1, _A2, _i8, _i8, _A1, _A1, _A1)
#: ``vjp(t, s, Y, j, theta, mu, w, gy, gtheta)``: gy += w (dK/dy)^T mu, gtheta += w (dK/dtheta)^T mu
VJP_SIGNATURE = types.void(_f8, _f8, _A2, _i8, _A1, _A1, _f8, _A1, _A1)

ParamKernelFunction = types.FunctionType(KERNEL_SIGNATURE)
ParamJacobianFunction = types.FunctionType(JACOBIAN_SIGNATURE)
BlockSumFunction = types.FunctionType(BLOCK_SIGNATURE)
VjpFunction = types.FunctionType(VJP_SIGNATURE)
_FUNCTION_TYPES = {KERNEL_SIGNATURE: ParamKernelFunction, JACOBIAN_SIGNATURE: ParamJacobianFunction,
                   BLOCK_SIGNATURE: BlockSumFunction, VJP_SIGNATURE: VjpFunction}

_FAST = dict(error_model="numpy", nogil=True)


class FunctionAddress(types.WrapperAddressProtocol):
    """A compiled function passed to the loops by its (cached) address.

    Numba resolves a dispatcher argument's address on every call, and types a
    wrapper-address object by building its function type again (tens of
    microseconds per argument); this object does both once.  It keeps the
    dispatcher alive, so the address stays valid.
    """

    _known = {}  # (id(dispatcher), signature) -> (dispatcher, address); dispatchers live long

    def __init__(self, dispatcher, signature):
        key = (id(dispatcher), str(signature))
        known = self._known.get(key)
        if known is None or known[0] is not dispatcher:
            from numba.experimental.function_type import _get_wrapper_address
            known = (dispatcher, _get_wrapper_address(dispatcher, signature))
            self._known[key] = known
        self.dispatcher = dispatcher
        self._signature = signature
        self._address = known[1]
        numba_type = _FUNCTION_TYPES.get(signature)
        if numba_type is None:   # building one takes ~60 us: once per signature
            numba_type = _FUNCTION_TYPES[signature] = types.FunctionType(signature)
        self.numba_type = numba_type

    @classmethod
    def absent(cls, signature):
        """A stand-in for a function of ``signature`` that the loops never call (a missing
        Jacobian: they check ``have_jac`` first), with no compiled code behind it.

        Its address is -1, Numba's own mark for "no implementation" (accepted where a first-class
        function argument is unboxed); compiling a placeholder function instead cost every
        process ~0.25 s with an empty cache and a cache load with a warm one."""
        self = cls.__new__(cls)
        self.dispatcher = None
        self._signature = signature
        self._address = -1
        numba_type = _FUNCTION_TYPES.get(signature)
        if numba_type is None:
            numba_type = _FUNCTION_TYPES[signature] = types.FunctionType(signature)
        self.numba_type = numba_type
        return self

    def __wrapper_address__(self):
        return self._address

    @property
    def address(self):
        """The address as an int, for loops that take it so (:func:`function_at`): an int
        argument costs ~0.3 us a call, a function argument ~7.5 us (Numba resolves its
        address again, with two Python calls)."""
        return self._address

    def signature(self):
        return self._signature


class AddressedFunction(types.Callable):
    """The Numba type of a compiled function known by its address (:func:`function_at`): a call
    is one indirect call of its C wrapper.

    A first-class function value (``types.FunctionType``) is called through code for all its
    origins: the C wrapper's address, else the Python object's (the GIL taken, its
    ``__wrapper_address__`` asked, an exception raised if null), or Numba's own entry point
    (its status checked).  Each call site of a loop compiled all of it; an address the loops
    take from a :class:`FunctionAddress` (kept alive by it) needs only the first, the same
    call."""

    def __init__(self, function_type):
        self.function_type = function_type
        self.signature = function_type.signature
        self.ftype = function_type.ftype
        super().__init__(name=f"AddressedFunction({self.signature})")

    def get_call_type(self, context, args, kws):
        if kws or len(args) != len(self.signature.args):
            return None
        return self.signature.replace(recvr=self)   # the address is passed to the lowering

    def get_call_signatures(self):
        return [self.signature], False

    def get_impl_key(self, sig):
        return AddressedFunction

    def can_convert_to(self, typingctx, other):
        """Passed where its first-class function type is expected (a compiled function with
        that signature): converted, see :func:`_as_first_class`."""
        if other == self.function_type:
            return numba.core.typeconv.Conversion.safe
        return None


numba.extending.register_model(AddressedFunction)(numba.core.datamodel.models.OpaqueModel)


@numba.extending.lower_cast(AddressedFunction, types.FunctionType)
def _as_first_class(context, builder, fromty, toty, val):
    """The first-class function value of an :class:`AddressedFunction`: the C wrapper's address
    as its first member ("c_addr"; "addr" before Numba 0.60), the others (the Python object,
    the jit entry) null."""
    from numba.core import cgutils
    fields = context.data_model_manager[toty]._fields
    fn = cgutils.create_struct_proxy(toty)(context, builder)
    for name in fields:
        setattr(fn, name, cgutils.get_null_value(cgutils.voidptr_t))
    setattr(fn, fields[0], val)
    return fn._getvalue()


@numba.extending.lower_builtin(AddressedFunction, types.VarArg(types.Any))
def _call_addressed(context, builder, sig, args):
    """A call of an :class:`AddressedFunction`: its C wrapper's pointer type, called with the
    arguments as a first-class function's C wrapper is."""
    fnptr = builder.bitcast(args[0], context.get_value_type(sig.args[0].ftype))
    return builder.call(fnptr, args[1:])


def function_at(function_type):
    """A compiled-code intrinsic turning the int64 address of a compiled function of
    ``function_type`` (a :class:`FunctionAddress`'s ``address``, kept alive by it) back into
    that function, an :class:`AddressedFunction` called as a first-class function's C wrapper
    is (and nothing else)."""
    from numba.core import cgutils
    from numba.extending import intrinsic

    addressed = AddressedFunction(function_type)

    @intrinsic
    def at(typingctx, address):
        if not isinstance(address, types.Integer):
            return None

        def codegen(context, builder, signature, args):
            return builder.inttoptr(args[0], cgutils.voidptr_t)
        return addressed(address), codegen
    return at


@typeof_impl.register(FunctionAddress)
def _typeof_function_address(val, c):
    """The argument type of a :class:`FunctionAddress`: built once, not on every call."""
    return val.numba_type


#: The double nearest sqrt(1/2) (above it: no double lies between the two).
SQRT_HALF = 0.7071067811865476


@jit
def size_floor(m):
    """2^round(log2 m) where that is below 1 and m > 0 (finite), else 1: the floor of the
    finite-difference steps and Newton's stopping test for a solution of size m
    (:func:`integrallimits.volterra._loops.fd_floor`).  (From the binary exponent,
    m = f 2^e with 1/2 <= f < 1: round(log2 m) = e where f >= sqrt(1/2), else e - 1;
    Numba 0.59 has no math.log2.)"""
    if not (m > 0.0 and m < 1.0):
        return 1.0
    f, e = math.frexp(m)
    k = e if f >= SQRT_HALF else e - 1
    return 1.0 if k >= 0 else 2.0 ** k


@jit
def fd_floor(y0):
    """The size of the solution for Newton's method, from its start ``y0`` = y(t0) = g(t0) (a
    row, (d,)): the power of 2 nearest the largest |y0_k| where that is below 1, else 1 (the
    usual absolute floor; also where y0 = 0, which gives no size).  A power of 2, so that a
    problem scaled by 2^k is solved as the problem itself, and a size within rounding of 1
    (g(0) = 1 - 1 ulp) keeps the floor 1.  The forward-difference steps are
    sqrt(eps) max(|y_b|, floor) and Newton stops at updates below newton_tol max(floor, |y|).

    With the floor 1, a problem of size 1e-30 had a step 1e22 times y (for a kernel nonlinear
    at that scale, y^2 / 1e-30, the Jacobian came out as 1.5e22 instead of 2) and every
    update passed the test: Newton's updates were nothing, and solves to a tolerance were
    successes with errors of 50%.  (Not the size of the value at hand: a value passing near 0
    would get a step below the rounding of K.)"""
    m = 0.0
    for k in range(y0.shape[0]):
        a = abs(y0[k])
        m = a if a > m else m
    return size_floor(m)


class KernelCompilationError(TypeError):
    """A user function could not be compiled with Numba."""


@numba.njit(inline="always", **_FAST)
def block_loop(kernel, t, svals, Y, a, b, w, theta, out):
    """out = sum_{a <= r < b} w[r] K(t, svals[r], Y[r]): the body of every block sum, with the
    kernel's calls inlined (module-level block sums call it to be cached on disk)."""
    d = out.shape[0]
    tmp = np.empty(d)
    for k in range(d):
        out[k] = 0.0
    for r in range(a, b):
        kernel(t, svals[r], Y, r, theta, tmp)
        wr = w[r]
        for k in range(d):
            out[k] += wr * tmp[k]


def make_block_sum(function):
    """The block sum of a compiled kernel ``function`` (its calls inlined in one loop), compiled
    when first used (the fast-history and t-independent loops never call it)."""
    @_user.wrapper(BLOCK_SIGNATURE, lazy=True)
    def block_sum(t, svals, Y, a, b, w, theta, out):
        block_loop(function, t, svals, Y, a, b, w, theta, out)
    return block_sum


def make_vjp(function, jacobian_function=None):
    """A vector-Jacobian product for a kernel without parameters: gy += w (dK/dy)^T mu
    (exact Jacobian if given, else forward differences); gtheta is left alone."""
    if jacobian_function is not None:
        @_user.wrapper(VJP_SIGNATURE)
        def vjp(t, s, Y, j, theta, mu, w, gy, gtheta):
            d = mu.shape[0]
            J = np.empty((d, d))
            jacobian_function(t, s, Y, j, theta, J)
            for b in range(d):
                acc = 0.0
                for a in range(d):
                    acc += J[a, b] * mu[a]
                gy[b] += w * acc
    else:
        @_user.wrapper(VJP_SIGNATURE)
        def vjp(t, s, Y, j, theta, mu, w, gy, gtheta):
            d = mu.shape[0]
            f0 = np.empty(d)
            f1 = np.empty(d)
            function(t, s, Y, j, theta, f0)
            floor = fd_floor(Y[0])     # (the size of y(t0) = Y[0], as the solvers' Jacobians)
            for b in range(d):
                yb = Y[j, b]
                step = 1.4901161193847656e-08 * max(floor, abs(yb))
                Y[j, b] = yb + step
                step = Y[j, b] - yb
                function(t, s, Y, j, theta, f1)
                Y[j, b] = yb
                acc = 0.0
                for a in range(d):
                    acc += (f1[a] - f0[a]) * mu[a]
                gy[b] += w * acc / step
    return vjp


_EMPTY = np.zeros(0)


def require_jit():
    """Refuse to run with ``NUMBA_DISABLE_JIT=1``, in one sentence."""
    if numba.config.DISABLE_JIT:
        raise RuntimeError("integrallimits needs Numba's compiler, but NUMBA_DISABLE_JIT=1 is set: "
                           "its solver loops call compiled kernels by address, which cannot run "
                           "as Python; unset NUMBA_DISABLE_JIT to solve")


@dataclass(frozen=True, eq=False)
class Kernel:
    """A compiled integrand K(t, s, y; theta) of a Volterra equation.

    Parameters
    ----------
    function : numba function with ``KERNEL_SIGNATURE``
        ``function(t, s, Y, j, theta, out)`` writes K(t, s, Y[j]; theta) into ``out``.
    dim : int
        Dimension d of y (1 for scalar problems).
    scalar : bool
        True if the user-facing y is a scalar.
    jacobian_function : numba function with ``JACOBIAN_SIGNATURE`` or None
        Writes dK/dy (d x d) into its last argument.  Without it, Newton iterations
        use finite differences.
    block_sum : numba function with ``BLOCK_SIGNATURE``, optional
        sum_{a <= r < b} w[r] K(t, svals[r], Y[r]): the history sums, with the
        kernel inlined (built from ``function`` when not given).
    jacobian_source : str
        "user", "sympy", "analytic" or "finite-difference".
    probe : callable
        The user's function, for checks in Python.
    structure : dict
        What the solvers may exploit, e.g. ``{"kind": "convolution", ...}``.
    params : ndarray
        theta, passed to every call (empty for kernels without parameters; the packed
        ``args`` for user kernels called with ``args=``; the weights for networks).
    arg_spec : ArgSpec or None
        The kinds of the run-time arguments ``args`` the compiled code unpacks from
        ``params`` (None: the kernel takes no ``args``; its ``params`` are its own).
    """

    function: object
    dim: int
    scalar: bool
    jacobian_function: object = None
    block_sum: object = None
    jacobian_source: str = "finite-difference"
    probe: object = None
    structure: dict = field(default_factory=lambda: {"kind": "general"})
    name: str = "K"
    params: np.ndarray = field(default_factory=lambda: _EMPTY)
    vjp_function: object = None
    arg_spec: object = None
    args: tuple = ()
    _shared: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        require_jit()
        if self.block_sum is None:
            object.__setattr__(self, "block_sum", make_block_sum(self.function))
        object.__setattr__(self, "params", np.ascontiguousarray(self.params, dtype=float))

    def current(self):
        """This kernel, or, if it was compiled from user functions and a value they read
        (a global, a closure cell, a default) has changed since, the kernel compiled with the
        current values (the same parameters): a kernel object kept across a change of a
        global never runs with the old value."""
        source = self._shared.get("source")
        if source is None or source.key_now() == source.key:
            return self
        return source.rebuild(self.params, self.args)

    def with_params(self, theta, args=()):
        """This kernel with ``params = theta`` (e.g. the packed run-time arguments ``args``)."""
        if not self.params.size and not (theta.size if type(theta) is np.ndarray else np.size(theta)):
            return self
        # dataclasses.replace(self, params=theta, args=args) without its ~6 us (__post_init__'s
        # work is done), sharing ``_shared`` (one vjp) and the addresses found for this kernel's
        # compiled functions, which are the new one's too (finding them again cost ~20 us: a
        # solve with args= at small sizes paid that)
        kernel = object.__new__(type(self))
        kernel.__dict__.update({name: value for name, value in self.__dict__.items()
                                if name in _HANDED_ON})
        kernel.__dict__["params"] = np.ascontiguousarray(theta, dtype=float)
        kernel.__dict__["args"] = tuple(args or ())
        return kernel

    def with_args(self, args):
        """This kernel with the run-time arguments ``args`` (see :func:`as_kernel`)."""
        spec, theta = _user.pack_args(args)
        if self.arg_spec is None:
            if len(spec):
                raise TypeError(f"args were given, but the kernel {self.name!r} takes no run-time "
                                f"arguments (only plain callables and SymPy kernels with params do)")
            return self
        if spec != self.arg_spec and set(self.arg_spec.kinds) == {"f"} and \
                len(spec) == len(self.arg_spec) and set(spec.kinds) <= {"f", "i", "b"}:
            args = tuple(float(a) for a in args)       # parameters of a SymPy kernel: floats
            spec, theta = _user.pack_args(args)
        if spec != self.arg_spec:
            hint = "" if len(spec) else (f": pass args= to the solver too (the kernel was made "
                                         f"with args={self.args!r}; each solve takes its own)")
            raise TypeError(f"the kernel {self.name!r} was compiled for args of kinds "
                            f"{self.arg_spec.kinds}, got {spec.kinds}{hint}")
        return self.with_params(theta, args)

    @cached_property
    def addresses(self):
        """(function, jacobian_function or None, block_sum) as :class:`FunctionAddress` objects."""
        function, block_sum = self.explicit_addresses
        return function, self.jacobian_address, block_sum

    @cached_property
    def jacobian_address(self):
        """``jacobian_function`` as a :class:`FunctionAddress`, or None without one."""
        return (None if self.jacobian_function is None
                else FunctionAddress(self.jacobian_function, JACOBIAN_SIGNATURE))

    @cached_property
    def explicit_addresses(self):
        """(function, block_sum) as :class:`FunctionAddress` objects: what an explicit method
        calls.  Without the Jacobian, which may be compiled only when it is first needed (a
        network's takes seconds to compile)."""
        return self.function_address, FunctionAddress(self.block_sum, BLOCK_SIGNATURE)

    @cached_property
    def function_address(self):
        """``function`` alone as a :class:`FunctionAddress`: what a loop that calls neither the
        block sum nor the Jacobian needs (the fast-history loops, a convolution's phi), without
        compiling those two (about a second with an empty cache)."""
        return FunctionAddress(self.function, KERNEL_SIGNATURE)

    @cached_property
    def vjp_address(self):
        """The vjp as a :class:`FunctionAddress` (built on first use: only adjoints need it)."""
        return FunctionAddress(self.vjp, VJP_SIGNATURE)

    @property
    def vjp(self):
        """``vjp(t, s, Y, j, theta, mu, w, gy, gtheta)`` for the adjoint (built if not given,
        once for all the kernels that differ only in ``params``)."""
        if self.vjp_function is not None:
            return self.vjp_function
        if "vjp" not in self._shared:
            self._shared["vjp"] = make_vjp(self.function, self.jacobian_function)
        return self._shared["vjp"]

    def __call__(self, t, s, y):
        """Evaluate K(t, s, y) (Python-level, for checks and dense output)."""
        Y = np.ascontiguousarray(np.reshape(np.asarray(y, dtype=float), (1, self.dim)))
        out = np.empty(self.dim)
        _user.clear_failures()
        self.current().function(float(t), float(s), Y, 0, self.params, out)
        _user.raise_recorded_failure(_user.take_failure(), self.args)
        return out[0] if self.scalar else out


#: The cached properties of a :class:`Kernel` that depend on its compiled functions alone (not
#: on ``params`` or ``args``): :meth:`Kernel.with_params` hands them on.
_FUNCTION_PROPERTIES = ("addresses", "jacobian_address", "explicit_addresses", "function_address",
                        "vjp_address")
_HANDED_ON = frozenset(f.name for f in fields(Kernel)) | frozenset(_FUNCTION_PROPERTIES)


# -- compiling user callables -------------------------------------------------------------

_CACHE = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _njit_user(func, what):
    """Compile a user function with Numba, keyed on the values it reads (see ``_user``)."""
    return _user.njit_user(func, what)


def _compile(factory, what, func):
    """``factory()``, the compilation of a user's function ``func`` (``what``: its name in
    messages), with Numba's errors said in the user's terms and Ctrl-C held until it ends
    (:func:`.._numba.deferred_interrupt`: else lost, or a bogus compilation error)."""
    try:
        with deferred_interrupt():
            return factory()
    except NumbaError as exc:
        first = str(exc).strip().splitlines()
        detail = "\n".join(first[:12])
        advice = next((text for key, text in _ADVICE if key in str(exc)), "")
        if _FLOAT_INDEX.search(str(exc)):
            advice += _FLOAT_INDEX_ADVICE
        raise KernelCompilationError(
            f"{what} could not be compiled by Numba. Write it with NumPy/math functions "
            f"on floats (scalar y) or 1-d float arrays (vector y), or give a SymPy expression "
            f"(integrallimits.kernels.from_sympy).{advice} Numba said:\n{detail}") from None


#: Numba's words for an array indexed by a float (``getitem(array(...), float64)``, also inside a
#: tuple of indices): run-time arguments arrive as floats and float64 arrays, also an integer
#: array given in args= (which Python would index with).
_FLOAT_INDEX = re.compile(r"getitem\(\S*array\([^)]*\), (?:\S*\()?[^)]*float64")
_FLOAT_INDEX_ADVICE = (" It indexes an array with a float: run-time arguments (args=) arrive in "
                       "compiled code as floats and float64 arrays, an integer array too; "
                       "index with int(...), or pass an index as a Python int (args=(..., 2)).")

#: What the commonest Numba typing errors mean for a user's function: (Numba's words, advice),
#: the first that matches.
_ADVICE = (
    ("Numba type of <class 'function'>", " It calls a plain Python function (the message names "
     "it): decorate that function with @numba.njit, or write its body into the kernel."),
    ("Untyped global name", " It reads a global name that Numba cannot type (a dict, a list "
     "or an object of your own: the message names it): pass the numbers it needs as "
     "parameters with args=(...) (floats or NumPy arrays), or bind them to module-level floats "
     "or arrays."),
    ("of type Module(", " It uses a module's attribute that compiled code cannot (a SciPy "
     "function: use the math module or NumPy, math.erf, np.exp, or give a SymPy expression; a "
     "plain Python function of your own module: decorate it with @numba.njit)."),
    ("= freevar(", " It reads a variable of an enclosing function (a closure) that compiled "
     "code cannot take as a constant (a list, dict or object: Numba's 'freevar(name: value)' "
     "names it): make it a NumPy array or a float, or pass it with args=(...)."),
    ("unsupported constant type used for exception", " It raises an exception that compiled "
     "code cannot (KeyboardInterrupt, SystemExit: only those of the Exception family, such as "
     "ValueError('...'))."),
)


@numba.extending.intrinsic
def caught(typingctx, fn, args):
    """``(ok, value)`` of the compiled call ``fn(*args)``: ``ok`` False, and ``value`` undefined,
    where the call raised (or returned None: an optional value), instead of the exception.

    What ``try: value = fn(*args) except Exception: ...`` does around one call, without
    Numba's try/except, which cost each wrapper of a user function ~0.25 s of compilation
    (about 60% of a scalar kernel's wrapper): the call is made as Numba makes it and its
    status is checked here, as the handler of a ``try`` would check it.  For a compiled
    function ``fn`` (a dispatcher) returning a number or a bool, a tuple of them or an array
    (or None); other values are refused in typing (the caller then uses ``try``).  An array
    is null where ``ok`` is False (its reference count is then never touched)."""
    if not isinstance(fn, types.Dispatcher) or not isinstance(args, types.BaseTuple):
        return None
    fnsig = typingctx.resolve_function_type(fn, tuple(args), {})
    if fnsig is None or tuple(fnsig.args) != tuple(args):
        return None     # (e.g. a default argument folded in: the overload takes one more)
    returned = fnsig.return_type
    optional = isinstance(returned, types.Optional)
    value = returned.type if optional else returned
    plain = (types.Number, types.Boolean)
    counted = isinstance(value, types.Array)
    if not (isinstance(value, plain) or counted or isinstance(value, types.BaseTuple) and
            all(isinstance(v, plain) for v in value)):
        return None

    def codegen(context, builder, signature, llargs):
        tupled = llargs[1]
        values = [builder.extract_value(tupled, i) for i in range(len(args))]
        result = fn.dispatcher.overloads[fnsig.args]
        context.add_linking_libs([result.library])
        status, res = context.call_internal_no_propagate(builder, result.fndesc, fnsig, values)
        ok = builder.not_(status.is_error)
        if optional:      # (returned None: a value Numba's conversion to a float raises on)
            ok = builder.and_(ok, builder.not_(status.is_none))
        if counted:       # (undefined where not ok: null, which releasing it leaves alone)
            res = builder.select(ok, res, context.get_constant_null(value))
        return context.make_tuple(builder, signature.return_type, [ok, res])
    return types.Tuple((types.boolean, value))(fn, args), codegen


def _caller(fj, form):
    """An inlined ``call(t, s, y, params)`` that calls the user's function in its own form:
    "tsy" for K(t, s, y, *args), "sy" for phi(s, y, *args) (a convolution factor)."""
    if form == "sy":
        @numba.njit(inline="always", **_FAST)
        def call(t, s, y, params):
            return fj(s, y, *params)
    else:
        @numba.njit(inline="always", **_FAST)
        def call(t, s, y, params):
            return fj(t, s, y, *params)
    return call


def _caught_caller(fj, form):
    """An inlined ``call(t, s, y, params) -> (ok, value)`` as :func:`_caller`'s, through
    :func:`caught` (ok False where the user's function raised)."""
    if form == "sy":
        @numba.njit(inline="always", **_FAST)
        def call(t, s, y, params):
            return caught(fj, (s, y) + params)
    else:
        @numba.njit(inline="always", **_FAST)
        def call(t, s, y, params):
            return caught(fj, (t, s, y) + params)
    return call


def _wrap_kernel(fj, scalar, spec, gid, form="tsy"):
    """(function, block_sum) for a user function fj(t, s, y, *args).

    Outputs are set to NaN before the user's function runs: if it raises, the wrapper catches
    the exception in compiled code and records the point (the solver then calls the user's
    Python function there and raises its own exception), and the NaN left behind stops the
    loop.  Non-finite values and, for vector y, outputs of the wrong length are recorded with
    their point too (``_user.report``, which runs only on failure).

    ``function`` is compiled here (a user's function Numba cannot compile fails here, in the
    user's terms); ``block_sum`` when a loop first takes its address (or it is called): it
    calls the user's function with the same types as ``function``, so it compiles wherever
    ``function`` did, and the loops that never call it (a t-independent kernel's, the fast
    history's, a linear Fredholm equation's, the probes of first-kind solves) do not pay for
    it (~0.5 s of a new kernel's ~1 s with an empty cache)."""
    unpack = _user.unpacker(spec)
    if scalar:
        try:
            return _wrap_scalar_kernel(fj, unpack, gid, form, caught_calls=True)
        except NumbaError:
            # a value that is not a number (compiled as before, with Numba's try/except, which
            # refuses it in the same words), or a function Numba cannot compile (refused again
            # there, in the same words)
            return _wrap_scalar_kernel(fj, unpack, gid, form, caught_calls=False)
    call, checked = _caller(fj, form), _caught_caller(fj, form)
    # A vector value read as r[k]: an array, or a tuple of floats, which allocates nothing
    # (4x faster than np.array([...]) on the vector benchmark); else (e.g. a tuple mixing ints
    # and floats) as np.asarray(r).  The call checked, else (a value that is neither an array
    # nor a tuple of numbers) inside ``try``; the last error is Numba's for the plain form.
    attempts = ((checked, _as_it_is), (checked, _as_array), (None, _as_it_is), (None, _as_array))
    for i, (checked_call, convert) in enumerate(attempts):
        try:
            return _wrap_vector_kernel(call, unpack, gid, convert, checked_call)
        except NumbaError:
            if i == len(attempts) - 1:
                raise


def _as_it_is(r):
    return r


def _as_array(r):
    return np.asarray(r)


def _wrap_scalar_kernel(fj, unpack, gid, form, caught_calls):
    """(function, block_sum) of :func:`_wrap_kernel` for scalar y.

    ``caught_calls``: the calls of the user's function and of the weighted sum are made
    through :func:`caught` (the same calls, the same machine code of the sums, a third of
    the compilation); else inside ``try``, which also takes a value that is not a number as
    far as Numba does."""
    call = _caller(fj, form)
    report = _user.report
    if caught_calls:
        checked = _caught_caller(fj, form)

        @_user.wrapper(KERNEL_SIGNATURE)
        def function(t, s, Y, j, theta, out):
            out[0] = np.nan
            ok, value = checked(t, s, Y[j, 0], unpack(theta, 0))
            if not ok:   # recorded with its point: the solver raises it from Python
                report(gid, _user.RAISED, t, s, Y[j], -1)
                return
            out[0] = value
            if not np.isfinite(out[0]):
                report(gid, _user.NOT_FINITE, t, s, Y[j], -1)
    else:
        @_user.wrapper(KERNEL_SIGNATURE)
        def function(t, s, Y, j, theta, out):
            out[0] = np.nan
            try:
                # (the store inside: a None of one branch, an optional float, raises there)
                out[0] = call(t, s, Y[j, 0], unpack(theta, 0))
            except Exception:   # recorded with its point: the solver raises it from Python
                out[0] = np.nan
                report(gid, _user.RAISED, t, s, Y[j], -1)
                return
            if not np.isfinite(out[0]):
                report(gid, _user.NOT_FINITE, t, s, Y[j], -1)

    # Slices starting at 0 drop Numba's negative-index checks and reassociation lets
    # LLVM vectorise the reduction (the order of the sum changes at rounding level only).
    def weighted_sum(t, ws, ss, ys, params):
        acc = 0.0
        for r in range(ws.shape[0]):
            acc += ws[r] * call(t, ss[r], ys[r, 0], params)
        return acc
    # linked into block_sum's cached code: a symbol of its own per kernel (gid); called from
    # compiled code only, so without the Python and C entry points (~30 ms of compilation)
    weighted_sum = numba.njit(fastmath={"reassoc", "contract"}, no_cpython_wrapper=True,
                              no_cfunc_wrapper=True, **_FAST)(
        _user.unique_symbols(weighted_sum, f"g{gid:x}"))

    # The weighted sum is one call (a try, or a check, around the loop itself, the user's
    # function inlined in it, cost more compilation per kernel).  Compiled when first used
    # (see :func:`_wrap_kernel`).
    if caught_calls:
        @_user.wrapper(BLOCK_SIGNATURE, lazy=True)
        def block_sum(t, svals, Y, a, b, w, theta, out):
            out[0] = np.nan
            ws, ss, ys = w[a:b], svals[a:b], Y[a:b]
            ok, acc = caught(weighted_sum, (t, ws, ss, ys, unpack(theta, 0)))
            if ok and np.isfinite(acc):
                out[0] = acc
                return
            # the term that raised or is not finite, found with ``out`` as the scratch (an
            # array allocated here cost np.empty's compilation): recorded by ``function``
            for r in range(ws.shape[0]):
                function(t, ss[r], ys, r, theta, out)
                if not np.isfinite(out[0]):
                    break
            out[0] = np.nan
    else:
        @_user.wrapper(BLOCK_SIGNATURE, lazy=True)
        def block_sum(t, svals, Y, a, b, w, theta, out):
            out[0] = np.nan
            ws, ss, ys = w[a:b], svals[a:b], Y[a:b]
            try:
                acc = weighted_sum(t, ws, ss, ys, unpack(theta, 0))
            except Exception:
                acc = np.nan
            if np.isfinite(acc):
                out[0] = acc
                return
            for r in range(ws.shape[0]):
                function(t, ss[r], ys, r, theta, out)
                if not np.isfinite(out[0]):
                    break
            out[0] = np.nan
    return function, block_sum


def _wrap_vector_kernel(call, unpack, gid, convert, checked=None):
    """(function, block_sum) reading the value of the user's function as ``convert(value)[k]``;
    ``checked``: its call through :func:`caught` (``_caught_caller``), else inside ``try``."""
    as_indexable = numba.njit(convert, inline="always", **_FAST)
    report = _user.report

    @numba.njit(inline="always", **_FAST)
    def stored(r, n, t, s, y, out):
        """out = r (its n values); False if n is not out's length or a value is not finite
        (recorded)."""
        if n != out.shape[0]:
            report(gid, _user.BAD_SHAPE, t, s, y, n)
            return False
        finite = True
        for k in range(out.shape[0]):
            out[k] = r[k]
            finite = finite and np.isfinite(out[k])
        if not finite:
            report(gid, _user.NOT_FINITE, t, s, y, -1)
        return finite

    if checked is not None:
        @numba.njit(inline="always", **_FAST)
        def evaluate(t, s, y, params, out):
            """out = K(t, s, y); False if it raised (or returned None), its length is wrong
            or a value is not finite (recorded)."""
            ok, value = checked(t, s, y, params)
            if not ok:
                report(gid, _user.RAISED, t, s, y, -1)
                return False
            r = as_indexable(value)
            n = len(r)
            return stored(r, n, t, s, y, out)
        return _vector_wrappers(evaluate, unpack)

    @numba.njit(inline="always", **_FAST)
    def evaluate(t, s, y, params, out):
        """out = K(t, s, y); False if it raised, its length is wrong or a value is not finite
        (recorded)."""
        try:
            r = as_indexable(call(t, s, y, params))
            n = len(r)      # (inside: a None of one branch, an optional array, raises here)
        except Exception:
            report(gid, _user.RAISED, t, s, y, -1)
            return False
        return stored(r, n, t, s, y, out)
    return _vector_wrappers(evaluate, unpack)


def _vector_wrappers(evaluate, unpack):
    """(function, block_sum) of a vector kernel around its inlined ``evaluate``."""
    @_user.wrapper(KERNEL_SIGNATURE)
    def function(t, s, Y, j, theta, out):
        out[:] = np.nan
        if not evaluate(t, s, Y[j], unpack(theta, 0), out):
            out[:] = np.nan

    @_user.wrapper(BLOCK_SIGNATURE, lazy=True)     # (compiled when first used: _wrap_kernel)
    def block_sum(t, svals, Y, a, b, w, theta, out):
        out[:] = np.nan
        params = unpack(theta, 0)
        d = out.shape[0]
        acc = np.zeros(d)
        tmp = np.empty(d)
        for r in range(a, b):
            if not evaluate(t, svals[r], Y[r], params, tmp):
                return
            for k in range(d):
                acc[k] += w[r] * tmp[k]
        for k in range(d):
            out[k] = acc[k]
    return function, block_sum


def _wrap_jacobian(fj, scalar, spec, gid, form="tsy"):
    """The compiled Jacobian wrapper: J = dK/dy at (t, s, Y[j]), NaN where the user's function
    raised, returned the wrong shape or a non-finite value (recorded with its point, as the
    kernel's wrappers do, so the solver names the Jacobian and the point, not Newton).

    The call is checked with :func:`caught` (no Numba try/except to compile: about
    a third less of the wrapper's compilation), and a None returned by one branch is recorded
    with its point as a raise is (the solver then names the Jacobian, the point and the None;
    inside ``try`` the conversion of the optional value raised after it, with no point).  A
    value :func:`caught` does not take is compiled inside ``try`` (refused in Numba's words)."""
    unpack = _user.unpacker(spec)
    call = _caller(fj, form)
    report = _user.report
    if scalar:
        try:
            return _scalar_jacobian(_caught_caller(fj, form), unpack, gid)
        except NumbaError:
            return _scalar_jacobian(call, unpack, gid, checked=False)
    try:
        return _vector_jacobian(_caught_caller(fj, form), unpack, gid)
    except NumbaError:
        pass
    # (a value that is not a 2-d array: inside ``try``, refused in Numba's words)
    stored = _matrix_stored(gid)

    @_user.wrapper(JACOBIAN_SIGNATURE)
    def jacobian(t, s, Y, j, theta, J):
        J[:, :] = np.nan
        try:
            r = np.asarray(call(t, s, Y[j], unpack(theta, 0)))
        except Exception:
            report(gid, _user.RAISED, t, s, Y[j], -1)
            return
        stored(r, t, s, Y[j], J)
    return jacobian


def _matrix_stored(gid):
    """An inlined ``stored(r, t, s, y, J)``: J = r, a 2-d value of the Jacobian at (t, s, y),
    where its shape is J's and its values are finite; else recorded with its point."""
    report = _user.report

    @numba.njit(inline="always", **_FAST)
    def stored(r, t, s, y, J):
        if r.shape[0] != J.shape[0] or r.shape[1] != J.shape[1]:
            report(gid, _user.BAD_SHAPE, t, s, y, r.size)
            return
        finite = True
        for a in range(J.shape[0]):
            for b in range(J.shape[1]):
                J[a, b] = r[a, b]
                finite = finite and np.isfinite(J[a, b])
        if not finite:
            report(gid, _user.NOT_FINITE, t, s, y, -1)
    return stored


def _vector_jacobian(checked, unpack, gid):
    """:func:`_wrap_jacobian`'s wrapper for vector y around ``checked(t, s, y, params)``, a
    :func:`_caught_caller` (``(ok, value)``): a 2-d array value (else refused in typing)."""
    report, stored = _user.report, _matrix_stored(gid)

    @_user.wrapper(JACOBIAN_SIGNATURE)
    def jacobian(t, s, Y, j, theta, J):
        J[:, :] = np.nan
        ok, value = checked(t, s, Y[j], unpack(theta, 0))
        if not ok:   # raised or returned None: recorded with its point
            report(gid, _user.RAISED, t, s, Y[j], -1)
            return
        r = np.asarray(value)
        stored(r, t, s, Y[j], J)
    return jacobian


def _scalar_jacobian(call, unpack, gid, checked=True):
    """:func:`_wrap_jacobian`'s wrapper for scalar y around ``call(t, s, y, params)``: with
    ``checked``, a :func:`_caught_caller` (``(ok, value)``), else a :func:`_caller` called
    inside ``try``."""
    report = _user.report
    if checked:
        @_user.wrapper(JACOBIAN_SIGNATURE)
        def jacobian(t, s, Y, j, theta, J):
            J[0, 0] = np.nan
            ok, v = call(t, s, Y[j, 0], unpack(theta, 0))
            if not ok:   # raised or returned None: recorded with its point
                report(gid, _user.RAISED, t, s, Y[j], -1)
                return
            J[0, 0] = v
            if not np.isfinite(J[0, 0]):
                report(gid, _user.NOT_FINITE, t, s, Y[j], -1)
    else:
        @_user.wrapper(JACOBIAN_SIGNATURE)
        def jacobian(t, s, Y, j, theta, J):
            J[0, 0] = np.nan
            try:
                v = call(t, s, Y[j, 0], unpack(theta, 0))
            except Exception:
                report(gid, _user.RAISED, t, s, Y[j], -1)
                return
            J[0, 0] = v
            if not np.isfinite(J[0, 0]):
                report(gid, _user.NOT_FINITE, t, s, Y[j], -1)
    return jacobian


def _check_value(value, expected, what, t, s, double=True, at=None):
    """``value`` of ``what`` as a float array of shape ``expected``; errors name the point
    (t, s), or ``at`` (the point's text) for a function of other arguments."""
    if expected == () and type(value) in _FLOATS:   # the common case, at once
        return value
    arr = np.asarray(value)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{what} must return real numbers, got {type(value).__name__}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{what} must return real numbers, got complex values")
    if double:
        _require_double(value, arr, what)
    if arr.shape != expected:
        at = f"(t, s) = ({t}, {s})" if at is None else at
        raise ValueError(f"{what} returned shape {arr.shape} at {at}; expected {expected}")
    return arr.astype(float)


def _require_double(value, arr, what):
    """Refuse a value of ``what`` in single (or half) precision, ``arr`` its array: the solvers
    compute in double precision, and their Newton iterations (finite-difference steps of
    sqrt(eps) |y|, 1.5e-8, below float32's relative rounding of 6e-8), error estimates and
    data checks take the function's values to be smooth to double precision.  A float32 K(t, s, y) =
    -(t - s) y, y(0) = 1, failed at rtol 1e-10 blaming "a kink or a jump of g or K" after
    58960 steps, and met rtol 1e-8 with an estimate 20 times under its error."""
    low = [arr.dtype] if arr.dtype.kind == "f" and arr.dtype.itemsize < 8 else []
    if not low and isinstance(value, (tuple, list)):     # (a tuple mixing float32 and float)
        low = [v.dtype for v in value if isinstance(v, np.floating) and v.dtype.itemsize < 8]
    if low:
        kind = low[0]
        raise TypeError(
            f"{what} returned {kind} values: the solver computes in double precision (float64), "
            f"and its Newton iterations and error estimates need the function's values to "
            f"double precision; a {kind} value keeps about "
            f"{int(np.finfo(kind).precision)} digits, and the solution could not have more.  "
            f"Return float64 values: float(v), np.float64(...) or v.astype(np.float64) "
            f"(convert single-precision data once, np.asarray(data, dtype=float), and compute "
            f"with it)")


def _probe(func, what, t0, y_probe, scalar, shape, args, jac=False, form="tsy"):
    """Call a user function once in Python at (t0, t0, y0): errors here name the point, and a
    function that changes its argument y in place is refused (:func:`check_unchanged`).  A
    Jacobian (``jac``) may return single precision (it only steers Newton's iterations).
    ``form`` "sy": the function takes (s, y) (a convolution's phi), and the point is named so
    (its errors said "t = s = 0.0" and "(t, s) = (0.0, 0.0)")."""
    y = y_probe[0, 0] if scalar else y_probe[0].copy()
    shown = y_probe[0].tolist() if not scalar else y_probe[0, 0]
    at = f"t = s = {t0}, y = {shown}" if form == "tsy" else f"s = {t0}, y = {shown}"
    # (a user function failing on a valid point: say where)
    with _user.raised_at(what, "{}", at):
        value = _user.py_function(func)(t0, t0, y, *args)
    if not scalar:
        check_unchanged(y, y_probe[0], what, "y")
    _check_value(value, shape, what, t0, t0, double=not jac, at=None if form == "tsy" else at)


def check_unchanged(arg, before, what, name):
    """Refuse a user function that changed its array argument ``name`` (now ``arg``, given a
    copy of ``before``) in place: the compiled solvers pass it a view of their own arrays (the
    solution's history, a stage), which it would corrupt, silently or as a Newton failure far
    from the cause (``y *= -1; return y`` as K gave rk4 a success 1.3 off the solution)."""
    if not np.array_equal(arg, before, equal_nan=True):
        raise ValueError(f"{what} changed its argument {name} in place (from {before.tolist()} "
                         f"to {np.asarray(arg).tolist()}): the solver passes it a view of its own "
                         f"arrays, which that would corrupt; return a new value instead (e.g. "
                         f"-{name} or {name} * c, not {name} *= c or {name}[0] = ...)")


def check_no_writes(call, what, arrays):
    """Refuse a user function that writes into its array arguments at a point its first probe
    could not show it: ``call(*copies)`` with copies of ``arrays`` ({name: array}, values
    away from the start's fixed points, chosen by the caller), whose exceptions and
    floating-point warnings are ignored (the point may be outside the function's domain: only
    the writes are looked at).  ``y -= z`` in a VIDE's f left y unchanged at the first probe,
    where z = 0, and corrupted the solver's arrays later: rk4 ended a success 0.18 off, gauss2
    a Newton failure at its first step.  Called once per compiled function."""
    copies = [np.array(a, dtype=float) for a in arrays.values()]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                call(*copies)
    except Exception:   # noqa: BLE001 (only the writes matter here; KeyboardInterrupt passes)
        pass
    for (name, before), after in zip(arrays.items(), copies):
        check_unchanged(after, before, what, name)


def as_kernel(K, y0, t0=0.0, jacobian=None, args=None, *, probe_cached=True):
    """Return the compiled :class:`Kernel` for ``K`` on problems whose initial value is ``y0``.

    Parameters
    ----------
    K : Kernel or callable
        ``K(t, s, y, *args)``: a float for scalar y; for y of shape (d,), an array of shape
        (d,) or a tuple of d floats (a tuple is fastest: ``np.array([...])`` allocates on
        each of the O(N^2) calls).
    y0 : float or array_like (d,)
        A value of y (normally g(t0)); it fixes scalar/vector and d.
    t0 : float
        Where ``K`` is probed.
    jacobian : callable, optional
        dK/dy(t, s, y, *args): a float for scalar y, a (d, d) array for vector y.
    args : tuple, optional
        Extra arguments of K (and of the Jacobian): floats, ints, bools or float arrays,
        passed at run time (the compiled code depends only on their kinds, so changing
        their values does not compile again).  The returned kernel carries them in ``params``.
    probe_cached : bool
        Whether a plain function already compiled for the values it reads now is called in
        Python at (t0, t0, y0) again (its errors then name that point).  ``False`` (for a
        solver whose compiled calls report a K that raises or is not finite, with the
        point): only a newly compiled kernel is probed.

    Notes
    -----
    A plain function is compiled once per set of values it reads from globals, closure cells
    and defaults (see :mod:`integrallimits.kernels._user`): a changed global compiles again,
    so the kernel never runs with stale values; parameters passed with ``args`` do not.  The
    returned kernel keeps its functions: used again after such a value has changed (in a solver
    or called directly), it is compiled again with the current values (:meth:`Kernel.current`).

    Raises
    ------
    TypeError
        If ``K`` is not callable, returns non-numbers, cannot be compiled, or does not
        accept ``3 + len(args)`` arguments.
    ValueError
        If ``K`` returns the wrong shape.
    """
    require_jit()
    y0 = np.asarray(y0, dtype=float)
    scalar = y0.ndim == 0
    dim = 1 if scalar else y0.shape[0]
    spec, theta = _user.pack_args(args)
    if type(K) is FunctionType and "build" not in K.__dict__:
        # a plain function, the usual case, at once (a failed hasattr costs ~0.4 us)
        if jacobian is not None and not callable(jacobian):
            raise TypeError(f"jacobian must be callable jacobian(t, s, y), got "
                            f"{type(jacobian).__name__}")
        return _user_kernel(K, y0, t0, jacobian, spec, theta, tuple(args or ()),
                            probe_cached=probe_cached)
    if hasattr(K, "build") and not isinstance(K, Kernel):  # a structured-kernel specification
        if jacobian is not None:
            raise ValueError("give the Jacobian to the structured kernel's constructor, not here")
        return K.build(y0, t0, args)
    if isinstance(K, Kernel):
        if K.dim != dim or K.scalar != scalar:
            raise ValueError(f"K is a kernel for y of dimension {K.dim}, but g gives "
                             f"{'a scalar' if scalar else f'shape {y0.shape}'}")
        return K.current().with_args(args)
    if not callable(K):
        raise TypeError(f"K must be callable K(t, s, y) or a Kernel, got {type(K).__name__}")
    if jacobian is not None and not callable(jacobian):
        raise TypeError(f"jacobian must be callable jacobian(t, s, y), got {type(jacobian).__name__}")
    return _user_kernel(K, y0, t0, jacobian, spec, theta, tuple(args or ()),
                        probe_cached=probe_cached)


def _user_kernel(K, y0, t0, jacobian, spec, theta, args, form="tsy", what="K(t, s, y)",
                 probe_cached=True):
    """The Kernel of a user function in ``form`` ("tsy": K(t, s, y, *args); "sy": phi(s, y, *args));
    ``probe_cached=False``: K and the Jacobian are called in Python at t0 only when compiled."""
    scalar = y0.ndim == 0
    dim = 1 if scalar else y0.shape[0]
    shape = () if scalar else (dim,)
    py = _user.py_function(K)
    _user.require_function(py, what)

    def values_now():   # the values K and the Jacobian read: in the key, and kept to compare
        return (_user.value_key(py),
                None if jacobian is None else (id(jacobian), _user.value_key(jacobian)))

    key = (scalar, dim, spec, form) + values_now()
    cached = _CACHE.get(py, {}).get(key)
    hit = cached is not None and cached[1] is jacobian
    if not hit:   # checked once per compiled kernel
        _user.check_argument_names(K, ("t", "s", "y") if form == "tsy" else ("s", "y"), what,
                                   len(spec))
    if hit and not probe_cached:
        return cached[0].with_params(theta, args)
    y_probe = y0.reshape(1, dim)
    call = K if form == "tsy" else (lambda t, s, y, *a: py(s, y, *a))
    _probe(call, what, t0, y_probe, scalar, shape, args, form=form)
    if not hit and not scalar:
        # (the probe's s = t: a write such as y *= exp(s - t) changed nothing there)
        check_no_writes(lambda y: _user.py_function(call)(t0 + 1.0, t0 + 0.5, y, *args), what,
                        {"y": 1.0 + np.abs(y0)})
    if jacobian is not None:
        jcall = jacobian if form == "tsy" else (lambda t, s, y, *a: _user.py_function(jacobian)(s, y, *a))
        _probe(jcall, f"the Jacobian of {what}", t0, y_probe, scalar, () if scalar else (dim, dim),
               args, jac=True, form=form)
    if hit:
        return cached[0].with_params(theta, args)

    with _LOCK:
        per_func = _CACHE.setdefault(py, {})
        cached = per_func.get(key)
        if cached is not None and cached[1] is jacobian:   # compiled meanwhile by another thread
            return cached[0].with_params(theta, args)
        fj = _njit_user(K, what)
        gid = _user.new_guard(K, what, form, scalar, shape)
        function, block_sum = _compile(lambda: _wrap_kernel(fj, scalar, spec, gid, form), what, K)
        jac = None
        if jacobian is not None:
            jj = _njit_user(jacobian, "jacobian")
            jgid = _user.new_guard(jacobian, f"the Jacobian of {what}", form, scalar, (dim, dim))
            jac = _compile(lambda: _wrap_jacobian(jj, scalar, spec, jgid, form), "jacobian(t, s, y)",
                           jacobian)
        kernel = Kernel(function, dim, scalar, jac, block_sum,
                        "user" if jac is not None else "finite-difference",
                        probe=K, name=getattr(K, "__name__", "K"), arg_spec=spec)
        kernel._shared["source"] = Source(
            key[4:], values_now,
            lambda theta, args: _user_kernel(K, y0, t0, jacobian, spec, theta, args, form, what))
        twin = _user.python_twin(fj.py_func)
        _same_as_python(kernel.function, twin, form, what, t0, y0, args)
        if jac is not None:   # the Jacobian too, then at the same points as K
            jtwin, jwhat = _user.python_twin(jj.py_func), f"the Jacobian of {what}"
            _same_as_python(jac, jtwin, form, jwhat, t0, y0, args, jacobian=True)

        def compare(points, a):
            said = _same_as_python(kernel.function, twin, form, what, t0, y0, a, points)
            if jac is not None:
                said = _same_as_python(jac, jtwin, form, jwhat, t0, y0, a, points,
                                       jacobian=True) or said
            return said
        kernel._shared["span_check"] = _user.span_check(compare)
        per_func[key] = (kernel, jacobian)
        return kernel.with_params(theta, args)


def _same_as_python(function, py, form, what, t0, y0, args, points=None, jacobian=False):
    """Refuse a compiled kernel ``function`` (KERNEL_SIGNATURE) whose values at (t0, t0, y0)
    and (t0 + 1, t0 + 0.5, 1 + |y0|) (or at ``points``, (t, s, y) triples: after a solve,
    :func:`._user.span_check`) differ from those of ``py``, the Python function it was
    compiled from (with the values compiled in), in ``form`` ("tsy" or "sy"), with the extra
    arguments ``args`` (packed here: a convolution kernel's phi is built before its own
    parameters are): see :func:`._user.refuse_if_compiled_differs`.  K = -y * (N * N % 7)
    with N = 2**40 (4 in Python, 0 in 64-bit integers) was a success with y(1) = 1.0 for
    e^-4.  ``jacobian``: ``function`` is the user's Jacobian (JACOBIAN_SIGNATURE), a (d, d)
    matrix (a float for scalar y): -40 * (N * N % 3), 0 compiled for Python's -40 with
    K = -40 y, made gauss2 on 32 steps fail ("could not be checked") and a radau3 solve to
    rtol 1e-6 take 363968 evaluations of K (25571 with the right one)."""
    scalar = y0.ndim == 0
    dim = 1 if scalar else y0.shape[0]
    theta, args = _user.compiled_args(args)

    def python(t, s, y):
        y = float(y) if scalar else np.array(y, dtype=float)
        return py(t, s, y, *args) if form == "tsy" else py(s, y, *args)

    def compiled(t, s, y):
        out = np.empty((dim, dim) if jacobian else dim)
        function(float(t), float(s), np.array(y, dtype=float).reshape(1, dim), 0, theta, out)
        return out[0, 0] if jacobian and scalar else out

    y0 = np.asarray(y0, dtype=float)
    if points is None:
        points = [(float(t0), float(t0), float(y0) if scalar else y0.copy()),
                  (float(t0) + 1.0, float(t0) + 0.5, float(1.0 + abs(y0)) if scalar
                   else 1.0 + np.abs(y0))]
    return _user.refuse_if_compiled_differs(what, points, python, compiled, times=2)


@dataclass(frozen=True)
class Source:
    """What a kernel compiled from user functions needs to stay fresh: the ``key`` of the values
    those functions read when it was compiled, ``key_now()`` (the key now) and ``rebuild(theta,
    args)`` (the kernel compiled with the current values).  A kernel object kept while a global
    it reads changes is then built again by :meth:`Kernel.current`, as a plain function passed
    to a solver is, instead of running with the old value."""

    key: object
    key_now: object
    rebuild: object


_FLOATS = (float, np.float64)
#: The relative spacing of float64 values (``g_vec.eps`` of a forcing in double precision).
EPS_DOUBLE = float(np.finfo(float).eps)


def as_floats_quietly(func, args):
    """``np.asarray(func(*args), dtype=float)`` with NumPy's floating-point warnings off; a
    TypeError for a masked array (:func:`.._inputs.refuse_masked`: the callers then evaluate
    point by point, where a masked value is refused)."""
    with np.errstate(all="ignore"):
        return np.asarray(refuse_masked(func(*args), "the value"), dtype=float)


def _values_quietly(func, args):
    """``np.asarray(func(*args))`` (its own dtype: a single-precision g is refused, not cast)
    with NumPy's floating-point warnings off; a TypeError for a masked array."""
    with np.errstate(all="ignore"):
        return np.asarray(refuse_masked(func(*args), "the value"))


def _quiet_state():
    """(NumPy's context variable of the floating-point state, the function making a state from
    the current one) where this NumPy has them (NumPy 2's private ``_ufunc_config``), else
    None."""
    try:
        from numpy._core import _ufunc_config as config
        var, make = config._extobj_contextvar, config._make_extobj
        make(all="ignore")          # (the call below: checked once)
        return var, make
    except (ImportError, AttributeError, TypeError):   # pragma: no cover - another NumPy
        return None


_QUIET_STATE = _quiet_state()
#: The quiet states made lately (:func:`_quiet_token`): the caller's state -> that state with
#: every floating-point warning off.
_QUIET = {}
_QUIET_MAX = 8


def _quiet_token():
    """NumPy's floating-point state set to the caller's with every warning off, as
    ``np.errstate(all="ignore")`` sets it, made once per state of the caller (errstate makes
    it on every call: ~0.5 us of a 45 us Fredholm solve at M = 32); the token to reset."""
    var, make = _QUIET_STATE
    now = var.get()
    quiet = _QUIET.get(now)
    if quiet is None:
        if len(_QUIET) >= _QUIET_MAX:
            _QUIET.clear()
        quiet = _QUIET[now] = make(all="ignore")    # (from the state now: its buffer, call)
    return var.set(quiet)


if _QUIET_STATE is not None:
    def as_floats_quietly(func, args):
        """``np.asarray(func(*args), dtype=float)`` with NumPy's floating-point warnings off
        (:func:`_quiet_token`); a TypeError for a masked array."""
        token = _quiet_token()
        try:
            return np.asarray(refuse_masked(func(*args), "the value"), dtype=float)
        finally:
            _QUIET_STATE[0].reset(token)

    def _values_quietly(func, args):
        """``np.asarray(func(*args))`` with NumPy's floating-point warnings off (as
        :func:`as_floats_quietly`, without the cast)."""
        token = _quiet_token()
        try:
            return np.asarray(refuse_masked(func(*args), "the value"))
        finally:
            _QUIET_STATE[0].reset(token)


#: Plain functions g whose array call passed :func:`_same_on_halves`: g -> (its code, the key of
#: the values it read then, the key of its args).  The same code with the same values and args
#: is not checked again (the two calls and their comparison cost ~10 us a solve).
_ELEMENTWISE = weakref.WeakKeyDictionary()


def _elementwise(user, args, on_array, times, v, d):
    """:func:`_same_on_halves`, remembered for a plain function ``user`` (g) with the same code,
    values read and args (a changed global is checked again: it can change what g does with
    an array)."""
    mark = None
    if type(user) is FunctionType:
        akey = _args_key(args)
        if akey is not None:
            mark = (user.__code__, _user.value_key(user, compiled=False), akey)
            if _ELEMENTWISE.get(user) == mark:
                return True
    agree = _same_on_halves(on_array, times, v, d)
    if agree and mark is not None:
        _ELEMENTWISE[user] = mark
    return agree


def agrees_on_halves(call, values, h=None):
    """Whether a user function, already called on a whole array with the result ``values``,
    gives the same (to 1e-12 of the largest value) called on the two halves of the array's
    first axis apart: ``call(part)`` is its result on the slice ``part`` (None: it cannot).
    An elementwise function does; one of the whole array (``if np.all(t < 0.5)``,
    ``t / t.max()``), which agreed with its pointwise calls at the first, middle and last
    points (a solve on its values succeeded 0.29 off), does not.  ``h``: the first half's
    length (default n // 2)."""
    n = values.shape[0]
    if n < 2:
        return True
    h = n // 2 if h is None else h
    scale = float(np.max(np.abs(values)))
    tol = 1e-12 * scale if math.isfinite(scale) else 0.0
    for part in (slice(0, h), slice(h, n)):
        v = call(part)
        if v is None or v.shape != values[part].shape or not np.all(np.abs(v - values[part])
                                                                      <= tol):
            return False
    return True


def _same_on_halves(on_array, times, v, d):
    """:func:`agrees_on_halves` for g's values ``v`` on ``times``, with halves that avoid d
    entries (whose (d, d) values could not tell g's (n, d) from its (d, n))."""
    n = times.size
    h = next(k for k in (n // 2, n // 2 + 1, n // 2 + 2) if d not in (k, n - k))
    return agrees_on_halves(lambda part: on_array(times[part]), v, h)


#: :func:`_takes_one_argument` of plain functions: function -> (its code, the answer).
_ONE_ARGUMENT = weakref.WeakKeyDictionary()


def _takes_one_argument(func):
    """Whether ``func`` takes exactly one positional argument (and no ``*args``); for a plain
    function with no ``__signature__`` or ``__wrapped__`` of its own, remembered for its code
    (inspect.signature costs ~6 us a call: a forcing g(t) with args= paid it every solve)."""
    plain = type(func) is FunctionType and "__signature__" not in func.__dict__ and \
        "__wrapped__" not in func.__dict__
    if plain:
        known = _ONE_ARGUMENT.get(func)
        if known is not None and known[0] is func.__code__:
            return known[1]
    answer = _signature_takes_one_argument(func)
    if plain:
        _ONE_ARGUMENT[func] = (func.__code__, answer)
    return answer


def _signature_takes_one_argument(func):
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 1 and not any(p.kind == p.VAR_POSITIONAL for p in params)


#: What the check of a forcing written for arrays found, per Python function: (value key,
#: arguments, shape of g(t), verdict, the relative spacing of its values) of its last check
#: (see :func:`as_forcing`'s ``remember``).
_FORCINGS = weakref.WeakKeyDictionary()


def _args_key(args):
    """``args`` as part of a key of ``_FORCINGS`` (each number with its type), or None when they
    are not all plain numbers (an array argument's values are not compared: no memo)."""
    if not args:        # (the usual case, at once: the generators below cost ~1 us)
        return ()
    if all(isinstance(a, (int, float, bool, np.number, np.bool_)) for a in args):
        return tuple((type(a), a) for a in args)
    return None


#: g -> (((function or helper met, its value key then), ...), what :func:`_with_fresh_helpers`
#: gave for g then): the same while every one of them has the same key.
_FRESH_G = weakref.WeakKeyDictionary()


def _with_fresh_helpers(g):
    """``g`` (a Python function called in Python), or, when it calls compiled functions of the
    user's (by a global name, a module attribute or a closure cell) that read values (globals,
    closure cells, defaults), a copy of ``g`` that calls copies of them compiled with the values
    now, as a kernel calling them does; the same through the plain Python functions of g's
    module that g calls by name (:func:`._user.with_fresh_helpers`, remembered while the values
    are the same).  Numba compiled the user's ``@njit def helper(): return H`` once, with H as
    it was then (or loaded it so from its cache, keyed on the source file only): g(t) =
    helper() kept H = 1 after H = 3, and the solve reported success for the old data (0.74
    off)."""
    if type(g) is not FunctionType:
        return g
    g_key = _user.value_key(g)
    if not g_key:
        return g
    try:
        known = _FRESH_G.get(g)
    except TypeError:  # pragma: no cover - Python functions are weakly referenceable
        known = None
    # (the first mark is g's own: its key, just taken, is not taken again)
    # (g's own mark alone, the usual case: no generator, ~0.3 us)
    if known is not None and known[0][0][1] == g_key and \
            (len(known[0]) == 1 or all(_user.value_key(obj) == key for obj, key in known[0][1:])):
        return known[1]
    marks = []
    fresh = _user.with_fresh_helpers(g, "g(t)", through_python=True, marks=marks)
    _FRESH_G[g] = (tuple(marks), fresh)
    return fresh


#: The points of a forcing evaluated point by point between two looks at the stop request of a
#: solve's worker thread (Ctrl-C: :func:`integrallimits.volterra._interrupt.stop_requested`).
_POINTS_BETWEEN_STOPS = 64


def _stop_check():
    """:func:`integrallimits.volterra._interrupt.stop_requested` (imported when first needed:
    the Volterra package imports this module)."""
    from ..volterra._interrupt import stop_requested
    return stop_requested


def _stoppable(times):
    """``times`` in blocks of :data:`_POINTS_BETWEEN_STOPS` points, raising KeyboardInterrupt
    between two blocks once the caller of this thread (a solve's worker) asked it to stop: a
    user's Python function evaluated at every point of a long mesh (in a worker thread, which
    Ctrl-C does not reach) ran to its end."""
    if len(times) <= _POINTS_BETWEEN_STOPS:
        yield times
        return
    stop_requested = _stop_check()
    for i in range(0, len(times), _POINTS_BETWEEN_STOPS):
        if i and stop_requested():
            raise KeyboardInterrupt
        yield times[i:i + _POINTS_BETWEEN_STOPS]


def as_forcing(g, t0, args=None, *, remember=False):
    """Return (g_vec, y0): ``g_vec(times) -> (len(times), d)`` float array and g(t0).

    ``g(t, *args)`` is a plain Python callable (it is not compiled); a ``g(t)`` that takes
    one argument only is called without ``args`` (a forcing that does not depend on them).
    Array (and list) arguments are copied: ``g_vec`` calls g with their values of this call,
    also after the caller changed them in place.

    ``g`` is called on the whole array of times when it broadcasts to exactly the
    expected shape and agrees with pointwise calls at three of the points;
    otherwise it is evaluated pointwise in Python (it is called O(N) times, the
    kernel O(N^2)), which accepts any callable returning a float or a (d,) array.
    Times that the previous call of ``g_vec`` had (the companion solve of an error estimate
    samples every other point) take its values: ``g`` is not called again
    (``g_vec(times, keep=False)`` neither takes nor keeps them).

    ``remember=True`` (for a caller that needs g's values only through ``g_vec``): the value
    key of what ``g`` reads is taken now (``g_vec.key``, the one its ``snapshot`` compares
    with), and what the check above found is remembered per function with that key and the
    arguments (plain numbers only; for a plain Python function only, whose key follows what
    it reads).  A later call with the same function, key and arguments then neither calls
    ``g`` at ``t0`` nor checks the array call again: it returns ``y0 = None`` (take it from
    ``g_vec(times)``, whose shape ``g_vec.shape`` tells) and ``g`` is called once per array
    of times.  A changed value that ``g`` reads changes the key, and
    the check is made again.
    """
    if not callable(g):
        raise TypeError(f"g must be callable g(t), got {type(g).__name__}")
    if args is not None:
        _user.pack_args(args)        # the same checks (and messages) as for the kernel's args
    g = user = _user.py_function(g)
    g = _with_fresh_helpers(user)
    # (arrays copied: what evaluates g after the solve, the dense output or a Nystrom
    # interpolant, takes the values of the solve, as K's packed parameters do; an array
    # changed in place after it mixed its new values with the old solution)
    args = tuple(a.copy() if isinstance(a, np.ndarray) else copy.deepcopy(a) if
                 isinstance(a, (list, tuple)) else a for a in args) if args else ()
    if args and _takes_one_argument(g):
        args = ()
    if args:
        _user.check_argument_names(g, ("t",), "g(t)", len(args))
        user_g = g
        g = lambda t: user_g(t, *args)  # noqa: E731
    key = memo = akey = None
    if remember:
        key = _user.value_key(user, compiled=False)
        # (a plain function only: its key follows what it reads; a callable object's is "")
        akey = _args_key(args) if type(user) is FunctionType else None
        try:
            known = _FORCINGS.get(user) if akey is not None else None
        except TypeError:      # not weakly referenceable: nothing remembered
            known = None
        if known is not None and known[0] == key and known[1] == akey:
            memo = known
    if memo is not None:      # checked before with these values: g is not called at t0
        shape = memo[2]
        d = shape[0] if shape else 1
        y0 = y0_list = None
    else:
        with _user.raised_at("g(t)", "t = {}", t0):
            value = g(float(t0))
        if type(value) in _FLOATS:   # a float, the usual case, at once
            y0 = np.array(value, dtype=float)
            shape, d, y0_list = (), 1, [float(value)]
        else:
            y0 = np.asarray(refuse_masked(value, f"the value of g(t) at t = {t0}"))
            if y0.dtype != np.float64 and (y0.dtype == object or
                                           not np.issubdtype(y0.dtype, np.number)
                                           or np.iscomplexobj(y0)):
                raise TypeError(f"g(t) must return a real float or a 1-d array, got {value!r}")
            if y0.ndim > 1 or y0.size == 0:
                raise ValueError(f"g(t) must return a float or an array of shape (d,), d >= 1, "
                                 f"got shape {y0.shape}")
            _require_double(value, y0, "g(t)")
            y0 = y0.astype(float)
            shape = y0.shape
            d = 1 if not shape else shape[0]
            y0_list = y0.reshape(d).tolist()

    def pointwise(ti):
        """g(ti) checked: a float (scalar g returning a float, the usual case, at once) or an
        array of the shape of g(t0)."""
        try:
            value = g(float(ti))
        except Exception as exc:    # (g = exp(1000 t) overflowing at some t: say where)
            _user.raise_user_exception(exc, f"raised by g(t) when called at t = {ti}")
        if not shape and type(value) in _FLOATS:
            return value
        v = np.asarray(refuse_masked(value, f"the value of g(t) at t = {ti}"))
        if v.dtype != np.float64:
            _require_double(value, v, f"g(t) at t = {ti}")
            v = v.astype(float)
        if v.shape != shape:
            raise _user.from_user(ValueError(f"g(t) returned shape {v.shape} at t = {ti}; "
                                             f"expected {shape}"))
        return v

    # [True/False] once a call on an array has told (g is the same all solve; with a memo, from
    # the start)
    vectorises = [] if memo is None else [memo[3]]

    def tell(verdict):
        vectorises[:] = [verdict]
        if remember and akey is not None:
            try:
                _FORCINGS[user] = (key, akey, shape, verdict)
            except TypeError:
                pass

    def on_array(times):
        """g(times) as an (n, d) array, or None if g raises on it or gives another shape."""
        n = times.size
        try:
            v = _values_quietly(g, (times,))
        except Exception:  # g is not written for arrays: evaluate pointwise
            return None
        if v.dtype != np.float64:
            if v.dtype.kind == "f":    # (float32 values on an array: K's message, as at t0)
                _require_double(v, v, "g(t) on an array of times")
            try:
                v = v.astype(float)
            except (TypeError, ValueError):
                return None
        if shape and v.shape == shape + (n,):
            v = v.T
        return v.reshape(n, d) if v.shape == (n,) + shape else None

    def vectorised(times):
        """g on the whole array at once, if g broadcasts to exactly the right shape (or its
        transpose: ``np.array([f1(t), f2(t)])`` gives (d, n)), agrees with pointwise calls
        at three points and with its calls on the two halves of the array (checked on the
        first array); else None."""
        n = times.size
        if n <= 8 or n == d or vectorises == [False]:
            return None
        v = on_array(times)
        if v is None:
            tell(False)
            return None
        if vectorises:
            return v
        # g(t0) is known (the first time is t0 for every solver): not called again.  A NaN
        # compares unequal: the pointwise values are then used, and g_vec names the point.
        agree = True
        for i in (0, n // 2, n - 1):
            ti = times[i]
            if ti == t0:
                expected = y0_list
            else:
                value = pointwise(ti)
                expected = [float(value)] if type(value) in _FLOATS else value.reshape(d).tolist()
            if v[i].tolist() != expected:
                agree = False
                break
        if agree:
            agree = _elementwise(user, args, on_array, times, v, d)
        tell(agree)
        return v if agree else None

    # [times, values, set of the times or None] of the last call: a solve's companion samples
    # a subset
    last = []

    def known(times):
        """The values at ``times`` from the last call, if it had every one of them."""
        if not last or times.ndim != 1 or not 0 < times.size <= last[0][0].size:
            return None
        T, V, members = last[0]
        small = times.size <= 64
        if times.size > 1 and (T.size - 1) % (times.size - 1) == 0:
            # every k-th time (a companion's mesh): checked in O(N), no search
            k = (T.size - 1) // (times.size - 1)
            # (the same size; a few times compared as floats: NumPy's comparison and its
            # reduction cost ~2 us)
            if T[::k].tolist() == times.tolist() if small else (T[::k] == times).all():
                return V[::k].copy()   # (a copy, as the search below gives)
        if small and T.size <= 256:
            # a time that the last call did not have fails the search below as well: told from
            # the set of its times (a Runge-Kutta companion's stage times, which the search,
            # NumPy's comparison and its reduction took ~5 us to refuse)
            if members is None:
                members = last[0][2] = set(T.tolist())
            if not members.issuperset(times.tolist()):
                return None
        idx = np.minimum(np.searchsorted(T, times), T.size - 1)   # T is a mesh: increasing
        if not (T[idx] == times).all():
            return None
        return V[idx]

    def g_vec(times, keep=True):
        """g at ``times``, an (n, d) array (checked finite); ``keep=False``: neither from nor
        kept for a later call (a caller that needs g at these times once: a Fredholm solve)."""
        times = np.asarray(times, dtype=float)
        if keep:
            out = known(times)
            if out is not None:
                return out
        out = vectorised(times)
        if out is None and not shape and times.ndim == 1:
            # (a scalar g: its floats in a list, one array of them, ~0.2 us a value less than
            # writing each into a row of the array)
            out = np.array([pointwise(ti) for block in _stoppable(times.tolist()) for ti in block],
                           dtype=float).reshape(times.size, 1)
        elif out is None:
            out = np.empty((times.size, d))
            for i, ti in enumerate(ti for block in _stoppable(times) for ti in block):
                out[i] = pointwise(ti)
        values = out.reshape(-1)    # (a few as floats: isfinite and its reduction cost ~3 us;
        if values.size <= 64:       # their sum is finite only if every one is, unless it overflows)
            values = values.tolist()
            finite = math.isfinite(sum(values)) or all(map(math.isfinite, values))
        else:
            finite = np.isfinite(values).all()
        if not finite:
            i = int(np.nonzero(~np.isfinite(out).all(axis=1))[0][0])
            raise _user.from_user(ValueError(f"g(t) is not finite at t = {times[i]} (value "
                                             f"{out[i].tolist()})"))
        if keep and times.ndim == 1 and times.size > 1:   # (copies: callers may reuse their arrays)
            last[:] = [[times.copy(), out.copy(), None]]
        return out

    def snapshot(same_as=None, nodes=False):
        """A function that raises RuntimeError once a value ``g`` reads (globals, closure
        cells, defaults) is no longer what it is now: for what evaluates g after the solve
        (dense output, a Nyström interpolant), which would otherwise mix the new values with
        the solution of the old ones.  ``same_as``: such a function made earlier in the same
        solve (a Fredholm solve's companion), returned as it is (the values are read once).
        ``nodes``: the solution is a Fredholm solution's (evaluated between the nodes; it
        has no t_eval), for the message."""
        last.clear()        # (what needs a snapshot comes after the solve: its samples can go)
        if same_as is not None:
            return same_as
        # (g is called in Python only; with ``remember``, the key taken when the solve began)
        key = g_vec.key if g_vec.key is not None else _user.value_key(user, compiled=False)
        points, hint = ("the nodes", "") if nodes else ("the mesh points", " (or pass t_eval=)")

        def check():
            if _user.value_key(user, compiled=False) != key:
                names = ", ".join(name for name, _ in _user.forcing_values(user))
                raise RuntimeError(
                    f"g reads values that changed after the solve ({names}): evaluating the "
                    f"solution between {points} calls g again and would mix the new "
                    f"values with the solution of the old ones.  Evaluate it{hint} "
                    f"before changing them, or pass them to the solver with args=(...).")
        return check

    g_vec.snapshot = snapshot
    g_vec.key = key
    g_vec.shape = shape
    return g_vec, y0
