"""End-to-end protocol on tiny data with a fake GAN: no leakage, resumable, complete results."""
import json

import pytest
import torch

from medgan.benchmark.config import BenchmarkConfig, quick_config
from medgan.benchmark.protocol import resolve_positive, run_benchmark
from medgan.errors import ConfigError

from benchmark_fakes import FakeFactory, small_config, tiny_data


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("bench")
    data = tiny_data()
    factory = FakeFactory()
    results = run_benchmark(small_config(), out, data=data, gan_factory=factory, progress=False, log=lambda s: None)
    return out, data, factory, results


def test_results_json_has_required_keys(finished):
    out, _, _, results = finished
    on_disk = json.loads((out / "results.json").read_text())
    assert {"config", "versions", "data", "arms"} <= set(on_disk)
    assert {"fingerprint", "classes", "counts"} <= set(on_disk["data"])
    names = [a["name"] for a in on_disk["arms"]]
    assert names == ["baseline", "cgan ratio 1", "cgan synthetic only", "cgan selected"]
    for arm in on_disk["arms"]:
        for m in ("sensitivity", "specificity", "balanced_accuracy", "auc"):
            assert set(arm[m]) >= {"mean", "ci95"} and len(arm[m]["ci95"]) == 2
        assert {"name", "synthetic_ratio", "p_value_vs_baseline", "per_fold"} <= set(arm)
        assert len(arm["per_fold"]) == 2
    assert on_disk["primary_endpoint"]["cgan"]["arm"] == "cgan selected"
    assert on_disk["timing"]["fold_devices"] == {"cpu: 1 thread(s)": 2} and on_disk["timing"]["workers"] == 1
    assert "Folds ran on: cpu: 1 thread(s) (2 folds)." in (out / "report.md").read_text()
    assert (out / "report.md").exists() and (out / "figures" / "sens_spec.png").exists()
    assert (out / "figures" / "roc.png").exists() and (out / "figures" / "samples.png").exists()


def test_gan_never_sees_test_or_val_and_no_patient_straddles(finished):
    out, data, factory, _ = finished
    assert len(factory.calls) == 2
    for call, path in zip(factory.calls, sorted((out / "folds").glob("*.json"))):
        rec = json.loads(path.read_text())
        test, val, inner = (set(rec["indices"][k]) for k in ("test", "val", "inner_train"))
        test_sources = {data.meta[i]["source"] for i in test}
        val_sources = {data.meta[i]["source"] for i in val}
        assert not (call["sources"] & test_sources) and not (call["sources"] & val_sources)
        assert call["sources"] == {data.meta[i]["source"] for i in inner}
        proof = rec["gan_proof"]["cgan"]
        assert proof["gan_reported_fingerprint"] == proof["gan_train_fingerprint"]
        assert proof["test_indices_in_gan_train"] == 0
        pats = lambda idx: {data.patients[i] for i in idx}  # noqa: E731
        assert not (pats(test) & pats(inner)) and not (pats(test) & pats(val)) and not (pats(val) & pats(inner))


def test_selected_arm_uses_a_validation_choice(finished):
    _, _, _, results = finished
    sel = next(a for a in results["arms"] if a["name"] == "cgan selected")
    assert all(r in (0.0, 1.0) for r in sel["selected_ratios"])


def test_arms_record_kind_and_real_fraction(finished):
    _, _, _, results = finished
    assert [(a["kind"], a["real_fraction"]) for a in results["arms"]] == [
        ("baseline", 1.0), ("synthetic:mix", 1.0), ("synthetic:only", 1.0), ("synthetic:selected", 1.0)]


def test_rewrite_from_saved_folds_is_identical(finished, tmp_path):
    """results.json, report.md and the figures regenerate byte for byte from the saved folds (nothing retrained)."""
    import shutil

    from medgan.benchmark.protocol import rewrite_results
    from medgan.errors import DataError

    out, data, _, _ = finished
    copy = shutil.copytree(out, tmp_path / "copy")
    rewrite_results(copy, data=data, log=lambda s: None)
    for name in ("results.json", "report.md", "figures/sens_spec.png", "figures/metric_vs_ratio.png",
                 "figures/roc.png", "figures/samples.png"):
        assert (copy / name).read_bytes() == (out / name).read_bytes(), name
    (copy / "folds" / "r0_f1.json").unlink()
    with pytest.raises(DataError, match="lacks 1 finished fold"):
        rewrite_results(copy, data=data, log=lambda s: None)


