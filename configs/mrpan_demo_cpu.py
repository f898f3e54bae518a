# The CPU demo (README's `make demo`): the MRPAN design (MACA = GAM + SAM,
# RRM, multi-scale loss) on a light SE-ResNeXt-26 encoder, trained from
# scratch on the embedded procedural rooms (tools/make_demo_data.py: 1200
# train + 80 test views from a tripod camera, 120x160).  The network runs
# at 72x96 (more samples per minute beat resolution at this budget) and is
# evaluated at the full 120x160; sized to train and evaluate in about six
# minutes on 2 CPU cores.
_base_ = [
    '_base_/models/mrpan_senet154.py', '_base_/datasets/nyu.py',
    '_base_/default_runtime.py', '_base_/schedules/schedule_20e_adam.py'
]
data_root = 'data/demo_rooms'
net_size = (72, 96)  # (H, W) the network sees
encoder_channels = (64, 256, 512, 1024, 2048)
fused_channels = (32, 32, 64, 64, 128)
model = dict(
    data_preprocessor=dict(size=net_size),
    backbone=dict(arch='seresnext26_32x4d', init_cfg=None),
    neck=dict(
        in_channels=encoder_channels,
        fuse_channels=(40, 40, 80, 80, 160),
        out_channels=fused_channels,
        sam_kv_stride=(2, 1, 1, 1, 1),
        projection_order='lower_resolution'),
    decode_head=dict(
        in_channels=fused_channels, top_channels=2048,
        top_proj_channels=128,
        depth_offset=3.4),  # about the training split's mean depth (m)
    # flip test-time augmentation: average of f(x) and flip(f(flip(x)))
    test_cfg=dict(mode='slide_flip', crop_size=net_size, stride=net_size))

train_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='LoadCheckedDepth', depth_rescale_factor=1e-3),
    dict(type='Resize', scale=net_size[::-1], keep_ratio=False),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PhotoMetricDistortion', brightness_delta=16,
         contrast_range=(0.8, 1.2), saturation_range=(0.8, 1.2),
         hue_delta=1),
    dict(type='PackSegInputs'),
]
# Depth is loaded after the resize so that metrics are computed at the full
# 120x160 (the prediction is resized back).
test_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='Resize', scale=net_size[::-1], keep_ratio=False),
    dict(type='LoadCheckedDepth', depth_rescale_factor=1e-3),
    dict(type='PackSegInputs'),
]
# tools/test.py --tta, as in _base_/datasets/nyu.py for this test_pipeline
tta_pipeline = [
    test_pipeline[0],
    dict(
        type='TestTimeAug',
        transforms=[[
            dict(type='RandomFlip', prob=0.0, direction='horizontal'),
            dict(type='RandomFlip', prob=1.0, direction='horizontal')
        ]] + [[step] for step in test_pipeline[1:]])
]
train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
# Full frames of any size: no Eigen crop (that crop assumes 480x640).
val_evaluator = dict(
    _delete_=True, type='NYUDepthMetric',
    protocol=dict(type='eigen', crop=None))
test_evaluator = val_evaluator

max_epochs = 8
# bf16 autocast with channels-last weights and a fused Adam step: the
# fastest training step measured on this CPU (docs/benchmarks.md).  lr 2e-3
# at batch 16 (1e-3 and 1.5e-3 gave AbsRel 0.110 and 0.105 vs 0.093).
optim_wrapper = dict(
    type='AnyDeviceAmpOptimWrapper',
    optimizer=dict(lr=2e-3, fused=True))
custom_hooks = [dict(type='ChannelsLastHook')]
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5,
         by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=2, max_keep_ckpts=2),
    # RGB | GT | prediction | error panels of every 4th validation batch
    # (the hook draws when runner.iter + batch index is a multiple of 4)
    visualization=dict(draw=True, interval=4))
randomness = dict(seed=0)
