"""One confidence scale for every decision of the local engine.

A decision compares measured statistics with thresholds. Its strength is how many times
its threshold the weakest deciding statistic is (`over` for "at least" rules, `under` for
"at most" rules), so 1 is exactly at the threshold. Confidence = 100 - 50 / strength:
1 -> 50, 2 -> 75, 4 -> 87.5, approaching 100; below 1 (the decision went the other way)
50. Reported segments thus stay in Rekognition's 50-100, and the same file always gives
the same figures.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]


def over(value: float, threshold: float) -> float:
    """Strength of `value >= threshold` (threshold > 0)."""
    return max(value, 0.0) / threshold


def under(value: float, threshold: float) -> float:
    """Strength of `value <= threshold`: infinite when the value is 0."""
    return threshold / value if value > 0 else float("inf")


def confidence(strength: float) -> float:
    if not strength > 1.0:  # also NaN
        return 50.0
    return round(min(100.0, 100.0 - 50.0 / strength), 3)


def against(*strengths: float) -> float:
    """Strength of "none of these decisions holds": the inverse of the strongest."""
    strongest = max(strengths, default=0.0)
    return 1.0 / strongest if strongest > 0 else float("inf")


def over_each(values: F64, threshold: float) -> F64:
    result: F64 = np.maximum(values, 0.0) / threshold
    return result


def under_each(values: F64, threshold: float) -> F64:
    out = np.full(values.shape, np.inf)
    result: F64 = np.divide(threshold, values, out=out, where=values > 0)
    return result


def confidences(strengths: F64) -> F64:
    """`confidence` per element, unrounded (a segment's mean is rounded once)."""
    safe = np.where(strengths > 1.0, strengths, 1.0)
    result: F64 = np.clip(100.0 - 50.0 / safe, 50.0, 100.0)
    return result
