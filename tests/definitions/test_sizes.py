import pytest

from definitions.errors import ConfigError
from definitions.sizes import format_size, parse_size


@pytest.mark.parametrize("text,expected", [
    ("512MiB", 512 * 2**20), ("2GiB", 2 * 2**30), ("1.5GB", 1_500_000_000), ("300000", 300_000),
    (" 2 gib ", 2 * 2**30), ("64KiB", 65536), ("1e9", 10**9), ("3e2KB", 300_000), (".5MiB", 2**19), ("12B", 12),
    (4096, 4096),
])
def test_sizes_as_people_write_them(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "MiB", "12 parsecs", "-1GiB", "0", "0MiB", "1e400", "nan", "inf", "1,5GB",
                                  "2 GiB GiB", True, None, "1e19GiB", "\0"])
def test_anything_else_is_a_clear_error(text):
    with pytest.raises(ConfigError, match="budget"):
        parse_size(text, "budget")


def test_formatted_sizes_read_back():
    for size in (12, 65536, 300 * 2**20, int(1.5 * 2**30)):
        text = format_size(size)
        assert abs(parse_size(text.replace(" ", "")) - size) <= 0.01 * size
