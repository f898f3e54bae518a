# Runtime of the segmentation configs: the shared runtime with mmseg's
# segmentation visualizer and TTA model (the shared ones are for depth),
# iteration-based logging for mmseg's iteration schedules, and
# `reliability_hooks`, the reliability switches of our depth schedule
# (docs/reliability.md) for a config to merge into mmseg's schedule hooks:
# `default_hooks = _base_.reliability_hooks` (a base may not set
# default_hooks next to the schedule base that also sets them).
_base_ = ['./default_runtime.py']
visualizer = dict(type='SegLocalVisualizer')
log_processor = dict(by_epoch=False)
tta_model = dict(type='SegTTAModel')
reliability_hooks = dict(
    checkpoint=dict(backend_args=dict(backend='atomic_local')),
    checkpoint_loading=dict(type='SafeCheckpointLoadHook', strict=True),
    non_finite_loss=dict(type='NonFiniteLossHook'))
