# MRPAN segmentation on a stock mmseg dataset: ADE20K (150 classes) with
# mmseg's own ADE20KDataset, its standard 512x512 pipeline and 160k-iteration
# schedule.  Same model as mrpan_seg_nyu40.py (SENet-154 + MACA neck +
# MRPANSegHead with its defaults: RRM, cross-entropy with weight 1.0 at each
# of the five scales) with 150 classes.
_base_ = [
    '_base_/models/mrpan_senet154.py', 'mmseg::_base_/datasets/ade20k.py',
    '_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_160k.py'
]
crop_size = (512, 512)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(seg_pad_val=255, size=crop_size),
    decode_head=dict(
        _delete_=True,
        type='MRPANSegHead',
        num_classes=150,
        norm_cfg=dict(type='BN', requires_grad=True)),
    test_cfg=dict(mode='whole'))
log_processor = dict(by_epoch=False)
visualizer = dict(type='SegLocalVisualizer')
