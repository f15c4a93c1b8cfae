"""``load_data(spec)``: one entry point for every data layout medgan reads.

SPEC is one of
- ``phantom`` or ``phantom:n_per_class=30,seed=1,include_normal=true`` (the built-in CT phantom),
- a folder with one sub-folder per class (PNG/JPEG/TIFF, DICOM, 2-D NIfTI),
- a ``.csv`` pointing into 3-D NIfTI volumes (columns path, slice, label, patient),
- a MedMNIST ``.npz`` (``train_images``/``train_labels``, ``val_*``, ``test_*``),
- a MONAI datalist ``.json`` (``monai.data.load_decathlon_datalist`` layout).
"""
from __future__ import annotations

import csv
import inspect
import re
from collections import Counter
from pathlib import Path
from typing import Any

from medgan.data import tabular
from medgan.data.phantom import make_phantom
from medgan.data.readers import image_kind, image_stem, read_image
from medgan.data.types import LoadedData, finalize
from medgan.errors import ConfigError, DataError

__all__ = ["load_data", "load_folder", "load_phantom", "parse_options", "split_spec_options", "with_patient_regex", "finalize"]


def load_data(spec: str, **options: Any) -> LoadedData:
    """Load labelled 2-D slices from ``spec`` (see module docstring) into a :class:`LoadedData`.

    Args:
        spec: "phantom[:k=v,...]", a class-per-sub-folder directory, a ``.csv``, ``.npz`` or ``.json``.
        options: loader options, e.g. ``units="HU"`` (16-bit PNG/TIFF hold HU), ``split="train"``
            (npz / datalist key), or phantom keyword arguments (``n_per_class``, ``seed`` ...).

    Raises:
        DataError: the data are missing, malformed, corrupt or unusable (message names the file + fix).
    """
    spec = str(spec).strip()
    if spec == "phantom" or spec.startswith("phantom:"):
        opts = parse_options(spec.partition(":")[2])
        opts.update(options)
        return load_phantom(spec, **opts)
    path = Path(spec).expanduser()
    if not path.exists():
        base, opt_text = split_spec_options(spec)
        if base is not None:
            options = {**parse_options(opt_text), **options}  # "slices.csv:roi=64": loader options in the spec
            spec, path = base, Path(base).expanduser()
    if not path.exists():
        raise DataError(f"{spec}: no such file or folder",
                        "pass 'phantom', a folder with one sub-folder per class, or a .csv/.npz/.json file")
    name = path.name.lower()
    loader = (load_folder if path.is_dir() else tabular.load_csv_volumes if name.endswith(".csv") else
              tabular.load_npz if name.endswith(".npz") else tabular.load_datalist if name.endswith(".json") else None)
    if loader is not None:
        known = [k for k in inspect.signature(loader).parameters if k not in ("path", "root", "_")]
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ConfigError(f"{spec}: unknown data option(s) {unknown} for this kind of data",
                              f"options here: {known or 'none'}")
        return loader(path, **options)
    raise DataError(f"{spec}: unsupported data file type",
                    "use a folder, a .csv (NIfTI volumes), a MedMNIST .npz or a MONAI datalist .json")


def split_spec_options(spec: str) -> tuple[str | None, str]:
    """``"DIR:k=v,..."`` -> ``("DIR", "k=v,...")`` at the colon after the longest existing path (so a
    colon inside an option value, e.g. a regular expression, stays in the options); ``(None, "")`` if none."""
    cuts = [i for i, ch in enumerate(spec) if ch == ":" and i > 0 and "=" in spec[i + 1:]]
    for i in reversed(cuts):
        try:
            if Path(spec[:i]).expanduser().exists():
                return spec[:i], spec[i + 1:]
        except OSError:  # e.g. a name too long to be a path
            continue
    return None, ""


