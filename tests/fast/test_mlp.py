"""The hand-written MLP pass is ``nn.Sequential``'s forward and autograd's backward, on flat views."""

from __future__ import annotations

import pytest
import torch as th
from torch import nn

from sb3_ppo_variants.fast.flat import FlatParameters
from sb3_ppo_variants.fast.mlp import Mlp, mlp_reason

NETS = {
    "tanh": lambda: [nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3)],
    "relu": lambda: [nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3)],
    "head_only": lambda: [nn.Linear(5, 1)],
    "mixed": lambda: [nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 4), nn.Tanh(), nn.Linear(4, 2), nn.Tanh()],
}


@pytest.mark.parametrize("name", sorted(NETS))
def test_forward_and_backward_are_autograds(name: str) -> None:
    th.manual_seed(0)
    modules = NETS[name]()
    net = nn.Sequential(*modules)
    assert mlp_reason(modules) is None
    x = th.randn(16, 5)
    output_grad = th.randn(16, modules[-1 if isinstance(modules[-1], nn.Linear) else -2].out_features)
    (net(x) * output_grad).sum().backward()

    parameters = list(net.parameters())
    flat = FlatParameters(parameters, th.optim.Adam(parameters))
    mlp = Mlp(modules, flat)
    output, inputs = mlp.forward(x)
    th.testing.assert_close(output, net(x), rtol=0, atol=1e-6)
    mlp.backward(output_grad, output, inputs)
    for parameter in parameters:
        assert parameter.grad is not None
        th.testing.assert_close(flat.view(parameter)[1], parameter.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("modules", "reason"),
    [
        ([nn.Linear(3, 3), nn.ELU()], "ELU layers are not supported"),
        ([nn.Linear(3, 3, bias=False)], "no bias"),
        ([nn.Tanh(), nn.Linear(3, 3)], "does not follow a linear layer"),
        ([nn.Linear(3, 3), nn.Tanh(), nn.Tanh()], "does not follow a linear layer"),
        ([nn.Linear(3, 3), nn.Dropout()], "Dropout layers are not supported"),
    ],
)
def test_other_modules_are_refused(modules: list[nn.Module], reason: str) -> None:
    assert reason in (mlp_reason(modules) or "")
