"""Hidden tests for models.py: LeNet's sparse C3, gradients, shortcuts, skip connections, 1-d and 3-d CNNs."""

import numpy as np
import pytest
import torch


def _t(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape))


@pytest.mark.points(2)
def test_lenet5_c3_connection_table(submission, rng, oracle, check, student):
    """LeNet5's C3 uses LeCun's connection table: 1,672 weights of c1 and c3 learn, shared over 273,904 connections."""
    state = oracle.random_state(oracle.lenet_shapes(10), rng)
    model = student.build("LeNet5", 10, state=state)
    mask = model.state_dict()["c3_mask"]
    check.tensors_close(mask, oracle.lenet_c3_mask(), name="c3_mask")
    x = _t(rng, 4, 1, 32, 32)
    probe = submission.autograd_probe(model, [x], _t(rng, 4, 10), params=True)
    grads = probe["param_grads"]
    learning = sum(int(torch.count_nonzero(grads[k])) for k in ("c1.weight", "c1.bias", "c3.weight", "c3.bias"))
    assert learning == 1672, f"{learning} weights of c1 and c3 receive a gradient, expected 1672"
    # every weight is used at every position of its feature map (plus the bias)
    fan_in = mask.reshape(16, 6).sum(dim=1) * 25 + 1
    connections = 6 * 28 * 28 * 26 + int(fan_in.sum()) * 10 * 10
    assert connections == 273904, "the C3 table does not give the expected number of connections"


@pytest.mark.points(2)
def test_lenet5_26_classes_gradients(submission, rng, oracle, check, student):
    """LeNet5(26) for the 26 characters: outputs and all gradients match the handout's network."""
    state = oracle.random_state(oracle.lenet_shapes(26), rng)
    model = student.build("LeNet5", 26, state=state)
    x, dout = _t(rng, 3, 1, 32, 32), _t(rng, 3, 26)
    probe = submission.autograd_probe(model, [x], dout, params=True)
    check.probe_matches(probe, oracle.grads(oracle.lenet, state, x, dout), name="LeNet5(26)(x)")


@pytest.mark.points(1)
def test_digits_to_lenet_input(submission, rng, oracle, check):
    """digits_to_lenet_input upsamples 8x8 digits to (N, 1, 32, 32) float32 in [0, 1]."""
    images = rng.integers(0, 17, (5, 8, 8)).astype(np.float64)
    x = submission.models.digits_to_lenet_input(images)
    assert isinstance(x, torch.Tensor) and x.dtype == torch.float32, "the result must be a float32 tensor"
    check.tensors_close(x, oracle.digits_32(images), name="digits_to_lenet_input(images)")


@pytest.mark.points(1)
def test_vgg_block_three_convs_gradients(submission, rng, oracle, check, student):
    """vgg_block(3, 2, 5) has 3 convolutions (only the first reads 2 channels) and matches, gradients included."""
    shapes = oracle.vgg_shapes(3, 2, 5)
    state = oracle.random_state(shapes, rng)
    block = student.build("vgg_block", 3, 2, 5, state=state)
    x = _t(rng, 2, 2, 7, 6)
    dout = _t(rng, 2, 5, 3, 3)
    probe = submission.autograd_probe(block, [x], dout, params=True)
    check.probe_matches(probe, oracle.grads(lambda s, h: oracle.vgg(s, h, 3), state, x, dout),
                        name="vgg_block(3, 2, 5)(x)")


@pytest.mark.points(1)
def test_inception_channels_and_gradients(submission, rng, oracle, check, student):
    """Inception on an odd 5x9 input: output channels c1 + c2[1] + c3[1] + c4 in branch order, and gradients."""
    args = (4, 2, (3, 6), (1, 4), 3)
    state = oracle.random_state(oracle.inception_shapes(*args), rng)
    module = student.build("Inception", *args, state=state)
    x = _t(rng, 2, 4, 5, 9)
    dout = _t(rng, 2, 15, 5, 9)
    probe = submission.autograd_probe(module, [x], dout, params=True)
    check.probe_matches(probe, oracle.grads(oracle.inception, state, x, dout), name="Inception(x)")


