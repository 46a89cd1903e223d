from __future__ import annotations

from pathlib import Path

import pytest

from sb3_ppo_variants.benchmark.__main__ import main
from sb3_ppo_variants.benchmark.grid import TABLE1_ENVS, Grid, Setting, load_grid, preset, select
from sb3_ppo_variants.envs import MASKED_ENV_ID, NO_VELOCITY_ENV_ID


def test_table1_preset_is_the_papers_grid_plus_stock_ppo() -> None:
    grid = preset("table1")
    assert len(grid.settings) == 12 and len(TABLE1_ENVS) == 7 and grid.seeds == [0, 1, 2]
    assert grid.timesteps == 1_000_000 and grid.n_envs == 1 and grid.hyperparams == {}
    assert len(grid.runs()) == 12 * 7 * 3
    assert sum(s.paper_score is not None for s in grid.settings) == 11
    assert len({r.key for r in grid.runs()}) == len(grid.runs())


def test_select_narrows_and_changes_budget() -> None:
    grid = select(preset("table1"), ["no_clip", "sb3_ppo"], ["Hopper-v5"], [0], 300_000)
    assert [(r.setting, r.env, r.seed, r.timesteps) for r in grid.runs()] == [
        ("no_clip", "Hopper-v5", 0, 300_000),
        ("sb3_ppo", "Hopper-v5", 0, 300_000),
    ]
    with pytest.raises(ValueError, match="unknown settings"):
        select(preset("quick"), ["nope"])


def test_fast_selection_gets_its_own_rows_and_keeps_stock_ppo_as_the_exact_reference() -> None:
    grid = select(preset("table1"), ["clip_0.2", "adaptive_kl_0.01", "sb3_ppo"], ["Hopper-v5"], [0], 1000, fast=True)
    assert [(s.name, s.kwargs) for s in grid.settings] == [
        ("clip_0.2_fast", {"clip_range": 0.2, "fast": True}),
        ("adaptive_kl_0.01_fast", {"kl_target": 0.01, "fast": True}),
        ("sb3_ppo", {}),
    ]
    whole = select(preset("table1"), fast=True)
    assert len(whole.settings) == 12 and sum(s.name.endswith("_fast") for s in whole.settings) == 11
    exact = select(preset("table1"), ["clip_0.2"], ["Hopper-v5"], [0], 1000)
    assert grid.runs()[0].config_hash != exact.runs()[0].config_hash
    with pytest.raises(ValueError, match="stock PPO has no fast path"):
        select(preset("table1"), ["sb3_ppo"], fast=True)


def test_yml_grid(grid_file: Path) -> None:
    grid = load_grid(grid_file)
    assert [s.name for s in grid.settings] == ["clip_0.2", "sb3_ppo"]
    runs = grid.runs()
    assert len(runs) == 4
    assert runs[0].kwargs == {"n_steps": 256, "batch_size": 64, "n_epochs": 2, "clip_range": 0.2}


def test_run_key_changes_with_the_configuration() -> None:
    a = Grid([Setting("x", "ppo_clip", {"clip_range": 0.2})], ["CartPole-v1"], [0], 100).runs()[0]
    b = Grid([Setting("x", "ppo_clip", {"clip_range": 0.3})], ["CartPole-v1"], [0], 100).runs()[0]
    assert a.key != b.key


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(name="x", algo="sac"), "unknown algo"),
        (dict(name="Has Space", algo="ppo"), "lowercase"),
    ],
)
def test_bad_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Setting(**kwargs)


def test_an_unknown_environment_is_refused_before_any_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match=r"unknown environment 'Hoper-v5': Environment `Hoper` doesn't exist\. Did you mean"):
        select(preset("quick"), envs=["CartPole-v1", "Hoper-v5"])
    with pytest.raises(ValueError, match="unknown environment 'HalfCheetah-v9'"):
        Grid([Setting("clip_0.2", "ppo_clip")], ["HalfCheetah-v9"], [0], 1000)
    path = tmp_path / "typo.yml"
    path.write_text("settings: [clip_0.2]\nenvs: [CartPol-v1]\nseeds: [0]\ntimesteps: 1000\n")
    with pytest.raises(ValueError, match="unknown environment 'CartPol-v1'"):
        load_grid(path)
    # the command line says so before it creates anything
    out = tmp_path / "out"
    with pytest.raises(SystemExit):
        main(["run", "--preset", "quick", "--envs", "Hoper-v5", "--out", str(out)])
    assert "unknown environment 'Hoper-v5'" in capsys.readouterr().err and not out.exists()
    # this package's own envs, and ids that name a module to import first (left to gym.make), are accepted
    assert Grid([Setting("clip_0.2", "ppo_clip")], [MASKED_ENV_ID, NO_VELOCITY_ENV_ID, "my_package:MyEnv-v0"], [0], 1).envs


