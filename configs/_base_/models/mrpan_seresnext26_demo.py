# A light MRPAN: the design of mrpan_senet154.py (MACA = GAM + SAM, improved
# RRM, multi-scale loss) on SE-ResNeXt-26 (32x4d), trained from scratch,
# with a narrow neck and head (the CPU demo's model until its encoder was
# chosen by measurement; now the base of the tests' tiny config).  A flat
# base: the whole model is written here.  Neck and head keep mmcv's
# ConvModule initialisation (Kaiming-normal), as the demo measured it.
norm_cfg = dict(type='BN', requires_grad=True)
encoder_channels = (64, 256, 512, 1024, 2048)  # levels 0-4, strides 2-32
fused_channels = (32, 32, 64, 64, 128)  # neck output = head input
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=0)  # padded depth is 0 = invalid, ignored by the loss
model = dict(
    type='DepthEstimator',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='SENet',
        arch='seresnext26_32x4d',
        out_indices=(0, 1, 2, 3, 4),
        norm_cfg=norm_cfg,
        init_cfg=None),  # from scratch
    neck=dict(
        type='MACANeck',
        in_channels=encoder_channels,
        fuse_channels=(40, 40, 80, 80, 160),
        out_channels=fused_channels,
        use_gam=True,
        use_sam=True,
        sam_levels=(0, 1, 2, 3, 4),
        sam_kv_stride=(2, 1, 1, 1, 1),  # finest keys/values pooled 2x2
        projection_order='lower_resolution',
        norm_cfg=norm_cfg),
    decode_head=dict(
        type='MRPANHead',
        in_channels=fused_channels,
        top_channels=encoder_channels[-1],
        top_proj_channels=128,
        refine='rrm',
        out_act='identity',
        min_depth=1e-3,
        max_depth=10.0,
        depth_offset=3.4,  # about the demo rooms' mean depth (m)
        norm_cfg=norm_cfg,
        loss_decode=dict(type='MultiScaleDepthLoss')),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
