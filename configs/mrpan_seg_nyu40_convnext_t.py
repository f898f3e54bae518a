# MRPAN segmentation on NYUv2-40 (mrpan_seg_nyu40.py) with MMPretrain's
# ConvNeXt-T made five-level by FiveLevelEncoder (as in
# mrpan_convnext_t_nyu.py), under MRPANSegHead.
_base_ = ['./mrpan_seg_nyu40.py']
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
            gap_before_final_norm=False),
        encoder_channels=encoder_channels,
        stem_channels=stem_channels,
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/'
            'convnext-tiny_32xb128_in1k_20221207-998cf3e9.pth',
            prefix='backbone.',
            new_keys=(r'norm[012]\.', ))),
    neck=dict(in_channels=stem_channels[-1:] + encoder_channels),
    decode_head=dict(top_channels=encoder_channels[-1]))
