"""load_data: every SPEC layout, item keys, units, orientation, and each bad-input message."""
from __future__ import annotations

import json

import numpy as np
import pytest

from medgan.data import ITEM_KEYS, load_data, parse_options
from medgan.errors import ConfigError, DataError
from medgan_data_fixtures import pattern, write_dicom, write_nifti, write_png


def test_folder_png_items_keys_units_modes(png_folder):
    data = load_data(str(png_folder))
    assert data.class_names == ["cyst", "normal"]  # sorted sub-folders; labels.csv ignored
    assert len(data) == 6 and data.class_counts() == {"cyst": 3, "normal": 3}
    for it in data.items:
        assert set(ITEM_KEYS) <= set(it)
        assert it["image"].dtype == np.float32 and it["image"].ndim == 2
        assert it["units"] == "uint8" and it["format"] == "png"
        assert it["orig_size"] == it["image"].shape
    assert sorted({it["mode"] for it in data.items}) == ["L", "RGB", "RGBA"]
    assert sorted(data.patients) == sorted(f"{c}{i}" for c in ("cyst", "normal") for i in range(3))
    assert data.units == "uint8"


def test_rgba_and_rgb_become_the_grey_values(tmp_path):
    grey = pattern(12, 16, seed=3).astype(np.uint8)
    for mode, cls in (("RGBA", "a"), ("RGB", "b")):
        write_png(tmp_path / cls / "x.png", grey, mode)
    data = load_data(str(tmp_path))
    for it in data.items:
        np.testing.assert_allclose(it["image"], grey, atol=1)
    assert len(set(data.patients)) == 2  # same stem in two classes -> qualified by folder


def test_patients_csv_groups_slices(png_folder):
    (png_folder / "patients.csv").write_text("file,patient\ncyst/cyst0.png,P1\ncyst1.png,P1\nnormal2,P9\n")
    pats = dict(zip([it["source"].split("/")[-1] for it in load_data(str(png_folder)).items],
                    load_data(str(png_folder)).patients))
    assert pats["cyst0.png"] == pats["cyst1.png"] == "P1" and pats["normal2.png"] == "P9"
    assert pats["cyst2.png"] == "cyst2"


def test_16bit_png_scaled_unless_units_hu(tmp_path):
    arr = (np.arange(200, dtype=np.uint16).reshape(10, 20) * 300).astype(np.uint16)
    for cls in ("a", "b"):
        write_png(tmp_path / cls / "s.png", arr)
    scaled = load_data(str(tmp_path))
    assert scaled.units == "uint8" and scaled.items[0]["image"].max() <= 255.0
    np.testing.assert_allclose(scaled.items[0]["image"], arr / 257.0, rtol=1e-5)
    hu = load_data(str(tmp_path), units="HU")
    assert hu.units == "HU"
    np.testing.assert_array_equal(hu.items[0]["image"], arr.astype(np.float32))


def test_dicom_folder_hu_rescale_and_patient_id(tmp_path):
    stored = (np.arange(64, dtype=np.int16).reshape(8, 8) * 10).astype(np.int16)
    write_dicom(tmp_path / "lesion" / "s1.dcm", stored, slope=2.0, intercept=-1024.0, patient="PAT-7")
    write_dicom(tmp_path / "normal" / "series" / "IM0001", stored, slope=1.0, intercept=-1000.0, patient="PAT-8")
    data = load_data(str(tmp_path))
    assert data.units == "HU" and data.class_names == ["lesion", "normal"]
    by_pat = {it["patient"]: it for it in data.items}
    np.testing.assert_allclose(by_pat["PAT-7"]["image"], stored * 2.0 - 1024.0)
    np.testing.assert_allclose(by_pat["PAT-8"]["image"], stored - 1000.0)  # extension-less DICOM found
    assert by_pat["PAT-7"]["format"] == "dicom"


def _ras_volume():
    """A volume in RAS voxel order (x: R, y: A, z: S) with asymmetric content."""
    rng = np.random.default_rng(0)
    return rng.normal(0, 100, size=(6, 5, 4)).astype(np.float32)


