"""Colour augmentation missing from mmseg/mmcv."""
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmseg.registry import TRANSFORMS

# AlexNet's PCA of ImageNet RGB pixels (0..1 scale), as in Hu et al.'s
# ``loaddata.py`` (``__imagenet_pca``): eigenvalues and eigenvectors
# (column j is the eigenvector of eigenvalue j), RGB order.
IMAGENET_PCA_EIGVAL = (0.2175, 0.0188, 0.0045)
IMAGENET_PCA_EIGVEC = ((-0.5675, 0.7192, 0.4009),
                       (-0.5808, -0.0045, -0.8140),
                       (-0.5836, -0.6948, 0.4203))
# ITU-R 601 luma weights of Hu's ``Grayscale`` (R, G, B).
LUMA_RGB = (0.299, 0.587, 0.114)
CHANNEL_ORDERS = ('rgb', 'bgr')


def _to_rgb_index(channel_order: str) -> list:
    """Indices that read an image of ``channel_order`` in R, G, B order."""
    if channel_order not in CHANNEL_ORDERS:
        raise ValueError(f'channel_order must be one of {CHANNEL_ORDERS}, '
                         f'got {channel_order!r}')
    return [0, 1, 2] if channel_order == 'rgb' else [2, 1, 0]


@TRANSFORMS.register_module()
class PCALighting(BaseTransform):
    """AlexNet's PCA lighting noise, as Hu et al.'s ``Lighting``.

    Hu's ``Lighting(0.1, eigval, eigvec)`` (``nyu_transform.py``) draws
    ``alpha ~ N(0, alphastd)`` (3 values) and adds to every pixel of the
    RGB tensor in 0..1 the colour ``eigvec @ (alpha * eigval)``, without
    clipping.  Here the image is in 0..``value_range`` (255 for mmseg's
    uint8 images), so the colour is scaled by ``value_range``; channels are
    matched by ``channel_order`` (mmseg loads BGR).  The output is float32
    in the same 0..``value_range`` units, unclipped: mmseg's
    ``SegDataPreProcessor`` with ``mean = 255 * Hu's mean`` and
    ``std = 255 * Hu's std`` then gives exactly Hu's normalised tensor.

    Randomness: ``np.random.normal(0, alphastd, 3)``, one call per image.

    Required keys: ``img`` (H, W, 3).  Modified keys: ``img`` (float32).

    Args:
        alphastd: Standard deviation of the PCA coefficients.
        eigval: The 3 eigenvalues (RGB PCA, 0..1 scale).
        eigvec: 3x3 matrix, column j the eigenvector of ``eigval[j]``.
        value_range: Pixel value of Hu's 1.0.
        channel_order: Channel order of ``img``, ``'bgr'`` or ``'rgb'``.
    """

    def __init__(self,
                 alphastd: float = 0.1,
                 eigval: Sequence[float] = IMAGENET_PCA_EIGVAL,
                 eigvec: Sequence[Sequence[float]] = IMAGENET_PCA_EIGVEC,
                 value_range: float = 255.0,
                 channel_order: str = 'bgr') -> None:
        if alphastd < 0:
            raise ValueError(f'alphastd must be >= 0, got {alphastd}')
        self.alphastd = alphastd
        self.eigval = np.asarray(eigval, dtype=np.float32)
        self.eigvec = np.asarray(eigvec, dtype=np.float32)
        if self.eigval.shape != (3, ) or self.eigvec.shape != (3, 3):
            raise ValueError('eigval must have 3 values and eigvec 3x3, got '
                             f'{self.eigval.shape} and {self.eigvec.shape}')
        self.value_range = value_range
        self.channel_order = channel_order
        self._rgb = _to_rgb_index(channel_order)

    @cache_randomness
    def _draw_alpha(self) -> np.ndarray:
        return np.random.normal(0, self.alphastd, 3).astype(np.float32)

    def transform(self, results: dict) -> dict:
        rgb_shift = self.eigvec @ (self._draw_alpha() * self.eigval)
        shift = np.empty(3, np.float32)
        shift[self._rgb] = rgb_shift * self.value_range
        results['img'] = results['img'].astype(np.float32) + shift
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(alphastd={self.alphastd}, '
                f'value_range={self.value_range}, '
                f"channel_order='{self.channel_order}')")


@TRANSFORMS.register_module()
class RandomOrderColorJitter(BaseTransform):
    """Hu et al.'s ``ColorJitter``: brightness, contrast, saturation blends
    applied every time, in a random order.

    Mirrors ``ColorJitter(RandomOrder)`` of Hu's ``nyu_transform.py`` (from
    fb.resnet.torch).  Each enabled step (in the order brightness,
    contrast, saturation, skipping a strength of 0) is a linear blend
    ``img.lerp(target, a) = img + a * (target - img)`` with
    ``a ~ U(-var, var)`` drawn when the step runs; the target is

    * brightness: 0 (so ``img * (1 - a)``);
    * contrast: the mean of the grayscale image, a constant;
    * saturation: the grayscale image ``0.299 R + 0.587 G + 0.114 B`` in
      every channel.

    The steps run in the order of a random permutation; there is no hue
    step, no probability of skipping and no clipping.  Every step is linear
    in the pixel values, so the result in 0..255 is 255 times Hu's in 0..1.

    Randomness: ``np.random.permutation(n_steps)``, then one
    ``np.random.uniform(-var, var)`` per step in the permuted order.

    Required keys: ``img`` (H, W, 3).  Modified keys: ``img`` (float32).

    Args:
        brightness: ``var`` of the brightness step (0 disables it).
        contrast: ``var`` of the contrast step.
        saturation: ``var`` of the saturation step.
        channel_order: Channel order of ``img``, ``'bgr'`` or ``'rgb'``.
    """

    def __init__(self,
                 brightness: float = 0.4,
                 contrast: float = 0.4,
                 saturation: float = 0.4,
                 channel_order: str = 'bgr') -> None:
        strengths = dict(
            brightness=brightness, contrast=contrast, saturation=saturation)
        for name, var in strengths.items():
            if var < 0:
                raise ValueError(f'{name} must be >= 0, got {var}')
        self.steps = [(name, var) for name, var in strengths.items() if var]
        self.channel_order = channel_order
        luma = np.empty(3, np.float32)
        luma[_to_rgb_index(channel_order)] = LUMA_RGB
        self.luma = luma

    @cache_randomness
    def _draw_steps(self) -> list:
        """[(step name, blend factor a)] in the order they are applied."""
        order = np.random.permutation(len(self.steps))
        draws = []
        for index in order:
            name, var = self.steps[index]
            draws.append((name, np.random.uniform(-var, var)))
        return draws

    def _target(self, name: str, img: np.ndarray) -> np.ndarray:
        if name == 'brightness':
            return np.zeros_like(img)
        gray = (img @ self.luma)[..., None]
        if name == 'contrast':
            return np.full_like(img, gray.mean(dtype=np.float32))
        return np.broadcast_to(gray, img.shape)

    def transform(self, results: dict) -> dict:
        img = results['img'].astype(np.float32)
        for name, alpha in self._draw_steps():
            img = img + np.float32(alpha) * (self._target(name, img) - img)
        results['img'] = img
        return results

    def __repr__(self) -> str:
        steps = ', '.join(f'{name}={var}' for name, var in self.steps)
        return (f'{self.__class__.__name__}({steps}, '
                f"channel_order='{self.channel_order}')")
