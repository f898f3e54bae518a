"""The two attention modules of MRPAN's MACA neck (both reconstructed).

The MRPAN paper names a global attention module (GAM) that weighs scales and
a spatial attention module (SAM) that aggregates pixel context, without
giving their layers.  The layouts below are our reconstruction from the
paper's description: GAM is a softmax over scales of an SE-style squeeze
(global average pool + shared MLP); SAM is DANet's position attention
(with ACAN-style pixel context) computed through
:func:`torch.nn.functional.scaled_dot_product_attention`.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptMultiConfig
from torch import Tensor


@MODELS.register_module()
class GlobalAttentionModule(BaseModule):
    """Global attention over scales (GAM, reconstructed).

    Given S feature maps of the same shape (the S backbone levels resized and
    projected to one target level), each map is squeezed by global average
    pooling, passed through one MLP shared by all scales
    (``channels -> hidden -> channels``), and a softmax across
    the S scales turns the logits into per-scale, per-channel weights that sum
    to 1 over scales.  Each map is multiplied by its weights.

    Args:
        channels (int): Channels C of every scale's feature map.
        reduction (int): Reduction ratio of the MLP's hidden layer. Defaults
            to 16.
        min_hidden_channels (int): Lower bound of the hidden width
            ``max(channels // reduction, min_hidden_channels)``, so that narrow
            branches (SENet-154's level 0 has 16 channels per scale) do not
            get a single, easily dead, hidden unit. Defaults to 4.
        act_cfg (dict): Activation of the MLP's hidden layer.
            Defaults to ``dict(type='ReLU')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 channels: int,
                 reduction: int = 16,
                 min_hidden_channels: int = 4,
                 act_cfg: ConfigType = dict(type='ReLU'),
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        if reduction < 1 or min_hidden_channels < 1:
            raise ValueError('reduction and min_hidden_channels must be >= 1, '
                             f'got {reduction} and {min_hidden_channels}')
        hidden_channels = max(channels // reduction, min_hidden_channels)
        self.mlp = nn.Sequential(
            nn.Linear(channels, hidden_channels),
            build_activation_layer(act_cfg),
            nn.Linear(hidden_channels, channels))

    def scale_weights(self, x: Tensor) -> Tensor:
        """Attention weights of every scale.

        Args:
            x (Tensor): Stacked scales, shape (N, S, C, H, W).

        Returns:
            Tensor: Weights of shape (N, S, C), non-negative, summing to 1
            over the scale dimension S.
        """
        if x.dim() != 5:
            raise ValueError('GlobalAttentionModule expects stacked scales '
                             f'of shape (N, S, C, H, W), got '
                             f'{tuple(x.shape)}')
        return self.mlp(x.mean(dim=(3, 4))).softmax(dim=1)

    def forward(self, x: Tensor) -> Tensor:
        """Weigh every scale by its attention.

        Args:
            x (Tensor): Stacked scales, shape (N, S, C, H, W).

        Returns:
            Tensor: Weighted scales, shape (N, S, C, H, W).
        """
        return x * self.scale_weights(x)[..., None, None]


@MODELS.register_module()
class SpatialAttentionModule(BaseModule):
    """Spatial (position) attention over all pixels (SAM, reconstructed).

    For X of shape (N, C, H, W): Q = W_q X and K = W_k X with C_qk =
    ``max(C // qk_ratio, 1)`` channels, V = W_v X with C channels (1x1
    convolutions), A = softmax(Q^T K / sqrt(C_qk)) over the key positions, and
    ``out = X + gamma * (V A^T)`` where gamma is a learnable scalar
    initialised at 0 (so the module starts as the identity).

    With ``kv_stride > 1`` the keys and values are computed from X
    average-pooled by ``kv_stride`` (windows clipped at the border, so odd
    sizes work), which divides the attention cost by ``kv_stride ** 2``.

    The attention goes through
    :func:`~torch.nn.functional.scaled_dot_product_attention`; the (HW x HW)
    affinity matrix is never built.  The fused kernels (flash attention, on
    CPU too) need contiguous inputs with one head size for Q, K and V, so Q
    and K are zero-padded to C channels: the padding leaves Q^T K unchanged
    and the scale 1/sqrt(C_qk) is passed explicitly.  Otherwise PyTorch falls
    back to its math path, which materialises the (HW x HW') matrix.

    Args:
        channels (int): Channels C of the input.
        qk_ratio (int): Reduction of the query/key channels. Defaults to 8.
        kv_stride (int): Average-pooling stride applied to the input of the
            key and value projections. Defaults to 1.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 channels: int,
                 qk_ratio: int = 8,
                 kv_stride: int = 1,
                 init_cfg: OptMultiConfig = None):
        super().__init__(init_cfg=init_cfg)
        if qk_ratio < 1:
            raise ValueError(f'qk_ratio must be >= 1, got {qk_ratio}')
        if kv_stride < 1:
            raise ValueError(f'kv_stride must be >= 1, got {kv_stride}')
        self.channels = channels
        self.qk_channels = max(channels // qk_ratio, 1)
        self.kv_stride = kv_stride
        self.query = nn.Conv2d(channels, self.qk_channels, 1)
        self.key = nn.Conv2d(channels, self.qk_channels, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    @staticmethod
    def _tokens(x: Tensor, width: int) -> Tensor:
        """(N, c, H, W) -> contiguous (N, 1, H*W, width), zero-padding c."""
        tokens = x.flatten(2).transpose(1, 2).unsqueeze(1)
        if x.size(1) < width:
            tokens = F.pad(tokens, (0, width - x.size(1)))
        return tokens.contiguous()

    def attention(self, x: Tensor) -> Tensor:
        """The attended values ``V A^T`` (without the residual and gamma).

        Args:
            x (Tensor): Input of shape (N, C, H, W).

        Returns:
            Tensor: Shape (N, C, H, W).
        """
        n, c, h, w = x.shape
        kv_input = x
        if self.kv_stride > 1:
            kv_input = F.avg_pool2d(
                x, self.kv_stride, self.kv_stride, ceil_mode=True)
        out = F.scaled_dot_product_attention(
            self._tokens(self.query(x), c),
            self._tokens(self.key(kv_input), c),
            self._tokens(self.value(kv_input), c),
            scale=self.qk_channels**-0.5)
        return out.squeeze(1).transpose(1, 2).reshape(n, c, h, w)

    def forward(self, x: Tensor) -> Tensor:
        """Add gamma-weighted spatial context to the input.

        Args:
            x (Tensor): Input of shape (N, C, H, W).

        Returns:
            Tensor: Shape (N, C, H, W).
        """
        if x.dim() != 4 or x.size(1) != self.channels:
            raise ValueError(
                f'SpatialAttentionModule built for {self.channels} channels '
                f'expects (N, {self.channels}, H, W), got {tuple(x.shape)}')
        return x + self.gamma * self.attention(x)
