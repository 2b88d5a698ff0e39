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
