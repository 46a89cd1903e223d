"""Every constructor argument is checked before the environment is built, with the argument's name and its range,
for every public class; numbers are accepted in every real type users and tuners pass."""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np
import pytest
from sb3_contrib.common.envs import InvalidActionEnvDiscrete
from stable_baselines3.common.envs import IdentityEnv

from sb3_ppo_variants import PPOClip
from sb3_ppo_variants.registry import REGISTRY
from tests.test_validation import ExplodingEnv  # noqa: F401  (registers ExplodingEnv-v0, which fails if built)

ALL = [variant.cls for variant in REGISTRY]


def policy_of(cls: type) -> str:
    return "MlpLstmPolicy" if cls.family_key == "ppo_lstm" else "MlpPolicy"


def env_for(cls: type) -> Any:
    return InvalidActionEnvDiscrete(dim=4, n_invalid_actions=1) if cls.family_key == "ppo_mask" else IdentityEnv(4)


#: (arguments, error class, message pattern) that every class refuses before it builds the environment
PASSTHROUGH: list[tuple[dict[str, Any], type[Exception], str]] = [
    (dict(stats_window_size=-1), ValueError, r"`stats_window_size` must be an int >= 1, got -1"),
    (dict(normalize_advantage="False"), TypeError, "`normalize_advantage` must be True or False, got str 'False'"),
    (dict(seed="abc"), TypeError, r"`seed` must be an int in \[0, 4294967295\], got str 'abc'"),
    (dict(seed=-1), ValueError, r"`seed` must be an int in \[0, 4294967295\], got -1"),
    (dict(verbose=1.5), TypeError, r"`verbose` must be an int in \[0, 2\], got float 1.5"),
    (dict(policy_kwargs=[("net_arch", [8])]), TypeError, "`policy_kwargs` must be a dict or None, got list"),
    (dict(policy_kwargs={"net_arch": [-1]}), ValueError, r"`policy_kwargs\['net_arch'\]` layer size"),
    (dict(policy_kwargs={"net_arch": {"pi": [8], "vf": [0]}}), ValueError, r"`policy_kwargs\['net_arch'\]\['vf'\]`"),
    (dict(device="bogus"), ValueError, "`device` must be 'auto', a device name"),
    (dict(device=3.5), TypeError, "`device` must be 'auto', a device name"),
    (dict(tensorboard_log=1), TypeError, "`tensorboard_log` must be a folder path or None"),
    (dict(rollout_buffer_kwargs=[1]), TypeError, "`rollout_buffer_kwargs` must be a dict or None"),
    (dict(gamma=10**400), ValueError, r"`gamma` must be finite, in \[0.0, 1.0\], got an int too large for a float: 100000"),
    (dict(n_steps=10**30), ValueError, r"`n_steps` must be an int in \[1, 2147483647\], got 10{30}"),
    (dict(learning_rate=10**300), ValueError, r"`learning_rate` must be in \[0.0, 3.40282"),
    (dict(learning_rate=1e39), ValueError, r"`learning_rate` must be in \[0.0, 3.40282"),
    (dict(n_epochs=np.bool_(True)), TypeError, r"`n_epochs` must be an int in \[1, 2147483647\], got bool np.True_"),
    (
        dict(normalize_advantage_over="batch"),
        ValueError,
        "`normalize_advantage_over` must be 'minibatch' or 'rollout', got 'batch'",
    ),
    (
        dict(normalize_advantage_over=None),
        TypeError,
        "`normalize_advantage_over` must be 'minibatch' or 'rollout', got NoneType",
    ),
    (dict(batch_size=1), ValueError, r"`batch_size` must be an int in \[2, 2147483647\], got 1"),
]


