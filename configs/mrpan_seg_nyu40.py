# MRPAN for semantic segmentation: the depth model's SENet-154 encoder and
# MACA neck (GAM + SAM) unchanged, with MRPANSegHead (residual pyramid of
# class logits with RRM, cross-entropy at each of the five scales) inside
# mmseg's EncoderDecoder, on NYUv2 40 classes.  The paper reports depth
# only: the schedule is mmseg's standard 40k-iteration SGD one.
_base_ = [
    '_base_/models/mrpan_senet154.py', '_base_/datasets/nyu40_seg.py',
    '_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_40k.py'
]
crop_size = (480, 640)
model = dict(
    type='EncoderDecoder',
    # Padded labels are 255 = ignored; pad training batches to the crop.
    data_preprocessor=dict(seg_pad_val=255, size=crop_size),
    decode_head=dict(
        _delete_=True,
        type='MRPANSegHead',
        num_classes=40,
        in_channels=(64, 128, 256, 512, 1024),
        top_channels=2048,
        top_proj_channels=1024,
        refine='rrm',
        scale_weights=(1.0, 1.0, 1.0, 1.0, 1.0),
        norm_cfg=dict(type='BN', requires_grad=True),
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            avg_non_ignore=True,
            loss_weight=1.0)),
    test_cfg=dict(mode='whole'))
log_processor = dict(by_epoch=False)
visualizer = dict(type='SegLocalVisualizer')
