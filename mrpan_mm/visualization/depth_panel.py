"""Depth panels: RGB | ground truth | prediction | error map, from arrays.

All images are RGB ``uint8`` arrays (H, W, 3); depth maps are float arrays
(H, W) in metres, where a value <= 0 or NaN means "no depth".
"""
from typing import List, Optional, Tuple

import cv2
import numpy as np
from matplotlib import colormaps

#: Error classes of :func:`classify_errors` and their RGB colours.
NO_DEPTH, GOOD, OVER, UNDER = 0, 1, 2, 3
ERROR_COLOURS = {
    NO_DEPTH: (40, 40, 40),
    GOOD: (0, 170, 60),
    OVER: (220, 40, 40),
    UNDER: (40, 100, 230),
}
TEXT_COLOUR = (255, 255, 255)


def valid_depth(depth: np.ndarray) -> np.ndarray:
    """Boolean mask (H, W) of finite, positive depth values."""
    return np.isfinite(depth) & (depth > 0)


def colorize_depth(depth: np.ndarray,
                   vmin: float,
                   vmax: float,
                   cmap: str = 'magma_r') -> np.ndarray:
    """Colour-map a depth map (H, W), metres, to RGB uint8 (H, W, 3).

    Depth is scaled linearly from [vmin, vmax] to the colour map's [0, 1]
    (clipped); pixels without depth are black.
    """
    if not vmax > vmin:
        raise ValueError(f'colour range needs vmax > vmin, got [{vmin}, '
                         f'{vmax}]')
    valid = valid_depth(depth)
    scaled = np.clip((np.where(valid, depth, vmin) - vmin) / (vmax - vmin),
                     0.0, 1.0)
    rgb = (colormaps[cmap](scaled)[..., :3] * 255.0).round().astype(np.uint8)
    rgb[~valid] = 0
    return rgb


def classify_errors(pred: np.ndarray,
                    gt: np.ndarray,
                    delta: float = 1.25) -> np.ndarray:
    """Per-pixel error class (H, W, uint8) of a prediction against gt.

    ``GOOD`` where max(pred/gt, gt/pred) < delta, ``OVER`` where
    pred/gt >= delta (too far), ``UNDER`` where gt/pred >= delta (too near,
    including pred <= 0), ``NO_DEPTH`` where the ground truth is invalid.
    """
    classes = np.full(gt.shape, NO_DEPTH, dtype=np.uint8)
    valid = valid_depth(gt)
    ratio = np.divide(np.nan_to_num(pred),
                      gt,
                      out=np.ones_like(gt, float),
                      where=valid)
    classes[valid & (ratio >= delta)] = OVER
    classes[valid & (ratio * delta <= 1.0)] = UNDER
    classes[valid & (ratio < delta) & (ratio * delta > 1.0)] = GOOD
    return classes


def render_error_map(classes: np.ndarray) -> np.ndarray:
    """Error classes (H, W) -> RGB uint8 (H, W, 3) in ``ERROR_COLOURS``."""
    lut = np.zeros((256, 3), dtype=np.uint8)
    for cls, colour in ERROR_COLOURS.items():
        lut[cls] = colour
    return lut[classes]


