"""Tests of the procedural RGB-D demo rooms (``mrpan_mm.demo``)."""
import dataclasses
import hashlib
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile
from mmseg.datasets import NYUDataset
from mmseg.datasets.transforms import LoadDepthAnnotation

from mrpan_mm.demo import (Camera, make_demo_dataset, mean_depth_baseline,
                           pixel_rays, render_labelled_view, render_scene,
                           render_view, sample_scene, scaled_intrinsics)
from mrpan_mm.demo.furniture import BUILDERS, sample_pieces
from mrpan_mm.demo.labels import CLASSES, IGNORE_INDEX, box_class
from mrpan_mm.demo.raycast import (intersect_boxes, intersect_room,
                                   segments_blocked)
from mrpan_mm.demo.render import cast_from_camera
from mrpan_mm.demo.scene import CAMERA_RIGS
from tools_runner import call_tool

SIZE = (48, 64)
SMALL = dict(num_train=6, num_test=3, size=SIZE, seed=3, rig='tripod')


def empty_room(size, box_lo=(), box_hi=()):
    """A sampled scene's materials and light in a room of ``size`` (m)
    holding only the given boxes (one piece)."""
    scene, _ = sample_scene(np.random.default_rng(0))
    box_lo = np.asarray(box_lo, dtype=float).reshape(-1, 3)
    return dataclasses.replace(
        scene,
        room_size=np.asarray(size, dtype=float),
        box_lo=box_lo,
        box_hi=np.asarray(box_hi, dtype=float).reshape(-1, 3),
        piece_offsets=np.array([0, len(box_lo)] if len(box_lo) else [0]),
        box_materials=np.full(len(box_lo), 3),
        box_classes=np.full(len(box_lo), CLASSES.index('chair'), np.uint8))


def sample_files(root):
    """Relative paths of every file under ``root``."""
    return sorted(
        osp.relpath(osp.join(d, f), root) for d, _, files in os.walk(root)
        for f in files)


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('demo_rooms'))
    assert make_demo_dataset(root, **SMALL)
    return root


@pytest.mark.parametrize('turns', range(4))
def test_wall_straight_ahead_has_constant_depth(turns):
    # Centre of a 4 x 3 x 5 m room: the z walls are 2.5 m away, the x ones
    # 2 m; either fills the view when looked at straight on.
    camera = Camera(np.array([2.0, 1.5, 2.5]), yaw=turns * np.pi / 2)
    _, depth = render_view(empty_room((4, 3, 5)), camera, *SIZE)
    np.testing.assert_allclose(depth, 2.5 if turns % 2 == 0 else 2.0,
                               atol=1e-5)


