"""The code-level settings of the code behind the paper's numbers (``paper_code``), for any of our classes.

The paper's results came from OpenAI baselines ``ppo1`` (``run_mujoco.py``, ``pposgd_simple.py``,
``mlp_policy.py``, 2017), whose details differ from SB3's defaults beyond Table 3 (../shared/paper-notes.md):

- observations normalised by a running mean and standard deviation, clipped to [-5, 5], rewards raw: SB3's
  ``VecNormalize`` with :data:`OBSERVATION_NORMALIZATION`;
- the Adam step size annealed linearly to 0 (``schedule='linear'``), and ε with it (``clip_param * lrmult``):
  ``learning_rate`` and ``clip_range`` become linear schedules;
- advantages standardised once over the whole batch of T samples: ``normalize_advantage_over="rollout"``;
- value loss weighted 1 and no gradient clipping: ``vf_coef=1``, ``max_grad_norm=inf``.

What SB3's defaults already share with it is left as it is: separate 64-64 tanh networks for π and V, a
state-independent log-std initialised at 0, Adam with ε 1e-5, TD(λ) value targets without value clipping, no
entropy bonus. What is not reproduced: ppo1 initialises the layers with ``normc`` (SB3: orthogonal); its running
filter updates its statistics once per batch, before the epochs, and floors the standard deviation at 0.01
(``VecNormalize``: at every step, variance + 1e-8); its step-size multiplier for an update uses the timesteps before
the update's rollout (SB3's schedules: after it, one rollout later).
"""

from __future__ import annotations

import inspect
import math
from typing import Any

from sb3_ppo_variants.schedules import linear

#: ``VecNormalize``'s arguments for ppo1's observation filter
OBSERVATION_NORMALIZATION: dict[str, Any] = {"norm_obs": True, "norm_reward": False, "clip_obs": 5.0}
#: the constructor arguments that the paper's code fixes
FIXED: dict[str, Any] = {"vf_coef": 1.0, "max_grad_norm": math.inf, "normalize_advantage_over": "rollout"}
#: the arguments annealed linearly to 0 (``schedule='linear'``): the step size and ε
ANNEALED = ("learning_rate", "clip_range")


def paper_code_kwargs(cls: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """
    A class's constructor arguments with the paper code's settings; the annealed ones as rl-zoo3 schedule strings
    (``lin_<value>``, see :mod:`sb3_ppo_variants.schedules`), so that grids and yml files can hold them.

    :param cls: one of our classes (the stock algorithms have no ``normalize_advantage_over``)
    :param kwargs: its arguments; a missing annealed one starts from the class's default
    :return: the arguments to construct it with, besides the environment's ``VecNormalize``
    :raises ValueError: ``cls`` is not one of ours, or an annealed argument is already a schedule
    """
    parameters = inspect.signature(cls).parameters
    if "normalize_advantage_over" not in parameters:
        raise ValueError(
            f"paper_code: {cls.__name__} cannot standardise advantages over the whole rollout as the paper's code does; "
            "use one of sb3_ppo_variants' classes (PPOClip is stable_baselines3.PPO's numerics)"
        )
    out = {**kwargs, **FIXED}
    for name in ANNEALED:
        if name not in parameters:
            continue  # no ε for the no-clip row
        value = kwargs.get(name, parameters[name].default)
        if value is None or (isinstance(value, float) and math.isinf(value)):
            continue  # no clipping: nothing to anneal
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"paper_code anneals `{name}` linearly from its initial value; got {value!r}, not a number")
        out[name] = linear(value)
    return out
