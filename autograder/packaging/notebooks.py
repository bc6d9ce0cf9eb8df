"""Jupyter notebooks (nbformat 4.5) as plain JSON: cells, metadata, and cell ids.

Written by hand rather than through ``nbformat`` so that packaging needs no
Jupyter install; the tests validate what this writes with ``nbformat`` itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

KERNEL = {"display_name": "Python 3", "language": "python", "name": "python3"}


def _source_lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    if lines and lines[-1].endswith("\n"):
        lines[-1] = lines[-1][:-1]
    return lines


def _cell_id(kind: str, text: str, index: int) -> str:
    return hashlib.sha1(f"{index}:{kind}:{text}".encode()).hexdigest()[:12]


def code_cell(source: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"cell_type": "code", "execution_count": None, "metadata": metadata or {},
            "outputs": [], "source": source}


def markdown_cell(source: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": metadata or {}, "source": source}


def raw_cell(source: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"cell_type": "raw", "metadata": metadata or {}, "source": source}


def notebook(cells: list[dict[str, Any]], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """A notebook of ``cells``; sources are split into lines and every cell gets a stable id."""
    out = []
    for i, cell in enumerate(cells):
        cell = dict(cell)
        text = cell["source"]
        cell["id"] = _cell_id(cell["cell_type"], text, i)
        cell["source"] = _source_lines(text)
        out.append(cell)
    return {
        "cells": out,
        "metadata": {"kernelspec": KERNEL,
                     "language_info": {"name": "python", "version": "3.11"},
                     **(metadata or {})},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def write_notebook(path: Path, nb: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def percent_cells(script: str) -> list[dict[str, Any]]:
    """Cells of a percent-format script: ``# %%`` starts code, ``# %% [markdown]`` Markdown."""
    cells = []
    for chunk in re.split(r"^# %%", script, flags=re.M)[1:]:
        header, _, body = chunk.partition("\n")
        body = body.strip("\n")
        if "[markdown]" in header:
            text = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#")
                             for line in body.splitlines())
            cells.append(markdown_cell(text))
        elif body:
            cells.append(code_cell(body))
    return cells
