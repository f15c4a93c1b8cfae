"""Focal liver lesions of the built-in CT phantom, following their portal-venous CT appearance.

* ``cyst``: round or slightly oval, sharp margin, homogeneous near-water attenuation (0-15 HU).
* ``metastasis``: irregular, lobulated outline; hypodense (20-40 HU) with an enhancing rim, often a
  hypodense perilesional halo ("target") and, when large, a darker necrotic centre.
* ``hemangioma``: round; hypodense centre with peripheral, nodular, *discontinuous* enhancement whose
  nodules reach blood-pool (aortic) attenuation.

A lesion is drawn once per patient (:func:`draw_lesion`, the only random step) and then rendered
deterministically into each slice (:func:`render_lesion`) as a cut through a sphere-like body at a
given offset from its centre, so nearby slices show the same lesion at a slightly different size.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Disease classes the phantom knows, in the default order (+ the optional lesion-free class).
LESION_TYPES = ("cyst", "metastasis", "hemangioma")
NORMAL = "normal"

#: Lesion radius range (normalised units: 1.0 = half the image width), sampled log-uniformly.
#: At 64 x 64 pixels this is about 3.8 to 11 pixels; extra lesions of a patient are smaller still.
RADIUS_RANGE = (0.12, 0.34)


@dataclass
class Lesion:
    """Drawn lesion parameters (deterministic rendering from these)."""

    kind: str
    radius: float                 # normalised radius of the lesion's largest cross-section
    aspect: float                 # b/a of the outline
    angle: float                  # outline rotation (rad)
    harmonics: np.ndarray         # (K, 2): amplitude, phase of the lobulation, k = 2..K+1
    core_hu: float                # centre attenuation
    rim_hu: float                 # rim / nodule attenuation (relative meaning depends on kind)
    rim_width: float              # rim thickness, fraction of radius
    halo: float                   # metastasis: perilesional hypodense halo depth (HU, 0 = none)
    nodules: np.ndarray           # hemangioma: (N, 2) angle, size fraction
    centre: tuple[float, float] = (0.0, 0.0)   # set when placed in the liver


#: Probability of 1, 2, 3 lesions per patient (metastases are more often multiple).
LESION_COUNT_P = {"cyst": (0.7, 0.3, 0.0), "metastasis": (0.4, 0.35, 0.25), "hemangioma": (0.8, 0.2, 0.0)}


def draw_lesions(rng: np.random.Generator, kind: str, liver_hu: float, aorta_hu: float) -> list[Lesion]:
    """Draw a patient's lesions of ``kind``: the first at full size, any further ones smaller."""
    n = 1 + int(rng.choice(3, p=LESION_COUNT_P[kind]))
    out = [draw_lesion(rng, kind, liver_hu, aorta_hu)]
    for _ in range(n - 1):
        out.append(draw_lesion(rng, kind, liver_hu, aorta_hu, scale=float(rng.uniform(0.5, 0.85))))
    return out


def draw_lesion(rng: np.random.Generator, kind: str, liver_hu: float, aorta_hu: float, scale: float = 1.0) -> Lesion:
    """Draw one lesion of ``kind`` for a patient whose liver/aorta enhance to the given HU."""
    u = rng.uniform
    radius = scale * float(np.exp(u(np.log(RADIUS_RANGE[0]), np.log(RADIUS_RANGE[1]))))
    none = np.zeros((0, 2))
    if kind == "cyst":
        return Lesion(kind, radius, u(0.8, 1.0), u(0, np.pi), none, u(0.0, 15.0), 0.0, 0.0, 0.0, none)
    if kind == "metastasis":
        k = 4
        harm = np.stack([u(0.05, 0.18, k) / np.arange(1, k + 1) ** 0.5, u(0, 2 * np.pi, k)], 1)
        return Lesion(
            kind, radius, u(0.7, 1.0), u(0, np.pi), harm, core_hu=u(20.0, 40.0),
            rim_hu=liver_hu + u(20.0, 50.0), rim_width=u(0.2, 0.35),
            halo=u(8.0, 20.0) if rng.random() < 0.5 else 0.0, nodules=none,
        )
    if kind == "hemangioma":
        n = int(rng.integers(3, 7))
        # discontinuous: nodules at spread-out angles with gaps between them
        base = np.sort(u(0, 2 * np.pi, n))
        nod = np.stack([base, u(0.22, 0.36, n)], 1)
        harm = np.stack([u(0.0, 0.05, 2), u(0, 2 * np.pi, 2)], 1)
        return Lesion(kind, radius, u(0.85, 1.0), u(0, np.pi), harm, core_hu=u(28.0, 45.0),
                      rim_hu=aorta_hu * u(0.85, 1.0), rim_width=0.0, halo=0.0, nodules=nod)
    raise ValueError(f"unknown lesion kind {kind!r}")


def render_lesion(img: np.ndarray, liver: np.ndarray, x: np.ndarray, y: np.ndarray, les: Lesion,
                  cut: float = 0.0) -> None:
    """Paint ``les`` into ``img`` (in place) for a cut at ``cut`` (-1..1 of the radius) off its centre.

    Painting is confined to ``liver`` (the lesion never leaks outside the organ).
    """
    r = les.radius * float(np.sqrt(max(1.0 - cut * cut, 0.05)))
    cx, cy = les.centre
    ca, sa = np.cos(les.angle), np.sin(les.angle)
    dx, dy = x - cx, y - cy
    u = (dx * ca + dy * sa)
    v = (-dx * sa + dy * ca) / les.aspect
    rho = np.sqrt(u * u + v * v) / r
    theta = np.arctan2(v, u)
    if len(les.harmonics):
        k = np.arange(2, 2 + len(les.harmonics))[:, None, None]
        amp, ph = les.harmonics[:, 0][:, None, None], les.harmonics[:, 1][:, None, None]
        rho = rho / (1.0 + (amp * np.cos(k * theta[None] + ph)).sum(0))
    near = liver & (rho <= 1.4)
    if les.kind == "cyst":
        img[near & (rho <= 1.0)] = les.core_hu
    elif les.kind == "metastasis":
        if les.halo > 0:
            halo = near & (rho > 1.0) & (rho <= 1.25)
            img[halo] -= les.halo * (1.25 - rho[halo]) / 0.25
        img[near & (rho <= 1.0)] = les.rim_hu
        img[near & (rho <= 1.0 - les.rim_width)] = les.core_hu
        if les.radius > 0.12:  # necrotic centre in larger metastases
            img[near & (rho <= 0.35)] = les.core_hu - 12.0
    elif les.kind == "hemangioma":
        img[near & (rho <= 1.0)] = les.core_hu
        for ang, size in les.nodules:
            nx, ny = 0.78 * np.cos(ang), 0.78 * np.sin(ang)
            d = np.sqrt((u / r - nx) ** 2 + (v / r - ny) ** 2)
            img[near & (d <= size) & (rho <= 1.02)] = les.rim_hu
    else:
        raise ValueError(f"unknown lesion kind {les.kind!r}")
