# Runtime shared by every MRPAN config.
default_scope = 'mmseg'
# The second import makes MMEngine read checkpoints without running code
# from them in any process that reads this config (mmseg's init_model too).
custom_imports = dict(
    imports=['mrpan_mm', 'mrpan_mm.engine.safe_checkpoint_loading'],
    allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # GPU runs use NCCL; CPU runs of tools/train.py switch to gloo.
    dist_cfg=dict(backend='nccl'),
)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='DepthPanelVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False
# tools/test.py --tta: mean of the depth maps of an image's copies (the
# config's tta_pipeline, by default the flip of its test pipeline)
tta_model = dict(type='DepthTTAModel')
