# The CPU demo's procedural rooms (tools/make_demo_data.py): 1200 train +
# 80 test views from a tripod camera, 120x160, in mmseg's NYU layout:
#   data/demo_rooms/images/{train,test}/<room>_<index>.jpg
#   data/demo_rooms/annotations/{train,test}/<room>_<index>.png  uint16, mm
# Both splits are resized to the network input `crop_size` (no crop: the
# whole view); testing loads depth after the resize, so metrics are
# computed at the full 120x160 (the prediction is resized back), on the
# whole frame (no Eigen crop: that crop assumes 480x640).
dataset_type = 'NYUDepthDataset'
data_root = 'data/demo_rooms'
crop_size = (36, 48)  # (H, W) network input (the demo config reads it here)
train_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='LoadCheckedDepth', depth_rescale_factor=1e-3),
    dict(type='Resize', scale=crop_size[::-1], keep_ratio=False),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PhotoMetricDistortion', brightness_delta=16,
         contrast_range=(0.8, 1.2), saturation_range=(0.8, 1.2),
         hue_delta=1),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='Resize', scale=crop_size[::-1], keep_ratio=False),
    dict(type='LoadCheckedDepth', depth_rescale_factor=1e-3),
    dict(type='PackSegInputs'),
]
# Loading in the training process (no worker processes): on 2 CPU cores a
# worker competes with the two compute threads, and a 36x48 training step
# took 0.436 s with one worker vs 0.385 s without (docs/demo.md, "Demo
# encoder").
train_dataloader = dict(
    batch_size=16, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type, data_root=data_root,
        data_prefix=dict(
            img_path='images/train', depth_map_path='annotations/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=data_root, test_mode=True,
        data_prefix=dict(
            img_path='images/test', depth_map_path='annotations/test'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='NYUDepthMetric', protocol=dict(type='eigen', crop=None))
test_evaluator = val_evaluator
