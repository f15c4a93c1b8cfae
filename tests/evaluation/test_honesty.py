"""Honesty checks: the metrics rank bad generators below a good one, and real-vs-real scores near ideal."""
import json

import pytest
import torch

from medgan.evaluation import quality_summary_markdown
from medgan.models import build_generator

from evaluation_fakes import N_PER_CLASS as N, fresh_draws, quick_quality

pytestmark = pytest.mark.slow  # four end-to-end evaluations (~10 s idle machine)



@pytest.fixture(scope="module")
def results(real):
    good = fresh_draws()  # "trained" stand-in: fresh draws of the real distribution
    labels = good.labels
    g = build_generator("dcgan", num_classes=2, latent_dim=32, image_size=32, ngf=8)  # untrained network
    with torch.no_grad():
        untrained = g(torch.randn(len(labels), 32, generator=torch.Generator().manual_seed(0)), labels)
    collapsed = torch.cat([good.images[labels == c][:1].repeat(N, 1, 1, 1) for c in (0, 1)])
    copies = real[0].images.clone()
    return {
        "good": quick_quality(real, good.images, labels),
        "untrained": quick_quality(real, untrained, labels),
        "collapsed": quick_quality(real, collapsed, labels),
        "copies": quick_quality(real, copies, real[0].labels),
    }


def test_real_vs_real_is_near_ideal(results):
    o = results["good"]["overall"]
    assert o["fidelity"]["precision"] > 0.7 and o["fidelity"]["recall"] > 0.7
    assert o["fidelity"]["coverage"] > 0.7
    assert abs(o["two_sample"]["accuracy"] - 0.5) < 0.2
    assert o["fidelity"]["frechet_distance"] < 3 * o["baseline_real"]["frechet_distance"] + 1e-6
    assert o["memorization"]["flagged_fraction"] < 0.25
    assert o["diversity"]["ms_ssim_synthetic"] == pytest.approx(o["diversity"]["ms_ssim_real"], abs=0.1)


@pytest.mark.parametrize("bad", ["untrained", "collapsed"])
def test_bad_generators_rank_clearly_worse(results, bad):
    good, worse = results["good"]["overall"], results[bad]["overall"]
    assert worse["fidelity"]["frechet_distance"] > 2 * good["fidelity"]["frechet_distance"]
    assert worse["fidelity"]["recall"] < good["fidelity"]["recall"] - 0.3
    assert worse["fidelity"]["coverage"] < good["fidelity"]["coverage"] - 0.3
    assert worse["two_sample"]["accuracy"] > good["two_sample"]["accuracy"] + 0.2
    assert worse["fidelity_cross_check"]["frechet_distance"] > 2 * good["fidelity_cross_check"]["frechet_distance"]


def test_untrained_has_low_precision_collapsed_has_high_ms_ssim(results):
    assert results["untrained"]["overall"]["fidelity"]["precision"] < 0.3
    for name in ("bright", "ring"):
        d = results["collapsed"]["per_class"][name]["diversity"]
        assert d["ms_ssim_synthetic"] > 0.99 > d["ms_ssim_real"] + 0.2


def test_copying_generator_is_flagged(results):
    assert results["copies"]["overall"]["memorization"]["flagged_fraction"] == 1.0
    assert results["good"]["overall"]["memorization"]["flagged_fraction"] < 0.25


def test_result_is_json_and_summary_has_every_class(results):
    res = results["good"]
    text = json.dumps(res, allow_nan=False)
    assert "per_class" in json.loads(text)
    md = quality_summary_markdown(res)
    assert "| bright |" in md and "| ring |" in md and "| overall |" in md
