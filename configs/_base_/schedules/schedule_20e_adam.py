# The paper's schedule (Hu et al. 2019): Adam, lr 1e-4, betas (0.9, 0.999),
# weight decay 1e-4, lr x0.1 every 5 epochs, 20 epochs.
optimizer = dict(
    type='Adam', lr=1e-4, betas=(0.9, 0.999), weight_decay=1e-4)
optim_wrapper = dict(type='OptimWrapper', optimizer=optimizer)
param_scheduler = [
    dict(type='StepLR', step_size=5, gamma=0.1, by_epoch=True, begin=0,
         end=20)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# The last three entries are the reliability switches of docs/reliability.md:
# checkpoints written atomically (temporary file + rename),
# read without running code and only if they fit the model, and training
# stopped in the iteration whose loss is NaN/inf.
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=3,
        save_last=True, backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'),
    checkpoint_loading=dict(type='SafeCheckpointLoadHook', strict=True),
    non_finite_loss=dict(type='NonFiniteLossHook'))
