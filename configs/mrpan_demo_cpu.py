# The CPU demo (README's `make demo`): the light MRPAN (ConvNeXt-atto from
# scratch, MACA neck, basic refinement: at this budget the RRM lowered
# AbsRel, δ<1.25 and the edge F1 over 3 seeds, docs/demo.md "Multi-seed
# ablation") on the embedded procedural rooms, sized to set up,
# render, train and evaluate in 8 minutes on 2 CPU cores without native
# bf16 (fp32).  The network runs at 36x48 (at this budget more steps beat
# resolution: README, "Demo encoder"; the size is set in the dataset base)
# and is evaluated at the rooms' full 120x160.
_base_ = [
    '_base_/models/mrpan_convnext_atto_demo.py',
    '_base_/datasets/demo_rooms.py', '_base_/default_runtime.py',
    '_base_/schedules/schedule_20e_adam.py'
]
crop_size = _base_.crop_size  # (H, W) the network sees: the dataset's resize
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    # ConvNeXt's 7x7 depthwise kernels meet 2x3 and 1x1 maps at this input:
    # skip the taps that only see zero padding (same outputs and gradients;
    # a training step 3-5 % cheaper, docs/demo.md)
    backbone=dict(trim_padding_taps=True),
    decode_head=dict(refine='basic'),
    # flip test-time augmentation: average of f(x) and flip(f(flip(x)))
    test_cfg=dict(mode='slide_flip', crop_size=crop_size, stride=crop_size))

max_epochs = 13  # 975 steps (docs/demo.md, "Margin, second try")
# Mixed precision where it pays: bf16 autocast on CPUs with native bf16
# (AVX-512 BF16 / AMX; fp32 elsewhere, see AnyDeviceAmpOptimWrapper),
# channels-last weights and a fused Adam step.  lr 4e-3 at batch 16 after a
# 50-step linear warm-up, cosine to 1e-5 (at 36x48, 750 steps: AbsRel 0.120
# with lr 2e-3, 0.112 with 4e-3, 0.115 with 6e-3, 0.112 with 8e-3; README,
# "Demo encoder").
optim_wrapper = dict(
    type='AnyDeviceAmpOptimWrapper',
    optimizer=dict(lr=4e-3, fused=True))
custom_hooks = [dict(type='ChannelsLastHook')]
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=50),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5,
         by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=4, max_keep_ckpts=2),
    # RGB | GT | prediction | error panels of every 4th validation batch
    # (the hook draws when runner.iter + batch index is a multiple of 4)
    visualization=dict(draw=True, interval=4))
randomness = dict(seed=0)
