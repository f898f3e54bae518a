# KITTI, Eigen split (Eigen et al., NeurIPS 2014) with the annotated depth
# of Uhrig et al. (3DV 2017): 652 test frames, training list of BTS/AdaBins.
#
# Layout (tools/dataset_converters/kitti.py, docs/datasets.md):
#   data/kitti/images/{train,test}/<drive>_<frame>.png       ~375x1242 RGB
#   data/kitti/annotations/{train,test}/<drive>_<frame>.png  uint16, m*256
# Check a converted copy with:
#   python tools/check_dataset.py data/kitti --img-suffix .png --any-names
#
# Training as BTS / AdaBins: the KITTI benchmark crop (KBCrop, bottom 352
# rows, centre 1216 columns), rotation by up to +-1 degree, horizontal
# flip, a random 352x704 crop.  Test: the benchmark crop only; the network
# predicts the 352x1216 crop, which KITTIProtocol scores inside Garg's crop
# of the full frame (frame_shape and crop_offset travel in the metainfo).
dataset_type = 'DepthFolderDataset'
data_root = 'data/kitti'
kb_crop_size = (352, 1216)  # (H, W)
crop_size = (352, 704)  # (H, W) training crop
depth_rescale_factor = 1 / 256  # stored value -> metres
meta_keys = ('img_path', 'depth_map_path', 'ori_shape', 'img_shape',
             'pad_shape', 'scale_factor', 'flip', 'flip_direction',
             'depth_rescale_factor', 'frame_shape', 'crop_offset')

train_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='LoadCheckedDepth', depth_rescale_factor=depth_rescale_factor),
    dict(type='KBCrop', crop_size=kb_crop_size, crop_is_ori_shape=False),
    dict(type='RandomRotate', prob=1.0, degree=1.0, pad_val=0, seg_pad_val=0),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='LoadCheckedDepth', depth_rescale_factor=depth_rescale_factor),
    dict(type='KBCrop', crop_size=kb_crop_size),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]

train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        img_suffix='.png',
        data_prefix=dict(
            img_path='images/train', depth_map_path='annotations/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        img_suffix='.png',
        data_prefix=dict(
            img_path='images/test', depth_map_path='annotations/test'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# Garg's crop, depth in (1e-3, 80] m.  Eigen's crop: protocol.crop='eigen';
# the 50 m cap: protocol.max_depth=50 (docs/datasets.md).
val_evaluator = dict(
    type='NYUDepthMetric',
    protocol=dict(type='kitti', crop='garg', max_depth=80.0))
test_evaluator = val_evaluator
