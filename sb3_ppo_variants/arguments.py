"""The checks of the stock algorithms' own constructor arguments (SB3 PPO's, which MaskablePPO and RecurrentPPO
share), run by every class at construction before the environment is built (:mod:`~sb3_ppo_variants.validation` has
the checkers and the message conventions).

SB3 checks few of them, some with ``assert`` and some only when training or ``learn`` reaches them; here each one
fails at once with a ``TypeError``/``ValueError`` naming it and its accepted values. Where the stock algorithm
asserts, the range error is also an ``AssertionError`` (:class:`~sb3_ppo_variants.validation.AssertionCompatibleValueError`).
"""

from __future__ import annotations

import inspect
import math
import numbers
import os
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.policies import BasePolicy

from sb3_ppo_variants.validation import (
    AssertionCompatibleValueError,
    check_bool,
    check_choice,
    check_float,
    check_float_or_schedule,
    check_int,
    is_bool,
)

#: numpy's seeding takes 32-bit unsigned seeds (SB3's set_random_seed seeds numpy, random and torch)
MAX_SEED = 2**32 - 1
#: a rollout larger than this many steps per environment is refused (numpy's buffers would fail or exhaust memory)
MAX_N_STEPS = 2**31 - 1
#: the largest learning rate a float32 policy's optimizer can apply (torch converts it to the parameters' dtype)
MAX_LEARNING_RATE = float(np.finfo(np.float32).max)


def check_learning_rate(learning_rate: Any) -> None:
    """
    The learning rate: a number in [0, :data:`MAX_LEARNING_RATE`] or a schedule (whose values
    :func:`check_scheduled_learning_rate` checks at each update).
    """
    check_float_or_schedule("learning_rate", learning_rate, high=MAX_LEARNING_RATE, allow_zero=True)


def check_scheduled_value(name: str, value: Any, progress_remaining: float, timestep: int, bound: float = math.inf) -> None:
    """
    The value a schedule of argument ``name`` returned for an update, before any step uses it: a real number (not NaN)
    of magnitude at most ``bound`` (an infinity only when ``bound`` is: ``clip_range=inf`` clips nothing). A negative
    value is let through, as SB3 does: a linear schedule goes below 0 when training overshoots ``total_timesteps``
    (the progress remaining is then negative).

    :param name: the argument whose schedule it is
    :param value: the schedule's value
    :param progress_remaining: where in training (1 to 0) the schedule was evaluated
    :param timestep: the model's timestep count
    :param bound: the largest magnitude accepted
    """
    try:
        check_float(name, value, low=-bound, high=bound, allow_inf=math.isinf(bound))
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"the {name} schedule returned {value!r} at progress_remaining={progress_remaining:.6g} (the update "
            f"after timestep {timestep}): {error}. No optimizer step used it."
        ) from None


def check_scheduled_learning_rate(value: Any, progress_remaining: float, timestep: int) -> None:
    """
    The value a learning-rate schedule returned for an update, before the optimizer uses it: a real number of
    magnitude at most :data:`MAX_LEARNING_RATE` (:func:`check_scheduled_value`).

    :param value: the schedule's value
    :param progress_remaining: where in training (1 to 0) the schedule was evaluated
    :param timestep: the model's timestep count
    """
    check_scheduled_value("learning_rate", value, progress_remaining, timestep, bound=MAX_LEARNING_RATE)


#: the arguments :func:`check_hyperparameters` takes, in its order (every family's constructor has them)
HYPERPARAMETERS = (
    "learning_rate",
    "n_steps",
    "batch_size",
    "n_epochs",
    "gamma",
    "gae_lambda",
    "clip_range_vf",
    "normalize_advantage",
    "ent_coef",
    "vf_coef",
    "max_grad_norm",
    "target_kl",
    "normalize_advantage_over",
)

#: what advantages are standardised over (``normalize_advantage_over``): each minibatch (SB3) or the whole rollout
#: once per update (the paper's released code)
ADVANTAGE_SCOPES = ("minibatch", "rollout")


