"""rl-zoo3 integration end to end, through ``python -m sb3_ppo_variants.zoo`` in subprocesses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest.importorskip("rl_zoo3")

from stable_baselines3 import PPO

from sb3_ppo_variants import MaskablePPOAdaptiveKL, PPOAdaptiveKL, PPOClip, PPOFixedKL, PPONoClip, RecurrentPPOFixedKL
from sb3_ppo_variants.registry import BY_KEY
from sb3_ppo_variants.zoo import MASKED_ENV_ID, ZOO_KEYS, hyperparams_file
from sb3_ppo_variants.zoo.cli import zoo_arguments
from sb3_ppo_variants.zoo.hyperparams import (
    MUJOCO_V5,
    OBJECTIVE_KEYS,
    PAPER_FAMILIES,
    VARIANT_KNOBS,
    ZOO_FAMILIES,
    paper_code_entries,
    paper_entries,
    tuned_entries,
    variant_entry,
    with_mujoco_v5,
    zoo_ppo_hyperparams,
)

ROOT = Path(__file__).resolve().parents[2]
CLASSES = {
    "ppo": PPO,
    "ppo_clip": PPOClip,
    "ppo_adaptive_kl": PPOAdaptiveKL,
    "ppo_fixed_kl": PPOFixedKL,
    "ppo_no_clip": PPONoClip,
}


#: One torch thread per zoo process, as in the test process (tests/conftest.py): with torch's default of one per core,
#: two pytest-xdist workers on two cores ran four threads, and the LSTM test's zoo run took minutes instead of seconds.
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def zoo(*args: str, cwd: Path, succeed: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "sb3_ppo_variants.zoo", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env=ONE_THREAD,
    )
    if succeed:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


#: enjoy looks every algorithm up in rl-zoo3's ALGOS, where register() puts all of ours alike (checked key by key in
#: test_console_script_and_stock_algorithms): it runs for stock PPO and for one of ours, each run an interpreter start
ENJOYED = ("ppo", "ppo_adaptive_kl")


@pytest.mark.slow
@pytest.mark.parametrize("algo", list(CLASSES))
def test_train_save_enjoy(algo: str, tmp_path: Path) -> None:
    zoo("train", "--algo", algo, "--env", "CartPole-v1", "-n", "2048", "--seed", "3", "-f", "logs", cwd=tmp_path)
    if algo in ENJOYED:
        zoo("enjoy", "--algo", algo, "--env", "CartPole-v1", "-f", "logs", "--no-render", "-n", "200", cwd=tmp_path)
    model = CLASSES[algo].load(tmp_path / "logs" / algo / "CartPole-v1_1" / "CartPole-v1.zip")
    assert type(model) is CLASSES[algo]
    assert model.num_timesteps >= 2048
    entry = yaml.safe_load(hyperparams_file(algo).read_text())["CartPole-v1"] if algo in ZOO_KEYS else {}
    if algo == "ppo_fixed_kl":
        assert model.kl_coef == entry["kl_coef"] == 3.0
    if algo == "ppo_adaptive_kl":
        assert model.kl_target == entry["kl_target"] == 0.01
        assert model.kl_coef != 1.0  # adapted during training, and saved as adapted
    if algo in ("ppo", "ppo_clip"):
        # the zoo's CartPole clip_range is lin_0.2: 0.2 at the start of training
        assert model.clip_range(1.0) == pytest.approx(0.2)
    if algo in ("ppo_no_clip", "ppo_adaptive_kl", "ppo_fixed_kl"):
        assert model.clip_range is None
    assert model.n_envs == 8 and model.n_steps == 32  # the zoo's tuned CartPole entry, shared by all


@pytest.mark.slow
def test_paper_configuration(tmp_path: Path) -> None:
    zoo("train", "--algo", "ppo_adaptive_kl", "--env", "CartPole-v1", "--paper", "-n", "2048", "-f", "logs", cwd=tmp_path)
    model = PPOAdaptiveKL.load(tmp_path / "logs" / "ppo_adaptive_kl" / "CartPole-v1_1" / "CartPole-v1.zip")
    assert (model.n_envs, model.n_steps, model.batch_size, model.n_epochs, model.gamma) == (1, 2048, 64, 10, 0.99)


@pytest.mark.slow
def test_schedule_strings_in_a_yml(tmp_path: Path) -> None:
    """The zoo's schedule strings work for the KL variants' clip_range and learning_rate; their own knobs are floats,
    and a schedule string there is refused with the argument's name before training."""
    conf = tmp_path / "conf.yml"
    conf.write_text(
        "CartPole-v1:\n  n_envs: 2\n  n_steps: 64\n  policy: MlpPolicy\n  n_timesteps: 512\n"
        "  learning_rate: lin_1e-3\n  clip_range: lin_0.3\n  kl_coef: 0.5\n"
    )
    zoo("train", "--algo", "ppo_fixed_kl", "--env", "CartPole-v1", "-f", "logs", "--conf-file", str(conf), cwd=tmp_path)
    model = PPOFixedKL.load(tmp_path / "logs" / "ppo_fixed_kl" / "CartPole-v1_1" / "CartPole-v1.zip")
    assert model.clip_range(1.0) == pytest.approx(0.3) and model.clip_range(0.5) == pytest.approx(0.15)
    assert model.kl_coef == 0.5

    conf.write_text(conf.read_text().replace("kl_coef: 0.5", "kl_coef: lin_1.0"))
    args = ["train", "--algo", "ppo_fixed_kl", "--env", "CartPole-v1", "-f", "logs2", "--conf-file", str(conf)]
    result = zoo(*args, cwd=tmp_path, succeed=False)
    assert result.returncode != 0
    assert "`kl_coef` must be a real number" in result.stderr


