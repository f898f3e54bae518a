# NYU Depth v2 for depth estimation, Hu et al.'s protocol (WACV 2019).
#
# Layout (tools/dataset_converters/nyu_labeled.py or nyu_hu_csv.py):
#   data/nyu/images/{train,test}/<scene>_<index>.jpg        640x480 RGB
#     (.png for Hu's test set: the converter copies its lossless PNGs)
#   data/nyu/annotations/{train,test}/<scene>_<index>.png   uint16, mm
# Check a converted copy with: python tools/check_dataset.py data/nyu
#
# Training and test pipelines are Hu et al.'s (WACV 2019, `loaddata.py`,
# `nyu_transform.py`), which SARPN and MRPAN train and test with:
#   train: Scale(240), RandomHorizontalFlip, RandomRotate(5),
#          CenterCrop([304, 228], [152, 114]), ToTensor,
#          Lighting(0.1, ImageNet PCA), ColorJitter(0.4, 0.4, 0.4),
#          Normalize(ImageNet mean/std)
#   test:  Scale(240), CenterCrop([304, 228], [304, 228]), ToTensor,
#          Normalize
# Scale and CenterCrop run Pillow as theirs (PillowResize, CenterCropDepth:
# RGB bilinear with Pillow's antialiasing, depth nearest at pixel centres),
# so that network input and test ground truth equal theirs pixel for pixel.
# The training ground truth is the 114x152 (HxW) depth of the crop, which
# the loss resizes to every scale of the pyramid (SARPN's `adjust_gt`).
# Lighting and ColorJitter act on 0..255 BGR floats here; the data
# preprocessor's mean/std are Hu's times 255 (see PCALighting).
# One difference, kept on purpose (docs/reproduction.md, "Differences"): the rotation is
# mmseg's RandomRotate (image bilinear, depth nearest, border depth 0 =
# invalid, ignored by the loss) where Hu's uses scipy's order-2 spline for
# both, which blends depth across holes and with the zero border.
dataset_type = 'NYUDepthDataset'
img_suffix = ('.jpg', '.png')  # images of either format are read
data_root = 'data/nyu'
crop_size = (228, 304)  # (H, W) network input
depth_size = (114, 152)  # (H, W) training ground truth, Hu's 152x114
meta_keys = ('img_path', 'depth_map_path', 'ori_shape', 'img_shape',
             'pad_shape', 'scale_factor', 'flip', 'flip_direction',
             'depth_rescale_factor', 'category_id', 'crop_bbox')

train_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='LoadCheckedDepth', depth_rescale_factor=1e-3),
    dict(type='PillowResize', short_side=240),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomRotate', prob=1.0, degree=5.0, pad_val=0, seg_pad_val=0),
    dict(type='CenterCropDepth', crop_size=crop_size, depth_size=depth_size),
    dict(type='PCALighting', alphastd=0.1),
    dict(
        type='RandomOrderColorJitter',
        brightness=0.4,
        contrast=0.4,
        saturation=0.4),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
# Evaluation (Hu2019Protocol): the network sees the centre 228x304 of the
# 240x320 frame and is evaluated against the same crop of the depth; the
# crop becomes `ori_shape`, so the prediction is upsampled once (114x152 ->
# 228x304, in the head) and not resampled again.
test_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='LoadCheckedDepth', depth_rescale_factor=1e-3),
    dict(type='PillowResize', short_side=240),
    dict(type='CenterCropDepth', crop_size=crop_size, crop_is_ori_shape=True),
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
        img_suffix=img_suffix,
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
        img_suffix=img_suffix,
        data_prefix=dict(
            img_path='images/test', depth_map_path='annotations/test'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# Table I: Hu et al.'s protocol; depth-edge precision/recall/F1 (Hu's
# thresholds 0.25, 0.5, 1 m) logged at every evaluation.
val_evaluator = dict(
    type='NYUDepthMetric',
    protocol=dict(type='hu2019', crop_size=crop_size),
    boundary_metrics=True)
test_evaluator = val_evaluator

# Test-time augmentation (tools/test.py --tta): without a `tta_pipeline`
# here, each test image and its mirror image go through the test loader's
# steps (mrpan_mm.engine.flip_tta_pipeline: the flip right after image
# loading, so the ground truth is never flipped) and DepthTTAModel
# (default_runtime.py) averages the two predictions.