def test_nifti_2d_orientation_follows_affine(tmp_path):
    plane = _ras_volume()[:, :, 0]
    write_nifti(tmp_path / "a" / "ras.nii.gz", plane, np.eye(4))
    lps = np.diag([-1.0, -1.0, 1.0, 1.0])  # stored flipped along x and y; the affine says so
    write_nifti(tmp_path / "b" / "lps.nii", plane[::-1, ::-1], lps)
    a, b = load_data(str(tmp_path)).items
    assert a["units"] == "HU" and a["format"] == "nifti" and a["image"].shape == (5, 6)
    np.testing.assert_allclose(a["image"], b["image"])
    # radiological display: row 0 is the most anterior y, column 0 the most right x
    np.testing.assert_allclose(a["image"][0, 0], plane[-1, -1])


def _csv_volumes(tmp_path, rows="path,slice,label,patient\n"):
    vol = _ras_volume()
    write_nifti(tmp_path / "v" / "ras.nii.gz", vol, np.eye(4))
    # same anatomy stored as (z, x, y) with z reversed: the affine maps voxel axes back to RAS
    stored = np.transpose(vol[:, :, ::-1], (2, 0, 1))
    aff = np.zeros((4, 4))
    aff[0, 1] = aff[1, 2] = 1.0
    aff[2, 0] = -1.0
    aff[2, 3] = vol.shape[2] - 1
    aff[3, 3] = 1.0
    write_nifti(tmp_path / "v" / "odd.nii.gz", stored, aff)
    csv_path = tmp_path / "slices.csv"
    csv_path.write_text(rows)
    return vol, csv_path


def test_csv_volumes_slices_ranges_and_reorientation(tmp_path):
    vol, csv_path = _csv_volumes(tmp_path, "path,slice,label,patient\nv/ras.nii.gz,1-2,cyst,p1\nv/odd.nii.gz,1,normal,p2\n")
    data = load_data(str(csv_path))
    assert len(data) == 3 and data.class_names == ["cyst", "normal"]
    assert [it["patient"] for it in data.items] == ["p1", "p1", "p2"]
    np.testing.assert_allclose(data.items[0]["image"], data.items[2]["image"])  # same slice, other storage
    np.testing.assert_allclose(data.items[1]["image"], np.flip(vol[:, :, 2].T, (0, 1)))


def test_csv_missing_columns_lists_expected_and_found(tmp_path):
    _, csv_path = _csv_volumes(tmp_path, "file_name,z,label\nv/ras.nii.gz,1,a\n")
    with pytest.raises(DataError, match=r"lacks column.*slice.*found \['file_name', 'z', 'label'\]"):
        load_data(str(csv_path))


def test_csv_slice_out_of_range_names_file(tmp_path):
    _, csv_path = _csv_volumes(tmp_path, "path,slice,label\nv/ras.nii.gz,0,a\nv/ras.nii.gz,3-9,b\n")
    with pytest.raises(DataError, match=r"slices.csv:3: slice 4 out of range for ras.nii.gz \(4 axial"):
        load_data(str(csv_path))


def _masked_volume(tmp_path, blob_at=(30, 12), empty_slice=None):
    """A 48 x 40 x 3 RAS volume and a mask with a 5 x 5 blob (displayed row, col ~ ``blob_at``) per slice."""
    from medgan.data.readers import axial_display

    rng = np.random.default_rng(3)
    vol = rng.normal(40, 20, (48, 40, 3)).astype(np.float32)
    mask = np.zeros_like(vol)
    r, c = blob_at
    for k in range(3):  # the blob is drawn in display space and mapped back to voxel [x, y]
        shown = np.zeros((40, 48), np.float32)
        if k != empty_slice:
            shown[r - 2:r + 3, c - 2:c + 3] = 1
        mask[:, :, k] = np.flip(shown, (0, 1)).T
        assert np.array_equal(axial_display(mask[:, :, k]), shown)
    write_nifti(tmp_path / "v" / "ct.nii.gz", vol)
    write_nifti(tmp_path / "v" / "ct_mask.nii.gz", mask)
    return vol


