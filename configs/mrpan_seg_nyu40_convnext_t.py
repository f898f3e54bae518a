# MRPAN segmentation on NYUv2-40 (mrpan_seg_nyu40.py) with MMPretrain's
# ConvNeXt-T made five-level by FiveLevelEncoder (the encoder of
# mrpan_convnext_t_nyu.py, _base_/models/convnext_t_five_level.py), under
# MRPANSegHead.
_base_ = ['./mrpan_seg_nyu40.py', '_base_/models/convnext_t_five_level.py']
model = dict(
    backbone=dict(_delete_=True, **_base_.convnext_t_encoder),
    neck=dict(in_channels=_base_.stem_channels[-1:] + _base_.encoder_channels),
    decode_head=dict(top_channels=_base_.encoder_channels[-1]))
