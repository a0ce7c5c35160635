"""CIEDE2000, which sizes the watermark's chroma mark, against Sharma, Wu and Dalal's test data
(Color Res. Appl. 30:21-30, 2005)."""

from __future__ import annotations

import numpy as np

from mutoscope.provenance.colour import ciede2000, lab

PAIRS = [
    # (L1, a1, b1), (L2, a2, b2), ΔE00
    ((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
    ((50.0, -1.3802, -84.2814), (50.0, 0.0, -82.7485), 1.0),
    ((50.0, 2.5, 0.0), (50.0, 0.0, -2.5), 4.3065),
    ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
    ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
    ((22.7233, 20.0904, -46.694), (23.0331, 14.973, -42.5619), 2.0373),
]


def test_ciede2000_matches_the_published_pairs() -> None:
    lab1 = np.array([p[0] for p in PAIRS])
    lab2 = np.array([p[1] for p in PAIRS])
    assert np.allclose(ciede2000(lab1, lab2), [p[2] for p in PAIRS], atol=1e-4)


def test_lab_of_srgb_white_and_black() -> None:
    assert np.allclose(lab(np.array([255.0, 255.0, 255.0])), [100.0, 0.0, 0.0], atol=0.05)
    assert np.allclose(lab(np.array([0.0, 0.0, 0.0])), [0.0, 0.0, 0.0], atol=1e-9)
