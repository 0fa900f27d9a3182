"""The step checks run through `workshop check N` (pytest on this folder), in the VM or
anywhere with --hosts. Put tests/ on sys.path so `from settings import S` works even
when pytest does not find the project's pyproject.toml."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
