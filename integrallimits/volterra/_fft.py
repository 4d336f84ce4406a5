"""Blocked FFT history sums for convolution kernels (Hairer, Lubich & Schlichte, 1985).

The history of a convolution kernel on a uniform mesh is a lower-triangular
Toeplitz product, computed while the sources arrive one index at a time:

    acc[target(q), n] += sum_{l < n} kappa_q[n - l] @ src[source(q), l]

for every channel q.  When the sources [0, c) are known, the block of sources
[a, c) with L = c & -c (the largest power of two dividing c) and a = c - L is
added to the targets [c, c + L): every pair l < n is covered exactly once and
each target is complete before it is needed (checked by enumeration in the
tests).  The blocks with L < LOCAL_BLOCK are exactly the pairs l < n inside
an aligned block of LOCAL_BLOCK indices: the solvers' loops sum those directly as
each source arrives (``add_local``), and call ``add_block`` only at the ends of
such blocks.  Blocks are also summed directly when they have at most
SMALL_TARGETS targets, or when their level is too cheap to be worth its set-up
(FFT_MIN_WORK; ``kernel_transforms`` decides and marks such levels with
koff[log2 L] = -1).  The others are cyclic convolutions of length F = 2L: one
real FFT per source component, a product with the precomputed transform of
kappa_q[0 .. 2L - 1] on the L + 1 non-negative frequencies, and one inverse
real FFT per target component.  O(N log^2 N) work and O(N) memory (the kernel
transforms of all levels add up to about 2N complex entries per channel and
matrix entry).

The real FFTs of length F = 2n (n = L) run through complex FFTs of length n on
split real/imaginary arrays (Numba, the kernel transforms of the set-up too):

* forward: z[m] = x[2m] + i x[2m+1]; a decimation-in-frequency FFT (natural order
  in, bit-reversed order out; its first pass knows that x[L:] = 0) gives Z; the
  split step X[k] = E[k] + W^k O[k] (W = exp(-2 pi i / F), E[k] = (Z[k] +
  conj Z[n-k]) / 2, O[k] = (Z[k] - conj Z[n-k]) / 2i) runs in bit-reversed order,
  where the partner n - k of the frequency at position p sits at the mirror
  position 3 * 2^j - 1 - p of p's octave [2^j, 2^(j+1)).  The "packed" layout of
  the L + 1 frequencies: position p < n holds frequency bitrev_n(p), position n
  holds frequency n.  The split step returns 2 X (no halving).
* product: with the kernel transforms stored in the same packed layout, scaled by
  1 / (2F) (``kernel_transforms``; powers of two, so exact).
* inverse: the merge step (the split step's inverse, in bit-reversed order) gives
  2 Z; the inverse complex FFT is a forward one on swapped parts (re <-> im), a
  decimation-in-time FFT from bit-reversed to natural order whose last pass only
  computes the upper half of the outputs (the targets [c, c + L)).  The result is
  F times numpy's irfft, which the 1 / (2F) in the kernel transforms cancels.

No bit-reversal permutation is ever applied.  The twiddles come in one complex
table (``twiddle_table``): for every power of two P, at offset 2P - 2,
exp(-2 pi i k / 2P) for k < P (the butterflies of span 2P, contiguous), then at
offset 3P - 2 the split-step twiddles of the real FFT of length 2P in the packed
order, exp(-2 pi i bitrev_P(p) / 2P) for p < P.  The hot loops index with unsigned
integers: with signed ones, Numba's negative-index wraparound keeps LLVM from
vectorizing them (the radix-2 passes run 2.5x faster vectorized).
"""
from __future__ import annotations

import functools
import threading

import numpy as np
from .._numba import NO_NRT, njit, types
from ..kernels._kernel import FunctionAddress, function_at

__all__ = ["add_block", "add_local", "add_sources", "block_workspace", "kernel_transforms",
           "twiddle_table", "packed_order", "fft_dif", "fft_dit", "rfft_packed", "irfft_packed",
           "forward_block", "inverse_block", "LOCAL_BLOCK", "SMALL_TARGETS", "FFT_MIN_WORK",
           "CACHE_SPAN", "TWIDDLE_CACHE_MAX", "TRANSFORM_CACHE_BYTES", "FFT_CODE",
           "fft_block_address"]

