"""The FFT routines of the blocked convolution history (``integrallimits.volterra._fft``)
against numpy.fft: complex FFTs, the real FFT through a half-length complex FFT (the even /
odd samples packed as x[2m] + i x[2m+1]) and its inverse, the zero-padded / upper-half
block transforms used by ``add_block``, the kernel transforms and whole FFT blocks."""
import numpy as np
import pytest

from integrallimits.volterra import _fft
from integrallimits.volterra._fft import (FEW_TARGETS, FFT_CODE, FFT_MIN_WORK, LOCAL_BLOCK,
                                          SMALL_TARGETS, add_block, add_sources, block_workspace,
                                          fft_block_address, fft_dif, fft_dit, forward_block,
                                          inverse_block, irfft_packed, kernel_transforms,
                                          packed_order, rfft_packed, twiddle_table)

LENGTHS = [2 ** k for k in range(1, 15)]  # 2 ... 2^14
RTOL = 1e-12


def _fft_error_bound(n):
    """Relative 2-norm error bound of a radix-2 FFT of length n in floating point (Higham,
    Accuracy and Stability of Numerical Algorithms, 2nd ed., Thm 24.2): log2(n) eta / (1 -
    log2(n) eta), eta = mu + gamma_4 (sqrt(2) + mu), with mu = u the error of the computed
    twiddles (cos and sin to within an ulp) and gamma_4 = 4u / (1 - 4u)."""
    u = np.finfo(float).eps / 2
    mu = u
    eta = mu + 4 * u / (1 - 4 * u) * (np.sqrt(2) + mu)
    k = np.log2(n)
    return k * eta / (1 - k * eta)


def _rel(got, ref):
    return np.max(np.abs(got - ref)) / np.max(np.abs(ref))


def _bitrev(n):
    """bitrev_n(p), p < n, from the binary digits (independent of the module's)."""
    bits = n.bit_length() - 1
    return np.array([int(format(p, f"0{bits}b")[::-1], 2) if bits else 0 for p in range(n)])


def _hermitian_spectrum(rng, n):
    """rfft of a random real sequence of length 2n, with junk imaginary parts at 0 and n
    (which numpy's irfft and ours ignore)."""
    Y = np.fft.rfft(rng.standard_normal(2 * n))
    Y[0] += 1j * rng.standard_normal()
    Y[n] += 1j * rng.standard_normal()
    return Y


def test_packed_order_and_twiddle_table():
    for n in LENGTHS:
        order = packed_order(n)
        assert np.array_equal(order[:n], _bitrev(n)) and order[n] == n
        # the partner n - k of the frequency at position p sits at the mirror position of p's octave
        for j in range(1, n.bit_length() - 1):
            b0 = 2 ** j
            p = np.arange(b0, 2 * b0)
            assert np.array_equal(order[3 * b0 - 1 - p], n - order[p])
    tw = twiddle_table(64)
    assert tw.shape == (4 * 64 - 2,)
    P = 1
    while P <= 64:
        np.testing.assert_allclose(tw[2 * P - 2:3 * P - 2], np.exp(-2j * np.pi * np.arange(P) / (2 * P)),
                                   rtol=0, atol=1e-15)
        np.testing.assert_allclose(tw[3 * P - 2:4 * P - 2], np.exp(-2j * np.pi * _bitrev(P) / (2 * P)),
                                   rtol=0, atol=1e-15)
        P *= 2


