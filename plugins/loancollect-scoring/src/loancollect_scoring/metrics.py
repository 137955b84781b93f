"""How well a score separates outcomes: AUC, KS, calibration and population stability."""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs
import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

__all__ = ["CalibrationBin", "Separation", "calibration", "psi", "separation", "stability_bins"]


@attrs.frozen(kw_only=True)
class Separation:
    """AUC and Kolmogorov-Smirnov statistic of a score against observed outcomes.

    ``None`` when one class is absent (nothing to separate).
    """

    auc: float | None
    ks: float | None
    n: int
    events: int


def separation(outcomes: Sequence[bool], scores: Sequence[float]) -> Separation:
    """AUC and KS of ``scores`` (higher = more likely) for ``outcomes``."""
    y = np.asarray(outcomes, dtype=int)
    s = np.asarray(scores, dtype=float)
    events = int(y.sum())
    if events == 0 or events == len(y):
        return Separation(auc=None, ks=None, n=len(y), events=events)
    fpr, tpr, _ = roc_curve(y, s)
    return Separation(
        auc=round(float(roc_auc_score(y, s)), 4),
        ks=round(float(np.max(tpr - fpr)), 4),
        n=len(y),
        events=events,
    )


@attrs.frozen(kw_only=True)
class CalibrationBin:
    """Mean predicted probability against the observed rate, in one score decile."""

    n: int
    predicted: float
    observed: float


def calibration(
    outcomes: Sequence[bool], probabilities: Sequence[float], bins: int = 10
) -> tuple[CalibrationBin, ...]:
    """Calibration by quantile bins of the predicted probability."""
    y = np.asarray(outcomes, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    if len(p) == 0:
        return ()
    order = np.argsort(p, kind="stable")
    out = []
    for chunk in np.array_split(order, min(bins, len(p))):
        if len(chunk):
            out.append(
                CalibrationBin(
                    n=len(chunk),
                    predicted=round(float(p[chunk].mean()), 4),
                    observed=round(float(y[chunk].mean()), 4),
                )
            )
    return tuple(out)


def stability_bins(
    scores: Sequence[float], bins: int = 10
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Inner decile edges of the expected (training) scores, and each bin's share."""
    s = np.asarray(scores, dtype=float)
    edges = tuple(sorted({float(e) for e in np.quantile(s, np.linspace(0, 1, bins + 1)[1:-1])}))
    counts = np.bincount(np.searchsorted(edges, s, side="right"), minlength=len(edges) + 1)
    return edges, tuple(round(float(c) / len(s), 6) for c in counts)


def psi(expected: Sequence[float], edges: Sequence[float], actual_scores: Sequence[float]) -> float:
    """Population stability index of ``actual_scores`` against the expected bin shares.

    Shares of zero are floored at 0.0001 (the usual convention) so the index stays finite.
    """
    a = np.asarray(actual_scores, dtype=float)
    if len(a) == 0:
        return 0.0
    counts = np.bincount(np.searchsorted(edges, a, side="right"), minlength=len(edges) + 1)
    total = 0.0
    for e, c in zip(expected, counts, strict=True):
        e_share = max(e, 1e-4)
        a_share = max(c / len(a), 1e-4)
        total += (a_share - e_share) * math.log(a_share / e_share)
    return round(total, 6)