def test_csv_roi_crops_around_the_mask(tmp_path):
    from medgan.data.readers import axial_display

    vol = _masked_volume(tmp_path)
    (tmp_path / "s.csv").write_text("path,slice,label,mask\nv/ct.nii.gz,0-1,lesion,v/ct_mask.nii.gz\n"
                                    "v/ct.nii.gz,2,other,v/ct_mask.nii.gz\n")
    whole = load_data(str(tmp_path / "s.csv"))  # without roi the mask column is ignored
    assert whole.items[0]["image"].shape == (40, 48)
    data = load_data(str(tmp_path / "s.csv") + ":roi=16")
    assert [it["image"].shape for it in data.items] == [(16, 16)] * 3 and data.info["roi"] == 16
    np.testing.assert_allclose(data.items[1]["image"], axial_display(vol[:, :, 1])[22:38, 4:20])
    assert data.items[1]["orig_size"] == (40, 48)
    big = load_data(str(tmp_path / "s.csv"), roi=64)  # larger than the slice: padded with its minimum
    shown = axial_display(vol[:, :, 0])
    assert big.items[0]["image"].shape == (64, 64) and big.items[0]["image"].min() == shown.min()
    np.testing.assert_allclose(big.items[0]["image"][12:52, 8:56], shown)


def test_csv_roi_bad_input_messages(tmp_path):
    _masked_volume(tmp_path, empty_slice=2)
    csv_path = tmp_path / "s.csv"
    csv_path.write_text("path,slice,label\nv/ct.nii.gz,0,lesion\n")
    with pytest.raises(DataError, match="needs a mask column"):
        load_data(str(csv_path), roi=16)
    csv_path.write_text("path,slice,label,mask\nv/ct.nii.gz,0-1,lesion,v/ct_mask.nii.gz\nv/ct.nii.gz,2,b,v/ct_mask.nii.gz\n")
    with pytest.raises(DataError, match="mask is empty on slice 2"):
        load_data(str(csv_path), roi=16)
    write_nifti(tmp_path / "v" / "small_mask.nii.gz", np.ones((8, 8, 3), np.float32))
    csv_path.write_text("path,slice,label,mask\nv/ct.nii.gz,0,lesion,v/small_mask.nii.gz\n")
    with pytest.raises(DataError, match="mask small_mask.nii.gz has shape"):
        load_data(str(csv_path), roi=16)
    with pytest.raises(ConfigError, match="at least 8"):
        load_data(str(csv_path) + ":roi=4")
    with pytest.raises(ConfigError, match=r"unknown data option\(s\) \['bogus'\]"):
        load_data(str(csv_path) + ":bogus=1")


def _npz(tmp_path, **drop):
    rng = np.random.default_rng(1)
    arrays = {}
    for split, n in (("train", 6), ("val", 2), ("test", 3)):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % 3).reshape(n, 1)
    for key in drop:
        arrays.pop(key)
    path = tmp_path / "organamnist.npz"
    np.savez(path, **arrays)
    return path


def test_npz_medmnist_each_image_own_patient(tmp_path):
    data = load_data(str(_npz(tmp_path)))
    assert len(data) == 11 and data.class_names == ["0", "1", "2"]
    assert len(set(data.patients)) == 11 and "own patient" in data.info["patients"]
    assert data.units == "uint8" and data.items[0]["orig_size"] == (28, 28)
    assert len(load_data(str(_npz(tmp_path)), split="train|val")) == 8


def test_npz_missing_keys(tmp_path):
    with pytest.raises(DataError, match=r"missing keys \['val_labels'\]"):
        load_data(str(_npz(tmp_path, val_labels=1)))
    np.savez(tmp_path / "junk.npz", x=np.zeros(3))
    with pytest.raises(DataError, match="missing keys .*train_images.*found \\['x'\\]"):
        load_data(str(tmp_path / "junk.npz"))


