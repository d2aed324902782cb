"""The helpers that build every error sentence: numbers beyond float64, arrays that are broadcast
views of absurd size, and callables."""

from __future__ import annotations

import numpy as np
import pytest

import echoscope as es
from echoscope._validation import check_array, check_callable, check_finite, check_interval


@pytest.mark.parametrize("value, shown", [(10**400, "an integer of 401 digits"),
                                          (-(10**400), "a negative integer of 401 digits")])
def test_integers_beyond_float64_are_out_of_the_interval(value, shown):
    with pytest.raises(ValueError, match=rf"^The 'leak' parameter of ESN must be in \(0, 1\]; "
                                         rf"got {shown}\.$"):
        es.random_esn(4, 2, leak=value)
    with pytest.raises(ValueError, match=r"^The 'x' parameter of f must be in \[0, inf\)"):
        check_interval("f", "x", value, 0.0, None)


def test_integers_beyond_float64_above_a_lower_bound_only_are_still_refused():
    """inf is never in an interval: a huge integer is refused even with no upper bound."""
    with pytest.raises(ValueError, match=r"got an integer of 401 digits\.$"):
        check_interval("f", "x", 10**400, 0.0, None)


def test_a_broadcast_view_of_absurd_size_is_refused_before_any_copy():
    view = np.broadcast_to(np.zeros(4), (10**6, 10**6, 4))
    with pytest.raises(ValueError, match=r"^The 'x0' parameter of f asks for an array of "
                                         r"4000000000000 entries \(shape \(1000000, 1000000, "
                                         r"4\)\) of .* GiB; this machine has .* GiB of memory "
                                         r"available; got an array of shape \(1000000, 1000000, "
                                         r"4\) and dtype float64\.$"):
        check_array("f", "x0", view)
    # Of another dtype (a copy would be needed) likewise.
    with pytest.raises(ValueError, match=r"^The 'x0' parameter of f asks for an array"):
        check_array("f", "x0", np.broadcast_to(np.zeros(4, dtype=np.int8), (10**6, 10**6, 4)))


def test_a_large_broadcast_view_is_checked_over_its_distinct_entries():
    """A view that fits is accepted without a mask of every entry, and a bad entry is found
    at a true index of the view."""
    row = np.array([0.0, 1.0, np.inf])
    view = np.broadcast_to(row, (4000, 3000, 3))
    with pytest.raises(ValueError, match=r"got NaN or inf at index \(0, 0, 2\)\.$"):
        check_finite("f", "u", view)
    check_finite("f", "u", np.broadcast_to(row[:2], (4000, 3000, 2)))


def test_finiteness_is_checked_in_blocks_and_names_the_first_bad_index():
    arr = np.zeros((3000, 2000))
    arr[2500, 7] = np.nan
    arr[2900, 1] = np.inf
    with pytest.raises(ValueError, match=r"got NaN or inf at index \(2500, 7\)\.$"):
        check_array("f", "a", arr)
    with pytest.raises(ValueError, match=r"got NaN or inf at index \(\)\.$"):
        check_array("f", "a", np.nan)


@pytest.mark.parametrize("bad", [3, "print", [print]])
def test_check_callable(bad):
    assert check_callable("f", "progress", None) is None
    assert check_callable("f", "progress", print) is print
    with pytest.raises(TypeError, match=r"^The 'progress' parameter of f must be a callable "
                                        r"\(done, total\) or None; got "):
        check_callable("f", "progress", bad, "(done, total)")
    with pytest.raises(TypeError, match=r"^The 'step' parameter of f must be a callable; got "):
        check_callable("f", "step", None, optional=False)
