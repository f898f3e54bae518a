# configs/mrpan_kitti.py (KITTI Eigen split, up to 80 m) on MMPretrain's
# ConvNeXt-T made five-level by FiveLevelEncoder, as
# configs/mrpan_convnext_t_nyu.py does for NYU.
_base_ = ['./mrpan_kitti.py', '_base_/models/convnext_t_five_level.py']
model = dict(
    backbone=dict(_delete_=True, **_base_.convnext_t_encoder),
    neck=dict(in_channels=_base_.stem_channels[-1:] + _base_.encoder_channels),
    decode_head=dict(top_channels=_base_.encoder_channels[-1]))
