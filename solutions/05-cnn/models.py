"""Convolutional networks in torch: LeNet-5, VGG blocks, an Inception module, a
ResNet basic block, a small U-Net, a 1-d CNN for sequences, a 3-d CNN for video
clips, whole small VGG and ResNet networks; LeNet-5 trained on handwritten
digits, a SmallVGG trained on digits anywhere on a larger canvas, and a U-Net
trained to segment objects by their shape (handout part B, sections B1 to B10).

Allowed: nn.Conv1d/2d/3d, nn.ConvTranspose2d, nn.Linear, pooling layers
(nn.MaxPool*, nn.AvgPool*, F.max_pool*, F.avg_pool*), nn.BatchNorm*,
activations, torch.cat, torch.optim. torchvision is not allowed.

Conventions: images are (N, C, H, W), sequences (N, C, L), clips
(N, C, T, H, W), all channels first as in torch. The grader copies its own
weights into your modules with load_state_dict, so the attribute names, the
layer order inside every nn.Sequential and the layers' settings (kernel size,
padding, bias) must be exactly those given in the docstrings. No function or
forward pass modifies its inputs (in-place operations on x change the caller's
tensor, and autograd refuses them on a tensor that needs a gradient).
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# LeNet-5's C3 connection table (LeCun et al. 1998, Table I): C3_TABLE[k] lists the
# S2 feature maps that C3's feature map k reads. 60 connections in all.
C3_TABLE = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


def c3_connection_mask():
    """The C3 connection table as a 0/1 float32 tensor of shape (16, 6, 1, 1):
    mask[k, m] = 1 if C3's map k reads S2's map m (C3_TABLE), else 0."""
    mask = torch.zeros(16, 6, 1, 1)
    for k, maps in enumerate(C3_TABLE):
        for m in maps:
            mask[k, m] = 1.0
    return mask


class LeNet5(nn.Module):
    """LeNet-5 for 32x32 single-channel images, with the sparse C3 of the original.

    Layers, in order (tanh after every layer except the last):

        c1: nn.Conv2d(1, 6, 5)        (N, 1, 32, 32) -> (N, 6, 28, 28), tanh
        s2: 2x2 average pooling        -> (N, 6, 14, 14)
        c3: nn.Conv2d(6, 16, 5)        -> (N, 16, 10, 10), tanh; map k reads only the
            S2 maps of C3_TABLE[k]: use the weight c3.weight * c3_mask
        s4: 2x2 average pooling        -> (N, 16, 5, 5)
        c5: nn.Conv2d(16, 120, 5)      -> (N, 120, 1, 1), tanh, flattened to (N, 120)
        f6: nn.Linear(120, 84)         -> (N, 84), tanh
        output: nn.Linear(84, num_classes) -> (N, num_classes), the scores (no tanh)

    Attributes:
    - c1, c3, c5: nn.Conv2d; f6, output: nn.Linear
    - c3_mask: a buffer (self.register_buffer) holding c3_connection_mask()

    c1 and c3 share about 1,700 weights over about 274,000 connections: every
    weight of a filter is used at every position of its feature map.

    Inputs to the constructor:
    - num_classes: C, e.g. 10 digits or 26 characters
    """

    def __init__(self, num_classes=10):
        super().__init__()
        # BEGIN SOLUTION hint: handout B1: the five layers of the docstring, and the connection table as the buffer c3_mask
        self.c1 = nn.Conv2d(1, 6, 5)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, num_classes)
        self.register_buffer("c3_mask", c3_connection_mask())
        # END SOLUTION

    def forward(self, x):
        """Inputs: x (N, 1, 32, 32). Returns: scores (N, num_classes).

        x is not modified.
        """
        # BEGIN SOLUTION hint: handout B1: C3 convolves with its masked weight, so unconnected weights get no gradient
        x = F.avg_pool2d(torch.tanh(self.c1(x)), 2)
        x = torch.tanh(F.conv2d(x, self.c3.weight * self.c3_mask, self.c3.bias))
        x = F.avg_pool2d(x, 2)
        x = torch.tanh(self.c5(x)).flatten(1)
        x = torch.tanh(self.f6(x))
        return self.output(x)
        # END SOLUTION

    def predict(self, x):
        """Inputs: x (N, 1, 32, 32). Returns: int64 tensor (N,), the argmax class.

        x is not modified.
        """
        with torch.no_grad():
            return self.forward(x).argmax(dim=1)


def digits_to_lenet_input(images):
    """scikit-learn's 8x8 digits as LeNet-5 inputs.

    Each pixel becomes a 4x4 block of the same value (nearest-neighbour
    upsampling, 8x8 -> 32x32) and the values 0..16 are divided by 16.

    Inputs:
    - images: numpy array (N, 8, 8), values 0..16 (load_digits().images)

    Returns:
    - x: float32 tensor (N, 1, 32, 32), values in [0, 1];
      x[n, 0, 4 * i + a, 4 * j + b] = images[n, i, j] / 16 for a, b in 0..3

    images is not modified.
    """
    # BEGIN SOLUTION hint: handout B2: every pixel becomes a 4x4 block, scaled to [0, 1], with a channel axis
    x = np.repeat(np.repeat(np.asarray(images, dtype=np.float64) / 16.0, 4, axis=1), 4, axis=2)
    x = torch.from_numpy(x[:, None]).float()
    # END SOLUTION
    return x


def train_lenet(X, y, num_classes=10, seed=0):
    """Train a LeNet5 on images X with labels y and return it.

    You choose the optimiser, the epochs and the batch size. The grader trains
    on about 1,300 digits (digits_to_lenet_input), each moved by up to 4 pixels,
    and needs at least 80% accuracy on held-out digits moved the same way; a
    call may take at most 60 s, but aim for a few seconds on one CPU core. Seed
    everything with `seed` (torch.manual_seed).

    Inputs:
    - X: float32 tensor (N, 1, 32, 32)
    - y: int64 tensor (N,), labels 0 .. num_classes-1
    - num_classes: int
    - seed: int

    Returns: the trained LeNet5, in float32.

    X and y are not modified.
    """
    # BEGIN SOLUTION hint: handout B2: minibatches of the cross-entropy loss, an adaptive optimiser, a few epochs
    torch.manual_seed(seed)
    model = LeNet5(num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    n = X.shape[0]
    for _ in range(10):
        perm = torch.randperm(n)
        for i in range(0, n, 64):
            idx = perm[i : i + 64]
            loss = F.cross_entropy(model(X[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model
    # END SOLUTION


def vgg_block(num_convs, in_channels, out_channels):
    """A VGG block: num_convs 3x3 convolutions that keep the size, then 2x2 max pooling.

    Returns an nn.Sequential with exactly these layers, in this order:

        nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 3, padding=1), nn.ReLU(),
        ... (num_convs convolutions in all) ...,
        nn.MaxPool2d(2, stride=2)

    so (N, in_channels, H, W) -> (N, out_channels, H // 2, W // 2).

    Inputs:
    - num_convs: int >= 1
    - in_channels, out_channels: ints

    Returns: the nn.Sequential
    """
    # BEGIN SOLUTION hint: handout B3: the layers of the docstring, in order; only the first convolution reads in_channels
    layers = []
    for k in range(num_convs):
        layers.append(nn.Conv2d(in_channels if k == 0 else out_channels, out_channels, 3, padding=1))
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(2, stride=2))
    block = nn.Sequential(*layers)
    # END SOLUTION
    return block


class Inception(nn.Module):
    """GoogLeNet's Inception module (version 1): four parallel branches whose
    outputs, all of spatial size H x W, are concatenated on the CHANNEL axis.

    Branches (ReLU after every convolution):
    - 1: p1_1 = nn.Conv2d(in_channels, c1, 1)
    - 2: p2_1 = nn.Conv2d(in_channels, c2[0], 1), then p2_2 = nn.Conv2d(c2[0], c2[1], 3, padding=1)
    - 3: p3_1 = nn.Conv2d(in_channels, c3[0], 1), then p3_2 = nn.Conv2d(c3[0], c3[1], 5, padding=2)
    - 4: 3x3 max pooling with stride 1 and padding 1, then p4_2 = nn.Conv2d(in_channels, c4, 1)

    Inputs to the constructor:
    - in_channels: int
    - c1: int; c2: pair of ints; c3: pair of ints; c4: int

    forward: x (N, in_channels, H, W) -> (N, c1 + c2[1] + c3[1] + c4, H, W),
    the branches concatenated in the order 1, 2, 3, 4.
    """

    def __init__(self, in_channels, c1, c2, c3, c4):
        super().__init__()
        # BEGIN SOLUTION hint: handout B4: the six convolutions of the docstring
        self.p1_1 = nn.Conv2d(in_channels, c1, 1)
        self.p2_1 = nn.Conv2d(in_channels, c2[0], 1)
        self.p2_2 = nn.Conv2d(c2[0], c2[1], 3, padding=1)
        self.p3_1 = nn.Conv2d(in_channels, c3[0], 1)
        self.p3_2 = nn.Conv2d(c3[0], c3[1], 5, padding=2)
        self.p4_2 = nn.Conv2d(in_channels, c4, 1)
        # END SOLUTION

    def forward(self, x):
        """Inputs: x (N, in_channels, H, W). Returns: (N, c1 + c2[1] + c3[1] + c4, H, W).

        x is not modified.
        """
        # BEGIN SOLUTION hint: handout B4: four branches of the input's size, joined on the channel axis in order
        p1 = F.relu(self.p1_1(x))
        p2 = F.relu(self.p2_2(F.relu(self.p2_1(x))))
        p3 = F.relu(self.p3_2(F.relu(self.p3_1(x))))
        p4 = F.relu(self.p4_2(F.max_pool2d(x, 3, stride=1, padding=1)))
        return torch.cat((p1, p2, p3, p4), dim=1)
        # END SOLUTION


class ResidualBlock(nn.Module):
    """ResNet's basic block (two 3x3 convolutions) with an identity or projection shortcut.

        out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))

    - conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
    - bn1 = nn.BatchNorm2d(out_channels)
    - conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
    - bn2 = nn.BatchNorm2d(out_channels)
    - shortcut: the identity (nn.Identity()) when stride == 1 and
      in_channels == out_channels; otherwise a PROJECTION,
      nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                    nn.BatchNorm2d(out_channels))

    The ReLU comes AFTER the addition.

    forward: x (N, in_channels, H, W) -> (N, out_channels, H', W') with
    H' = conv_output_size(H, 3, stride, 1) (H // 2 for an even H and stride 2).
    """

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        # BEGIN SOLUTION hint: handout B5: the shortcut is a projection whenever the output's shape differs from the input's
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        else:
            self.shortcut = nn.Identity()
        # END SOLUTION

    def forward(self, x):
        """Inputs: x (N, in_channels, H, W). Returns: (N, out_channels, H', W').

        x is not modified.
        """
        # BEGIN SOLUTION hint: handout B5: where the shortcut joins the residual branch
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))
        # END SOLUTION


def double_conv(in_channels, out_channels):
    """Two 3x3 convolutions that keep the spatial size, each followed by a ReLU:
    nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU(),
                  nn.Conv2d(out_channels, out_channels, 3, padding=1), nn.ReLU())."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.ReLU(),
        nn.Conv2d(out_channels, out_channels, 3, padding=1), nn.ReLU(),
    )


