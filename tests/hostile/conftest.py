"""The hostile-input suite uses the shared helpers one folder up."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