@pytest.mark.parametrize("n", LENGTHS)
def test_complex_ffts_match_numpy(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    ref = np.fft.fft(x)
    tw = twiddle_table(n)
    # decimation in frequency: natural order in, bit-reversed order out
    re, im = x.real.copy(), x.imag.copy()
    fft_dif(re, im, tw)
    assert _rel(re + 1j * im, ref[_bitrev(n)]) <= RTOL
    # decimation in time: bit-reversed order in, natural order out
    xb = x[_bitrev(n)]
    re, im = xb.real.copy(), xb.imag.copy()
    fft_dit(re, im, tw)
    assert _rel(re + 1j * im, ref) <= RTOL


@pytest.mark.parametrize("F", LENGTHS)
def test_real_fft_through_half_length_complex_fft(F):
    """rfft_packed = 2 rfft in the packed order; irfft_packed = F irfft; round trip."""
    n = F // 2
    rng = np.random.default_rng(F)
    tw = twiddle_table(n)
    x = rng.standard_normal(F)
    re, im = np.empty(n + 1), np.empty(n + 1)
    rfft_packed(x, re, im, tw)
    assert _rel(re + 1j * im, 2 * np.fft.rfft(x)[packed_order(n)]) <= RTOL
    out = np.empty(F)
    irfft_packed(re, im, out, tw)
    assert _rel(out, 2 * F * x) <= RTOL
    Y = _hermitian_spectrum(rng, n)
    Yp = Y[packed_order(n)]
    re, im = Yp.real.copy(), Yp.imag.copy()
    irfft_packed(re, im, out, tw)
    assert _rel(out, F * np.fft.irfft(Y, F)) <= RTOL


@pytest.mark.parametrize("F", LENGTHS[1:])
def test_block_transforms_match_numpy(F):
    """forward_block: 2 rfft of L = F / 2 samples padded with L zeros; inverse_block adds the
    upper half of F irfft to its output (full, odd and short lengths; strided views as in
    add_block, whose sources and targets are columns of (channels, M, d) arrays)."""
    n = F // 2
    rng = np.random.default_rng(F + 1)
    tw = twiddle_table(n)
    src = rng.standard_normal((2, n + 5, 3))
    x = src[1, 3:3 + n, 2]  # non-contiguous
    re, im = np.empty(n + 1), np.empty(n + 1)
    forward_block(x, re, im, n, tw)
    xpad = np.concatenate([x, np.zeros(n)])
    assert _rel(re + 1j * im, 2 * np.fft.rfft(xpad)[packed_order(n)]) <= RTOL
    xc = np.ascontiguousarray(x)
    forward_block(xc, re, im, n, tw)
    assert _rel(re + 1j * im, 2 * np.fft.rfft(xpad)[packed_order(n)]) <= RTOL

    Y = _hermitian_spectrum(rng, n)
    Yp = Y[packed_order(n)]
    full = F * np.fft.irfft(Y, F)
    for count in sorted({n, n - 1, 1, n // 2 + 1}):
        for strided in (False, True):
            acc = rng.standard_normal((2, n + 7, 2))
            acc0 = acc.copy()
            out = acc[1, 4:4 + count, 1] if strided else acc[1, 4:4 + count, 1].copy()
            re, im = Yp.real.copy(), Yp.imag.copy()
            inverse_block(re, im, n, tw, out)
            assert _rel(out - acc0[1, 4:4 + count, 1], full[n:n + count]) <= RTOL, (count, strided)
            if strided:  # the view was updated in place, nothing else was touched
                changed = acc != acc0
                changed[1, 4:4 + count, 1] = False
                assert not changed.any()


def _fft_levels(M, Q, d):
    return [L for L in (2 ** k for k in range(1, 20)) if L < M and L >= LOCAL_BLOCK
            and M - L > SMALL_TARGETS and M * L * Q * d * d >= 2 * FFT_MIN_WORK]


def test_kernel_transforms_convention():
    """khat at level L: rfft of kappa[1 .. 2L - 1] (lag 0 and lags past the samples as zeros),
    divided by 4L, in the packed order, for every (channel, x, y); koff = -1 for the levels
    summed directly."""
    rng = np.random.default_rng(7)
    Q, d, M = 3, 2, 300
    assert _fft_levels(M, Q, d) == [32, 64, 128, 256]
    assert _fft_levels(M, 1, 1) == [256]  # too little work at L = 32, 64, 128
    assert _fft_levels(65, 1, 1) == []
    for P in (M, 100):  # kernel samples covering every lag; fewer than 2L samples
        kseq = rng.standard_normal((Q, P, d, d))
        khat, koff, tw = kernel_transforms(kseq, M)
        size = 0
        for L in _fft_levels(M, Q, d):
            F = 2 * L
            kk = np.zeros((Q, d, d, F))
            upto = min(F, P)
            kk[..., 1:upto] = np.moveaxis(kseq[:, 1:upto], 1, 3)
            ref = np.fft.rfft(kk, axis=-1)[..., packed_order(L)] / (4 * L)
            e = L.bit_length() - 1
            assert koff[e] == size
            got = khat[koff[e]:koff[e] + Q * d * d * (L + 1)].reshape(Q, d, d, L + 1)
            # both are radix-2 transforms of length 2L (ours: log2 L complex passes and the
            # split step): within the error bound of each, in the 2-norm over a full spectrum
            # (the packed layout holds the L + 1 non-negative frequencies; the others are
            # their conjugates, so the norms of the halves bound those of the whole)
            err = np.sqrt(np.sum(np.abs(got - ref) ** 2, axis=-1))
            assert np.all(err <= 2 * _fft_error_bound(F) * np.sqrt(np.sum(np.abs(ref) ** 2, axis=-1)))
            size += Q * d * d * (L + 1)
        assert khat.shape == (size,) and khat.dtype == np.complex128
        assert sorted(np.flatnonzero(koff[:FFT_CODE] >= 0)) == [5, 6, 7, 8]
        assert koff[FFT_CODE] == fft_block_address() != 0
        np.testing.assert_array_equal(tw, twiddle_table(256))
    khat, koff, tw = kernel_transforms(rng.standard_normal((1, 65, 1, 1)), 65)
    assert np.all(koff[:FFT_CODE] == -1) and koff[FFT_CODE] == 0 and khat.shape == (1,)


@pytest.mark.parametrize("M", [2 ** 10 + 17, 2 ** 10 + 18, 2 ** 11 + 301, 3001, 2 ** 12 + 1])
@pytest.mark.parametrize("d", [1, 2])
def test_add_block_equals_numpy_convolution(M, d):
    """Every block of a run c = 1 .. M - 1 (FFT levels 32 ... 2048, truncated last blocks with
    odd and even target counts), several channels sharing sources and targets, against
    np.convolve."""
    rng = np.random.default_rng(M * d)
    cs, ct = np.array([0, 1, 1, 0]), np.array([1, 0, 1, 1])
    Q, ns, nt = 4, 2, 2
    assert _fft_levels(M, Q, d)[0] == 32
    kseq = rng.standard_normal((Q, M, d, d)) * np.exp(-np.arange(M) / 500.0)[None, :, None, None]
    src = rng.standard_normal((ns, M, d))
    acc = np.zeros((nt, M, d))
    khat, koff, tw = kernel_transforms(kseq, M)
    work = block_workspace(koff, src, acc)
    for c in range(1, M):
        add_block(c, kseq, khat, koff, src, acc, cs, ct, tw, work)
    ref = np.zeros_like(acc)
    for q in range(Q):
        for x in range(d):
            for y in range(d):
                kappa = kseq[q, :, x, y].copy()
                kappa[0] = 0.0
                ref[ct[q], :, x] += np.convolve(kappa, src[cs[q], :, y])[:M]
    assert np.max(np.abs(acc - ref)) <= 1e-12 * np.max(np.abs(ref))


def test_kernel_transforms_kept_for_the_same_samples():
    """A call with the same samples (bit for bit, another array) and target count returns the
    transforms it made before (the companions of an error estimate, a repeated solve); other
    samples (one bit, a zero's sign) or another count make new ones, equal to those of a
    first call."""
    rng = np.random.default_rng(11)
    kseq = rng.standard_normal((1, 4097, 1, 1))
    khat, koff, _ = kernel_transforms(kseq, 4097)
    assert koff[FFT_CODE] != 0
    again = kernel_transforms(kseq.copy(), 4097)
    assert again[0] is khat and again[1] is koff
    other = kseq.copy()
    other[0, 100, 0, 0] = np.nextafter(other[0, 100, 0, 0], np.inf)
    zero = kseq.copy()
    zero[0, 0, 0, 0] = 0.0
    negative_zero = kseq.copy()
    negative_zero[0, 0, 0, 0] = -0.0
    first_zero = kernel_transforms(zero, 4097)[0]
    for samples, M in ((other, 4097), (negative_zero, 4097), (kseq, 4000)):
        new = kernel_transforms(samples, M)[0]
        assert new is not khat and new is not first_zero
    assert kernel_transforms(zero.copy(), 4097)[0] is first_zero
    assert not np.array_equal(kernel_transforms(other, 4097)[0], khat)
    # (what is kept is what would be made again)
    np.testing.assert_array_equal(kernel_transforms(kseq.copy(), 4097)[0],
                                  _fft._kernel_transforms(kseq, 4097)[0])


@pytest.mark.parametrize("k", [6, 10])
@pytest.mark.parametrize("targets", [1, 2, 3, 4, 5, 7, FEW_TARGETS, FEW_TARGETS + 1])
def test_few_targets_block_sums_in_order(k, targets):
    """The direct sum of a scalar block of many sources and a few targets (the truncated last
    block c = 2^k, its 2^k sources) adds the same products in the same order as the sum source
    by source: the same floats, bit for bit (``add_block`` and ``add_sources`` alike)."""
    c = 2 ** k
    M = c + targets
    rng = np.random.default_rng(k * 100 + targets)
    kseq = rng.standard_normal((1, M, 1, 1))
    src = rng.standard_normal((1, M, 1))
    acc0 = rng.standard_normal((1, M, 1))
    khat, koff, tw = kernel_transforms(kseq, M)
    chan = np.zeros(1, dtype=np.int64)
    ref = acc0.copy()
    for n in range(c, M):
        v = float(acc0[0, n, 0])
        for l in range(c):
            v += float(kseq[0, n - l, 0, 0]) * float(src[0, l, 0])
        ref[0, n, 0] = v
    for add in (lambda acc, work: add_block(c, kseq, khat, koff, src, acc, chan, chan, tw, work),
                lambda acc, work: add_sources(c - 1, kseq, khat, koff, src, acc, chan, chan, tw,
                                              work)):
        acc = acc0.copy()
        add(acc, block_workspace(koff, src, acc))
        np.testing.assert_array_equal(acc, ref)
