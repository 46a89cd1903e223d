"""Figure 3's comparators: TRPO and A2C rows at rl-zoo3's tuned hyperparameters per task."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from sb3_ppo_variants.benchmark.comparators import ZOO_ENTRIES, ZOO_VERSION, zoo_entry, zoo_entry_overrides
from sb3_ppo_variants.benchmark.grid import TABLE1_ENVS, Grid, Setting, preset, select


def test_the_copied_entries_are_the_installed_zoos() -> None:
    rl_zoo3 = pytest.importorskip("rl_zoo3")
    if rl_zoo3.__version__ != ZOO_VERSION:
        pytest.skip(f"rl-zoo3 {rl_zoo3.__version__} installed, the copy is of {ZOO_VERSION}")
    tasks = {env.rsplit("-v", 1)[0] for env in TABLE1_ENVS}
    for algo, entries in ZOO_ENTRIES.items():
        zoo = yaml.safe_load((Path(rl_zoo3.__file__).parent / "hyperparams" / f"{algo}.yml").read_text())
        # every gymnasium MuJoCo entry of a Table 1 task (not the PyBullet ones), and nothing else
        listed = {env for env in zoo if re.fullmatch(r"[A-Za-z0-9]+-v\d+", env) and env.rsplit("-v", 1)[0] in tasks}
        assert set(entries) == listed, algo
        for env, entry in entries.items():
            assert entry == zoo[env], (algo, env)


def test_a_v5_task_takes_the_zoos_newest_entry_of_the_task() -> None:
    assert zoo_entry("trpo", "Swimmer-v5") == ("Swimmer-v4", ZOO_ENTRIES["trpo"]["Swimmer-v4"])
    assert zoo_entry("trpo", "InvertedPendulum-v5") is None
    assert zoo_entry("a2c", "Hopper-v4") == ("Hopper-v4", ZOO_ENTRIES["a2c"]["Hopper-v4"])


def test_entries_become_run_overrides_as_rl_zoo3_applies_them() -> None:
    overrides = zoo_entry_overrides(ZOO_ENTRIES["trpo"]["Swimmer-v4"])
    assert overrides["n_envs"] == 2 and overrides["normalize"] == {"gamma": 0.9999}  # VecNormalize gets the algo's gamma
    assert overrides["kwargs"]["gamma"] == 0.9999 and overrides["kwargs"]["n_critic_updates"] == 20
    assert not {"normalize", "n_envs", "policy", "n_timesteps"} & set(overrides["kwargs"])
    with pytest.raises(ValueError, match="as a dict of VecNormalize's arguments"):
        zoo_entry_overrides({"normalize": "dict(norm_reward=False)"})
    assert zoo_entry_overrides({"normalize": {"norm_reward": False}})["normalize"] == {"norm_reward": False}


def test_figure3_preset() -> None:
    grid = preset("figure3")
    assert [s.name for s in grid.settings] == ["sb3_trpo", "sb3_a2c"] and grid.seeds == [0, 1, 2]
    runs = {(r.setting, r.env): r for r in grid.runs() if r.seed == 0}
    assert len(grid.runs()) == 2 * 7 * 3
    hopper = runs["sb3_trpo", "Hopper-v5"]
    assert (hopper.n_envs, hopper.normalize, hopper.kwargs["n_steps"]) == (2, {"gamma": 0.99}, 1024)
    assert runs["sb3_trpo", "HalfCheetah-v5"].kwargs["target_kl"] == 0.04
    pendulum = runs["sb3_a2c", "InvertedPendulum-v5"]
    assert (pendulum.n_envs, pendulum.normalize, pendulum.kwargs) == (1, None, {})  # no zoo entry: SB3's defaults
    # comparators have no fast path and no paper-code form
    assert [s.name for s in select(preset("table1"), ["sb3_trpo", "clip_0.2"], fast=True).settings] == [
        "sb3_trpo",
        "clip_0.2_fast",
    ]
    with pytest.raises(ValueError, match="'a2c' is not"):
        select(grid, ["sb3_a2c"], paper_code=True)


def test_env_overrides_are_checked() -> None:
    with pytest.raises(
        ValueError, match=r"env_overrides\['CartPole-v1'\] may set kwargs, normalize and n_envs, not \['seed'\]"
    ):
        Setting("x", "a2c", env_overrides={"CartPole-v1": {"seed": 3}})


def test_comparators_run_with_their_overrides(tmp_path: Path) -> None:
    from sb3_ppo_variants.benchmark.runner import run_grid
    from sb3_ppo_variants.benchmark.store import ResultsStore

    overrides = {"Pendulum-v1": {"kwargs": {"n_steps": 128, "batch_size": 64}, "normalize": {"gamma": 0.99}, "n_envs": 2}}
    settings = [Setting("trpo_tuned", "trpo", env_overrides=overrides), Setting("a2c_plain", "a2c")]
    run_grid(Grid(settings, ["Pendulum-v1"], [0], 800), tmp_path, workers=1, progress=False)
    runs = {r.setting: r for r in ResultsStore(tmp_path).runs()}
    assert runs["trpo_tuned"].n_envs == 2 and runs["trpo_tuned"].kwargs == {"n_steps": 128, "batch_size": 64}
    assert runs["a2c_plain"].n_envs == 1 and runs["a2c_plain"].kwargs == {}
    # raw returns recorded under VecNormalize (Pendulum's 200-step episodes score about -1900 to -100)
    assert runs["trpo_tuned"].episodes and all(-2000 < r < -50 for _, r, _ in runs["trpo_tuned"].episodes)
