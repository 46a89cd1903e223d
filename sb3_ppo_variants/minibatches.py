"""SB3's ``RolloutBuffer.get`` with one gather per array and epoch instead of six copies per minibatch.

SB3 indexes its numpy arrays and copies each of the six arrays into a new tensor for every minibatch. Here the
flattened arrays become tensors once (on the CPU without a copy), each epoch's permutation is applied in one gather per
array, and the minibatches are slices of the gathered tensors. The permutation is drawn exactly as SB3 draws it
(numpy's global generator advances as in SB3) and every value is copied unchanged, so the minibatches are SB3's, bit
for bit; the loop also learns each sample's position in the rollout, which the KL term needs.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch as th
from stable_baselines3.common.buffers import DictRolloutBuffer, RolloutBuffer
from stable_baselines3.common.type_aliases import DictRolloutBufferSamples, RolloutBufferSamples

_ARRAYS = ("actions", "values", "log_probs", "advantages", "returns")


def is_sb3_buffer(buffer: RolloutBuffer) -> bool:
    """
    Whether the buffer is SB3's own ``RolloutBuffer`` or ``DictRolloutBuffer`` (not a subclass): the layout and the
    ``get`` that :func:`minibatches` and the fast collection reproduce. Other buffers are read through their ``get``
    and filled by SB3's collection.
    """
    return type(buffer) in (RolloutBuffer, DictRolloutBuffer)


def minibatches(
    buffer: RolloutBuffer, batch_size: int
) -> Iterator[tuple[th.Tensor, RolloutBufferSamples | DictRolloutBufferSamples]]:
    """
    One epoch of shuffled minibatches, as ``buffer.get(batch_size)`` yields them, with the position in the rollout of
    each sample.

    :param buffer: a full :func:`is_sb3_buffer` buffer
    :param batch_size: minibatch size (the last one may be smaller)
    :return: (positions in the flattened rollout, samples) per minibatch
    """
    assert buffer.full, ""
    n_rows = buffer.buffer_size * buffer.n_envs
    indices = np.random.permutation(n_rows)
    if not buffer.generator_ready:
        if isinstance(buffer, DictRolloutBuffer):
            for key, obs in buffer.observations.items():
                buffer.observations[key] = buffer.swap_and_flatten(obs)
        else:
            buffer.observations = buffer.swap_and_flatten(buffer.observations)
        for name in _ARRAYS:
            setattr(buffer, name, buffer.swap_and_flatten(getattr(buffer, name)))
        buffer.generator_ready = True

    permutation = th.as_tensor(indices, device=buffer.device)

    def gather(array: np.ndarray) -> th.Tensor:
        return th.as_tensor(array, device=buffer.device)[permutation]

    observations: th.Tensor | dict[str, th.Tensor]
    if isinstance(buffer, DictRolloutBuffer):
        observations = {key: gather(obs) for key, obs in buffer.observations.items()}
    else:
        observations = gather(buffer.observations)
    # SB3 casts actions to float32 (a no-op for its own buffers) and flattens the 1-d arrays (already flat here)
    actions = gather(buffer.actions).float()
    values, log_probs, advantages, returns = (gather(getattr(buffer, name)).flatten() for name in _ARRAYS[1:])

    for start in range(0, n_rows, batch_size):
        rows = slice(start, start + batch_size)
        if isinstance(observations, dict):
            obs_rows = {key: obs[rows] for key, obs in observations.items()}
            yield (
                permutation[rows],
                DictRolloutBufferSamples(
                    obs_rows, actions[rows], values[rows], log_probs[rows], advantages[rows], returns[rows]
                ),
            )
        else:
            yield (
                permutation[rows],
                RolloutBufferSamples(
                    observations[rows], actions[rows], values[rows], log_probs[rows], advantages[rows], returns[rows]
                ),
            )
