# MRPAN (MACA + RRM, the paper's recipe of mrpan_nyu.py) on timm's
# EfficientNet-B3 through MMSegmentation's TIMMBackbone.  FiveLevelEncoder
# adds the stride-2 level the neck and head need (a light conv stem on the
# image) to the encoder's four levels.
_base_ = ['./mrpan_nyu.py']
stem_channels = (32, 64)  # level 0, stride 2
encoder_channels = (32, 48, 136, 384)  # levels 1-4, strides 4-32
model = dict(
    backbone=dict(
        _delete_=True,
        type='FiveLevelEncoder',
        encoder=dict(
            type='TIMMBackbone',
            model_name='efficientnet_b3',
            pretrained=False,  # never download; weights come from init_cfg
            feature_cls='getter',  # keeps timm's own parameter names
            out_indices=(1, 2, 3, 4)),  # strides 4-32
        encoder_channels=encoder_channels,
        stem_channels=stem_channels,
        # timm's ImageNet-1k `efficientnet_b3.ra2_in1k` (`model.safetensors`
        # of huggingface.co/timm/efficientnet_b3.ra2_in1k, or the older
        # `efficientnet_b3_ra2-cf984f9c.pth`), loaded strictly into the timm
        # model; its classifier (conv_head, bn2, classifier) is skipped.
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/efficientnet_b3.ra2_in1k.safetensors',
            submodule='timm_model.model',
            ignore_keys=(r'conv_head\.', r'bn2\.', r'classifier\.'))),
    neck=dict(in_channels=stem_channels[-1:] + encoder_channels),
    decode_head=dict(top_channels=encoder_channels[-1]))
