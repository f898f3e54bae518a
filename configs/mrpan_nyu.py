# MRPAN baseline + MACA + RRM on NYU Depth v2 (the paper's full model, the
# last row of Table I): SENet-154, Adam 1e-4, 20 epochs, batch 4, 228x304.
_base_ = [
    '_base_/models/mrpan_senet154.py', '_base_/datasets/nyu.py',
    '_base_/default_runtime.py', '_base_/schedules/schedule_20e_adam.py'
]
# Training recipe, Table I evaluation (Hu et al.'s protocol) and depth-edge
# metrics come from _base_/datasets/nyu.py; README, "Differences", lists
# what still differs from the paper, Hu et al. and SARPN.
crop_size = (228, 304)  # (H, W) network input: Hu et al.'s centre crop
# training batches are padded to the crop size
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
