"""Public tests for detection.py: IoU, anchors, box coding, NMS and RPN labels against brute force."""

import numpy as np
import pytest


def _boxes(rng, K, lo=0.0, hi=50.0, min_side=1.0, max_side=20.0):
    """K random boxes (x1, y1, x2, y2) with sides in [min_side, max_side]."""
    xy = rng.uniform(lo, hi, (K, 2))
    wh = rng.uniform(min_side, max_side, (K, 2))
    return np.concatenate([xy, xy + wh], axis=1)


@pytest.mark.points(2)
def test_box_iou_matches_brute_force(submission, rng, oracle, check):
    """box_iou returns the (N, M) IoU matrix of a brute-force double loop."""
    b1, b2 = _boxes(rng, 6), _boxes(rng, 4)
    check.numpy_close(submission.detection.box_iou(b1, b2), oracle.iou(b1, b2), name="box_iou")


@pytest.mark.points(2)
def test_generate_anchors(submission, oracle, check):
    """generate_anchors over a 2x3 map (stride 16, 2 sizes, 3 ratios) in the handout's order."""
    args = (2, 3, 16, (32, 64), (0.5, 1.0, 2.0))
    check.numpy_close(submission.detection.generate_anchors(*args), oracle.anchors(*args),
                      name="generate_anchors")


@pytest.mark.points(2)
def test_box_coding_round_trip(submission, rng, oracle, check):
    """encode_boxes gives (tx, ty, tw, th), and decode_boxes(anchors, encode_boxes(anchors, b)) == b."""
    anchors, boxes = _boxes(rng, 8), _boxes(rng, 8)
    deltas = submission.detection.encode_boxes(anchors, boxes)
    check.numpy_close(deltas, oracle.encode(anchors, boxes), name="encode_boxes")
    check.numpy_close(submission.detection.decode_boxes(anchors, oracle.encode(anchors, boxes)), boxes,
                      name="decode_boxes(anchors, deltas)")


@pytest.mark.points(2)
def test_nms_matches_brute_force(submission, rng, oracle, check):
    """nms keeps the boxes of greedy brute-force NMS (threshold 0.5), by decreasing score."""
    centres = rng.uniform(10, 40, (20, 2))
    boxes = np.concatenate([centres - 8 + rng.uniform(-2, 2, (20, 2)),
                            centres + 8 + rng.uniform(-2, 2, (20, 2))], axis=1)
    scores = rng.uniform(0, 1, 20)
    keep = submission.detection.nms(boxes, scores, 0.5)
    want = np.array(oracle.nms(boxes, scores, 0.5), dtype=np.int64)
    check.numpy_equal(keep, want, name="nms(boxes, scores, 0.5)")


@pytest.mark.points(2)
def test_assign_rpn_labels(submission, oracle, check):
    """assign_rpn_labels: positives (IoU >= 0.7 or a box's best anchor), negatives (< 0.3), ignored."""
    anchors = oracle.anchors(4, 4, 8, (12, 20), (0.5, 1.0, 2.0))
    gt = np.array([[2.0, 3.0, 17.0, 15.0], [14.0, 10.0, 30.0, 31.0], [1.0, 20.0, 9.0, 30.0]])
    labels, matched = submission.detection.assign_rpn_labels(anchors, gt, 0.7, 0.3)
    want_labels, want_matched = oracle.rpn_labels(anchors, gt, 0.7, 0.3)
    check.numpy_equal(labels, want_labels, name="labels")
    check.numpy_equal(matched, want_matched, name="matched")
