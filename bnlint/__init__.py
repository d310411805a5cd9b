"""bnlint: a linter for BatchNormalization usage in Keras / TensorFlow model code."""
from pathlib import Path as _Path

__version__ = "0.1.0"

# The rule modules live in the top-level ``rules/`` folder, which installation maps
# to ``bnlint.rules``. In a source checkout that is not installed, the same import
# must work too (``python -m bnlint`` from the repository root).
_checkout = _Path(__file__).resolve().parent.parent
if not (_Path(__file__).parent / "rules").is_dir() and (_checkout / "rules" / "__init__.py").is_file():
    __path__.append(str(_checkout))
