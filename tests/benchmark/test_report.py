"""The plain-words verdict is generated from the numbers."""
import pytest
from medgan.benchmark.report import primary_sentence


def _p(lo_s, lo_t, ratios=(1.0, 0.0)):
    d = lambda lo: {"mean": lo + 0.05, "ci95": [lo, lo + 0.1], "p_value": 0.01}  # noqa: E731
    return {"arm": "cgan selected", "selected_ratios": list(ratios), "sensitivity_difference": d(lo_s),
            "specificity_difference": d(lo_t), "sensitivity_ci_lower_above_0": lo_s > 0,
            "specificity_ci_lower_above_0": lo_t > 0}


def test_gain_sentence():
    text = primary_sentence("cgan", _p(0.02, 0.01), positive="hemorrhage")
    assert "helped" in text and "sensitivity (hemorrhage) changed by 7.0 points (95 % CI 2.0 to 12.0" in text
    assert "1 of 2 folds kept the baseline" in text


def test_no_gain_and_loss_sentences():
    text = primary_sentence("dcgan", _p(-0.03, -0.2), positive=None)
    assert "did **not** demonstrably help" in text
    assert "macro sensitivity changed by 2.0 points" in text and "includes 0" in text
    assert "below 0: a loss" in text  # specificity CI [-20, -10]
    assert "chose ratio 0" in primary_sentence("cgan", _p(-0.03, -0.2, ratios=(0.0, 0.0)))


@pytest.mark.parametrize("auc_ci, warned", [((0.45, 0.60), True), ((0.80, 0.95), False)])
def test_chance_caveat_flags_a_near_chance_baseline(auc_ci, warned):
    from medgan.benchmark.report import chance_caveat

    results = {"arms": [{"name": "baseline", "auc": {"mean": sum(auc_ci) / 2, "ci95": list(auc_ci)}},
                        {"name": "cgan ratio 1", "auc": {"mean": 0.9, "ci95": [0.85, 0.95]}}]}
    caveat = chance_caveat(results)
    assert (caveat is not None) == warned
    if warned:
        assert "near chance" in caveat and "52.5" in caveat
