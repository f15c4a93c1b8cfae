"""medgan.data: loaders (folder, CSV->NIfTI, MedMNIST npz, MONAI datalist, phantom), tensors, splits.

Quick use::

    from medgan.data import load_data, prepare_tensors, grouped_kfold
    data = load_data("phantom:n_per_class=30,seed=1")
    prepared = prepare_tensors(data, image_size=64, window="abdomen")
    folds = grouped_kfold(data.labels, data.patients, n_splits=3, seed=0)
"""
from medgan.data.loaders import load_data, parse_options
from medgan.data.prepare import prepare_tensors
from medgan.data.splits import check_no_straddle, grouped_kfold, grouped_split
from medgan.data.types import ITEM_KEYS, LoadedData, PreparedData

__all__ = [
    "ITEM_KEYS",
    "LoadedData",
    "PreparedData",
    "check_no_straddle",
    "grouped_kfold",
    "grouped_split",
    "load_data",
    "parse_options",
    "prepare_tensors",
]
