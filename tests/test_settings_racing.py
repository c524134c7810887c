"""The racing and IVR settings of issue 20: today's behaviour by default, bad values refused at start."""

from __future__ import annotations

import pytest

from config.errors import ConfigError
from config.settings import Settings


def test_by_default_one_liaison_at_a_time_no_hedge_and_a_read_back():
    s = Settings.from_env({"SECRET_KEY": "k"})
    assert (s.parallel_offers, s.vendor_hedge_after, s.confirm_keypad) == (1, 0.0, True)


def test_they_are_read_from_the_environment():
    s = Settings.from_env({"PARALLEL_OFFERS": "2", "VENDOR_HEDGE_AFTER": "12.5", "CONFIRM_KEYPAD": "off"})
    assert (s.parallel_offers, s.vendor_hedge_after, s.confirm_keypad) == (2, 12.5, False)


@pytest.mark.parametrize(
    ("env", "var"),
    [
        ({"PARALLEL_OFFERS": "0"}, "PARALLEL_OFFERS"),
        ({"PARALLEL_OFFERS": "two"}, "PARALLEL_OFFERS"),
        ({"VENDOR_HEDGE_AFTER": "-1"}, "VENDOR_HEDGE_AFTER"),
        ({"CONFIRM_KEYPAD": "maybe"}, "CONFIRM_KEYPAD"),
    ],
)
def test_a_bad_value_stops_the_process_naming_the_variable(env, var):
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env)
    assert var in str(err.value)
