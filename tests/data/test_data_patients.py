"""Patient ids of folder data: whole file stems (never cut at a dot), patient_regex, patients.csv."""
from __future__ import annotations

import json

import numpy as np
import pytest

from medgan.data import load_data, parse_options
from medgan.data.readers import image_stem
from medgan.errors import ConfigError, DataError
from medgan_data_fixtures import pattern, write_nifti, write_png

#: COVID-CT-like names: medRxiv id (dotted) - page - figure; several slices per source paper.
COVID_LIKE = {
    "covid": ["2020.01.24.919183-p27-132.png", "2020.01.24.919183-p27-133.png", "2020.01.24.919183-p28-134.png",
              "2020.02.10.20021584-p6-52.png", "2020.02.10.20021584-p6-53.png", "2020.03.01.20029397-p4-10.png"],
    "noncovid": ["2020.01.24.919183-p30-1.png", "1.CT.jpg.png", "2.CT.jpg.png", "10.1016.j.x-p2-5.png"],
}


@pytest.fixture
def covid_like(tmp_path):
    root = tmp_path / "covid_ct"
    for c, (cls, names) in enumerate(COVID_LIKE.items()):
        for i, name in enumerate(names):
            write_png(root / cls / name, pattern(12, 12, seed=10 * c + i).astype(np.uint8))
    return root


def _patients_by_name(data) -> dict[str, str]:
    return {it["source"].rsplit("/", 1)[-1]: it["patient"] for it in data.items}


@pytest.mark.parametrize("name, stem", [
    ("2020.01.24.919183-p27-132.png", "2020.01.24.919183-p27-132"),
    ("ct.nii.gz", "ct"), ("case.001.nii.gz", "case.001"), ("a.b.NII", "a.b"), ("x.y.dcm", "x.y"),
    ("scan.v2.TIFF", "scan.v2"), ("s.tif", "s"), ("p.1.jpeg", "p.1"), ("p.1.jpg", "p.1"),
    ("IM0001", "IM0001"), ("1.CT.jpg.png", "1.CT.jpg"), (".png", ".png"),
])
def test_image_stem_strips_only_the_image_extension(name, stem):
    assert image_stem(name) == stem


def test_dotted_stems_are_not_cut_at_the_first_dot(covid_like):
    pats = _patients_by_name(load_data(str(covid_like)))
    assert pats["2020.01.24.919183-p27-132.png"] == "2020.01.24.919183-p27-132"
    assert len(set(pats.values())) == sum(len(v) for v in COVID_LIKE.values())  # one slice per person


def test_patient_regex_groups_the_slices_of_one_source(covid_like):
    regex = r"^(.+?)(?:-p\d+-\d+)?\.png$"  # a source id before -p<page>-<figure>, else the whole stem
    data = load_data(f"{covid_like}:patient_regex={regex}")
    pats = _patients_by_name(data)
    assert pats["2020.01.24.919183-p27-132.png"] == pats["2020.01.24.919183-p28-134.png"] == "2020.01.24.919183"
    assert pats["2020.02.10.20021584-p6-53.png"] == "2020.02.10.20021584"
    assert pats["2020.01.24.919183-p30-1.png"] == "2020.01.24.919183"  # the same source in the other class
    assert pats["1.CT.jpg.png"] == "1.CT.jpg" and pats["10.1016.j.x-p2-5.png"] == "10.1016.j.x"
    assert len(set(data.patients)) == 6 and data.info["patients_from"] == f"patient_regex {regex}"
    assert data.spec == str(covid_like)


def test_patient_regex_file_that_does_not_match_names_it(covid_like):
    with pytest.raises(DataError, match=r"1\.CT\.jpg\.png.*does not match patient_regex") as info:
        load_data(str(covid_like), patient_regex=r"^(.+?)-p\d+")
    assert "noncovid/" in str(info.value) and info.value.hint


@pytest.mark.parametrize("regex, match", [("^(.+?", "not a valid regular expression"),
                                          (r"^.+?-p\d+", "has no capture group")])
def test_bad_patient_regex_is_a_config_error(covid_like, regex, match):
    with pytest.raises(ConfigError, match=match) as info:
        load_data(str(covid_like), patient_regex=regex)
    assert info.value.hint


def test_patient_regex_value_is_kept_verbatim_and_last():
    assert parse_options(r"units=HU,patient_regex=^(\d{1,3}|x):y") == {"units": "HU", "patient_regex": r"^(\d{1,3}|x):y"}
    assert parse_options("patient_regex=(a),b") == {"patient_regex": "(a),b"}


def test_patient_regex_with_colon_and_comma_in_spec(tmp_path):
    for cls in ("a", "b"):
        for i in range(2):
            write_png(tmp_path / cls / f"pt{cls}:{i},s{i}.png", pattern(8, 8, seed=i).astype(np.uint8))
    data = load_data(f"{tmp_path}:patient_regex=^(pt\\w):\\d,")
    assert sorted(set(data.patients)) == ["pta", "ptb"]


def test_patient_regex_searches_the_path_below_the_class_folder(tmp_path):
    for cls in ("a", "b"):
        for pid in ("p1", "p2"):
            for k in range(2):
                write_png(tmp_path / cls / pid / f"slice.{k}.png", pattern(8, 8, seed=k).astype(np.uint8))
    data = load_data(str(tmp_path), patient_regex="^([^/]+)/")
    assert sorted(set(data.patients)) == ["p1", "p2"] and len(data) == 8


