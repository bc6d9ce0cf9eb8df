"""The obvious shortcuts fail 05-cnn's training bars, on the graders' own data and seeds (issue 23).

05-cnn's ``train_unet`` is judged by the intersection over union of the object pixels that the
grader's own U-Net forward pass finds, with the returned weights, on held-out images (disks
and squares to find, thin bars of the same contrast to leave, either polarity, on a tilted
noisy background). Here: thresholding the pixel intensity, the obvious shortcut, in either
direction and at the best threshold for the held-out images themselves, stays far below the
bar; so do thresholding the distance from each image's median and calling every pixel an
object.

``train_shifted_digits`` is judged by the accuracy of the grader's SmallVGG forward pass on
held-out digits pasted at random offsets on a 24x24 canvas: the best linear model on the
pixels (scikit-learn's logistic regression, tuned on the held-out digits themselves) cannot
even fit its training set, since a digit's class is tied to no pixel; translation
equivariance and pooling are what a CNN brings.
"""

from __future__ import annotations

import importlib.util
from types import ModuleType

import numpy as np
import pytest

from autograder.config import load_course
from autograder.plugin import test_seed as seed_of_test
from tests.conftest import REPO

CNN = load_course(REPO).assignment("05-cnn")
PUBLIC_UNET_TEST = "public/test_models.py::test_unet_segmentation_iou"
#: the public test's data, and other draws standing for the hidden tests' (per submission)
UNET_SEEDS = (seed_of_test(PUBLIC_UNET_TEST), *range(6))
DIGITS_DRAWS = ((0, 0), (12345, 1))  # (split random_state, offsets' seed)
#: the most a shortcut may reach: far below the bars, not just under them
SEGMENTATION_CEILING = 0.5
DIGITS_CEILING = 0.3


def _graders_conftest() -> ModuleType:
    """05-cnn's ``tests/conftest.py`` (its ``Oracle``, data and bars), loaded as a module."""
    path = CNN.root / "tests" / "conftest.py"
    spec = importlib.util.spec_from_file_location("graders_conftest_05_cnn", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def graders() -> ModuleType:
    return _graders_conftest()


@pytest.fixture(scope="module")
def held_out_segmentation(graders) -> list[tuple[np.ndarray, np.ndarray]]:
    return segmentation_draws(graders)


def segmentation_draws(graders) -> list[tuple[np.ndarray, np.ndarray]]:
    """(images (300, 24, 24), masks (300, 24, 24) bool) as the U-Net tests draw them after the
    400 training images, for each of UNET_SEEDS."""
    draws = []
    for seed in UNET_SEEDS:
        rng = np.random.default_rng(seed)
        graders.Oracle.segmentation_data(400, rng)
        images, masks = graders.Oracle.segmentation_data(300, rng)
        draws.append((images[:, 0].numpy().astype(np.float64), masks.numpy() == 1))
    return draws


def _best_threshold_iou(graders, values: np.ndarray, masks: np.ndarray, both_ways: bool) -> float:
    """The best IoU of ``values > t`` (and of ``values < t`` when ``both_ways``) over thresholds t."""
    best = 0.0
    for t in np.quantile(values, np.linspace(0.0, 1.0, 201)):
        best = max(best, graders.Oracle.iou(values > t, masks))
        if both_ways:
            best = max(best, graders.Oracle.iou(values < t, masks))
    return best


def segmentation_shortcut_ious(graders, draws) -> dict[str, list[float]]:
    """Per shortcut, its best IoU on each draw: thresholding the intensity (either way), the
    distance from the image's median, and calling every pixel an object."""
    scores = {"intensity": [], "distance from the median": [], "every pixel": []}
    for images, masks in draws:
        scores["intensity"].append(_best_threshold_iou(graders, images, masks, both_ways=True))
        distance = np.abs(images - np.median(images, axis=(1, 2), keepdims=True))
        scores["distance from the median"].append(
            _best_threshold_iou(graders, distance, masks, both_ways=False))
        scores["every pixel"].append(graders.Oracle.iou(np.ones_like(masks), masks))
    return scores


def test_intensity_thresholds_stay_far_below_the_segmentation_bar(graders, held_out_segmentation):
    bar = graders.Oracle.UNET_IOU_BAR
    assert SEGMENTATION_CEILING <= bar - 0.15
    for _, masks in held_out_segmentation:
        assert 0.1 < masks.mean() < 0.25  # objects are there, and not everywhere
    scores = segmentation_shortcut_ious(graders, held_out_segmentation)
    for name, values in scores.items():
        print(f"segmentation by {name}: best IoU {max(values):.3f}")
        assert max(values) < SEGMENTATION_CEILING, f"thresholding the {name}: {values}"
    # the raw intensity, what the bar is about, stays lower still
    assert max(scores["intensity"]) < 0.4


def test_the_segmentation_targets_are_as_often_dark_as_bright(graders, held_out_segmentation):
    """Why an intensity threshold fails: half the object pixels lie below the median, half above."""
    for images, masks in held_out_segmentation:
        above = images > np.median(images, axis=(1, 2), keepdims=True)
        share = above[masks].mean()
        assert 0.35 < share < 0.65


def shifted_digits_logistic_accuracy(graders, random_state: int, offsets_seed: int) -> float:
    """Held-out accuracy of logistic regression on the shifted digits' pixels (best C, tuned on
    the held-out digits themselves)."""
    from sklearn.linear_model import LogisticRegression

    X, y, X_test, y_test = graders.Oracle.shifted_digits_split(
        random_state, np.random.default_rng(offsets_seed))
    X, X_test = X.reshape(len(X), -1).numpy(), X_test.reshape(len(X_test), -1).numpy()
    return max(LogisticRegression(C=C, max_iter=500).fit(X, y.numpy()).score(X_test, y_test.numpy())
               for C in (0.01, 0.1, 1.0))


def test_logistic_regression_stays_far_below_the_shifted_digits_bar(graders):
    bar = graders.Oracle.SHIFTED_DIGITS_BAR
    assert DIGITS_CEILING <= bar - 0.5
    for random_state, offsets_seed in DIGITS_DRAWS:
        best = shifted_digits_logistic_accuracy(graders, random_state, offsets_seed)
        print(f"logistic regression on shifted digits ({random_state}): {best:.3f}")
        assert best < DIGITS_CEILING, f"logistic regression reached {best:.3f}"


def test_the_shifted_digits_canvas_holds_every_digit_whole(graders):
    """Each digit's 64 pixels are all on the canvas, at offsets spread over the whole of it."""
    from autograder.testing import sklearn_digits

    pixels, _ = sklearn_digits()
    rng = np.random.default_rng(3)
    canvas = graders.Oracle.shifted_digits(pixels[:200].reshape(-1, 8, 8), rng).numpy()
    assert canvas.shape == (200, 1, 24, 24)
    np.testing.assert_allclose(canvas.sum(axis=(1, 2, 3)), pixels[:200].sum(axis=1) / 16.0, rtol=1e-6)
    rows = np.nonzero(canvas.any(axis=(1, 3)))[1]
    cols = np.nonzero(canvas.any(axis=(1, 2)))[1]
    assert rows.min() <= 1 and rows.max() >= 22 and cols.min() <= 1 and cols.max() >= 22
