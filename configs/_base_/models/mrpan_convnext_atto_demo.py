# The light MRPAN of the CPU demo: the design of mrpan_senet154.py (MACA =
# GAM + SAM, improved RRM, multi-scale loss) on MMPretrain's ConvNeXt-atto
# (3.4 M parameters), trained from scratch, with the narrow neck and head of
# mrpan_seresnext26_demo.py.  ConvNeXt-atto gives four levels (strides
# 4-32); FiveLevelEncoder adds the stride-2 level from a light conv stem.
# Chosen by measurement against SE-ResNeXt-26, ResNet-18 and ConvNeXt-femto
# at the demo's budget (docs/demo.md, "Demo encoder").
_base_ = ['./mrpan_seresnext26_demo.py']
stem_channels = (24, 32)  # level 0, stride 2
encoder_channels = (40, 80, 160, 320)  # levels 1-4, strides 4-32
model = dict(
    backbone=dict(
        _delete_=True,
        type='FiveLevelEncoder',
        encoder=dict(
            type='mmpretrain.ConvNeXt',
            arch='atto',
            out_indices=(0, 1, 2, 3),
            gap_before_final_norm=False,
            drop_path_rate=0.0),
        encoder_channels=encoder_channels,
        stem_channels=stem_channels),
    neck=dict(in_channels=stem_channels[-1:] + encoder_channels),
    decode_head=dict(top_channels=encoder_channels[-1]))
