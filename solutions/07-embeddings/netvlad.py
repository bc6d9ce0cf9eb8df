"""NetVLAD (a trainable VLAD layer) and a sequential VLAD for video, in torch.

Conventions used throughout this file:

- Local features are a feature map x (N, D, H, W): N images, D channels, and
  one D-dimensional local descriptor at each of the H * W positions.
- K is the number of clusters; the centroids c_k are a parameter (K, D).
- The soft assignment of the descriptor x_p at position p to cluster k is

      a_k(x_p) = exp(w_k . x_p + b_k) / sum_k' exp(w_k' . x_p + b_k')

  a softmax over the K clusters (not over positions) of a 1x1 convolution
  with K output channels. With w_k = 2 * alpha * c_k and
  b_k = -alpha * ||c_k||^2 it is the softmax of -alpha * ||x_p - c_k||^2:
  the larger alpha, the closer to a hard assignment.
- The aggregated residuals are V[k] = sum over p of a_k(x_p) * (x_p - c_k),
  (K, D); NetVLAD then intra-normalises every row, flattens to K * D and
  L2-normalises the whole vector (no power normalisation). Every
  normalisation is F.normalize(..., eps=1e-12).

Built from nn.Conv2d, nn.Parameter, torch.softmax and tensor operations.
"""

import torch
import torch.nn.functional as F
from torch import nn


class NetVLAD(nn.Module):
    """NetVLAD layer: (N, D, H, W) local features -> (N, K * D) global descriptors.

    Attributes (exactly these parameters, the grader loads a state_dict into them):
    - conv: nn.Conv2d(dim, num_clusters, kernel_size=1, bias=True); weight (K, D, 1, 1), bias (K,)
    - centroids: nn.Parameter (K, D)
    - alpha: float, the sharpness used by init_from_centroids
    """

    def __init__(self, num_clusters, dim, alpha=100.0):
        super().__init__()
        self.num_clusters = num_clusters
        self.dim = dim
        self.alpha = alpha
        self.conv = nn.Conv2d(dim, num_clusters, kernel_size=1, bias=True)
        self.centroids = nn.Parameter(torch.rand(num_clusters, dim))

    def init_from_centroids(self, centroids):
        """Set the centroids and the 1x1 convolution from given centroids and self.alpha (§2.1).

        centroids <- c; conv.weight[k, :, 0, 0] <- 2 * alpha * c_k; conv.bias[k] <- -alpha * ||c_k||^2.

        Inputs:
        - centroids: tensor (K, D)

        Returns nothing.
        """
        # BEGIN SOLUTION hint: §2.1: the centroids (K, D), conv.weight (K, D, 1, 1) and conv.bias (K,) set from the given centroids and self.alpha; nothing returned
        c = torch.as_tensor(centroids, dtype=self.centroids.dtype)
        with torch.no_grad():
            self.centroids.copy_(c)
            self.conv.weight.copy_((2.0 * self.alpha * c)[:, :, None, None])
            self.conv.bias.copy_(-self.alpha * (c**2).sum(dim=1))
        # END SOLUTION

    def soft_assignment(self, x):
        """Soft assignment of every local descriptor to the K clusters.

        Inputs:
        - x: (N, D, H, W)

        Returns:
        - a: (N, K, H, W); a[n, :, i, j] is a probability vector over the K clusters
        """
        # BEGIN SOLUTION hint: §2.1: the soft assignments a (N, K, H, W) of x (N, D, H, W)
        a = torch.softmax(self.conv(x), dim=1)
        # END SOLUTION
        return a

    def aggregate(self, x, a):
        """Residuals weighted by the soft assignment, summed over positions.

        V[n, k] = sum over (i, j) of a[n, k, i, j] * (x[n, :, i, j] - centroids[k])

        Inputs:
        - x: (N, D, H, W)
        - a: (N, K, H, W)
        (more trailing axes work too: every axis after the second is summed over)

        Returns:
        - V: (N, K, D)
        """
        # BEGIN SOLUTION hint: §2.2: the aggregated residuals V (N, K, D), differentiable in x, a and the centroids
        x_flat = x.flatten(2)  # (N, D, P)
        a_flat = a.flatten(2)  # (N, K, P)
        V = torch.bmm(a_flat, x_flat.transpose(1, 2)) - a_flat.sum(dim=2)[:, :, None] * self.centroids
        # END SOLUTION
        return V

    @staticmethod
    def normalize(V):
        """Intra-normalisation of every cluster's row, flatten, then global L2 normalisation.

        Inputs:
        - V: (N, K, D)

        Returns:
        - v: (N, K * D), unit norm rows
        """
        # BEGIN SOLUTION hint: §2.3: the global descriptors v (N, K * D) of V (N, K, D)
        v = F.normalize(V, p=2, dim=2, eps=1e-12).reshape(V.shape[0], -1)
        v = F.normalize(v, p=2, dim=1, eps=1e-12)
        # END SOLUTION
        return v

    def forward(self, x):
        """Inputs: x (N, D, H, W). Returns v (N, K * D): soft assignment, aggregate, normalize."""
        # BEGIN SOLUTION hint: §2.3: the global descriptors v (N, K * D) of x (N, D, H, W)
        v = self.normalize(self.aggregate(x, self.soft_assignment(x)))
        # END SOLUTION
        return v


class SequentialVLAD(NetVLAD):
    """A simplified sequential VLAD for video: (N, T, D, H, W) frame features -> (N, K * D).

    Simplification (of SeqVLAD, Xu et al. 2018, which computes the assignments
    with a convolutional GRU over time): the soft assignment of every frame is
    computed on its own, with NetVLAD's 1x1 convolution and softmax, and the
    weighted residuals are summed over all positions of all frames:

        V[n, k] = sum over t, i, j of a[n, t, k, i, j] * (x[n, t, :, i, j] - c_k)

    followed by NetVLAD's normalisations. Same parameters as NetVLAD.
    """

    def frame_assignments(self, x):
        """Per-frame soft assignments.

        Inputs:
        - x: (N, T, D, H, W)

        Returns:
        - a: (N, T, K, H, W); a[n, t] is self.soft_assignment of frame t
        """
        # BEGIN SOLUTION hint: §2.4: every frame's soft assignments (N, T, K, H, W) of x (N, T, D, H, W)
        N, T, D, H, W = x.shape
        a = self.soft_assignment(x.reshape(N * T, D, H, W)).reshape(N, T, self.num_clusters, H, W)
        # END SOLUTION
        return a

    def forward(self, x):
        """Inputs: x (N, T, D, H, W). Returns v (N, K * D), aggregated over time and space."""
        # BEGIN SOLUTION hint: §2.4: the video descriptors v (N, K * D) of x (N, T, D, H, W)
        a = self.frame_assignments(x)  # (N, T, K, H, W)
        # (N, D, T, H, W) and (N, K, T, H, W): aggregate sums over every axis after the second
        V = self.aggregate(x.transpose(1, 2), a.transpose(1, 2))
        v = self.normalize(V)
        # END SOLUTION
        return v
