# MRPAN (MACA + RRM, the paper's recipe of mrpan_nyu.py) on MMPretrain's
# Swin-T.  FiveLevelEncoder adds the stride-2 level the neck and head need
# (a light conv stem on the image) to the encoder's four levels.
_base_ = ['./mrpan_nyu.py']
stem_channels = (32, 64)  # level 0, stride 2
encoder_channels = (96, 192, 384, 768)  # levels 1-4, strides 4-32
model = dict(
    backbone=dict(
        _delete_=True,
        type='FiveLevelEncoder',
        encoder=dict(
            type='mmpretrain.SwinTransformer',
            arch='tiny',
            out_indices=(0, 1, 2, 3),  # (N, C, H, W) levels
            # Pads a level smaller than the 7x7 window (inputs under
            # 224x224); no effect at 228x304.
            pad_small_map=True),
        encoder_channels=encoder_channels,
        stem_channels=stem_channels,
        # MMPretrain's ImageNet-1k Swin-T, loaded strictly.  Its classifier
        # keeps only the last stage's LayerNorm (norm3): the per-level
        # norm0-norm2 are new.  Files of the older MMClassification layout
        # (final norm `norm.`, stored `attn_mask` buffers) are read too.
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/swin_tiny_224_b16x64_300e_imagenet_'
            '20210616_090925-66df6be6.pth',
            prefix='backbone.',
            ignore_keys=(r'.*\.attn_mask$', ),
            rename_keys=((r'^norm\.', 'norm3.'), ),
            new_keys=(r'norm[012]\.', ))),
    neck=dict(in_channels=stem_channels[-1:] + encoder_channels),
    decode_head=dict(top_channels=encoder_channels[-1]))