def test_patients_csv_matches_a_dotted_stem(covid_like):
    (covid_like / "patients.csv").write_text("file,patient\n2020.01.24.919183-p27-132,P1\n"
                                             "covid/2020.01.24.919183-p27-133,P1\n")
    pats = _patients_by_name(load_data(str(covid_like)))
    assert pats["2020.01.24.919183-p27-132.png"] == pats["2020.01.24.919183-p27-133.png"] == "P1"
    assert pats["2020.01.24.919183-p28-134.png"] == "2020.01.24.919183-p28-134"


def test_datalist_patient_falls_back_to_the_whole_stem(tmp_path):
    entries = []
    for i, label in enumerate(["a", "b", "a", "b"]):
        write_nifti(tmp_path / f"case.{i}.nii.gz", np.full((4, 4), float(i), np.float32))
        entries.append({"image": f"case.{i}.nii.gz", "label": label})
    (tmp_path / "list.json").write_text(json.dumps({"training": entries}))
    assert sorted(load_data(str(tmp_path / "list.json")).patients) == [f"case.{i}" for i in range(4)]


def _covid_grouped(root):
    """covid/: 8 slices of one source + 2 singles (80 % one patient under patient_regex ^([^.]+)); noncovid/: 4."""
    names = {"covid": [f"2020.01.24.919183-p27-{k}.png" for k in range(8)] + ["PIIS1-1.png", "PIIS2-1.png"],
             "noncovid": [f"{k}.CT.jpg.png" for k in range(4)]}
    for c, (cls, files) in enumerate(names.items()):
        for i, name in enumerate(files):
            write_png(root / cls / name, pattern(8, 8, seed=10 * c + i).astype(np.uint8))
    return root


def test_data_cli_shows_the_patient_groups_and_warns(tmp_path, capsys):
    from medgan.cli import main

    root = _covid_grouped(tmp_path / "covid_ct")
    assert main(["data", "--data", str(root), "--patient-regex", "^([^.]+)"]) == 0
    text = capsys.readouterr().out
    assert "patients:    from patient_regex ^([^.]+)" in text
    assert "covid                largest patients: 2020 8 (80 %), PIIS1-1 1 (10 %)" in text
    assert "warning:     one patient holds 80 % of class covid (2020: 8 of 10 images, 3 patients" in text
    assert "noncovid" in text and "largest patients: 0.CT" not in text  # one image per patient: no group line
    assert "positive:    covid (the other class, noncovid, is named like a negative class; choose with " \
           "--positive-class)" in text


def test_data_cli_without_the_regex_has_no_warning(tmp_path, capsys):
    from medgan.cli import main

    root = _covid_grouped(tmp_path / "covid_ct")
    assert main(["data", "--data", str(root), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["classes"]["covid"] == {"items": 10, "patients": 10}  # whole stems: one slice per person
    groups = summary["patient_groups"]
    assert groups["covid"]["warning"] is None and groups["covid"]["largest"][0]["items"] == 1
    assert summary["positive_class"]["name"] == "covid"


@pytest.mark.parametrize("classes, positive, says", [
    (("a", "b"), None, "b, the second class: the names cannot tell which class is positive (neither looks "
                       "negative, e.g. 'normal' or 'noncovid'); choose with --positive-class a or --positive-class b"),
    (("healthy", "normal"), None, "both look negative"),
    (("a", "b"), "a", "positive:    a (chosen with --positive-class)"),
])
def test_data_cli_says_which_class_is_positive(tmp_path, capsys, classes, positive, says):
    from medgan.cli import main

    for cls in classes:
        write_png(tmp_path / cls / "x.png", pattern(8, 8, seed=1).astype(np.uint8))
    assert main(["data", "--data", str(tmp_path)] + (["--positive-class", positive] if positive else [])) == 0
    assert says in capsys.readouterr().out


def test_data_cli_bad_regex_and_bad_positive_exit_2(tmp_path, capsys):
    from medgan.cli import main

    root = _covid_grouped(tmp_path / "covid_ct")
    assert main(["data", "--data", str(root), "--patient-regex", "^(.+?"]) == 2
    assert "not a valid regular expression" in capsys.readouterr().err
    assert main(["data", "--data", str(root), "--positive-class", "zzz"]) == 2
    assert "positive class 'zzz' is not one of" in capsys.readouterr().err


@pytest.mark.parametrize("sizes, warns", [
    ([2, 2, 2, 2, 2], False),   # 5 equal patients hold 20 % each: nothing stands out
    ([9, 1], True),             # one patient holds 90 %
    ([6, 2, 2], True),          # 60 %, three times the next
    ([4, 3, 3], False),         # 40 %, neither twice an even share nor twice the next
    ([30] + [1] * 6, True),     # the COVID-like case: 83 %
    ([3], True),                # the class's only patient
    ([1] * 10, False),          # one slice per person
])
def test_patient_group_warning_table(sizes, warns):
    from medgan.data.summary import patient_groups
    from medgan.data.types import LoadedData

    items = [{"label": 0, "patient": f"p{i}"} for i, n in enumerate(sizes) for _ in range(n)]
    items += [{"label": 1, "patient": f"q{i}"} for i in range(10)]
    groups = patient_groups(LoadedData(items, ["lesion", "normal"]))
    assert (groups["lesion"]["warning"] is not None) == warns and groups["normal"]["warning"] is None
    assert groups["lesion"]["largest"][0] == {"patient": "p0", "items": sizes[0], "share": sizes[0] / sum(sizes)}
