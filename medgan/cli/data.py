"""``medgan data``: summarise a dataset and optionally write a preview grid."""
from __future__ import annotations

import argparse
import json

from medgan.benchmark.protocol import positive_choice
from medgan.data import load_data
from medgan.data.summary import format_summary, summarize, write_preview
from medgan.data.windows import IntensityWindow
from medgan.utils.config import check_range
from medgan.utils.paths import ensure_output_file


def register(subparsers) -> None:
    """Add the ``data`` subcommand."""
    p = subparsers.add_parser(
        "data",
        help="summarise a dataset (items, classes, patients, sizes, intensities); --preview writes a grid",
        description="Load a dataset SPEC and print a summary. SPEC: 'phantom[:n_per_class=30,seed=1]', a folder "
        "with one sub-folder per class, a .csv into 3-D NIfTI volumes, a MedMNIST .npz or a MONAI datalist .json.",
    )
    p.add_argument("--data", required=True, metavar="SPEC", help="dataset spec (default data: 'phantom')")
    p.add_argument("--preview", metavar="PNG", help="write a grid of examples per class to this PNG")
    p.add_argument("--per-class", type=int, default=8, help="examples per class in the preview (default 8)")
    p.add_argument("--window", metavar="PRESET|L,W", help="intensity window for the preview (HU data), e.g. brain or 40,80")
    p.add_argument("--units", choices=("HU",), help="declare 16-bit PNG/TIFF values to be Hounsfield units")
    p.add_argument("--patient-regex", metavar="REGEX",
                   help="folder data: patient id = first (...) group of REGEX searched in each file's path below its "
                   "class folder, e.g. '^(.+?)-p\\d+' (see docs/data.md)")
    p.add_argument("--positive-class", metavar="NAME",
                   help="show the binary benchmark's positive class as chosen with this option (default: the class "
                   "not named like a negative, e.g. covid beside noncovid)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load, summarise, preview."""
    check_range("--per-class", args.per_class, 1, example="8")
    if args.preview:
        ensure_output_file(args.preview, "--preview")
    options = {"units": args.units} if args.units else {}
    if args.patient_regex is not None:
        options["patient_regex"] = args.patient_regex
    data = load_data(args.data, **options)
    window = IntensityWindow.resolve(args.window, data.units)  # validates --window early
    summary = summarize(data)
    positive, reason = positive_choice(list(data.class_names), args.positive_class)
    if positive is not None:
        summary["positive_class"] = {"name": data.class_names[positive], "reason": reason}
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    if args.preview:
        out = write_preview(data, args.preview, per_class=args.per_class, window=window)
        print(f"preview:     {out} (window {window.name})")
    return 0
