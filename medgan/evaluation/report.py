"""Write ``quality.json`` + ``quality.md`` and the figures; ``quality_summary_markdown`` for other reports."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from medgan.evaluation.verdicts import quality_warnings, warning_markdown
from medgan.evaluation.views import plot_correlations, plot_umap, umap_embedding
from medgan.utils import atomic_save_json, atomic_write_text
from medgan.utils.figures import new_figure, save_png

__all__ = ["write_report", "save_result", "quality_summary_markdown", "quality_markdown"]


def _f(v: Any, digits: int = 2) -> str:
    return "n/a" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:.{digits}f}"


def _pct(v: Any) -> str:
    return "n/a" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{100 * v:.0f} %"


def quality_summary_markdown(result: dict[str, Any]) -> str:
    """A compact Markdown table (one row per class + overall) of the headline quality numbers."""
    head = ("| group | FD (real-real) | precision | recall | density | coverage | MS-SSIM syn / real | "
            "near-copies (ideal ~5 %) | real-vs-syn acc. (ideal 50 %) | real share of 10-NN (expected) | "
            "TSTR AUC / real AUC (ratio) | class leak (real misclass) |")
    lines = [head, "|" + "|".join(["---"] * 12) + "|"]
    groups = [*result["per_class"].items(), ("overall", result["overall"])]
    for name, g in groups:
        fid, base, div, mem = g["fidelity"], g["baseline_real"], g["diversity"], g["memorization"]
        ts, knn = g["two_sample"], g["knn_real_share"]
        lines.append(
            f"| {name} | {_f(fid['frechet_distance'])} ({_f(base['frechet_distance'])}) | {_f(fid['precision'])} | "
            f"{_f(fid['recall'])} | {_f(fid['density'])} | {_f(fid['coverage'])} | "
            f"{_f(div['ms_ssim_synthetic'])} / {_f(div['ms_ssim_real'])} | {_pct(mem['flagged_fraction'])} | "
            f"{_pct(ts['accuracy'])} | {_pct(knn['share'])} ({_pct(knn['expected'])}) | "
            f"{_f(g.get('tstr_auc'))} / {_f(g.get('real_auc'))} ({_f(g.get('tstr_ratio'))}) | "
            f"{_pct(g.get('class_leak'))} ({_pct(g.get('real_misclass'))}) |"
        )
    fe = result["feature_extractor"]["primary"]
    lines.append("")
    lines.append(f"Features: {fe['kind']} CNN ({fe['dim']}-d, seed {fe['seed']}); reference: real held-out images "
                 f"({result['sizes']['holdout']}) vs {result['sizes']['synthetic']} synthetic; "
                 f"{result['sizes']['train']} training images.")
    return "\n".join(lines) + "\n"


def quality_markdown(result: dict[str, Any]) -> str:
    """The full ``quality.md`` text."""
    out = ["# Synthetic image quality", ""]
    ctx = result.get("context") or {}
    for key, val in ctx.items():
        out.append(f"- {key}: `{val}`")
    out.append(f"- seed {result['seed']}, image size {result['image_size']}, classes {', '.join(result['class_names'])}"
               f"{' (fast mode)' if result.get('fast') else ''}; computed in {result.get('seconds', 'n/a')} s")
    for note in result.get("notes", []):
        out.append(f"- **note:** {note}")
    out += ["", "## Summary", "", quality_summary_markdown(result)]
    out += warning_markdown(quality_warnings(result))
    out += ["FD = Fréchet distance on features (lower is better; the bracket is real training vs real held-out, "
            "i.e. what real images score). Precision/recall/density/coverage: ~1 is ideal. MS-SSIM: synthetic "
            "close to real = real-like diversity, near 1 = mode collapse. Near-copies: synthetic images closer to "
            "a training image than 95 % of held-out real images are. See docs/evaluation.md.", ""]
    out += ["## Details", "", "| group | MMD | label agreement (real holdout) | corr. mean abs diff | "
            "cross-check FD / precision / recall (" + result["feature_extractor"]["cross_check"]["kind"] + " features) "
            "| median NN dist syn / holdout |", "|---|---|---|---|---|---|"]
    for name, g in [*result["per_class"].items(), ("overall", result["overall"])]:
        cc, mem = g["fidelity_cross_check"], g["memorization"]
        out.append(f"| {name} | {_f(g['fidelity']['mmd'], 3)} | {_f(g.get('label_agreement'))} "
                   f"({_f(g.get('label_agreement_real_holdout'))}) | {_f(g['correlation_mean_abs_difference'])} | "
                   f"{_f(cc['frechet_distance'])} / {_f(cc['precision'])} / {_f(cc['recall'])} | "
                   f"{_f(mem['median_synthetic_to_train'], 3)} / {_f(mem['median_holdout_to_train'], 3)} |")
    figs = result.get("figures") or {}
    captions = {
        "samples": "Real (top rows) and synthetic (bottom rows) images per class.",
        "closest_pairs": "The synthetic images closest to a training image (left) next to that training image (right).",
        "nn_distances": "Distance to the nearest training image: synthetic vs held-out real; dashed = near-copy threshold.",
        "correlations": "Feature correlation matrices: real held-out, synthetic, and their difference.",
        "umap": "UMAP of real (o) and synthetic (x) features, coloured by class.",
    }
    if figs:
        out += ["", "## Figures", ""]
        for key, rel in figs.items():
            out += [f"{captions.get(key, key)}", "", f"![{key}]({rel})", ""]
    return "\n".join(out) + "\n"


def save_result(result: dict[str, Any], out_dir: Path) -> None:
    """Write ``quality.json`` and ``quality.md`` atomically."""
    atomic_save_json(out_dir / "quality.json", result)
    atomic_write_text(out_dir / "quality.md", quality_markdown(result))


def write_report(result: dict[str, Any], out_dir: Path, real_train, real_holdout, syn: torch.Tensor,
                 syn_y: torch.Tensor, feats: dict[str, torch.Tensor], figures: bool = True, umap: bool = False,
                 seed: int = 0) -> None:
    """Draw the figures into ``out_dir`` and record their relative paths in ``result["figures"]``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if not figures:
        return

    names = result["class_names"]
    figs = result["figures"]
    _plot_samples(real_holdout, syn, syn_y, names, out_dir / "samples.png")
    figs["samples"] = "samples.png"
    raw = result["overall"]["_mem_raw"]
    _plot_closest(raw, syn, real_train.images, out_dir / "closest_pairs.png")
    figs["closest_pairs"] = "closest_pairs.png"
    _plot_nn_hist(raw, out_dir / "nn_distances.png")
    figs["nn_distances"] = "nn_distances.png"
    plot_correlations(result["overall"]["_corr"], out_dir / "correlations.png")
    figs["correlations"] = "correlations.png"
    if umap:
        emb = umap_embedding(feats["holdout"], feats["synthetic"], seed=seed)
        labels = np.concatenate([real_holdout.labels.numpy(), syn_y.numpy()])
        plot_umap(emb, len(real_holdout), labels, names, out_dir / "umap.png")
        figs["umap"] = "umap.png"


