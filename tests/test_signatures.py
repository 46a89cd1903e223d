"""Each public class takes SB3 PPO's constructor arguments under the same names and defaults, and documents each.

The differences are the ones Table 1 makes: the KL variants do not clip by default, PPONoClip has no ε at all, and
each variant adds its own knobs and ``fast``.
"""

from __future__ import annotations

import inspect

import pytest
from stable_baselines3 import PPO

from sb3_ppo_variants import VARIANTS, PPOAdaptiveKL, PPOClip, PPOFixedKL, PPONoClip, SurrogatePPO

ABSENT = object()
#: SB3 PPO's arguments whose default a class changes (or that it does not take), and why: Table 1's rows.
DIFFERENCES: dict[type, dict[str, object]] = {
    PPOAdaptiveKL: {"clip_range": None},  # Table 1's "Adaptive KL" rows do not clip
    PPOFixedKL: {"clip_range": None},  # nor do its "Fixed KL" rows
    PPONoClip: {"clip_range": ABSENT},  # "No clipping or penalty": no ε to set
}
#: The arguments a class adds to SB3 PPO's.
OWN_KNOBS: dict[type, set[str]] = {
    SurrogatePPO: {"fast"},
    PPOClip: {"fast"},
    PPONoClip: {"fast"},
    PPOFixedKL: {"fast", "kl_coef"},
    PPOAdaptiveKL: {"fast", "kl_target", "kl_coef", "kl_tolerance", "kl_coef_factor"},
}
PUBLIC = [SurrogatePPO, *VARIANTS.values()]


def _parameters(cls: type) -> dict[str, inspect.Parameter]:
    return {name: p for name, p in inspect.signature(cls.__init__).parameters.items() if name != "self"}


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda c: c.__name__)
def test_constructor_has_sb3_ppos_arguments_and_defaults(cls: type) -> None:
    ours, stock = _parameters(cls), _parameters(PPO)
    for name, parameter in stock.items():
        expected = DIFFERENCES.get(cls, {}).get(name, parameter.default)
        if expected is ABSENT:
            assert name not in ours, f"{cls.__name__} takes {name}"
            continue
        assert name in ours, f"{cls.__name__} lacks SB3 PPO's argument {name}"
        assert ours[name].default == expected, f"{cls.__name__}.{name} defaults to {ours[name].default!r}, not {expected!r}"
    assert set(ours) - set(stock) == OWN_KNOBS[cls]


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda c: c.__name__)
def test_docstring_documents_every_argument(cls: type) -> None:
    doc = cls.__doc__ or ""
    assert "{common_params}" not in doc
    for name in _parameters(cls):
        assert f":param {name}:" in doc, f"{cls.__name__} does not document {name}"
