"""Assignment 05: the reference solution gets full marks, classic mistakes lose points.

Each mutant is a copy of solutions/05-cnn/ with exact string replacements
applied to one module; it is graded with the real graders, restricted (``-k``)
to the tests that must catch it, and each of those tests must fail. The first
group are the mistakes the assignment's issue lists; the second group are more
mistakes students make.
"""

from pathlib import Path

import pytest

from autograder.config import load_course
from autograder.mutants import Mutant, grade_mutant, mutant_problems, reference_problems

ASSIGNMENT = load_course(Path(__file__).resolve().parents[1]).assignment("05-cnn")

CONV_LINE = "            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))\n"
PAD_LINE = "    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n"
OUTPUT_SIZE = "    out_size = (size + 2 * pad - kernel) // stride + 1\n"
ADD_AT = "            np.add.at(dx, (n_idx, c_idx, i * stride + p, j * stride + q), dout[:, :, i, j])\n"
PROJECTION_IF = "        if stride != 1 or in_channels != out_channels:\n"
RPN_POSITIVE = "    labels[best >= pos_threshold] = 1\n"

# Mutant(id, module, [(old, new), ...], tests that must fail)
MUTANTS = [
    # ---------------------------------------------------------------- the list
    Mutant(
        "kernel-flipped-true-convolution",
        "conv_numpy.py",
        [(CONV_LINE, CONV_LINE.replace("(window, w,", "(window, w[:, :, ::-1, ::-1],"))],
        ["test_conv2d_forward_matches_torch", "test_conv2d_is_cross_correlation",
         "test_conv2d_padding_on_every_side", "test_conv2d_fast_agrees_with_naive"],
    ),
    Mutant(
        "padding-on-one-side-only",
        "conv_numpy.py",
        [(PAD_LINE, "    xp = np.pad(x, ((0, 0), (0, 0), (0, 2 * pad), (0, 2 * pad)))\n")],
        ["test_conv2d_forward_matches_torch", "test_conv2d_backward_matches_autograd",
         "test_conv2d_padding_on_every_side", "test_conv2d_fast_strided_padded"],
    ),
    Mutant(
        "output-size-rounded-up-with-stride",
        "conv_numpy.py",
        [(OUTPUT_SIZE, "    out_size = -(-(size + 2 * pad - kernel) // stride) + 1\n")],
        ["test_conv_output_size", "test_conv2d_stride_output_size"],
    ),
    Mutant(
        "output-size-without-plus-one",
        "conv_numpy.py",
        [(OUTPUT_SIZE, "    out_size = (size + 2 * pad - kernel) // stride\n")],
        ["test_conv_output_size", "test_conv2d_forward_matches_torch", "test_max_pool2d_forward_backward"],
    ),
    Mutant(
        "max-pool-backward-to-every-element",
        "conv_numpy.py",
        [(ADD_AT, "            dx[:, :, i * stride : i * stride + pool_size, j * stride : j * stride + pool_size]"
                  " += dout[:, :, i, j][:, :, None, None]\n")],
        ["test_max_pool2d_forward_backward", "test_max_pool2d_backward_routes_to_argmax"],
    ),
    Mutant(
        "bias-gradient-not-summed-over-positions",
        "conv_numpy.py",
        [("    db = dout.sum(axis=(0, 2, 3))\n", "    db = dout.sum(axis=0)[:, 0, 0]\n")],
        ["test_conv2d_backward_matches_autograd", "test_conv2d_bias_gradient_sums_positions"],
    ),
    Mutant(
        "resnet-no-projection-when-channels-change",
        "models.py",
        [(PROJECTION_IF, "        if stride != 1:\n")],
        ["test_residual_block_projection_when_channels_change"],
    ),
    Mutant(
        "unet-skip-concatenated-second",
        "models.py",
        [("        d2 = self.dec2(torch.cat([e2, self.up2(m)], dim=1))\n",
          "        d2 = self.dec2(torch.cat([self.up2(m), e2], dim=1))\n")],
        ["test_unet_keeps_spatial_size", "test_unet_skips_and_gradients"],
    ),
    Mutant(
        "unet-skip-at-the-wrong-scale",
        "models.py",
        [("        d1 = self.dec1(torch.cat([e1, self.up1(d2)], dim=1))\n",
          "        skip = F.interpolate(F.max_pool2d(e1, 2), scale_factor=2.0)\n"
          "        d1 = self.dec1(torch.cat([skip, self.up1(d2)], dim=1))\n")],
        ["test_unet_keeps_spatial_size", "test_unet_skips_and_gradients"],
    ),
    Mutant(
        "nms-not-sorted-by-score",
        "detection.py",
        [('    order = np.argsort(-scores, kind="stable")\n', "    order = np.arange(len(scores))\n")],
        ["test_nms_is_greedy", "test_nms_sorts_by_score_and_threshold"],
    ),
    Mutant(
        "nms-suppresses-at-equal-iou",
        "detection.py",
        [("if all(iou[k, m] <= iou_threshold for m in kept)",
          "if all(iou[k, m] < iou_threshold for m in kept)")],
        ["test_nms_sorts_by_score_and_threshold"],
    ),
    Mutant(
        "iou-with-plus-one-pixel-areas",
        "detection.py",
        [("    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])\n",
          "    areas = (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)\n"),
         ("    wh = np.clip(right_bottom - left_top, 0, None)\n",
          "    wh = np.clip(right_bottom - left_top + 1, 0, None)\n")],
        ["test_box_iou_counts_pixels", "test_box_iou_area_convention"],
    ),
    Mutant(
        "decoded-width-and-height-swapped",
        "detection.py",
        [("    w = aw * np.exp(deltas[:, 2])\n    h = ah * np.exp(deltas[:, 3])\n",
          "    w = ah * np.exp(deltas[:, 3])\n    h = aw * np.exp(deltas[:, 2])\n")],
        ["test_box_coding_round_trip", "test_decode_tall_and_wide_boxes"],
    ),
    # ---------------------------------------------------------------- more mistakes
    Mutant(
        "filter-gradient-not-accumulated-over-positions",
        "conv_numpy.py",
        [("            dw += np.tensordot(", "            dw = np.tensordot(")],
        ["test_conv2d_backward_matches_autograd", "test_conv2d_backward_strided_padded"],
    ),
    Mutant(
        "input-gradient-cropped-at-the-corner",
        "conv_numpy.py",
        [("    dx = dxp[:, :, pad : pad + H, pad : pad + W]\n", "    dx = dxp[:, :, :H, :W]\n")],
        ["test_conv2d_backward_matches_autograd", "test_conv2d_backward_strided_padded"],
    ),
    Mutant(
        "max-pool-backward-overwrites-overlaps",
        "conv_numpy.py",
        [(ADD_AT, "            dx[n_idx, c_idx, i * stride + p, j * stride + q] = dout[:, :, i, j]\n")],
        ["test_max_pool2d_backward_routes_to_argmax"],
    ),
    Mutant(
        # A mask of the window's maximum: every tied maximum gets the whole gradient.
        "max-pool-backward-to-every-tied-maximum",
        "conv_numpy.py",
        [(ADD_AT, "            top = window == window.max(axis=(2, 3), keepdims=True)\n"
                  "            dx[:, :, i * stride : i * stride + pool_size, j * stride : j * stride + pool_size]"
                  " += top * dout[:, :, i, j][:, :, None, None]\n")],
        ["test_max_pool2d_backward_routes_to_argmax"],
    ),
    Mutant(
        "avg-pool-divides-by-the-side",
        "conv_numpy.py",
        [("    out = windows.sum(axis=(4, 5)) / (pool_size * pool_size)\n",
          "    out = windows.sum(axis=(4, 5)) / pool_size\n")],
        ["test_avg_pool2d_forward", "test_avg_pool2d_overlapping_and_backward"],
    ),
    Mutant(
        "im2col-kernel-transposed",
        "conv_numpy.py",
        [("    out = w.reshape(F, -1) @ cols + b[:, None]\n",
          "    out = w.transpose(0, 1, 3, 2).reshape(F, -1) @ cols + b[:, None]\n")],
        ["test_conv2d_fast_agrees_with_naive", "test_conv2d_fast_strided_padded"],
    ),
    Mutant(
        "conv3d-not-padded-in-time",
        "conv_numpy.py",
        [("    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad), (pad, pad)))\n",
          "    xp = np.pad(x, ((0, 0), (0, 0), (0, 0), (pad, pad), (pad, pad)))\n")],
        ["test_conv1d_and_conv3d_forward", "test_conv3d_stride_padding"],
    ),
    Mutant(
        "numpy-part-calls-torch",
        "conv_numpy.py",
        [("    out += b[None, :, None]\n",
          "    import torch\n\n"
          "    out = torch.nn.functional.conv1d(torch.from_numpy(x), torch.from_numpy(w),\n"
          "                                     torch.from_numpy(b), stride=stride, padding=pad).numpy()\n")],
        ["test_conv1d_and_conv3d_forward", "test_conv1d_stride_padding"],
    ),
    Mutant(
        "lenet-c3-fully-connected",
        "models.py",
        [("        x = torch.tanh(F.conv2d(x, self.c3.weight * self.c3_mask, self.c3.bias))\n",
          "        x = torch.tanh(self.c3(x))\n")],
        ["test_lenet5_forward_matches_reference", "test_lenet5_c3_connection_table"],
    ),
    Mutant(
        "lenet-max-pooling-instead-of-average",
        "models.py",
        [("        x = F.avg_pool2d(torch.tanh(self.c1(x)), 2)\n",
          "        x = F.max_pool2d(torch.tanh(self.c1(x)), 2)\n")],
        ["test_lenet5_forward_matches_reference", "test_lenet5_26_classes_gradients"],
    ),
    Mutant(
        "vgg-every-conv-reads-the-input-channels",
        "models.py",
        [("in_channels if k == 0 else out_channels", "in_channels")],
        ["test_vgg_block", "test_vgg_block_three_convs_gradients"],
    ),
    Mutant(
        "inception-branches-in-the-wrong-order",
        "models.py",
        [("        return torch.cat((p1, p2, p3, p4), dim=1)\n", "        return torch.cat((p4, p1, p2, p3), dim=1)\n")],
        ["test_inception_module", "test_inception_channels_and_gradients"],
    ),
    Mutant(
        "resnet-relu-before-the-addition",
        "models.py",
        [("        return F.relu(out + self.shortcut(x))\n", "        return F.relu(out) + self.shortcut(x)\n")],
        ["test_residual_block_identity", "test_residual_block_gradients[identity]"],
    ),
    Mutant(
        "resnet-no-projection-when-striding",
        "models.py",
        [(PROJECTION_IF, "        if in_channels != out_channels:\n")],
        ["test_residual_block_gradients[projection-for-stride-2]"],
    ),
    Mutant(
        "sequence-cnn-mean-over-time",
        "models.py",
        [("        return self.fc(h.amax(dim=2))\n", "        return self.fc(h.mean(dim=2))\n")],
        ["test_sequence_cnn_any_length"],
    ),
    Mutant(
        "video-cnn-pools-over-time",
        "models.py",
        [("        h = F.max_pool3d(h, (1, 2, 2))\n", "        h = F.max_pool3d(h, 2)\n")],
        ["test_video_cnn"],
    ),
    Mutant(
        "anchors-centred-on-cell-corners",
        "detection.py",
        [("    cy, cx = np.meshgrid((np.arange(feature_height) + 0.5) * stride,\n"
          "                         (np.arange(feature_width) + 0.5) * stride, indexing=\"ij\")\n",
          "    cy, cx = np.meshgrid(np.arange(feature_height) * stride,\n"
          "                         np.arange(feature_width) * stride, indexing=\"ij\")\n")],
        ["test_generate_anchors", "test_anchor_shapes_and_centres"],
    ),
    Mutant(
        "anchor-ratio-as-width-over-height",
        "detection.py",
        [("    ws = (sizes[:, None] / np.sqrt(ratios)[None, :]).ravel()",
          "    ws = (sizes[:, None] * np.sqrt(ratios)[None, :]).ravel()"),
         ("    hs = (sizes[:, None] * np.sqrt(ratios)[None, :]).ravel()",
          "    hs = (sizes[:, None] / np.sqrt(ratios)[None, :]).ravel()")],
        ["test_generate_anchors", "test_anchor_shapes_and_centres"],
    ),
    Mutant(
        "rpn-best-anchor-per-box-not-positive",
        "detection.py",
        [("    labels[is_best.any(axis=1)] = 1\n", "")],
        ["test_assign_rpn_labels", "test_rpn_best_anchor_and_threshold_boundaries"],
    ),
    Mutant(
        "rpn-positive-threshold-strict",
        "detection.py",
        [(RPN_POSITIVE, RPN_POSITIVE.replace(">=", ">"))],
        ["test_rpn_best_anchor_and_threshold_boundaries"],
    ),
    Mutant(
        "rpn-negative-threshold-inclusive",
        "detection.py",
        [("    labels[best < neg_threshold] = 0\n", "    labels[best <= neg_threshold] = 0\n")],
        ["test_rpn_best_anchor_and_threshold_boundaries"],
    ),
    Mutant(
        "digits-not-scaled-to-unit-range",
        "models.py",
        [("np.asarray(images, dtype=np.float64) / 16.0", "np.asarray(images, dtype=np.float64)")],
        ["test_digits_to_lenet_input"],
    ),
]


def test_reference_solution_gets_full_marks():
    assert reference_problems(ASSIGNMENT) == []


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_classic_mistake_loses_points(tmp_path, mutant):
    assert mutant_problems(grade_mutant(ASSIGNMENT, mutant, tmp_path), mutant) == []
