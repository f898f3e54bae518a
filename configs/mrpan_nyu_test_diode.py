# Zero-shot test of a NYU-trained MRPAN (configs/mrpan_nyu.py) on DIODE's
# indoor validation scans (Vasiljevic et al., 2019; 325 frames, 768x1024),
# as ZoeDepth (Bhat et al., 2023) evaluates it: Eigen's crop rows 45:471,
# columns 41:601 of the full-resolution ground truth, depth in (1e-3, 10) m.
#
#   python tools/dataset_converters/zero_shot.py \
#       data/diode/val/indoors data/diode_indoor --set diode
#   python tools/test.py configs/mrpan_nyu_test_diode.py CHECKPOINT
#
# The network sees the frame resized to 240x320 (Pillow, as in training);
# its prediction is resized to the 768x1024 of the file.  Relative-depth
# models: test_evaluator.scale_alignment='median' (or 'scale',
# 'scale_shift') via --cfg-options.
_base_ = ['./mrpan_nyu.py']
data_root = 'data/diode_indoor'
test_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='PillowResize', short_side=240),
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
    protocol=dict(
        _delete_=True,
        type='eigen',
        crop=(45, 471, 41, 601),
        frame=(768, 1024),
        max_depth=10.0),
    boundary_metrics=False)
