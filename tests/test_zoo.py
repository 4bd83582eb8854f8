"""The checkpoint zoo for any architecture, and the CompressAI architectures' tables it relies on."""

import json

import pytest
import torch

from dlic_lib import zoo
from dlic_lib.cli import main
from dlic_lib.errors import ChecksumError, DlicError
from dlic_lib.models import build_model, param_count
from dlic_lib.models import compressai_models as cm


def _release(path, net, **extra):
    torch.save({"format": zoo.RELEASE_FORMAT, "state_dict": net.state_dict(), **extra}, path)
    return path


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DLIC_CHECKPOINT_DIR", str(tmp_path / "ck"))
    monkeypatch.setenv("DLIC_MANIFEST", str(tmp_path / "none.yaml"))
    (tmp_path / "ck").mkdir()
    return tmp_path / "ck"


def test_register_find_resolve_and_load_any_architecture(home):
    torch.manual_seed(0)
    net = build_model("bmshj2018-hyperprior", N=8, M=12)
    path = _release(home / "a.pt", net)
    entry = zoo.register(zoo.ZooEntry("bmshj2018-hyperprior", "vmaf-proxy", {"lmbda": 0.01, "alpha": 0.5}, path, "",
                                      task="proxiqa", build={"N": 8, "M": 12}, config={"steps": 10, "profile": "smoke"}))
    assert entry.sha256 and entry.path == path and entry.source == "dlic-train"
    assert json.loads(zoo.registry_path().read_text())["entries"][0]["path"] == "a.pt"  # relative to the folder
    assert zoo.find("bmshj2018-hyperprior", task="proxiqa", rate_key={"alpha": 0.5}) == entry
    assert zoo.find("bmshj2018-hyperprior", task="rd") is None and zoo.find("bmshj2018-hyperprior", rate_key={"alpha": 1}) is None
    assert zoo.resolve("bmshj2018-hyperprior", task="proxiqa", objective="vmaf-proxy") == entry
    loaded = zoo.load_model(entry)
    assert not loaded.training and all(torch.equal(a, b) for a, b in zip(loaded.parameters(), net.parameters()))
    assert loaded.entropy_bottleneck._quantized_cdf.numel() > 0  # entropy-coder tables computed on load
    # a longer run of the same slot in another profile wins; the same profile replaces
    longer = zoo.register(zoo.ZooEntry("bmshj2018-hyperprior", "vmaf-proxy", {"lmbda": 0.01, "alpha": 0.5}, path, "", task="proxiqa",
                                       build={"N": 8, "M": 12}, config={"steps": 99, "profile": "quick"}))
    assert zoo.find("bmshj2018-hyperprior", task="proxiqa") == longer and len(zoo.entries()) == 2
    zoo.register(zoo.ZooEntry("bmshj2018-hyperprior", "vmaf-proxy", {"lmbda": 0.01, "alpha": 0.5}, path, "", task="proxiqa",
                              build={"N": 8, "M": 12}, config={"steps": 5, "profile": "quick"}))
    assert len(zoo.entries()) == 2 and zoo.find("bmshj2018-hyperprior", profile="quick").config["steps"] == 5


def test_missing_weights_name_the_command(home):
    with pytest.raises(zoo.MissingWeightsError, match="dlic train --model mbt2018-mean --metric mse --lambdas 0.0067 --profile quick"):
        zoo.resolve("mbt2018-mean", objective="mse", rate_key={"quality": 3})
    msg = zoo.missing_message("toy-net", task="toy", objective="l1", rate_key={"iterations": 16})
    assert "toy-net (l1, iterations 16)" in msg and "'toy'" in msg and "\n" not in msg


def test_checksums_and_foreign_files_are_refused(home, tmp_path):
    net = build_model("bmshj2018-factorized", N=4, M=6)
    path = _release(home / "f.pt", net)
    entry = zoo.register(zoo.ZooEntry("bmshj2018-factorized", "mse", {"quality": 1, "lmbda": 0.0018}, path, "", build={"N": 4, "M": 6}))
    with open(path, "ab") as fh:
        fh.write(b"x")
    with pytest.raises(ChecksumError):
        zoo.load_model(entry)
    torch.save({"weights": 1}, home / "g.pt")
    entry = zoo.register(zoo.ZooEntry("bmshj2018-factorized", "mse", {"quality": 2, "lmbda": 0.0035}, home / "g.pt", "", build={"N": 4, "M": 6}))
    with pytest.raises(DlicError, match="not a dlic release"):
        zoo.load_model(entry)
    small = _release(home / "h.pt", build_model("bmshj2018-factorized", N=4, M=4))
    entry = zoo.register(zoo.ZooEntry("bmshj2018-factorized", "mse", {"quality": 3, "lmbda": 0.0067}, small, "", build={"N": 4, "M": 6}))
    with pytest.raises(DlicError, match="does not match model bmshj2018-factorized with N=4, M=6"):
        zoo.load_model(entry)


def test_registry_problems_are_one_line_errors(home, capsys):
    zoo.registry_path().mkdir()
    with pytest.raises(DlicError, match="not a file"):
        zoo.entries()
    assert main(["checkpoints", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dlic: error:") and err.count("\n") == 1
    zoo.registry_path().rmdir()
    zoo.registry_path().write_text(json.dumps({"format": "other/9", "entries": []}))
    with pytest.raises(DlicError, match="unreadable"):
        zoo.entries()


def test_cli_lists_every_task(home, capsys):
    path = _release(home / "t.pt", build_model("bmshj2018-factorized", N=4, M=6))
    zoo.register(zoo.ZooEntry("bmshj2018-factorized", "mse", {"quality": 1, "lmbda": 0.0018}, path, "", build={"N": 4, "M": 6}))
    zoo.register(zoo.ZooEntry("bls2017", "vmaf-proxy", {"lmbda": 0.01}, path, "", task="proxiqa"))
    assert main(["checkpoints", "list", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["task"] for r in rows) == ["proxiqa", "rd"]
    assert main(["checkpoints", "list", "--format", "json", "--task", "proxiqa"]) == 0
    assert [r["model"] for r in json.loads(capsys.readouterr().out)] == ["bls2017"]


def test_compressai_tables_agree_with_compressai():
    from compressai.zoo.image import cfgs, model_urls

    for name, table in cm.ZOO_CHANNELS.items():
        assert set(table) == set(cfgs[name])
        for q, sizes in cfgs[name].items():
            assert table[q] == (sizes if len(sizes) == 2 else (sizes[0], sizes[0]))
        assert set(model_urls[name]["mse"]) == set(table)
    assert cm.quality_for_lambda(0.0067) == 3 and cm.lambda_for_quality(4, "ms-ssim") == 16.64
    for name, (cls, stride) in cm.COMPRESSAI_ARCHITECTURES.items():
        net = build_model(name, quality=1)
        assert type(net).__name__ == cls and cm.model_stride(name) == stride
        import compressai.zoo as czoo

        reference = getattr(czoo, name.replace("-", "_"))(quality=1, pretrained=False)
        assert param_count(net) == param_count(reference)
