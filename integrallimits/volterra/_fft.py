"""Blocked FFT history sums for convolution kernels (Hairer, Lubich & Schlichte, 1985).

The history of a convolution kernel on a uniform mesh is a lower-triangular
Toeplitz product, computed while the sources arrive one index at a time:

    acc[target(q), n] += sum_{l < n} kappa_q[n - l] @ src[source(q), l]

for every channel q.  When the sources [0, c) are known, the block of sources
[a, c) with L = c & -c (the largest power of two dividing c) and a = c - L is
added to the targets [c, c + L): every pair l < n is covered exactly once and
each target is complete before it is needed (checked by enumeration in the
tests).  Blocks with L <= L0 are summed directly; larger ones with one FFT of
length 2L per source component, a product with the precomputed transform of
kappa_q[0 .. 2L - 1], and one inverse FFT per target component: O(N log^2 N)
work and O(N) memory (the kernel transforms of all levels add up to 4N entries
per channel).
"""
from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["fft_inplace", "add_block", "kernel_transforms", "DIRECT_BLOCK"]

#: blocks of at most this many sources are summed directly (FFT overhead dominates below)
DIRECT_BLOCK = 32
#: ... and so are blocks with at most this many targets (the last, truncated blocks: for
#: N = 2^k the block c = N has one target, whose length-2N FFT would cost more than the sum)
SMALL_TARGETS = 32

_helper = njit(cache=True, nogil=True, error_model="numpy")


@_helper
def fft_inplace(x, tw, inverse):
    """Radix-2 FFT of ``x`` (complex, power-of-two length) in place.

    ``tw[k] = exp(-2 pi i k / F)`` for k < F / 2, F >= len(x) a power of two.
    The inverse transform includes the 1/n factor (numpy's convention).
    """
    n = x.shape[0]
    j = 0
    for i in range(1, n):
        bit = n >> 1
        while j & bit:
            j ^= bit
            bit >>= 1
        j |= bit
        if i < j:
            tmp = x[i]
            x[i] = x[j]
            x[j] = tmp
    full = 2 * tw.shape[0]
    length = 2
    while length <= n:
        half = length // 2
        stride = full // length
        for start in range(0, n, length):
            for k in range(half):
                w = tw[k * stride]
                if inverse:
                    w = w.conjugate()
                u = x[start + k]
                v = x[start + k + half] * w
                x[start + k] = u + v
                x[start + k + half] = u - v
        length *= 2
    if inverse:
        for i in range(n):
            x[i] = x[i] / n


@_helper
def add_block(c, kseq, khat, koff, src, acc, chan_src, chan_tgt, tw):
    """Add the sources [c - L, c) (L = c & -c) to the targets [c, c + L) of every channel."""
    L = c & -c
    a = c - L
    M = acc.shape[1]
    nend = min(c + L, M)
    if nend <= c:
        return
    Q = chan_src.shape[0]
    d = src.shape[2]
    if L <= DIRECT_BLOCK or nend - c <= SMALL_TARGETS:
        for q in range(Q):
            s = chan_src[q]
            g = chan_tgt[q]
            for n in range(c, nend):
                for l in range(a, c):
                    p = n - l
                    for x in range(d):
                        v = 0.0
                        for y in range(d):
                            v += kseq[q, p, x, y] * src[s, l, y]
                        acc[g, n, x] += v
        return
    e = 0
    while (1 << e) < L:
        e += 1
    F = 2 * L
    base = koff[e]
    ns = src.shape[0]
    nt = acc.shape[0]
    X = np.zeros((ns, d, F), dtype=np.complex128)
    for s in range(ns):
        for y in range(d):
            for i in range(L):
                X[s, y, i] = src[s, a + i, y]
            fft_inplace(X[s, y], tw, False)
    T = np.zeros((nt, d, F), dtype=np.complex128)
    for q in range(Q):
        s = chan_src[q]
        g = chan_tgt[q]
        for x in range(d):
            for y in range(d):
                off = base + ((q * d + x) * d + y) * F
                for f in range(F):
                    T[g, x, f] += khat[off + f] * X[s, y, f]
    for g in range(nt):
        for x in range(d):
            fft_inplace(T[g, x], tw, True)
            for n in range(c, nend):
                acc[g, n, x] += T[g, x, n - a].real


def kernel_transforms(kseq, n_targets):
    """Transforms of kappa_q[0 .. 2L-1] for every FFT level L (> DIRECT_BLOCK, with some block of
    more than SMALL_TARGETS targets, i.e. n_targets - L > SMALL_TARGETS).

    Returns (khat flat complex array, koff offsets by level exponent, tw twiddles).
    """
    Q, P, d, _ = kseq.shape
    levels = []
    L = 1
    while L < n_targets:
        if L > DIRECT_BLOCK and n_targets - L > SMALL_TARGETS:
            levels.append(L)
        L *= 2
    koff = np.zeros(64, dtype=np.int64)
    chunks = []
    offset = 0
    for L in levels:
        F = 2 * L
        e = L.bit_length() - 1
        koff[e] = offset
        kk = np.zeros((Q, d, d, F))
        upto = min(F, P)
        kk[:, :, :, 1:upto] = np.moveaxis(kseq[:, 1:upto], 1, 3)
        chunks.append(np.fft.fft(kk, axis=-1).reshape(-1))
        offset += Q * d * d * F
    khat = np.concatenate(chunks) if chunks else np.zeros(1, dtype=np.complex128)
    Fmax = 2 * levels[-1] if levels else 2
    tw = np.exp(-2j * np.pi * np.arange(Fmax // 2) / Fmax)
    return np.ascontiguousarray(khat), koff, tw
