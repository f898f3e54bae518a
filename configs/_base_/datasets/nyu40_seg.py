# NYU Depth v2, 40-class semantic segmentation (Gupta et al.'s grouping) on
# the 1449 labelled frames: official split, 795 train / 654 test.
#
# Layout (tools/dataset_converters/nyu_labeled.py ... --labels):
#   data/nyu_labeled/images/{train,test}/<scene>_<index>.jpg           640x480
#   data/nyu_labeled/seg_annotations/{train,test}/<scene>_<index>.png  uint8,
#       0 = unlabelled, 1..40 (reduce_zero_label: 0 -> 255 ignored, k -> k-1)
# NYU40SegDataset takes its class names from the shipped classes40.txt.
#
# Training: mmseg's standard augmentation (random rescale 0.5-2.0 of the
# 640x480 frame, 480x640 crop, flip, colour distortion).  Testing: the full
# frame, no resize.
dataset_type = 'NYU40SegDataset'
data_root = 'data/nyu_labeled'
crop_size = (480, 640)  # (H, W)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=(640, 480),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='images/train', seg_map_path='seg_annotations/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(
            img_path='images/test', seg_map_path='seg_annotations/test'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
