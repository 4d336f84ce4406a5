"""The "state-space" study (quick mode)."""
from concurrent.futures import ThreadPoolExecutor

from integrallimits.studies import STUDIES


def test_state_space_study_quick():
    res = STUDIES["state-space"](quick=True, seed=0)
    assert res.name == "state-space"
    assert {"k", "d", "state_dim", "params_smooth", "params_resnet", "ratio",
            "holds"} <= set(res.columns)
    assert [(r["k"], r["d"]) for r in res.rows] == [(k, d) for k in (1, 2, 3) for d in (1, 2)]
    for r in res.rows:
        assert r["state_dim"] == r["k"] * r["d"]
        assert r["params_smooth"] == r["d"] ** 2
        assert r["params_resnet"] == (r["k"] * r["d"]) ** 2
        assert r["ratio"] == r["k"] ** 2
        assert r["holds"] is True and r["closed_form_all_n"] is True
    assert "ratio" in res.to_markdown()


def test_state_space_study_with_executor():
    with ThreadPoolExecutor(max_workers=2) as pool:
        res = STUDIES["state-space"](quick=True, executor=pool)
    assert res.rows == STUDIES["state-space"](quick=True).rows
