"""Run notebooks top to bottom and save their outputs in place, so the docs show real results.

Cells marked `#| eval: false` (nbdev's flag, e.g. a script's `__main__` guard) are skipped, as nbdev_test does.
    .venv/bin/python .ci/execute_notebooks.py nbs/*.ipynb
"""
import sys

import nbformat
from nbclient import NotebookClient


def main(paths):
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        skipped = {}
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code" and "#| eval: false" in cell.source:
                skipped[i] = cell.source
                cell.source = "# (not run here: #| eval: false)"
        NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": "nbs"}}).execute()
        for i, source in skipped.items():
            nb.cells[i].source, nb.cells[i].outputs, nb.cells[i].execution_count = source, [], None
        nbformat.write(nb, path)
        print("executed", path)


if __name__ == "__main__":
    main(sys.argv[1:])
