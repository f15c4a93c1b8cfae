"""The selection rules: Hanley-McNeil standard errors and the one-standard-error rule."""
import math

import pytest

from medgan.benchmark.config import BenchmarkConfig
from medgan.benchmark.selection import auc_standard_error, select_candidate, validation_standard_error
from medgan.cli import build_parser
from medgan.cli.benchmark import build_config
from medgan.errors import ConfigError


def _arms(**val_auc):
    """Records with a validation AUC per candidate; a later candidate has the lower validation loss."""
    return {name: {"val": {"auc/1": v, "auc": v}, "val_loss": 1.0 - 0.1 * i}
            for i, (name, v) in enumerate(val_auc.items())}


CANDIDATES = {"baseline": "baseline", "mix 1": "mix 1"}


def test_auc_error_at_chance_is_the_mann_whitney_null_variance():
    n1, n0 = 16, 24
    assert auc_standard_error(0.5, n1, n0) == pytest.approx(math.sqrt((n1 + n0 + 1) / (12 * n1 * n0)))


def test_auc_error_shrinks_with_more_cases_and_vanishes_at_a_perfect_auc():
    assert auc_standard_error(0.9, 64, 64) < auc_standard_error(0.9, 16, 16) < auc_standard_error(0.7, 16, 16)
    assert auc_standard_error(1.0, 16, 16) == 0.0
    assert math.isnan(auc_standard_error(0.9, 0, 16))


def test_validation_error_of_a_multiclass_auc_averages_the_classes():
    val = {"auc/0": 0.9, "auc/1": 0.8, "auc/2": 0.7, "auc": 0.8}
    counts = [10, 10, 20]
    expected = (auc_standard_error(0.9, 10, 30) + auc_standard_error(0.8, 10, 30) + auc_standard_error(0.7, 20, 20)) / 3
    assert validation_standard_error(val, "auc", counts) == pytest.approx(expected)


def test_validation_error_of_binary_balanced_accuracy():
    val = {"sensitivity/1": 0.8, "specificity/1": 0.9, "auc/1": 0.9, "balanced_accuracy": 0.85}
    expected = 0.5 * math.sqrt(0.8 * 0.2 / 10 + 0.9 * 0.1 / 30)
    assert validation_standard_error(val, "balanced_accuracy", [30, 10]) == pytest.approx(expected)


def test_best_rule_takes_a_gain_inside_the_noise_and_the_one_se_rule_keeps_the_baseline():
    arms = _arms(**{"baseline": 0.90, "mix 1": 0.92})  # SE at 0.92 with 16 + 16 cases is about 0.05
    assert select_candidate(CANDIDATES, arms, "auc", "best") == "mix 1"
    assert select_candidate(CANDIDATES, arms, "auc", "one-se", [16, 16]) == "baseline"


def test_one_se_rule_takes_a_gain_beyond_one_standard_error():
    arms = _arms(**{"baseline": 0.80, "mix 1": 0.97})
    assert select_candidate(CANDIDATES, arms, "auc", "one-se", [16, 16]) == "mix 1"


def test_a_tie_goes_to_the_lower_loss_under_best_and_to_the_baseline_under_one_se():
    arms = _arms(**{"baseline": 0.99, "mix 1": 0.99})
    assert select_candidate(CANDIDATES, arms, "auc", "best") == "mix 1"
    assert select_candidate(CANDIDATES, arms, "auc", "one-se", [16, 16]) == "baseline"


def test_a_perfect_validation_auc_does_not_beat_a_baseline_one_pair_short():
    arms = _arms(**{"baseline": 0.9922, "mix 1": 1.0})  # one of 256 pairs misordered; SE(1.0) is 0
    assert select_candidate(CANDIDATES, arms, "auc", "best") == "mix 1"
    assert select_candidate(CANDIDATES, arms, "auc", "one-se", [16, 16]) == "baseline"


def test_an_error_that_cannot_be_computed_keeps_the_baseline():
    arms = _arms(**{"baseline": 0.80, "mix 1": 0.97})
    assert select_candidate(CANDIDATES, arms, "auc", "one-se", [0, 16]) == "baseline"


def test_one_se_without_a_baseline_candidate_or_an_unknown_rule_is_refused():
    arms = _arms(**{"mix 1": 0.90, "balance": 0.91})
    with pytest.raises(ValueError, match="needs the baseline"):
        select_candidate({"mix 1": "mix 1", "balance": "balance"}, arms, "auc", "one-se", [16, 16])
    with pytest.raises(ValueError, match="unknown selection rule"):
        select_candidate(CANDIDATES, _arms(baseline=0.9, **{"mix 1": 0.9}), "auc", "Best")
    with pytest.raises(ConfigError, match="needs 0 in --ratios"):
        BenchmarkConfig(ratios=(1.0, 2.0), selection_rule="one-se").validate()


def test_unknown_rule_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown selection rule 'strict'"):
        BenchmarkConfig(selection_rule="strict").validate()


def test_selection_rule_flag_sets_the_config(tmp_path):
    args = build_parser().parse_args(["benchmark", "--out", str(tmp_path), "--selection-rule", "one-se"])
    assert build_config(args).selection_rule == "one-se"
