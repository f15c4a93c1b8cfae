"""The plain-words verdict is generated from the numbers."""
import pytest
from medgan.benchmark.report import _rare_class_table, primary_sentence


def _p(lo_s, lo_t, ratios=(1.0, 0.0), t_lo=None):
    def d(lo):
        t_low = lo if t_lo is None else t_lo
        return {"mean": lo + 0.05, "ci95": [lo, lo + 0.1], "p_value": 0.01,
                "corrected_t": {"mean": lo + 0.05, "ci95": [t_low, t_low + 0.1], "p_value": 0.04}}

    clears = lambda lo: lo > 0 and (lo if t_lo is None else t_lo) > 0  # noqa: E731
    return {"arm": "cgan selected", "selected_ratios": list(ratios), "sensitivity_difference": d(lo_s),
            "specificity_difference": d(lo_t), "sensitivity_ci_lower_above_0": clears(lo_s),
            "specificity_ci_lower_above_0": clears(lo_t)}


def test_gain_sentence():
    text = primary_sentence("cgan", _p(0.02, 0.01), positive="hemorrhage")
    assert "helped" in text and "sensitivity (hemorrhage) changed by 7.0 points (95 % CI 2.0 to 12.0" in text
    assert "1 of 2 folds kept the baseline" in text
    assert "corrected t-test 2.0 to 12.0, p = 0.040" in text


def test_bootstrap_gain_without_corrected_t_is_not_a_gain():
    from medgan.benchmark.aggregate import _clears_zero

    text = primary_sentence("cgan", _p(0.02, 0.01, t_lo=-0.05))
    assert "did **not** demonstrably help" in text and "does not confirm it" in text
    boot_only = {"ci95": [0.02, 0.12], "corrected_t": {"ci95": [-0.05, 0.2]}}
    assert not _clears_zero(boot_only)
    assert _clears_zero({"ci95": [0.02, 0.12], "corrected_t": {"ci95": [0.01, 0.2]}})
    assert not _clears_zero({"ci95": [0.02, 0.12], "corrected_t": {"ci95": [float("nan")] * 2}})


def test_no_gain_and_loss_sentences():
    text = primary_sentence("dcgan", _p(-0.03, -0.2), positive=None)
    assert "did **not** demonstrably help" in text
    assert "macro sensitivity changed by 2.0 points" in text and "includes 0" in text
    assert "both 95 % CIs lie below 0: a loss" in text  # specificity CIs [-20, -10], both tests
    boot_only_loss = primary_sentence("dcgan", _p(-0.03, -0.2, t_lo=-0.25 + 0.2))  # corrected t [-5, 5]
    assert "a loss" not in boot_only_loss and "bootstrap CI lies below 0, but" in boot_only_loss
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


def _rare_results(positive, rare_metric):
    est = lambda m: {"mean": m, "ci95": [m - 0.1, m + 0.1]}  # noqa: E731
    arm = {"name": "baseline", "rare_class_sensitivity": est(0.7), "sensitivity": est(0.7),
           "specificity": est(0.9), "auc": est(0.85), "per_class": {"specificity/0": est(0.9)}}
    sc = {"rare_class": "hemorrhage", "rare_metric": rare_metric}
    return {"data": {"positive_class": positive}, "arms": [arm]}, sc


def test_rare_class_table_drops_the_overall_pair_when_it_repeats_the_rare_class():
    results, sc = _rare_results("hemorrhage", "sensitivity")
    lines = _rare_class_table(results, sc)
    assert lines[0].count("|") == 5 and "| sensitivity |" not in lines[0]
    assert lines[2] == "| baseline | 70.0 [60.0, 80.0] | 90.0 [80.0, 100.0] | 85.0 [75.0, 95.0] |"
    assert "also the overall sensitivity" in lines[-1]


def test_rare_class_table_keeps_the_overall_pair_on_a_multi_class_task():
    results, sc = _rare_results(None, "sensitivity/0")
    lines = _rare_class_table(results, sc)
    assert "| sensitivity | specificity | AUC |" in lines[0] and lines[1].count("---") == 6
    assert len(lines) == 3


def test_rare_class_table_says_when_the_rare_class_is_the_negative_one():
    results, sc = _rare_results("normal", "specificity")
    assert "hemorrhage sensitivity is the overall specificity" in _rare_class_table(results, sc)[-1]