def _put_text(canvas: np.ndarray, text: str, box: Tuple[int, int, int,
                                                        int]) -> None:
    """Write ``text`` left-aligned, vertically centred in box (x, y, w, h)."""
    x, y, _, height = box
    scale = max(height / 40.0, 0.25)
    (_, text_h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.putText(canvas, text, (x + 2, y + (height + text_h) // 2),
                cv2.FONT_HERSHEY_SIMPLEX, scale, TEXT_COLOUR, 1, cv2.LINE_AA)


def _colour_bar(width: int, height: int, vmin: float, vmax: float,
                cmap: str) -> np.ndarray:
    ramp = np.linspace(vmin, vmax, width)[None].repeat(height, 0)
    bar = colorize_depth(ramp, vmin, vmax, cmap)
    _put_text(bar, f'{vmin:.2f}-{vmax:.2f} m', (0, 0, width, height))
    return bar


def _error_legend(width: int, height: int, delta: float) -> np.ndarray:
    legend = np.zeros((height, width, 3), dtype=np.uint8)
    entries = ((GOOD, f'd<{delta:g}'), (OVER, 'far'), (UNDER, 'near'))
    edges = np.linspace(0, width, len(entries) + 1).astype(int)
    for (cls, label), left, right in zip(entries, edges[:-1], edges[1:]):
        legend[:, left:right] = ERROR_COLOURS[cls]
        _put_text(legend, label, (left, 0, right - left, height))
    return legend


def _fit(depth: np.ndarray, shape: Tuple[int, int],
         interpolation: int) -> np.ndarray:
    """Resize a depth map (h, w) to ``shape`` (H, W) if it differs."""
    if depth.shape == tuple(shape):
        return depth
    return cv2.resize(depth.astype(np.float32), (shape[1], shape[0]),
                      interpolation=interpolation)


def render_depth_panel(image: np.ndarray,
                       pred: Optional[np.ndarray] = None,
                       gt: Optional[np.ndarray] = None,
                       depth_range: Optional[Tuple[float, float]] = None,
                       cmap: str = 'magma_r',
                       delta: float = 1.25,
                       band: int = 20) -> np.ndarray:
    """Side-by-side panel: RGB | ground truth | prediction | error map.

    Tiles are the image's size (H, W); depth maps of another size are
    resized to it (nearest for the ground truth, bilinear for the
    prediction). The ground-truth and error tiles need ``gt``, the
    prediction and error tiles need ``pred``. Each tile has a title band of
    ``band`` pixels above it; when depth is drawn, a band below holds the
    colour bar (depth tiles) or the error legend (error tile).

    Args:
        image: RGB image (H, W, 3), uint8.
        pred: Predicted depth (h, w), metres.
        gt: Ground-truth depth (h, w), metres; <= 0 means no measurement.
        depth_range: (vmin, vmax) in metres shared by both depth tiles;
            default: the valid ground-truth range, else the prediction's.
        cmap: Matplotlib colour map name for depth.
        delta: Ratio threshold separating good pixels from misestimates.
        band: Height in pixels of the title and legend bands.

    Returns:
        RGB uint8 array (H + band [+ band], W * number of tiles, 3).
    """
    shape = image.shape[:2]
    if gt is not None:
        gt = _fit(gt, shape, cv2.INTER_NEAREST)
    if pred is not None:
        pred = _fit(pred, shape, cv2.INTER_LINEAR)
    vmin, vmax = depth_range or _auto_range(pred, gt)
    tiles: List[Tuple[str, np.ndarray,
                      Optional[np.ndarray]]] = [('RGB', image, None)]
    bar = _colour_bar(shape[1], band, vmin, vmax, cmap)
    for title, depth in (('ground truth', gt), ('prediction', pred)):
        if depth is not None:
            tiles.append((title, colorize_depth(depth, vmin, vmax, cmap), bar))
    if gt is not None and pred is not None:
        tiles.append(
            ('error', render_error_map(classify_errors(pred, gt, delta)),
             _error_legend(shape[1], band, delta)))
    with_footer = len(tiles) > 1
    columns = []
    for title, body, footer in tiles:
        header = np.zeros((band, shape[1], 3), dtype=np.uint8)
        _put_text(header, title, (0, 0, shape[1], band))
        parts = [header, body]
        if with_footer:
            parts.append(
                footer if footer is not None else np.zeros_like(header))
        columns.append(np.concatenate(parts, axis=0))
    return np.concatenate(columns, axis=1)


def render_depth_colormap(depth: np.ndarray,
                          depth_range: Optional[Tuple[float, float]] = None,
                          cmap: str = 'magma_r',
                          band: int = 20) -> np.ndarray:
    """Colour-mapped depth with its range written in a colour bar below.

    Args:
        depth: Depth (H, W), metres; <= 0 or NaN is drawn black.
        depth_range: (vmin, vmax) in metres; default: the valid range.
        cmap: Matplotlib colour map name.
        band: Height in pixels of the colour bar.

    Returns:
        RGB uint8 array (H + band, W, 3).
    """
    vmin, vmax = depth_range or _auto_range(depth, None)
    return np.concatenate([
        colorize_depth(depth, vmin, vmax, cmap),
        _colour_bar(depth.shape[1], band, vmin, vmax, cmap)
    ])


def _auto_range(pred: Optional[np.ndarray],
                gt: Optional[np.ndarray]) -> Tuple[float, float]:
    """(min, max) of the valid ground truth, else of the prediction."""
    for depth in (gt, pred):
        if depth is not None and valid_depth(depth).any():
            values = depth[valid_depth(depth)]
            low, high = float(values.min()), float(values.max())
            return low, high if high > low else low + 1.0
    return 0.0, 1.0
