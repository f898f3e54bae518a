"""Inference pieces checked on their own: pipeline derivation, depth files,
point clouds, flip averaging, TTA merging and tools/infer.py's input
handling (the shipped configs end to end are in test_depth_configs.py)."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.apis import init_model
from mmseg.structures import SegDataSample

from mrpan_mm.apis import DepthInferencer, inference_pipeline
from mrpan_mm.models.segmentors import DepthTTAModel
from mrpan_mm.utils.depth_io import depth_to_mm, read_depth_png, \
    write_depth_png
from mrpan_mm.utils.point_cloud import PLY_VERTEX, write_ply
from tools_runner import REPO, load_tool

infer = load_tool('infer.py')

DEMO = osp.join(REPO, 'configs', 'mrpan_demo_cpu.py')


def test_inference_pipeline_keeps_loading_and_geometry_only():
    pipeline = Config.fromfile(DEMO).test_pipeline
    with_crop = list(pipeline[:2]) + [
        dict(type='RandomCrop', crop_size=(8, 8)),
        dict(type='LoadAnnotations')
    ] + list(pipeline[2:])
    steps = inference_pipeline(with_crop)
    assert [s['type'] for s in steps] == [
        'LoadInferenceImage', 'Resize', 'PackSegInputs'
    ]
    assert steps[0]['file_loader'] == dict(type='LoadCheckedImage')
    with pytest.raises(ValueError, match='load the image once'):
        inference_pipeline(pipeline[1:])


def test_depth_png_round_trip_and_clipping(tmp_path):
    depth = np.array([[0.0, 1.2344, 70.0], [np.nan, -1.0, 65.535]])
    mm, clipped = depth_to_mm(depth)
    assert mm.tolist() == [[0, 1234, 65535], [0, 0, 65535]]
    assert clipped == 1
    path = str(tmp_path / 'd.png')
    assert write_depth_png(path, depth) == 1
    assert np.array_equal(read_depth_png(path),
                          (mm / 1000.0).astype(np.float32))
    cv2.imwrite(str(tmp_path / 'rgb.png'), np.zeros((2, 3, 3), np.uint8))
    with pytest.raises(ValueError, match='rgb.png: expected a single'):
        read_depth_png(str(tmp_path / 'rgb.png'))


def test_point_cloud_matches_inverse_intrinsics(tmp_path):
    rng = np.random.default_rng(0)
    depth = rng.uniform(0.5, 5.0, (4, 6)).astype(np.float32)
    depth[1, 2] = 0.0  # no depth: no point
    rgb = rng.integers(0, 255, (4, 6, 3), dtype=np.uint8)
    fx, fy, cx, cy = 5.0, 6.0, 2.5, 1.5
    path = str(tmp_path / 'cloud.ply')
    assert write_ply(path, depth, rgb, (fx, fy, cx, cy)) == 23
    data = open(path, 'rb').read()
    body = data[data.index(b'end_header\n') + len(b'end_header\n'):]
    vertices = np.frombuffer(body, dtype=PLY_VERTEX)
    inverse = np.linalg.inv([[fx, 0, cx], [0, fy, cy], [0, 0, 1]])
    index = 0
    for v in range(4):
        for u in range(6):
            if depth[v, u] == 0:
                continue
            expected = inverse @ np.array([u, v, 1.0]) * depth[v, u]
            got = vertices[index]
            assert np.allclose([got['x'], got['y'], got['z']], expected,
                               rtol=1e-6)
            assert (got['red'], got['green'], got['blue']) == tuple(rgb[v,
                                                                        u])
            index += 1


def test_tta_model_averages_depth():
    copies = []
    for value in (1.0, 3.0):
        sample = SegDataSample()
        sample.set_data(
            dict(pred_depth_map=PixelData(data=torch.full((1, 2, 2),
                                                          value))))
        copies.append(sample)
    module = torch.nn.Identity()
    module.test_step = None  # BaseTTAModel only checks it exists
    merged = DepthTTAModel(module=module).merge_preds([copies])
    assert torch.equal(merged[0].pred_depth_map.data,
                       torch.full((1, 2, 2), 2.0))


@pytest.fixture(scope='module')
def demo_checkpoint(tmp_path_factory):
    """Random demo-config weights saved as a checkpoint."""
    torch.manual_seed(0)
    model = init_model(DEMO, None, 'cpu')
    path = str(tmp_path_factory.mktemp('ckpt') / 'demo.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return path


def test_flip_aug_is_mean_of_prediction_and_mirrored_mirror(demo_checkpoint):
    inferencer = DepthInferencer(DEMO, demo_checkpoint, 'cpu',
                                 show_progress=False)
    image = np.random.default_rng(1).integers(0, 255, (60, 90, 3),
                                              dtype=np.uint8)
    plain = inferencer(image)['predictions']
    mirrored = inferencer(np.ascontiguousarray(image[:, ::-1]))['predictions']
    both = inferencer(image, flip_aug=True)['predictions']
    assert plain.shape == (60, 90)
    np.testing.assert_allclose(both, (plain + mirrored[:, ::-1]) / 2,
                               rtol=1e-5, atol=1e-5)


def test_batch_of_images_of_different_sizes(demo_checkpoint):
    """A batch whose images keep their aspect ratio (the NYU configs'
    ``PillowResize``) holds images of different sizes: each prediction
    equals the image's prediction alone, in input order.

    Catches: the batch stacked as one tensor (mmseg's preprocessor refuses
    it: "The image size in a batch should be the same"), predictions
    returned in the order of the size groups instead of the inputs.
    """
    cfg = Config.fromfile(DEMO)
    resize = cfg.test_dataloader.dataset.pipeline[1]
    assert resize['type'] == 'Resize'
    resize['keep_ratio'] = True
    inferencer = DepthInferencer(cfg, demo_checkpoint, 'cpu',
                                 show_progress=False)
    rng = np.random.default_rng(2)
    images = [rng.integers(0, 255, shape + (3, ), dtype=np.uint8)
              for shape in ((48, 64), (64, 64), (48, 64))]
    together = inferencer(images, batch_size=3)['predictions']
    for image, depth in zip(images, together):
        alone = inferencer(image)['predictions']
        assert depth.shape == image.shape[:2]
        np.testing.assert_allclose(depth, alone, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_infer_video_frames_and_bad_inputs(tmp_path, demo_checkpoint):
    video = str(tmp_path / 'walk.avi')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'MJPG'), 5,
                             (64, 48))
    for value in (40, 120, 200):
        writer.write(np.full((48, 64, 3), value, np.uint8))
    writer.release()
    out = tmp_path / 'out'
    common = ['--config', DEMO, '--checkpoint', demo_checkpoint, '--out']
    infer.main([video, *common, str(out), '--batch-size', '2'])
    for frame in range(3):
        depth = cv2.imread(str(out / f'walk_{frame:06d}_depth.png'),
                           cv2.IMREAD_UNCHANGED)
        metres = np.load(out / f'walk_{frame:06d}_depth.npy')
        assert depth.dtype == np.uint16 and depth.shape == (48, 64)
        assert metres.dtype == np.float32
        assert np.array_equal(depth, depth_to_mm(metres)[0])
        colour = cv2.imread(str(out / f'walk_{frame:06d}_color.png'))
        assert colour.shape == (48 + 20, 64, 3)

    folder = tmp_path / 'images'
    folder.mkdir()
    cv2.imwrite(str(folder / 'room.jpg'), np.zeros((30, 40, 3), np.uint8))
    (folder / 'broken.png').write_bytes(b'not a png')
    with pytest.raises(SystemExit, match='broken.png'):
        infer.main([str(folder), *common, str(tmp_path / 'o1')])
    names = infer.run(
        infer.parse_args([str(folder), *common,
                          str(tmp_path / 'o2'), '--skip-bad']))
    assert names == ['room']
    with pytest.raises(SystemExit, match='no such image, video or folder'):
        infer.main([str(tmp_path / 'missing'), *common, str(tmp_path)])
    with pytest.raises(SystemExit, match='--ply needs all of'):
        infer.main([str(folder / 'room.jpg'), *common,
                    str(tmp_path / 'o3'), '--ply', '--fx', '500'])


def test_infer_refuses_two_images_of_one_name(tmp_path):
    """``a.jpg`` and ``a.png`` would both write ``a_depth.*``: refused
    before the model is built (the checkpoint is not even looked at)."""
    for name in ('a.jpg', 'a.png', 'b.png'):
        cv2.imwrite(str(tmp_path / name), np.zeros((8, 8, 3), np.uint8))
    out = tmp_path / 'out'
    with pytest.raises(SystemExit, match=r'a\.jpg and .*a\.png would both '
                       'write a_depth'):
        infer.main([str(tmp_path), '--config', DEMO, '--checkpoint',
                    str(tmp_path / 'missing.pth'), '--out', str(out)])
    assert not out.exists()
