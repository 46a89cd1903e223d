"""What keeps a failed update from leaving non-finite weights behind: the policy's parameters and its optimizer's
state as they were before the update, put back if the update ends with a non-finite number anywhere."""

from __future__ import annotations

import copy
from typing import Any

import torch as th


class UpdateGuard:
    """
    A copy of the policy's parameters (and buffers) and of its optimizer's state, taken before an update.

    :param policy: the policy, with its ``optimizer``
    """

    def __init__(self, policy: Any):
        self.policy = policy
        self._state = {name: tensor.detach().clone() for name, tensor in policy.state_dict().items()}
        self._optimizer = copy.deepcopy(policy.optimizer.state_dict())

    def parameters_finite(self) -> bool:
        """Whether every floating-point parameter and buffer of the policy is finite now (one host sync)."""
        tensors = [t for t in self.policy.state_dict().values() if t.is_floating_point()]
        return bool(th.stack([th.isfinite(t).all() for t in tensors]).all().item()) if tensors else True

    def restore(self) -> bool:
        """
        Put the copies back.

        :return: whether the restored parameters are finite
        """
        with th.no_grad():
            for name, tensor in self.policy.state_dict().items():
                tensor.copy_(self._state[name])
        self.policy.optimizer.load_state_dict(self._optimizer)
        return self.parameters_finite()