class UNet(nn.Module):
    """A small U-Net with two downsamplings; the output keeps the input's H x W.

    With b = base_channels, for x (N, in_channels, H, W), H and W divisible by 4:

        e1 = enc1(x)                          enc1 = double_conv(in_channels, b)   (N, b, H, W)
        e2 = enc2(max_pool2d(e1, 2))          enc2 = double_conv(b, 2b)            (N, 2b, H/2, W/2)
        m  = middle(max_pool2d(e2, 2))        middle = double_conv(2b, 4b)         (N, 4b, H/4, W/4)
        d2 = dec2(cat([e2, up2(m)]))          up2 = nn.ConvTranspose2d(4b, 2b, 2, stride=2)
                                              dec2 = double_conv(4b, 2b)           (N, 2b, H/2, W/2)
        d1 = dec1(cat([e1, up1(d2)]))         up1 = nn.ConvTranspose2d(2b, b, 2, stride=2)
                                              dec1 = double_conv(2b, b)            (N, b, H, W)
        out = head(d1)                        head = nn.Conv2d(b, num_classes, 1)  (N, num_classes, H, W)

    cat is torch.cat on the channel axis with the SKIP connection (the encoder's
    output at the same scale) FIRST and the upsampled decoder features second.

    Inputs to the constructor:
    - in_channels, num_classes: ints
    - base_channels: b, int
    """

    def __init__(self, in_channels, num_classes, base_channels=8):
        super().__init__()
        # BEGIN SOLUTION hint: handout B6: the eight layers of the docstring, from double_conv
        b = base_channels
        self.enc1 = double_conv(in_channels, b)
        self.enc2 = double_conv(b, 2 * b)
        self.middle = double_conv(2 * b, 4 * b)
        self.up2 = nn.ConvTranspose2d(4 * b, 2 * b, 2, stride=2)
        self.dec2 = double_conv(4 * b, 2 * b)
        self.up1 = nn.ConvTranspose2d(2 * b, b, 2, stride=2)
        self.dec1 = double_conv(2 * b, b)
        self.head = nn.Conv2d(b, num_classes, 1)
        # END SOLUTION

    def forward(self, x):
        """Inputs: x (N, in_channels, H, W). Returns: scores (N, num_classes, H, W).

        x is not modified.
        """
        # BEGIN SOLUTION hint: handout B6: each decoder level reads the encoder's output at its own scale, skip first
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        m = self.middle(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([e2, self.up2(m)], dim=1))
        d1 = self.dec1(torch.cat([e1, self.up1(d2)], dim=1))
        return self.head(d1)
        # END SOLUTION


