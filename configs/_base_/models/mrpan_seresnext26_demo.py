# A light MRPAN: the design of mrpan_senet154.py (MACA = GAM + SAM, improved
# RRM, multi-scale loss) on SE-ResNeXt-26 (32x4d), trained from scratch,
# with a narrow neck and head (the CPU demo's model until its encoder was
# chosen by measurement; now the base of the demo's ConvNeXt-atto model and
# of the tests' tiny config).  The encoder's five level widths are written
# once, in `encoder_channels`: another encoder replaces `backbone` (with
# `_delete_=True`) and states its own widths.
_base_ = ['./mrpan_senet154.py']
encoder_channels = (64, 256, 512, 1024, 2048)  # levels 0-4, strides 2-32
fused_channels = (32, 32, 64, 64, 128)  # neck output = head input
model = dict(
    backbone=dict(arch='seresnext26_32x4d', init_cfg=None),
    neck=dict(
        in_channels=encoder_channels,
        fuse_channels=(40, 40, 80, 80, 160),
        out_channels=fused_channels,
        sam_kv_stride=(2, 1, 1, 1, 1),  # finest keys/values pooled 2x2
        projection_order='lower_resolution'),
    decode_head=dict(
        in_channels=fused_channels,
        top_channels=encoder_channels[-1],
        top_proj_channels=128,
        depth_offset=3.4))  # about the demo rooms' mean depth (m)
