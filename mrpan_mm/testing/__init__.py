from .nyu_fixture import make_nyu_fixture  # noqa: F401
from .random_checkpoint import save_random_checkpoint  # noqa: F401
from .seg_fixture import make_seg_fixture  # noqa: F401
from .weightless import build_weightless  # noqa: F401
from .release_fixtures import (make_diode_release,  # noqa: F401
                               make_ibims1_release, make_kitti_release,
                               make_sunrgbd_release)
