"""Procedural RGB-D indoor rooms for the offline CPU demo.

:func:`render_scene` ray-casts one random furnished room;
:func:`make_demo_dataset` writes a deterministic NYU-layout dataset of them,
with per-pixel class maps (:mod:`.labels`).
"""
from .baseline import majority_class_baseline, mean_depth_baseline
from .camera import Camera, pixel_rays, scaled_intrinsics
from .dataset import make_demo_dataset
from .render import render_labelled_view, render_scene, render_view
from .scene import Scene, sample_scene
from .seg_dataset import DemoRoomsSegDataset

__all__ = [
    'Camera', 'DemoRoomsSegDataset', 'Scene', 'majority_class_baseline',
    'make_demo_dataset', 'mean_depth_baseline', 'pixel_rays',
    'render_labelled_view', 'render_scene', 'render_view', 'sample_scene',
    'scaled_intrinsics'
]