class SequenceCNN(nn.Module):
    """A 1-d CNN for sequence classification; works for any length L.

        conv1 = nn.Conv1d(in_channels, hidden, kernel_size, padding=kernel_size // 2), ReLU
        conv2 = nn.Conv1d(hidden, hidden, kernel_size, padding=kernel_size // 2), ReLU
        global max pooling over time: (N, hidden, L) -> (N, hidden)
        fc = nn.Linear(hidden, num_classes)

    Inputs to the constructor:
    - in_channels, num_classes: ints
    - hidden: int, channels of both convolutions
    - kernel_size: odd int

    forward: x (N, in_channels, L) -> scores (N, num_classes)
    """

    def __init__(self, in_channels, num_classes, hidden=16, kernel_size=5):
        super().__init__()
        # BEGIN SOLUTION hint: handout B7: two length-preserving 1-d convolutions and a linear layer
        self.conv1 = nn.Conv1d(in_channels, hidden, kernel_size, padding=kernel_size // 2)
        self.conv2 = nn.Conv1d(hidden, hidden, kernel_size, padding=kernel_size // 2)
        self.fc = nn.Linear(hidden, num_classes)
        # END SOLUTION

    def forward(self, x):
        """Inputs: x (N, in_channels, L). Returns: scores (N, num_classes).

        x is not modified.
        """
        # BEGIN SOLUTION hint: handout B7: the global pooling over time of the docstring
        h = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.fc(h.amax(dim=2))
        # END SOLUTION


class VideoCNN(nn.Module):
    """A 3-d CNN for short video clips (N, C, T, H, W).

        conv1 = nn.Conv3d(in_channels, hidden, 3, padding=1), ReLU   (N, hidden, T, H, W)
        max pooling with kernel and stride (1, 2, 2): space only     (N, hidden, T, H/2, W/2)
        conv2 = nn.Conv3d(hidden, 2 * hidden, 3, padding=1), ReLU    (N, 2*hidden, T, H/2, W/2)
        global average pooling over time and space                   (N, 2*hidden)
        fc = nn.Linear(2 * hidden, num_classes)                      (N, num_classes)

    Inputs to the constructor:
    - in_channels, num_classes, hidden: ints

    forward: x (N, in_channels, T, H, W), H and W even -> scores (N, num_classes)
    """

    def __init__(self, in_channels, num_classes, hidden=8):
        super().__init__()
        # BEGIN SOLUTION hint: handout B7: two 3-d convolutions and a linear layer
        self.conv1 = nn.Conv3d(in_channels, hidden, 3, padding=1)
        self.conv2 = nn.Conv3d(hidden, 2 * hidden, 3, padding=1)
        self.fc = nn.Linear(2 * hidden, num_classes)
        # END SOLUTION

    def forward(self, x):
        """Inputs: x (N, in_channels, T, H, W). Returns: scores (N, num_classes).

        x is not modified.
        """
        # BEGIN SOLUTION hint: handout B7: pooling in space only, then the mean over time and space
        h = F.relu(self.conv1(x))
        h = F.max_pool3d(h, (1, 2, 2))
        h = F.relu(self.conv2(h))
        return self.fc(h.mean(dim=(2, 3, 4)))
        # END SOLUTION


class SmallVGG(nn.Module):
    """A whole (small) VGG network: stages of vgg_block, global average pooling and one
    linear layer (handout section B8).

    With stages = ((n_1, c_1), (n_2, c_2), ..., (n_S, c_S)):

        features = nn.Sequential(vgg_block(n_1, in_channels, c_1),
                                 vgg_block(n_2, c_1, c_2), ..., vgg_block(n_S, c_{S-1}, c_S))
                                                   (N, in_channels, H, W) -> (N, c_S, H / 2**S, W / 2**S)
        global average pooling over both spatial axes                    -> (N, c_S)
        classifier = nn.Linear(c_S, num_classes)                         -> (N, num_classes)

    Inputs to the constructor:
    - in_channels, num_classes: ints
    - stages: sequence of (num_convs, out_channels) pairs, one per vgg_block

    forward: x (N, in_channels, H, W), H and W divisible by 2**S -> scores (N, num_classes).
    x is not modified.
    """

    def __init__(self, in_channels=1, num_classes=10, stages=((1, 12), (1, 24), (1, 48))):
        super().__init__()
        # BEGIN SOLUTION hint: handout B8: one vgg_block per stage, each reading the previous stage's channels
        blocks = []
        channels = in_channels
        for num_convs, out_channels in stages:
            blocks.append(vgg_block(num_convs, channels, out_channels))
            channels = out_channels
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Linear(channels, num_classes)
        # END SOLUTION

    def forward(self, x):
        """Inputs: x (N, in_channels, H, W). Returns: scores (N, num_classes)."""
        # BEGIN SOLUTION hint: handout B8: the features, their mean over the spatial axes, the classifier
        return self.classifier(self.features(x).mean(dim=(2, 3)))
        # END SOLUTION


class SmallResNet(nn.Module):
    """A whole (small) ResNet for small images, as the ResNet paper's CIFAR-10 networks
    (handout section B8).

    With channels = (c_1, ..., c_S) and B = blocks_per_stage:

        stem = nn.Sequential(nn.Conv2d(in_channels, c_1, 3, padding=1, bias=False),
                             nn.BatchNorm2d(c_1), nn.ReLU())       (N, c_1, H, W)
        blocks = nn.Sequential(of S * B ResidualBlock): stage s (s = 1 .. S) holds B blocks;
                 the first reads c_{s-1} channels (c_1 for stage 1) and has stride 2 in every
                 stage but the first; the others read c_s channels with stride 1
                                                                   (N, c_S, H / 2**(S-1), W / 2**(S-1))
        global average pooling over both spatial axes              (N, c_S)
        fc = nn.Linear(c_S, num_classes)                           (N, num_classes)

    Inputs to the constructor:
    - in_channels, num_classes: ints
    - channels: sequence of S ints
    - blocks_per_stage: int >= 1

    forward: x (N, in_channels, H, W) -> scores (N, num_classes). x is not modified.
    """

    def __init__(self, in_channels=1, num_classes=10, channels=(8, 16, 32), blocks_per_stage=1):
        super().__init__()
        # BEGIN SOLUTION hint: handout B8: the stem, then the residual stages in order, then the linear layer
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, channels[0], 3, padding=1, bias=False),
            nn.BatchNorm2d(channels[0]), nn.ReLU(),
        )
        blocks = []
        previous = channels[0]
        for s, c in enumerate(channels):
            for k in range(blocks_per_stage):
                stride = 2 if s > 0 and k == 0 else 1
                blocks.append(ResidualBlock(previous, c, stride))
                previous = c
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(previous, num_classes)
        # END SOLUTION

    def forward(self, x):
        """Inputs: x (N, in_channels, H, W). Returns: scores (N, num_classes)."""
        # BEGIN SOLUTION hint: handout B8: stem, blocks, the mean over the spatial axes, fc
        return self.fc(self.blocks(self.stem(x)).mean(dim=(2, 3)))
        # END SOLUTION


