"""Profiles and chapter settings (one source, unknown keys refused) and `dlic run -p` validation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlic_lib.errors import DlicError
from dlic_lib.notebooks import check_parameters, notebook_parameters
from dlic_lib.profiles import CHAPTERS, PARAMETER_RULES, Rule, chapter_settings, check_parameter, get_profile

DLIC = str(Path(sys.executable).with_name("dlic"))


# -- profiles and chapter settings ----------------------------------------------------------------
def test_profile_override_applies_and_none_keeps_the_default():
    assert get_profile("quick", max_images=3).max_images == 3
    assert get_profile("smoke", max_images=None).max_images == 2


def test_unknown_profile_setting_is_refused_by_name():
    with pytest.raises(DlicError, match="unknown profile setting 'max_imgs'"):
        get_profile("quick", max_imgs=3)


def test_chapter_settings_come_from_the_profiles_and_take_overrides():
    P = get_profile("quick", chapter="02_objective_study", kodak=3)
    assert P.extra["kodak"] == 3 and P.extra["qualities"] == (1, 3)
    assert CHAPTERS["02_objective_study"]["quick"]["kodak"] == 24  # the source is not changed
    P.extra["kodak"] = 1
    assert chapter_settings("02_objective_study", "quick")["kodak"] == 24  # each call gets a copy


def test_unknown_chapter_setting_is_refused_with_the_known_ones():
    with pytest.raises(DlicError, match="unknown setting 'n_boot' for chapter 01_subjective_analysis; expected one of n_bootstrap"):
        get_profile("quick", chapter="01_subjective_analysis", n_boot=5)
    with pytest.raises(DlicError, match="chapter '99_nothing' has no settings"):
        chapter_settings("99_nothing", "quick")


def test_chapter_setting_named_without_its_chapter_is_kept_in_extra():
    assert get_profile("smoke", n_bootstrap=7).extra == {"n_bootstrap": 7}
    assert get_profile("smoke", n_bootstrap=None).extra == {}


def test_every_chapter_defines_every_profile_with_the_same_keys():
    for chapter, by_profile in CHAPTERS.items():
        keys = {p: set(s) for p, s in by_profile.items()}
        assert set(keys) == {"smoke", "quick", "full"}, chapter
        assert len({frozenset(k) for k in keys.values()}) == 1, chapter


# -- parameter rules ------------------------------------------------------------------------------
@pytest.mark.parametrize("value, ok", [(3, True), (1, True), (0, False), (-1, False), (2.5, False), (True, False),
                                       ("3", False), ("abc", False), ([1], False)])
def test_max_images_must_be_a_positive_integer(value, ok):
    if ok:
        assert check_parameter("max_images", value, PARAMETER_RULES["max_images"]) == value
    else:
        with pytest.raises(DlicError, match="parameter 'max_images'"):
            check_parameter("max_images", value, PARAMETER_RULES["max_images"])


@pytest.mark.parametrize("value, ok", [("1,3", True), (3, True), ([1, 8], True), ("1,9", False), ("0", False),
                                       ("a,b", False), ("", False), (1.5, False), (True, False)])
def test_learned_qualities_are_integers_1_to_8(value, ok):
    rule = PARAMETER_RULES["learned_qualities"]
    if ok:
        check_parameter("learned_qualities", value, rule)
    else:
        with pytest.raises(DlicError, match="parameter 'learned_qualities'"):
            check_parameter("learned_qualities", value, rule)


def test_learned_codecs_must_be_seed000_names():
    rule = PARAMETER_RULES["learned_codecs"]
    check_parameter("learned_codecs", "BF-E, MM-M", rule)
    with pytest.raises(DlicError, match="parameter 'learned_codecs'.*unknown learned codec 'XX-E'"):
        check_parameter("learned_codecs", "BF-E,XX-E", rule)


def test_rule_for_floats_accepts_integers_but_not_booleans():
    rule = Rule(float, minimum=0)
    assert check_parameter("x", 2, rule) == 2
    with pytest.raises(DlicError, match="must be a number"):
        check_parameter("x", False, rule)
    with pytest.raises(DlicError, match="must be at least 0"):
        check_parameter("x", -0.5, rule)


# -- validation against a notebook's parameters cell ----------------------------------------------
def test_parameters_cell_is_read_from_the_notebook():
    params = notebook_parameters("02")
    assert params["profile"] == "quick" and params["max_images"] is None and params["train_missing"] is True


@pytest.mark.parametrize("params, message", [
    ({"max_images": -1}, "parameter 'max_images': must be at least 1, got -1"),
    ({"max_images": 0}, "parameter 'max_images': must be at least 1, got 0"),
    ({"max_images": "many"}, "parameter 'max_images': must be an integer"),
    ({"train_missing": "yes please"}, "parameter 'train_missing': must be true or false"),
    ({"learned_qualities": "1,12"}, "parameter 'learned_qualities'"),
    ({"max_image": 3}, "unknown parameter 'max_image' for 02_objective_study; it takes: max_images"),
    ({"profile": "full"}, "chosen with --profile"),
])
def test_bad_parameters_are_refused_before_running(params, message):
    with pytest.raises(DlicError) as info:
        check_parameters("02", "smoke", params)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("notebook, params, message", [
    ("01", {"logistic": "3p"}, "parameter 'logistic': must be 5p or 4p"),
    ("06", {"kodak": 0}, "parameter 'kodak': must be at least 1"),
    ("04", {"ae_steps": -5}, "parameter 'ae_steps': must be at least 1"),
])
def test_other_chapters_parameters_are_checked_too(notebook, params, message):
    with pytest.raises(DlicError, match=message):
        check_parameters(notebook, "smoke", params)


def test_good_parameters_pass_unchanged():
    params = {"max_images": 2, "learned_qualities": "1,3", "learned_codecs": "BF-E", "train_missing": False}
    assert check_parameters("02", "smoke", params) == params
    assert check_parameters("01", "smoke", {"n_bootstrap": 50, "logistic": "4p"})["n_bootstrap"] == 50
    with pytest.raises(DlicError, match="parameter 'n_bootstrap'"):
        check_parameters("01", "smoke", {"n_bootstrap": 0})


def _dlic(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DLIC, *args], capture_output=True, text=True, env=dict(os.environ), timeout=120)


@pytest.mark.parametrize("key, value, needle", [
    ("max_images", "-1", "parameter 'max_images'"),
    ("max_images", "0", "parameter 'max_images'"),
    ("max_images", "[1, 2]", "parameter 'max_images'"),
    ("bogus", "1", "unknown parameter 'bogus'"),
])
def test_dlic_run_refuses_bad_parameters_with_one_line(tmp_path, key, value, needle):
    out = tmp_path / "out.ipynb"
    result = _dlic("run", "02", "--profile", "smoke", "-p", key, value, "-o", str(out))
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("dlic: error: ") and needle in lines[0], result.stderr
    assert not out.exists() and not list(tmp_path.iterdir())