def with_patient_regex(spec: str, regex: str) -> str:
    """``spec`` with the loader option ``patient_regex=regex`` appended (last: its value is verbatim).

    Raises:
        ConfigError: the spec already carries a ``patient_regex``.
    """
    spec = str(spec).strip()
    base, opt_text = split_spec_options(spec)
    if base is not None and "patient_regex" in parse_options(opt_text):
        raise ConfigError(f"{spec}: patient_regex given twice (in the data spec and as --patient-regex)",
                          "keep one of them")
    return f"{spec},patient_regex={regex}" if base is not None else f"{spec}:patient_regex={regex}"


def parse_options(text: str) -> dict[str, Any]:
    """``"n_per_class=30,seed=1,include_normal=true,classes=cyst|metastasis"`` -> typed kwargs.

    A value of one of ``VERBATIM_OPTIONS`` (``patient_regex``) runs to the end of the text and is kept
    as written (commas, ``|`` and colons included), so write it last.
    """
    text, verbatim = _split_verbatim(text)
    out: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"bad data option {part!r}", "write options as key=value, e.g. phantom:n_per_class=30,seed=1")
        out[key.strip()] = _parse_value(value.strip())
    out.update(verbatim)
    return out


#: Loader options whose value is taken verbatim up to the end of the option text.
VERBATIM_OPTIONS = ("patient_regex",)


def _split_verbatim(text: str) -> tuple[str, dict[str, str]]:
    match = re.search(r"(?:^|,)\s*(" + "|".join(VERBATIM_OPTIONS) + r")\s*=", text)
    if match is None:
        return text, {}
    return text[:match.start()], {match.group(1): text[match.end():]}


def _parse_value(value: str) -> Any:
    low = value.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if "|" in value:
        return tuple(v for v in value.split("|") if v)
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def load_phantom(spec: str = "phantom", **options: Any) -> LoadedData:
    """The built-in CT phantom (``medgan.data.phantom.make_phantom``) with keyword options."""
    try:
        data = make_phantom(**options)
    except TypeError as exc:
        raise ConfigError(f"bad phantom option: {exc}",
                          "phantom options: n_per_class, seed, classes, include_normal, size, slices_per_patient, roi") from None
    data.spec = spec
    return finalize(data.items, data.class_names, spec, dict(data.info))


def load_folder(root: Path, units: str | None = None, patient_regex: str | None = None) -> LoadedData:
    """A folder with one sub-folder per class; files below each class folder (recursively) are slices.

    Patient ids: with ``patient_regex``, the first capture group of ``re.search(patient_regex, name)``
    where ``name`` is the file's path below its class folder (e.g. ``^(.+?)-p\\d+`` groups
    ``2020.01.24.919183-p27-132.png`` under ``2020.01.24.919183``; a file that does not match is a
    :class:`DataError`). Without it: DICOM PatientID, else a ``patients.csv`` (file,patient) in ``root``,
    else the file stem without its image extension (one slice per person). Other files in ``root``
    (e.g. ``labels.csv``) are ignored.
    """
    root = Path(root)
    class_dirs = _class_dirs(root)
    pattern = compile_patient_regex(patient_regex) if patient_regex is not None else None
    patients_map = (_read_patients_csv(root / "patients.csv")
                    if pattern is None and (root / "patients.csv").is_file() else {})
    items: list[dict[str, Any]] = []
    skipped = 0
    stem_items: list[tuple[dict[str, Any], str, str]] = []
    for label, cdir in enumerate(class_dirs):
        files = sorted(p for p in cdir.rglob("*") if p.is_file())
        images = [p for p in files if image_kind(p)]
        skipped += len(files) - len(images)
        if not images:
            raise DataError(f"{cdir}: class folder '{cdir.name}' holds no images",
                            "add PNG/JPEG/TIFF/DICOM/NIfTI files to it or remove the folder")
        for path in images:
            image, meta = read_image(path, units)
            rel = path.relative_to(root).as_posix()
            dicom_id = meta.pop("patient", None)
            patient = (regex_patient(pattern, path, cdir, images) if pattern is not None
                       else dicom_id or _lookup_patient(patients_map, path, rel))
            items.append({"image": image, "label": label, "patient": str(patient or ""), "source": str(path),
                          "orig_size": tuple(int(s) for s in image.shape), **meta})
            if not patient:
                stem = image_stem(path.name)
                stem_items.append((items[-1], stem, (path.relative_to(root).parent / stem).as_posix()))
    stems = Counter(stem for _, stem, _ in stem_items)
    for item, stem, rel_stem in stem_items:  # one slice per person: the file stem, unless it repeats
        item["patient"] = stem if stems[stem] == 1 else rel_stem
    source = ("patient_regex " + str(patient_regex) if pattern is not None
              else "patients.csv" if patients_map else "DICOM PatientID or file stem")
    info = {"loader": "folder", "root": str(root), "skipped_files": skipped, "patients_from": source}
    return finalize(items, [d.name for d in class_dirs], str(root), info)