@pytest.mark.points(2)
def test_residual_block_projection_when_channels_change(submission, rng, oracle, check, student):
    """ResidualBlock(4, 8) (stride 1) has a projection shortcut (1x1 conv + BN) and matches, in train and eval mode."""
    state = oracle.random_state(oracle.resblock_shapes(4, 8, 1), rng)
    block = student.build("ResidualBlock", 4, 8, 1)
    assert student.shapes(block) == {k: tuple(v.shape) for k, v in state.items()}, (
        "ResidualBlock(4, 8) does not have the handout's layers (a projection shortcut)"
    )
    block.load_state_dict(state)
    x = _t(rng, 3, 4, 6, 5)
    check.tensors_close(block(x), oracle.resblock(state, x, 1, training=True), name="ResidualBlock(x) (train)")
    block.load_state_dict(state)  # the training-mode call updated the running statistics
    block.eval()
    check.tensors_close(block(x), oracle.resblock(state, x, 1, training=False), name="ResidualBlock(x) (eval)")


@pytest.mark.parametrize(
    "channels, stride, size",
    [(6, 2, (8, 7)), (5, 1, (4, 6))],
    ids=["projection-for-stride-2", "identity"],
)
@pytest.mark.points(1)
def test_residual_block_gradients(submission, rng, oracle, check, student, channels, stride, size):
    """ResidualBlock(C, C, stride): a projection only when striding, x added before the final ReLU and left unchanged; gradients match."""
    state = oracle.random_state(oracle.resblock_shapes(channels, channels, stride), rng)
    block = student.build("ResidualBlock", channels, channels, stride, state=state)
    block.eval()
    x = _t(rng, 2, channels, *size)
    dout = _t(rng, 2, channels, *((s - 1) // stride + 1 for s in size))
    probe = submission.autograd_probe(block, [x], dout, params=True)
    expected = oracle.grads(lambda s, h: oracle.resblock(s, h, stride, training=False), state, x, dout)
    check.probe_matches(probe, expected, name=f"ResidualBlock({channels}, {channels}, {stride})(x)")


@pytest.mark.points(3)
def test_unet_skips_and_gradients(submission, rng, oracle, check, student):
    """UNet: skip first in each concatenation, at the right scale; output (N, C, H, W); all gradients match."""
    state = oracle.random_state(oracle.unet_shapes(2, 3, 3), rng)
    model = student.build("UNet", 2, 3, 3, state=state)
    x, dout = _t(rng, 2, 2, 8, 12), _t(rng, 2, 3, 8, 12)
    probe = submission.autograd_probe(model, [x], dout, params=True)
    check.probe_matches(probe, oracle.grads(oracle.unet, state, x, dout), name="UNet(x)")


@pytest.mark.points(1)
def test_sequence_cnn_any_length(submission, rng, oracle, check, student):
    """SequenceCNN: 'same' 1-d convolutions, a max over time and a linear layer, for lengths 9 and 20."""
    state = oracle.random_state(oracle.sequence_cnn_shapes(3, 4, 6, 5), rng)
    model = student.build("SequenceCNN", 3, 4, hidden=6, kernel_size=5, state=state)
    for L in (9, 20):
        x = _t(rng, 2, 3, L)
        check.tensors_close(model(x), oracle.sequence_cnn(state, x), name=f"SequenceCNN(x) with L={L}")
    x, dout = _t(rng, 2, 3, 12), _t(rng, 2, 4)
    probe = submission.autograd_probe(model, [x], dout, params=True)
    check.probe_matches(probe, oracle.grads(oracle.sequence_cnn, state, x, dout), name="SequenceCNN(x)")


@pytest.mark.points(1)
def test_video_cnn(submission, rng, oracle, check, student):
    """VideoCNN on clips (N, C, T, H, W): 3-d convolutions, spatial-only pooling, average pooling, gradients."""
    state = oracle.random_state(oracle.video_cnn_shapes(3, 5, 4), rng)
    model = student.build("VideoCNN", 3, 5, hidden=4, state=state)
    x, dout = _t(rng, 2, 3, 3, 6, 4), _t(rng, 2, 5)
    probe = submission.autograd_probe(model, [x], dout, params=True)
    check.probe_matches(probe, oracle.grads(oracle.video_cnn, state, x, dout), name="VideoCNN(x)")


@pytest.mark.points(2)
def test_small_vgg_stages_and_gradients(submission, rng, oracle, check, student):
    """SmallVGG(3, 5, ((2, 4), (1, 6))): two stages of vgg_block, the spatial mean, the classifier; all gradients match."""
    stages = ((2, 4), (1, 6))
    state = oracle.random_state(oracle.small_vgg_shapes(3, 5, stages), rng)
    model = student.build("SmallVGG", 3, 5, stages, state=state)
    x, dout = _t(rng, 2, 3, 8, 12), _t(rng, 2, 5)
    probe = submission.autograd_probe(model, [x], dout, params=True)
    check.probe_matches(probe, oracle.grads(oracle.small_vgg, state, x, dout), name="SmallVGG(3, 5, stages)(x)")


@pytest.mark.points(3)
def test_small_resnet_stages_train_and_eval(submission, rng, oracle, check, student):
    """SmallResNet(2, 4, (4, 6, 6), 2): stride 2 only at each later stage's first block, train and eval mode, gradients."""
    channels, per_stage = (4, 6, 6), 2
    shapes = oracle.small_resnet_shapes(2, 4, channels, per_stage)
    model = student.build("SmallResNet", 2, 4, channels, per_stage)
    assert student.shapes(model) == shapes, (
        "SmallResNet(2, 4, (4, 6, 6), 2) does not have the handout's layers (a projection where a block strides)")
    state = oracle.random_state(shapes, rng)
    model.load_state_dict(state)
    strides = oracle.small_resnet_strides(channels, per_stage)
    x = _t(rng, 3, 2, 12, 8)
    check.tensors_close(model(x), oracle.small_resnet(state, x, strides, training=True),
                        name="SmallResNet(x) (train)")
    model.load_state_dict(state)  # the training-mode call updated the running statistics
    model.eval()
    dout = _t(rng, 3, 4)
    probe = submission.autograd_probe(model, [x], dout, params=True)
    expected = oracle.grads(lambda s, h: oracle.small_resnet(s, h, strides, training=False), state, x, dout)
    check.probe_matches(probe, expected, name="SmallResNet(x) (eval)")


@pytest.mark.points(5)
def test_unet_segmentation_heldout(submission, rng, seed, oracle, check):
    """train_unet (another seed) reaches IoU >= 0.65 on held-out images drawn for your submission, by the grader's forward pass."""
    iou = check.unet_iou(submission.models, rng, rng, seed)
    assert iou >= oracle.UNET_IOU_BAR, f"held-out IoU {iou:.3f} < {oracle.UNET_IOU_BAR}"


@pytest.mark.points(5)
def test_shifted_digits_heldout(submission, rng, seed, oracle, check):
    """train_shifted_digits' SmallVGG classifies held-out digits at new offsets on a 24x24 canvas: accuracy >= 0.85 by the grader's forward pass."""
    accuracy = check.shifted_digits_accuracy(submission.models, int(rng.integers(0, 2**31)), rng, seed)
    assert accuracy >= oracle.SHIFTED_DIGITS_BAR, (
        f"held-out accuracy {accuracy:.3f} < {oracle.SHIFTED_DIGITS_BAR} (a linear model on the pixels reaches about 0.2)")
