"""The paper code's settings (:mod:`sb3_ppo_variants.paper_code`) and rl-zoo3's linear schedules
(:mod:`sb3_ppo_variants.schedules`)."""

from __future__ import annotations

import math

import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

from sb3_ppo_variants import PPOAdaptiveKL, PPOClip
from sb3_ppo_variants.paper_code import FIXED, OBSERVATION_NORMALIZATION, paper_code_kwargs
from sb3_ppo_variants.registry import REGISTRY
from sb3_ppo_variants.schedules import LinearSchedule, from_strings, linear
from tests.fast.test_equivalence import ATOL, max_difference


@pytest.mark.parametrize("variant", [v for v in REGISTRY if v.family.key != "ppo_lstm"], ids=lambda v: v.key)
def test_every_class_gets_the_released_codes_settings(variant) -> None:
    kwargs = paper_code_kwargs(variant.cls, {"n_epochs": 5})
    assert {k: kwargs[k] for k in FIXED} == FIXED and kwargs["n_epochs"] == 5
    assert kwargs["learning_rate"] == "lin_0.0003"
    clips = variant.objective.takes_clip_range and variant.objective.clip_range_default is not None
    assert (kwargs.get("clip_range") == "lin_0.2") == clips  # ε is annealed with the step size where there is one
    variant.cls("MlpPolicy", "CartPole-v1", **from_strings(kwargs))  # the constructor takes them


def test_annealing_starts_from_the_given_values() -> None:
    kwargs = paper_code_kwargs(PPOClip, {"clip_range": 0.1, "learning_rate": 1e-3})
    assert (kwargs["clip_range"], kwargs["learning_rate"]) == ("lin_0.1", "lin_0.001")
    assert paper_code_kwargs(PPOClip, {"clip_range": math.inf})["clip_range"] == math.inf  # clips nothing: kept
    assert "clip_range" not in paper_code_kwargs(PPOAdaptiveKL, {})


def test_stock_algorithms_and_schedules_are_refused() -> None:
    with pytest.raises(ValueError, match="PPO cannot standardise advantages over the whole rollout"):
        paper_code_kwargs(PPO, {})
    with pytest.raises(ValueError, match=r"anneals `learning_rate` linearly .* not a number"):
        paper_code_kwargs(PPOClip, {"learning_rate": lambda p: p})


def test_linear_schedule_is_rl_zoo3s() -> None:
    utils = pytest.importorskip("rl_zoo3.utils")
    for initial in (3e-4, 0.2, 1.0):
        ours, zoos = LinearSchedule(initial), utils.linear_schedule(initial)
        for progress in (1.0, 0.73, 0.5, 1 / 3, 0.0):
            assert ours(progress) == zoos(progress)
    assert repr(LinearSchedule(3e-4)) == linear(3e-4) == "lin_0.0003"


def test_from_strings_converts_only_schedule_arguments() -> None:
    converted = from_strings({"learning_rate": "lin_0.001", "clip_range": 0.2, "policy_kwargs": {"a": "lin_1"}})
    assert converted["learning_rate"] == LinearSchedule(0.001) and converted["clip_range"] == 0.2
    assert converted["policy_kwargs"] == {"a": "lin_1"}
    for bad in ("lin_x", "const_0.1", "0.1"):
        with pytest.raises(
            ValueError, match=f"`clip_range` must be a number or a linear schedule 'lin_<number>', got '{bad}'"
        ):
            from_strings({"clip_range": bad})


@pytest.mark.parametrize("cls", [v.cls for v in REGISTRY if v.family.key == "ppo"], ids=lambda cls: cls.__name__)
def test_fast_path_matches_exact_with_the_paper_codes_settings(cls: type) -> None:
    def train(fast: bool, timesteps: int) -> object:
        env = VecNormalize(make_vec_env("Pendulum-v1", n_envs=1, seed=0), **OBSERVATION_NORMALIZATION)
        kwargs = from_strings(paper_code_kwargs(cls, {"n_steps": 64, "batch_size": 32, "n_epochs": 3}))
        return cls("MlpPolicy", env, seed=0, fast=fast, **kwargs).learn(timesteps)

    # two updates: the first at half the step size, the second at 0 (the annealed schedule's end)
    exact = train(False, 128)
    assert max_difference(exact, train(True, 128)) < ATOL
    assert max_difference(exact, train(False, 0)) > 10 * ATOL  # the update did move the parameters
