# MRPAN segmentation on NYUv2, 40 classes (labels from
# tools/dataset_converters/nyu_labeled.py --labels).  The paper reports depth
# only: the schedule is mmseg's standard 40k-iteration SGD one.
_base_ = [
    '_base_/models/mrpan_seg_senet154.py', '_base_/datasets/nyu40_seg.py',
    '_base_/seg_runtime.py', 'mmseg::_base_/schedules/schedule_40k.py'
]
crop_size = (480, 640)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    decode_head=dict(num_classes=40))
default_hooks = _base_.reliability_hooks  # _base_/seg_runtime.py
