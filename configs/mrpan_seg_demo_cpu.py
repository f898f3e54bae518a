# The CPU demo's segmentation twin (`python tools/run_demo.py --task seg`):
# configs/mrpan_demo_cpu.py with its encoder, MACA neck, schedule, input
# size and rendered rooms unchanged, and only what a task swap needs
# swapped (docs/segmentation.md, "The head swap", shows the diff of the two
# dumps):
# - head and segmentor: MRPANSegHead (the same residual pyramid and RRM,
#   one channel per class) in mmseg's EncoderDecoder, whole-image inference
#   (EncoderDecoder has no in-model flip test);
# - loss: cross-entropy at each of the five scales;
# - data: the rooms' class maps (wall, floor, ceiling, 11 furniture kinds,
#   objects; 255 = none) instead of their depth, padded with 255, scored by
#   per-class IoU and drawn as RGB | ground truth | prediction panels.
_base_ = ['./mrpan_demo_cpu.py']
crop_size = _base_.crop_size
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(seg_pad_val=255),  # padded labels are ignored
    decode_head=dict(
        _delete_=True,
        type='MRPANSegHead',
        num_classes=15,  # len(mrpan_mm.demo.labels.CLASSES)
        # the depth head's pyramid widths and refinement
        in_channels=_base_.model.decode_head.in_channels,
        top_channels=_base_.model.decode_head.top_channels,
        top_proj_channels=_base_.model.decode_head.top_proj_channels,
        refine=_base_.model.decode_head.refine,
        norm_cfg=_base_.model.decode_head.norm_cfg,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, avg_non_ignore=True,
            loss_weight=1.0)),
    test_cfg=dict(_delete_=True, mode='whole'))
dataset_type = 'DemoRoomsSegDataset'
train_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=crop_size[::-1], keep_ratio=False),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PhotoMetricDistortion', brightness_delta=16,
         contrast_range=(0.8, 1.2), saturation_range=(0.8, 1.2),
         hue_delta=1),
    dict(type='PackSegInputs'),
]
# labels loaded after the resize: scored at the rooms' full 120x160
test_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='Resize', scale=crop_size[::-1], keep_ratio=False),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_prefix=dict(
            _delete_=True, img_path='images/train',
            seg_map_path='seg_annotations/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_prefix=dict(
            _delete_=True, img_path='images/test',
            seg_map_path='seg_annotations/test'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='ClassIoUMetric',
                     iou_metrics=['mIoU'])
test_evaluator = val_evaluator
visualizer = dict(type='SegPanelVisualizer')
tta_model = dict(type='SegTTAModel')  # the depth demo's is for depth
