"""A chain of ``nn.Linear`` layers with tanh or ReLU activations, run forward and backward by hand on flat views.

This is what SB3's ``MlpExtractor`` networks and the ``action_net`` / ``value_net`` heads compute. Written out, the
backward pass of a layer is three matrix operations (the weight and input gradients, the bias gradient as a column
sum) and one activation derivative, written straight into the flat gradient
(:class:`~sb3_ppo_variants.fast.flat.FlatParameters`); autograd records and replays a graph of about twice as many
operations for the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

import torch as th
from torch import nn

from sb3_ppo_variants.fast.flat import FlatParameters

#: activation -> (in-place forward, gradient given the output gradient and the activation's output)
ACTIVATIONS: dict[type[nn.Module], tuple[Callable[[th.Tensor], th.Tensor], Callable[[th.Tensor, th.Tensor], th.Tensor]]] = {
    nn.Tanh: (th.tanh_, th.ops.aten.tanh_backward),
    nn.ReLU: (th.relu_, lambda grad, output: th.ops.aten.threshold_backward(grad, output, 0)),
}


def mlp_reason(modules: Iterable[nn.Module]) -> str | None:
    """
    Why :class:`Mlp` cannot run these modules, or None: it takes ``nn.Linear`` layers with a bias, each followed by
    at most one activation of :data:`ACTIVATIONS`.

    :param modules: the modules, in order
    """
    previous: nn.Module | None = None
    for module in modules:
        if type(module) is nn.Linear:
            if module.bias is None:
                return "a linear layer has no bias"
        elif type(module) in ACTIVATIONS:
            if type(previous) is not nn.Linear:
                return f"{type(module).__name__} does not follow a linear layer"
        else:
            return f"{type(module).__name__} layers are not supported"
        previous = module
    return None


class _Layer(NamedTuple):
    weight: th.Tensor
    bias: th.Tensor
    weight_grad: th.Tensor
    bias_grad: th.Tensor
    activation: Callable[[th.Tensor], th.Tensor] | None
    activation_grad: Callable[[th.Tensor, th.Tensor], th.Tensor] | None


class Mlp:
    """
    The modules of :func:`mlp_reason` as a function of the flat parameters.

    :param modules: the modules, in order (e.g. ``[*mlp_extractor.policy_net, action_net]``)
    :param flat: the flat parameters that hold their weights
    """

    def __init__(self, modules: Iterable[nn.Module], flat: FlatParameters):
        self.layers: list[_Layer] = []
        for module in modules:
            if type(module) is nn.Linear:
                assert module.bias is not None
                weight, weight_grad = flat.view(module.weight)
                bias, bias_grad = flat.view(module.bias)
                self.layers.append(_Layer(weight, bias, weight_grad, bias_grad, None, None))
            else:
                activation, activation_grad = ACTIVATIONS[type(module)]
                self.layers[-1] = self.layers[-1]._replace(activation=activation, activation_grad=activation_grad)

    def forward(self, x: th.Tensor) -> tuple[th.Tensor, list[th.Tensor]]:
        """
        :param x: the input, (batch, in_features); it needs no gradient
        :return: the output and the input of every layer, for :meth:`backward`
        """
        inputs = []
        for layer in self.layers:
            inputs.append(x)
            # F.linear(x, W, b) is addmm(b, x, Wᵀ): the same kernel
            x = th.addmm(layer.bias, x, layer.weight.t())
            if layer.activation is not None:
                x = layer.activation(x)
        return x, inputs

    def backward(self, grad: th.Tensor, output: th.Tensor, inputs: list[th.Tensor]) -> None:
        """
        Write the gradient of every weight and bias into the flat gradient (overwriting it).

        :param grad: d loss / d output, (batch, out_features)
        :param output: what :meth:`forward` returned
        :param inputs: the inputs it returned
        """
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            if layer.activation_grad is not None:
                grad = layer.activation_grad(grad, output)
            th.mm(grad.t(), inputs[i], out=layer.weight_grad)
            th.sum(grad, dim=0, out=layer.bias_grad)
            if i:
                grad = grad.mm(layer.weight)
                output = inputs[i]