def check_hyperparameters(
    learning_rate: Any,
    n_steps: Any,
    batch_size: Any,
    n_epochs: Any,
    gamma: Any,
    gae_lambda: Any,
    clip_range_vf: Any,
    normalize_advantage: Any,
    ent_coef: Any,
    vf_coef: Any,
    max_grad_norm: Any,
    target_kl: Any,
    normalize_advantage_over: Any,
    batch_size_none_means_whole_rollout: bool,
) -> None:
    """The optimisation's arguments (SB3 PPO's meaning; see the classes' ``:param`` texts)."""
    check_learning_rate(learning_rate)
    check_int("n_steps", n_steps, low=1, high=MAX_N_STEPS)
    normalize_advantage = check_bool("normalize_advantage", normalize_advantage)
    per_minibatch = check_choice("normalize_advantage_over", normalize_advantage_over, ADVANTAGE_SCOPES) == "minibatch"
    # Advantage normalisation per minibatch divides by the minibatch std, which is NaN for one sample (SB3 issue #440).
    # SB3 PPO asserts it, and clip_range_vf > 0 below: their range errors are also AssertionErrors.
    if batch_size is not None or not batch_size_none_means_whole_rollout:
        low = 2 if normalize_advantage and per_minibatch else 1
        check_int("batch_size", batch_size, low=low, high=MAX_N_STEPS, error=AssertionCompatibleValueError)
    check_int("n_epochs", n_epochs, low=1, high=MAX_N_STEPS)
    check_float("gamma", gamma, low=0.0, high=1.0)
    check_float("gae_lambda", gae_lambda, low=0.0, high=1.0)
    if clip_range_vf is not None:
        check_float_or_schedule("clip_range_vf", clip_range_vf, allow_inf=True, error=AssertionCompatibleValueError)
    check_float("ent_coef", ent_coef)
    check_float("vf_coef", vf_coef, low=0.0)
    check_float("max_grad_norm", max_grad_norm, low=0.0, low_inclusive=False, allow_inf=True)
    if target_kl is not None:
        # 0 as SB3 takes it (a stock file saved with it loads): the epochs stop at the first minibatch whose
        # approximate KL is above 0
        check_float("target_kl", target_kl, low=0.0)


def check_setup(
    policy: Any,
    policy_aliases: dict[str, type[BasePolicy]],
    policy_base: type[BasePolicy],
    policy_kwargs: Any,
    use_sde: Any,
    sde_sample_freq: Any,
    rollout_buffer_class: Any,
    rollout_buffer_kwargs: Any,
    stats_window_size: Any,
    tensorboard_log: Any,
    verbose: Any,
    seed: Any,
    device: Any,
) -> None:
    """
    The arguments that SB3 passes on to its base classes (policy, buffers, logging, seeding, device).

    :param policy_aliases: the family's policy names (``MlpPolicy``, ...)
    :param policy_base: the class every policy of the family derives from
    """
    policies = f"one of {sorted(policy_aliases)} or a {policy_base.__name__} subclass"
    if isinstance(policy, str):
        if policy not in policy_aliases:
            raise ValueError(f"`policy` must be {policies}, got {policy!r}")
    elif isinstance(policy, type):
        # a ValueError, as MaskablePPO and RecurrentPPO raise for a policy class of another family
        if not issubclass(policy, policy_base):
            raise ValueError(f"`policy` must be {policies}, got {policy.__name__}")
    else:
        raise _wrong_type("policy", policies, policy)
    if policy_kwargs is not None:
        if not isinstance(policy_kwargs, dict):
            raise _wrong_type("policy_kwargs", "a dict or None", policy_kwargs)
        _check_net_arch(policy_kwargs.get("net_arch"))
    check_bool("use_sde", use_sde)
    check_int("sde_sample_freq", sde_sample_freq, low=-1)
    if rollout_buffer_class is not None and not (
        isinstance(rollout_buffer_class, type) and issubclass(rollout_buffer_class, RolloutBuffer)
    ):
        raise _wrong_type("rollout_buffer_class", "a RolloutBuffer subclass or None", rollout_buffer_class)
    if rollout_buffer_kwargs is not None and not isinstance(rollout_buffer_kwargs, dict):
        raise _wrong_type("rollout_buffer_kwargs", "a dict or None", rollout_buffer_kwargs)
    check_int("stats_window_size", stats_window_size, low=1)
    if tensorboard_log is not None and not isinstance(tensorboard_log, (str, os.PathLike)):
        raise _wrong_type("tensorboard_log", "a folder path or None", tensorboard_log)
    check_int("verbose", verbose, low=0, high=2)
    if seed is not None:
        check_int("seed", seed, low=0, high=MAX_SEED)
    _check_device(device)