@pytest.mark.slow
def test_fast_path_from_a_yml(tmp_path: Path) -> None:
    """``fast: true`` in a zoo yml reaches the constructor, and the saved model keeps it."""
    conf = tmp_path / "conf.yml"
    conf.write_text("CartPole-v1:\n  n_envs: 2\n  n_steps: 64\n  policy: MlpPolicy\n  n_timesteps: 256\n  fast: true\n")
    zoo("train", "--algo", "ppo_adaptive_kl", "--env", "CartPole-v1", "-f", "logs", "--conf-file", str(conf), cwd=tmp_path)
    model = PPOAdaptiveKL.load(tmp_path / "logs" / "ppo_adaptive_kl" / "CartPole-v1_1" / "CartPole-v1.zip")
    assert model.fast is True and model.num_timesteps == 256


@pytest.mark.slow
def test_optuna_two_trials_with_sqlite(tmp_path: Path) -> None:
    zoo(
        "train", "--algo", "ppo_adaptive_kl", "--env", "CartPole-v1", "-n", "1000", "-optimize", "--n-trials", "2",
        "--storage", f"sqlite:///{tmp_path / 'tune.db'}", "--study-name", "akl", "--n-jobs", "1", "--sampler", "random",
        "--pruner", "none", "--n-evaluations", "1", "--eval-episodes", "2", "-f", "logs",
        # the random sampler is seeded by --seed: with 2, both trials draw small n_steps and few epochs (seconds, not
        # the minutes that n_steps 4096 x 8 envs with minibatches of 4 would take)
        "--seed", "2", cwd=tmp_path,
    )  # fmt: skip
    import optuna

    study = optuna.load_study(study_name="akl", storage=f"sqlite:///{tmp_path / 'tune.db'}")
    assert len(study.trials) == 2
    for trial in study.trials:
        assert {"kl_target", "kl_coef"} <= set(trial.params)
        assert "clip_range" not in trial.params  # not a knob of this variant
        assert 1e-3 <= trial.params["kl_target"] <= 1e-1 and 0.1 <= trial.params["kl_coef"] <= 10


def test_yml_files_agree_with_the_zoos_ppo_yml() -> None:
    """Each variant's entry equals the zoo's PPO entry for the env on every non-objective key, so the four files
    agree with each other and with ppo.yml; only the objective's knobs differ."""
    zoo_entries = with_mujoco_v5(zoo_ppo_hyperparams())
    ppo_family = [algo for algo in ZOO_KEYS if BY_KEY[algo].family.key == "ppo"]
    files = {algo: yaml.safe_load(hyperparams_file(algo).read_text()) for algo in ppo_family}
    for algo, entries in files.items():
        assert set(entries) == set(zoo_entries), algo
        for env, entry in entries.items():
            shared = {k: v for k, v in entry.items() if k not in OBJECTIVE_KEYS}
            assert shared == {k: v for k, v in zoo_entries[env].items() if k not in OBJECTIVE_KEYS}, (algo, env)
            assert entry == variant_entry(zoo_entries[env], algo), (algo, env)
            assert {k: entry[k] for k in VARIANT_KNOBS[algo]} == VARIANT_KNOBS[algo]
    assert files["ppo_clip"] == {env: e for env, e in zoo_entries.items()}  # PPOClip is PPO: the very same file
    for task in MUJOCO_V5:
        assert f"{task}-v5" in files["ppo_no_clip"]
    for algo in ["ppo", *(key for key in ZOO_KEYS if BY_KEY[key].family.key in PAPER_FAMILIES)]:
        assert yaml.safe_load(hyperparams_file(algo, paper=True).read_text()) == paper_entries(algo)
        if algo != "ppo":
            assert yaml.safe_load(hyperparams_file(algo, paper_code=True).read_text()) == paper_code_entries(algo)
    # the other families: from the zoo's yml of the family where it has one, else this package's entries
    for algo in set(ZOO_KEYS) - set(ppo_family):
        entries = yaml.safe_load(hyperparams_file(algo).read_text())
        assert entries == tuned_entries(algo)
        family = BY_KEY[algo].family.key
        if family in ZOO_FAMILIES:
            stock = with_mujoco_v5(zoo_ppo_hyperparams(family))
            assert set(entries) == set(stock)
            for env, entry in entries.items():
                shared = {k: v for k, v in entry.items() if k not in OBJECTIVE_KEYS}
                assert shared == {k: v for k, v in stock[env].items() if k not in OBJECTIVE_KEYS}, (algo, env)


