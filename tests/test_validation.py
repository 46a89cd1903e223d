"""Bad input fails at construction, before any environment is made, with the argument's name and accepted range."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import pytest
from sb3_contrib.common.envs import InvalidActionEnvDiscrete

from sb3_ppo_variants import PPOAdaptiveKL, PPOClip, PPOFixedKL, PPONoClip
from sb3_ppo_variants.registry import REGISTRY

ALL = [variant.cls for variant in REGISTRY if variant.family.key == "ppo"]


class ExplodingEnv(gym.Env):
    """Fails if anything builds, resets or steps it: validation must happen first."""

    observation_space = gym.spaces.Box(-1, 1, (2,))
    action_space = gym.spaces.Discrete(2)

    def reset(self, **kwargs: Any) -> Any:
        raise AssertionError("the environment was reset before the arguments were checked")

    def step(self, action: Any) -> Any:
        raise AssertionError("the environment was stepped before the arguments were checked")


def make_env() -> gym.Env:
    raise AssertionError("the environment was built before the arguments were checked")


gym.register("ExplodingEnv-v0", entry_point=make_env)

CASES: list[tuple[type, dict[str, Any], type[Exception], str]] = [
    (PPOAdaptiveKL, dict(kl_target=0.0), ValueError, r"`kl_target` must be in \(0.0, inf\), got 0.0"),
    (PPOAdaptiveKL, dict(kl_target=-0.01), ValueError, "kl_target"),
    (PPOAdaptiveKL, dict(kl_target=math.inf), ValueError, "`kl_target` must be finite"),
    (PPOAdaptiveKL, dict(kl_target=math.nan), ValueError, r"`kl_target` must be in \(0.0, inf\), got NaN"),
    (PPOAdaptiveKL, dict(kl_target="0.01"), TypeError, "`kl_target` must be a real number"),
    (PPOAdaptiveKL, dict(kl_coef=-1.0), ValueError, r"`kl_coef` must be in \[0.0, inf"),
    (PPOAdaptiveKL, dict(kl_coef=math.inf), ValueError, "`kl_coef` must be finite"),
    (PPOAdaptiveKL, dict(kl_coef_factor=1.0), ValueError, r"`kl_coef_factor` must be in \(1.0, inf"),
    (PPOAdaptiveKL, dict(kl_coef_factor=0.5), ValueError, "kl_coef_factor"),
    (PPOAdaptiveKL, dict(kl_tolerance=1.0), ValueError, r"`kl_tolerance` must be in \(1.0, inf"),
    (PPOAdaptiveKL, dict(clip_range=0.0), ValueError, "`clip_range`"),
    (PPOFixedKL, dict(kl_coef=-0.1), ValueError, "`kl_coef`"),
    (PPOFixedKL, dict(kl_coef=math.nan), ValueError, "`kl_coef` must be in .*, got NaN"),
    (PPOFixedKL, dict(kl_coef=True), TypeError, "`kl_coef` must be a real number"),
    (PPOFixedKL, dict(clip_range=-0.2), ValueError, "`clip_range`"),
    (PPOClip, dict(clip_range=0.0), ValueError, r"`clip_range` must be in \(0.0, inf\]"),
    (PPOClip, dict(clip_range=-0.1), ValueError, "`clip_range`"),
    (PPOClip, dict(clip_range=math.nan), ValueError, "`clip_range` must be in .*, got NaN"),
    (PPOClip, dict(clip_range="lin_0.2"), TypeError, "schedule strings"),
    (PPOClip, dict(clip_range=None), ValueError, "PPONoClip"),
    (PPOClip, dict(clip_range_vf=0.0), ValueError, "`clip_range_vf`"),
    (PPONoClip, dict(learning_rate=-1e-3), ValueError, r"`learning_rate` must be in \[0.0, 3.40282346\d*e\+38\], got -0.001"),
    (PPONoClip, dict(n_steps=0), ValueError, r"`n_steps` must be an int in \[1, 2147483647\], got 0"),
    (PPONoClip, dict(n_steps=2.5), TypeError, "`n_steps` must be an int"),
    (PPONoClip, dict(batch_size=1), ValueError, r"`batch_size` must be an int in \[2, 2147483647\], got 1"),
    (PPONoClip, dict(n_epochs=0), ValueError, "`n_epochs`"),
    (PPONoClip, dict(gamma=1.5), ValueError, r"`gamma` must be in \[0.0, 1.0\]"),
    (PPONoClip, dict(gae_lambda=-0.1), ValueError, "`gae_lambda`"),
    (PPONoClip, dict(ent_coef=math.nan), ValueError, "`ent_coef`"),
    (PPONoClip, dict(vf_coef=-1.0), ValueError, "`vf_coef`"),
    (PPONoClip, dict(max_grad_norm=0.0), ValueError, "`max_grad_norm`"),
    (PPONoClip, dict(target_kl=-0.01), ValueError, r"`target_kl` must be in \[0.0, inf\), got -0.01"),
]


@pytest.mark.parametrize(("cls", "kwargs", "error", "message"), CASES)
def test_bad_argument_is_rejected_before_the_env_is_built(
    cls: type, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        cls("MlpPolicy", "ExplodingEnv-v0", **kwargs)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_good_arguments_are_accepted_without_touching_the_env(cls: type) -> None:
    model = cls("MlpPolicy", ExplodingEnv(), n_steps=8, batch_size=8)
    assert model.n_steps == 8


def test_boundary_values_are_accepted() -> None:
    PPOClip("MlpPolicy", ExplodingEnv(), clip_range=math.inf, n_steps=8, batch_size=8)
    PPOFixedKL("MlpPolicy", ExplodingEnv(), kl_coef=0.0, n_steps=8, batch_size=8)
    PPOAdaptiveKL("MlpPolicy", ExplodingEnv(), kl_coef=0, kl_target=1e-6, n_steps=8, batch_size=8)
    PPONoClip("MlpPolicy", ExplodingEnv(), n_steps=8, batch_size=1, normalize_advantage=False)
    PPOClip("MlpPolicy", ExplodingEnv(), learning_rate=0.0, n_steps=8, batch_size=8)  # SB3 accepts a frozen policy


#: The arguments the stock algorithms check with ``assert`` (SB3 PPO: batch_size > 1 with advantage normalisation,
#: n_steps * n_envs > 1 likewise, clip_range_vf > 0; MaskablePPO and RecurrentPPO: clip_range_vf > 0), with values
#: the stock algorithm refuses.
STOCK_ASSERTED: list[tuple[str, dict[str, Any]]] = [
    ("ppo", dict(batch_size=1)),
    ("ppo", dict(n_steps=1)),
    ("ppo", dict(clip_range_vf=-0.2)),
    ("ppo", dict(clip_range_vf=math.nan)),
    ("ppo_mask", dict(clip_range_vf=-0.2)),
    ("ppo_lstm", dict(clip_range_vf=-0.2)),
]


@pytest.mark.parametrize(("family", "kwargs"), STOCK_ASSERTED, ids=lambda x: str(x))
def test_arguments_the_stock_algorithm_asserts_fail_as_it_does(family: str, kwargs: dict[str, Any]) -> None:
    """Code written for SB3 catches AssertionError there: our clear ValueError is also one."""
    variants = [variant for variant in REGISTRY if variant.family.key == family]
    env = InvalidActionEnvDiscrete(dim=4, n_invalid_actions=1) if family == "ppo_mask" else "CartPole-v1"
    policy = "MlpLstmPolicy" if family == "ppo_lstm" else "MlpPolicy"
    with pytest.raises(AssertionError):
        variants[0].stock(policy, env, **kwargs)
    for variant in variants:
        with pytest.raises(AssertionError) as caught:
            variant.cls(policy, env, **kwargs)
        assert isinstance(caught.value, ValueError)
        assert f"`{next(iter(kwargs))}`" in str(caught.value) or "n_steps" in str(caught.value)


@pytest.mark.parametrize("variant", [v for v in REGISTRY if v.family.key == "ppo_mask"], ids=lambda v: v.cls.__name__)
def test_an_action_space_the_family_does_not_support_is_named(variant: Any) -> None:
    """SB3 asserts it after building the env; ours is a ValueError naming `env` that is also that AssertionError (PPO and
    RecurrentPPO take every gymnasium action space SB3 supports: MaskablePPO is the family with fewer)."""
    with pytest.raises(
        ValueError, match=r"^The algorithm only supports \(Discrete, MultiDiscrete, MultiBinary\) as action spaces: `env` must"
    ) as e:
        variant.cls("MlpPolicy", "Pendulum-v1")
    assert isinstance(e.value, AssertionError)
