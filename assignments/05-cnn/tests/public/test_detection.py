"""Public tests for detection.py: IoU by counting grid cells, anchors' properties, box coding,
the properties of greedy NMS and the RPN's labels of a hand-made layout."""

import math

import numpy as np
import pytest


def _boxes(rng, K, lo=0.0, hi=50.0, min_side=1.0, max_side=20.0):
    """K random boxes (x1, y1, x2, y2) with sides in [min_side, max_side]."""
    xy = rng.uniform(lo, hi, (K, 2))
    wh = rng.uniform(min_side, max_side, (K, 2))
    return np.concatenate([xy, xy + wh], axis=1)


def _grid_boxes(rng, K, scale, hi=20, min_side=2, max_side=20):
    """K random boxes whose corners are multiples of 1 / scale, in [0, hi + max_side]."""
    xy = rng.integers(0, hi * scale, (K, 2))
    wh = rng.integers(min_side * scale, max_side * scale + 1, (K, 2))
    return np.concatenate([xy, xy + wh], axis=1) / scale


@pytest.mark.points(2)
def test_box_iou_counts_pixels(submission, rng, oracle, check):
    """box_iou is the (N, M) matrix of overlap / union counted in grid cells (area (x2 - x1) * (y2 - y1))."""
    b1 = _grid_boxes(rng, 6, scale=4)
    near = np.clip(b1[:3] + rng.integers(-8, 9, (3, 4)) / 4, 0, None)  # overlapping b1[:3]
    near[:, 2:] = np.maximum(near[:, 2:], near[:, :2] + 1)
    b2 = np.concatenate([near, _grid_boxes(rng, 2, scale=4)])
    inter, union = oracle.cell_counts(b1, b2, scale=4)
    check.numpy_close(submission.detection.box_iou(b1, b2), inter / union, name="box_iou")
    # a 4x2 box with itself: 1; with a 4x2 box sharing a 2x2 square: 4 / (8 + 8 - 4);
    # with a box that only touches its right side: 0
    small = np.array([[0.0, 0.0, 4.0, 2.0], [2.0, 0.0, 6.0, 2.0], [4.0, 0.0, 5.0, 2.0]])
    check.numpy_close(submission.detection.box_iou(small[:1], small),
                      np.array([[1.0, 1 / 3, 0.0]]), name="box_iou of a 4x2 box with three boxes in a row")


@pytest.mark.points(1)
def test_generate_anchors(submission, check):
    """generate_anchors over a 2x3 map (stride 16, 2 sizes, 3 ratios): centres, areas, h / w and the handout's order."""
    fh, fw, stride, sizes, ratios = 2, 3, 16, (32, 64), (0.5, 1.0, 2.0)
    anchors = submission.detection.generate_anchors(fh, fw, stride, sizes, ratios)
    check.numpy_array(anchors, (fh * fw * len(sizes) * len(ratios), 4), "generate_anchors(2, 3, 16, ...)")
    # anchor (i * fw + j) * A + s * len(ratios) + r is a[i, j, s, r]
    a = anchors.reshape(fh, fw, len(sizes), len(ratios), 4)
    i, j, s, r = np.indices(a.shape[:4])
    w, h = a[..., 2] - a[..., 0], a[..., 3] - a[..., 1]
    check.numpy_close((a[..., 0] + a[..., 2]) / 2, (j + 0.5) * stride,
                      name="the anchors' centre x (cell column j + 0.5) * stride, cells in row-major order")
    check.numpy_close((a[..., 1] + a[..., 3]) / 2, (i + 0.5) * stride,
                      name="the anchors' centre y (cell row i + 0.5) * stride, cells in row-major order")
    check.numpy_close(w * h, np.asarray(sizes, dtype=np.float64)[s] ** 2,
                      name="the anchors' areas size**2 (sizes outer, ratios inner)")
    check.numpy_close(h / w, np.asarray(ratios)[r], name="the anchors' height / width (ratios inner)")
    root2 = math.sqrt(2.0)
    check.numpy_close(anchors[[0, 5, 34]], np.array([
        [8 - 16 * root2, 8 - 8 * root2, 8 + 16 * root2, 8 + 8 * root2],    # cell (0, 0), size 32, ratio 0.5
        [8 - 16 * root2, 8 - 32 * root2, 8 + 16 * root2, 8 + 32 * root2],  # cell (0, 0), size 64, ratio 2
        [8.0, -8.0, 72.0, 56.0],                                           # cell (1, 2), size 64, ratio 1
    ]), name="anchors 0, 5 and 34")


@pytest.mark.points(1)
def test_box_coding_round_trip(submission, rng, oracle, check):
    """encode_boxes gives (tx, ty, tw, th), and decode_boxes(anchors, encode_boxes(anchors, b)) == b."""
    anchors, boxes = _boxes(rng, 8), _boxes(rng, 8)
    deltas = submission.detection.encode_boxes(anchors, boxes)
    check.numpy_close(deltas, oracle.encode(anchors, boxes), name="encode_boxes")
    check.numpy_close(submission.detection.decode_boxes(anchors, oracle.encode(anchors, boxes)), boxes,
                      name="decode_boxes(anchors, deltas)")


