"""stable-baselines3 tests (tests/ of its sdist, MIT licence, copyright (c) 2019 Antonin Raffin) restated with the one
check that a variant legitimately fails changed, so that their other checks still run for the classes the test is
excluded from and for the stock ``PPO`` (:func:`~sb3_ppo_variants.upstream.exclusions.runs_restated`). ``PPO`` is
whichever class the run put in its place (:mod:`sb3_ppo_variants.upstream.plugin`); each test says which upstream test
it restates, at the 2.9 line, and what changed (:mod:`~sb3_ppo_variants.upstream.exclusions` says why)."""

import re
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.envs import IdentityEnv, IdentityEnvBox, IdentityEnvMultiBinary, IdentityEnvMultiDiscrete
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.utils import ConstantSchedule, FloatSchedule
from stable_baselines3.common.vec_env import DummyVecEnv


def _objective() -> Any:  # the class's Table 1 objective, or None for stock PPO
    return getattr(PPO, "objective", None)


def _default_clip_range() -> float | None:
    objective = _objective()
    return 0.2 if objective is None else objective.clip_range_default


def _takes_clip_range() -> bool:
    objective = _objective()
    return objective is None or objective.takes_clip_range


def test_ppo_warnings() -> None:
    """tests/test_run.py::test_ppo_warnings; changed: the GPU warning names the class (``PPO`` or ours)."""
    # Only 1 step: advantage normalization will return NaN
    with pytest.raises(AssertionError):
        PPO("MlpPolicy", "Pendulum-v1", n_steps=1)

    # batch_size of 1 is allowed when normalize_advantage=False
    model = PPO("MlpPolicy", "Pendulum-v1", n_steps=1, batch_size=1, normalize_advantage=False)
    model.learn(4)

    # Truncated mini-batch
    # Batch size 1 yields NaN with normalized advantage because
    # torch.std(some_length_1_tensor) == NaN
    # advantage normalization is automatically deactivated
    # in that case
    with pytest.warns(UserWarning, match=r"there will be a truncated mini-batch of size 1"):
        model = PPO("MlpPolicy", "Pendulum-v1", n_steps=64, batch_size=63, verbose=1)
        model.learn(64)

    loss = model.logger.name_to_value["train/loss"]
    assert loss > 0
    assert not np.isnan(loss)  # check not nan (since nan does not equal nan)

    with pytest.warns(UserWarning, match=rf"You are trying to run {re.escape(PPO.__name__)} on the GPU"):
        model = PPO("MlpPolicy", "Pendulum-v1")
        # Pretend to be on the GPU
        model.device = th.device("cuda")
        model._maybe_recommend_cpu()


def test_save_load_clip_range_portable(tmp_path: Path) -> None:
    """tests/test_save_load.py::test_save_load_clip_range_portable; changed: the default ε is the class's (None, no
    clipping, for the KL-penalty and no-clip rows of Table 1), and is set explicitly where the class takes one, so the
    schedule's portability is still checked."""
    # Create a simple env
    env = DummyVecEnv([lambda: IdentityEnvBox(-1, 1)])

    model: Any = PPO("MlpPolicy", env, n_epochs=1, n_steps=64)
    model.learn(total_timesteps=128)
    default = _default_clip_range()
    if default is None:
        assert model.clip_range is None
        model.save(tmp_path / "test_default.zip")
        assert PPO.load(tmp_path / "test_default.zip", env=env).clip_range is None
        if not _takes_clip_range():
            return
        model = PPO("MlpPolicy", env, n_epochs=1, n_steps=64, clip_range=0.2)
        model.learn(total_timesteps=128)

    # Make sure that classes are used not lambdas by default
    assert isinstance(model.clip_range, FloatSchedule)
    assert isinstance(model.clip_range.value_schedule, ConstantSchedule)
    assert model.clip_range.value_schedule.val == 0.2

    model.save(tmp_path / "test_schedule_safe.zip")

    model = PPO.load(tmp_path / "test_schedule_safe.zip", env=env)

    # Check that the model is loaded correctly
    assert isinstance(model.clip_range, FloatSchedule)
    assert isinstance(model.clip_range.value_schedule, ConstantSchedule)
    assert model.clip_range.value_schedule.val == 0.2


def test_save_load_backward_compatible(tmp_path: Path) -> None:
    """tests/test_save_load.py::test_save_load_backward_compatible; changed: no ``clip_range`` schedule for a class
    that takes no ε (Table 1's no-clip row), whose learning-rate lambda is still checked."""
    env = DummyVecEnv([lambda: IdentityEnvBox(-1, 1)])

    clip_range: dict[str, Any] = {"clip_range": lambda _: 0.3} if _takes_clip_range() else {}
    model: Any = PPO("MlpPolicy", env, n_steps=64, learning_rate=lambda _: 0.001, **clip_range)
    model.learn(total_timesteps=100)

    model.save(tmp_path / "test_schedule_safe.zip")

    model = PPO.load(tmp_path / "test_schedule_safe.zip", env=env)

    assert model.learning_rate(0) == 0.001
    assert model.learning_rate.__name__ == "<lambda>"

    if clip_range:
        assert isinstance(model.clip_range, FloatSchedule)
        assert model.clip_range.value_schedule(0) == 0.3
    else:
        assert model.clip_range is None


@pytest.mark.parametrize("env", [IdentityEnv(4), IdentityEnvMultiDiscrete(4), IdentityEnvMultiBinary(4)])
def test_discrete(env: gym.Env) -> None:
    """tests/test_identity.py::test_discrete (its PPO cases); changed: no reward threshold (90 after 1200 steps is a
    number of the clipped objective), the training and the prediction's shape are still checked."""
    env_ = DummyVecEnv([lambda: env])
    model = PPO("MlpPolicy", env_, gamma=0.4, learning_rate=0.002, seed=3, n_epochs=4, n_steps=256).learn(1200)

    mean_reward, _ = evaluate_policy(model, env_, n_eval_episodes=20, warn=False)
    assert np.isfinite(mean_reward)
    obs, _ = env.reset()

    assert np.shape(model.predict(obs)[0]) == np.shape(obs)
