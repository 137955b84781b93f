"""The gradient-boosted alternative (LightGBM), saved with skops, never pickle."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from loancollect.errors import ConfigurationError
from loancollect_scoring.features import FEATURES, FeatureKind

__all__ = ["TRUSTED_TYPES", "BoostedModel", "train_boosted"]

TRUSTED_TYPES = (
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
)
"""The only types a saved model may hold; anything else is refused on load."""


@attrs.frozen(kw_only=True)
class BoostedModel:
    """A LightGBM classifier and the vocabulary of each categorical feature."""

    target: str
    model: Any
    vocabulary: Mapping[str, tuple[str, ...]]

    def matrix(self, rows: Sequence[Mapping[str, object]]) -> Any:
        """Rows as the learner's matrix (categories as their index; unseen ones missing)."""
        out = np.empty((len(rows), len(FEATURES)), dtype=float)
        for i, row in enumerate(rows):
            for j, feature in enumerate(FEATURES):
                value = row.get(feature.name)
                if feature.kind is FeatureKind.CATEGORICAL:
                    known = self.vocabulary[feature.name]
                    out[i, j] = known.index(value) if value in known else np.nan
                else:
                    out[i, j] = np.nan if value is None else float(value)  # type: ignore[arg-type]
        return out

    def probabilities(self, rows: Sequence[Mapping[str, object]]) -> list[float]:
        """The probability of the target event for each row."""
        if not rows:
            return []
        return [float(p) for p in self.model.predict_proba(self.matrix(rows))[:, 1]]

    def save(self, path: Path) -> str:
        """Write the learner with skops; return the file's SHA-256."""
        import skops.io as sio

        sio.dump(self.model, path)
        return hashlib.sha256(path.read_bytes()).hexdigest()

    @classmethod
    def load(
        cls, path: Path, *, target: str, vocabulary: Mapping[str, tuple[str, ...]], sha256: str
    ) -> BoostedModel:
        """Read a learner saved by :meth:`save`, after checking its digest and its types.

        :raises ConfigurationError: when the file changed since it was written or holds
            a type outside :data:`TRUSTED_TYPES`.
        """
        import skops.io as sio

        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ConfigurationError(f"model file {path.name}: SHA-256 differs from its card")
        untrusted = set(sio.get_untrusted_types(data=data)) - set(TRUSTED_TYPES)
        if untrusted:
            raise ConfigurationError(
                f"model file {path.name} holds types outside the allowed set: {sorted(untrusted)}"
            )
        model = sio.loads(data, trusted=list(TRUSTED_TYPES))
        import lightgbm

        # skops trusts scikit-learn's own types by default: insist on the learner we wrote
        if not isinstance(model, lightgbm.LGBMClassifier):
            raise ConfigurationError(
                f"model file {path.name} holds a {type(model).__name__}, "
                "expected a LightGBM classifier"
            )
        return cls(target=target, model=model, vocabulary=vocabulary)


def train_boosted(
    rows: Sequence[Mapping[str, object]], outcomes: Sequence[bool], *, target: str, seed: int
) -> BoostedModel:
    """Fit a small, regularised LightGBM classifier, deterministic for ``seed``."""
    import lightgbm

    vocabulary = {
        f.name: tuple(sorted({str(r[f.name]) for r in rows}))
        for f in FEATURES
        if f.kind is FeatureKind.CATEGORICAL
    }
    shell = BoostedModel(target=target, model=None, vocabulary=vocabulary)
    x = shell.matrix(rows)
    model = lightgbm.LGBMClassifier(
        n_estimators=150,
        learning_rate=0.05,
        num_leaves=15,
        min_child_samples=20,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.8,
        reg_lambda=1.0,
        random_state=seed,
        deterministic=True,
        force_row_wise=True,
        n_jobs=1,
        verbose=-1,
    )
    categorical = [i for i, f in enumerate(FEATURES) if f.kind is FeatureKind.CATEGORICAL]
    model.fit(x, np.asarray(outcomes, dtype=int), categorical_feature=categorical)
    return BoostedModel(target=target, model=model, vocabulary=vocabulary)