@pytest.mark.points(2)
def test_nms_is_greedy(submission, rng, oracle, check):
    """nms (0.5) is greedy: kept boxes by decreasing score, IoU <= 0.5 between them, each dropped box > 0.5 with a higher kept one."""
    K, threshold = 20, 0.5
    corners = rng.integers(2, 30, (K, 2))
    boxes = np.concatenate([corners, corners + 16 + rng.integers(-3, 4, (K, 2))], axis=1).astype(np.float64)
    scores = rng.uniform(0, 1, K)
    keep = submission.detection.nms(boxes, scores, threshold)
    check.numpy_array(keep, (len(keep),), "nms(boxes, scores, 0.5)", dtype=np.int64)
    kept = keep.tolist()
    assert len(set(kept)) == len(kept) and all(0 <= k < K for k in kept), (
        f"nms returned {kept}: indices must be distinct and in [0, {K})"
    )
    assert np.all(np.diff(scores[keep]) < 0), f"nms returned {kept}, not by decreasing score"
    inter, union = oracle.cell_counts(boxes, boxes)
    iou = inter / union
    for n, a in enumerate(kept):
        for b in kept[n + 1:]:
            assert iou[a, b] <= threshold, f"kept boxes {a} and {b} overlap with IoU {iou[a, b]:.3f} > 0.5"
    for d in sorted(set(range(K)) - set(kept)):
        assert any(scores[k] > scores[d] and iou[d, k] > threshold for k in kept), (
            f"box {d} was dropped, but no kept box with a higher score overlaps it with IoU > 0.5"
        )


@pytest.mark.points(1)
def test_assign_rpn_labels(submission, check):
    """assign_rpn_labels: positives (IoU >= 0.7 or a box's best anchor), negatives (< 0.3), ignored; matched box."""
    gt = np.array([[0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 30.0, 10.0], [40.0, 40.0, 44.0, 44.0]])
    anchors = np.array([
        [0.0, 0.0, 10.0, 8.0],      # IoU 0.8 with gt 0: positive
        [0.0, 0.0, 10.0, 5.0],      # IoU 0.5 with gt 0: ignored
        [5.0, 0.0, 25.0, 10.0],     # IoU 0.2 with gt 0 and with gt 1: negative, matched to the first
        [20.0, 0.0, 30.0, 6.0],     # IoU 0.6 with gt 1: ignored
        [40.0, 40.0, 50.0, 50.0],   # IoU 0.16 with gt 2, its best anchor (tied): positive
        [60.0, 60.0, 70.0, 70.0],   # overlaps nothing: negative, matched to gt 0
        [20.0, 0.0, 30.0, 10.0],    # gt 1 itself: positive
        [34.0, 34.0, 44.0, 44.0],   # IoU 0.16 with gt 2, its other best anchor: positive
        [8.0, 0.0, 28.0, 10.0],     # IoU 20/280 with gt 0 and 80/220 with gt 1: ignored, matched to gt 1
    ])
    labels, matched = submission.detection.assign_rpn_labels(anchors, gt, 0.7, 0.3)
    check.numpy_equal(labels, np.array([1, -1, 0, -1, 1, 0, 1, 1, -1]), name="labels")
    check.numpy_equal(matched, np.array([0, 0, 0, 1, 2, 0, 1, 2, 1]), name="matched")


def _rois_inside(rng, K, N, H, W, scale):
    """K RoIs (batch index, x1, y1, x2, y2) in image coordinates whose rounded corners lie
    inside an H x W map (corners a quarter cell off the grid, never a half)."""
    rows = []
    for _ in range(K):
        x1, x2 = sorted(rng.choice(W, 2, replace=False))
        y1, y2 = sorted(rng.choice(H, 2, replace=False))
        jitter = rng.choice([-0.25, 0.0, 0.25], 4)
        rows.append([rng.integers(0, N), *((np.array([x1, y1, x2, y2]) + jitter) / scale)])
    return np.array(rows, dtype=np.float64)


@pytest.mark.points(3)
def test_roi_pool_forward(submission, rng, oracle, check):
    """roi_pool_forward gives each RoI's (oh, ow) grid of bin maxima (Fast R-CNN's bins), RoIs on both images, spatial_scale 1/4."""
    features = rng.standard_normal((2, 3, 12, 14))
    rois = _rois_inside(rng, 6, 2, 12, 14, 0.25)
    rois = np.concatenate([rois, [[1.0, 8.0, 4.0, 16.0, 8.0]]])  # 3 x 2 cells pooled to 3 x 4: bins repeat cells
    for size in ((3, 4), 2):
        out, _ = submission.detection.roi_pool_forward(features, rois, size, 0.25)
        want = oracle.roi_pool_inside(features, rois, size, 0.25)
        check.numpy_array(out, want.shape, f"roi_pool_forward(..., output_size={size})")
        check.numpy_close(out, want, name=f"roi_pool_forward(..., output_size={size})")


@pytest.mark.points(2)
def test_roi_pool_backward(submission, rng, oracle, check):
    """roi_pool_backward sends each output's gradient to its bin's maximum, summed where bins and RoIs share cells."""
    features = rng.standard_normal((2, 2, 10, 9))
    rois = np.concatenate([_rois_inside(rng, 4, 2, 10, 9, 0.5),
                           [[0.0, 2.0, 2.0, 12.0, 10.0], [0.0, 4.0, 4.0, 14.0, 12.0]]])  # overlapping RoIs
    out, cache = submission.detection.roi_pool_forward(features, rois, (3, 3), 0.5)
    dout = rng.standard_normal((len(rois), 2, 3, 3))
    _, want = oracle.roi_pool_inside(features, rois, (3, 3), 0.5, dout)
    dfeatures = submission.detection.roi_pool_backward(dout, cache)
    check.numpy_array(dfeatures, features.shape, "roi_pool_backward(dout, cache)")
    assert abs(float(np.sum(dfeatures)) - float(np.sum(dout))) < 1e-9, (
        "the gradient's total must equal dout's total (every output comes from one cell)")
    check.numpy_close(dfeatures, want, name="roi_pool_backward(dout, cache)")
