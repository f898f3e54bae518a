# Table I, "MRPAN baseline" (SARPN-equivalent): "+MACA" without the global
# (GAM) and spatial (SAM) attention.
_base_ = ['./mrpan_maca_nyu.py']
model = dict(neck=dict(use_gam=False, use_sam=False))
