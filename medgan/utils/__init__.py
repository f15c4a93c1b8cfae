"""Small shared utilities (atomic file writes, hashing, seeding)."""
from medgan.utils.atomic import atomic_path, atomic_save_json, atomic_torch_save, atomic_write_bytes, atomic_write_text
from medgan.utils.hashing import fingerprint_array, fingerprint_tensors, sha256_file

__all__ = [
    "atomic_path",
    "atomic_save_json",
    "atomic_torch_save",
    "atomic_write_bytes",
    "atomic_write_text",
    "fingerprint_array",
    "fingerprint_tensors",
    "sha256_file",
]
