"""``report.md`` and PNG figures from ``results.json`` and the saved folds -- no number typed by hand."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from medgan.benchmark.aggregate import positive_index
from medgan.benchmark.arms import DUPLICATE, MIX, SELECTED, Arm, parse_arm, use_of_ratio
from medgan.benchmark.config import BenchmarkConfig, default_config
from medgan.benchmark.metrics import roc_curve_points
from medgan.evaluation.verdicts import warning_markdown
from medgan.training import MODEL_DEFAULTS
from medgan.utils import atomic_write_text
from medgan.utils.figures import new_figure, save_png


def _fmt(x: Any, pct: bool = True) -> str:
    if x is None:
        return "n/a"
    return f"{100 * x:.1f}" if pct else f"{x:.3f}"


def _ci(e: dict[str, Any]) -> str:
    lo, hi = e["ci95"]
    return f"{_fmt(e['mean'])} [{_fmt(lo)}, {_fmt(hi)}]"


def _ci_or_dash(e: dict[str, Any] | None) -> str:
    return _ci(e) if e else "-"


def _p(p: Any) -> str:
    return "n/a" if p is None else (f"{p:.3f}" if p >= 0.001 else "<0.001")


def _p_eq(p: Any) -> str:
    """``p = 0.042`` or ``p < 0.001``."""
    text = _p(p)
    return f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"


def _savefig(fig: Any, path: Path) -> None:
    save_png(fig, path, dpi=110, bbox_inches="tight")


def fig_sens_spec(results: dict[str, Any], path: Path) -> None:
    """Sensitivity and specificity (mean, 95 % CI) per arm."""
    arms = results["arms"]
    y = np.arange(len(arms))
    fig, ax = new_figure(figsize=(7, 0.45 * len(arms) + 1.2))
    for off, m, col in ((-0.15, "sensitivity", "tab:red"), (0.15, "specificity", "tab:blue")):
        mean = np.array([np.nan if a[m]["mean"] is None else a[m]["mean"] for a in arms])
        lo = np.array([np.nan if a[m]["ci95"][0] is None else a[m]["ci95"][0] for a in arms])
        hi = np.array([np.nan if a[m]["ci95"][1] is None else a[m]["ci95"][1] for a in arms])
        ax.errorbar(mean, y + off, xerr=[mean - lo, hi - mean], fmt="o", color=col, label=m, capsize=3)
    ax.set_yticks(y, [a["name"] for a in arms])
    ax.invert_yaxis()
    ax.set_xlabel("test-fold value (mean, 95 % CI across folds x repeats)")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)  # above the axes, never over a point
    ax.grid(axis="x", alpha=0.3)
    _savefig(fig, path)


def fig_ratio_curve(results: dict[str, Any], path: Path) -> None:
    """Each metric against the synthetic:real ratio (ratio 0 = baseline), one line per GAN model."""
    arms = {a["name"]: a for a in results["arms"]}
    models = results["config"]["models"]
    ratios = sorted({float(r) for r in results["config"]["ratios"] if r > 0})
    fig, axes = new_figure(1, 4, figsize=(14, 3.2), sharex=True)
    for ax, m in zip(axes, ("sensitivity", "specificity", "balanced_accuracy", "auc")):
        for model in models:
            xs = [0.0] + ratios
            es = [arms["baseline"]] + [arms.get(Arm(model, MIX, r).name) for r in ratios]
            pts = [(x, e[m]) for x, e in zip(xs, es) if e is not None and e[m]["mean"] is not None]
            if not pts:
                continue
            x = np.array([p[0] for p in pts])
            mean = np.array([p[1]["mean"] for p in pts])
            lo = np.array([p[1]["ci95"][0] if p[1]["ci95"][0] is not None else p[1]["mean"] for p in pts])
            hi = np.array([p[1]["ci95"][1] if p[1]["ci95"][1] is not None else p[1]["mean"] for p in pts])
            ax.plot(x, mean, "o-", label=model)
            ax.fill_between(x, lo, hi, alpha=0.2)
        ax.set_title(m.replace("_", " "))
        ax.set_xlabel("synthetic : real per class")
        ax.grid(alpha=0.3)
    axes[0].legend()
    _savefig(fig, path)


def _roc_arms(results: dict[str, Any], most: int = 8) -> list[str]:
    """The arms in the ROC figure: all when few; else those of the largest fraction but duplicates and mixes."""
    names = [a["name"] for a in results["arms"]]
    if len(names) <= most:
        return names
    top = max(parse_arm(n).real_fraction for n in names)
    return [n for n in names if parse_arm(n).real_fraction == top and parse_arm(n).kind not in (MIX, DUPLICATE)]


def fig_roc(folds: list[dict[str, Any]], arms: list[str], positive: int | None, path: Path) -> None:
    """ROC of each arm on the pooled test folds of repeat 0 (binary: positive class; else micro one-vs-rest)."""
    rep0 = [r for r in folds if r["repeat"] == 0]
    fig, ax = new_figure(figsize=(4.8, 4.5))
    for a in arms:
        labels = np.concatenate([np.asarray(r["test_labels"]) for r in rep0])
        probs = np.concatenate([np.asarray(r["arms"][a]["test_probs"]) for r in rep0])
        if positive is not None:
            t, s = labels == positive, probs[:, positive]
        else:
            t = (labels[:, None] == np.arange(probs.shape[1])[None]).ravel()
            s = probs.ravel()
        fpr, tpr, _ = roc_curve_points(t, s)
        ax.plot(fpr, tpr, label=a, lw=1.3)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_title("ROC, test folds of repeat 0 pooled" + ("" if positive is not None else " (micro OvR)"), fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    _savefig(fig, path)


def fig_samples(samples_path: Path, data: Any, path: Path, k: int = 6, results_models: Any = ()) -> list[str]:
    """Real (left) vs synthetic (right) images per class, one block per GAN model; returns the models shown.

    Without ``samples_path`` an existing figure at ``path`` is kept (showing ``results_models``)."""
    if not samples_path.exists():  # samples.npz is not committed: keep a figure an earlier write made
        return sorted(results_models) if path.exists() and results_models else []
    syn = np.load(samples_path)
    models = sorted({key.rsplit("_class", 1)[0] for key in syn.files})
    names = list(data.class_names)
    labels = data.labels.numpy()
    cols = k * (1 + len(models))
    fig, axes = new_figure(len(names), cols, figsize=(cols * 0.9, len(names) * 1.0 + 0.4), squeeze=False)
    for c, name in enumerate(names):
        real = data.images[np.flatnonzero(labels == c)[:k], 0].numpy()
        blocks = [("real", real)] + [(m, syn[f"{m}_class{c}"]) for m in models]
        for b, (title, imgs) in enumerate(blocks):
            for j in range(k):
                ax = axes[c, b * k + j]
                ax.axis("off")
                if j < len(imgs):
                    ax.imshow(imgs[j], cmap="gray", vmin=-1, vmax=1)
                if j == 0:
                    ax.set_title(f"{title}: {name}", fontsize=7, loc="left")
    _savefig(fig, path)
    return models


def _fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "time not recorded"
    return f"{seconds:.0f} s ({seconds / 60:.1f} min)"


def primary_sentence(model: str, p: dict[str, Any], positive: str | None = None) -> str:
    """The plain-words verdict on the primary endpoint, generated from the numbers."""
    s, t = p["sensitivity_difference"], p["specificity_difference"]
    what = f"sensitivity ({positive})" if positive else "macro sensitivity"
    what_sp = f"specificity ({positive} vs rest)" if positive else "macro specificity"

    def part(name: str, d: dict[str, Any], above: bool) -> str:
        lo, hi = d["ci95"]
        t = d.get("corrected_t")
        t_hi = t["ci95"][1] if t else None
        unconfirmed = ("the corrected t-test across folds (which also counts classifier retraining noise) "
                       "does not confirm it: no demonstrated change")
        # a loss, like a gain, needs both intervals on one side of 0
        verdict = ("the 95 % CI lies above 0: a gain" if above else
                   "both 95 % CIs lie below 0: a loss" if hi is not None and hi < 0 and t_hi is not None and t_hi < 0
                   else f"the bootstrap CI lies below 0, but {unconfirmed}" if hi is not None and hi < 0
                   else f"the bootstrap CI lies above 0, but {unconfirmed}" if lo is not None and lo > 0
                   else "the 95 % CI includes 0: no demonstrated change")
        also = (f"; corrected t-test {_fmt(t['ci95'][0])} to {_fmt(t['ci95'][1])}, {_p_eq(t['p_value'])}"
                if t else "")
        if d.get("holm_p") is not None:
            also += f"; Holm-adjusted over the headline family {_p_eq(d['holm_p'])}"
        if not above and d.get("detectable_difference") is not None:
            verdict += (f" (the design could detect a true change of about {_fmt(d['detectable_difference'])} points "
                        "with 80 % power)")
        return (f"{name} changed by {_fmt(d['mean'])} points (95 % CI {_fmt(lo)} to {_fmt(hi)}, "
                f"{_p_eq(d['p_value'])}{also}); {verdict}")

    both = p["sensitivity_ci_lower_above_0"] and p["specificity_ci_lower_above_0"]
    head = ("Synthetic data from the **%s** GAN helped: both lower bounds clear 0, by the bootstrap and by the "
            "corrected t-test." % model if both else
            "Synthetic data from the **%s** GAN did **not** demonstrably help on both endpoints." % model)
    chosen = _chosen_sentence(p.get("selected_ratios") or [], p.get("selected_uses") or [])
    comparator = p.get("comparator", "baseline")
    return (f"{head} With the use chosen on the inner validation split ({p['arm']}) versus {comparator}, "
            f"{part(what, s, p['sensitivity_ci_lower_above_0'])}; "
            f"{part(what_sp, t, p['specificity_ci_lower_above_0'])}.{chosen}")


def _chosen_sentence(ratios: list, uses: list[str]) -> str:
    """What the inner validation split chose per fold (uses where balance/pretrain exist, else ratios)."""
    if not uses:
        uses = [use_of_ratio(r) for r in ratios if r is not None]
    if not uses:
        return ""
    kept = sum(1 for u in uses if u == "baseline")
    if kept == len(uses):
        return " The inner validation split chose ratio 0 (no synthetic images) in every fold, so this arm is the baseline."
    if all(u == "baseline" or u.startswith("mix ") for u in uses):
        listed = ", ".join("0" if u == "baseline" else u[4:] for u in uses)
        return f" Ratios chosen on the inner validation split: {listed} ({kept} of {len(uses)} folds kept the baseline)."
    return f" Uses chosen on the inner validation split: {', '.join(uses)} ({kept} of {len(uses)} folds kept the baseline)."


#: A baseline whose AUC's 95 % CI upper bound lies below this is "near chance" (see chance_caveat).
NEAR_CHANCE_AUC = 0.65


def chance_caveat(results: dict[str, Any]) -> str | None:
    """A warning when the baseline classifier is near chance: then no arm comparison is informative."""
    base = next((a for a in results["arms"] if a["name"] == "baseline"), None)
    if base is None or base["auc"]["ci95"][1] is None or base["auc"]["ci95"][1] >= NEAR_CHANCE_AUC:
        return None
    lo, hi = base["auc"]["ci95"]
    return (f"> The baseline classifier is near chance on this data (AUC {_fmt(base['auc']['mean'])} % "
            f"[{_fmt(lo)}, {_fmt(hi)}], upper bound below {_fmt(NEAR_CHANCE_AUC)} %): with this many training "
            "images the task is too hard for this classifier, so these arms cannot show whether synthetic "
            "images help. Give the classifier more real images per class, or an easier task, first.")


def write_report(out: Path, results: dict[str, Any], data: Any, command: str | None = None) -> Path:
    """Write ``out/report.md`` and ``out/figures/*.png``; returns the report path."""
    out = Path(out)
    figs = out / "figures"
    folds = [json.loads(p.read_text()) for p in sorted((out / "folds").glob("r*_f*.json"))]
    folds = [f for f in folds if f.get("protocol_hash") == _hash(results)]
    positive = positive_index(results)
    fig_sens_spec(results, figs / "sens_spec.png")
    fig_ratio_curve(results, figs / "metric_vs_ratio.png")
    if folds:
        fig_roc(folds, _roc_arms(results), positive, figs / "roc.png")
    shown = fig_samples(out / "samples.npz", data, figs / "samples.png", results_models=results["config"]["models"])
    if len(results.get("learning_curve") or []) > 1:
        fig_learning_curve(results, figs / "learning_curve.png")
    if (results.get("scenario") or {}).get("rare_class"):
        fig_rare_class(results, figs / "rare_class.png")
    lines = _header_lines(results, command)
    lines += _filter_lines(results)
    lines += _endpoint_lines(results)
    lines += _scenario_endpoint_lines(results)
    lines += _scenario_lines(results)
    lines += _table_lines(results)
    lines += _figure_lines(bool(folds), shown)
    lines += _quality_lines(results, out)
    lines += _confound_leak_lines(results)
    lines += _wall_time_lines(results)
    path = out / "report.md"
    atomic_write_text(path, "\n".join(lines))
    return path


#: Options whose change from the default preset makes a run's evidence weaker (or different) in kind.
_PROTOCOL_KEYS = ("folds", "repeats", "ratios", "models", "gan_steps", "image_size", "tstr", "controls", "synthetic_uses",
                  "selection_rule")


def _shown(value: Any) -> str:
    """A config value as the report writes it: lists joined by '/', an empty list as 'none'."""
    if isinstance(value, list):
        return "/".join(f"{x:g}" if isinstance(x, float) else str(x) for x in value) or "none"
    return str(value)


def _departures_from_default(cfg: dict[str, Any]) -> str:
    """``folds 4 (default 5), ...`` for a ``preset: default`` run that changed protocol options; else ''."""
    if cfg.get("preset") != "default":
        return ""
    ref, cfg = _default_with_steps(cfg), {**cfg, "gan_steps": _gan_steps(cfg)}
    parts = [f"{k.replace('_', ' ')} {_shown(cfg[k])} (default {_shown(ref[k])})"
             for k in _PROTOCOL_KEYS if k in cfg and cfg[k] != ref[k]]
    c, rc = cfg.get("classifier", {}), ref["classifier"]
    parts += [f"classifier {k} {c[k]} (default {rc[k]})" for k in ("epochs", "min_steps") if k in c and c[k] != rc[k]]
    return ", ".join(parts)


def _gan_steps(cfg: dict[str, Any]) -> int:
    """A run's GAN steps: ``gan_steps``, or its (first) model's trainer default when it is null."""
    models = list(cfg.get("models") or BenchmarkConfig().models)
    return cfg.get("gan_steps") or MODEL_DEFAULTS[models[0]]["steps"]


def _default_with_steps(cfg: dict[str, Any]) -> dict[str, Any]:
    """The default preset's options, its GAN steps resolved for the run's own model (each model has its own)."""
    ref = default_config().to_dict()
    return {**ref, "gan_steps": _gan_steps({**ref, "models": cfg.get("models")})}


def _reading_of_departures(cfg: dict[str, Any]) -> str:
    """How to read a run whose protocol departs from the default: only the consequences that apply."""
    ref = _default_with_steps(cfg)
    reasons = []
    if cfg.get("folds", ref["folds"]) * cfg.get("repeats", ref["repeats"]) < ref["folds"] * ref["repeats"]:
        reasons.append("fewer folds x repeats widen the intervals")
    if _gan_steps(cfg) < ref["gan_steps"]:
        reasons.append("shorter GANs give poorer images than the default's")
    c = cfg.get("classifier", {})
    if c.get("epochs", 0) < ref["classifier"]["epochs"] or c.get("min_steps", 0) < ref["classifier"]["min_steps"]:
        reasons.append("a smaller classifier budget lowers every arm alike")
    return ("Read it as a reduced protocol: " + "; ".join(reasons) + ".") if reasons else \
        "Compare it only with runs of the same options."


def _header_lines(results: dict[str, Any], command: str | None) -> list[str]:
    """Title, the command that produced the run, the data and the protocol."""
    cfg, d = results["config"], results["data"]
    lines = [f"# medgan benchmark: {d['spec']}", ""]
    if command:
        lines += [f"Produced by `{command}`.", ""]
    lines += [
        f"Data: {d['n_images']} images, {d['n_patients']} patients, classes "
        + ", ".join(f"{k} ({v})" for k, v in d["counts"].items())
        + f"; task: {d['task']}" + (f", positive class **{d['positive_class']}**" if d["positive_class"] else "")
        + f"; fingerprint `{d['fingerprint']}`.",
        f"Protocol: patient-grouped stratified {cfg['folds']}-fold x {cfg['repeats']} repeats; inner validation "
        f"{_fmt(cfg['val_fraction'])} % of each training fold (early stopping, {cfg['threshold']} threshold, ratio "
        f"selection by validation {cfg['selection_metric']}, {cfg.get('selection_rule', 'best')} rule); classifier budget max({cfg['classifier']['epochs']} "
        f"epochs, {cfg['classifier']['min_steps']} steps) for every arm; "
        f"GAN models {', '.join(cfg['models'])}, steps {cfg['gan_steps'] if cfg['gan_steps'] is not None else _default_gan_steps(cfg['models'])}; "
        f"preset {cfg['preset']}.", "",
    ]
    departures = _departures_from_default(cfg)
    if departures:
        lines += [f"Departs from the default preset in: {departures}. {_reading_of_departures(cfg)}", ""]
    if d.get("positive_class_reason"):  # binary: which class is positive, why, and how to choose
        lines += [f"Positive class: {d['positive_class_reason']}.", ""]
    return lines


def _endpoint_lines(results: dict[str, Any]) -> list[str]:
    """The quick-preset warning, the primary-endpoint verdicts and the near-chance caveat."""
    cfg, d = results["config"], results["data"]
    lines = []
    if cfg["preset"] == "quick":
        lines += [f"> Quick preset: {cfg['folds']} folds x {cfg['repeats']} repeat, {cfg['image_size']} x "
                  f"{cfg['image_size']} images, {cfg['gan_steps']} GAN steps ({', '.join(cfg['models'])}), a short "
                  "classifier budget. It is evidence that the whole protocol runs on your machine and that the GAN "
                  "learns the look of your slices (see the quality table and figures/samples.png). It is not "
                  "evidence about whether synthetic data helps: two folds cannot show an effect of the size sought, "
                  "the preview size hides small lesions, and the GANs are short. Run the default preset for that.", ""]
    lines += ["## Primary endpoint", ""]
    for model, p in results["primary_endpoint"].items():
        lines += [primary_sentence(model, p, d["positive_class"]), ""]
    caveat = chance_caveat(results)
    return lines + ([caveat, ""] if caveat else [])


def _table_lines(results: dict[str, Any]) -> list[str]:
    """The per-arm table (the selected arm's ratio column lists the ratio chosen in each fold)."""
    lines = ["## Results (test folds; mean [95 % CI] in %)", "",
             "| arm | ratio | sensitivity | specificity | balanced acc. | AUC | Δ sens vs baseline | p | Δ spec vs baseline | p |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for a in results["arms"]:
        ratio = a["synthetic_ratio"] if parse_arm(a["name"]).kind != SELECTED else _choices(a)
        row = [a["name"], str(ratio if ratio is not None else "-")] + [_ci(a[m]) for m in ("sensitivity", "specificity", "balanced_accuracy", "auc")]
        if a.get("difference_vs_baseline"):
            ds, dp = a["difference_vs_baseline"]["sensitivity"], a["difference_vs_baseline"]["specificity"]
            row += [_ci(ds), _p(ds["p_value"]), _ci(dp), _p(dp["p_value"])]
        else:
            row += ["-"] * 4
        lines.append("| " + " | ".join(row) + " |")
    return lines + ["", "Differences: paired patient-cluster bootstrap over the test folds "
                    f"({results['config']['n_boot']} replicates); `results.json` also holds the Nadeau-Bengio "
                    "corrected t-test and Wilcoxon p-values. The 'selected' arm's ratio column lists the ratio (or "
                    "use: balance, pretrain) chosen in each fold.", ""]


def _choices(arm: dict[str, Any]) -> str:
    """The selected arm's choice per fold: ratios (``0/0.5/1``) or, with other uses, ``mix 1/balance/...``."""
    uses = arm.get("selected_uses") or []
    if uses and any(not (u == "baseline" or u.startswith("mix ")) for u in uses):
        return "/".join(uses)
    return "/".join("-" if r is None else f"{r:g}" for r in arm["selected_ratios"])


def _figure_lines(roc: bool, shown: list[str]) -> list[str]:
    lines = ["![sensitivity and specificity per arm](figures/sens_spec.png)", "",
             "![metrics vs synthetic ratio](figures/metric_vs_ratio.png)", ""]
    if roc:
        lines += ["![ROC curves](figures/roc.png)", ""]
    if shown:
        lines += [f"Real (left) vs synthetic ({', '.join(shown)}) images per class, from the first fold's GAN:", "",
                  "![real vs synthetic](figures/samples.png)", ""]
    return lines


def _quality_lines(results: dict[str, Any], out: Path) -> list[str]:
    lines = []
    for model, q in (results.get("quality") or {}).items():
        lines += [f"## Quality of the {model} GAN's images (first fold)", ""]
        lines += [q["markdown"] if "markdown" in q else q.get("error", "n/a"), ""]
        lines += warning_markdown(q.get("warnings", []))
        if "dir" in q:
            local = out / "quality" / model
            where = f"quality/{model}/quality.md" if (local / "quality.md").exists() else q["dir"]
            lines += [f"Full quality report: `{where}` (written by `medgan.evaluation.evaluate_quality`).", ""]
    return lines


def _wall_time_lines(results: dict[str, Any]) -> list[str]:
    """Wall time of this invocation, where the folds ran, the invocations and reused GANs."""
    tm = results["timing"]
    lines = ["## Wall time", "",
             f"Total {tm['total_seconds']:.0f} s in this invocation; folds {tm['fold_seconds']:.0f} s "
             f"(mean {tm['mean_fold_seconds']:.0f} s per fold); GAN training {tm['gan_seconds']:.0f} s, "
             f"synthesis {tm['synthesis_seconds']:.0f} s, classifiers {tm['classifier_seconds']:.0f} s; "
             f"device {results['versions']['device']}, torch threads {results['versions']['torch_threads']}, "
             f"{tm.get('workers', 1)} fold worker(s).", ""]
    if tm.get("fold_devices"):
        lines[-1:-1] = ["Folds ran on: " + "; ".join(f"{d} ({n} fold{'s' if n > 1 else ''})"
                                                      for d, n in tm["fold_devices"].items()) + "."]
    runs = tm.get("invocations") or []
    if len(runs) > 1 or any(r.get("folds_run") for r in runs):
        lines[-1:-1] = ["Invocations that wrote this folder (wall time, folds they ran): " + "; ".join(
            f"{_fmt_seconds(r.get('seconds'))}, "
            + (f"{r['folds_run']} fold(s)" if r.get("folds_run") is not None else "folds not recorded")
            + (f" in {r['workers']} worker(s)" if r.get("folds_run") and r.get("workers") else "")
            + (f" on {r['device']}" if r.get("device") else "") for r in runs) + "."]
    if tm.get("gans_reused"):
        lines[-1:-1] = [f"{tm['gans_reused']} GAN(s) were reused from an earlier invocation in this folder (their "
                        "exports matched the folds' training data): their training time is not counted above."]
    return lines


def _filter_lines(results: dict[str, Any]) -> list[str]:
    """What the baseline-classifier filter kept of the synthetic pool (nothing without the filter)."""
    if results["config"].get("synthetic_filter", "none") == "none":
        return []
    names = results["data"]["classes"]
    lines = []
    for model, t in (results.get("synthetic_filter") or {}).items():
        kept = ", ".join(f"{n} {k}/{d} ({_fmt(k / d if d else float('nan'))} %)"
                         for n, k, d in zip(names, t["kept"], t["drawn"]))
        short = (f" In {t['folds_short']} fold(s) fewer passed than the largest ratio needs; those arms used "
                 "what passed." if t["folds_short"] else "")
        lines += [f"Synthetic filter: each fold's baseline classifier, at its validation-chosen operating point, "
                  f"kept the {model} images it calls as their own class; kept of drawn, all folds: {kept}.{short}", ""]
    return lines


def _default_gan_steps(models: list[str]) -> str:
    """The trainer's default steps of each model, e.g. ``1800 (trainer default for fastgan)``."""
    return ", ".join(f"{MODEL_DEFAULTS[m]['steps']} (trainer default for {m})" for m in models)


def _hash(results: dict[str, Any]) -> str:
    return BenchmarkConfig.from_dict(results["config"]).protocol_hash()


def _confound_leak_lines(results: dict[str, Any]) -> list[str]:
    c, lk = results["confound"], results["leakage"]
    base_auc = next(a for a in results["arms"] if a["name"] == "baseline")["auc"]
    lines = ["## Confound check", ""]
    if not c["informative"]:
        lines.append("All metadata (original size, format, mode) is identical across images: a metadata-only "
                     "classifier has nothing to learn (AUC 0.5 by construction).")
    else:
        parts = [f"{n.replace('_', ' ')} AUC {_ci(m['auc'])}" for n, m in c["models"].items()]
        lines.append(f"A classifier that sees only metadata ({', '.join(c['features'])}) on the same test folds: "
                     f"{'; '.join(parts)} (in %); the CNN baseline: AUC {_ci(base_auc)}. "
                     + ("Metadata alone separates the classes well: the CNN may be learning acquisition artefacts."
                        if (c["best_auc"] or 0) >= 0.7 else "Metadata alone is weak here."))
    proofs = [p for f in lk["gan_proof"] for k, p in f.items() if isinstance(p, dict)]
    matched = sum(1 for p in proofs if p["gan_reported_fingerprint"] == p["gan_train_fingerprint"])
    reported = sum(1 for p in proofs if p["gan_reported_fingerprint"] is not None)
    lines += ["", "## Leakage audit", "",
              f"Near-duplicates (correlation > {lk['threshold']}): {lk['groups']} group(s) holding "
              f"{lk['images_in_groups']} images, {lk['groups_spanning_patients']} spanning several patient ids; merged "
              f"into pseudo-patients ({lk['patients_before']} -> {lk['patients_after']} patients) before splitting. "
              f"Test images with a near-copy in their training fold: {sum(lk['test_near_copies_in_train_per_fold'])} "
              f"over all folds.",
              f"GAN isolation: {len(proofs)} GAN(s) trained; {reported} reported their training-data fingerprint and "
              f"{matched} matched the fold's inner training set; test indices in GAN training: "
              f"{sum(p['test_indices_in_gan_train'] for p in proofs)}; validation indices: "
              f"{sum(p['val_indices_in_gan_train'] for p in proofs)}.", ""]
    subsets = [p for p in proofs if p.get("real_fraction", 1.0) < 1 or p.get("excluded_images")]
    if subsets:
        counted = (f" ({sum(p['excluded_images'] for p in subsets)} images left out by the real fraction or the "
                   "rare-class cut, summed over GANs)" if all("excluded_images" in p for p in subsets) else "")
        lines += [f"Scenario subsets: {len(subsets)} GAN(s) trained on a part of their fold's inner training set"
                  f"{counted}; left-out images in their training: "
                  f"{sum(p['excluded_indices_in_gan_train'] for p in subsets)}; each reported the fingerprint of "
                  "its subset (counted as matched above).", ""]
    return lines


def _band(e: dict[str, Any] | None) -> tuple[float, float, float]:
    if not e or e.get("mean") is None:
        return (np.nan, np.nan, np.nan)
    lo, hi = e["ci95"]
    return (e["mean"], e["mean"] if lo is None else lo, e["mean"] if hi is None else hi)


def fig_learning_curve(results: dict[str, Any], path: Path) -> None:
    """Sensitivity, specificity and AUC against the real fraction: baseline, best control, selected arms (95 % CI)."""
    rows = results["learning_curve"]
    x = np.array([r["real_fraction"] for r in rows])
    series = ["baseline", "best_control"] + [f"{m} selected" for m in results["config"]["models"]]
    fig, axes = new_figure(1, 3, figsize=(12, 3.4), sharex=True)
    for ax, m in zip(axes, ("sensitivity", "specificity", "auc")):
        for name in series:
            pts = np.array([_band((r.get(name) or {}).get(m)) for r in rows])
            if np.all(np.isnan(pts[:, 0])):
                continue
            ax.plot(x, pts[:, 0], "o-", label=name.replace("_", " "))
            ax.fill_between(x, pts[:, 1], pts[:, 2], alpha=0.15)
        ax.set_title(m)
        ax.set_xlabel("fraction of the real training patients")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    _savefig(fig, path)


def fig_rare_class(results: dict[str, Any], path: Path) -> None:
    """The rare class's sensitivity (mean, 95 % CI) per arm."""
    arms = [a for a in results["arms"] if a.get("rare_class_sensitivity")]
    y = np.arange(len(arms))
    pts = np.array([_band(a["rare_class_sensitivity"]) for a in arms]).reshape(-1, 3)
    fig, ax = new_figure(figsize=(7, 0.4 * len(arms) + 1.2))
    ax.errorbar(pts[:, 0], y, xerr=[pts[:, 0] - pts[:, 1], pts[:, 2] - pts[:, 0]], fmt="o", color="tab:red", capsize=3)
    ax.set_yticks(y, [a["name"] for a in arms])
    ax.invert_yaxis()
    ax.set_xlabel(f"sensitivity of the rare class {results['scenario']['rare_class']} (mean, 95 % CI)")
    ax.grid(axis="x", alpha=0.3)
    _savefig(fig, path)


def _rare_companion(arm: dict[str, Any], scenario: dict[str, Any]) -> dict[str, Any] | None:
    """The rare class's specificity (the other side of its sensitivity), from the arm's entry."""
    key = (scenario.get("rare_metric") or "").replace("sensitivity", "@").replace("specificity", "sensitivity")
    key = key.replace("@", "specificity")
    return arm.get("per_class", {}).get(key) or arm.get(key)


def _rare_class_table(results: dict[str, Any], sc: dict[str, Any]) -> list[str]:
    """Rare-class sensitivity and specificity per arm; the overall pair too unless it is the same numbers
    (a binary task, where the rare class is the positive class or the other one)."""
    rare = sc["rare_class"]
    same = sc.get("rare_metric") in ("sensitivity", "specificity")
    head = f"| arm | {rare} sensitivity | {rare} specificity (its one-vs-rest trade-off) |"
    head += " AUC |" if same else " sensitivity | specificity | AUC |"
    lines = [head, "|---|---|---|---|" + ("" if same else "---|---|")]
    for a in results["arms"]:
        overall = "" if same else f" {_ci(a['sensitivity'])} | {_ci(a['specificity'])} |"
        lines.append(f"| {a['name']} | {_ci(a['rare_class_sensitivity'])} | {_ci_or_dash(_rare_companion(a, sc))} |"
                     f"{overall} {_ci(a['auc'])} |")
    if same:
        positive = results["data"].get("positive_class")
        lines += ["", f"{rare} is the positive class, so these are also the overall sensitivity and specificity."
                  if positive == rare else f"The positive class is {positive}, so {rare} sensitivity is the overall "
                  "specificity and its specificity the overall sensitivity."]
    return lines


def _scenario_lines(results: dict[str, Any]) -> list[str]:
    """The scenario, the learning-curve table and the rare-class table (nothing for the full scenario)."""
    sc = results.get("scenario") or {"name": "full"}
    if sc["name"] == "full" and len(sc.get("real_fractions", [1.0])) == 1:
        return []
    lines = ["## Scenario", ""]
    if sc.get("rare_class"):
        lines += [f"Rare class: the training folds keep {_fmt(sc['rare_fraction'])} % of the patients with "
                  f"**{sc['rare_class']}** images (their other images stay); validation and test folds are whole.", ""]
        lines += _rare_class_table(results, sc)
        lines += ["", "![rare-class sensitivity](figures/rare_class.png)", ""]
    if len(sc.get("real_fractions", [])) > 1:
        series = ["baseline", "best_control"] + [f"{m} selected" for m in results["config"]["models"]]
        lines += ["Learning curve: each fraction keeps that share of every fold's inner-training patients "
                  "(class-stratified, nested); that fraction's GAN trains on them only; validation and test are "
                  "whole. Sensitivity / specificity / AUC in % (mean [95 % CI]):", "",
                  "| real fraction | " + " | ".join(s.replace("_", " ") for s in series) + " |",
                  "|---|" + "---|" * len(series)]
        for r in results["learning_curve"]:
            cells = [" / ".join(_fmt(r[s][m]["mean"]) for m in ("sensitivity", "specificity", "auc")) if r.get(s)
                     else "-" for s in series]
            lines.append(f"| {r['real_fraction']:g} | " + " | ".join(cells) + " |")
        lines += ["", "![learning curve](figures/learning_curve.png)", ""]
    return lines


def _scenario_endpoint_lines(results: dict[str, Any]) -> list[str]:
    """One verdict per (model, real fraction) below the largest, and versus the best control everywhere."""
    lines = []
    positive = results["data"]["positive_class"]
    top = max((e["real_fraction"] for e in results.get("scenario_endpoints", [])), default=1.0)
    for e in results.get("scenario_endpoints", []):
        if e["real_fraction"] != top:
            lines += [f"At real fraction {e['real_fraction']:g}: " + primary_sentence(e["model"], e, positive), ""]
        if e.get("vs_best_control"):
            lines += [f"Versus the best control (chosen per fold on inner validation), real fraction "
                      f"{e['real_fraction']:g}: " + primary_sentence(e["model"], {**e["vs_best_control"],
                      "arm": e["arm"], "selected_ratios": []}, positive), ""]
    return lines
