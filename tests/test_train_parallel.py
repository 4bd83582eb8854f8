"""Rungs of a ladder trained side by side give the same models as rungs trained one after another."""

import pytest

from dlic_lib.errors import DlicError


def _weights(result):
    import torch

    return torch.load(result.entry.path, weights_only=True)["state_dict"]


def test_parallel_rungs_match_sequential_ones(tmp_path, monkeypatch):
    import torch

    from dlic_lib.checkpoints import list_checkpoints
    from dlic_lib.train import train_ladder

    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # each parallel rung gets 2 // 2 = 1 thread below
        monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "one-by-one"))
        seq = train_ladder("bmshj2018-factorized", qualities=[1, 3], profile="smoke", progress=False)
        torch.set_num_threads(2)
        monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "side-by-side"))
        par = train_ladder("bmshj2018-factorized", qualities=[1, 3], profile="smoke", progress=False, jobs=2)
    finally:
        torch.set_num_threads(threads)
    assert [r.entry.quality for r in par] == [1, 3] and all(r.finished for r in par)
    assert sorted(e.quality for e in list_checkpoints("bmshj2018-factorized", "mse")) == [1, 3]  # both registered
    for a, b in zip(seq, par):
        wa, wb = _weights(a), _weights(b)
        assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
        assert a.val == pytest.approx(b.val)
    # a finished ladder is not trained again
    again = train_ladder("bmshj2018-factorized", qualities=[1, 3], profile="smoke", progress=False, jobs=2)
    assert [r.entry.sha256 for r in again] == [r.entry.sha256 for r in par]


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True, "2"])
def test_bad_jobs_is_a_clear_error(jobs):
    from dlic_lib.train import train_ladder

    with pytest.raises(DlicError, match="jobs must be a positive integer"):
        train_ladder("bmshj2018-factorized", qualities=[1], profile="smoke", progress=False, jobs=jobs)


def test_cli_trains_rungs_side_by_side(tmp_path, monkeypatch, capsys):
    from dlic_lib.cli import main

    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path))
    assert main(["train", "--profile", "smoke", "--qualities", "1,2", "--jobs", "2", "--no-progress"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[3] for line in out] == ["q1", "q2"]
