"""A small fuzz run in CI: generated models, their mutations and random Python all keep every property.

``benchmarks/fuzz.py`` runs the same checks on thousands of files.
"""
from __future__ import annotations

from fuzzing import check_file, model_source, mutated_source, python_programs
from hypothesis import HealthCheck, given, settings

# Sizes that keep this file near a minute on one core; the benchmark runs far more.


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


@fuzz(60)
@given(model_source())
def test_generated_models(source):
    assert check_file(source.encode()).failures == []


@fuzz(40)
@given(mutated_source())
def test_mutated_models(data):
    assert check_file(data).failures == []


@fuzz(25)
@given(python_programs())
def test_hypothesmith_programs(data):
    assert check_file(data).failures == []
