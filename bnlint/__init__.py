"""bnlint: a linter for BatchNormalization usage in Keras / TensorFlow model code."""

__version__ = "0.1.0"