#: the pairs of sources and targets inside an aligned block of this many indices (the blocks of
#: fewer sources, L < LOCAL_BLOCK) are summed directly as each source arrives (``add_local``),
#: the rest by FFT (the whole history at N = 2^16 with 16 / 32 / 64: 7.1 / 6.5 / 6.2 ms for a
#: scalar kernel, 23 / 21 / 21 ms for gauss2's six channels, 17 / 17 / 21 ms for a 2 x 2
#: kernel, whose direct sums do not vectorise)
LOCAL_BLOCK = 32
#: ... and so are blocks with at most this many targets (the last, truncated blocks: for
#: N = 2^k the block c = N has one target, whose length-2N FFT would cost more than the sum)
SMALL_TARGETS = 16
#: ... and so are all the blocks of a level whose direct sum costs less than this many
#: multiply-adds over the whole run (n_targets / 2L blocks of L^2 Q d^2): the set-up of a
#: level's kernel transforms (about 13 us when it was done with numpy.fft; the compiled one is
#: cheaper, the threshold was not re-tuned) would cost more than its FFTs save (30 % of the
#: direct sum at L = 32, 70 % at L = 64, more above; ~1 ns per multiply-add)
FFT_MIN_WORK = 2 ** 15
#: the FFT passes of spans up to this many complex points run block by block (``_dif``): the
#: real and imaginary parts of a block, 32 KB, stay in the L1 cache through all its passes
CACHE_SPAN = 2 ** 11

#: the helpers that allocate nothing (every one below but the set-up's) compile without reference
#: counting (NO_NRT): with it, add_block's nine arrays cost ~60 ns a call, as much as a block of
#: 4 x 4 direct products.  ``_inline``: inlined in the loops (a call of add_local with its arrays
#: would cost more than the sums of a scalar run)
_leaf = njit(cache=True, nogil=True, error_model="numpy", **NO_NRT)
_inline = njit(cache=True, nogil=True, error_model="numpy", inline="always", **NO_NRT)
#: the loops' small allocating helpers, inlined in them (each compiled on its own cost the first
#: call of a fast-history solve ~0.3 s with an empty cache)
_inline_nrt = njit(cache=True, nogil=True, error_model="numpy", inline="always")


# -- set-up ---------------------------------------------------------------------------------

def _bitrevs(n):
    """[bitrev_1, bitrev_2, bitrev_4, ..., bitrev_n] (n a power of two), bitrev_P(p) for p < P;
    bitrev_2P = (2 bitrev_P, 2 bitrev_P + 1)."""
    r = np.zeros(1, dtype=np.int64)
    out = [r]
    while r.shape[0] < n:
        r = np.concatenate([2 * r, 2 * r + 1])
        out.append(r)
    return out


@functools.lru_cache(maxsize=None)
def _packed_order(n):
    order = np.concatenate([_bitrevs(n)[-1], [n]])
    order.flags.writeable = False
    return order


def packed_order(n):
    """The frequencies held by positions 0 .. n of the packed layout of a real FFT of length 2n
    (n a power of two): bitrev_n(p) at p < n, then n.  Read-only (cached)."""
    return _packed_order(int(n))


