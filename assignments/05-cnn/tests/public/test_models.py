"""Public tests for models.py: the networks against torch's functional API with copied weights."""

import numpy as np
import pytest
import torch


def _t(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape))


@pytest.mark.points(1)
def test_lenet5_shapes_and_parameter_count(rng, oracle, student):
    """LeNet5(10) has the handout's layers (61,706 parameters) and maps (N, 1, 32, 32) to (N, 10)."""
    model = student.build("LeNet5", 10)
    shapes = student.shapes(model)
    expected = oracle.lenet_shapes(10)
    assert shapes == expected, f"LeNet5's state_dict has {shapes}, expected {expected}"
    n_params = sum(int(torch.Size(s).numel()) for k, s in shapes.items() if k != "c3_mask")
    assert n_params == 61706, f"LeNet5(10) has {n_params} parameters, expected 61706"
    out = model(_t(rng, 2, 1, 32, 32))
    assert tuple(out.shape) == (2, 10), f"LeNet5 output has shape {tuple(out.shape)}, expected (2, 10)"


@pytest.mark.points(1)
def test_lenet5_forward_matches_reference(rng, oracle, check, student):
    """LeNet5's forward pass (tanh, average pooling, sparse C3) matches the handout's with copied weights."""
    state = oracle.random_state(oracle.lenet_shapes(10), rng)
    model = student.build("LeNet5", 10, state=state)
    x = _t(rng, 3, 1, 32, 32)
    check.tensors_close(model(x), oracle.lenet(state, x), name="LeNet5(x)")


@pytest.mark.points(1)
def test_vgg_block(rng, oracle, check, student):
    """vgg_block(2, 3, 8): two 3x3 convolutions with padding 1 and ReLU, then 2x2 max pooling."""
    state = oracle.random_state(oracle.vgg_shapes(2, 3, 8), rng)
    block = student.build("vgg_block", 2, 3, 8, state=state)
    x = _t(rng, 2, 3, 8, 6)
    check.tensors_close(block(x), oracle.vgg(state, x, 2), name="vgg_block(2, 3, 8)(x)")


@pytest.mark.points(1)
def test_inception_module(rng, oracle, check, student):
    """Inception's four branches are concatenated on channels, in order, keeping H x W."""
    args = (6, 4, (3, 5), (2, 3), 2)
    state = oracle.random_state(oracle.inception_shapes(*args), rng)
    module = student.build("Inception", *args, state=state)
    x = _t(rng, 2, 6, 7, 7)
    check.tensors_close(module(x), oracle.inception(state, x), name="Inception(x)")


@pytest.mark.points(1)
def test_residual_block_identity(rng, oracle, check, student):
    """ResidualBlock(8, 8) with an identity shortcut matches relu(bn2(conv2(...)) + x) in eval mode."""
    state = oracle.random_state(oracle.resblock_shapes(8, 8, 1), rng)
    block = student.build("ResidualBlock", 8, 8, 1, state=state)
    block.eval()
    x = _t(rng, 2, 8, 6, 6)
    check.tensors_close(block(x), oracle.resblock(state, x, 1, training=False), name="ResidualBlock(x)")


@pytest.mark.points(1)
def test_unet_keeps_spatial_size(rng, oracle, check, student):
    """UNet(3, 2, 4) maps (N, 3, 16, 12) to (N, 2, 16, 12) and matches the handout with copied weights."""
    state = oracle.random_state(oracle.unet_shapes(3, 2, 4), rng)
    model = student.build("UNet", 3, 2, 4, state=state)
    x = _t(rng, 2, 3, 16, 12)
    check.tensors_close(model(x), oracle.unet(state, x), name="UNet(x)")


@pytest.mark.points(2)
def test_lenet_digits_accuracy(submission, oracle, check):
    """train_lenet reaches at least 80% accuracy on held-out digits (8x8 upsampled to 32x32, moved by up to 4 pixels)."""
    # offsets and seed 0: the bar was tuned on this training run
    accuracy = check.lenet_digits_accuracy(submission.models, random_state=0,
                                           rng=np.random.default_rng(0), seed=0)
    assert accuracy >= oracle.DIGITS_BAR, (
        f"held-out accuracy {accuracy:.3f} < {oracle.DIGITS_BAR} (a linear model on the pixels reaches about 0.72)")


@pytest.mark.points(2)
def test_small_vgg_architecture(rng, oracle, check, student):
    """SmallVGG(1, 10) has the handout's layers and parameters and matches its forward pass with copied weights."""
    stages = ((1, 12), (1, 24), (1, 48))
    model = student.build("SmallVGG", 1, 10)
    expected = oracle.small_vgg_shapes(1, 10, stages)
    shapes = student.shapes(model)
    assert shapes == expected, f"SmallVGG(1, 10)'s state_dict has {shapes}, expected {expected}"
    n_params = sum(int(torch.Size(s).numel()) for s in shapes.values())
    assert n_params == 13642, f"SmallVGG(1, 10) has {n_params} parameters, expected 13642"
    state = oracle.random_state(expected, rng)
    model.load_state_dict(state)
    x = _t(rng, 3, 1, 24, 16)
    check.tensors_close(model(x), oracle.small_vgg(state, x), name="SmallVGG(1, 10)(x)")


@pytest.mark.points(2)
def test_small_resnet_architecture(rng, oracle, check, student):
    """SmallResNet(1, 10) has the handout's layers and parameters and matches its forward pass in eval mode."""
    channels = (8, 16, 32)
    model = student.build("SmallResNet", 1, 10)
    expected = oracle.small_resnet_shapes(1, 10, channels, 1)
    shapes = student.shapes(model)
    assert shapes == expected, f"SmallResNet(1, 10)'s state_dict has {shapes}, expected {expected}"
    n_params = sum(int(torch.Size(s).numel()) for k, s in shapes.items() if not k.endswith(
        ("running_mean", "running_var", "num_batches_tracked")))
    assert n_params == 19810, f"SmallResNet(1, 10) has {n_params} parameters, expected 19810"
    state = oracle.random_state(expected, rng)
    model.load_state_dict(state)
    model.eval()
    x = _t(rng, 2, 1, 12, 16)
    strides = oracle.small_resnet_strides(channels, 1)
    check.tensors_close(model(x), oracle.small_resnet(state, x, strides, training=False),
                        name="SmallResNet(1, 10)(x) in eval mode")


@pytest.mark.points(4)
def test_unet_segmentation_iou(submission, rng, seed, oracle, check):
    """train_unet's U-Net finds the disks and squares (not the bars) on held-out images: IoU >= 0.65 by the grader's forward pass."""
    iou = check.unet_iou(submission.models, rng, rng, seed)
    assert iou >= oracle.UNET_IOU_BAR, (
        f"held-out IoU {iou:.3f} < {oracle.UNET_IOU_BAR} (an intensity threshold reaches about 0.3)")
