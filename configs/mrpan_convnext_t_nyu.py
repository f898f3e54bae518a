# MRPAN (MACA + RRM, the paper's recipe of mrpan_nyu.py) on MMPretrain's
# ConvNeXt-T.  FiveLevelEncoder adds the stride-2 level the neck and head
# need (a light conv stem on the image) to the encoder's four levels.
_base_ = ['./mrpan_nyu.py']
stem_channels = (32, 64)  # level 0, stride 2
encoder_channels = (96, 192, 384, 768)  # levels 1-4, strides 4-32
model = dict(
    backbone=dict(
        _delete_=True,
        type='FiveLevelEncoder',
        encoder=dict(
            type='mmpretrain.ConvNeXt',
            arch='tiny',
            out_indices=(0, 1, 2, 3),
            gap_before_final_norm=False),  # (N, C, H, W) levels
        encoder_channels=encoder_channels,
        stem_channels=stem_channels,
        # MMPretrain's ImageNet-1k ConvNeXt-T, loaded strictly.  Its
        # classifier keeps only the last stage's LayerNorm (norm3): the
        # per-level norm0-norm2 are new.
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/'
            'convnext-tiny_32xb128_in1k_20221207-998cf3e9.pth',
            prefix='backbone.',
            new_keys=(r'norm[012]\.', ))),
    neck=dict(in_channels=stem_channels[-1:] + encoder_channels),
    decode_head=dict(top_channels=encoder_channels[-1]))
