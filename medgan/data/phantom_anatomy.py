"""Anatomy of the built-in CT phantom: one axial abdominal slice at the level of the liver, in HU.

Geometry lives in normalised image coordinates (x to the image right = patient's left, y downwards
= posterior, both in [-1, 1]), so any image size works. A patient is a :class:`Anatomy` drawn once
(body habitus, organ sizes and positions, tissue HU offsets); each slice of that patient is a slightly
different cut through it (``z`` in [-1, 1] shifts and rescales the organs a little).

Everything here is deterministic given the drawn parameters; randomness comes only from the
``np.random.Generator`` passed to :func:`draw_anatomy`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Reference tissue values in HU (portal venous phase). Per-patient offsets are added on top.
HU = {
    "air": -1000.0,
    "fat": -100.0,
    "visceral_fat": -90.0,
    "muscle": 45.0,
    "liver": 60.0,
    "spleen": 50.0,
    "kidney_cortex": 150.0,
    "kidney_medulla": 90.0,
    "aorta": 170.0,
    "ivc": 130.0,
    "portal_vessel": 150.0,
    "bone_cortical": 700.0,
    "bone_cancellous": 250.0,
    "spinal_canal": 20.0,
    "bowel_wall": 35.0,
    "bowel_content": 15.0,
    "rib": 550.0,
}


def grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (x, y) in [-1, 1] for a ``size`` x ``size`` image (float32)."""
    c = (np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0
    y, x = np.meshgrid(c, c, indexing="ij")
    return x, y


def ellipse(x: np.ndarray, y: np.ndarray, cx: float, cy: float, a: float, b: float, angle: float = 0.0) -> np.ndarray:
    """Normalised ellipse radius ``r`` (``r <= 1`` inside) for centre, semi-axes and rotation (rad)."""
    ca, sa = np.cos(angle), np.sin(angle)
    dx, dy = x - cx, y - cy
    u = (dx * ca + dy * sa) / a
    v = (-dx * sa + dy * ca) / b
    return np.sqrt(u * u + v * v)


@dataclass
class Anatomy:
    """Per-patient anatomical parameters (all in normalised coordinates, HU offsets in HU)."""

    body: tuple[float, float, float, float]          # cx, cy, a, b of the skin outline
    fat: float                                       # subcutaneous fat thickness (fraction of axes)
    muscle: float                                    # abdominal wall muscle thickness
    liver: tuple[float, float, float, float, float]  # right lobe cx, cy, a, b, angle
    left_lobe: tuple[float, float, float, float, float]
    spleen: tuple[float, float, float, float, float]
    kidneys: tuple[tuple[float, float, float, float, float], tuple[float, float, float, float, float]]
    spine: tuple[float, float, float]                # vertebral body cx, cy, r
    aorta: tuple[float, float, float]
    ivc: tuple[float, float, float, float]
    stomach: tuple[float, float, float, float, float]
    vessels: np.ndarray                              # (K, 3) portal/hepatic vessel dots in the liver: x, y, r
    bowel: np.ndarray                                # (M, 5) bowel loops: x, y, a, b, gas fraction
    ribs: np.ndarray                                 # (R,) angles of rib cross-sections on the wall
    hu: dict[str, float] = field(default_factory=dict)  # tissue HU after the patient's offsets


def draw_anatomy(rng: np.random.Generator) -> Anatomy:
    """Draw one patient's anatomy: body habitus, organ geometry, tissue HU offsets."""
    u = rng.uniform
    a_body = u(0.78, 0.92)
    b_body = a_body * u(0.66, 0.80)
    body = (u(-0.02, 0.02), u(0.0, 0.06), a_body, b_body)
    s = a_body / 0.85  # organs scale with the body
    liver = (u(-0.42, -0.30) * s, u(-0.10, 0.04) * s, u(0.34, 0.44) * s, u(0.32, 0.42) * s, u(-0.35, 0.1))
    left_lobe = (u(-0.10, 0.05) * s, u(-0.28, -0.18) * s, u(0.18, 0.30) * s, u(0.10, 0.16) * s, u(-0.4, 0.1))
    spleen = (u(0.50, 0.60) * s, u(0.18, 0.30) * s, u(0.09, 0.14) * s, u(0.16, 0.24) * s, u(-0.9, -0.4))
    kidneys = (
        (u(-0.32, -0.24) * s, u(0.30, 0.38) * s, u(0.07, 0.10) * s, u(0.10, 0.13) * s, u(0.3, 0.6)),
        (u(0.24, 0.32) * s, u(0.30, 0.38) * s, u(0.07, 0.10) * s, u(0.10, 0.13) * s, u(-0.6, -0.3)),
    )
    spine = (u(-0.02, 0.02), body[1] + b_body * u(0.55, 0.62), u(0.09, 0.12) * s)
    aorta = (spine[0] + u(0.04, 0.09) * s, spine[1] - spine[2] - u(0.05, 0.08) * s, u(0.045, 0.06) * s)
    ivc = (spine[0] - u(0.10, 0.16) * s, spine[1] - spine[2] - u(0.05, 0.10) * s, u(0.04, 0.06) * s, u(0.6, 0.9))
    stomach = (u(0.22, 0.36) * s, u(-0.22, -0.08) * s, u(0.14, 0.22) * s, u(0.10, 0.16) * s, u(0.0, 0.5))
    # portal/hepatic vessel cross-sections inside the liver (bright dots that a model must not confuse
    # with lesions)
    k = int(rng.integers(3, 8))
    ang = rng.uniform(0, 2 * np.pi, k)
    rad = np.sqrt(rng.uniform(0.0, 0.55, k))
    vessels = np.stack(
        [liver[0] + rad * liver[2] * np.cos(ang), liver[1] + rad * liver[3] * np.sin(ang), u(0.012, 0.03, k) * s], 1
    )
    m = int(rng.integers(4, 9))
    bowel = np.stack(
        [u(-0.25, 0.45, m) * s, u(-0.05, 0.30, m) * s, u(0.05, 0.10, m) * s, u(0.04, 0.08, m) * s, u(0.0, 0.7, m)], 1
    )
    ribs = np.sort(rng.uniform(-0.9 * np.pi, 0.9 * np.pi, int(rng.integers(4, 9)))) + np.pi / 2
    # tissue HU: one global contrast-timing offset for enhancing tissues plus small per-tissue jitter
    enh = u(-10.0, 10.0)
    hu = {name: v + rng.normal(0.0, 3.0) for name, v in HU.items()}
    for name in ("liver", "spleen", "kidney_cortex", "kidney_medulla", "aorta", "ivc", "portal_vessel"):
        hu[name] += enh * (1.0 if name in ("liver", "spleen") else 2.5)
    hu["air"] = HU["air"]
    return Anatomy(body, u(0.06, 0.16), u(0.035, 0.06), liver, left_lobe, spleen, kidneys, spine, aorta, ivc,
                   stomach, vessels, bowel, ribs, hu)


def _shift(p: tuple, dz: float, grow: float) -> tuple:
    """An organ cut ``dz`` further down: centre nudged, axes scaled by ``grow``."""
    return (p[0], p[1] + dz, p[2] * grow, p[3] * grow, *p[4:])


def render_anatomy(an: Anatomy, x: np.ndarray, y: np.ndarray, z: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Render one slice at height ``z`` (-1..1, small shifts between nearby cuts).

    Returns:
        (image in HU float32, liver mask bool) -- the mask is where lesions may be placed.
    """
    hu = an.hu
    img = np.full(x.shape, hu["air"], dtype=np.float32)
    bx, by, ba, bb = an.body
    r_body = ellipse(x, y, bx, by, ba, bb)
    img[r_body <= 1.0] = hu["fat"]
    r_wall = ellipse(x, y, bx, by, ba * (1 - an.fat), bb * (1 - an.fat * 1.3))
    img[r_wall <= 1.0] = hu["muscle"]
    inner = ellipse(x, y, bx, by, ba * (1 - an.fat - an.muscle), bb * (1 - 1.3 * an.fat - an.muscle)) <= 1.0
    img[inner] = hu["visceral_fat"]
    # ribs: bright ovals sitting in the muscle wall
    for t in an.ribs:
        rx = bx + ba * (1 - an.fat - an.muscle / 2) * np.cos(t)
        ry = by + bb * (1 - 1.3 * an.fat - an.muscle / 2) * np.sin(t)
        if ry < by + 0.5 * bb:
            img[ellipse(x, y, rx, ry, 0.035, 0.022, t) <= 1.0] = hu["rib"]
    # paraspinal muscles and psoas
    sx, sy, sr = an.spine
    for side in (-1.0, 1.0):
        img[ellipse(x, y, sx + side * 1.4 * sr, sy + 1.3 * sr, 1.2 * sr, 1.1 * sr) <= 1.0] = hu["muscle"]
    # bowel loops: wall, fluid content, gas pockets (non-dependent: the top of the loop)
    for bx_, by_, a_, b_, gas in an.bowel:
        rb = ellipse(x, y, bx_, by_ + 0.3 * z * b_, a_, b_)
        sel = inner & (rb <= 1.0)
        img[sel] = hu["bowel_wall"]
        img[inner & (rb <= 0.75)] = hu["bowel_content"]
        if gas > 0.25:
            img[inner & (rb <= 0.75) & (y < by_ - b_ * (1 - 2 * gas) * 0.75)] = hu["air"]
    # stomach with an air-fluid level
    st = _shift(an.stomach, 0.02 * z, 1.0 + 0.05 * z)
    rs = ellipse(x, y, *st)
    img[inner & (rs <= 1.0)] = hu["bowel_wall"] + 10
    img[inner & (rs <= 0.85)] = hu["bowel_content"]
    img[inner & (rs <= 0.85) & (y < st[1] - 0.3 * st[3])] = hu["air"]
    # solid organs
    grow = 1.0 - 0.04 * z
    liver = (ellipse(x, y, *_shift(an.liver, 0.02 * z, grow)) <= 1.0) | (
        ellipse(x, y, *_shift(an.left_lobe, 0.02 * z, 1.0 - 0.12 * z)) <= 1.0
    )
    liver &= inner
    img[liver] = hu["liver"]
    spleen = inner & (ellipse(x, y, *_shift(an.spleen, 0.02 * z, 1.0 + 0.05 * z)) <= 1.0)
    img[spleen] = hu["spleen"]
    for kd in an.kidneys:
        rk = ellipse(x, y, *_shift(kd, 0.02 * z, 1.0 + 0.08 * z))
        img[inner & (rk <= 1.0)] = hu["kidney_cortex"]
        img[inner & (rk <= 0.6)] = hu["kidney_medulla"]
    # vessels
    ax, ay, ar = an.aorta
    img[ellipse(x, y, ax, ay, ar, ar) <= 1.0] = hu["aorta"]
    ix, iy, ir, squash = an.ivc
    img[ellipse(x, y, ix, iy, ir, ir * squash) <= 1.0] = hu["ivc"]
    for vx, vy, vr in an.vessels:
        img[liver & (ellipse(x, y, vx, vy + 0.02 * z, vr, vr) <= 1.0)] = hu["portal_vessel"]
    # vertebra: cortical shell, cancellous core, canal and posterior elements
    rv = ellipse(x, y, sx, sy, sr, sr * 0.9)
    img[rv <= 1.0] = hu["bone_cortical"]
    img[rv <= 0.8] = hu["bone_cancellous"]
    cy_canal = sy + 1.45 * sr
    img[ellipse(x, y, sx, cy_canal + 0.1 * sr, 0.85 * sr, 0.75 * sr) <= 1.0] = hu["bone_cortical"] * 0.8
    img[ellipse(x, y, sx, cy_canal, 0.5 * sr, 0.45 * sr) <= 1.0] = hu["spinal_canal"]
    img[ellipse(x, y, sx, cy_canal + 0.9 * sr, 0.18 * sr, 0.55 * sr) <= 1.0] = hu["bone_cortical"] * 0.8
    # the lesion-bearing region: liver parenchyma away from the big vessels
    parenchyma = (img == np.float32(hu["liver"])) & liver
    return img, parenchyma