def test_datalist_json_classes_and_patients(tmp_path):
    for i in range(4):
        write_png(tmp_path / "img" / f"{i}.png", pattern(10, 10, seed=i).astype(np.uint8))
    entries = [{"image": f"img/{i}.png", "label": ["normal", "cyst"][i % 2], "patient": f"p{i // 2}"} for i in range(4)]
    (tmp_path / "dl.json").write_text(json.dumps({"labels": ["normal", "cyst"], "training": entries}))
    data = load_data(str(tmp_path / "dl.json"))
    assert data.class_names == ["normal", "cyst"] and list(data.labels) == [0, 1, 0, 1]
    assert list(data.patients) == ["p0", "p0", "p1", "p1"]
    (tmp_path / "dl2.json").write_text(json.dumps({"training": [{k: v for k, v in e.items() if k != "patient"} for e in entries]}))
    d2 = load_data(str(tmp_path / "dl2.json"))
    assert d2.class_names == ["cyst", "normal"] and list(d2.patients) == ["0", "1", "2", "3"]


def test_datalist_missing_keys(tmp_path):
    write_png(tmp_path / "a.png", pattern(8, 8, 0).astype(np.uint8))
    (tmp_path / "bad.json").write_text(json.dumps({"training": [{"image": "a.png"}]}))
    with pytest.raises(DataError, match=r"entry 0 of 'training' lacks key\(s\) \['label'\]"):
        load_data(str(tmp_path / "bad.json"))
    (tmp_path / "nolist.json").write_text(json.dumps({"validation": []}))
    with pytest.raises(DataError, match="no 'training' list"):
        load_data(str(tmp_path / "nolist.json"))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: p / "nope", "no such file or folder"),
        (lambda p: p, r"no class sub-folders found \(empty\)"),
        (lambda p: (write_png(p / "only" / "a.png", np.zeros((4, 4), np.uint8)), p)[1], "only one class folder \\(only\\)"),
        (lambda p: (write_png(p / "a" / "a.png", np.zeros((4, 4), np.uint8)), (p / "b").mkdir(), p)[2],
         "class folder 'b' holds no images"),
        (lambda p: ((p / "a").mkdir(), (p / "a" / "bad.png").write_bytes(b"not a png"),
                    write_png(p / "b" / "ok.png", np.zeros((4, 4), np.uint8)), p)[3], r"bad.png: cannot read image"),
        (lambda p: (write_nifti(p / "a" / "nan.nii", np.full((4, 4), np.nan, np.float32)),
                    write_nifti(p / "b" / "ok.nii", np.zeros((4, 4), np.float32)), p)[2], "nan.nii: image contains NaN"),
        (lambda p: (write_nifti(p / "a" / "x.nii", np.zeros((4, 4), np.float32)),
                    write_png(p / "b" / "y.png", np.zeros((4, 4), np.uint8)), p)[2], "mixes 8-bit images and HU"),
        (lambda p: ((p / "x.txt").write_text("x"), p / "x.txt")[1], "unsupported data file type"),
    ],
    ids=["missing", "empty", "one-class", "empty-class", "corrupt", "nan", "mixed-units", "bad-type"],
)
def test_bad_input_raises_one_data_error(tmp_path, make, match):
    spec = make(tmp_path)
    with pytest.raises(DataError, match=match) as info:
        load_data(str(spec))
    assert info.value.hint  # every error says how to fix it


def test_phantom_spec_options_are_parsed():
    assert parse_options("n_per_class=3,seed=1,include_normal=true,classes=cyst|metastasis") == {
        "n_per_class": 3, "seed": 1, "include_normal": True, "classes": ("cyst", "metastasis")}
    data = load_data("phantom:n_per_class=2,seed=1,size=32,classes=cyst|metastasis")
    assert data.class_names == ["cyst", "metastasis"] and len(data) == 4
    assert data.units == "HU" and data.items[0]["image"].shape == (32, 32)
    with pytest.raises(ConfigError):
        load_data("phantom:bogus")
    with pytest.raises(ConfigError, match="bad phantom option"):
        load_data("phantom:colour=3")
