"""Words shown to the user: counts in the singular for one."""

from __future__ import annotations

from mnist_desk.core.text import plural


def test_a_count_of_one_is_in_the_singular() -> None:
    assert [plural(n, "run") for n in (0, 1, 2)] == ["0 runs", "1 run", "2 runs"]
