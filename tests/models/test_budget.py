"""Width rules and parameter budgets: rows of a table sized to one budget."""

import pytest

from lensml.models import available, build
from lensml.models.budget import count_params, options_for_budget
from lensml.models.registry import width_options

SHAPE = (32, 32, 1)


@pytest.mark.parametrize("name", ["resnet18", "vit"])
def test_width_one_is_the_published_size(name):
    assert count_params(name, width_options(name, 1.0), input_shape=SHAPE) == build(name, SHAPE).count_params()


def test_counting_draws_no_weights_and_leaves_nothing_to_initialise():
    """A budget's bisection counts without drawing weights (a stateless scope); nothing of the
    counted models waits to be initialised afterwards, and a layer whose variable starts from an
    array (nothing to defer) is counted by a normal build."""
    import keras
    import numpy as np
    from keras.src.backend.common import global_state

    from lensml.models.budget import _count_without_weights

    pending = len(global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True))
    assert count_params("resnet18", width_options("resnet18", 0.07), input_shape=SHAPE) == \
        build("resnet18", SHAPE, **width_options("resnet18", 0.07)).count_params()
    assert len(global_state.get_global_attribute("uninitialized_variables", [])) == pending

    class FromArray(keras.layers.Layer):
        def build(self, shape):
            self.table = self.add_weight(shape=(5,), initializer=np.arange(5.0, dtype="float32"))

        def call(self, x):
            return x * self.table[0]

    def make():
        inputs = keras.Input((4,))
        return keras.Model(inputs, keras.layers.Dense(2)(FromArray()(inputs)))

    assert _count_without_weights(make) == make().count_params() == 4 * 2 + 2 + 5
    assert len(global_state.get_global_attribute("uninitialized_variables", [])) == pending


def test_every_registered_model_has_a_width_rule_that_grows_with_the_width():
    for name in available():
        small, large = width_options(name, 0.1), width_options(name, 0.3)
        assert small != large, name
    assert count_params("lenspinn_small", width_options("lenspinn_small", 0.1), input_shape=SHAPE) < \
        count_params("lenspinn_small", width_options("lenspinn_small", 0.3), input_shape=SHAPE)


@pytest.mark.parametrize("name,budget", [("resnet18", 150_000), ("vit", 300_000), ("cait", 300_000)])
def test_a_budget_is_met_within_the_tolerance(name, budget):
    sized = options_for_budget(name, budget, input_shape=SHAPE)
    assert sized["matched"] and abs(sized["params"] / budget - 1) <= 0.15 and not sized["reason"]
    assert build(name, SHAPE, **sized["options"]).count_params() == sized["params"]


def test_base_options_are_kept_and_an_unreachable_budget_says_why():
    sized = options_for_budget("vit", 300_000, base_options={"depth": 2, "dropout": 0.0}, input_shape=SHAPE)
    assert sized["options"]["depth"] == 2 and sized["options"]["dropout"] == 0.0 and sized["matched"]
    tiny = options_for_budget("resnet18", 100, input_shape=SHAPE)
    assert not tiny["matched"] and "100 budget" in tiny["reason"] and tiny["params"] > 100


def test_bad_budgets_and_widths_name_the_argument():
    with pytest.raises(ValueError, match="budget"):
        options_for_budget("resnet18", 0)
    with pytest.raises(ValueError, match="tolerance"):
        options_for_budget("resnet18", 1000, tolerance=2)
    with pytest.raises(ValueError, match="width"):
        width_options("resnet18", -1)
    with pytest.raises(ValueError, match="unknown model name"):
        width_options("resnet7", 1.0)


def test_named_sizes_tiny_cpu_paper_and_the_benchmarks_budget():
    from lensml.models import BUDGET_SIZES, SIZES, build, size, sizes

    assert set(SIZES) == {"tiny", "cpu", "paper"} and BUDGET_SIZES["budget_1m"] == 1_000_000
    assert size("vit", "tiny") == sizes("vit")["tiny"] and size("vit", "paper") == {}
    assert size("vit", "cpu", base_options={"dropout": 0.0, "depth": 9})["depth"] == sizes("vit")["cpu"]["depth"]
    # the controlled tables' size: the same options the budget search gives, and ~1 M parameters
    options = size("resnet18", "budget_1m", input_shape=(32, 32, 1), num_classes=3)
    assert options == options_for_budget("resnet18", 1_000_000, input_shape=(32, 32, 1))["options"]
    assert abs(build("resnet18", (32, 32, 1), 3, **options).count_params() / 1e6 - 1) <= 0.15
    with pytest.raises(ValueError, match="which='huge'.*budget_1m"):
        size("vit", "huge")


def test_any_budget_is_named_by_its_count():
    from lensml.models.registry import budget_of

    assert [budget_of(n) for n in ("budget_1m", "budget_250k", "budget_2.5m", "budget_300000")] == \
        [1_000_000, 250_000, 2_500_000, 300_000]
    assert budget_of("budget_0") is None and budget_of("cpu") is None and budget_of("budget_1g") is None
