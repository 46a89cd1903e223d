"""``load`` cannot change the objective, accepts no argument the constructor refuses, and names a damaged file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sb3_contrib import MaskablePPO, RecurrentPPO
from sb3_contrib.common.envs import InvalidActionEnvDiscrete
from stable_baselines3 import PPO

from sb3_ppo_variants import PPOAdaptiveKL, PPOClip, PPOFixedKL, PPONoClip, RecurrentPPOClip
from sb3_ppo_variants.registry import REGISTRY

SMALL = dict(n_steps=32, batch_size=16, n_epochs=1, device="cpu")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("saved")
    paths = {}
    for name, cls in {"ppo": PPO, "PPOClip": PPOClip, "PPONoClip": PPONoClip, "PPOFixedKL": PPOFixedKL}.items():
        cls("MlpPolicy", "CartPole-v1", **SMALL).save(folder / name)
        paths[name] = folder / f"{name}.zip"
    RecurrentPPO("MlpLstmPolicy", "CartPole-v1", **SMALL).save(folder / "recurrent")
    paths["recurrent"] = folder / "recurrent.zip"
    masked = InvalidActionEnvDiscrete(dim=4, n_invalid_actions=1)
    MaskablePPO("MlpPolicy", masked, **SMALL).save(folder / "maskable")
    paths["maskable"] = folder / "maskable.zip"
    return paths


@pytest.mark.parametrize("kwargs", [dict(kl_target=-1), dict(n_epochs=0), dict(gamma=2.0), dict(batch_size=1.5)])
def test_load_checks_its_keyword_arguments_as_the_constructor(files: dict[str, Path], kwargs: dict) -> None:
    saved = files["PPOFixedKL"]
    cls = PPOAdaptiveKL if "kl_target" in kwargs else PPOFixedKL
    if cls is PPOAdaptiveKL:
        saved = saved.parent / "adaptive.zip"
        PPOAdaptiveKL("MlpPolicy", "CartPole-v1", **SMALL).save(saved)
    with pytest.raises((ValueError, TypeError), match=f"`{next(iter(kwargs))}`"):
        cls.load(saved, **kwargs)


def test_load_checks_fast_as_the_constructor(files: dict[str, Path]) -> None:
    with pytest.raises(TypeError, match="`fast` must be True or False, got str 'no'"):
        PPOClip.load(files["PPOClip"], fast="no")
    assert PPOClip.load(files["PPOClip"], fast=True).fast is True


def test_numpy_numbers_for_schedule_arguments_load_as_floats(files: dict[str, Path]) -> None:
    import numpy as np

    model = PPOClip.load(files["PPOClip"], learning_rate=np.float32(0.5), clip_range=np.float32(0.25))
    assert model.lr_schedule(1.0) == pytest.approx(0.5) and model.clip_range(1.0) == pytest.approx(0.25)


def test_load_refuses_to_turn_clipping_off(files: dict[str, Path]) -> None:
    # PPOClip.load(..., clip_range=None) would build PPOClip without clipping: the no-clip row under PPOClip's name
    with pytest.raises(ValueError, match="`clip_range` of PPOClip must be a number > 0 or a schedule; for no clipping use"):
        PPOClip.load(files["PPOClip"], clip_range=None)
    # the objectives whose ε is optional take None, as their constructors do
    assert PPOFixedKL.load(files["PPOFixedKL"], clip_range=None).clip_range is None


def test_files_of_the_same_objective_load(files: dict[str, Path]) -> None:
    assert PPOClip.load(files["ppo"]).clip_range(1) == 0.2  # stock PPO is PPO-Clip
    assert PPOClip.load(files["PPOClip"]).clip_range(1) == 0.2
    assert PPONoClip.load(files["PPONoClip"]).clip_range is None
    assert PPOFixedKL.load(files["PPOFixedKL"]).kl_coef == 1.0
    assert isinstance(PPO.load(files["PPOClip"]), PPO)  # a PPOClip file is a PPO file


@pytest.mark.parametrize(
    ("cls", "name", "saved_by"),
    [
        (PPONoClip, "ppo", "the stock algorithm of the 'ppo' family"),
        (PPOClip, "PPOFixedKL", "PPOFixedKL: objective 'fixed_kl'"),
        (PPOFixedKL, "PPONoClip", "PPONoClip: objective 'no_clip'"),
        (PPOAdaptiveKL, "PPOFixedKL", "PPOFixedKL"),
        (PPOClip, "recurrent", "family 'ppo_lstm'"),
        (RecurrentPPOClip, "ppo", "family 'ppo'"),
        (next(v.cls for v in REGISTRY if v.key == "ppo_mask_clip"), "ppo", "family 'ppo'"),
        (PPOClip, "maskable", "family 'ppo_mask'"),
    ],
)
def test_a_file_of_another_objective_or_family_is_refused(cls: type, name: str, saved_by: str, files: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match=f"was saved by .*{saved_by}") as caught:
        cls.load(files[name])
    assert f"{cls.__name__} has objective" in str(caught.value)


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_a_truncated_file_is_named(files: dict[str, Path], tmp_path: Path, cut: float) -> None:
    data = files["PPOClip"].read_bytes()
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(ValueError, match=f"{damaged} is not a whole SB3 model file"):
        PPOClip.load(damaged)


@pytest.mark.parametrize("cls", [PPO, MaskablePPO, RecurrentPPO, *(variant.cls for variant in REGISTRY)])
def test_a_file_that_is_not_a_zip_gets_sb3s_error(cls: type, tmp_path: Path) -> None:
    # SB3's own test (test_save_load.py::test_load_bad_zip) matches this wording; the stock class is the reference
    bad = tmp_path / "not_a_zip.zip"
    bad.write_text("this is not a zip file")
    with pytest.raises(ValueError, match="wasn't a zip-file"):
        cls.load(str(bad))


def test_a_file_without_an_argument_loads_with_the_default_also_through_a_wrapping_subclass(tmp_path: Path) -> None:
    # SB3 drops an attribute it cannot decode (upstream's test_load_invalid_object) and builds the model with the
    # constructor's default; a subclass taking *args, **kwargs (as the upstream runner's fast classes do) has them too
    import json
    import zipfile

    from sb3_ppo_variants.saved import constructor_defaults

    class FastAdaptive(PPOAdaptiveKL):
        def __init__(self, *args: object, fast: bool = True, **kwargs: object) -> None:
            super().__init__(*args, fast=fast, **kwargs)  # type: ignore[arg-type]

    defaults = constructor_defaults(FastAdaptive)
    assert defaults["fast"] is True and defaults["learning_rate"] == 3e-4 and defaults["kl_target"] == 0.01
    path = tmp_path / "model.zip"
    FastAdaptive("MlpPolicy", "Pendulum-v1", n_steps=64, batch_size=32).save(path)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(members["data"])
    del data["learning_rate"]
    members["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    assert FastAdaptive.load(path).fast is True
