"""sb3-contrib tests (tests/ of its sdist, MIT licence, copyright (c) 2020 Stable-Baselines Team) restated with the one
check that a variant legitimately fails changed, so that their other checks still run for the classes the test is
excluded from and for the stock class (:func:`~sb3_ppo_variants.upstream.exclusions.runs_restated`). ``MaskablePPO`` is
whichever class the run put in its place (:mod:`sb3_ppo_variants.upstream.plugin`); each test says which upstream test
it restates, at the 2.9 line, and what changed (:mod:`~sb3_ppo_variants.upstream.exclusions` says why)."""

from typing import Any

from sb3_contrib import MaskablePPO
from sb3_contrib.common.envs import InvalidActionEnvDiscrete
from sb3_contrib.common.maskable.evaluation import evaluate_policy


def test_identity() -> None:
    """tests/test_invalid_actions.py::test_identity; changed: no ``clip_range=0.4`` for a class that takes no ε
    (Table 1's no-clip row). The reward threshold stays."""
    objective = getattr(MaskablePPO, "objective", None)
    clip_range: dict[str, Any] = {"clip_range": 0.4} if objective is None or objective.takes_clip_range else {}
    env = InvalidActionEnvDiscrete(dim=70, n_invalid_actions=55)
    model = MaskablePPO(
        "MlpPolicy",
        env,
        gamma=0.1,
        seed=32,
        verbose=0,
        n_epochs=2,
        **clip_range,
    )
    model.learn(2048)
    evaluate_policy(model, env, n_eval_episodes=20, reward_threshold=90, warn=False)
