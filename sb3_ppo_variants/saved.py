"""What ``load`` checks before it rebuilds a model: that the file is a whole SB3 model file, that it was saved by a
class with the same objective and family as the one loading it (a file of another objective would otherwise train
on with this class's objective and the file's ε, silently), and that the saved arguments with the ``load`` keyword
overrides pass the constructor's checks."""

from __future__ import annotations

import inspect
import io
import pathlib
import zipfile
from typing import Any, ClassVar, Protocol

from stable_baselines3.common.save_util import json_to_data

from sb3_ppo_variants.arguments import HYPERPARAMETERS, check_hyperparameters
from sb3_ppo_variants.objectives import PolicyObjective
from sb3_ppo_variants.validation import check_bool, check_float_or_schedule

#: the objective key that the stock algorithms' files stand for: they are PPO-Clip
STOCK_OBJECTIVE = "clip"


class LoadingClass(Protocol):
    """What these checks read off the class whose ``load`` runs (a :class:`~sb3_ppo_variants.base.SurrogatePPO`)."""

    objective: ClassVar[PolicyObjective]
    family_key: ClassVar[str]
    family_accepts_batch_size_none: ClassVar[bool]


def _describe(path: Any) -> str:
    return str(path) if isinstance(path, (str, pathlib.Path)) else f"the file object {path!r}"


def read_saved_data(path: str | pathlib.Path | io.BufferedIOBase, custom_objects: dict[str, Any] | None) -> dict[str, Any]:
    """
    The ``data`` part of a saved model (its attributes), or a ``ValueError`` naming the file when it is not a whole
    SB3 model file (SB3 itself asserts "No data found in the saved file" for a truncated one).

    :param path: what ``load`` got: a path (``.zip`` may be left out, as SB3 allows) or a file object
    :param custom_objects: as for ``load``
    """
    start = path.tell() if isinstance(path, io.IOBase) and path.seekable() else None
    if isinstance(path, (str, pathlib.Path)) and not pathlib.Path(path).exists() and pathlib.Path(f"{path}.zip").exists():
        path = f"{path}.zip"
    try:
        # only the data member is decoded here (SB3's load reads the file again, parameters included)
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
            names = archive.namelist()
            if damaged is not None or "data" not in names or "policy.pth" not in names:
                raise ValueError(
                    f"{_describe(path)} is not a whole SB3 model file (damaged or truncated: "
                    f"{'a damaged member ' + damaged if damaged else 'no data or policy.pth member'})"
                )
            text = archive.read("data").decode()
    except zipfile.BadZipFile as error:
        # SB3's own wording first ("wasn't a zip-file"), so that code matching SB3's message still matches ours
        raise ValueError(
            f"Error: the file {path} wasn't a zip-file: {_describe(path)} is not a whole SB3 model file (damaged, "
            f"truncated or not a model file at all: {error})"
        ) from None
    finally:
        if start is not None:
            path.seek(start)  # type: ignore[union-attr]
    return json_to_data(text, custom_objects=custom_objects)


def saved_family(data: dict[str, Any]) -> str:
    """The family key of the class that saved ``data``: recorded by this package, else read off the policy class."""
    if "_family_key" in data:
        return str(data["_family_key"])
    policy = data.get("policy_class")
    names = {cls.__name__ for cls in getattr(policy, "__mro__", ())}
    if "RecurrentActorCriticPolicy" in names:
        return "ppo_lstm"
    if "MaskableActorCriticPolicy" in names:
        return "ppo_mask"
    return "ppo"


def check_saved_class(cls: type[LoadingClass], data: dict[str, Any], path: Any) -> None:
    """
    Refuse a file whose objective or family differs from the loading class's.

    :param cls: the class whose ``load`` runs
    :param data: the file's data
    :param path: the file, for the message
    """
    saved_by = data.get("_saved_by")
    objective = data.get("_objective_key", STOCK_OBJECTIVE)
    family = saved_family(data)
    if objective == cls.objective.key and family == cls.family_key:
        return
    origin = f"{saved_by}" if saved_by else f"the stock algorithm of the {family!r} family (PPO-Clip)"
    differs = " and ".join(
        what
        for what, same in (("objective", objective == cls.objective.key), ("algorithm family", family == cls.family_key))
        if not same
    )
    raise ValueError(
        f"{_describe(path)} was saved by {origin}: objective {objective!r}, family {family!r}. {cls.__name__} has "
        f"objective {cls.objective.key!r} and family {cls.family_key!r}: it would go on training that model with another "
        f"{differs}. Load it with a class of objective {objective!r} and family {family!r} (sb3_ppo_variants.registry "
        "lists them; stable_baselines3.PPO, MaskablePPO and RecurrentPPO are objective 'clip')."
    )


def constructor_defaults(cls: type) -> dict[str, Any]:
    """
    The defaults of a class's constructor arguments, read along its MRO, so that a subclass whose ``__init__`` takes
    ``*args, **kwargs`` (and changes one default) still has the loop's defaults for the others.

    :param cls: the class
    :return: argument name -> default, the most derived class's first
    """
    defaults: dict[str, Any] = {}
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None or klass is object:
            continue
        for name, parameter in inspect.signature(init).parameters.items():
            if parameter.default is not inspect.Parameter.empty:
                defaults.setdefault(name, parameter.default)
    return defaults


def check_loaded_arguments(cls: type[LoadingClass], values: dict[str, Any]) -> None:
    """
    The constructor's checks of the optimisation's arguments, ``fast`` and the objective's knobs, on the saved values
    with the ``load`` keyword overrides.

    :param cls: the class whose ``load`` runs
    :param values: the file's data updated with ``load``'s keyword arguments
    """
    # a file saved by SB3 holds every one of these, but SB3 drops one it cannot decode (with a warning) and builds the
    # model with the constructor's default instead: the defaults stand in for any the file lacks
    values = {**constructor_defaults(cls), **values}
    check_hyperparameters(
        **{name: values[name] for name in HYPERPARAMETERS},
        batch_size_none_means_whole_rollout=cls.family_accepts_batch_size_none,
    )
    check_bool("fast", values["fast"])
    clip_range = values.get("clip_range")
    if clip_range is not None:
        check_float_or_schedule("clip_range", clip_range, allow_inf=True)
    # None too: an objective built on ε refuses it (PPOClip.load(path, clip_range=None) would train without clipping)
    cls.objective.check_clip_range(cls.__name__, clip_range)
    for name, knob in cls.objective.knobs.items():
        if name in values:
            knob.check(name, values[name])