@pytest.mark.slow
def test_recurrent_train_and_enjoy(tmp_path: Path) -> None:
    algo, env = "ppo_lstm_fixed_kl", "CartPoleNoVel-v1"
    zoo("train", "--algo", algo, "--env", env, "-n", "1024", "--seed", "3", "-f", "logs", cwd=tmp_path)
    zoo("enjoy", "--algo", algo, "--env", env, "-f", "logs", "--no-render", "-n", "200", cwd=tmp_path)
    model = RecurrentPPOFixedKL.load(tmp_path / "logs" / algo / f"{env}_1" / f"{env}.zip")
    entry = yaml.safe_load(hyperparams_file(algo).read_text())[env]
    assert model.num_timesteps >= 1024 and model.n_steps == entry["n_steps"] == 32 and model.kl_coef == 3.0
    assert model.clip_range is None  # the KL rows do not clip, whatever the zoo's ppo_lstm entry says


@pytest.mark.slow
def test_masked_train_and_enjoy(tmp_path: Path) -> None:
    algo = "ppo_mask_adaptive_kl"
    zoo("train", "--algo", algo, "--env", MASKED_ENV_ID, "-n", "2048", "--seed", "3", "-f", "logs", cwd=tmp_path)
    zoo("enjoy", "--algo", algo, "--env", MASKED_ENV_ID, "-f", "logs", "--no-render", "-n", "200", cwd=tmp_path)
    model = MaskablePPOAdaptiveKL.load(tmp_path / "logs" / algo / f"{MASKED_ENV_ID}_1" / f"{MASKED_ENV_ID}.zip")
    entry = yaml.safe_load(hyperparams_file(algo).read_text())[MASKED_ENV_ID]
    assert model.num_timesteps >= 2048 and model.n_envs == entry["n_envs"] and model.kl_target == entry["kl_target"]
    assert model.kl_coef != 1.0  # adapted during training, and saved as adapted


