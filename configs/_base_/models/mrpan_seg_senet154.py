# MRPAN for semantic segmentation: the depth model's SENet-154 encoder and
# MACA neck (GAM + SAM) unchanged, with MRPANSegHead (a residual pyramid of
# class logits refined by the RRM, cross-entropy at each of the five scales)
# inside mmseg's EncoderDecoder.  Datasets set `num_classes` and the crop.
_base_ = ['./mrpan_senet154.py']
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(seg_pad_val=255),  # padded labels are ignored
    decode_head=dict(
        _delete_=True,
        type='MRPANSegHead',
        num_classes=40,
        in_channels=(64, 128, 256, 512, 1024),
        top_channels=2048,
        top_proj_channels=1024,
        refine='rrm',
        scale_weights=(1.0, 1.0, 1.0, 1.0, 1.0),
        norm_cfg=dict(type='BN', requires_grad=True),
        loss_decode=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            avg_non_ignore=True,
            loss_weight=1.0)),
    test_cfg=dict(mode='whole'))