def _save(fig: Any, path: Path) -> None:
    save_png(fig, path, dpi=80)


def _plot_samples(real, syn: torch.Tensor, syn_y: torch.Tensor, names: list[str], path: Path, n: int = 8) -> None:
    fig, axes = new_figure(2 * len(names), n, figsize=(n * 0.9, 2 * len(names) * 0.95), squeeze=False)
    for c, name in enumerate(names):
        for row, (imgs, what) in enumerate(((real.images[real.labels == c], "real"), (syn[syn_y == c], "syn"))):
            for j in range(n):
                ax = axes[2 * c + row, j]
                ax.axis("off")
                if j < imgs.shape[0]:
                    ax.imshow(imgs[j, 0].numpy(), cmap="gray", vmin=-1, vmax=1)
            axes[2 * c + row, 0].set_title(f"{what} {name}", fontsize=7, loc="left")
    fig.tight_layout(pad=0.2)
    _save(fig, path)


def _plot_closest(raw: dict[str, Any], syn: torch.Tensor, train: torch.Tensor, path: Path) -> None:
    pairs = raw["closest"] or [{"synthetic": 0, "train": 0, "distance": float("nan")}]
    fig, axes = new_figure(2, len(pairs), figsize=(len(pairs) * 1.1, 2.5), squeeze=False)
    for j, p in enumerate(pairs):
        axes[0, j].imshow(syn[p["synthetic"], 0].numpy(), cmap="gray", vmin=-1, vmax=1)
        axes[1, j].imshow(train[p["train"], 0].numpy(), cmap="gray", vmin=-1, vmax=1)
        axes[0, j].set_title(f"d={p['distance']:.3f}", fontsize=7)
        axes[0, j].axis("off"), axes[1, j].axis("off")
    axes[0, 0].text(-0.1, 0.5, "synthetic", transform=axes[0, 0].transAxes, rotation=90, ha="right", va="center", fontsize=7)
    axes[1, 0].text(-0.1, 0.5, "training", transform=axes[1, 0].transAxes, rotation=90, ha="right", va="center", fontsize=7)
    fig.tight_layout(pad=0.2)
    _save(fig, path)


def _plot_nn_hist(raw: dict[str, Any], path: Path) -> None:
    fig, ax = new_figure(figsize=(5, 3))
    vals = raw["synthetic_distances"] + raw["holdout_distances"]
    bins = np.linspace(0, max(vals) if vals else 1.0, 30)
    ax.hist(raw["holdout_distances"], bins=bins, alpha=0.6, density=True, label="held-out real -> train")
    ax.hist(raw["synthetic_distances"], bins=bins, alpha=0.6, density=True, label="synthetic -> train")
    if np.isfinite(raw["threshold"]):
        ax.axvline(raw["threshold"], ls="--", color="k", lw=1, label=f"threshold {raw['threshold']:.3f}")
    ax.set_xlabel("RMS pixel distance to nearest training image ([-1, 1] units)", fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)
