# MRPAN (MACA + RRM, the paper's recipe of mrpan_nyu.py) on MMSegmentation's
# ResNet-50-V1c.  FiveLevelEncoder adds the stride-2 level the neck and head
# need (a light conv stem on the image) to the encoder's four levels.
_base_ = ['./mrpan_nyu.py']
norm_cfg = dict(type='BN', requires_grad=True)
stem_channels = (32, 64)  # level 0, stride 2
encoder_channels = (256, 512, 1024, 2048)  # levels 1-4, strides 4-32
model = dict(
    backbone=dict(
        _delete_=True,
        type='FiveLevelEncoder',
        encoder=dict(
            type='ResNetV1c',
            depth=50,
            out_indices=(0, 1, 2, 3),
            norm_cfg=norm_cfg),
        encoder_channels=encoder_channels,
        stem_channels=stem_channels,
        norm_cfg=norm_cfg,
        # mmseg's `open-mmlab://resnet50_v1c` ImageNet weights, loaded
        # strictly (an ImageNet classifier `fc.*`, if present, is skipped).
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/resnet50_v1c-2cccc1ad.pth',
            ignore_keys=(r'fc\.', ))),
    neck=dict(in_channels=stem_channels[-1:] + encoder_channels),
    decode_head=dict(top_channels=encoder_channels[-1]))
