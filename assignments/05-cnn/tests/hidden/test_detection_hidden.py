"""Hidden tests for detection.py: area convention, anchor shapes, decoding, NMS order, RPN rules."""

import numpy as np
import pytest


@pytest.mark.points(2)
def test_box_iou_area_convention(submission, oracle, check):
    """box_iou uses area (x2 - x1) * (y2 - y1) (no + 1): exact IoUs of small boxes, touching and disjoint boxes."""
    b1 = np.array([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 6.0, 7.0]])
    b2 = np.array([[1.0, 1.0, 3.0, 3.0], [2.0, 0.0, 4.0, 2.0], [0.0, 0.0, 10.0, 7.0], [20.0, 20.0, 21.0, 22.0]])
    iou = submission.detection.box_iou(b1, b2)
    check.numpy_close(iou, oracle.iou(b1, b2), name="box_iou")
    assert abs(float(np.asarray(iou)[0, 0]) - 1 / 7) < 1e-12, "IoU of two 2x2 boxes overlapping 1x1 must be 1/7"
    areas = submission.detection.box_area(b2)
    check.numpy_close(areas, np.array([4.0, 4.0, 70.0, 2.0]), name="box_area")


@pytest.mark.points(1)
def test_anchor_shapes_and_centres(submission, oracle, check):
    """generate_anchors: ratio = height / width, centres at (j + 0.5, i + 0.5) * stride, on a 3x2 map."""
    args = (3, 2, 8, (16,), (0.25, 1.0, 4.0))
    anchors = submission.detection.generate_anchors(*args)
    check.numpy_close(anchors, oracle.anchors(*args), name="generate_anchors")
    first = np.asarray(anchors)[0]
    assert np.allclose(first, [4 - 16, 4 - 4, 4 + 16, 4 + 4]), "the first anchor (ratio 0.25) is wrong"


@pytest.mark.points(1)
def test_decode_tall_and_wide_boxes(submission, rng, oracle, check):
    """decode_boxes on tall and wide anchors with random deltas matches the closed form (w from tw, h from th)."""
    anchors = np.array([[0.0, 0.0, 4.0, 20.0], [10.0, 10.0, 40.0, 15.0], [5.0, 5.0, 9.0, 6.0]])
    deltas = rng.standard_normal((3, 4)) * 0.5
    check.numpy_close(submission.detection.decode_boxes(anchors, deltas), oracle.decode(anchors, deltas),
                      name="decode_boxes")
    boxes = oracle.decode(anchors, deltas)
    check.numpy_close(submission.detection.encode_boxes(anchors, boxes), deltas, name="encode_boxes")


@pytest.mark.points(2)
def test_nms_sorts_by_score_and_threshold(submission, rng, oracle, check):
    """nms visits boxes by decreasing score, returns indices in that order, and an IoU equal to the threshold does not suppress."""
    boxes = np.array([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [0.0, 0.0, 10.0, 5.0],
                      [30.0, 30.0, 40.0, 40.0], [31.0, 30.0, 41.0, 40.0]])
    scores = np.array([0.5, 0.9, 0.3, 0.6, 0.8])
    keep = submission.detection.nms(boxes, scores, 0.5)
    check.numpy_equal(keep, np.array(oracle.nms(boxes, scores, 0.5), dtype=np.int64), name="nms(..., 0.5)")
    halves = np.array([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 5.0]])  # IoU exactly 0.5
    keep = submission.detection.nms(halves, np.array([0.9, 0.8]), 0.5)
    check.numpy_equal(keep, np.array([0, 1], dtype=np.int64),
                      name="nms of two boxes whose IoU equals the threshold")
    boxes = np.concatenate([rng.uniform(0, 30, (40, 2)), np.zeros((40, 2))], axis=1)
    boxes[:, 2:] = boxes[:, :2] + rng.uniform(5, 15, (40, 2))
    scores = rng.uniform(0, 1, 40)
    for threshold in (0.3, 0.7):
        keep = submission.detection.nms(boxes, scores, threshold)
        check.numpy_equal(keep, np.array(oracle.nms(boxes, scores, threshold), dtype=np.int64),
                          name=f"nms(..., {threshold})")


