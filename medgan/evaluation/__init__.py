"""medgan.evaluation: is the synthetic data faithful, diverse and not copied from patients?

Quick use::

    from medgan.evaluation import evaluate_quality, quality_summary_markdown
    result = evaluate_quality(real_train, real_holdout, synthetic_images, synthetic_labels, out_dir="quality")
    print(quality_summary_markdown(result))
"""
from medgan.evaluation.api import evaluate_quality
from medgan.evaluation.diversity import mean_pairwise_ms_ssim
from medgan.evaluation.features import FeatureExtractor, build_feature_extractor
from medgan.evaluation.fidelity import density_coverage, fidelity_metrics, frechet_distance, mmd, precision_recall
from medgan.evaluation.memorization import find_near_copies, memorization_report, nearest_train_distances
from medgan.evaluation.report import quality_summary_markdown
from medgan.evaluation.two_sample import two_sample_test
from medgan.evaluation.verdicts import quality_warnings
from medgan.evaluation.views import feature_correlations, knn_real_share

__all__ = [
    "FeatureExtractor",
    "build_feature_extractor",
    "density_coverage",
    "evaluate_quality",
    "feature_correlations",
    "fidelity_metrics",
    "find_near_copies",
    "frechet_distance",
    "knn_real_share",
    "mean_pairwise_ms_ssim",
    "memorization_report",
    "mmd",
    "nearest_train_distances",
    "precision_recall",
    "quality_summary_markdown",
    "quality_warnings",
    "two_sample_test",
]