def test_resume_skips_finished_folds(finished, tmp_path):
    out, data, _, results = finished
    again = FakeFactory()
    res2 = run_benchmark(small_config(), out, data=data, gan_factory=again, progress=False, log=lambda s: None)
    assert again.calls == []  # nothing retrained
    assert res2["arms"][0]["auc"] == results["arms"][0]["auc"]
    first, second = res2["timing"]["invocations"][-2:]  # the run that trained keeps its wall time
    assert (first["folds_run"], second["folds_run"]) == (2, 0)
    assert first["seconds"] == results["timing"]["total_seconds"] and second["device"] == "cpu"
    assert "Invocations that wrote this folder" in (out / "report.md").read_text()


def test_resume_with_other_options_refused(finished):
    out, data, _, _ = finished
    with pytest.raises(ConfigError):
        run_benchmark(small_config(folds=3), out, data=data, gan_factory=FakeFactory(), progress=False, log=lambda s: None)


def test_positive_class_resolution():
    assert resolve_positive(["hemorrhage", "normal"], None) == 0
    assert resolve_positive(["normal", "covid"], None) == 1
    assert resolve_positive(["a", "b"], "a") == 0
    assert resolve_positive(["a", "b", "c"], None) is None
    with pytest.raises(ConfigError):
        resolve_positive(["a", "b"], "zzz")


def test_config_round_trip_and_validation():
    c = quick_config(models=("cgan", "dcgan"))
    assert BenchmarkConfig.from_dict(json.loads(json.dumps(c.to_dict()))).protocol_hash() == c.protocol_hash()
    with pytest.raises(ConfigError):
        BenchmarkConfig(folds=1).validate()
    with pytest.raises(ConfigError):
        BenchmarkConfig.from_dict({"bogus": 1})


def test_config_files_load(tmp_path):
    from pathlib import Path

    from medgan.benchmark.config import load_config

    root = Path(__file__).resolve().parents[2] / "pipelines" / "configs"
    quick = load_config(str(root / "benchmark_quick.json"))
    assert quick.preset == "quick" and quick.folds == 2
    head = load_config(str(root / "benchmark_head_ct.json"))
    assert head.positive_class == "hemorrhage" and head.folds == 5 and head.repeats == 2
    filtered = load_config(str(root / "benchmark_head_ct_filter.json"))  # the same protocol, filter on
    assert filtered.synthetic_filter == "baseline" and filtered.to_dict() | {"synthetic_filter": "none"} == head.to_dict()
    for path in sorted(root.glob("benchmark_*.json")):
        load_config(str(path))
    p = tmp_path / "c.json"
    p.write_text('{"preset": "quick", "classifier": {"epochs": 3}}')
    c = load_config(str(p))
    assert c.classifier.epochs == 3 and c.classifier.min_steps == quick.classifier.min_steps
    p.write_text("{nope")
    with pytest.raises(ConfigError):
        load_config(str(p))


def test_model_both_gives_separate_arms(tmp_path):
    from benchmark_fakes import FakeFactory, small_config, tiny_data

    factory = FakeFactory()
    res = run_benchmark(small_config(models=("cgan", "dcgan"), tstr=False, quality=False), tmp_path, data=tiny_data(),
                        gan_factory=factory, progress=False, log=lambda s: None)
    names = [a["name"] for a in res["arms"]]
    assert names == ["baseline", "cgan ratio 1", "cgan selected", "dcgan ratio 1", "dcgan selected"]
    assert sorted({c["model"] for c in factory.calls}) == ["cgan", "dcgan"] and len(factory.calls) == 4
    assert set(res["primary_endpoint"]) == {"cgan", "dcgan"}
    text = (tmp_path / "report.md").read_text()
    assert text.count("GAN did") + text.count("GAN helped") == 2


def test_partial_gan_export_is_not_reused(tmp_path):
    from medgan.benchmark.synthetic import _finished

    (tmp_path / "generator.json").write_text(json.dumps({"data_fingerprint": "abc", "step": 500}))
    assert not _finished(tmp_path, "abc", 3000)  # an intermediate export: resume training instead
    assert _finished(tmp_path, "abc", 500)
    assert not _finished(tmp_path, "other", 500)
    assert not _finished(tmp_path / "missing", "abc", 1)


