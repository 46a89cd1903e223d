"""The fast path is the same algorithm: one update from the same seed and state gives the same parameters as the
exact path, up to float rounding, on every action space and SB3 feature the parity tests cover.

Tolerance: every parameter within ATOL = 1e-6 absolute after one update (3 epochs of 2 minibatches). The observed
maximum over all cases is 6e-8, a few float32 ulps: the batched value and log-probability passes, the closed-form
log-probabilities and gradients and fused Adam round differently, nothing else differs. A wrong sign, a missing term or a
mismatched sample moves parameters by ~1e-4 (one Adam step at the learning rate), which the bound catches; the
sanity test below checks that it does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

from sb3_ppo_variants import PPOAdaptiveKL, PPOClip
from sb3_ppo_variants.registry import REGISTRY
from tests.conftest import params_of
from tests.test_parity import BUDGET, CASES

ATOL = 1e-6

#: The parity cases, with schedules that do not reach 0 at the end of a one-update run.
EQUIVALENCE_CASES = {
    **CASES,
    "schedules": (
        "Pendulum-v1",
        1,
        "MlpPolicy",
        dict(learning_rate=lambda p: 1e-3 * (0.5 + p), clip_range=lambda p: 0.1 + 0.2 * p),
    ),
    # what the closed-form gradients of the fast path must also get right
    "gaussian_entropy": ("Pendulum-v1", 1, "MlpPolicy", dict(ent_coef=0.01, clip_range_vf=0.1)),
    "relu_adamw": (
        "CartPole-v1",
        1,
        "MlpPolicy",
        dict(policy_kwargs=dict(activation_fn=th.nn.ReLU, optimizer_class=th.optim.AdamW)),
    ),
    "no_hidden_layers": ("Pendulum-v1", 1, "MlpPolicy", dict(policy_kwargs=dict(net_arch=[]))),
    "truncated_minibatch": ("Pendulum-v1", 1, "MlpPolicy", dict(n_steps=50)),  # 50 = 32 + 18
}


def one_update(cls: type, case: str, fast: bool, **overrides: Any) -> Any:
    env_id, n_envs, policy, extra = EQUIVALENCE_CASES[case]
    np.random.seed(0)  # SB3's SimpleMultiObsEnv draws its state vectors from numpy's global generator
    env = make_vec_env(env_id, n_envs=n_envs, seed=0)
    kwargs = {**BUDGET, **extra, **overrides}
    model = cls(policy, env, seed=0, fast=fast, **kwargs)
    return model.learn(kwargs["n_steps"] * n_envs)


def max_difference(a: Any, b: Any) -> float:
    pa, pb = params_of(a), params_of(b)
    assert pa.keys() == pb.keys()
    return max((pa[name] - pb[name]).abs().max().item() for name in pa)


@pytest.mark.parametrize("case", sorted(EQUIVALENCE_CASES))
def test_fast_clip_matches_exact_after_one_update(case: str) -> None:
    exact, fast = one_update(PPOClip, case, False), one_update(PPOClip, case, True)
    assert max_difference(exact, fast) < ATOL
    # and the update did something: the tolerance is far below the size of a step
    assert max_difference(exact, PPOClip(*_fresh(case), seed=0, **{**BUDGET, **EQUIVALENCE_CASES[case][3]})) > 100 * ATOL


def _fresh(case: str) -> tuple[str, Any]:
    env_id, n_envs, policy, _ = EQUIVALENCE_CASES[case]
    np.random.seed(0)
    return policy, make_vec_env(env_id, n_envs=n_envs, seed=0)


#: every objective of the PPO family but clipping (which the test above runs on every case)
OTHER_OBJECTIVES = [v.cls for v in REGISTRY if v.family.key == "ppo" and v.cls is not PPOClip]


@pytest.mark.parametrize(
    "case",
    ["box", "discrete", "multidiscrete", "multibinary", "gsde", "dict_obs", "several_envs", "gaussian_entropy", "relu_adamw"],
)
@pytest.mark.parametrize("cls", OTHER_OBJECTIVES, ids=lambda c: c.__name__)
def test_fast_variants_match_exact_after_one_update(cls: type, case: str) -> None:
    exact, fast = one_update(cls, case, False), one_update(cls, case, True)
    assert max_difference(exact, fast) < ATOL
    if cls is PPOAdaptiveKL:  # β is adapted from the same d on both paths
        assert fast.kl_coef == exact.kl_coef


def test_fast_matches_exact_with_vec_normalize() -> None:
    def build(fast: bool) -> Any:
        env = VecNormalize(make_vec_env("Pendulum-v1", n_envs=2, seed=0))
        return PPOClip("MlpPolicy", env, seed=0, fast=fast, **{**BUDGET, "n_steps": 32}).learn(64)

    exact, fast = build(False), build(True)
    assert max_difference(exact, fast) < ATOL
    np.testing.assert_array_equal(exact.env.obs_rms.mean, fast.env.obs_rms.mean)


def test_tolerance_catches_a_wrong_objective() -> None:
    """The bound is tight enough to see a different surrogate after one update (clip 0.2 vs 0.1)."""
    exact = one_update(PPOClip, "box", False)
    other = one_update(PPOClip, "box", True, clip_range=0.1, learning_rate=1e-3)
    assert max_difference(exact, other) > 100 * ATOL


def test_fast_learning_curves_stay_close_over_several_updates() -> None:
    """Several updates on CartPole (discrete actions rarely flip under rounding): the same returns are logged."""

    def run(fast: bool) -> list[float]:
        model = PPOClip("MlpPolicy", make_vec_env("CartPole-v1", n_envs=2, seed=0), seed=0, fast=fast, **BUDGET)
        model.learn(6 * 128)
        return [info["r"] for info in model.ep_info_buffer]

    exact = run(False)
    assert len(exact) > 10
    assert exact == run(True)


def test_fast_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="fast"):
        PPOClip("MlpPolicy", "CartPole-v1", fast="yes")  # type: ignore[arg-type]


def test_fast_path_leaves_torch_settings_as_they_were() -> None:
    before = th.distributions.Distribution._validate_args
    model = one_update(PPOClip, "box", True)
    assert th.distributions.Distribution._validate_args == before
    assert all(group["fused"] is None and group["foreach"] is None for group in model.policy.optimizer.param_groups)
