"""bench/report.py's interval for a median: the sign test's order statistics, covering the median at
least as often as it says."""

import random

import pytest

from bench.report import median_interval


# (n, k): the k-th lowest and highest of n, as the sign test's tables give them at 95 %.
@pytest.mark.parametrize(("n", "k"), [(9, 2), (15, 4), (31, 10), (101, 41)])
def test_the_order_statistics_of_the_tables(n, k):
    values = [float(i) for i in range(1, n + 1)]
    random.Random(n).shuffle(values)
    assert median_interval(values) == ((n + 1) / 2, float(k), float(n + 1 - k))


def test_too_few_rounds_give_the_whole_range():
    assert median_interval([3.0, 1.0, 2.0, 5.0, 4.0]) == (3.0, 1.0, 5.0)


@pytest.mark.parametrize("n", [9, 31, 100])
def test_it_covers_the_median_at_least_95_percent_of_the_time(n):
    draw = random.Random(n)
    trials = 4000
    covered = 0
    for _ in range(trials):
        _, low, high = median_interval([draw.expovariate(1.0) - 0.6931471805599453 for _ in range(n)])
        covered += low <= 0 <= high
    assert covered / trials >= 0.94  # 0.95 less the trials' own spread
