"""Shared helpers of assignment 05's graders, for tests/public/ and tests/hidden/ alike.

pytest loads this conftest for both folders. The graders are collected with
``--import-mode=importlib`` and their folders are not on ``sys.path``, so a test
module cannot import a helper module: the helpers are fixtures.

- ``oracle``: reference results independent of our reference solution: torch's
  ``conv1d/conv2d/conv3d/max_pool2d/avg_pool2d`` and autograd in float64 for
  part A; the networks of part B written out with torch's functional API from a
  state dict (so the student's modules are compared with copied weights); for
  part C, box coding one row at a time, IoU by counting the grid cells that
  boxes cover, and RoI pooling of RoIs inside the map by torch's adaptive max
  pooling of the cropped features; the training data: the digits split, digits
  at random offsets on a larger canvas, and the segmentation images;
- ``check``: assertions that several graders make;
- ``student``: builds the student's modules in float64 with given weights.

This file ships with the public tests. Keep it to generic references and checks:
nothing in it may tell what a hidden test looks at, and no oracle here may be code
that students could paste in: the brute-force IoU, anchors, NMS, RPN labels and
im2col live in tests/hidden/conftest.py, for the hidden tests only.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.testing import CheckBase, ProbeLabels, sklearn_digits

State = dict[str, torch.Tensor]

# LeCun et al. (1998), Table I: the S2 maps read by each of C3's 16 maps.
LENET_C3_TABLE = [
    [0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 0], [5, 0, 1],
    [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 0], [4, 5, 0, 1], [5, 0, 1, 2],
    [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5],
    [0, 1, 2, 3, 4, 5],
]


#: the canvas of the segmentation images and of the shifted digits
CANVAS = 24


def t64(a) -> torch.Tensor:
    """A float64 tensor with the values of ``a`` (a numpy array or a tensor)."""
    return torch.as_tensor(np.asarray(a, dtype=np.float64)).clone()


def is_buffer(name: str) -> bool:
    """Whether a state-dict entry is a buffer (batch-norm statistics, LeNet's mask)."""
    return name.endswith(("running_mean", "running_var", "num_batches_tracked", "c3_mask"))


class Oracle:
    """Reference results for assignment 05, computed without our reference solution."""

    #: the bars of the training tests (tests/test_shortcuts_vision.py shows the obvious
    #: shortcuts far below them on the same data and seeds)
    UNET_IOU_BAR = 0.65
    SHIFTED_DIGITS_BAR = 0.85
    DIGITS_BAR = 0.8
    #: how far (pixels of the 32x32 input, one pixel of the 8x8 digit) LeNet's digits are moved
    DIGITS_MOVE = 4

    # ------------------------------------------------------------------ part A (torch, float64)
    @staticmethod
    def conv2d(x, w, b, stride=1, pad=0) -> np.ndarray:
        """torch.nn.functional.conv2d (cross-correlation) in float64."""
        return F.conv2d(t64(x), t64(w), t64(b), stride=stride, padding=pad).numpy()

    @staticmethod
    def conv2d_grads(x, w, b, dout, stride=1, pad=0) -> tuple[np.ndarray, ...]:
        """(dx, dw, db) of sum(conv2d(x, w, b) * dout), by autograd in float64."""
        leaves = [t64(a).requires_grad_() for a in (x, w, b)]
        F.conv2d(*leaves, stride=stride, padding=pad).backward(t64(dout))
        return tuple(v.grad.numpy() for v in leaves)

    @staticmethod
    def conv1d(x, w, b, stride=1, pad=0) -> np.ndarray:
        """torch.nn.functional.conv1d in float64."""
        return F.conv1d(t64(x), t64(w), t64(b), stride=stride, padding=pad).numpy()

    @staticmethod
    def conv3d(x, w, b, stride=1, pad=0) -> np.ndarray:
        """torch.nn.functional.conv3d in float64."""
        return F.conv3d(t64(x), t64(w), t64(b), stride=stride, padding=pad).numpy()

    @staticmethod
    def pool2d(kind: str, x, pool_size, stride, dout=None):
        """``max`` or ``avg`` pooling by torch in float64: out, or (out, dx) when dout is given."""
        fn = F.max_pool2d if kind == "max" else F.avg_pool2d
        xt = t64(x).requires_grad_(dout is not None)
        out = fn(xt, pool_size, stride)
        if dout is None:
            return out.detach().numpy()
        out.backward(t64(dout))
        return out.detach().numpy(), xt.grad.numpy()

    @staticmethod
    def output_size(size, kernel, stride=1, pad=0) -> int:
        """floor((size + 2 pad - kernel) / stride) + 1, by counting window positions."""
        return sum(1 for start in range(0, size + 2 * pad - kernel + 1, stride))

    # ------------------------------------------------------------------ part B (functional torch)
    @staticmethod
    def random_state(shapes: dict[str, tuple], rng: np.random.Generator, scale: float = 0.3) -> State:
        """Float64 weights for a state dict: N(0, scale**2) parameters; batch-norm statistics
        (running_mean N(0, 0.1), running_var U(0.5, 1.5), num_batches_tracked 0);
        ``c3_mask`` LeNet's connection table."""
        state = {}
        for name, shape in shapes.items():
            if name.endswith("running_var"):
                state[name] = t64(rng.uniform(0.5, 1.5, shape))
            elif name.endswith("running_mean"):
                state[name] = t64(0.1 * rng.standard_normal(shape))
            elif name.endswith("num_batches_tracked"):
                state[name] = torch.tensor(0)
            elif name.endswith("c3_mask"):
                state[name] = Oracle.lenet_c3_mask()
            elif name.endswith(".weight") and name.split(".")[-2].startswith("bn"):
                state[name] = t64(1.0 + 0.2 * rng.standard_normal(shape))
            else:
                state[name] = t64(scale * rng.standard_normal(shape))
        return state

    @staticmethod
    def lenet_c3_mask() -> torch.Tensor:
        """(16, 6, 1, 1) float64: 1 where C3's map k reads S2's map m (LENET_C3_TABLE)."""
        mask = torch.zeros(16, 6, 1, 1, dtype=torch.float64)
        for k, maps in enumerate(LENET_C3_TABLE):
            mask[k, maps] = 1.0
        return mask

    @staticmethod
    def lenet_shapes(num_classes: int) -> dict[str, tuple]:
        return {
            "c1.weight": (6, 1, 5, 5), "c1.bias": (6,),
            "c3.weight": (16, 6, 5, 5), "c3.bias": (16,),
            "c5.weight": (120, 16, 5, 5), "c5.bias": (120,),
            "f6.weight": (84, 120), "f6.bias": (84,),
            "output.weight": (num_classes, 84), "output.bias": (num_classes,),
            "c3_mask": (16, 6, 1, 1),
        }

    @staticmethod
    def lenet(s: State, x: torch.Tensor) -> torch.Tensor:
        """LeNet-5 of the handout: tanh, 2x2 average pooling, the sparse C3."""
        h = F.avg_pool2d(torch.tanh(F.conv2d(x, s["c1.weight"], s["c1.bias"])), 2)
        h = F.avg_pool2d(torch.tanh(F.conv2d(h, s["c3.weight"] * Oracle.lenet_c3_mask(), s["c3.bias"])), 2)
        h = torch.tanh(F.conv2d(h, s["c5.weight"], s["c5.bias"])).reshape(x.shape[0], 120)
        h = torch.tanh(F.linear(h, s["f6.weight"], s["f6.bias"]))
        return F.linear(h, s["output.weight"], s["output.bias"])

    @staticmethod
    def vgg_shapes(num_convs: int, cin: int, cout: int) -> dict[str, tuple]:
        shapes = {}
        for k in range(num_convs):
            shapes[f"{2 * k}.weight"] = (cout, cin if k == 0 else cout, 3, 3)
            shapes[f"{2 * k}.bias"] = (cout,)
        return shapes

    @staticmethod
    def vgg(s: State, x: torch.Tensor, num_convs: int) -> torch.Tensor:
        for k in range(num_convs):
            x = F.relu(F.conv2d(x, s[f"{2 * k}.weight"], s[f"{2 * k}.bias"], padding=1))
        return F.max_pool2d(x, 2, 2)

    @staticmethod
    def inception_shapes(cin, c1, c2, c3, c4) -> dict[str, tuple]:
        convs = {"p1_1": (c1, cin, 1), "p2_1": (c2[0], cin, 1), "p2_2": (c2[1], c2[0], 3),
                 "p3_1": (c3[0], cin, 1), "p3_2": (c3[1], c3[0], 5), "p4_2": (c4, cin, 1)}
        shapes = {}
        for name, (o, i, k) in convs.items():
            shapes[f"{name}.weight"] = (o, i, k, k)
            shapes[f"{name}.bias"] = (o,)
        return shapes

    @staticmethod
    def inception(s: State, x: torch.Tensor) -> torch.Tensor:
        def conv(h, name, pad=0):
            return F.relu(F.conv2d(h, s[f"{name}.weight"], s[f"{name}.bias"], padding=pad))
        p1 = conv(x, "p1_1")
        p2 = conv(conv(x, "p2_1"), "p2_2", 1)
        p3 = conv(conv(x, "p3_1"), "p3_2", 2)
        p4 = conv(F.max_pool2d(x, 3, 1, 1), "p4_2")
        return torch.cat([p1, p2, p3, p4], dim=1)

    @staticmethod
    def _bn_shapes(prefix: str, c: int) -> dict[str, tuple]:
        return {f"{prefix}.weight": (c,), f"{prefix}.bias": (c,), f"{prefix}.running_mean": (c,),
                f"{prefix}.running_var": (c,), f"{prefix}.num_batches_tracked": ()}

    @staticmethod
    def resblock_shapes(cin: int, cout: int, stride: int) -> dict[str, tuple]:
        shapes = {"conv1.weight": (cout, cin, 3, 3), **Oracle._bn_shapes("bn1", cout),
                  "conv2.weight": (cout, cout, 3, 3), **Oracle._bn_shapes("bn2", cout)}
        if stride != 1 or cin != cout:
            shapes["shortcut.0.weight"] = (cout, cin, 1, 1)
            shapes.update(Oracle._bn_shapes("shortcut.1", cout))
        return shapes

    @staticmethod
    def resblock(s: State, x: torch.Tensor, stride: int, training: bool) -> torch.Tensor:
        def bn(h, p):
            return F.batch_norm(h, s[f"{p}.running_mean"].clone(), s[f"{p}.running_var"].clone(),
                                s[f"{p}.weight"], s[f"{p}.bias"], training=training, eps=1e-5)
        out = F.relu(bn(F.conv2d(x, s["conv1.weight"], stride=stride, padding=1), "bn1"))
        out = bn(F.conv2d(out, s["conv2.weight"], padding=1), "bn2")
        if "shortcut.0.weight" in s:
            short = bn(F.conv2d(x, s["shortcut.0.weight"], stride=stride), "shortcut.1")
        else:
            short = x
        return F.relu(out + short)

    @staticmethod
    def unet_shapes(cin: int, num_classes: int, b: int) -> dict[str, tuple]:
        shapes = {}
        for name, i, o in (("enc1", cin, b), ("enc2", b, 2 * b), ("middle", 2 * b, 4 * b),
                           ("dec2", 4 * b, 2 * b), ("dec1", 2 * b, b)):
            shapes.update({f"{name}.0.weight": (o, i, 3, 3), f"{name}.0.bias": (o,),
                           f"{name}.2.weight": (o, o, 3, 3), f"{name}.2.bias": (o,)})
        shapes.update({"up2.weight": (4 * b, 2 * b, 2, 2), "up2.bias": (2 * b,),
                       "up1.weight": (2 * b, b, 2, 2), "up1.bias": (b,),
                       "head.weight": (num_classes, b, 1, 1), "head.bias": (num_classes,)})
        return shapes

    @staticmethod
    def unet(s: State, x: torch.Tensor) -> torch.Tensor:
        def double(h, name):
            h = F.relu(F.conv2d(h, s[f"{name}.0.weight"], s[f"{name}.0.bias"], padding=1))
            return F.relu(F.conv2d(h, s[f"{name}.2.weight"], s[f"{name}.2.bias"], padding=1))
        e1 = double(x, "enc1")
        e2 = double(F.max_pool2d(e1, 2), "enc2")
        m = double(F.max_pool2d(e2, 2), "middle")
        u2 = F.conv_transpose2d(m, s["up2.weight"], s["up2.bias"], stride=2)
        d2 = double(torch.cat([e2, u2], dim=1), "dec2")
        u1 = F.conv_transpose2d(d2, s["up1.weight"], s["up1.bias"], stride=2)
        d1 = double(torch.cat([e1, u1], dim=1), "dec1")
        return F.conv2d(d1, s["head.weight"], s["head.bias"])

    @staticmethod
    def sequence_cnn_shapes(cin, num_classes, hidden, k) -> dict[str, tuple]:
        return {"conv1.weight": (hidden, cin, k), "conv1.bias": (hidden,),
                "conv2.weight": (hidden, hidden, k), "conv2.bias": (hidden,),
                "fc.weight": (num_classes, hidden), "fc.bias": (num_classes,)}

    @staticmethod
    def sequence_cnn(s: State, x: torch.Tensor) -> torch.Tensor:
        k = s["conv1.weight"].shape[-1]
        h = F.relu(F.conv1d(x, s["conv1.weight"], s["conv1.bias"], padding=k // 2))
        h = F.relu(F.conv1d(h, s["conv2.weight"], s["conv2.bias"], padding=k // 2))
        return F.linear(h.max(dim=2).values, s["fc.weight"], s["fc.bias"])

    @staticmethod
    def video_cnn_shapes(cin, num_classes, hidden) -> dict[str, tuple]:
        return {"conv1.weight": (hidden, cin, 3, 3, 3), "conv1.bias": (hidden,),
                "conv2.weight": (2 * hidden, hidden, 3, 3, 3), "conv2.bias": (2 * hidden,),
                "fc.weight": (num_classes, 2 * hidden), "fc.bias": (num_classes,)}

    @staticmethod
    def video_cnn(s: State, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(F.conv3d(x, s["conv1.weight"], s["conv1.bias"], padding=1))
        h = F.max_pool3d(h, (1, 2, 2), (1, 2, 2))
        h = F.relu(F.conv3d(h, s["conv2.weight"], s["conv2.bias"], padding=1))
        return F.linear(h.mean(dim=(2, 3, 4)), s["fc.weight"], s["fc.bias"])

    @staticmethod
    def grads(fn, s: State, x: torch.Tensor, dout: torch.Tensor) -> dict:
        """What an autograd probe of ``fn(s, x)`` with upstream gradient ``dout`` must return:
        ``{"output", "input_grads": [dx], "param_grads": {name: grad}}`` for every parameter
        (not buffer), by autograd in float64."""
        leaves = {k: (v.clone().requires_grad_() if not is_buffer(k) else v) for k, v in s.items()}
        xr = x.clone().requires_grad_()
        out = fn(leaves, xr)
        out.backward(dout)
        return {"output": out.detach(), "input_grads": [xr.grad],
                "param_grads": {k: v.grad for k, v in leaves.items() if not is_buffer(k)}}

    @staticmethod
    def small_vgg_shapes(cin: int, num_classes: int, stages) -> dict[str, tuple]:
        shapes = {}
        for s, (num_convs, cout) in enumerate(stages):
            shapes.update(Oracle.prefixed(Oracle.vgg_shapes(num_convs, cin, cout), f"features.{s}."))
            cin = cout
        shapes.update({"classifier.weight": (num_classes, cin), "classifier.bias": (num_classes,)})
        return shapes

    @staticmethod
    def small_vgg_stages(shapes: dict) -> list[tuple[int, int]]:
        """The (num_convs, out_channels) stages of a SmallVGG, read from its state dict's names
        and shapes (a state dict or its shapes)."""
        stages = []
        while f"features.{len(stages)}.0.weight" in shapes:
            prefix = f"features.{len(stages)}."
            num_convs = sum(1 for k in shapes if k.startswith(prefix) and k.endswith(".weight"))
            stages.append((num_convs, tuple(shapes[f"{prefix}0.weight"])[0]))
        return stages

    @staticmethod
    def small_vgg(s: State, x: torch.Tensor) -> torch.Tensor:
        """SmallVGG of the handout, its stages read from the state dict."""
        for stage, (num_convs, _) in enumerate(Oracle.small_vgg_stages(s)):
            x = Oracle.vgg(Oracle.part(s, f"features.{stage}."), x, num_convs)
        return F.linear(x.mean(dim=(2, 3)), s["classifier.weight"], s["classifier.bias"])

    @staticmethod
    def small_resnet_strides(channels, blocks_per_stage: int) -> list[int]:
        """The stride of every residual block: 2 for the first block of every stage but the first."""
        return [2 if stage > 0 and k == 0 else 1
                for stage in range(len(channels)) for k in range(blocks_per_stage)]

    @staticmethod
    def small_resnet_shapes(cin: int, num_classes: int, channels, blocks_per_stage: int) -> dict[str, tuple]:
        shapes = {"stem.0.weight": (channels[0], cin, 3, 3), **Oracle._bn_shapes("stem.1", channels[0])}
        previous = channels[0]
        strides = Oracle.small_resnet_strides(channels, blocks_per_stage)
        outs = [c for c in channels for _ in range(blocks_per_stage)]
        for i, (stride, c) in enumerate(zip(strides, outs, strict=True)):
            shapes.update(Oracle.prefixed(Oracle.resblock_shapes(previous, c, stride), f"blocks.{i}."))
            previous = c
        shapes.update({"fc.weight": (num_classes, previous), "fc.bias": (num_classes,)})
        return shapes

    @staticmethod
    def small_resnet(s: State, x: torch.Tensor, strides, training: bool) -> torch.Tensor:
        """SmallResNet of the handout: the stem, the residual blocks with ``strides``, the mean, fc."""
        stem = Oracle.part(s, "stem.")
        x = F.relu(F.batch_norm(F.conv2d(x, stem["0.weight"], padding=1), stem["1.running_mean"].clone(),
                                stem["1.running_var"].clone(), stem["1.weight"], stem["1.bias"],
                                training=training, eps=1e-5))
        for i, stride in enumerate(strides):
            x = Oracle.resblock(Oracle.part(s, f"blocks.{i}."), x, stride, training)
        return F.linear(x.mean(dim=(2, 3)), s["fc.weight"], s["fc.bias"])

    @staticmethod
    def part(s: State, prefix: str) -> State:
        """The entries of ``s`` whose names start with ``prefix``, without it."""
        return {k[len(prefix):]: v for k, v in s.items() if k.startswith(prefix)}

    @staticmethod
    def prefixed(entries: dict, prefix: str) -> dict:
        """``entries`` with ``prefix`` before every name (the inverse of ``part``)."""
        return {f"{prefix}{k}": v for k, v in entries.items()}

    @staticmethod
    def state64(state: dict) -> State:
        """A (student's) state dict in float64, buffers' integer counters kept."""
        return {k: (v.double() if v.is_floating_point() else v) for k, v in state.items()}

    # ------------------------------------------------------------------ training data
    @staticmethod
    def segmentation_data(n: int, rng: np.random.Generator, size: int = CANVAS):
        """``n`` segmentation images and their masks: (images float32 (n, 1, size, size), masks
        int64 (n, size, size)).

        Every image has 2 to 4 objects that do not touch (a pixel apart at least) on a tilted
        background (a random plane, up to 1 either side of 0 at the corners) with Gaussian noise
        (sd 0.25). The first object is a target, the others are targets or distractors, each
        brighter or darker than its background by 1 to 1.6 (the sign at random): the targets
        are filled disks and squares (radius 3 to 5), the distractors thin bars one pixel wide.
        The mask is 1 on the targets' pixels only. So no intensity threshold finds the targets:
        they are as often dark as bright, the bars share their contrast, and the background
        drifts by as much as the contrast."""
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
        images = np.empty((n, 1, size, size))
        masks = np.zeros((n, size, size), dtype=bool)
        for k in range(n):
            gx, gy = rng.uniform(-2.0, 2.0, 2) / size
            image = gx * (xx - size / 2) + gy * (yy - size / 2)
            taken = np.zeros((size, size), dtype=bool)
            for j in range(int(rng.integers(2, 5))):
                kind = rng.choice(["disk", "square", "bar", "bar"]) if j else rng.choice(["disk", "square"])
                for _ in range(20):
                    r = rng.uniform(3.0, 5.0)
                    cx, cy = rng.uniform(r, size - r, 2)
                    if kind == "disk":
                        shape = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
                    elif kind == "square":
                        shape = (np.abs(xx - cx) <= 0.85 * r) & (np.abs(yy - cy) <= 0.85 * r)
                    else:
                        angle = rng.uniform(0, np.pi)
                        along = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
                        across = (yy - cy) * np.cos(angle) - (xx - cx) * np.sin(angle)
                        shape = (np.abs(along) <= 1.6 * r) & (np.abs(across) <= 0.5)
                    if not (Oracle._grown(shape) & taken).any():
                        break
                else:
                    continue  # no room left for this object
                taken |= shape
                image = np.where(shape, image + rng.choice([-1.0, 1.0]) * rng.uniform(1.0, 1.6), image)
                if kind != "bar":
                    masks[k] |= shape
            images[k, 0] = image + 0.25 * rng.standard_normal((size, size))
        return torch.from_numpy(images).float(), torch.from_numpy(masks.astype(np.int64))

    @staticmethod
    def _grown(shape: np.ndarray) -> np.ndarray:
        """``shape`` (bool, 2-d) grown by one pixel in the 8 directions."""
        grown = shape.copy()
        grown[1:] |= shape[:-1]
        grown[:-1] |= shape[1:]
        grown[:, 1:] |= grown[:, :-1].copy()
        grown[:, :-1] |= grown[:, 1:].copy()
        return grown

    @staticmethod
    def iou(predicted: np.ndarray, target: np.ndarray) -> float:
        """Intersection over union of two boolean pixel sets (over all images at once)."""
        union = np.count_nonzero(predicted | target)
        return np.count_nonzero(predicted & target) / union if union else 1.0

    @staticmethod
    def shifted_digits(images: np.ndarray, rng: np.random.Generator, size: int = CANVAS) -> torch.Tensor:
        """8x8 digits (values 0..16) each pasted at a random offset on a blank size x size canvas,
        values / 16: a float32 tensor (N, 1, size, size)."""
        canvas = np.zeros((len(images), 1, size, size))
        offsets = rng.integers(0, size - 8 + 1, (len(images), 2))
        for k, (i, j) in enumerate(offsets.tolist()):
            canvas[k, 0, i:i + 8, j:j + 8] = images[k] / 16.0
        return torch.from_numpy(canvas).float()

    @staticmethod
    def shifted_digits_split(random_state: int, rng: np.random.Generator):
        """(X_train, y_train, X_test, y_test): the stratified 70/30 digits split ``random_state``,
        every digit at its own random offset (from ``rng``) on a 24x24 canvas."""
        from sklearn.model_selection import train_test_split

        pixels, labels = sklearn_digits()
        train, test = train_test_split(np.arange(len(labels)), test_size=0.3, random_state=random_state,
                                       stratify=labels)
        images = pixels.reshape(-1, 8, 8)
        y = torch.from_numpy(labels).long()
        return (Oracle.shifted_digits(images[train], rng), y[train],
                Oracle.shifted_digits(images[test], rng), y[test])

    # ------------------------------------------------------------------ digits
    @staticmethod
    def digits_32(images: np.ndarray) -> torch.Tensor:
        """(N, 1, 32, 32) float32: every pixel a 4x4 block (np.kron), values / 16."""
        x = np.stack([np.kron(img / 16.0, np.ones((4, 4))) for img in images])
        return torch.from_numpy(x[:, None]).float()

    @staticmethod
    def digits_split(random_state: int, test_size: float = 0.3):
        """(X_train, y_train, X_test, y_test) of scikit-learn's digits, stratified, as LeNet inputs."""
        from sklearn.model_selection import train_test_split

        pixels, labels = sklearn_digits()
        idx = np.arange(len(labels))
        train, test = train_test_split(idx, test_size=test_size, random_state=random_state,
                                       stratify=labels)
        X = Oracle.digits_32(pixels.reshape(-1, 8, 8))
        y = torch.from_numpy(labels).long()
        return X[train], y[train], X[test], y[test]

    @staticmethod
    def moved(X: torch.Tensor, rng: np.random.Generator, move: int) -> torch.Tensor:
        """Each image of X (N, 1, H, W) moved by its own random offset of -move .. move pixels
        down and right (from ``rng``), the pixels that leave dropped, zeros coming in."""
        padded = F.pad(X, (move, move, move, move))
        H, W = X.shape[-2:]
        out = torch.zeros_like(X)
        for k, (i, j) in enumerate(rng.integers(0, 2 * move + 1, (len(X), 2)).tolist()):
            out[k] = padded[k, :, i:i + H, j:j + W]
        return out

    @staticmethod
    def moved_digits_split(random_state: int, rng: np.random.Generator):
        """``digits_split(random_state)`` with every digit moved by up to ``DIGITS_MOVE`` pixels
        (``moved``): the training digits first, then the held-out ones, from ``rng``."""
        X, y, X_test, y_test = Oracle.digits_split(random_state)
        X = Oracle.moved(X, rng, Oracle.DIGITS_MOVE)
        return X, y, Oracle.moved(X_test, rng, Oracle.DIGITS_MOVE), y_test

    # ------------------------------------------------------------------ part C
    @staticmethod
    def box_cells(boxes, scale: int = 1) -> np.ndarray:
        """(K, H, W) bool: the cells of side 1 / scale of the grid from (0, 0) that each box
        covers (cell (y, x) lies in x1 <= x / scale < x2, y1 <= y / scale < y2). A box then
        covers (x2 - x1) * (y2 - y1) * scale**2 cells. Corners must be >= 0 and on the grid."""
        grid = np.asarray(boxes, dtype=np.float64) * scale
        corners = np.rint(grid).astype(np.int64)
        assert np.array_equal(corners, grid) and corners.min() >= 0, "corners must lie on the grid"
        cells = np.zeros((len(corners), corners[:, 3].max(), corners[:, 2].max()), dtype=bool)
        for k, (x1, y1, x2, y2) in enumerate(corners.tolist()):
            cells[k, y1:y2, x1:x2] = True
        return cells

    @staticmethod
    def cell_counts(boxes1, boxes2, scale: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(intersection, union): (N, M) int64 numbers of grid cells (see ``box_cells``)
        covered by both boxes1[i] and boxes2[j], and by either. IoU = intersection / union."""
        cells = Oracle.box_cells(np.concatenate([boxes1, boxes2]), scale)
        c1, c2 = cells[:len(boxes1), None], cells[None, len(boxes1):]
        return (c1 & c2).sum(axis=(2, 3)), (c1 | c2).sum(axis=(2, 3))

    @staticmethod
    def encode(anchors, boxes) -> np.ndarray:
        """(tx, ty, tw, th) of every box relative to its anchor, one row at a time."""
        rows = []
        for (a0, a1, a2, a3), (g0, g1, g2, g3) in zip(np.asarray(anchors).tolist(),
                                                       np.asarray(boxes).tolist(), strict=True):
            aw, ah, gw, gh = a2 - a0, a3 - a1, g2 - g0, g3 - g1
            rows.append([((g0 + g2) / 2 - (a0 + a2) / 2) / aw, ((g1 + g3) / 2 - (a1 + a3) / 2) / ah,
                         math.log(gw / aw), math.log(gh / ah)])
        return np.array(rows, dtype=np.float64)

    @staticmethod
    def decode(anchors, deltas) -> np.ndarray:
        """Boxes from anchors and (tx, ty, tw, th), one row at a time."""
        rows = []
        for (a0, a1, a2, a3), (tx, ty, tw, th) in zip(np.asarray(anchors).tolist(),
                                                       np.asarray(deltas).tolist(), strict=True):
            aw, ah = a2 - a0, a3 - a1
            x, y = (a0 + a2) / 2 + tx * aw, (a1 + a3) / 2 + ty * ah
            w, h = aw * math.exp(tw), ah * math.exp(th)
            rows.append([x - w / 2, y - h / 2, x + w / 2, y + h / 2])
        return np.array(rows, dtype=np.float64)

    @staticmethod
    def roi_corners(rois, spatial_scale: float) -> list[tuple[int, int, int, int, int]]:
        """(n, x1, y1, x2, y2) of every RoI, its corners scaled and rounded halves away from zero."""
        def rounded(v: float) -> int:
            return int(math.copysign(math.floor(abs(v) + 0.5), v))
        return [(int(r[0]), *(rounded(v * spatial_scale) for v in r[1:]))
                for r in np.asarray(rois, dtype=np.float64).tolist()]

    @staticmethod
    def roi_pool_inside(features, rois, output_size, spatial_scale, dout=None):
        """RoI pooling of RoIs that lie inside the feature map: each RoI's feature cells
        (corners included) pooled by torch's adaptive max pooling, whose bins are RoI pooling's
        (rows floor(i * h / oh) to ceil((i + 1) * h / oh)). out (K, C, oh, ow), or (out, dfeatures)
        when dout is given, by autograd in float64."""
        features_t = t64(features).requires_grad_(dout is not None)
        H, W = features_t.shape[2:]
        pooled = []
        for n, x1, y1, x2, y2 in Oracle.roi_corners(rois, spatial_scale):
            assert 0 <= x1 <= x2 < W and 0 <= y1 <= y2 < H, "this oracle needs RoIs inside the map"
            pooled.append(F.adaptive_max_pool2d(features_t[n:n + 1, :, y1:y2 + 1, x1:x2 + 1], output_size))
        out = torch.cat(pooled)
        if dout is None:
            return out.detach().numpy()
        out.backward(t64(dout))
        return out.detach().numpy(), features_t.grad.numpy()


class Checks(CheckBase):
    """Assertions shared by several graders (numpy arrays, tensors and autograd probes from
    ``CheckBase``); failures name what differs."""

    numpy_why = "this file is numpy only"
    numpy_tol = "float64_strict"
    integer_dtype = np.int64
    probe_labels = ProbeLabels(inputs=("the gradient of {name} with respect to x",),
                               param="the gradient of {param}",
                               missing_param="{name} has no parameter {param!r}")

    def pooling_matches(self, conv_numpy, kind: str, x: np.ndarray, pool: int, stride: int,
                        rng: np.random.Generator) -> None:
        """``<kind>_pool2d_forward`` and ``_backward`` of the student's module match torch's."""
        out, cache = getattr(conv_numpy, f"{kind}_pool2d_forward")(x, pool, stride)
        want_out = Oracle.pool2d(kind, x, pool, stride)
        self.numpy_close(out, want_out, name=f"{kind}_pool2d_forward({pool}, {stride})")
        dout = rng.standard_normal(want_out.shape)
        self.numpy_close(getattr(conv_numpy, f"{kind}_pool2d_backward")(dout, cache),
                         Oracle.pool2d(kind, x, pool, stride, dout)[1],
                         name=f"{kind}_pool2d_backward({pool}, {stride})")

    @staticmethod
    def lenet_digits_accuracy(models, random_state: int, rng: np.random.Generator, seed: int) -> float:
        """Held-out accuracy on the moved digits split ``random_state`` (offsets from ``rng``), by
        the grader's LeNet-5 forward pass with the weights that ``models.train_lenet`` returns."""
        X, y, X_test, y_test = Oracle.moved_digits_split(random_state, rng)
        model = models.train_lenet(X, y, 10, seed=seed)
        state = Checks.trained_state(model, "LeNet5(10)", Oracle.lenet_shapes(10))
        with torch.no_grad():
            predicted = Oracle.lenet(state, X_test.double()).argmax(dim=1)
        return float((predicted == y_test).double().mean())


    @staticmethod
    def trained_state(model, name: str, expected_shapes) -> State:
        """The float64 state dict of a trained model (a handle), after checking its names and
        shapes against ``expected_shapes`` (a dict, or a function of the state's shapes)."""
        state = Oracle.state64(model.state_dict())
        shapes = {k: tuple(v.shape) for k, v in state.items()}
        want = expected_shapes(shapes) if callable(expected_shapes) else expected_shapes
        assert shapes == want, f"the returned {name} does not have the handout's layers: {shapes}"
        return state

    @staticmethod
    def unet_iou(models, train_rng: np.random.Generator, test_rng: np.random.Generator, seed: int) -> float:
        """IoU, over 300 held-out images (from ``test_rng``), of the object pixels that the grader's
        U-Net forward pass finds with the weights that ``train_unet`` returns after training on 400
        images (from ``train_rng``)."""
        images, masks = Oracle.segmentation_data(400, train_rng)
        model = models.train_unet(images, masks, seed=seed)

        def expected(shapes):
            b = shapes.get("enc1.0.weight", (0,))[0]
            return Oracle.unet_shapes(1, 2, b)

        state = Checks.trained_state(model, "UNet(1, 2, base_channels)", expected)
        test_images, test_masks = Oracle.segmentation_data(300, test_rng)
        with torch.no_grad():
            scores = Oracle.unet(state, test_images.double())
        predicted = (scores[:, 1] > scores[:, 0]).numpy()
        return Oracle.iou(predicted, test_masks.numpy() == 1)

    @staticmethod
    def shifted_digits_accuracy(models, random_state: int, rng: np.random.Generator, seed: int) -> float:
        """Held-out accuracy, by the grader's SmallVGG forward pass with the weights that
        ``train_shifted_digits`` returns, on the shifted digits split ``random_state``."""
        X, y, X_test, y_test = Oracle.shifted_digits_split(random_state, rng)
        model = models.train_shifted_digits(X, y, 10, seed=seed)

        state = Checks.trained_state(model, "SmallVGG(1, 10, stages)",
                                     lambda shapes: Oracle.small_vgg_shapes(1, 10, Oracle.small_vgg_stages(shapes)))
        with torch.no_grad():
            predicted = Oracle.small_vgg(state, X_test.double()).argmax(dim=1)
        return float((predicted == y_test).double().mean())


@pytest.fixture(scope="session")
def oracle() -> Oracle:
    """Reference results (see ``Oracle``)."""
    return Oracle()


@pytest.fixture(scope="session")
def check() -> Checks:
    """Shared assertions (see ``Checks``)."""
    return Checks()


class Student:
    """Builds the student's modules in the worker, in float64, with given weights."""

    def __init__(self, submission):
        self.submission = submission

    def build(self, name: str, *args, state: State | None = None, **kwargs):
        """``models.<name>(*args, **kwargs)`` in float64, with ``state`` loaded (strict) when given."""
        module = getattr(self.submission.models, name)(*args, **kwargs)
        module.double()
        if state is not None:
            module.load_state_dict(state)
        return module

    def shapes(self, module) -> dict[str, tuple]:
        """{name: shape} of the module's whole state dict (parameters and buffers)."""
        return {k: tuple(v.shape) for k, v in module.state_dict().items()}


@pytest.fixture
def student(submission) -> Student:
    """Builders of the student's modules (see ``Student``)."""
    return Student(submission)
