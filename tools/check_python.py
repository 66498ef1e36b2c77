"""Exit non-zero, saying why, unless this interpreter satisfies pyproject.toml's requires-python.

The Makefile runs it with the interpreter it is about to build the venv from. Written for any
Python 3, so an old one gets this message rather than a traceback.
"""

import operator
import re
import sys
from pathlib import Path

COMPARE = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq}


def release(version):  # no annotations: this runs on any Python 3
    return tuple(int(part) for part in (version.split(".") + ["0", "0"])[:3])


def main():
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    found = re.search(r'^requires-python\s*=\s*"([^"]+)"', pyproject, flags=re.MULTILINE)
    if not found:
        sys.exit("pyproject.toml names no requires-python")
    spec = found.group(1)
    clauses = [re.fullmatch(r"\s*(>=|<=|>|<|==)\s*([0-9.]+)\s*", clause) for clause in spec.split(",")]
    if not all(clauses):
        sys.exit(f"tools/check_python.py reads only X.Y[.Z] bounds, not requires-python {spec!r}")
    have = sys.version_info[:3]
    if not all(COMPARE[m.group(1)](have, release(m.group(2))) for m in clauses if m):
        sys.exit(
            f"{sys.executable} is Python {'.'.join(map(str, have))}; CrampTrack needs Python {spec} "
            "(pyproject.toml). Install it, or point make at it: make PYTHON=/path/to/python3.11"
        )


if __name__ == "__main__":
    main()