def _class_dirs(root: Path) -> list[Path]:
    """The class sub-folders of ``root`` (sorted; at least two), else a DataError saying what is there."""
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        files = [p for p in root.iterdir() if p.is_file() and image_kind(p)]
        hint = ("put the images in one sub-folder per class, e.g. root/normal/*.png and root/lesion/*.png"
                if files else "put images in one sub-folder per class")
        raise DataError(f"{root}: no class sub-folders found" + (" (images lie directly in it)" if files else " (empty)"), hint)
    if len(class_dirs) < 2:
        raise DataError(f"{root}: only one class folder ({class_dirs[0].name}); need at least two classes",
                        "add a sub-folder per class (e.g. normal/ and lesion/)")
    return class_dirs


def compile_patient_regex(text: str) -> re.Pattern[str]:
    """Compile a ``patient_regex`` loader option; ConfigError unless it is valid and has a capture group."""
    try:
        pattern = re.compile(str(text))
    except re.error as exc:
        raise ConfigError(f"patient_regex {text!r} is not a valid regular expression ({exc})",
                          "e.g. patient_regex=^(.+?)-p\\d+ (the first (...) group is the patient id)") from None
    if pattern.groups < 1:
        raise ConfigError(f"patient_regex {text!r} has no capture group",
                          "put the part of the file name that names the patient in parentheses, e.g. ^(.+?)-p\\d+")
    return pattern


def regex_patient(pattern: re.Pattern[str], path: Path, class_dir: Path, images: list[Path]) -> str:
    """The first capture group of ``pattern`` searched in ``path`` below ``class_dir``; DataError if none."""
    name = path.relative_to(class_dir).as_posix()
    match = pattern.search(name)
    if match is None or not match.group(1):
        misses = sum(1 for p in images if not _group1(pattern, p.relative_to(class_dir).as_posix()))
        what = "does not match" if match is None else "matches with an empty first group:"
        raise DataError(
            f"{path}: file name {name!r} {what} patient_regex {pattern.pattern!r} "
            f"({misses} of {len(images)} files in {class_dir.name}/ do not give a patient id)",
            "change the expression so that its first (...) group captures the patient part of every file name "
            "(it is searched in the path below the class folder), or use a patients.csv (file,patient)")
    return match.group(1)


def _group1(pattern: re.Pattern[str], name: str) -> str:
    match = pattern.search(name)
    return (match.group(1) or "") if match else ""


def _read_patients_csv(path: Path) -> dict[str, str]:
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        fields = [f.strip() for f in (reader.fieldnames or [])]
        if "file" not in fields or "patient" not in fields:
            raise DataError(f"{path}: expected columns file,patient; found {','.join(fields) or 'none'}",
                            "write a header line 'file,patient' or delete patients.csv")
        return {row["file"].strip(): row["patient"].strip() for row in reader if row.get("file")}


def _lookup_patient(mapping: dict[str, str], path: Path, rel: str) -> str | None:
    for key in (rel, rel[: len(rel) - len(path.name)] + image_stem(path.name), path.name, image_stem(path.name)):
        if key in mapping:
            return mapping[key]
    return None
