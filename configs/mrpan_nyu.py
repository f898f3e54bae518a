# MRPAN baseline + MACA + RRM on NYU Depth v2 (the paper's full model, the
# last row of Table I): SENet-154, Adam 1e-4, 20 epochs, batch 4, 228x304.
_base_ = [
    '_base_/models/mrpan_senet154.py', '_base_/datasets/nyu.py',
    '_base_/default_runtime.py', '_base_/schedules/schedule_20e_adam.py'
]
# Table I uses Hu et al.'s evaluation (centre 228x304 of the 240x320 frame).
val_evaluator = dict(type='NYUDepthMetric', protocol='hu2019')
test_evaluator = val_evaluator