def _wrong_type(name: str, expected: str, value: Any) -> TypeError:
    return TypeError(f"`{name}` must be {expected}, got {type(value).__name__} {value!r}")


def _check_net_arch(net_arch: Any) -> None:
    if net_arch is None:
        return
    if isinstance(net_arch, (list, tuple)) and net_arch and isinstance(net_arch[0], dict):
        # SB3's old format, [dict(pi=..., vf=...)], which SB3 2.9.0 still takes (with a warning)
        net_arch = net_arch[0]
    layers: dict[str, Any] = net_arch if isinstance(net_arch, dict) else {"": net_arch}
    for key, sizes in layers.items():
        name = "policy_kwargs['net_arch']" + (f"[{key!r}]" if key else "")
        if not isinstance(sizes, (list, tuple)):
            raise TypeError(f"`{name}` must be a list of layer sizes (ints >= 1), got {type(sizes).__name__} {sizes!r}")
        for size in sizes:
            if is_bool(size) or not isinstance(size, numbers.Integral):
                raise TypeError(f"`{name}` layer size must be an int >= 1, got {type(size).__name__} {size!r} in {sizes!r}")
            if size < 1:
                raise ValueError(f"`{name}` layer size must be an int >= 1, got {size!r} in {sizes!r}")


def _check_device(device: Any) -> None:
    devices = "'auto', a device name such as 'cpu' or 'cuda:0', or a torch.device"
    if isinstance(device, th.device) or device == "auto":
        return
    if not isinstance(device, str):
        raise _wrong_type("device", devices, device)
    try:
        th.device(device)
    except RuntimeError:
        raise ValueError(f"`device` must be {devices}, got {device!r}") from None


def check_policy_for_observations(
    policy_class: type[BasePolicy], policy_kwargs: dict[str, Any], observation_space: Any
) -> None:
    """
    Refuse a policy whose features extractor cannot take the environment's observations (SB3 fails later with an
    assertion inside the extractor): a CNN extractor (``CnnPolicy``'s NatureCNN) needs image observations.

    :param policy_class: the policy class the model will build
    :param policy_kwargs: the policy's keyword arguments
    :param observation_space: the environment's observation space
    """
    from stable_baselines3.common.preprocessing import is_image_space
    from stable_baselines3.common.torch_layers import NatureCNN

    extractor = policy_kwargs.get("features_extractor_class")
    if extractor is None:
        parameter = inspect.signature(policy_class).parameters.get("features_extractor_class")
        extractor = None if parameter is None else parameter.default
    if isinstance(extractor, type) and issubclass(extractor, NatureCNN):
        extractor_kwargs = policy_kwargs.get("features_extractor_kwargs") or {}
        normalized = policy_kwargs.get("normalize_images", True) is False or bool(extractor_kwargs.get("normalized_image"))
        if not is_image_space(observation_space, check_channels=False, normalized_image=normalized):
            # SB3's NatureCNN asserts it: an AssertionError too
            raise AssertionCompatibleValueError(
                f"`policy` {policy_class.__name__} extracts features with a CNN, which needs image observations "
                f"(a Box of shape (H, W, C) or (C, H, W), uint8 in [0, 255] unless normalize_images=False), got "
                f"{observation_space}: use MlpPolicy for vector observations, MultiInputPolicy for Dict ones"
            )
