# Test a model trained with configs/mrpan_nyu.py on the full 480x640 frame
# with Eigen et al.'s crop (rows 45:471, columns 41:601), for comparisons
# with methods that report that protocol instead of Table I's:
#
#   python tools/test.py configs/mrpan_nyu_test_eigen.py CHECKPOINT
#
# The network sees the whole 240x320 frame (Hu's Pillow resize, no crop);
# its finest output (120x160) is upsampled to 240x320 by the head and to
# the 480x640 of the file by DepthEstimator; depth is loaded after the
# resize, so the ground truth stays at 480x640.
_base_ = ['./mrpan_nyu.py']
test_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='PillowResize', short_side=240),
    dict(type='LoadCheckedDepth', depth_rescale_factor=1e-3),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_evaluator = dict(protocol=dict(_delete_=True, type='eigen'))
