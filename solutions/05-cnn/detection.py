"""The pieces of Faster R-CNN that can be checked exactly, in numpy: the IoU
matrix, anchors over a feature map, box-delta coding, non-maximum suppression,
the region proposal network's (RPN) label assignment, and RoI pooling, the core
of Fast R-CNN (handout part C, sections C1 to C6).

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
    # BEGIN SOLUTION hint: handout C1: the area convention of the module docstring
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
    # BEGIN SOLUTION hint: handout C1: every pair's overlap (none when boxes only touch or are apart) over its union, without a loop over pairs
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
    # BEGIN SOLUTION hint: handout C2: every cell's anchors, in the handout's order
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
    # BEGIN SOLUTION hint: handout C3: the deltas compare centres and sizes, not corners
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
    # BEGIN SOLUTION hint: handout C3: undo encode_boxes
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
    # BEGIN SOLUTION hint: handout C4: visit the boxes from the best score down; keep those that no kept box overlaps too much
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
    # BEGIN SOLUTION hint: handout C5: each anchor's best overlap decides its label, then every ground-truth box claims its best anchors
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


def roi_pool_forward(features, rois, output_size, spatial_scale):
    """RoI max pooling (Fast R-CNN), forward pass: every region of interest becomes a
    fixed-size (oh, ow) grid of maxima over the feature map, whatever its size.

    Conventions (Fast R-CNN's and torchvision.ops.roi_pool's; handout section C6):

    - A RoI's corners, in input-image coordinates, are scaled by spatial_scale and
      rounded to the nearest integer, halves away from zero (C's round(); np.round
      rounds halves to even): x1' = round(x1 * spatial_scale), ... The RoI then covers
      the feature cells x1' .. x2' and y1' .. y2' INCLUSIVE:
      roi_w = max(x2' - x1' + 1, 1), roi_h = max(y2' - y1' + 1, 1).
    - Bin (i, j) covers rows y1' + floor(i * roi_h / oh) up to (not including)
      y1' + ceil((i + 1) * roi_h / oh), and columns likewise with x1', roi_w and ow,
      each clipped to [0, H] (rows) and [0, W] (columns). Bins may overlap.
    - out[k, c, i, j] is the maximum of features[n, c] over bin (i, j), with
      n = rois[k, 0]; a bin that is empty after clipping gives 0.

    Inputs:
    - features: (N, C, H, W) float64
    - rois: (K, 5) float64, rows (batch_index, x1, y1, x2, y2), corners in image coordinates
    - output_size: int oh = ow, or a pair (oh, ow)
    - spatial_scale: float, feature cells per image pixel (e.g. 1/16)

    Returns a tuple of:
    - out: (K, C, oh, ow) float64
    - cache: what roi_pool_backward needs

    features and rois are not modified.
    """
    # BEGIN SOLUTION hint: handout C6: each RoI's feature cells cut into the output grid's bins (clipped to the map), and every bin's maximum
    oh, ow = (output_size, output_size) if np.isscalar(output_size) else tuple(output_size)
    N, C, H, W = features.shape
    K = rois.shape[0]
    out = np.zeros((K, C, oh, ow))
    argmax = np.full((K, C, oh, ow), -1, dtype=np.int64)       # flat index h * W + w, -1: empty

    def c_round(v):
        return int(np.sign(v) * np.floor(abs(v) + 0.5))

    for k in range(K):
        n = int(rois[k, 0])
        x1, y1, x2, y2 = (c_round(v * spatial_scale) for v in rois[k, 1:])
        roi_w, roi_h = max(x2 - x1 + 1, 1), max(y2 - y1 + 1, 1)
        for i in range(oh):
            h0 = min(max(y1 + (i * roi_h) // oh, 0), H)
            h1 = min(max(y1 - (-(i + 1) * roi_h // oh), 0), H)
            for j in range(ow):
                w0 = min(max(x1 + (j * roi_w) // ow, 0), W)
                w1 = min(max(x1 - (-(j + 1) * roi_w // ow), 0), W)
                if h1 <= h0 or w1 <= w0:
                    continue
                window = features[n, :, h0:h1, w0:w1].reshape(C, -1)
                best = window.argmax(axis=1)                         # the first maximum
                out[k, :, i, j] = window[np.arange(C), best]
                rows, cols = np.unravel_index(best, (h1 - h0, w1 - w0))
                argmax[k, :, i, j] = (h0 + rows) * W + (w0 + cols)
    cache = (features.shape, rois[:, 0].astype(np.int64), argmax)
    # END SOLUTION
    return out, cache


def roi_pool_backward(dout, cache):
    """RoI max pooling, backward pass.

    Each output's gradient goes to ONE input: the feature cell that was its bin's
    maximum (the first in row-major order on a tie). A cell that is the maximum of
    several bins, or of bins of several RoIs, receives the sum; an empty bin sends
    nothing back.

    Inputs:
    - dout: (K, C, oh, ow), upstream gradient
    - cache: from roi_pool_forward

    Returns:
    - dfeatures: (N, C, H, W) float64

    dout and the cache are not modified.
    """
    # BEGIN SOLUTION hint: handout C6: each output's gradient goes back to the cell it was taken from, adding up where cells repeat
    (N, C, H, W), batch, argmax = cache
    dfeatures = np.zeros((N, C, H * W))
    n_idx = np.broadcast_to(batch[:, None, None, None], argmax.shape)
    c_idx = np.broadcast_to(np.arange(C)[None, :, None, None], argmax.shape)
    used = argmax >= 0
    np.add.at(dfeatures, (n_idx[used], c_idx[used], argmax[used]), dout[used])
    dfeatures = dfeatures.reshape(N, C, H, W)
    # END SOLUTION
    return dfeatures
