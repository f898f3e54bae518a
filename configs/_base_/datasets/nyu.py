# NYU Depth v2 for depth estimation, Hu et al.'s protocol (WACV 2019).
#
# Layout (tools/dataset_converters/nyu_labeled.py or nyu_hu_csv.py):
#   data/nyu/images/{train,test}/<scene>_<index>.jpg        640x480 RGB
#   data/nyu/annotations/{train,test}/<scene>_<index>.png   uint16, mm
# Check a converted copy with: python tools/check_dataset.py data/nyu
#
# Training augmentation: resize 640x480 -> 320x240, horizontal flip (p=0.5),
# rotation in [-5, 5] degrees, crop 228x304 (HxW), colour jitter, channel
# swap.  Notes on the choices:
# * Every geometric step moves `gt_depth_map` with the image (it is in
#   `seg_fields`) using NEAREST interpolation (mmseg's Resize, RandomRotate,
#   RandomFlip, RandomCrop), so depth values are never blended with the
#   invalid 0s: each output pixel is a measured value or 0.  Hu et al.
#   resize depth bilinearly; nearest is the safe choice with holes.
# * Rotation pads depth with 0 (= invalid, excluded by the loss), not with
#   RandomRotate's default seg_pad_val of 255 (which would read 255 m).
# * Crop: the paper says "cropping" to 304x228; Hu et al.'s loader crops the
#   centre, we crop at random positions (RandomCrop), as in most follow-ups.
# * Colour: Hu et al. jitter brightness, contrast and saturation by factors
#   in [0.6, 1.4] (torchvision ColorJitter(0.4, 0.4, 0.4), no hue) after
#   AlexNet PCA lighting noise.  PhotoMetricDistortion applies each step
#   with p=0.5; its brightness is additive (+-32 of 255, about +-0.4 x the
#   NYU mean intensity), its hue delta is 1 (the smallest it accepts).
#   The PCA lighting noise is not reproduced.
# * RandomChannelSwap: DenseDepth's colour-channel permutation with the
#   probability its paper states (0.25; identity among the 6 orders).
dataset_type = 'NYUDepthDataset'
data_root = 'data/nyu'
crop_size = (228, 304)  # (H, W) network input
meta_keys = ('img_path', 'depth_map_path', 'ori_shape', 'img_shape',
             'pad_shape', 'scale_factor', 'flip', 'flip_direction',
             'depth_rescale_factor', 'category_id')

train_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='LoadCheckedDepth', depth_rescale_factor=1e-3),
    dict(type='Resize', scale=(320, 240), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomRotate', prob=1.0, degree=5.0, pad_val=0, seg_pad_val=0),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=32,
        contrast_range=(0.6, 1.4),
        saturation_range=(0.6, 1.4),
        hue_delta=1),
    dict(type='RandomChannelSwap', prob=0.25),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
# Evaluation: the network sees the 320x240 frame; depth is loaded after the
# resize so it stays at the full 640x480 on which metrics are computed (the
# prediction is resized back to `ori_shape` by the segmentor).
test_pipeline = [
    dict(type='LoadCheckedImage'),
    dict(type='Resize', scale=(320, 240), keep_ratio=False),
    dict(type='LoadCheckedDepth', depth_rescale_factor=1e-3),
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
        data_prefix=dict(
            img_path='images/test', depth_map_path='annotations/test'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='NYUDepthMetric', protocol='eigen')
test_evaluator = val_evaluator

# Test-time augmentation (tools/test.py --tta): each test image and its
# mirror image go through the test pipeline's steps; the flip comes right
# after image loading, so the ground truth is never flipped.  DepthTTAModel
# (default_runtime.py) averages the two predictions, the mirrored one
# flipped back by DepthEstimator.  A config that redefines test_pipeline
# must restate this block (configs/mrpan_demo_cpu.py).
tta_pipeline = [
    test_pipeline[0],
    dict(
        type='TestTimeAug',
        transforms=[[
            dict(type='RandomFlip', prob=0.0, direction='horizontal'),
            dict(type='RandomFlip', prob=1.0, direction='horizontal')
        ]] + [[step] for step in test_pipeline[1:]])
]
