# MMPretrain's ConvNeXt-T as a five-level MRPAN encoder: FiveLevelEncoder
# adds the stride-2 level the neck and heads need (a light conv stem on the
# image) to ConvNeXt's four levels.  An encoder, not a whole model: a
# config lists this file after its model's base and swaps it in, e.g.
#   model = dict(
#       backbone=dict(_delete_=True, **_base_.convnext_t_encoder),
#       neck=dict(in_channels=_base_.stem_channels[-1:] +
#                 _base_.encoder_channels),
#       decode_head=dict(top_channels=_base_.encoder_channels[-1]))
stem_channels = (32, 64)  # level 0, stride 2
encoder_channels = (96, 192, 384, 768)  # levels 1-4, strides 4-32
convnext_t_encoder = dict(
    type='FiveLevelEncoder',
    encoder=dict(
        type='mmpretrain.ConvNeXt',
        arch='tiny',
        out_indices=(0, 1, 2, 3),
        gap_before_final_norm=False),  # (N, C, H, W) levels
    encoder_channels=encoder_channels,
    stem_channels=stem_channels,
    # MMPretrain's ImageNet-1k ConvNeXt-T, loaded strictly.  Its classifier
    # keeps only the last stage's LayerNorm (norm3): the per-level
    # norm0-norm2 are new.
    init_cfg=dict(
        type='Pretrained',
        checkpoint='checkpoints/'
        'convnext-tiny_32xb128_in1k_20221207-998cf3e9.pth',
        prefix='backbone.',
        new_keys=(r'norm[012]\.', )))
