# MRPAN (ICPR 2020): SENet-154 + MACA neck (GAM + SAM) + residual pyramid
# head with the improved RRM + multi-scale loss (l_depth + l_grad + l_normal
# at each of the five scales).  Ablation rows switch `use_gam`/`use_sam` in
# the neck and `refine` in the head.  The network input size (the data
# preprocessor's `size`) is set by the top-level config, next to its crop.
norm_cfg = dict(type='BN', requires_grad=True)
# SARPN's neck and decoder convolutions keep PyTorch's default initialisation
# (kaiming_uniform_, a=sqrt(5)); without this, mmcv's ConvModule re-draws
# them Kaiming-normal (fan_out), up to 28x wider (docs/reproduction.md).
sarpn_init = dict(type='TorchDefault', layer='Conv2d')
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
        arch='senet154',
        out_indices=(0, 1, 2, 3, 4),
        norm_cfg=norm_cfg,
        # ImageNet weights, Cadene's `senet154-c7b49a05.pth` or timm's
        # `legacy_senet154` state dict (`python tools/download.py senet154`).
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/senet154-c7b49a05.pth')),
    neck=dict(
        type='MACANeck',
        in_channels=(128, 256, 512, 1024, 2048),
        fuse_channels=(80, 160, 320, 640, 1280),
        out_channels=(64, 128, 256, 512, 1024),
        use_gam=True,
        use_sam=True,
        sam_levels=(0, 1, 2, 3, 4),
        # The paper pools no keys/values: stride 1 everywhere (17328 tokens
        # at the 114x152 level; docs/benchmarks.md section 4: 112 MiB for a
        # batch-1 training step of that SAM with SDPA).  The option
        # sam_kv_stride=(2, 1, 1, 1, 1) pools the finest level's keys and
        # values 2x2 (4x fewer keys), cheaper on CPUs and small GPUs.
        sam_kv_stride=1,
        # SARPN's "resize, then project", with the 5x5 convolutions of the
        # upsampled levels computed exactly at the levels' own sizes (the
        # same function as 'resize_first', SARPN's literal order, for a
        # fraction of its FLOPs; same parameters, checkpoints load both ways)
        projection_order='resize_first_factored',
        norm_cfg=norm_cfg,
        init_cfg=sarpn_init),
    decode_head=dict(
        type='MRPANHead',
        in_channels=(64, 128, 256, 512, 1024),
        top_channels=2048,
        top_proj_channels=1024,
        refine='rrm',
        out_act='identity',
        min_depth=1e-3,
        max_depth=10.0,
        norm_cfg=norm_cfg,
        loss_decode=dict(type='MultiScaleDepthLoss'),
        init_cfg=sarpn_init),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
