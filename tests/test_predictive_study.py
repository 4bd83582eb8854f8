"""Chapter 5 study logic: settings per profile and the C36, C37, C39 verdict rules on hand-made RD points."""

from __future__ import annotations

import pandas as pd
import pytest

from dlic_lib.errors import DlicError
from dlic_lib.studies import predictive_codecs as study


def _points(rows):
    return pd.DataFrame(rows, columns=["codec", "quality", "bpp", "psnr_y", "ms_ssim"])


def test_settings_refuse_unknown_keys_and_profiles():
    assert study.chapter_settings("quick", kodak=3)["kodak"] == 3
    with pytest.raises(DlicError):
        study.chapter_settings("quick", colour=1)
    with pytest.raises(DlicError):
        study.chapter_settings("huge")


def _c36(single_offset, multi_low, multi_high, ms_low=0.97, ms_high=0.99):
    rows = []
    for k, bpp in ((1, 0.125), (2, 0.25), (4, 0.5)):
        base = 20 + 2 * k
        rows.append(("baseline", k, bpp, base, 0.90 if k <= 2 else 0.99))
        rows.append(("single-mode", k, bpp, base + single_offset, 0.9))
        rows.append(("multi-mode", k, bpp, base + (multi_low if k <= 2 else multi_high), ms_low if k <= 2 else ms_high))
    return _points(rows)


def test_c36_verdict_counts_its_three_conditions():
    assert study.verdict_c36(_c36(-1, +1, -1))[0] == "reproduced"
    assert study.verdict_c36(_c36(-1, -1, -1, ms_low=0.90))[0] == "partly reproduced"
    assert study.verdict_c36(_c36(+1, -1, +1, ms_low=0.90))[0] == "not reproduced"
    assert study.verdict_c36(_c36(-1, +1, -1).query("quality == 1"))[0] == "not testable here"


def test_c37_verdict_compares_interpolated_curves():
    rows = []
    for bpp in (0.05, 0.1, 0.2, 0.4, 0.8):
        rows += [("JPEG", 0, bpp, 20 + 5 * bpp, 0), ("JPEG 2000", 0, bpp, 24 + 5 * bpp, 0),
                 ("baseline + BA", 0, bpp, 22 + 5 * bpp, 0), ("VAE", 0, bpp, (23 if bpp < 0.1 else 25) + 5 * bpp, 0),
                 ("VAE + embedded intra", 0, bpp, 25 + 5 * bpp, 0)]
    verdict, why = study.verdict_c37(_points(rows))
    assert verdict == "reproduced", why
    worse = _points([r if r[0] != "baseline + BA" else (r[0], 0, r[2], r[3] - 5, 0) for r in rows])
    assert study.verdict_c37(worse)[0] == "partly reproduced"


def test_c39_verdict_detects_the_collapse():
    base = [("VAE", l, b, 30, 0) for l, b in ((1e-4, 0.1), (1e-3, 0.2), (1e-2, 0.5))]
    collapsed = [("VAE + intra AE", l, b, 30, 0) for l, b in ((1e-4, 0.9), (1e-3, 0.2), (1e-2, 0.5))]
    fine = [("VAE + intra AE", l, b, 30, 0) for l, b in ((1e-4, 0.05), (1e-3, 0.2), (1e-2, 0.5))]
    assert study.verdict_c39(_points(base + collapsed))[0] == "reproduced"
    assert study.verdict_c39(_points(base + fine))[0] == "not reproduced"
    assert study.verdict_c39(_points(base))[0] == "not testable here"


def test_evaluation_rows_are_kept_and_an_interrupted_run_codes_only_what_is_missing(monkeypatch):
    from dlic_lib.studies import intra_prediction

    s = study.chapter_settings("smoke")
    nets = study.networks(s)
    images = list(intra_prediction.test_images(s).items())
    real, calls = study._code_rows, []

    def counted(codec, image, qualities, stop=None):
        for row in real(codec, image, qualities):
            if len(calls) == stop:
                raise KeyboardInterrupt
            calls.append(codec.name)
            yield row

    monkeypatch.setattr(study, "_code_rows", lambda *a: counted(*a, stop=5))
    with pytest.raises(KeyboardInterrupt):
        study.evaluate(s, nets, images)
    monkeypatch.setattr(study, "_code_rows", counted)
    first = study.evaluate(s, nets, images)
    assert len(calls) == len(first) > 5 and first["bpp"].gt(0).all()  # the five kept rows were not coded again
    assert set(first["curve"]) >= {"baseline", "multi-mode", "JPEG 2000"} and not first.duplicated(["curve", "quality", "image"]).any()
    calls.clear()
    again = study.evaluate(s, nets, images)
    assert calls == []
    pd.testing.assert_frame_equal(first, again)
    # other weights for the multi-mode codec: only its curves are coded again
    import torch

    with torch.no_grad():
        next(nets["multi"].parameters()).add_(0.01)
    study.evaluate(s, nets, images)
    n_multi = first["curve"].isin(["multi-mode", "multi-mode + BA"]).sum()
    assert sorted(set(calls)) == ["rnn-multi", "rnn-multi-ba"] and len(calls) == n_multi


def test_verdicts_compare_curves_on_the_images_they_share():
    rows = []
    for image, offset in (("a", 0.0), ("b", 0.0), ("c", 10.0)):  # only the baseline coded image c (much better)
        for k in (1, 2, 4):
            rows.append({"codec": "baseline", "curve": "baseline", "quality": k, "image": image, "bpp": 0.125 * k,
                         "psnr_y": 20 + k + offset, "ms_ssim": 0.9})
            if image != "c":
                for codec, d in (("single-mode", -0.5), ("multi-mode", 1.0 if k <= 2 else -1.0)):
                    rows.append({"codec": codec, "curve": codec, "quality": k, "image": image, "bpp": 0.125 * k,
                                 "psnr_y": 20 + k + d, "ms_ssim": 0.9})
    table = pd.DataFrame(rows)
    shared = study.common_points(table, study.VERDICT_CODECS["C36"])
    assert set(shared["n_images"]) == {2} and shared.loc[shared["codec"] == "baseline", "psnr_y"].tolist() == [21, 22, 24]
    verdict, why = study.verdicts(table)["C36"]
    assert "single < baseline in PSNR at every k: True" in why and "multi > baseline at k ≤ 2 and < at k = 4: True" in why
    # on every image of each curve the baseline's image c would hide both findings
    assert "False" in study.verdict_c36(study.curves(table))[1].split(";")[1]
