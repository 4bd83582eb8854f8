"""The Trainer on tasks that are not CompressAI models: exact resumption after SIGKILL, SIGTERM and step
limits, alternating updates of two networks, release into the zoo."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from dlic_lib import zoo
from dlic_lib.errors import DlicError
from dlic_lib.train.task import STATE_FORMAT, Trainer

sys.path.insert(0, str(Path(__file__).parent))
from toy_tasks import ToyAlternating, ToyDenoise  # noqa: E402

TASKS = {"denoise": ToyDenoise, "alternating": ToyAlternating}


def _fit(task, **kw):
    return Trainer(task, progress=False, device="cpu", **kw).fit()


def _weights(result) -> dict:
    blob = torch.load(result.run_dir / "release.pt", weights_only=True)
    return {f"{group}.{k}": v for group, sd in blob.items() for k, v in sd.items()}


def _assert_same(a, b):
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key
    assert a.log.drop(columns="elapsed_s").equals(b.log.drop(columns="elapsed_s"))


@pytest.fixture(scope="module", params=sorted(TASKS))
def reference(request, tmp_path_factory):
    """An uninterrupted run of each toy task."""
    mp = pytest.MonkeyPatch()
    mp.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path_factory.mktemp("ref")))
    try:
        yield request.param, _fit(TASKS[request.param]())
    finally:
        mp.undo()


def test_uninterrupted_run_logs_releases_and_registers(reference, monkeypatch):
    name, r = reference
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(r.run_dir.parent.parent))
    assert r.finished and r.step == 10 and r.config == {"steps": 10, "seed": 0}
    assert list(r.log[r.log.split == "train"].step) == [2, 4, 6, 8, 10]
    assert list(r.log[r.log.split == "val"].step) == [4, 8, 10]
    assert {"steps", "seed", "step", "split", "elapsed_s"} <= set(r.log.columns)
    assert (r.run_dir / "log.csv").is_file() and (r.run_dir / "log.parquet").is_file()
    task = TASKS[name]()
    entry = zoo.find(r.entry.architecture, task=task.name)
    assert entry == r.entry and entry.path == r.run_dir / "release.pt" and zoo.verify(entry) == entry.path
    state = torch.load(r.state_path, weights_only=False)
    assert state["format"] == STATE_FORMAT and state["finished"] and state["task_state"]["flips"] > 0
    if name == "alternating":  # both networks learned, each every other step
        assert set(r.log.columns) >= {"restorer_loss", "critic_loss"}
        assert set(state["optimizers"]) == {"restorer", "critic"} and set(state["schedulers"]) == {"restorer", "critic"}


def test_sigkill_mid_run_then_resume_is_bit_identical(reference, tmp_path, monkeypatch):
    """A separate process SIGKILLs itself inside step 8; the state of step 6 survives and the resumed run ends identical."""
    name, ref = reference
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "killed"))
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from toy_tasks import {TASKS[name].__name__} as T
        from dlic_lib.train.task import Trainer
        Trainer(T(), progress=False, device="cpu").fit()
    """)
    env = dict(os.environ, DLIC_TOY_KILL_AT="8")
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    run_dir = tmp_path / "killed" / "runs" / ref.run_dir.name
    assert sorted(p.name for p in run_dir.iterdir()) == ["log.csv", "state.pt"]  # nothing half-written
    assert torch.load(run_dir / "state.pt", weights_only=False)["step"] == 6
    _assert_same(ref, _fit(TASKS[name]()))


def test_sigterm_stops_at_a_step_boundary_and_resumes_identically(reference, tmp_path, monkeypatch):
    name, ref = reference
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "term"))
    task = TASKS[name]()
    original = task.train_step

    def step(batch, trainer):
        if trainer.step == 4:
            os.kill(os.getpid(), signal.SIGTERM)
        return original(batch, trainer)

    task.train_step = step
    with pytest.raises(KeyboardInterrupt):
        _fit(task)
    state = torch.load(Trainer(TASKS[name](), progress=False).state_path, weights_only=False)
    assert state["step"] == 5 and not state["finished"]  # step 5 was completed, then the stop honoured
    _assert_same(ref, _fit(TASKS[name]()))


def test_step_limit_refused_resume_and_restart(reference, tmp_path, monkeypatch):
    name, ref = reference
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "limit"))
    part = Trainer(TASKS[name](), progress=False).fit(max_steps_this_run=5)
    assert not part.finished and part.step == 5 and part.entry is None
    with pytest.raises(DlicError, match="--resume"):
        Trainer(TASKS[name](), progress=False).fit(resume=False)
    done = _fit(TASKS[name]())
    _assert_same(ref, done)
    mtime = (done.run_dir / "release.pt").stat().st_mtime_ns
    again = Trainer(TASKS[name](), progress=False).fit(resume=False)  # finished: not retrained
    assert again.finished and again.entry == done.entry and (done.run_dir / "release.pt").stat().st_mtime_ns == mtime
    fresh = Trainer(TASKS[name](), progress=False).fit(restart=True)
    _assert_same(ref, fresh)


def test_settings_change_the_run_id_and_bf16_policy_is_exposed(tmp_path, monkeypatch):
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path))
    assert ToyDenoise(seed=1).run_id() != ToyDenoise().run_id() and ToyDenoise().run_id().startswith("toy-denoise-")
    plain = Trainer(ToyDenoise(steps=2), progress=False, amp=False, channels_last=False)
    mixed = Trainer(ToyDenoise(steps=2), progress=False, amp=True)
    assert mixed.channels_last and not plain.channels_last
    with mixed.autocast():
        assert torch.nn.functional.linear(torch.ones(2, 2), torch.ones(2, 2)).dtype == torch.bfloat16
    with plain.autocast():
        assert torch.nn.functional.linear(torch.ones(2, 2), torch.ones(2, 2)).dtype == torch.float32
    assert mixed.to_device(torch.ones(1, 3, 4, 4)).is_contiguous(memory_format=torch.channels_last)
    a, b = plain.fit(), Trainer(ToyDenoise(steps=2), progress=False, amp=True, runs_dir=tmp_path / "other").fit()
    assert not torch.equal(_weights(a)["state_dict.0.weight"], _weights(b)["state_dict.0.weight"])


def test_a_state_that_does_not_fit_the_task_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path))
    Trainer(ToyDenoise(), progress=False).fit(max_steps_this_run=3)
    state_path = Trainer(ToyDenoise(), progress=False).state_path
    state = torch.load(state_path, weights_only=False)
    state["nets"] = {"other": state["nets"]["cnn"]}
    torch.save(state, state_path)
    with pytest.raises(DlicError, match="restart"):
        _fit(ToyDenoise())
    state_path.write_bytes(b"garbage")
    with pytest.raises(DlicError, match="unreadable"):
        _fit(ToyDenoise())