def test_non_editable_install_finds_its_yml_files(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    code = (
        "import sb3_ppo_variants, sb3_ppo_variants.zoo as z; "
        "print(sb3_ppo_variants.__file__); print(z.hyperparams_file('ppo_fixed_kl')); "
        "print(z.hyperparams_file('ppo', paper=True)); print(z.hyperparams_file('ppo_clip', paper_code=True))"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env: dict[str, Any] = {"PYTHONPATH": str(target), "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True, check=True)
    lines = out.stdout.split()
    assert len(lines) == 4 and all(line.startswith(str(target)) for line in lines), lines


def test_command_line_rewriting() -> None:
    args = zoo_arguments(["train", "--algo", "ppo_no_clip", "--env", "Hopper-v5"])
    assert args[-2:] == ["--conf-file", str(hyperparams_file("ppo_no_clip"))]
    args = zoo_arguments(["train", "--algo=ppo", "--paper"])
    assert args[-2:] == ["--conf-file", str(hyperparams_file("ppo", paper=True))] and "--paper" not in args
    assert zoo_arguments(["train", "--algo", "ppo"]) == ["train", "--algo", "ppo"]  # stock zoo algos: zoo's own yml
    assert zoo_arguments(["train", "--algo", "ppo_clip", "-conf", "x.yml"]) == [
        "train",
        "--algo",
        "ppo_clip",
        "-conf",
        "x.yml",
    ]
    assert zoo_arguments(["enjoy", "--algo", "ppo_clip"]) == ["enjoy", "--algo", "ppo_clip"]
    with pytest.raises(SystemExit, match="only applies to train"):
        zoo_arguments(["enjoy", "--paper"])
    with pytest.raises(SystemExit, match="--paper"):
        zoo_arguments(["train", "--algo", "a2c", "--paper"])


def test_console_script_and_stock_algorithms() -> None:
    script = shutil.which("sb3-ppo-zoo", path=str(Path(sys.executable).parent))
    assert script is not None, "the sb3-ppo-zoo console script is not installed"
    assert "all_plots" in subprocess.run([script, "--help"], capture_output=True, text=True, check=True).stdout
    from rl_zoo3.utils import ALGOS

    from sb3_ppo_variants.zoo import register

    register()
    assert {"ppo", "a2c", "trpo", *ZOO_KEYS} <= set(ALGOS)
    assert ALGOS["ppo_clip"] is PPOClip and ALGOS["ppo"] is PPO
    assert {key: ALGOS[key] for key in ZOO_KEYS} == {key: BY_KEY[key].cls for key in ZOO_KEYS}


def test_paper_code_configuration(tmp_path: Path) -> None:
    zoo("train", "--algo", "ppo_clip", "--env", "Pendulum-v1", "--paper-code", "-n", "2048", "-f", "logs", cwd=tmp_path)
    run = tmp_path / "logs" / "ppo_clip" / "Pendulum-v1_1"
    model = PPOClip.load(run / "Pendulum-v1.zip")
    assert (model.vf_coef, model.max_grad_norm, model.normalize_advantage_over) == (1.0, float("inf"), "rollout")
    # the zoo's linear schedules of the step size and ε, from their Table 3 values
    assert model.lr_schedule(0.5) == pytest.approx(1.5e-4) and model.clip_range(0.5) == pytest.approx(0.1)
    import pickle

    with open(run / "Pendulum-v1" / "vecnormalize.pkl", "rb") as file:
        normalize = pickle.load(file)
    assert (normalize.norm_obs, normalize.norm_reward, normalize.clip_obs) == (True, False, 5.0)


def test_paper_code_refuses_stock_ppo_and_other_scripts() -> None:
    args = zoo_arguments(["train", "--algo", "ppo_fixed_kl", "--paper-code"])
    assert args[-2:] == ["--conf-file", str(hyperparams_file("ppo_fixed_kl", paper_code=True))]
    with pytest.raises(SystemExit, match=r"--paper-code: no paper_code hyperparameter file for 'ppo'.*use ppo_clip"):
        zoo_arguments(["train", "--algo", "ppo", "--paper-code"])
    with pytest.raises(SystemExit, match="--paper-code only applies to train"):
        zoo_arguments(["enjoy", "--algo", "ppo_clip", "--paper-code"])
    with pytest.raises(SystemExit, match="choose --paper or --paper-code"):
        zoo_arguments(["train", "--algo", "ppo_clip", "--paper", "--paper-code"])


def test_train_help_shows_our_options_and_rl_zoo3s(tmp_path: Path) -> None:
    out = zoo("train", "--help", cwd=tmp_path).stdout
    assert "--paper " in out and "--paper-code" in out and "--conf-file" in out  # ours, then rl-zoo3's


@pytest.mark.slow
def test_continue_training_keeps_the_adapted_kl_coef(tmp_path: Path) -> None:
    """``train -i`` loads the saved agent with the yml's hyperparameters as ``load`` keywords; the yml's kl_coef is the
    initial β, so the adapted β must survive it (it did not: training restarted from 1.0)."""
    conf = tmp_path / "conf.yml"
    conf.write_text(
        "CartPole-v1:\n  n_envs: 1\n  n_steps: 128\n  batch_size: 64\n  policy: MlpPolicy\n  n_timesteps: 512\n"
        "  kl_target: 0.01\n  kl_coef: 1.0\n"
    )
    common = ["--algo", "ppo_adaptive_kl", "--env", "CartPole-v1", "-f", "logs", "--conf-file", str(conf), "--seed", "0"]
    zoo("train", *common, cwd=tmp_path)
    first = tmp_path / "logs" / "ppo_adaptive_kl" / "CartPole-v1_1" / "CartPole-v1.zip"
    adapted = PPOAdaptiveKL.load(first).kl_coef
    assert adapted != 1.0  # 4 updates moved β away from the yml's initial value
    result = zoo("train", *common, "-n", "128", "-i", str(first), cwd=tmp_path)
    assert f"Continuing training with the saved kl_coef = {adapted!r}" in result.stdout
    # one more update from the adapted β: it stays, doubles or halves (kl_coef_factor 2)
    continued = PPOAdaptiveKL.load(tmp_path / "logs" / "ppo_adaptive_kl" / "CartPole-v1_2" / "CartPole-v1.zip").kl_coef
    assert continued in (adapted, adapted * 2, adapted / 2), (adapted, continued)
