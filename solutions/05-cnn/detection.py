"""The pieces of Faster R-CNN that can be checked exactly, in numpy: the IoU
matrix, anchors over a feature map, box-delta coding, non-maximum suppression
and the region proposal network's (RPN) label assignment.

Conventions used throughout this file (those of torchvision):

- A box is (x1, y1, x2, y2): its top-left and bottom-right corners in
  continuous image coordinates, x1 <= x2 and y1 <= y2. Boxes are float64
  arrays of shape (K, 4).
- Width w = x2 - x1, height h = y2 - y1, area w * h (NO "+ 1": a box from 0 to
  10 is 10 wide). Centre cx = x1 + w / 2, cy = y1 + h / 2.
- No function modifies its inputs (boxes, scores, anchors, deltas): the caller
  may use them again (nms: sort or mark a copy of the scores, not the scores).
"""

import numpy as np


def box_area(boxes):
    """Areas of boxes.

    Inputs:
    - boxes: (K, 4), (x1, y1, x2, y2)

    Returns:
    - areas: (K,), (x2 - x1) * (y2 - y1)

    boxes is not modified.
    """
    # BEGIN SOLUTION hint: width times height, no + 1
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    # END SOLUTION
    return areas


def box_iou(boxes1, boxes2):
    """The intersection-over-union matrix of two sets of boxes.

    iou[i, j] = area(boxes1[i] intersect boxes2[j]) / area(boxes1[i] union boxes2[j])

    Boxes that do not overlap (or only touch) have IoU 0.

    Inputs:
    - boxes1: (N, 4)
    - boxes2: (M, 4)

    Returns:
    - iou: (N, M), values in [0, 1]

    boxes1 and boxes2 are not modified.
    """
    # BEGIN SOLUTION hint: broadcast (N, 1) against (1, M); clip negative intersection sides to 0
    area1 = box_area(boxes1)
    area2 = box_area(boxes2)
    left_top = np.maximum(boxes1[:, None, :2], boxes2[None, :, :2])        # (N, M, 2)
    right_bottom = np.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])    # (N, M, 2)
    wh = np.clip(right_bottom - left_top, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    iou = inter / (area1[:, None] + area2[None, :] - inter)
    # END SOLUTION
    return iou


def generate_anchors(feature_height, feature_width, stride, sizes, aspect_ratios):
    """Anchor boxes at every position of a feature map.

    Feature-map cell (i, j) (row i, column j) covers the image pixels around
    its centre cx = (j + 0.5) * stride, cy = (i + 0.5) * stride. Every cell gets
    one anchor per (size, ratio) pair, centred there, with area size**2 and
    ratio = height / width:

        w = size / sqrt(ratio),   h = size * sqrt(ratio)
        anchor = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)

    Order: cell by cell in row-major order (i outer, j inner); within a cell,
    sizes outer and ratios inner. So with A = len(sizes) * len(aspect_ratios),
    anchor (i * feature_width + j) * A + s * len(aspect_ratios) + r has
    size sizes[s] and ratio aspect_ratios[r] at cell (i, j).

    Inputs:
    - feature_height, feature_width: ints, the feature map's size
    - stride: number, image pixels per feature-map cell
    - sizes: sequence of numbers (e.g. (32, 64, 128))
    - aspect_ratios: sequence of numbers, height / width (e.g. (0.5, 1, 2))

    Returns:
    - anchors: float64 (feature_height * feature_width * A, 4)
    """
    # BEGIN SOLUTION hint: A base boxes centred at 0, plus the centre of every cell, broadcast and reshaped
    sizes = np.asarray(sizes, dtype=np.float64)
    ratios = np.asarray(aspect_ratios, dtype=np.float64)
    ws = (sizes[:, None] / np.sqrt(ratios)[None, :]).ravel()     # (A,), sizes outer
    hs = (sizes[:, None] * np.sqrt(ratios)[None, :]).ravel()
    base = np.stack([-ws / 2, -hs / 2, ws / 2, hs / 2], axis=1)   # (A, 4)
    cy, cx = np.meshgrid((np.arange(feature_height) + 0.5) * stride,
                         (np.arange(feature_width) + 0.5) * stride, indexing="ij")
    centres = np.stack([cx.ravel(), cy.ravel(), cx.ravel(), cy.ravel()], axis=1)   # (H*W, 4)
    anchors = (centres[:, None, :] + base[None, :, :]).reshape(-1, 4)
    # END SOLUTION
    return anchors


def encode_boxes(anchors, boxes):
    """Box deltas (the regression targets) of boxes relative to anchors.

    With (ax, ay, aw, ah) the anchor's centre and size and (gx, gy, gw, gh) the box's:

        tx = (gx - ax) / aw,  ty = (gy - ay) / ah,  tw = log(gw / aw),  th = log(gh / ah)

    Inputs:
    - anchors: (K, 4)
    - boxes: (K, 4), boxes[k] is encoded relative to anchors[k]

    Returns:
    - deltas: (K, 4), columns (tx, ty, tw, th)

    anchors and boxes are not modified.
    """
    # BEGIN SOLUTION hint: corners -> centre and size first
    aw = anchors[:, 2] - anchors[:, 0]
    ah = anchors[:, 3] - anchors[:, 1]
    ax = anchors[:, 0] + 0.5 * aw
    ay = anchors[:, 1] + 0.5 * ah
    gw = boxes[:, 2] - boxes[:, 0]
    gh = boxes[:, 3] - boxes[:, 1]
    gx = boxes[:, 0] + 0.5 * gw
    gy = boxes[:, 1] + 0.5 * gh
    deltas = np.stack([(gx - ax) / aw, (gy - ay) / ah, np.log(gw / aw), np.log(gh / ah)], axis=1)
    # END SOLUTION
    return deltas


def decode_boxes(anchors, deltas):
    """Boxes from anchors and deltas: the inverse of encode_boxes.

        x = ax + tx * aw,  y = ay + ty * ah,  w = aw * exp(tw),  h = ah * exp(th)
        box = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)

    Inputs:
    - anchors: (K, 4)
    - deltas: (K, 4), columns (tx, ty, tw, th)

    Returns:
    - boxes: (K, 4); decode_boxes(a, encode_boxes(a, b)) == b

    anchors and deltas are not modified.
    """
    # BEGIN SOLUTION hint: the width comes from tw and the anchor's width, the height from th and its height
    aw = anchors[:, 2] - anchors[:, 0]
    ah = anchors[:, 3] - anchors[:, 1]
    ax = anchors[:, 0] + 0.5 * aw
    ay = anchors[:, 1] + 0.5 * ah
    x = ax + deltas[:, 0] * aw
    y = ay + deltas[:, 1] * ah
    w = aw * np.exp(deltas[:, 2])
    h = ah * np.exp(deltas[:, 3])
    boxes = np.stack([x - 0.5 * w, y - 0.5 * h, x + 0.5 * w, y + 0.5 * h], axis=1)
    # END SOLUTION
    return boxes


def nms(boxes, scores, iou_threshold):
    """Greedy non-maximum suppression.

    Visit the boxes from the highest score to the lowest (a stable sort: equal
    scores keep their input order). Keep a box unless its IoU with an already
    kept box is GREATER than iou_threshold (an IoU equal to the threshold does
    not suppress).

    Inputs:
    - boxes: (K, 4)
    - scores: (K,)
    - iou_threshold: float

    Returns:
    - keep: int64 array (K',) of indices into boxes, by decreasing score

    boxes and scores are not modified.
    """
    # BEGIN SOLUTION hint: sort by decreasing score first (np.argsort(-scores, kind="stable")); compare each box with the kept ones
    order = np.argsort(-scores, kind="stable")
    iou = box_iou(boxes, boxes)
    kept = []
    for k in order:
        if all(iou[k, m] <= iou_threshold for m in kept):
            kept.append(k)
    keep = np.array(kept, dtype=np.int64)
    # END SOLUTION
    return keep


def assign_rpn_labels(anchors, gt_boxes, pos_threshold=0.7, neg_threshold=0.3):
    """The RPN's training labels of the anchors, as in Faster R-CNN.

    With iou = box_iou(anchors, gt_boxes) (A, G) and best[a] = max over g of iou[a, g]:

    1. label 0 (negative, background) where best[a] < neg_threshold;
    2. label -1 (ignored) where neg_threshold <= best[a] < pos_threshold;
    3. label 1 (positive) where best[a] >= pos_threshold;
    4. then, for every ground-truth box g, the anchor(s) with the highest IoU with
       g (all of them if several tie) are positive too, whatever their IoU,
       provided that IoU is > 0.

    matched[a] = argmax over g of iou[a, g] (the first one if several tie) is the
    ground-truth box whose deltas anchor a would regress to.

    Inputs:
    - anchors: (A, 4)
    - gt_boxes: (G, 4), G >= 1
    - pos_threshold, neg_threshold: floats

    Returns a tuple of:
    - labels: int64 (A,), values 1, 0 or -1
    - matched: int64 (A,), values 0 .. G-1

    anchors and gt_boxes are not modified.
    """
    # BEGIN SOLUTION hint: the IoU matrix, its max and argmax per anchor (axis 1) and its max per ground-truth box (axis 0)
    iou = box_iou(anchors, gt_boxes)
    best = iou.max(axis=1)
    matched = iou.argmax(axis=1).astype(np.int64)
    labels = np.full(len(anchors), -1, dtype=np.int64)
    labels[best < neg_threshold] = 0
    labels[best >= pos_threshold] = 1
    best_per_gt = iou.max(axis=0)                                   # (G,)
    is_best = (iou == best_per_gt[None, :]) & (best_per_gt[None, :] > 0)
    labels[is_best.any(axis=1)] = 1
    # END SOLUTION
    return labels, matched
