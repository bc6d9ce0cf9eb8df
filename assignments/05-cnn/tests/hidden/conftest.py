"""Reference results of assignment 05's hidden graders.

pytest loads this conftest for tests/hidden/ only, and it never ships to students:
its references re-implement, with plain Python loops, functions that students must
write (``im2col``, ``box_iou``, ``generate_anchors``, ``nms``, ``assign_rpn_labels``,
``roi_pool``),
so they must stay out of the public material.

Its ``oracle`` fixture extends the public one of ``tests/conftest.py`` (torch's
convolutions and pooling, the part B networks, the digits, box coding, IoU by
counting pixels, all reached through it) with these brute-force references, written
from the handout's conventions (independent of our reference solution).

Boxes are (x1, y1, x2, y2) float arrays (K, 4) with area (x2 - x1) * (y2 - y1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograder.testing import ExtendedOracle


class Oracle(ExtendedOracle):
    """The public oracle (``tests/conftest.py``) plus brute-force references for the hidden
    tests (numpy arrays / lists). Attributes it lacks come from the public oracle."""

    # ------------------------------------------------------------------ part A
    def im2col(self, x, HH, WW, stride=1, pad=0) -> np.ndarray:
        """(C*HH*WW, N*H'*W') with cols[(c*HH+p)*WW+q, (n*H'+i)*W'+j] = xp[n, c, i*s+p, j*s+q], by loops."""
        N, C, H, W = x.shape
        xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
        xp[:, :, pad:pad + H, pad:pad + W] = x
        Ho, Wo = self.output_size(H, HH, stride, pad), self.output_size(W, WW, stride, pad)
        cols = np.zeros((C * HH * WW, N * Ho * Wo))
        for n in range(N):
            for i in range(Ho):
                for j in range(Wo):
                    patch = xp[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    cols[:, (n * Ho + i) * Wo + j] = patch.reshape(-1)
        return cols

    # ------------------------------------------------------------------ part C (brute force)
    @staticmethod
    def iou(boxes1, boxes2) -> np.ndarray:
        """IoU matrix by two loops; area = (x2 - x1) * (y2 - y1)."""
        out = np.zeros((len(boxes1), len(boxes2)))
        for i, (a0, a1, a2, a3) in enumerate(np.asarray(boxes1, dtype=float).tolist()):
            for j, (b0, b1, b2, b3) in enumerate(np.asarray(boxes2, dtype=float).tolist()):
                iw = max(0.0, min(a2, b2) - max(a0, b0))
                ih = max(0.0, min(a3, b3) - max(a1, b1))
                inter = iw * ih
                out[i, j] = inter / ((a2 - a0) * (a3 - a1) + (b2 - b0) * (b3 - b1) - inter)
        return out

    @staticmethod
    def anchors(fh, fw, stride, sizes, ratios) -> np.ndarray:
        """Anchors by loops: cells row-major, sizes outer, ratios inner; ratio = h / w."""
        rows = []
        for i in range(fh):
            for j in range(fw):
                cx, cy = (j + 0.5) * stride, (i + 0.5) * stride
                for size in sizes:
                    for r in ratios:
                        w, h = size / math.sqrt(r), size * math.sqrt(r)
                        rows.append([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
        return np.array(rows, dtype=np.float64)

    def nms(self, boxes, scores, threshold) -> list[int]:
        """Greedy NMS by brute force: by decreasing score (ties by index), suppress IoU > threshold."""
        order = sorted(range(len(scores)), key=lambda k: (-float(scores[k]), k))
        kept: list[int] = []
        for k in order:
            if all(self.iou(boxes[[k]], boxes[[m]])[0, 0] <= threshold for m in kept):
                kept.append(k)
        return kept

    def rpn_labels(self, anchors, gt, pos=0.7, neg=0.3) -> tuple[np.ndarray, np.ndarray]:
        """(labels, matched) of the handout's rules, anchor by anchor."""
        iou = self.iou(anchors, gt)
        A, G = iou.shape
        labels = np.zeros(A, dtype=np.int64)
        matched = np.zeros(A, dtype=np.int64)
        for a in range(A):
            row = iou[a].tolist()
            best = max(row)
            matched[a] = row.index(best)
            labels[a] = 1 if best >= pos else (0 if best < neg else -1)
        for g in range(G):
            top = max(iou[:, g])
            if top > 0:
                for a in range(A):
                    if iou[a, g] == top:
                        labels[a] = 1
        return labels, matched


    def roi_pool(self, features, rois, output_size, spatial_scale, dout=None):
        """RoI pooling cell by cell, as torchvision's CPU kernel computes it: (out (K, C, oh, ow),
        dfeatures (N, C, H, W) when ``dout`` is given, else None). Bins from float bin sizes
        (torchvision's formula), checked equal to the handout's exact floor/ceil; empty bins 0;
        the first maximum in row-major order (strict >), gradients summed."""
        oh, ow = (output_size, output_size) if np.isscalar(output_size) else output_size
        features = np.asarray(features, dtype=np.float64)
        N, C, H, W = features.shape
        out = np.zeros((len(rois), C, oh, ow))
        dfeatures = np.zeros_like(features)
        for k, (n, x1, y1, x2, y2) in enumerate(self.roi_corners(rois, spatial_scale)):
            roi_w, roi_h = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)
            bin_h, bin_w = roi_h / oh, roi_w / ow
            for i in range(oh):
                for j in range(ow):
                    assert (math.floor(i * bin_h), math.ceil((i + 1) * bin_h)) == (
                        (i * roi_h) // oh, -(-(i + 1) * roi_h // oh)), "float and exact bins differ here"
                    assert (math.floor(j * bin_w), math.ceil((j + 1) * bin_w)) == (
                        (j * roi_w) // ow, -(-(j + 1) * roi_w // ow)), "float and exact bins differ here"
                    h0 = min(max(math.floor(i * bin_h) + y1, 0), H)
                    h1 = min(max(math.ceil((i + 1) * bin_h) + y1, 0), H)
                    w0 = min(max(math.floor(j * bin_w) + x1, 0), W)
                    w1 = min(max(math.ceil((j + 1) * bin_w) + x1, 0), W)
                    for c in range(C):
                        best, where = -math.inf, None
                        for h in range(h0, h1):
                            for w in range(w0, w1):
                                if features[n, c, h, w] > best:
                                    best, where = features[n, c, h, w], (h, w)
                        if where is not None:
                            out[k, c, i, j] = best
                            if dout is not None:
                                dfeatures[n, c, where[0], where[1]] += dout[k, c, i, j]
        return out, (dfeatures if dout is not None else None)


@pytest.fixture(scope="session")
def oracle(oracle) -> Oracle:
    """The public ``oracle`` with the hidden tests' brute-force references (see ``Oracle``)."""
    return Oracle(oracle)
