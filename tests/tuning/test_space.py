import optuna
import pytest

from lensml.tuning import SearchSpace


def _space():
    return SearchSpace.from_dict(
        {
            "training.learning_rate": {"type": "float", "low": 1e-5, "high": 1e-2, "log": True},
            "model.options.depth": {"type": "int", "low": 1, "high": 4},
            "training.schedule": {"type": "categorical", "choices": ["constant", "warmup_cosine"]},
            "training.warmup_epochs": {
                "type": "float", "low": 0.5, "high": 3.0,
                "condition": {"param": "training.schedule", "values": ["warmup_cosine"]},
            },
        }
    )


def test_suggest_respects_types_ranges_and_conditions():
    space = _space()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen_schedules = set()
    for _ in range(12):
        trial = study.ask()
        p = space.suggest(trial)
        assert 1e-5 <= p["training.learning_rate"] <= 1e-2
        assert isinstance(p["model.options.depth"], int) and 1 <= p["model.options.depth"] <= 4
        seen_schedules.add(p["training.schedule"])
        # The conditional parameter exists exactly when its condition holds.
        assert ("training.warmup_epochs" in p) == (p["training.schedule"] == "warmup_cosine")
        study.tell(trial, 0.0)
    assert seen_schedules == {"constant", "warmup_cosine"}
    log_dist = study.trials[0].distributions["training.learning_rate"]
    assert log_dist.log


@pytest.mark.parametrize(
    "table, match",
    [
        ({}, "search space is empty"),
        ({"a": {"type": "uniform", "low": 0, "high": 1}}, "'type' is 'uniform'"),
        ({"a": {"type": "float", "low": 1, "high": 0}}, "greater than high"),
        ({"a": {"type": "float", "low": 0.0, "high": 1, "log": True}}, "log scale needs low > 0"),
        ({"a": {"type": "float", "low": 0, "high": 1, "lgo": True}}, r"unknown key\(s\) \['lgo'\]"),
        ({"a": {"type": "categorical", "choices": []}}, "non-empty list"),
        ({"a": {"type": "float", "high": 1}}, "missing 'low'"),
        ({"a": {"type": "int", "low": 0, "high": 2, "condition": {"param": "b", "values": [1]}}}, "not a parameter declared before"),
    ],
)
def test_bad_search_spaces_raise(table, match):
    with pytest.raises(ValueError, match=match):
        SearchSpace.from_dict(table)


def test_int_bounds_must_be_integers():
    with pytest.raises(TypeError, match="must be an integer"):
        SearchSpace.from_dict({"a": {"type": "int", "low": 0.5, "high": 2}})


def test_variants_cover_every_choice():
    variants = _space().variants()
    assert {v["training.schedule"] for v in variants} == {"constant", "warmup_cosine"}