def he_init(model):
    """Re-initialise every convolution of ``model`` (in place) with He's normal
    initialisation (std sqrt(2 / fan_in), for ReLU networks) and zero biases; torch's
    default is smaller, and a deep ReLU network then starts learning slowly. Returns model."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return model


def train_shifted_digits(X, y, num_classes=10, seed=0):
    """Train a SmallVGG on digits placed at random offsets on a larger canvas, and return it
    (handout section B9).

    The grader evaluates the returned network with its own forward pass (your weights, its
    code) on held-out digits at other offsets, in evaluation mode, and needs the accuracy of
    the handout. You choose the stages, the optimiser, the epochs and the batch size. Seed
    everything with `seed` (torch.manual_seed). A call may take at most 60 s; aim for a few
    seconds on one CPU core.

    Inputs:
    - X: float32 tensor (N, 1, 24, 24), values in [0, 1]
    - y: int64 tensor (N,), labels 0 .. num_classes-1
    - num_classes: int
    - seed: int

    Returns: the trained SmallVGG(1, num_classes, stages), in float32.

    X and y are not modified.
    """
    # BEGIN SOLUTION hint: handout B9: a SmallVGG trained on minibatches; see the handout on its initialisation
    torch.manual_seed(seed)
    model = SmallVGG(1, num_classes, ((1, 12), (1, 24), (1, 48)))
    he_init(model)
    epochs, batch = 10, 32
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    steps = epochs * ((X.shape[0] + batch - 1) // batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, total_steps=steps)
    for _ in range(epochs):
        perm = torch.randperm(X.shape[0])
        for i in range(0, X.shape[0], batch):
            idx = perm[i : i + batch]
            loss = F.cross_entropy(model(X[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    return model
    # END SOLUTION


def train_unet(images, masks, seed=0):
    """Train a UNet to segment images into background (class 0) and objects (class 1), and
    return it (handout section B10).

    The grader evaluates the returned network with its own forward pass (your weights, its
    code) on held-out images that you never see: a pixel is predicted as an object where
    the class-1 score is the larger, and the intersection over union of the predicted and
    true object pixels, over all held-out images, must reach the handout's bar. You choose
    base_channels, the optimiser, the loss, the epochs and the batch size. Seed everything
    with `seed` (torch.manual_seed). A call may take at most 60 s; aim for a few seconds.

    Inputs:
    - images: float32 tensor (N, 1, 24, 24)
    - masks: int64 tensor (N, 24, 24), 1 on object pixels, 0 elsewhere
    - seed: int

    Returns: the trained UNet(1, 2, base_channels), in float32.

    images and masks are not modified.
    """
    # BEGIN SOLUTION hint: handout B10: a two-class UNet trained on minibatches; see the handout on its initialisation and on the rarer object pixels
    torch.manual_seed(seed)
    model = UNet(1, 2, 8)
    he_init(model)
    epochs, batch = 8, 16
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    steps = epochs * ((images.shape[0] + batch - 1) // batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=5e-3, total_steps=steps)
    weight = torch.tensor([1.0, 2.0])
    for _ in range(epochs):
        perm = torch.randperm(images.shape[0])
        for i in range(0, images.shape[0], batch):
            idx = perm[i : i + batch]
            loss = F.cross_entropy(model(images[idx]), masks[idx], weight=weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    return model
    # END SOLUTION
