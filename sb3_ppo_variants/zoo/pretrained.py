"""rl-zoo3's continue-training (``train -i <model.zip>``) keeps what training adapted.

The zoo loads the saved agent with every hyperparameter of its yml as a ``load`` keyword, and SB3's ``load`` lets
keywords overwrite the saved attributes. For an objective's :attr:`~sb3_ppo_variants.objectives.PolicyObjective.trained_knobs`
(an adaptive KL's ``kl_coef``) the yml holds the initial value, so training would restart from it: the trained value
is kept instead, and the zoo's output says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: set on the patched method, so that registering twice wraps it once
_MARK = "_sb3_ppo_variants_keeps_trained_knobs"


def trained_knobs_of(cls: type) -> tuple[str, ...]:
    """The trained knobs of one of our classes' objective; none for any other algorithm."""
    objective = getattr(cls, "objective", None)
    return tuple(getattr(objective, "trained_knobs", ()))


def keep_trained_knobs_when_continuing(experiment_manager: Any, algorithms: dict[str, type]) -> None:
    """
    Wrap ``ExperimentManager._load_pretrained_agent`` (rl-zoo3 has no hook for it) so that it leaves the trained knobs
    of our algorithms out of the ``load`` keywords. Idempotent.

    :param experiment_manager: ``rl_zoo3.exp_manager.ExperimentManager``
    :param algorithms: the zoo's algorithm table (``rl_zoo3.utils.ALGOS``)
    """
    original: Callable[..., Any] = experiment_manager._load_pretrained_agent
    if getattr(original, _MARK, False):
        return

    def load_pretrained_agent(self: Any, hyperparams: dict[str, Any], env: Any) -> Any:
        initial = {name: hyperparams.pop(name) for name in trained_knobs_of(algorithms[self.algo]) if name in hyperparams}
        model = original(self, hyperparams, env)
        for name, value in initial.items():
            print(
                f"Continuing training with the saved {name} = {getattr(model, name)!r}, as training left it (the "
                f"hyperparameters' {name} = {value!r} is the value a new training starts from)"
            )
        return model

    setattr(load_pretrained_agent, _MARK, True)
    experiment_manager._load_pretrained_agent = load_pretrained_agent
