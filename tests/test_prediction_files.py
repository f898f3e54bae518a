"""One writer for a prediction's files (``PredictionFiles``)."""
import cv2
import numpy as np
import pytest

from mrpan_mm.utils.depth_io import read_depth_png
from mrpan_mm.utils.prediction_files import PredictionFiles


def test_every_kind_is_written_with_its_name_and_format(tmp_path):
    """Catches a kind written under another name or in another unit
    (e.g. the PNG in metres instead of millimetres)."""
    depth = np.full((4, 6), 2.5, np.float32)
    depth[0, 0] = 70.0  # beyond a 16-bit millimetre PNG
    image = np.zeros((4, 6, 3), np.uint8)
    files = PredictionFiles(str(tmp_path), ('npy', 'png', 'color', 'ply',
                                            'input'),
                            intrinsics=lambda shape: (5.0, 5.0, 2.5, 1.5))
    paths = files.write('room', depth, image)
    assert {k: p.rsplit('/', 1)[1] for k, p in paths.items()} == dict(
        npy='room_depth.npy', png='room_depth.png', color='room_color.png',
        ply='room.ply', input='room_input.png')
    np.testing.assert_array_equal(np.load(paths['npy']), depth)
    png = read_depth_png(paths['png'])
    assert png[1, 1] == pytest.approx(2.5) and png[0, 0] == \
        pytest.approx(65.535)
    assert files.clipped == [paths['png']]
    assert cv2.imread(paths['color']).shape[1] == 6
    assert b'element vertex 24' in open(paths['ply'], 'rb').read(200)


def test_suffix_override_and_bad_requests(tmp_path):
    files = PredictionFiles(str(tmp_path), ('png', ),
                            suffixes=dict(png='.png'))
    assert files.write('a', np.ones((2, 2)))['png'].endswith('/a.png')
    with pytest.raises(ValueError, match='unknown prediction file kinds'):
        PredictionFiles(str(tmp_path), ('tiff', ))
    with pytest.raises(ValueError, match='intrinsics'):
        PredictionFiles(str(tmp_path), ('ply', ))
    with pytest.raises(ValueError, match='need the image'):
        PredictionFiles(str(tmp_path), ('input', )).write('b', np.ones((2, 2)))
