"""Quality warnings: a copying generator is called memorised, a label-swapping one leaking, fresh real
draws neither; the warnings reach quality.md and the benchmark report."""

from medgan.benchmark.report import _quality_lines
from medgan.evaluation import quality_warnings
from medgan.evaluation.report import quality_markdown

from evaluation_fakes import fresh_draws, quick_quality


def test_fresh_real_draws_raise_no_memorisation_or_leak_warning(real):
    fresh = fresh_draws()
    warnings = quality_warnings(quick_quality(real, fresh.images, fresh.labels))
    assert not [w for w in warnings if "near-copies" in w or "another class" in w]


def test_copies_of_the_training_images_are_called_memorised(real):
    train, _ = real
    warnings = quality_warnings(quick_quality(real, train.images.clone(), train.labels.clone()))
    for name in train.class_names:
        assert any(w.startswith(f"{name}:") and "near-copies" in w for w in warnings), warnings


def test_swapped_labels_are_called_a_class_leak_in_quality_md(real):
    fresh = fresh_draws()
    res = quick_quality(real, fresh.images, 1 - fresh.labels)
    leaks = [w for w in quality_warnings(res) if "another class" in w]
    assert len(leaks) == len(res["class_names"])
    assert all(f"> **Warning:** {w}" in quality_markdown(res) for w in leaks)


def test_missing_figures_raise_no_warning():
    group = {"memorization": {"flagged_fraction": float("nan")}, "fidelity": {"recall": None},
             "class_leak": None, "real_misclass": 0.0}
    assert quality_warnings({"per_class": {"a": group}}) == []


def test_a_collapsed_class_is_named_and_the_benchmark_report_shows_it(tmp_path):
    group = {"memorization": {"flagged_fraction": 0.03}, "fidelity": {"recall": 0.05},
             "class_leak": 0.05, "real_misclass": 0.1}
    warnings = quality_warnings({"per_class": {"cyst": group}})
    assert len(warnings) == 1 and warnings[0].startswith("cyst: recall 0.05")
    lines = _quality_lines({"quality": {"fastgan": {"markdown": "| table |", "warnings": warnings}}}, tmp_path)
    assert f"> **Warning:** {warnings[0]}\n" in lines
