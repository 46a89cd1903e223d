"""One clear error when the environment returns a NaN or infinite observation, on every path, before the policy
acts on it (and so before a NaN action can reach the environment)."""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, CallbackList


class NonFiniteObservationError(ValueError):
    """The environment returned an observation with a NaN or an infinity."""


def check_observations(observations: Any, timestep: int) -> None:
    """
    Raise :class:`NonFiniteObservationError` naming the timestep, the environment and the key if any observation
    is not finite (integer observations, e.g. images, always are).

    :param observations: a batch of observations of a VecEnv (an array, or a dict of arrays)
    :param timestep: the model's timestep count when the observations were returned
    """
    items = observations.items() if isinstance(observations, dict) else [(None, observations)]
    for key, value in items:
        array = np.asarray(value)
        if not np.issubdtype(array.dtype, np.floating) or np.isfinite(array).all():
            continue
        bad = np.flatnonzero(~np.isfinite(array.reshape(len(array), -1)).all(axis=1))
        where = "" if key is None else f" under key {key!r}"
        raise NonFiniteObservationError(
            f"the environment returned a non-finite observation{where} (NaN or inf) at timestep {timestep}, in "
            f"environment {int(bad[0])} of the VecEnv; training stopped before the policy acted on it. Check the "
            "environment (SB3's VecCheckNan wrapper finds the step that produced it) or normalise its observations."
        )


class FiniteObservations(BaseCallback):
    """Checks every observation the rollout collection sees: the first one at the rollout's start and each new one
    after a step, before the policy's next action (SB3's collection and the fast one call callbacks at those points).
    """

    def _on_rollout_start(self) -> None:
        check_observations(self.model._last_obs, self.model.num_timesteps)

    def _on_step(self) -> bool:
        check_observations(self.locals["new_obs"], self.model.num_timesteps)
        return True


class WithObservationChecks(CallbackList):
    """
    The user's callback (already initialised by SB3's ``_init_callback``) followed by :class:`FiniteObservations`:
    initialising this list initialises only the checks, so the user's callbacks are not initialised twice.

    :param callback: the user's callback, as SB3 initialised it
    """

    def __init__(self, callback: BaseCallback):
        super().__init__([callback, FiniteObservations()])

    @property
    def user_callback(self) -> BaseCallback:
        """The user's callback, without the checks (for a collection that checks the observations itself)."""
        return self.callbacks[0]

    def _init_callback(self) -> None:
        self.callbacks[-1].init_callback(self.model)
