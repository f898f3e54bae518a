# A tiny, deterministic MRPAN run on the generated NYU fixture, for tests of
# the training tools (resume, kill, distributed): the demo's light model
# made narrower and batch-independent, plain NCHW fp32 (no autocast, no
# ChannelsLastHook), on data of any size in the NYU layout, scored on the
# whole frame.  Set the data root with
#   --cfg-options train_dataloader.dataset.data_root=R
#                 val_dataloader.dataset.data_root=R
#                 test_dataloader.dataset.data_root=R
_base_ = [
    '../../configs/_base_/models/mrpan_seresnext26_demo.py',
    '../../configs/_base_/datasets/demo_rooms.py',
    '../../configs/_base_/default_runtime.py',
    '../../configs/_base_/schedules/schedule_20e_adam.py'
]
crop_size = (64, 80)  # (H, W) the fixture's images, padded to it
data_preprocessor = dict(size=crop_size)
fused_channels = (16, 16, 16, 16, 16)
norm_cfg = dict(type='GN', num_groups=8)  # batch-independent: DDP == 1 proc
model = dict(
    data_preprocessor=data_preprocessor,
    backbone=dict(norm_cfg=norm_cfg),
    neck=dict(
        fuse_channels=(40, 40, 40, 40, 40),
        out_channels=fused_channels,
        norm_cfg=norm_cfg),
    decode_head=dict(
        in_channels=fused_channels, top_proj_channels=16,
        depth_offset=0.0, norm_cfg=norm_cfg))
pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='LoadCheckedDepth', depth_rescale_factor=1e-3),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(pipeline=pipeline))
val_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(pipeline=pipeline))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=1e-3, weight_decay=0.))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
train_cfg = dict(max_epochs=2, val_interval=100)
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(interval=1, max_keep_ckpts=-1),
    visualization=dict(draw=False))
randomness = dict(seed=0, deterministic=True)
