from __future__ import annotations

import pytest

from worker.testing.metrics import cut_f1


def test_cut_f1_tolerance_and_one_to_one_matching() -> None:
    assert cut_f1([], []) == 1.0
    assert cut_f1([10, 20], [10, 20]) == 1.0
    assert cut_f1([11, 19], [10, 20]) == 1.0  # within one frame
    assert cut_f1([12], [10]) == 0.0
    # one found cut cannot satisfy two truth cuts
    assert cut_f1([10], [10, 11]) == pytest.approx(2 / 3)
    assert cut_f1([10, 50], [10]) == pytest.approx(2 / 3)