@pytest.mark.points(1)
def test_rpn_best_anchor_and_threshold_boundaries(submission, oracle, check):
    """assign_rpn_labels: a box's best anchor is positive even below 0.3; IoU 0.7 is positive and 0.3 ignored."""
    anchors = np.array([
        [0.0, 0.0, 10.0, 7.0],       # gt 0 itself: its best anchor
        [0.0, 0.0, 10.0, 10.0],      # IoU exactly 0.7 with gt 0: positive by the threshold
        [0.0, 0.0, 3.0, 7.0],        # IoU exactly 0.3 with gt 0: ignored, not negative
        [50.0, 50.0, 60.0, 60.0],    # far from everything: negative
        [100.0, 100.0, 140.0, 140.0],  # the best (but low) anchor of gt 1: positive
        [100.0, 100.0, 160.0, 160.0],
    ])
    gt = np.array([[0.0, 0.0, 10.0, 7.0], [100.0, 100.0, 110.0, 110.0]])
    labels, matched = submission.detection.assign_rpn_labels(anchors, gt, 0.7, 0.3)
    want_labels, want_matched = oracle.rpn_labels(anchors, gt, 0.7, 0.3)
    check.numpy_equal(labels, want_labels, name="labels")
    check.numpy_equal(matched, want_matched, name="matched")
    anchors = oracle.anchors(5, 5, 10, (15, 30), (0.5, 1.0, 2.0))
    gt = np.array([[3.0, 4.0, 20.0, 31.0], [25.0, 12.0, 48.0, 24.0], [30.0, 30.0, 33.0, 34.0]])
    for pos, neg in ((0.7, 0.3), (0.5, 0.1)):
        labels, matched = submission.detection.assign_rpn_labels(anchors, gt, pos, neg)
        want_labels, want_matched = oracle.rpn_labels(anchors, gt, pos, neg)
        check.numpy_equal(labels, want_labels, name=f"labels ({pos}, {neg})")
        check.numpy_equal(matched, want_matched, name=f"matched ({pos}, {neg})")


@pytest.mark.points(2)
def test_roi_pool_clipping_rounding_and_empty_bins(submission, rng, oracle, check):
    """roi_pool_forward clips bins to the map (empty bins give 0), rounds corners halves away from zero, and pools a malformed RoI as one cell."""
    features = rng.standard_normal((2, 3, 8, 10)) - 5.0  # all negative: an empty bin is 0, not a maximum
    rois = np.array([
        [0.0, -12.0, -8.0, 12.0, 12.0],   # starts left of and above the map
        [1.0, 24.0, 20.0, 52.0, 40.0],    # ends right of and below the map
        [0.0, 48.0, 4.0, 60.0, 28.0],     # wholly right of the map: every bin empty
        [1.0, 10.0, 6.0, 14.0, 18.0],     # corners 2.5, 1.5, 3.5, 4.5 cells: halves round up
        [0.0, -2.0, 8.0, 6.0, 16.0],      # x1 at -0.5 cells rounds to -1
        [1.0, 20.0, 16.0, 8.0, 4.0],      # x2 < x1 and y2 < y1: one cell
    ])
    for size in ((2, 3), 4):
        out, _ = submission.detection.roi_pool_forward(features, rois, size, 0.25)
        want, _ = oracle.roi_pool(features, rois, size, 0.25)
        check.numpy_array(out, want.shape, f"roi_pool_forward(..., output_size={size})")
        empty = want == 0
        assert np.all(np.asarray(out)[empty] == 0), (
            "bins that lie outside the feature map after clipping must give 0 (check the clipping and the bins' extent)")
        check.numpy_close(out, want, name=f"roi_pool_forward with clipping and rounding (output_size={size})")


@pytest.mark.points(2)
def test_roi_pool_backward_ties_and_repeats(submission, rng, oracle, check):
    """roi_pool_backward: the first maximum (row-major) of tied bins gets the gradient, summed over repeated cells and RoIs; nothing from empty bins."""
    features = rng.integers(0, 3, (2, 2, 9, 11)).astype(np.float64)  # many tied maxima
    rois = np.concatenate([
        np.column_stack([rng.integers(0, 2, 8), rng.uniform(-8, 40, (8, 2)), np.zeros((8, 2))]),
        [[1.0, 4.0, 4.0, 12.0, 8.0], [0.0, 30.0, 30.0, 60.0, 60.0]],  # 3 x 2 cells into 4 x 4; partly outside
    ])
    rois[:8, 3:] = rois[:8, 1:3] + rng.uniform(0, 24, (8, 2))
    rois[:8, 1:] = np.floor(rois[:8, 1:]) + 0.3  # never a half cell after scaling by 1/4
    out, cache = submission.detection.roi_pool_forward(features, rois, (4, 4), 0.25)
    dout = rng.standard_normal((len(rois), 2, 4, 4))
    want_out, want_dx = oracle.roi_pool(features, rois, (4, 4), 0.25, dout)
    check.numpy_close(out, want_out, name="roi_pool_forward with tied maxima")
    dfeatures = submission.detection.roi_pool_backward(dout, cache)
    check.numpy_array(dfeatures, features.shape, "roi_pool_backward(dout, cache)")
    check.numpy_close(dfeatures, want_dx, name="roi_pool_backward with tied maxima and repeated cells")
