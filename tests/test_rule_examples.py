"""Each rule's documented examples are its first tests: bad fires, good does not."""
from __future__ import annotations

import pytest

from bnlint.api import lint_source, select_rules
from bnlint.config import Settings
from bnlint.rules import ALL_RULES

CASES = [
    pytest.param(rule, kind, getattr(rule, kind), id=f"{rule.code}-{kind}")
    for rule in ALL_RULES
    for kind in ("bad", "good")
]


@pytest.mark.parametrize(("rule", "kind", "example"), CASES)
def test_rule_example(rule, kind, example):
    settings = Settings(select=[rule.code])
    result = lint_source(f"{rule.code}_{kind}.py", example.source.encode(), settings, select_rules(settings))
    assert result.error is None
    codes = [d.code for d in result.diagnostics]
    assert set(codes) <= {rule.code}
    assert len(codes) == example.expect


def test_off_by_default_examples_are_silent_under_the_default_selection():
    # The examples above select their rule; by default an opt-in rule must say nothing on them.
    settings = Settings()
    for rule in ALL_RULES:
        if not rule.enabled_by_default:
            result = lint_source("bad.py", rule.bad.source.encode(), settings, select_rules(settings))
            assert rule.code not in {d.code for d in result.diagnostics}


def test_every_rule_is_documented_and_distinct():
    codes = [rule.code for rule in ALL_RULES]
    assert codes == ["BN001", "BN002", "BN003", "BN004", "BN005", "BN006", "BN007", "BN008", "BN009", "BN010",
                     "BN011", "BN012", "BN013", "BN014", "BN015", "BN016", "BN017", "BN018", "BN019", "BN020"]
    assert len({rule.name for rule in ALL_RULES}) == len(ALL_RULES)
    for rule in ALL_RULES:
        assert rule.bad.expect >= 1 and rule.good.expect == 0
        doc = rule.documentation()
        assert rule.code in doc and rule.name in doc
        assert rule.bad.source.strip() in doc and rule.good.source.strip() in doc
