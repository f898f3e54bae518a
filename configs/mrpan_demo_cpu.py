# The CPU demo (README's `make demo`): the light MRPAN (SE-ResNeXt-26 from
# scratch, MACA + RRM) on the embedded procedural rooms, sized to train and
# evaluate in about six minutes on 2 CPU cores.  The network runs at 72x96
# (more samples per minute beat resolution at this budget) and is
# evaluated at the rooms' full 120x160.
_base_ = [
    '_base_/models/mrpan_seresnext26_demo.py', '_base_/datasets/demo_rooms.py',
    '_base_/default_runtime.py', '_base_/schedules/schedule_20e_adam.py'
]
crop_size = (72, 96)  # (H, W) the network sees: the dataset's resize
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    # flip test-time augmentation: average of f(x) and flip(f(flip(x)))
    test_cfg=dict(mode='slide_flip', crop_size=crop_size, stride=crop_size))

max_epochs = 8
# bf16 autocast with channels-last weights and a fused Adam step: the
# fastest training step measured on this CPU (docs/benchmarks.md).  lr 2e-3
# at batch 16 (1e-3 and 1.5e-3 gave AbsRel 0.110 and 0.105 vs 0.093).
optim_wrapper = dict(
    type='AnyDeviceAmpOptimWrapper',
    optimizer=dict(lr=2e-3, fused=True))
custom_hooks = [dict(type='ChannelsLastHook')]
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5,
         by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=2, max_keep_ckpts=2),
    # RGB | GT | prediction | error panels of every 4th validation batch
    # (the hook draws when runner.iter + batch index is a multiple of 4)
    visualization=dict(draw=True, interval=4))
randomness = dict(seed=0)