@pytest.mark.slow
def test_parallel_workers_give_the_same_folds(finished, tmp_path):
    from benchmark_fakes import PicklableFakeFactory

    out, data, _, results = finished
    res = run_benchmark(small_config(), tmp_path, data=data, gan_factory=PicklableFakeFactory(), progress=False,
                        log=lambda s: None, workers=2)
    assert res["timing"]["workers"] == 2
    for name in ("r0_f0.json", "r0_f1.json"):
        seq, par = (json.loads((d / "folds" / name).read_text()) for d in (out, tmp_path))
        assert par["indices"] == seq["indices"]
        for arm in seq["arms"]:
            assert par["arms"][arm]["test_probs"] == seq["arms"][arm]["test_probs"]
    assert [a["auc"] for a in res["arms"]] == [a["auc"] for a in results["arms"]]
    assert (tmp_path / "samples.npz").exists() and (tmp_path / "report.md").exists()


@pytest.mark.slow
def test_worker_error_arrives_whole(tmp_path):
    from benchmark_fakes import PicklableFakeFactory

    from medgan.errors import DataError

    with pytest.raises(DataError, match="refuses fold seed") as info:
        run_benchmark(small_config(), tmp_path, data=tiny_data(), gan_factory=PicklableFakeFactory(fail=True),
                      progress=False, log=lambda s: None, workers=2)
    assert info.value.hint == "this is a test"
    with pytest.raises(ConfigError):
        run_benchmark(small_config(), tmp_path, data=tiny_data(), gan_factory=PicklableFakeFactory(),
                      progress=False, log=lambda s: None, workers=-1)


def test_committed_runs_keep_their_protocol_hash():
    """Options added later must not change the hash of runs made before them (they could not resume)."""
    from pathlib import Path

    runs = sorted((Path(__file__).resolve().parents[2] / "docs" / "results").glob("*/results.json"))
    assert runs, "docs/results holds the committed benchmark runs"
    for results in runs:
        config = json.loads(results.read_text())["config"]
        fold_hashes = {json.loads(f.read_text())["protocol_hash"] for f in (results.parent / "folds").glob("*.json")}
        assert fold_hashes == {BenchmarkConfig.from_dict(config).protocol_hash()}, results.parent.name


def test_config_files_of_committed_runs_rerun_their_protocol():
    """``--config pipelines/configs/RUN.json`` reruns the committed run RUN: the same protocol hash."""
    from pathlib import Path

    from medgan.benchmark.config import load_config

    root = Path(__file__).resolve().parents[2]
    pairs = [(root / "pipelines" / "configs" / f"{r.parent.name}.json", r)
             for r in sorted((root / "docs" / "results").glob("*/results.json"))]
    pairs = [(c, r) for c, r in pairs if c.exists()]
    assert pairs, "the committed runs have their config files in pipelines/configs"
    for config_file, results in pairs:
        saved = BenchmarkConfig.from_dict(json.loads(results.read_text())["config"]).protocol_hash()
        assert load_config(str(config_file)).protocol_hash() == saved, config_file.name


def test_classifier_ensemble_averages_seeds(finished, tmp_path):
    out, data, _, _ = finished
    cfg = small_config()
    cfg.classifier.ensemble = 2
    assert cfg.protocol_hash() != small_config().protocol_hash()
    run_benchmark(cfg, tmp_path, data=data, gan_factory=FakeFactory(), progress=False, log=lambda s: None)
    one, two = (json.loads((d / "folds" / "r0_f0.json").read_text())["arms"]["baseline"] for d in (out, tmp_path))
    assert len(two["test_probs"]) == len(one["test_probs"]) and two["test_probs"] != one["test_probs"]
    assert all(abs(sum(p) - 1) < 1e-4 for p in two["test_probs"])
    cfg.classifier.ensemble = 0
    with pytest.raises(ConfigError, match="ensemble"):
        cfg.validate()


def test_report_says_which_class_was_taken_as_positive(finished):
    out, _, _, results = finished  # tiny_data's class0/class1: the names cannot tell
    reason = results["data"]["positive_class_reason"]
    assert results["data"]["positive_class"] == "class1" and "cannot tell" in reason
    assert f"Positive class: {reason}." in (out / "report.md").read_text()
    assert "--positive-class class0 or --positive-class class1" in reason
