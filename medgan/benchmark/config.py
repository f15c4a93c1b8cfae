"""BenchmarkConfig: every choice of a benchmark run, written to ``DIR/config.json`` before it starts.

Two presets: :func:`default_config` (5 folds x 2 repeats, the full protocol) and :func:`quick_config`
(fewer folds, one repeat, fewer epochs and GAN steps -- the same protocol, only smaller).
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from medgan.benchmark.arms import CONTROLS, USES
from medgan.benchmark.classifier import ClassifierConfig, check_arch
from medgan.benchmark.selection import SELECTION_RULES
from medgan.errors import ConfigError
from medgan.models.registry import MODELS
from medgan.training.config import TrainConfig
from medgan.utils.config import check_field_types, reject_unknown_keys

THRESHOLD_METHODS = ("youden", "target_sensitivity", "fixed")
SYNTHETIC_FILTERS = ("none", "baseline", "confidence", "proximity")
SCENARIOS = ("full", "learning-curve", "rare-class")
#: With a ``synthetic_filter`` other than "none" the pool drawn is this many times what the largest ratio needs.
FILTER_POOL_FACTOR = 4
#: Class names treated as "negative" when picking the positive class of a binary task automatically
#: (compared after lower-casing and turning spaces and hyphens into underscores, see :func:`looks_negative`).
NEGATIVE_NAMES = ("normal", "healthy", "negative", "control", "controls", "benign", "no_finding", "nofinding",
                  "notumor", "none", "0", "absent", "clear")
#: A name one of whose words (split at spaces, ``_`` and ``-``) is one of these looks negative:
#: ``covid_negative``, ``normal_brain``, ``healthy controls`` (whole words: ``abnormal`` does not).
NEGATIVE_WORDS = ("normal", "healthy", "negative", "control", "controls", "benign")
#: So does a name with a negation word (``no_tumor``, ``not infected``, ``without-lesion``, ``non_covid``)
#: or a word that starts with ``non`` (``noncovid``, ``CT_NonCOVID``); ``nodule`` does not.
NEGATION_WORDS = ("non", "no", "not", "without")


def looks_negative(name: str) -> bool:
    """Whether a class name reads as the negative class of a binary task (``NEGATIVE_NAMES``,
    ``NEGATIVE_WORDS``, ``NEGATION_WORDS``): ``noncovid``, ``Non-COVID``, ``no tumor``, ``normal``."""
    words = [w for w in re.split(r"[\s_\-]+", str(name).strip().lower()) if w]
    return "_".join(words) in NEGATIVE_NAMES or any(
        w in NEGATIVE_WORDS or w in NEGATION_WORDS or (w.startswith("non") and len(w) > 3) for w in words)


@dataclass
class BenchmarkConfig:
    """Options of one benchmark run.

    Args:
        data: data spec for :func:`medgan.data.load_data` (e.g. ``"phantom"``, a folder).
        image_size: side of the square tensors the GAN and classifier see.
        window: intensity window (preset name, ``"level,width"``) or None for the data's default.
        folds, repeats: patient-grouped, class-stratified K-fold, repeated with different seeds.
        val_fraction: share of each training fold (patient-grouped) carved out as inner validation
            (early stopping, threshold, ratio selection). The GAN never sees it either.
        ratios: synthetic:real ratios per class for the real+synthetic arms; 0 is the baseline.
        models: GAN kinds, each its own set of arms: ``("fastgan",)`` (default, the equal-CPU ablation's
            winner), ``("cgan",)``, ``("dcgan",)`` or several.
        tstr: also train on synthetic only and test on real (arm "synthetic only").
        tstr_ratio: synthetic:real per class for the synthetic-only arm.
        synthetic_filter: ``"none"`` (default) or ``"baseline"``: keep only the synthetic images that
            the fold's baseline classifier (trained on the inner-training images, its operating point
            chosen on inner validation) calls as the class they were generated for. A pool
            ``FILTER_POOL_FACTOR`` times larger is drawn so every ratio can be filled; the numbers drawn
            and kept per class are recorded per fold. Meant against label noise (a synthetic "normal"
            slice that shows a bleed); it may also keep only the easy, prototypical images.
            ``"confidence"``: keep an image when the baseline classifiers' probability of its own class is at
            least q_c, the 20th percentile of that probability over the inner-validation real images of the
            class (so 80 % of real images would pass; q chosen on inner validation, never on test).
            ``"proximity"``: keep an image when its distance to the nearest real inner-training image, in the
            baseline classifier's penultimate features, lies inside the 5th-95th percentile range of the real
            images' own leave-one-out nearest-neighbour distances (drops near-copies and outliers).
        real_fractions: learning curve: per fraction f, every arm (GAN included) uses a patient-grouped,
            class-stratified fraction f of the inner-training patients (nested: the 0.25 patients are
            among the 0.5 ones); validation and test folds stay whole. ``(1.0,)``: all of them.
        rare_class, rare_fraction: rare-class scenario: the inner training keeps only ``rare_fraction`` of
            the patients with images of ``rare_class`` (their other-class images stay); validation and
            test stay whole; the report puts that class's sensitivity first.
        controls: non-GAN alternatives trained in every fold, from ``duplicate`` (real images duplicated
            to the count of each synthetic ratio), ``class-weight`` (inverse-frequency weighted loss) and
            ``strong-aug`` (stronger augmentation + MixUp). The headline compares the selected synthetic
            arm with the control that scored best on inner validation.
        synthetic_uses: ways to use the synthetic images: ``mix`` (every ratio), ``balance`` (top up the
            smaller classes to the largest), ``pretrain`` (train on synthetic, fine-tune on real). The
            selected arm chooses among them (and the baseline when 0 is a ratio) on inner validation.
        positive_class: class name scored as positive in a binary task (None: the class that is not
            named like "normal"; else the second class).
        threshold: "youden", "target_sensitivity" or "fixed" (0.5), chosen on inner validation.
        target_sensitivity: for ``threshold="target_sensitivity"``.
        selection_metric: inner-validation metric that picks the headline arm's ratio ("auc" or
            "balanced_accuracy"; ties go to the lower validation loss, then the smaller ratio).
        selection_rule: how that metric chooses: ``best`` (the highest) or ``one-se`` (the baseline unless
            a synthetic use beats it by more than one standard error; :mod:`medgan.benchmark.selection`).
        classifier: the classifier shared by every arm.
        gan_steps: GAN training steps per fold (None: the GAN trainer's default).
        gan_options: extra :class:`medgan.training.TrainConfig` fields (e.g. ``{"batch_size": 32}``).
        quality: score the first fold's synthetic images with :func:`medgan.evaluation.evaluate_quality`.
        dedup_threshold: correlation above which two images are near-duplicates (leakage audit).
        n_boot: bootstrap replicates for the paired comparisons.
        seed: master seed (folds, GANs, classifiers, bootstrap).
        device: "auto", "cpu", "cuda", "cuda:1" ...
    """

    data: str = "phantom"
    image_size: int = 64
    window: str | None = None
    folds: int = 5
    repeats: int = 2
    val_fraction: float = 0.2
    ratios: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
    models: tuple[str, ...] = ("fastgan",)
    tstr: bool = True
    tstr_ratio: float = 1.0
    synthetic_filter: str = "none"
    real_fractions: tuple[float, ...] = (1.0,)
    rare_class: str | None = None
    rare_fraction: float = 0.2
    controls: tuple[str, ...] = ()
    synthetic_uses: tuple[str, ...] = ("mix",)
    positive_class: str | None = None
    threshold: str = "youden"
    target_sensitivity: float = 0.9
    selection_metric: str = "auc"
    selection_rule: str = "best"
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    gan_steps: int | None = None
    gan_options: dict[str, Any] = field(default_factory=dict)
    quality: bool = True
    dedup_threshold: float = 0.99
    n_boot: int = 1000
    seed: int = 0
    device: str = "auto"
    preset: str = "default"

    def validate(self) -> "BenchmarkConfig":
        """Raise :class:`ConfigError` on an impossible option (wrong type, out of range); return self."""
        ratios = self.ratios if isinstance(self.ratios, (tuple, list)) else ()
        if not ratios or not all(_finite(r) and r >= 0 for r in ratios):
            raise ConfigError(f"--ratios must be finite numbers >= 0, got {self.ratios}", "e.g. --ratios 0,0.5,1,2")
        check_field_types(self, "benchmark option")
        check_field_types(self.classifier, "classifier option")
        self._check_ranges()
        if self.folds < 2:
            raise ConfigError(f"--folds must be at least 2, got {self.folds}", "use e.g. --folds 5")
        if self.repeats < 1:
            raise ConfigError(f"--repeats must be at least 1, got {self.repeats}", "use e.g. --repeats 2")
        if not 0 < self.val_fraction < 0.5:
            raise ConfigError(f"val_fraction must be in (0, 0.5), got {self.val_fraction}", "use e.g. 0.2")
        bad = [m for m in self.models if m not in MODELS]
        if bad or not self.models:
            raise ConfigError(f"unknown GAN model {bad or self.models}", f"use --model {', '.join(MODELS)} or both")
        if self.threshold not in THRESHOLD_METHODS:
            raise ConfigError(f"unknown threshold method {self.threshold!r}", f"use one of {THRESHOLD_METHODS}")
        if self.synthetic_filter not in SYNTHETIC_FILTERS:
            raise ConfigError(f"unknown synthetic_filter {self.synthetic_filter!r}", f"use one of {SYNTHETIC_FILTERS}")
        if self.selection_metric not in ("auc", "balanced_accuracy"):
            raise ConfigError(f"unknown selection metric {self.selection_metric!r}", "use 'auc' or 'balanced_accuracy'")
        if self.selection_rule not in SELECTION_RULES:
            raise ConfigError(f"unknown selection rule {self.selection_rule!r}", f"use one of {', '.join(SELECTION_RULES)}")
        if self.selection_rule == "one-se" and not self.baseline_is_candidate:
            raise ConfigError("selection rule one-se keeps the baseline unless a synthetic use beats it, so it needs "
                              f"0 in --ratios (got {list(ratios)})", "add 0 to --ratios, or use --selection-rule best")
        check_arch(self.classifier.arch, self.classifier.channels)
        if self.classifier.epochs < 1:
            raise ConfigError("classifier epochs must be >= 1", "e.g. 30")
        if self.classifier.ensemble < 1:
            raise ConfigError(f"classifier ensemble must be >= 1, got {self.classifier.ensemble}", "e.g. 1 or 3")
        self._check_scenario()
        self._check_gan_options()
        return self

    def _check_scenario(self) -> None:
        fractions = self.real_fractions if isinstance(self.real_fractions, (tuple, list)) else ()
        if not fractions or not all(_finite(f) and 0 < f <= 1 for f in fractions):
            raise ConfigError(f"--real-fractions must be numbers in (0, 1], got {self.real_fractions}",
                              "e.g. --real-fractions 0.25,0.5,1")
        if not (_finite(self.rare_fraction) and 0 < self.rare_fraction < 1):
            raise ConfigError(f"--rare-fraction must be in (0, 1), got {self.rare_fraction}", "e.g. --rare-fraction 0.2")
        bad = [c for c in self.controls if c not in CONTROLS]
        if bad:
            raise ConfigError(f"unknown control(s) {bad}", f"use some of {', '.join(CONTROLS)}")
        bad = [u for u in self.synthetic_uses if u not in USES]
        if bad or not self.synthetic_uses:
            raise ConfigError(f"unknown synthetic use(s) {bad or list(self.synthetic_uses)}",
                              f"use one or more of {', '.join(USES)}")

    @property
    def scenario(self) -> str:
        """``rare-class`` (a rare class is set), ``learning-curve`` (fractions below 1) or ``full``."""
        if self.rare_class is not None:
            return "rare-class"
        return "learning-curve" if tuple(float(f) for f in self.real_fractions) != (1.0,) else "full"

    @property
    def fractions(self) -> tuple[float, ...]:
        """The real fractions, largest first."""
        return tuple(sorted({float(f) for f in self.real_fractions}, reverse=True))

    def _check_ranges(self) -> None:
        c = self.classifier
        checks = [
            ("target_sensitivity", self.target_sensitivity, 0 < self.target_sensitivity < 1, "in (0, 1), e.g. 0.9"),
            ("tstr_ratio", self.tstr_ratio, self.tstr_ratio > 0 or not self.tstr, "> 0 (with tstr), e.g. 1"),
            ("gan_steps", self.gan_steps, self.gan_steps is None or self.gan_steps >= 1, ">= 1 (or null: the trainer's default)"),
            ("n_boot", self.n_boot, self.n_boot >= 1, ">= 1, e.g. 1000"),
            ("dedup_threshold", self.dedup_threshold, self.dedup_threshold > 0, "> 0 (a correlation, e.g. 0.99)"),
            ("seed", self.seed, 0 <= self.seed < 2 ** 62, "0 .. 2**62-1"),
            ("image_size", self.image_size, self.image_size in (16, 32, 64, 128, 256), "16, 32, 64, 128 or 256"),
            ("classifier.dropout", c.dropout, 0 <= c.dropout < 1, "in [0, 1), e.g. 0.2"),
            ("classifier.channels", c.channels, all(ch >= 1 for ch in c.channels), "positive widths, e.g. [8, 16, 32, 64]"),
            ("classifier.min_steps", c.min_steps, c.min_steps >= 0, ">= 0"),
            ("classifier.batch_size", c.batch_size, c.batch_size >= 2, ">= 2, e.g. 32"),
            ("classifier.lr", c.lr, c.lr > 0, "> 0, e.g. 2e-3"),
            ("classifier.weight_decay", c.weight_decay, c.weight_decay >= 0, ">= 0"),
            ("classifier.patience", c.patience, c.patience >= 0, ">= 0 (0: no early stopping)"),
        ]
        for name, value, ok, allowed in checks:
            if not ok:
                flag = f"--{name.replace('_', '-')}" if name in ("target_sensitivity", "gan_steps", "seed", "image_size") else name
                raise ConfigError(f"{flag} must be {allowed}, got {value!r}", f"set {name} to a value {allowed}")

    def _check_gan_options(self) -> None:
        """The per-fold GAN options (gan_steps, gan_options) must make a valid TrainConfig for every model."""
        for model in self.models:
            wanted: dict[str, Any] = {"model": model, "image_size": self.image_size, "holdout_fraction": 0.0,
                                      "sample_every": 0, "checkpoint_every": 500}
            if self.gan_steps is not None:
                wanted["steps"] = self.gan_steps
            try:
                TrainConfig.from_dict({**wanted, **self.gan_options, "device": "cpu"})
            except ConfigError as exc:
                raise ConfigError(f"gan_options (the GAN trained in each fold): {exc.message}", exc.hint) from None

    @property
    def baseline_is_candidate(self) -> bool:
        """Whether the selected arm may choose the baseline (0 among the ratios)."""
        return 0 in [float(r) for r in self.ratios]

    @property
    def synthetic_ratios(self) -> tuple[float, ...]:
        """The ratios > 0 (each a real+synthetic arm), sorted."""
        return tuple(sorted({float(r) for r in self.ratios if r > 0}))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ratios"] = list(self.ratios)
        d["models"] = list(self.models)
        for k in ("real_fractions", "controls", "synthetic_uses"):
            d[k] = list(getattr(self, k))
        d["classifier"]["channels"] = list(self.classifier.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "BenchmarkConfig":
        """Build from a (JSON) dict; unknown keys raise :class:`ConfigError`."""
        reject_unknown_keys(d, cls, "benchmark config keys")
        d = dict(d)
        clf = _object(d.pop("classifier", {}) or {}, "classifier")
        reject_unknown_keys(clf, ClassifierConfig, "classifier config keys")
        if isinstance(clf.get("channels"), list):
            clf["channels"] = tuple(clf["channels"])
        for k in ("ratios", "models", "real_fractions", "controls", "synthetic_uses"):
            if isinstance(d.get(k), list):
                d[k] = tuple(d[k])
        return cls(classifier=ClassifierConfig(**clf), **d)

    def protocol_hash(self) -> str:
        """Hash of the options that change results (not the device); resuming requires it to match."""
        d = self.to_dict()
        d.pop("device", None)
        for key, default in _ADDED_DEFAULTS.items():
            if d.get(key) == default:
                d.pop(key)
        for key, default in _ADDED_CLASSIFIER_DEFAULTS.items():  # at their default, options added later
            if d["classifier"].get(key) == default:                # hash as before: older runs still resume
                d["classifier"].pop(key)
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _object(value: Any, name: str) -> dict[str, Any]:
    """``value`` as a dict; ConfigError naming ``name`` when it is not a JSON object."""
    if not isinstance(value, dict):
        raise ConfigError(f"benchmark option {name} must be a JSON object, got {value!r}",
                          f'write {name} as an object, e.g. "{name}": {{"epochs": 30}}')
    return dict(value)


#: Options added after runs were committed, with the value those runs used.
_ADDED_DEFAULTS = {"synthetic_filter": "none", "real_fractions": [1.0], "rare_class": None, "rare_fraction": 0.2,
                   "controls": [], "synthetic_uses": ["mix"], "selection_rule": "best"}
#: What the presets compare (the class defaults above keep older configs' meaning).
PRESET_CONTROLS = ("duplicate", "class-weight", "strong-aug")
PRESET_USES = ("mix", "balance", "pretrain")
_ADDED_CLASSIFIER_DEFAULTS = {"ensemble": 1}


def default_config(**overrides: Any) -> BenchmarkConfig:
    """The full protocol: 5 folds x 2 repeats, ratios 0/0.5/1/2, classifier budget max(30 epochs, 600 steps)."""
    return replace(BenchmarkConfig(controls=PRESET_CONTROLS, synthetic_uses=PRESET_USES), **overrides)


#: The quick preset's GAN: a DCGAN per class at 32 x 32 with the mode-seeking term, 800 steps. Measured
#: on the 2-core CPU (docs/results/quick_preset.md): the cgan's samples were noise after 600 steps at
#: 32 x 32 (precision 0.00), the per-class DCGAN's were recognisable slices (precision 0.83 but recall
#: 0.00: one look-alike per class); mode seeking 0.1 and 800 steps gave precision 0.43 / recall 0.53.
QUICK_GAN = {"models": ("dcgan",), "image_size": 32, "gan_steps": 800, "gan_options": {"mode_seeking": 0.1}}


def quick_config(**overrides: Any) -> BenchmarkConfig:
    """The same protocol, small: 2 folds x 1 repeat, ratios 0/1/2, 150 classifier steps and a fast-converging
    GAN at 32 x 32 (:data:`QUICK_GAN`), so the README's first command shows real-looking slices in minutes."""
    base = BenchmarkConfig(
        folds=2, repeats=1, ratios=(0.0, 1.0, 2.0), classifier=ClassifierConfig(epochs=10, min_steps=150),
        n_boot=500, preset="quick", controls=PRESET_CONTROLS, synthetic_uses=PRESET_USES, **{**QUICK_GAN, "gan_options": dict(QUICK_GAN["gan_options"])},
    )
    return replace(base, **overrides)


def config_from_dict(d: dict[str, Any]) -> BenchmarkConfig:
    """A config from a (JSON) dict; ``"preset": "quick"`` starts from :func:`quick_config`, else the default.

    Keys given override the preset; a partial ``classifier`` dict overrides only its keys.
    """
    d = dict(d)
    preset = d.get("preset", "default")
    if preset not in ("default", "quick"):
        raise ConfigError(f"unknown preset {preset!r}", "use 'default' or 'quick'")
    base = (quick_config() if preset == "quick" else default_config()).to_dict()
    clf = {**base["classifier"], **_object(d.pop("classifier", None) or {}, "classifier")}
    base.update(d)
    base["classifier"] = clf
    return BenchmarkConfig.from_dict(base).validate()


def load_config(path: str) -> BenchmarkConfig:
    """Read a benchmark config JSON file (see :func:`config_from_dict`)."""
    p = Path(path)
    try:
        d = json.loads(p.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"benchmark config {p} not found", "pass an existing JSON file") from exc
    except ValueError as exc:
        raise ConfigError(f"benchmark config {p} is not valid JSON: {exc}", "fix the JSON syntax") from exc
    if not isinstance(d, dict):
        raise ConfigError(f"benchmark config {p} must hold a JSON object", 'e.g. {"preset": "quick"}')
    return config_from_dict(d)
