"""definitions/names.py: checking a name, suggesting the closest, tying implementations to a list."""
import pytest

from definitions.errors import ConfigError
from definitions.names import by_name, check_name, suggestion


def test_check_name_returns_a_known_name_and_refuses_others_with_the_closest():
    assert check_name("type", "DFA", ["BP", "DFA"]) == "DFA"
    with pytest.raises(ConfigError, match=r"^unknown type 'DFX' \(did you mean 'DFA'\?\); known: BP, DFA$"):
        check_name("type", "DFX", ["BP", "DFA"])


def test_suggestion_is_empty_when_nothing_is_close():
    assert suggestion("learning_reate", ["epochs", "learning_rate"]) == " (did you mean 'learning_rate'?)"
    assert suggestion("zzz", ["epochs", "learning_rate"]) == ""
    assert suggestion(3, ["3x"]) == " (did you mean '3x'?)"  # non-strings (JSON keys, values) too


def test_by_name_keys_the_items_in_the_order_of_the_names():
    items = by_name("things", ("b", "a"), ["a1", "b1"], lambda item: item[0])
    assert list(items.items()) == [("b", "b1"), ("a", "a1")]


@pytest.mark.parametrize("names,items,culprit", [
    (("a", "b", "c"), ["a1", "b1"], "without an implementation ['c']"),
    (("a",), ["a1", "b1"], "not in the list ['b']"),
    (("a", "b"), ["a1", "a2", "b1"], "named twice ['a']"),
])
def test_by_name_refuses_a_list_and_items_that_differ(names, items, culprit):
    with pytest.raises(RuntimeError, match="things do not match") as error:
        by_name("things", names, items, lambda item: item[0])
    assert culprit in str(error.value)
