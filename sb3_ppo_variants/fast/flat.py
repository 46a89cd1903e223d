"""A policy's parameters and their Adam state as single flat tensors, for the duration of one update.

With a 64-64 MLP the gradient step is dominated by the fixed cost of each small torch operation, and the optimizer
and gradient clipping pay it once per parameter tensor (13 for SB3's ``MlpPolicy``). On one flat tensor, the norm,
the clipping and torch's fused Adam kernel are one operation each. The arithmetic of Adam is elementwise, so the
numbers are those of the same kernel on the separate tensors.

:class:`FlatParameters` copies the parameters and the optimizer state in when an update starts and writes them back
when it ends (also when it is interrupted), in the format of torch's Adam: a saved model or optimizer cannot tell
which path trained it, and either path can continue from it.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch as th
from torch import nn

from sb3_ppo_variants.fast.context import _get_fused_kernels_supported_devices, fused_adam_kernel, optimizer_hooks


def flat_adam_reason(parameters: list[nn.Parameter], optimizer: th.optim.Optimizer) -> str | None:
    """
    Why :class:`FlatParameters` cannot take over a policy's optimizer, or None.

    :param parameters: the policy's parameters
    :param optimizer: its optimizer
    """
    if type(optimizer) not in (th.optim.Adam, th.optim.AdamW):
        return f"the optimizer is a {type(optimizer).__name__}, not Adam or AdamW"
    # by identity: == on tensors compares their elements
    if len(optimizer.param_groups) != 1 or not same_tensors(optimizer.param_groups[0]["params"], parameters):
        return "the optimizer does not hold the policy's parameters as one group"
    if not all(p.requires_grad for p in parameters):
        # autograd leaves a frozen parameter without a gradient, so clipping and Adam skip it
        return "some parameters are frozen (requires_grad=False)"
    if any(getattr(p, "_backward_hooks", None) or getattr(p, "_post_accumulate_grad_hooks", None) for p in parameters):
        return "a parameter has gradient hooks (Tensor.register_hook or register_post_accumulate_grad_hook)"
    if optimizer_hooks(optimizer):
        return "the optimizer has step hooks (Optimizer.register_step_pre_hook or register_step_post_hook)"
    group = optimizer.param_groups[0]
    if group["amsgrad"] or group.get("differentiable") or group.get("capturable") or isinstance(group["lr"], th.Tensor):
        return "the optimizer uses amsgrad, differentiable, capturable or a tensor learning rate"
    if len({(p.device, p.dtype) for p in parameters}) != 1 or not parameters[0].dtype.is_floating_point:
        return "the parameters are not all floating point tensors of one dtype on one device"
    if parameters[0].device.type not in _get_fused_kernels_supported_devices():
        return f"torch has no fused Adam kernel for {parameters[0].device.type}"
    states = [optimizer.state.get(p) for p in parameters]
    if any(states) and not all(states):
        return "the optimizer has state for some parameters only"
    if all(states) and len({float(state["step"]) for state in states if state}) != 1:
        return "the optimizer's step counts differ between parameters"
    return None


def same_tensors(first: Iterable[th.Tensor], second: Iterable[th.Tensor]) -> bool:
    """Whether two sequences hold the same tensor objects, in the same order."""
    first, second = list(first), list(second)
    return len(first) == len(second) and all(a is b for a, b in zip(first, second, strict=True))


class FlatParameters:
    """
    The parameters, gradients and Adam moments of a policy in flat tensors, with views shaped like each parameter.

    :param parameters: the policy's parameters (see :func:`flat_adam_reason`)
    :param optimizer: their Adam or AdamW optimizer, with its learning rate for this update already set
    """

    def __init__(self, parameters: list[nn.Parameter], optimizer: th.optim.Optimizer):
        self.optimizer = optimizer
        with th.no_grad():
            self.data = th.cat([p.reshape(-1) for p in parameters])
        self.grad = th.zeros_like(self.data)
        states = [optimizer.state.get(p) or {} for p in parameters]
        if all(states):
            self.exp_avg = th.cat([state["exp_avg"].reshape(-1) for state in states])
            self.exp_avg_sq = th.cat([state["exp_avg_sq"].reshape(-1) for state in states])
            step = states[0]["step"]
        else:
            self.exp_avg, self.exp_avg_sq, step = th.zeros_like(self.data), th.zeros_like(self.data), 0.0
        # the fused kernel wants the step counter as a float32 tensor beside the parameters
        self.step_count = th.as_tensor(step, dtype=th.float32, device=self.data.device).clone()
        self._kernel, self._hyperparameters = fused_adam_kernel(optimizer, optimizer.param_groups[0])
        self._slices: dict[th.Tensor, slice] = {}
        offset = 0
        for p in parameters:
            self._slices[p] = slice(offset, offset + p.numel())
            offset += p.numel()

    def view(self, parameter: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """
        :param parameter: one of the parameters
        :return: (its values, its gradient): views of the flat tensors, shaped like it
        """
        part = self._slices[parameter]
        return self.data[part].view_as(parameter), self.grad[part].view_as(parameter)

    def clip_grad_norm(self, max_norm: float) -> th.Tensor:
        """
        ``torch.nn.utils.clip_grad_norm_`` on the flat gradient: scale it by min(1, max_norm / (norm + 1e-6)).

        :param max_norm: the largest norm kept
        :return: the norm before clipping
        """
        norm = th.linalg.vector_norm(self.grad)
        self.grad.mul_(th.clamp(max_norm / (norm + 1e-6), max=1.0))
        return norm

    def step(self) -> None:
        """One Adam (or AdamW) step with the optimizer's hyperparameters, as its fused kernel makes it."""
        self.step_count.add_(1)
        self._kernel(
            [self.data], [self.grad], [self.exp_avg], [self.exp_avg_sq], [], [self.step_count], **self._hyperparameters
        )

    def write_back(self) -> None:
        """Copy the parameters and the Adam state into the policy's parameters and the optimizer's state."""
        with th.no_grad():
            for p, part in self._slices.items():
                p.copy_(self.data[part].view_as(p))
                state = self.optimizer.state.get(p)
                exp_avg, exp_avg_sq = self.exp_avg[part].view_as(p), self.exp_avg_sq[part].view_as(p)
                if state:
                    state["step"].copy_(self.step_count)
                    state["exp_avg"].copy_(exp_avg)
                    state["exp_avg_sq"].copy_(exp_avg_sq)
                elif self.step_count.item() > 0:
                    # torch's Adam keeps its step counter as a float32 tensor on the CPU (single-tensor and foreach)
                    self.optimizer.state[p] = {
                        "step": self.step_count.cpu().clone(),
                        "exp_avg": exp_avg.clone(),
                        "exp_avg_sq": exp_avg_sq.clone(),
                    }