def test_floor_depth_matches_pitch_and_height():
    height, pitch = 1.2, -0.5
    camera = Camera(np.array([10.0, height, 10.0]), yaw=0.3, pitch=pitch)
    _, depth = render_view(empty_room((20, 3, 20)), camera, *SIZE)
    _, fy, _, cy = scaled_intrinsics(*SIZE)
    rows = np.arange(SIZE[0] // 2, SIZE[0])
    down = (rows - cy) / fy * np.cos(pitch) - np.sin(pitch)
    expected = np.broadcast_to((height / down)[:, None], (len(rows), SIZE[1]))
    np.testing.assert_allclose(depth[rows], expected, rtol=1e-5)


def test_box_occludes_the_wall_behind_it():
    scene = empty_room((10, 3, 6), [4.5, 1.0, 3.0], [5.5, 2.0, 3.5])
    camera = Camera(np.array([5.0, 1.5, 1.0]))
    _, depth = render_view(scene, camera, *SIZE)
    h, w = SIZE
    assert depth[h // 2, w // 2] == pytest.approx(2.0, abs=1e-5)
    assert depth[h // 2, 0] == pytest.approx(5.0, abs=1e-5)
    assert 0.1 < np.mean(np.isclose(depth, 2.0)) < 0.9


def test_screen_space_culling_matches_brute_force():
    for seed in range(3):
        scene, camera = sample_scene(np.random.default_rng(seed))
        _, hits = cast_from_camera(scene, camera, *SIZE, supersample=1)
        dirs = pixel_rays(camera, *SIZE).reshape(-1, 3).T
        origin = camera.position[:, None]
        t_room, _ = intersect_room(origin, dirs, scene.room_size)
        every_ray = [(slice(None), )] * len(scene.box_lo)
        t, _, _ = intersect_boxes(origin, dirs, scene.box_lo, scene.box_hi,
                                  t_room, every_ray)
        np.testing.assert_allclose(hits.t, t, rtol=1e-12)
        assert np.any(t < t_room)


def test_shadow_segments_blocked_by_table_top():
    lo, hi = np.array([[1.0, 0.7, 1.0]]), np.array([[2.0, 0.75, 2.0]])
    light = np.array([1.5, 2.5, 1.5])[:, None]
    floor = np.array([[1.5, 0.0, 1.5], [3.5, 0.0, 3.5], [1.5, 0.8, 1.5]]).T
    blocked = segments_blocked(floor, light - floor, lo, hi,
                               np.array([0, 1]))
    assert blocked.tolist() == [True, False, False]


def test_render_scene_is_deterministic_and_seed_dependent():
    a = render_scene(np.random.default_rng(11), *SIZE)
    b = render_scene(np.random.default_rng(11), *SIZE)
    c = render_scene(np.random.default_rng(12), *SIZE)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_random_scenes_have_valid_ranges_and_varied_depth():
    depths = []
    for seed in range(12):
        bgr, depth = render_scene(np.random.default_rng(seed), *SIZE)
        assert bgr.shape == SIZE + (3, ) and bgr.dtype == np.uint8
        assert depth.shape == SIZE and depth.dtype == np.float32
        assert np.all(np.isfinite(depth))
        assert 0.3 < depth.min() and depth.max() < 10.0
        assert bgr.std() > 10
        depths.append(depth)
    depths = np.stack(depths)
    means = depths.mean(axis=(1, 2))
    assert np.median(depths.std(axis=(1, 2)) / means) > 0.15
    assert means.std() / means.mean() > 0.1
    abs_rel_of_mean = np.mean(np.abs(depths.mean() - depths) / depths)
    assert abs_rel_of_mean > 0.2


@pytest.mark.parametrize('rig', sorted(CAMERA_RIGS))
def test_camera_rigs_hold_the_camera_and_keep_furniture_away(rig):
    spec = CAMERA_RIGS[rig]
    heights, pitches = [], []
    for seed in range(20):
        scene, camera = sample_scene(np.random.default_rng(seed), rig)
        heights.append(camera.position[1])
        pitches.append(camera.pitch)
        assert spec.roll[0] <= camera.roll <= spec.roll[1]
        # Horizontal distance from the camera to every furniture footprint.
        gap = np.maximum(np.maximum(scene.box_lo - camera.position,
                                    camera.position - scene.box_hi), 0.0)
        assert np.all(np.hypot(gap[:, 0], gap[:, 2]) >= spec.clearance)
    assert spec.height[0] <= min(heights) and max(heights) <= spec.height[1]
    assert spec.pitch[0] <= min(pitches) and max(pitches) <= spec.pitch[1]
    if rig == 'tripod':
        assert set(heights) == {1.4} and set(pitches) == {-0.2}
    else:
        assert np.ptp(heights) > 0.2 and np.ptp(pitches) > 0.2


def test_unknown_rig_is_refused():
    with pytest.raises(KeyError, match='unknown camera rig'):
        sample_scene(np.random.default_rng(0), 'drone')


def test_layout_names_and_depth_encoding(demo_root):
    for split, count in (('train', 6), ('test', 3)):
        images = sorted(os.listdir(osp.join(demo_root, 'images', split)))
        depths = sorted(os.listdir(osp.join(demo_root, 'annotations', split)))
        assert len(images) == count
        assert [osp.splitext(n)[0] for n in images] == \
            [osp.splitext(n)[0] for n in depths]
        assert all(re.match(r'^[a-z_]+_\d{5}\.jpg$', n) for n in images)
        png = cv2.imread(osp.join(demo_root, 'annotations', split,
                                  depths[0]), cv2.IMREAD_UNCHANGED)
        assert png.dtype == np.uint16 and png.shape == SIZE
        assert 300 < png.min() and png.max() < 10000


def test_same_parameters_give_byte_identical_files(demo_root, tmp_path):
    # ``demo_root`` was rendered by one process, this copy by two.
    assert make_demo_dataset(str(tmp_path), **SMALL, workers=2)
    files = sample_files(demo_root)
    assert files == sample_files(str(tmp_path))
    for name in files:
        with open(osp.join(demo_root, name), 'rb') as a, \
                open(osp.join(tmp_path, name), 'rb') as b:
            assert a.read() == b.read(), name


def test_nyu_dataset_reads_depth_in_metres(demo_root):
    dataset = NYUDataset(
        data_root=demo_root,
        data_prefix=dict(img_path='images/test',
                         depth_map_path='annotations/test'),
        pipeline=[LoadImageFromFile(),
                  LoadDepthAnnotation(depth_rescale_factor=1e-3)],
        test_mode=True)
    assert len(dataset) == 3
    for i in range(len(dataset)):
        sample = dataset[i]
        assert dataset.get_data_info(i)['category_id'] >= 0
        stem = osp.splitext(osp.basename(sample['img_path']))[0]
        rng = np.random.default_rng([SMALL['seed'], 1, int(stem[-5:])])
        scene, camera = sample_scene(rng, SMALL['rig'])
        assert stem.startswith(scene.kind + '_')
        bgr, depth = render_view(scene, camera, *SIZE)
        np.testing.assert_allclose(sample['gt_depth_map'], depth,
                                   atol=5e-4 + 1e-6)
        assert np.abs(sample['img'].astype(float) - bgr).mean() < 8


def test_second_call_rewrites_nothing_and_repairs_changes(tmp_path):
    root = str(tmp_path)
    assert make_demo_dataset(root, **SMALL)
    files = sample_files(root)
    mtimes = {f: os.stat(osp.join(root, f)).st_mtime_ns for f in files}
    assert not make_demo_dataset(root, **SMALL)
    assert mtimes == {f: os.stat(osp.join(root, f)).st_mtime_ns
                      for f in files}
    missing = next(f for f in files if f.endswith('.png'))
    os.remove(osp.join(root, missing))
    assert make_demo_dataset(root, **SMALL)
    assert sample_files(root) == files
    assert make_demo_dataset(root, **dict(SMALL, num_test=2))
    assert len(os.listdir(osp.join(root, 'images', 'test'))) == 2
    assert len(os.listdir(osp.join(root, 'annotations', 'test'))) == 2


def test_training_views_at_their_own_size_are_the_same_rooms(tmp_path):
    root = str(tmp_path)
    small = (SIZE[0] // 2, SIZE[1] // 2)
    assert make_demo_dataset(root, **dict(SMALL, train_size=small))
    for split, size in (('train', small), ('test', SIZE)):
        for name in os.listdir(osp.join(root, 'annotations', split)):
            depth = cv2.imread(osp.join(root, 'annotations', split, name), -1)
            image = cv2.imread(
                osp.join(root, 'images', split, name[:-4] + '.jpg'))
            assert depth.shape == size and image.shape[:2] == size
    # same scenes and cameras, only the resolution differs; another
    # training size re-renders instead of reusing the dataset
    full = str(tmp_path / 'full')
    make_demo_dataset(full, **SMALL)
    assert sorted(os.listdir(osp.join(root, 'images', 'train'))) == \
        sorted(os.listdir(osp.join(full, 'images', 'train')))
    assert make_demo_dataset(root, **SMALL)


def test_mean_depth_baseline_matches_numpy(demo_root):
    """The training-mean baseline against NumPy: mean over the training
    pixels in (1e-3, 10) m, per-image AbsRel and δ<1.25 over the same
    range, averaged over the test images."""
    def depths(split):
        folder = osp.join(demo_root, 'annotations', split)
        for name in sorted(os.listdir(folder)):
            mm = cv2.imread(osp.join(folder, name), cv2.IMREAD_UNCHANGED)
            metres = mm.astype(np.float64) / 1000.0
            yield metres[(metres > 1e-3) & (metres < 10.0)]

    mean = np.concatenate(list(depths('train'))).mean()
    abs_rel = [np.mean(np.abs(mean - gt) / gt) for gt in depths('test')]
    d1 = [np.mean(np.maximum(mean / gt, gt / mean) < 1.25)
          for gt in depths('test')]
    baseline = mean_depth_baseline(demo_root)
    np.testing.assert_allclose(
        [baseline['mean_depth'], baseline['abs_rel'], baseline['d1']],
        [mean, np.mean(abs_rel), np.mean(d1)], rtol=1e-5)


@pytest.mark.slow  # the tool in its own process
def test_tool_rig_and_force_as_a_user_runs_them(tmp_path):
    """``tools/make_demo_data.py --rig handheld`` then ``--force``.

    Catches: ``--rig`` not reaching the renderer (the handheld views would
    equal the tripod ones), ``--force`` not re-rendering a complete
    dataset (its files keep their modification times), a plain second
    call that re-renders (it must not touch them).
    """
    common = ['--num-train', '2', '--num-test', '1', '--height', '24',
              '--width', '32', '--workers', '1']
    roots = {rig: str(tmp_path / rig) for rig in ('tripod', 'handheld')}
    for rig, root in roots.items():
        call_tool('make_demo_data.py', ['--out', root, '--rig', rig, *common])
    handheld = roots['handheld']
    files = sample_files(handheld)
    assert files == sample_files(roots['tripod'])
    assert any(
        not np.array_equal(cv2.imread(osp.join(handheld, f), -1),
                           cv2.imread(osp.join(roots['tripod'], f), -1))
        for f in files if f.endswith('.png')), '--rig changed nothing'

    def mtimes():
        return [os.stat(osp.join(handheld, f)).st_mtime_ns for f in files]

    before = mtimes()
    again = ['--out', handheld, '--rig', 'handheld', *common]
    call_tool('make_demo_data.py', again)
    assert mtimes() == before, 'a complete dataset was re-rendered'
    call_tool('make_demo_data.py', again + ['--force'])
    assert all(a != b for a, b in zip(mtimes(), before)), '--force'


#: SHA-256 over the relative path and bytes of every image and depth PNG
#: of ``make_demo_dataset(root, **GOLDEN)``, sorted by path, as written by
#: commit 720c287 (before the class maps were added).
GOLDEN = dict(num_train=4, num_test=2, size=(48, 64), train_size=(36, 48),
              seed=3)
GOLDEN_SHA256 = \
    '8985964c03cc105ad77029ae3550eae68e2b697c5fc6a1917ffafabf43a14181'


def test_class_maps_leave_rgb_and_depth_bytes_unchanged(tmp_path):
    root = str(tmp_path)
    make_demo_dataset(root, **GOLDEN)
    digest = hashlib.sha256()
    for name in sample_files(root):
        if name.startswith(('images', 'annotations')):
            digest.update(name.encode())
            with open(osp.join(root, name), 'rb') as f:
                digest.update(f.read())
    assert digest.hexdigest() == GOLDEN_SHA256


def surface_points(scene, camera, depth):
    """(H, W, 3) world points seen at the pixel centres, from the depth."""
    rays = pixel_rays(camera, *depth.shape)  # z-depth 1 along the axis
    return camera.position + depth[..., None].astype(np.float64) * rays


@pytest.mark.parametrize('seed', range(4))
def test_class_maps_name_the_surface_at_each_pixel(seed):
    """Back-project every pixel with its depth and check the class against
    the scene geometry: floor at y = 0, ceiling at the room height, walls
    on the x or z faces, furniture on a box of that class."""
    scene, camera = sample_scene(np.random.default_rng(seed))
    bgr, depth, labels = render_labelled_view(scene, camera, *SIZE)
    assert labels.dtype == np.uint8 and labels.shape == SIZE
    plain_bgr, plain_depth = render_view(scene, camera, *SIZE)
    assert np.array_equal(bgr, plain_bgr)
    assert np.array_equal(depth, plain_depth)
    points = surface_points(scene, camera, depth)
    tol = 1e-4  # float32 depth of points a few metres away
    room = scene.room_size
    by_class = {name: labels == CLASSES.index(name) for name in CLASSES}
    np.testing.assert_allclose(points[by_class['floor']][:, 1], 0, atol=tol)
    np.testing.assert_allclose(points[by_class['ceiling']][:, 1], room[1],
                               atol=tol)
    wall = points[by_class['wall']]
    on_wall = np.min(np.abs(np.concatenate(
        [wall[:, [0, 2]], room[[0, 2]] - wall[:, [0, 2]]], axis=1)), axis=1)
    assert wall.size and np.all(on_wall < tol)
    furniture = labels >= 3
    assert furniture.any() and not np.any(labels == IGNORE_INDEX)
    inside = ((points[furniture][:, None] > scene.box_lo - tol) &
              (points[furniture][:, None] < scene.box_hi + tol)).all(-1)
    same_class = scene.box_classes[None] == labels[furniture][:, None]
    assert np.all((inside & same_class).any(axis=1))


def test_box_class_is_the_piece_kind_except_small_objects():
    assert CLASSES[:3] == ('wall', 'floor', 'ceiling')
    assert box_class('desk', 'wood') == CLASSES.index('desk')
    assert box_class('bookcase', 'wood') == CLASSES.index('bookcase')
    assert box_class('bookcase', 'books') == CLASSES.index('objects')
    assert box_class('table', 'decor_a') == CLASSES.index('objects')
    pieces = sample_pieces(np.random.default_rng(0), 'living_room')
    assert pieces and all(p.kind in BUILDERS for p in pieces)


def test_label_maps_layout(demo_root):
    for split in ('train', 'test'):
        folder = osp.join(demo_root, 'seg_annotations', split)
        images = os.listdir(osp.join(demo_root, 'images', split))
        assert sorted(os.listdir(folder)) == sorted(
            n[:-4] + '.png' for n in images)
        for name in os.listdir(folder):
            labels = cv2.imread(osp.join(folder, name), cv2.IMREAD_UNCHANGED)
            assert labels.dtype == np.uint8 and labels.shape == SIZE
            assert labels.max() < len(CLASSES)
