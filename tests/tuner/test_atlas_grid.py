"""A tuner grid over issue 23's rules and MEZO's eps is checked like any other before a run starts."""
import pytest

from tuner.experiment_command import GridKeyError, check_grid_value


@pytest.mark.parametrize("kind", ["USF", "brsf", "FRSF", "fgrad", "MEZO"])
def test_the_new_types_are_grid_values(kind):
    check_grid_value("type", kind)


def test_mezo_epsilon_is_checked_as_the_run_checks_it():
    check_grid_value("mezo_epsilon", "0.001")
    with pytest.raises(GridKeyError, match="mezo_epsilon"):
        check_grid_value("mezo_epsilon", "0")
    with pytest.raises(GridKeyError, match="type"):
        check_grid_value("type", "MEZZO")


def test_a_grid_value_is_checked_alone_and_the_combination_by_the_run():
    """fgrad_samples needs fgrad_perturbation 'activity': a grid of both axes is accepted value by value
    (the grid's other axis or the prefix may set it); the run refuses a combination without it."""
    from definitions.config import validate
    from definitions.errors import ConfigError
    check_grid_value("fgrad_samples", "4")
    check_grid_value("mezo_samples", "4")
    with pytest.raises(GridKeyError, match="mezo_samples"):
        check_grid_value("mezo_samples", "0")
    assert validate({"type": "FGRAD", "fgrad_perturbation": "activity", "fgrad_samples": 4}).fgrad_samples == 4
    with pytest.raises(ConfigError, match="set fgrad_perturbation to 'activity'"):
        validate({"type": "FGRAD", "fgrad_samples": 4})