@pytest.mark.parametrize(
    ("cls", "kwargs", "error", "message"),
    [
        pytest.param(cls, kwargs, error, message, id=f"{cls.__name__}-{next(iter(kwargs))}-{index}")
        for cls in ALL
        for index, (kwargs, error, message) in enumerate(PASSTHROUGH)
        if set(kwargs) <= set(inspect.signature(cls).parameters)  # RecurrentPPO takes no rollout_buffer_*
    ],
)
def test_every_class_checks_every_argument_before_building_the_env(
    cls: type, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        cls(policy_of(cls), "ExplodingEnv-v0", **kwargs)


@pytest.mark.parametrize("cls", [v.cls for v in REGISTRY if v.family.key == "ppo"], ids=lambda cls: cls.__name__)
def test_gsde_arguments_are_checked(cls: type) -> None:
    with pytest.raises(TypeError, match="`use_sde` must be True or False, got str 'no'"):
        cls("MlpPolicy", "ExplodingEnv-v0", use_sde="no")
    with pytest.raises(TypeError, match=r"`sde_sample_freq` must be an int >= -1, got float 1.5"):
        cls("MlpPolicy", "ExplodingEnv-v0", sde_sample_freq=1.5)


@pytest.mark.parametrize("cls", ALL, ids=lambda cls: cls.__name__)
def test_policy_is_checked(cls: type) -> None:
    with pytest.raises(TypeError, match="`policy` must be one of"):
        cls(123, "ExplodingEnv-v0")
    with pytest.raises(ValueError, match=r"`policy` must be one of .* got 'NoSuchPolicy'"):
        cls("NoSuchPolicy", "ExplodingEnv-v0")
    with pytest.raises(ValueError, match=r"`policy` must be one of .* subclass, got"):
        cls(dict, "ExplodingEnv-v0")


@pytest.mark.parametrize("cls", [v.cls for v in REGISTRY if v.family.key != "ppo_lstm"], ids=lambda c: c.__name__)
def test_cnn_policy_on_vector_observations_is_refused_before_the_policy_is_built(cls: type) -> None:
    with pytest.raises(
        ValueError, match=r"`policy` .* extracts features with a CNN, which needs image observations"
    ) as caught:
        cls("CnnPolicy", env_for(cls))
    assert isinstance(caught.value, AssertionError)  # SB3's NatureCNN asserts there


@pytest.mark.parametrize("cls", ALL, ids=lambda cls: cls.__name__)
def test_numpy_scalars_are_accepted(cls: type) -> None:
    """Tuners and yml loaders pass numpy scalars; they mean the same numbers."""
    model = cls(
        policy_of(cls),
        env_for(cls),
        n_steps=np.int64(32),
        batch_size=np.int32(16),
        n_epochs=np.int64(1),
        gamma=np.float32(0.99),
        gae_lambda=np.float64(0.9),
        ent_coef=np.float32(0.0),
        # SB3's schedules take Python numbers only: these must reach them as floats
        learning_rate=np.float32(3e-4),
        clip_range_vf=np.float32(0.2),
        **({"clip_range": np.float32(0.2)} if cls.objective.takes_clip_range else {}),
        normalize_advantage=np.bool_(True),
        seed=np.int64(3),
        verbose=np.int64(0),
        device="cpu",
        **{
            name: np.str_(knob.default) if isinstance(knob.default, str) else np.float32(knob.default)
            for name, knob in cls.objective.knobs.items()
        },
    )
    model.learn(64)
    assert model.num_timesteps == 64


@pytest.mark.parametrize("net_arch", [[], [4, 4], dict(pi=[8]), dict(pi=[8], vf=[4, 4]), [dict(vf=[8], pi=[4])]])
def test_every_net_arch_format_sb3_takes_is_accepted(net_arch: Any) -> None:
    """Including SB3's old format, a list holding one dict, which SB3 2.9.0 still takes with a warning."""
    model = PPOClip("MlpPolicy", "CartPole-v1", policy_kwargs={"net_arch": net_arch}, n_steps=32, batch_size=16, device="cpu")
    assert model.policy is not None
    with pytest.raises(ValueError, match=r"`policy_kwargs\['net_arch'\]\['vf'\]` layer size"):
        PPOClip("MlpPolicy", "ExplodingEnv-v0", policy_kwargs={"net_arch": [dict(vf=[0])]})


def test_interval_notation_is_exact() -> None:
    from sb3_ppo_variants.validation import check_float

    with pytest.raises(ValueError, match=r"must be in \(0.0, inf\), got 0"):
        check_float("x", 0, low=0.0, low_inclusive=False)
    with pytest.raises(ValueError, match=r"must be finite, in \(0.0, inf\)"):
        check_float("x", math.inf, low=0.0, low_inclusive=False)
    with pytest.raises(ValueError, match=r"must be in \(0.0, inf\], got -1"):
        check_float("x", -1, low=0.0, low_inclusive=False, allow_inf=True)
    assert check_float("x", math.inf, low=0.0, low_inclusive=False, allow_inf=True) == math.inf