def _twiddle_table(n_max):
    theta = np.pi / n_max * np.arange(n_max)
    base = np.empty(n_max, dtype=np.complex128)  # exp(-2 pi i k / 2 n_max), k < n_max
    base.real = np.cos(theta)
    base.imag = -np.sin(theta)
    tw = np.zeros(max(4 * n_max - 2, 2), dtype=np.complex128)
    for j, r in enumerate(_bitrevs(n_max)):
        P = 1 << j
        stage = base[::n_max // P]  # exp(-2 pi i k / 2P), k < P
        tw[2 * P - 2:3 * P - 2] = stage
        tw[3 * P - 2:4 * P - 2] = stage[r]
    return tw


#: the largest n_max whose table is kept between solves (8 MB; the set-up of a table costs about
#: as much as the kernel transforms at N = 2^16, and a solve of N = 2^18 uses n_max = 2^17)
TWIDDLE_CACHE_MAX = 2 ** 17
_twiddles = [np.zeros(2, dtype=np.complex128)]  # built on first use


def twiddle_table(n_max):
    """The twiddle table for complex FFTs of length <= n_max and real FFTs of length <= 2 n_max
    (n_max a power of two; see the module docstring).  Shared between solves: do not modify.

    The table of n_max is the first 4 n_max - 2 entries of the table of any larger n_max (the
    angles pi k / n_max are scaled by powers of two, exactly), so one table, grown on demand up
    to TWIDDLE_CACHE_MAX, serves every solve: a prefix of it is returned."""
    n_max = int(n_max)
    if 4 * n_max - 2 > _twiddles[0].shape[0]:
        if n_max > TWIDDLE_CACHE_MAX:
            return _twiddle_table(n_max)
        _twiddles[0] = _twiddle_table(n_max)
    return _twiddles[0][:max(4 * n_max - 2, 2)]


# -- complex FFTs on split arrays (Numba) ------------------------------------------------------
#
# Every separately compiled function costs its own type inference, LLVM optimisation and
# machine code, and its callers compile the code of everything they call again: the FFT chain
# of seven levels this used to be (fft passes, blocks of passes, tails, block transforms, the
# FFT block, add_block, the loop) took 8-10 s to compile.  Now ``_fft_block`` holds all of the
# FFT work but the passes, ``_dif`` and ``_dit``, each one loop nest compiled on its own (inlined
# in ``_fft_block`` they ran 25 % slower); the small steps (``_split``, ``_merge``, the fused
# first and last passes) are inlined in Numba's IR, each at one or two call sites (Numba copies
# an inlined helper's IR at a cost that grows as its blocks times its variables, again for each
# helper inlined in a helper).

@_leaf
def _dif(re, im, n, top, tw):
    """Radix-2 decimation-in-frequency passes of spans top, top / 2, ..., 2 over re/im[0:n]
    (the last two fused: no multiplications).  The passes of spans up to CACHE_SPAN act within
    aligned blocks of that length: they run block by block, all of them on a block while it is
    in the cache (32 KB of real and imaginary parts); the larger spans first, over the whole
    array.  The same operations in the same order per element in any case."""
    blk = min(top, CACHE_SPAN)
    for bb in range(0, n, blk):
        b = np.uint64(bb)
        span = top if bb == 0 else blk
        while span > 4:
            lo = 0 if span > blk else bb
            hi = n if span > blk else bb + blk
            # unsigned indices: no negative-index wraparound, so LLVM vectorizes the loop
            h = np.uint64(span >> 1)
            off = np.uint64(span - 2)
            for start in range(lo, hi, span):
                s = np.uint64(start)
                for kk in range(h):
                    k = np.uint64(kk)
                    w = tw[off + k]
                    wr = w.real
                    wi = w.imag
                    i = s + k
                    j = i + h
                    ar = re[i]
                    ai = im[i]
                    br = re[j]
                    bi = im[j]
                    re[i] = ar + br
                    im[i] = ai + bi
                    dr = ar - br
                    di = ai - bi
                    re[j] = dr * wr - di * wi
                    im[j] = dr * wi + di * wr
            span >>= 1
        if span == 4:
            for g in range(blk >> 2):
                s = b + np.uint64(g) * np.uint64(4)
                s1 = s + np.uint64(1)
                s2 = s + np.uint64(2)
                s3 = s + np.uint64(3)
                y0r = re[s] + re[s2]
                y0i = im[s] + im[s2]
                y2r = re[s] - re[s2]
                y2i = im[s] - im[s2]
                y1r = re[s1] + re[s3]
                y1i = im[s1] + im[s3]
                # (x1 - x3) * (-i)
                y3r = im[s1] - im[s3]
                y3i = re[s3] - re[s1]
                re[s] = y0r + y1r
                im[s] = y0i + y1i
                re[s1] = y0r - y1r
                im[s1] = y0i - y1i
                re[s2] = y2r + y3r
                im[s2] = y2i + y3i
                re[s3] = y2r - y3r
                im[s3] = y2i - y3i
        elif span == 2:
            for g in range(blk >> 1):
                s = b + np.uint64(g) * np.uint64(2)
                s1 = s + np.uint64(1)
                ar = re[s]
                ai = im[s]
                re[s] = ar + re[s1]
                im[s] = ai + im[s1]
                re[s1] = ar - re[s1]
                im[s1] = ai - im[s1]


@_leaf
def _dit(re, im, n, top, tw):
    """Radix-2 decimation-in-time passes of spans 2, 4, ..., top over re/im[0:n] (the first two
    fused: no multiplications); those of spans up to CACHE_SPAN block by block, then the larger
    ones over the whole array (see ``_dif``)."""
    blk = min(top, CACHE_SPAN)
    for bb in range(0, n, blk):
        b = np.uint64(bb)
        if blk >= 4:
            for g in range(blk >> 2):
                s = b + np.uint64(g) * np.uint64(4)
                s1 = s + np.uint64(1)
                s2 = s + np.uint64(2)
                s3 = s + np.uint64(3)
                y0r = re[s] + re[s1]
                y0i = im[s] + im[s1]
                y1r = re[s] - re[s1]
                y1i = im[s] - im[s1]
                y2r = re[s2] + re[s3]
                y2i = im[s2] + im[s3]
                # (x2 - x3) * (-i)
                tr = im[s2] - im[s3]
                ti = re[s3] - re[s2]
                re[s] = y0r + y2r
                im[s] = y0i + y2i
                re[s2] = y0r - y2r
                im[s2] = y0i - y2i
                re[s1] = y1r + tr
                im[s1] = y1i + ti
                re[s3] = y1r - tr
                im[s3] = y1i - ti
            span = 8
        else:
            if blk == 2:
                for g in range(blk >> 1):
                    s = b + np.uint64(g) * np.uint64(2)
                    s1 = s + np.uint64(1)
                    ar = re[s]
                    ai = im[s]
                    re[s] = ar + re[s1]
                    im[s] = ai + im[s1]
                    re[s1] = ar - re[s1]
                    im[s1] = ai - im[s1]
            span = 4
        last = top if bb + blk >= n else blk   # after the last block: the larger spans
        while span <= last:
            lo = bb if span <= blk else 0
            hi = bb + blk if span <= blk else n
            h = np.uint64(span >> 1)
            off = np.uint64(span - 2)
            for start in range(lo, hi, span):
                s = np.uint64(start)
                for kk in range(h):
                    k = np.uint64(kk)
                    w = tw[off + k]
                    wr = w.real
                    wi = w.imag
                    i = s + k
                    j = i + h
                    br = re[j] * wr - im[j] * wi
                    bi = re[j] * wi + im[j] * wr
                    ar = re[i]
                    ai = im[i]
                    re[i] = ar + br
                    im[i] = ai + bi
                    re[j] = ar - br
                    im[j] = ai - bi
            span <<= 1


@_leaf
def fft_dif(re, im, tw):
    """Forward FFT of re + i im (power-of-two length) in place: natural order in, bit-reversed out."""
    n = re.shape[0]
    _dif(re, im, n, n, tw)


@_leaf
def fft_dit(re, im, tw):
    """Forward FFT of re + i im in place: bit-reversed order in, natural order out."""
    n = re.shape[0]
    _dit(re, im, n, n, tw)


# -- the real FFT of length 2n: split and merge steps in the packed layout ----------------------

@_inline
def _split(re, im, n, tw):
    """Z (length n, bit-reversed) -> 2 X (n + 1 frequencies of the real FFT of length 2n, packed)."""
    a = re[0]
    b = im[0]
    re[0] = 2.0 * (a + b)
    im[0] = 0.0
    re[n] = 2.0 * (a - b)
    im[n] = 0.0
    if n < 2:
        return
    re[1] = 2.0 * re[1]
    im[1] = -2.0 * im[1]
    off = np.uint64(3 * n - 2)
    b0 = 2
    while b0 < n:
        last = np.uint64(3 * b0 - 1)
        for pp in range(b0, b0 + (b0 >> 1)):
            p = np.uint64(pp)
            q = last - p
            w = tw[off + p]
            wr = w.real
            wi = w.imag
            # A = Z[p], B = conj(Z[q]); S = A + B, D = W^k (A - B)
            sr = re[p] + re[q]
            si = im[p] - im[q]
            dr0 = re[p] - re[q]
            di0 = im[p] + im[q]
            dr = dr0 * wr - di0 * wi
            di = dr0 * wi + di0 * wr
            # 2 X[k] = S - i D; 2 X[n - k] = conj(S) - i conj(D)
            re[p] = sr + di
            im[p] = si - dr
            re[q] = sr - di
            im[q] = -si - dr
        b0 <<= 1


@_inline
def _merge(re, im, n, tw):
    """Y = re + i im (packed) -> 2 Z (length n, bit-reversed) of Y's inverse real FFT, stored with
    the real and imaginary parts swapped; only the real parts of Y[0] and Y[n] are used."""
    a0 = re[0]
    an = re[n]
    re[0] = a0 - an
    im[0] = a0 + an
    if n < 2:
        return
    yr = re[1]
    yi = im[1]
    re[1] = -2.0 * yi
    im[1] = 2.0 * yr
    off = np.uint64(3 * n - 2)
    b0 = 2
    while b0 < n:
        last = np.uint64(3 * b0 - 1)
        for pp in range(b0, b0 + (b0 >> 1)):
            p = np.uint64(pp)
            q = last - p
            w = tw[off + p]
            wr = w.real
            wi = w.imag
            # A = Y[p], B = conj(Y[q]); S = A + B, D = conj(W^k) (A - B)
            sr = re[p] + re[q]
            si = im[p] - im[q]
            dr0 = re[p] - re[q]
            di0 = im[p] + im[q]
            dr = dr0 * wr + di0 * wi
            di = di0 * wr - dr0 * wi
            # 2 Z[k] = S + i D, 2 Z[n - k] = conj(S) + i conj(D); stored swapped (im, re)
            re[p] = si + dr
            im[p] = sr - di
            re[q] = dr - si
            im[q] = sr + di
        b0 <<= 1


@_inline
def rfft_packed(x, re, im, tw):
    """re + i im = 2 rfft(x) in the packed layout (x real of length 2n; re, im of length n + 1)."""
    n = x.shape[0] // 2
    for m in range(n):
        re[m] = x[2 * m]
        im[m] = x[2 * m + 1]
    _dif(re, im, n, n, tw)
    _split(re, im, n, tw)


@_leaf
def irfft_packed(re, im, out, tw):
    """out = 2n irfft(re + i im) (packed layout, length n + 1; out of length 2n); destroys re, im."""
    n = out.shape[0] // 2
    _merge(re, im, n, tw)
    _dit(re, im, n, n, tw)
    for m in range(n):
        out[2 * m] = im[m]
        out[2 * m + 1] = re[m]


@_leaf
def forward_block(x, re, im, n, tw):
    """re + i im = 2 rfft(x[0:n] padded with n zeros) in the packed layout (n >= 2)."""
    _first_pass(x, re, im, n, tw)
    _dif(re, im, n, n >> 1, tw)
    _split(re, im, n, tw)


@_leaf
def inverse_block(re, im, n, tw, out):
    """out[j] += (2n irfft(re + i im))[n + j] for j < len(out) <= n (n >= 2); destroys re, im."""
    _merge(re, im, n, tw)
    _dit(re, im, n, n >> 1, tw)
    _last_pass(re, im, n, tw, out)


# -- the block accumulator -------------------------------------------------------------------

#: the entry of ``kernel_transforms``' koff (the plan of the levels, indexed by log2 L; no level
#: reaches 2^63) that holds the address of the compiled ``_fft_block`` (0 when no level uses
#: the FFT)
FFT_CODE = 63
_A3 = types.float64[:, :, ::1]
_I8A = types.int64[::1]
_C1 = types.complex128[::1]
_FFT_BLOCK_SIGNATURE = types.void(types.int64, types.int64, types.int64, types.int64, _C1, _A3, _A3,
                                  _I8A, _I8A, _C1, types.float64[:, ::1])
_fft_block_at = function_at(types.FunctionType(_FFT_BLOCK_SIGNATURE))
_FFT_BLOCK = []


def fft_block_address():
    """The address of ``_fft_block`` compiled (or loaded from the on-disk cache) for the loops'
    arrays, on first use: ``add_block`` calls it through this address (``koff[FFT_CODE]``), so
    that the FFT code, the larger part of the fast history's compile time, is compiled only
    by the solves whose plan uses it (``kernel_transforms``), not by every loop that links
    ``add_block``."""
    if not _FFT_BLOCK:
        _FFT_BLOCK.append(FunctionAddress(_fft_block, _FFT_BLOCK_SIGNATURE))
    return _FFT_BLOCK[0].address


@_leaf
def _fft_block(c, L, nend, base, khat, src, acc, chan_src, chan_tgt, tw, work):
    """The FFT path of ``add_block`` (c >= L): the level's kernel transforms start at khat[base].

    With c = 0 (no block has c = 0), the kernel transforms of level L instead
    (``kernel_transforms``): for each row r = (q d + x) d + y of the kernel samples
    ``src`` = kseq viewed as (Q, P, d d), the transform of kappa_q[.., x, y] at lags
    1 .. 2L - 1 (lag 0 and lags >= P as zeros) times 1 / (8L) into khat[base + r (L + 1):][:L + 1]
    (``rfft_packed`` gives twice the rfft: the scale 1 / (8L) is a power of two, exact); ``work``
    needs 2 rows of L + 1.  One function for both, so that the transforms are compiled once."""
    a = c - L
    Q = chan_src.shape[0]
    d = src.shape[2]
    n = L  # complex FFT length; real FFT length F = 2L
    nf = n + 1
    h = n >> 1
    ns = src.shape[0] * d
    nt = acc.shape[0] * d
    upto = min(2 * n, src.shape[1])
    scale = 1.0 / (4 * (2 * n))
    # the transforms are compiled once, here: only the packing of the sources and the unpacking
    # of the targets (contiguous for d = 1, strided columns else) come in two layouts
    for r in range(ns):
        re = work[r if c else 0]
        im = work[ns + r if c else 1]
        if c == 0:
            # the kernel's samples at the lags 2m, 2m + 1 packed as re + i im (lag 0: zero)
            samples = src[r // d, :, r % d]
            for m in range(n):
                re[m] = samples[2 * m] if 0 < 2 * m < upto else 0.0
                im[m] = samples[2 * m + 1] if 2 * m + 1 < upto else 0.0
            top = n
        else:
            # forward_block: the first DIF pass (span n) with z[h:] = 0, fused with the packing;
            # a scalar source is contiguous (the packing vectorizes)
            if d == 1:
                _first_pass(src[r].reshape(-1)[a:c], re, im, n, tw)
            else:
                _first_pass(src[r // d, a:c, r % d], re, im, n, tw)
            top = h
        _dif(re, im, n, top, tw)
        _split(re, im, n, tw)
        if c == 0:
            o = base + r * nf
            for f in range(nf):
                khat[o + f] = complex(re[f] * scale, im[f] * scale)
    if c == 0:
        return
    Xr = work[:ns]
    Xi = work[ns:2 * ns]
    Tr = work[2 * ns:2 * ns + nt]
    Ti = work[2 * ns + nt:2 * ns + 2 * nt]
    for r in range(nt):
        for f in range(nf):
            Tr[r, f] = 0.0
            Ti[r, f] = 0.0
    unf = np.uint64(nf)
    for q in range(Q):
        s = chan_src[q]
        g = chan_tgt[q]
        for x in range(d):
            tr = Tr[g * d + x]
            ti = Ti[g * d + x]
            for y in range(d):
                off = np.uint64(base + ((q * d + x) * d + y) * nf)
                xr = Xr[s * d + y]
                xi = Xi[s * d + y]
                for ff in range(unf):
                    f = np.uint64(ff)
                    kv = khat[off + f]
                    kr = kv.real
                    ki = kv.imag
                    tr[f] += kr * xr[f] - ki * xi[f]
                    ti[f] += kr * xi[f] + ki * xr[f]
    for r in range(nt):
        # inverse_block: the merge step, the DIT passes but the last, which (span n) computes
        # the upper half only, z'[k + h] = a[k] - w^k a[k + h], added to the targets
        re = Tr[r]
        im = Ti[r]
        _merge(re, im, n, tw)
        _dit(re, im, n, h, tw)
        if d == 1:
            _last_pass(re, im, n, tw, acc[r].reshape(-1)[c:nend])
        else:
            _last_pass(re, im, n, tw, acc[r // d, c:nend, r % d])


@_inline
def _first_pass(x, re, im, n, tw):
    """The first DIF pass (span n) of the packed x[0:n] padded with n zeros (z[h:] = 0), fused
    with the packing."""
    h = n >> 1
    off = np.uint64(n - 2)
    uh = np.uint64(h)
    for mm in range(h):
        m = np.uint64(mm)
        w = tw[off + m]
        wr = w.real
        wi = w.imag
        xr = x[np.uint64(2) * m]
        xi = x[np.uint64(2) * m + np.uint64(1)]
        re[m] = xr
        im[m] = xi
        re[m + uh] = xr * wr - xi * wi
        im[m + uh] = xr * wi + xi * wr


@_inline
def _last_pass(re, im, n, tw, out):
    """The last DIT pass (span n) of an inverse transform, upper half only: z'[k + h] = a[k] - w^k
    a[k + h], unpacked and added to out[0:len(out)] (len(out) <= n)."""
    h = n >> 1
    off = np.uint64(n - 2)
    uh = np.uint64(h)
    nout = out.shape[0]
    for kk in range(min(h, nout >> 1)):
        k = np.uint64(kk)
        w = tw[off + k]
        wr = w.real
        wi = w.imag
        j = k + uh
        vr = re[j] * wr - im[j] * wi
        vi = re[j] * wi + im[j] * wr
        out[np.uint64(2) * k] += im[k] - vi
        out[np.uint64(2) * k + np.uint64(1)] += re[k] - vr
    if nout & 1:  # an odd number of targets: the last one, an even sample (an imaginary part)
        k = nout >> 1
        w = tw[n - 2 + k]
        j = k + h
        vi = re[j] * w.imag + im[j] * w.real
        out[2 * k] += im[k] - vi


@_inline_nrt
def stage_channels(m):
    """The channels of a Runge-Kutta/collocation history for ``add_block``: every stage j
    (source) feeds every stage i < m and the mesh value i = m (target); channel q = i m + j."""
    chan_src = np.empty(m * (m + 1), dtype=np.int64)
    chan_tgt = np.empty(m * (m + 1), dtype=np.int64)
    for i in range(m + 1):
        for j in range(m):
            chan_src[i * m + j] = j
            chan_tgt[i * m + j] = i
    return chan_src, chan_tgt


@_inline_nrt
def block_workspace(koff, src, acc):
    """The scratch rows of ``add_block``'s FFTs for the sources ``src`` and targets ``acc``:
    real and imaginary parts of a transform per source and target component, as long as the
    largest FFT level of ``koff`` needs (one allocation per solve, none per block)."""
    L = 1
    for e in range(min(koff.shape[0], FFT_CODE)):
        if koff[e] >= 0:
            L = 1 << e
    return np.empty((2 * (src.shape[0] + acc.shape[0]) * src.shape[2], L + 1))


@_leaf
def add_block(c, kseq, khat, koff, src, acc, chan_src, chan_tgt, tw, work):
    """Add the sources [c - L, c) (L = c & -c) to the targets [c, c + L) of every channel
    (``work``: see ``block_workspace``)."""
    nend = _block_fft(c, khat, koff, src, acc, chan_src, chan_tgt, tw, work)
    a = c - (c & -c)
    if _few_targets(a, c, nend, src, chan_src):
        _add_few_targets(a, c, nend, kseq, src, acc)
        return
    # direct sum, source by source: the inner loop over the targets carries no dependency
    # (unsigned lags n - l: without the negative-index wraparound it vectorizes; the level
    # L = 16 of a scalar run of N = 2^18 takes 2.4 ms instead of 3.6)
    for l in range(a, c):
        _add_direct(l, c, nend, kseq, src, acc, chan_src, chan_tgt)


@_leaf
def add_sources(n, kseq, khat, koff, src, acc, chan_src, chan_tgt, tw, work):
    """What the loops add once the sources src[:, n] are known: ``add_local(n, ...)``, or
    ``add_block(n + 1, ...)`` when n + 1 is a multiple of LOCAL_BLOCK; one call of its own, for
    the loops whose steps are long (Runge-Kutta and collocation: m stage values, Newton's
    method): inlined there, the sums slowed the rest of the step (gauss2 with a nonlinear phi,
    N = 2^14: 36.8 ms against 32.7 with a call), while the short steps of the direct rules gain
    from the inlined ``add_local`` (trapezoid, N = 2^16: 9.1 ms against 10.5).  One function
    for both, with one copy of the direct sums: a compiled function less in these loops."""
    c = n + 1
    if c % LOCAL_BLOCK:   # add_local: the source n, to the later targets of its aligned block
        a = n
        nend = min((n | (LOCAL_BLOCK - 1)) + 1, acc.shape[1])
    else:
        a = c - (c & -c)
        nend = _block_fft(c, khat, koff, src, acc, chan_src, chan_tgt, tw, work)
        if _few_targets(a, c, nend, src, chan_src):
            _add_few_targets(a, c, nend, kseq, src, acc)
            return
    for l in range(a, c):
        _add_direct(l, c, nend, kseq, src, acc, chan_src, chan_tgt)


@_inline
def _block_fft(c, khat, koff, src, acc, chan_src, chan_tgt, tw, work):
    """The block of ``add_block(c, ...)`` by FFT if its level uses it (``kernel_transforms``):
    returns the end of its targets that are left to sum directly, c when none are."""
    L = c & -c
    nend = min(c + L, acc.shape[1])
    if L >= LOCAL_BLOCK and nend - c > SMALL_TARGETS:
        e = 0
        while (1 << e) < L:
            e += 1
        if koff[e] >= 0:  # kernel_transforms chose the FFT for this level
            _fft_block_at(koff[FFT_CODE])(c, L, nend, koff[e], khat, src, acc, chan_src, chan_tgt,
                                          tw, work)
            return c
    return max(nend, c)


@_inline
def _add_direct(l, c, nend, kseq, src, acc, chan_src, chan_tgt):
    """acc[target(q), n] += kappa_q[n - l] @ src[source(q), l] for the targets c <= n < nend."""
    d = src.shape[2]
    for q in range(chan_src.shape[0]):
        s = chan_src[q]
        g = chan_tgt[q]
        if d == 1:
            z = np.uint64(0)
            v = src[s, l, 0]
            ul = np.uint64(l)
            for nn in range(c, nend):
                n = np.uint64(nn)
                acc[g, n, z] += kseq[q, n - ul, z, z] * v
        else:
            for n in range(c, nend):
                p = n - l
                for x in range(d):
                    v = 0.0
                    for y in range(d):
                        v += kseq[q, p, x, y] * src[s, l, y]
                    acc[g, n, x] += v


#: a scalar run's direct block of at least LOCAL_BLOCK sources and at most this many targets (the
#: last, truncated blocks: c = N for N = 2^k has one target, and 2^(k-1) sources) is summed
#: target by target (``_add_few_targets``): source by source, the inner loop of a few targets
#: costs ~4 ns a source (0.29 ms of the 6.5 of the history at N = 2^16), target by target
#: four independent sums ~1 ns
FEW_TARGETS = 8


@_inline
def _few_targets(a, c, nend, src, chan_src):
    """Whether ``add_block``'s direct sum of the sources [a, c) to the targets [c, nend) is
    made by ``_add_few_targets``."""
    return (nend - c <= FEW_TARGETS and c - a >= LOCAL_BLOCK and chan_src.shape[0] == 1
            and src.shape[2] == 1)


@_inline
def _add_few_targets(a, c, nend, kseq, src, acc):
    """``_add_direct(l, c, nend, ...)`` for l = a .. c - 1 (one channel, d = 1), target by
    target: each target's sum adds the same products in the same order (l increasing) to
    acc[0, n, 0], so the values are the same, bit for bit; up to four targets at a time, their
    sums independent (the adds of one sum wait for each other)."""
    z = np.uint64(0)
    n = c
    while n < nend:
        m = min(nend - n, 4)
        v0 = acc[0, n, 0]
        v1 = acc[0, n + 1, 0] if m > 1 else 0.0
        v2 = acc[0, n + 2, 0] if m > 2 else 0.0
        v3 = acc[0, n + 3, 0] if m > 3 else 0.0
        p = np.uint64(n - a)   # the lag n - l at l = a
        for ll in range(a, c):
            l = np.uint64(ll)
            v = src[z, l, z]
            v0 += kseq[z, p, z, z] * v
            if m > 1:
                v1 += kseq[z, p + np.uint64(1), z, z] * v
            if m > 2:
                v2 += kseq[z, p + np.uint64(2), z, z] * v
            if m > 3:
                v3 += kseq[z, p + np.uint64(3), z, z] * v
            p -= np.uint64(1)
        acc[0, n, 0] = v0
        if m > 1:
            acc[0, n + 1, 0] = v1
        if m > 2:
            acc[0, n + 2, 0] = v2
        if m > 3:
            acc[0, n + 3, 0] = v3
        n += m


@_inline
def add_local(n, kseq, src, acc, chan_src, chan_tgt):
    """Add the new sources src[:, n] to the later targets of their aligned block of LOCAL_BLOCK
    indices, n + 1 ... (n | (LOCAL_BLOCK - 1)), directly.

    With ``add_block(n + 1, ...)`` instead whenever n + 1 is a multiple of LOCAL_BLOCK, called
    for n = 0, 1, ... in turn, this leaves in acc[:, n + 1] the whole history of target n + 1:
    the blocks of ``add_block`` with L < LOCAL_BLOCK are exactly the pairs inside aligned blocks
    of LOCAL_BLOCK indices.  The loops make that choice themselves: inlined there, this costs
    about 1 ns a call beside its sums; a function around both, with all the arrays of
    ``add_block``, would cost 25 ns a call, more than the sums of a scalar run."""
    _add_direct(n, n + 1, min((n | (LOCAL_BLOCK - 1)) + 1, acc.shape[1]), kseq, src, acc,
                chan_src, chan_tgt)


#: the kernel transforms of the last few calls of ``kernel_transforms`` are kept, up to this
#: many bytes of transforms and samples in all: a solve with an error estimate makes them for
#: the solution and its companions on every other and every fourth point (1.2 ms at N = 2^16,
#: 5 ms at 2^18, a tenth of such a solve), and a solve repeated with the same kernel and step
#: (another g, a tolerance's refinements, whose companions are the earlier solves' meshes)
#: finds them here instead of making them again
TRANSFORM_CACHE_BYTES = 2 ** 25
_transforms = []   # [(samples as int64 bits, n_targets, (khat, koff, tw), bytes)], newest last
_transforms_lock = threading.Lock()


def kernel_transforms(kseq, n_targets):
    """Transforms of kappa_q[0 .. 2L-1] for every FFT level L: L >= LOCAL_BLOCK, with some block
    of more than SMALL_TARGETS targets (n_targets - L > SMALL_TARGETS) and a direct sum of at
    least FFT_MIN_WORK multiply-adds (n_targets L Q d^2 / 2).

    The transforms of the last calls are kept (TRANSFORM_CACHE_BYTES): a call with the same
    samples, bit for bit, and ``n_targets`` returns the same arrays (the loops only read them;
    do not modify them).

    Returns (khat flat complex array, koff offsets by level exponent, tw twiddles): at
    koff[log2 L], for each (q, x, y), the L + 1 entries of rfft(kappa_q[.., x, y] for lags
    1 .. 2L - 1, lag 0 and lags >= len(kseq) as zero) / (4L) in the packed layout; koff = -1
    for the levels summed directly (``add_block`` follows koff).  koff[FFT_CODE] is the address
    of the compiled FFT block (``fft_block_address``) when some level uses the FFT, else 0:
    only then are the FFT codes compiled.
    """
    key = None
    if kseq.dtype == np.float64 and kseq.size * 8 <= TRANSFORM_CACHE_BYTES // 4:
        key = np.ascontiguousarray(kseq).view(np.int64)   # (bits: -0.0 and NaN as they are)
        with _transforms_lock:
            for i, (samples, n, found, _) in enumerate(_transforms):
                if n == n_targets and samples.shape == key.shape and np.array_equal(samples, key):
                    _transforms.append(_transforms.pop(i))
                    return found
    found = _kernel_transforms(kseq, n_targets)
    if key is not None and found[1][FFT_CODE] != 0:   # (only where some level uses the FFT)
        size = key.nbytes + found[0].nbytes
        with _transforms_lock:
            _transforms.append((key.copy(), n_targets, found, size))
            while sum(entry[3] for entry in _transforms) > TRANSFORM_CACHE_BYTES:
                _transforms.pop(0)
    return found


def _kernel_transforms(kseq, n_targets):
    """``kernel_transforms`` made anew."""
    Q, P, d, _ = kseq.shape
    levels = []
    L = 1
    while L < n_targets:
        if (L >= LOCAL_BLOCK and n_targets - L > SMALL_TARGETS
                and n_targets * L * Q * d * d >= 2 * FFT_MIN_WORK):
            levels.append(L)
        L *= 2
    koff = np.full(64, -1, dtype=np.int64)
    khat = np.zeros(max(sum(Q * d * d * (L + 1) for L in levels), 1), dtype=np.complex128)
    tw = twiddle_table(levels[-1] if levels else 1)
    if not levels:
        koff[FFT_CODE] = 0
        return khat, koff, tw
    koff[FFT_CODE] = fft_block_address()
    # the arrays of the compiled signature (a read-only kseq would compile another)
    samples = np.require(kseq, dtype=np.float64, requirements=("C", "W")).reshape(Q, P, d * d)
    work = np.empty((2, levels[-1] + 1))
    offset = 0
    for L in levels:
        koff[L.bit_length() - 1] = offset
        _fft_block(0, L, 0, offset, khat, samples, _NO_TARGETS, _NO_CHANNELS, _NO_CHANNELS, tw, work)
        offset += Q * d * d * (L + 1)
    return khat, koff, tw


_NO_TARGETS = np.zeros((0, 0, 1))
_NO_CHANNELS = np.zeros(0, dtype=np.int64)