@pytest.mark.parametrize(
    ("setting", "error", "message"),
    [
        (
            Setting("kl", "ppo_adaptive_kl", {"kl_targt": 0.01}),
            TypeError,
            r"setting 'kl': PPOAdaptiveKL takes no argument 'kl_targt' \('kl_targt': did you mean 'kl_target'\?\)",
        ),
        (Setting("kl", "ppo_fixed_kl", {"kl_coef": -1.0}), ValueError, r"setting 'kl': `kl_coef` must be in \[0.0, inf\)"),
        (Setting("clip", "ppo_clip", {"clip_range": None}), ValueError, "setting 'clip': .*for no clipping use PPONoClip"),
        (Setting("clip", "ppo_clip", {"n_epochs": 0}), ValueError, "setting 'clip': .*n_epochs"),
        (Setting("clip", "ppo_clip", {"learning_rate": "lin_x"}), ValueError, "learning_rate"),
        (Setting("ppo", "ppo", {"clip_rnage": 0.2}), TypeError, r"setting 'ppo': PPO takes no argument 'clip_rnage'"),
        (
            Setting("clip", "ppo_clip", normalize={"norm_obs": True, "clip_ob": 5.0}),
            TypeError,
            r"setting 'clip': VecNormalize takes no argument 'clip_ob' \('clip_ob': did you mean 'clip_obs'\?\)",
        ),
    ],
    ids=["name", "knob", "clip_range", "hyperparameter", "schedule", "stock", "normalize"],
)
def test_a_setting_its_algorithm_would_refuse_is_refused_with_the_grid(setting: Setting, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Grid([setting], ["CartPole-v1"], [0], 1000)


def test_a_grid_yml_with_a_bad_argument_is_refused_before_anything(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "typo.yml"
    out = tmp_path / "out"
    for kwargs, message in [
        ("{kl_target: 0.0}", "setting 'kl': `kl_target` must be in (0.0, inf), got 0.0"),
        ("{kl_targt: 0.01}", "setting 'kl': PPOAdaptiveKL takes no argument 'kl_targt'"),
    ]:
        settings = f"settings:\n  kl: {{algo: ppo_adaptive_kl, kwargs: {kwargs}}}\n"
        path.write_text(settings + "envs: [CartPole-v1]\nseeds: [0]\ntimesteps: 1000\n")
        with pytest.raises(SystemExit):
            main(["run", "--grid", str(path), "--out", str(out)])
        assert message in capsys.readouterr().err and not out.exists()


def test_bad_grid_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text("settings: [clip_0.2]\nenvs: [CartPole-v1]\n")
    with pytest.raises(ValueError, match="missing"):
        load_grid(path)


def test_stored_grids_keep_their_keys() -> None:
    """A run without a wrapper hashes as before wrappers existed: the committed 1M and 300k stores still match their
    presets, so a resumed grid skips what is stored."""
    from sb3_ppo_variants.benchmark.store import ResultsStore

    root = Path(__file__).resolve().parents[2] / "results"
    for folder, grid in [
        ("table1_1m", select(preset("table1"), fast=True)),
        (
            "table1",
            select(preset("table1"), ["no_clip", "clip_0.2", "adaptive_kl_0.01", "fixed_kl_3", "sb3_ppo"], timesteps=300_000),
        ),
    ]:
        stored = ResultsStore(root / folder).finished_keys()
        assert stored and stored <= {run.key for run in grid.runs()}, folder


NORMALIZED_GRID_YML = """
settings:
  plain: {algo: ppo_clip}
  normalized: {algo: ppo_clip, normalize: {norm_reward: true, clip_obs: 5.0}}
envs: [Pendulum-v1]
seeds: [0]
timesteps: 600
hyperparams: {n_steps: 200, batch_size: 50, n_epochs: 1}
"""


def test_a_setting_with_vec_normalize(tmp_path: Path) -> None:
    from sb3_ppo_variants.benchmark.runner import run_grid
    from sb3_ppo_variants.benchmark.store import ResultsStore

    (tmp_path / "grid.yml").write_text(NORMALIZED_GRID_YML)
    grid = load_grid(tmp_path / "grid.yml")
    plain, normalized = grid.runs()
    assert plain.normalize is None and normalized.normalize == {"norm_reward": True, "clip_obs": 5.0}
    assert plain.config_hash != normalized.config_hash
    run_grid(grid, tmp_path / "out", workers=1, progress=False)
    runs = {r.setting: r for r in ResultsStore(tmp_path / "out").runs()}
    # the wrapper changed what the policy saw...
    assert runs["plain"].episodes != runs["normalized"].episodes
    # ...and the recorded returns are the env's own: Pendulum's 200-step episodes score about -1900 to -100, while
    # normalised rewards would sum to a few units
    for run in runs.values():
        assert all(-2000 < r < -100 for _, r, _ in run.episodes), run.setting


def test_paper_code_rows_have_their_own_names_arguments_and_wrapper() -> None:
    from sb3_ppo_variants.benchmark.grid import known_setting
    from sb3_ppo_variants.paper_code import FIXED, OBSERVATION_NORMALIZATION

    grid = select(preset("table1"), ["clip_0.1", "adaptive_kl_0.01"], ["Hopper-v5"], [0], fast=True, paper_code=True)
    clip, kl = grid.settings
    assert (clip.name, kl.name) == ("clip_0.1_paper_code_fast", "adaptive_kl_0.01_paper_code_fast")
    assert clip.kwargs == {"clip_range": "lin_0.1", "learning_rate": "lin_0.0003", "fast": True, **FIXED}
    assert kl.kwargs == {"kl_target": 0.01, "learning_rate": "lin_0.0003", "fast": True, **FIXED}
    assert clip.normalize == kl.normalize == OBSERVATION_NORMALIZATION
    assert known_setting(clip.name) == known_setting("clip_0.1") and clip.paper_score == 0.76
    plain = select(preset("table1"), ["clip_0.1"], ["Hopper-v5"], [0], fast=True)
    assert plain.runs()[0].config_hash != grid.runs()[0].config_hash
    with pytest.raises(ValueError, match="'sb3_ppo': --paper-code needs one of this package's classes"):
        select(preset("table1"), ["sb3_ppo"], paper_code=True)
    # the grid's shared learning rate is the one annealed
    shared = Grid([Setting("c", "ppo_clip")], ["CartPole-v1"], [0], 100, hyperparams={"learning_rate": 1e-3})
    assert select(shared, paper_code=True).runs()[0].kwargs["learning_rate"] == "lin_0.001"


def test_paper_code_in_a_yml_grid_runs(tmp_path: Path) -> None:
    from sb3_ppo_variants.benchmark.runner import run_grid
    from sb3_ppo_variants.benchmark.store import ResultsStore

    (tmp_path / "grid.yml").write_text(
        "settings:\n  clip_0.2: {paper_code: true}\n  mine: {algo: ppo_fixed_kl, kwargs: {kl_coef: 2.0}, paper_code: true}\n"
        "envs: [Pendulum-v1]\nseeds: [0]\ntimesteps: 256\nhyperparams: {n_steps: 128, batch_size: 64, n_epochs: 1}\n"
    )
    grid = load_grid(tmp_path / "grid.yml")
    assert [s.name for s in grid.settings] == ["clip_0.2_paper_code", "mine_paper_code"]
    run_grid(grid, tmp_path / "out", workers=1, progress=False)
    runs = {r.setting: r for r in ResultsStore(tmp_path / "out").runs()}
    assert runs["mine_paper_code"].kwargs["learning_rate"] == "lin_0.0003" and len(runs) == 2


def test_klip_preset_is_their_comparison_in_their_configuration() -> None:
    grid = preset("klip")
    assert [s.algo for s in grid.settings] == [
        "ppo_clip",
        "ppo_per_sample_kl",
        "ppo_soft_clip",
        "ppo_fixed_kl",
        "ppo_adaptive_kl",
    ]
    assert grid.envs[:2] == ["Ant-v5", "Humanoid-v5"] and grid.seeds == [0, 1, 2] and grid.timesteps == 1_000_000
    for run in grid.runs():
        assert run.kwargs["learning_rate"] == "lin_0.0003" and run.kwargs["clip_range_vf"] == 0.2
        assert run.normalize == {"norm_obs": True, "norm_reward": True}
    soft = next(s for s in grid.settings if s.algo == "ppo_soft_clip")
    assert (soft.kwargs["soft_clip"], soft.kwargs["softness"]) == ("linear", 0.05)
    assert len(select(grid, fast=True).runs()) == 5 * 5 * 3
