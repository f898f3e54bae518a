# MRPAN segmentation on a stock mmseg dataset: ADE20K (150 classes) with
# mmseg's own ADE20KDataset, its standard 512x512 pipeline and 160k-iteration
# schedule.  Same model as mrpan_seg_nyu40.py.
_base_ = [
    '_base_/models/mrpan_seg_senet154.py', 'mmseg::_base_/datasets/ade20k.py',
    '_base_/seg_runtime.py', 'mmseg::_base_/schedules/schedule_160k.py'
]
crop_size = (512, 512)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=150))
default_hooks = _base_.reliability_hooks  # _base_/seg_runtime.py
