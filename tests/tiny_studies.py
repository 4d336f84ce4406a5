"""Tiny settings of the expensive studies: their own tests check their content at these sizes,
and the tests of the machinery around them (reproduce, manifests, figures) run them so."""
import functools

from integrallimits.studies import STUDIES
from integrallimits.studies import deep_limit
from integrallimits.studies import dnl_gamma as dnl
from integrallimits.studies import smooth_nets as sn

DNL_GAMMA = dict(ns=(2, 4, 8), samples=6, n_test=16, n_space=4, seed_map="nystrom", seeds=1,
                 seed_ns=(2, 4), m_fixed=4, m_panels=(4, 8), m_diagonal=((2, 4), (4, 8)),
                 stability_ns=(4, 64), digits_ns=())

SMOOTH_NETS = dict(sn._COMMON, cases=[["spheres", 2]], ladder_cases=[["spheres", 2]], seeds=2, N=4,
                   ladder=[4, 8], maxiter=12, ladder_maxiter=12, samples=16, digits_samples=16,
                   n_test=16)


def shrink(monkeypatch, name):
    """Make the quick mode of study ``name`` tiny (a no-op for the cheap studies)."""
    if name == "dnl-gamma":
        monkeypatch.setitem(dnl._SETTINGS, "quick", DNL_GAMMA)
    elif name == "smooth-nets":
        monkeypatch.setitem(sn._MODES, True, SMOOTH_NETS)
    elif name in ("resnet-gamma", "dense-gamma"):
        family = "resnet" if name == "resnet-gamma" else "residual-dense"
        monkeypatch.setitem(deep_limit._SETTINGS, family,
                            dict(deep_limit._SETTINGS[family], maxiter=20, samples=16))
    elif name == "fast-convolution":
        monkeypatch.setitem(STUDIES, name, functools.partial(STUDIES[name], methods=("gregory4",)))
