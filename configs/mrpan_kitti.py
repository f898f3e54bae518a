# MRPAN (MACA + RRM, SENet-154) on KITTI's Eigen split, depth up to 80 m.
# The paper reports NYU only: this is the NYU recipe (Adam 1e-4, 20 epochs,
# batch 4) on BTS' KITTI data chain (_base_/datasets/kitti.py), untuned.
#
#   python tools/train.py configs/mrpan_kitti.py
#   python tools/test.py configs/mrpan_kitti.py CHECKPOINT
_base_ = [
    '_base_/models/mrpan_senet154.py', '_base_/datasets/kitti.py',
    '_base_/default_runtime.py', '_base_/schedules/schedule_20e_adam.py'
]
crop_size = (352, 704)  # (H, W) training crop; the test input is 352x1216
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(max_depth=80.0))
