"""Colour augmentation missing from mmseg/mmcv."""
import itertools

import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomChannelSwap(BaseTransform):
    """Permute the colour channels of ``img`` with probability ``prob``.

    DenseDepth's augmentation (Alhashim & Wonka, 2018): the permutation is
    drawn uniformly from all ``3! = 6`` orders, the identity included, so an
    image actually changes with probability ``prob * 5 / 6``.  Their paper
    states ``prob = 0.25``; their PyTorch loader uses 0.5.

    Required keys: ``img`` (H x W x C).  Modified keys: ``img``.

    Args:
        prob: Probability of drawing a permutation.
    """

    def __init__(self, prob: float = 0.25) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = prob

    @cache_randomness
    def _draw_order(self, num_channels: int) -> tuple:
        """A channel order, the identity when no swap is drawn."""
        orders = list(itertools.permutations(range(num_channels)))
        if np.random.rand() >= self.prob:
            return orders[0]
        return orders[np.random.randint(len(orders))]

    def transform(self, results: dict) -> dict:
        order = self._draw_order(results['img'].shape[2])
        results['img'] = np.ascontiguousarray(results['img'][..., order])
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob})'
