# Test a NYU-trained MRPAN (configs/mrpan_nyu.py) on iBims-1 (Koch et al.,
# ECCV-W 2018) with its depth-boundary errors, through the Table I test
# chain of mrpan_nyu.py: the 640x480 frame to 320x240 (depth and edge maps
# nearest, as Scale_iBims1 in the reference code's nyu_transform.py),
# the centre 228x304 crop.
#
#   python tools/dataset_converters/zero_shot.py \
#       data/ibims1_core_raw data/ibims1 --set ibims1
#   python tools/test.py configs/mrpan_nyu_test_ibims1.py CHECKPOINT
#
# Layout under data_root (the converter's; docs/datasets.md):
#   images/test/<name>.png        640x480 RGB
#   annotations/test/<name>.png   uint16 depth in mm (0 = invalid or
#                                 transparent in iBims' masks)
#   edges/test/<name>.png         depth-boundary map, non-zero = boundary
# Reported (the evaluator of mrpan_nyu.py, boundary maps as gt_edge_map):
# Table I metrics, edge P/R/F1 and dbe_acc / dbe_comp (pixels of
# the 228x304 crop; iBims' own tables use the 640x480 frame).
_base_ = ['./mrpan_nyu.py']
data_root = 'data/ibims1'
test_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='LoadCheckedDepth', depth_rescale_factor=1e-3),
    dict(type='LoadBoundaryMap'),
    dict(type='PillowResize', short_side=240),
    dict(type='CenterCropDepth', crop_size={{_base_.crop_size}},
         crop_is_ori_shape=True),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
test_dataloader = dict(
    dataset=dict(
        type='DepthFolderDataset',
        data_root=data_root,
        img_suffix='.png',
        data_prefix=dict(
            img_path='images/test',
            depth_map_path='annotations/test',
            boundary_map_path='edges/test'),
        pipeline=test_pipeline))
