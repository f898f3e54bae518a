# Zero-shot test of a NYU-trained MRPAN (configs/mrpan_nyu.py) on SUN RGB-D
# (Song et al., CVPR 2015; 5050 test frames of four sensors), depth in
# (1e-3, 8) m as ZoeDepth (Bhat et al., 2023) evaluates it.  The frames
# differ in size per sensor (427x561 to 531x730), so the whole frame is
# evaluated (ZoeDepth indexes a fixed 45:471, 41:601 window, which the
# smaller frames do not contain).
#
#   python tools/dataset_converters/zero_shot.py \
#       data/SUNRGBD data/sunrgbd --set sunrgbd --frames sunrgbd_test.txt
#   python tools/test.py configs/mrpan_nyu_test_sunrgbd.py CHECKPOINT
#
# The network sees the frame resized to 240x320 (mmseg's Resize, aspect
# not kept: every sensor's frame gets the training input size); the
# prediction is resized to the file's size.
_base_ = ['./mrpan_nyu.py']
data_root = 'data/sunrgbd'
test_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='Resize', scale=(320, 240), keep_ratio=False),
    dict(type='LoadCheckedDepth', depth_rescale_factor=1e-3),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
test_dataloader = dict(
    dataset=dict(
        type='DepthFolderDataset',
        data_root=data_root,
        img_suffix='.png',
        pipeline=test_pipeline))
test_evaluator = dict(
    protocol=dict(_delete_=True, type='eigen', crop=None, max_depth=8.0),
    boundary_metrics=False)
