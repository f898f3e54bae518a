# Table I, "MRPAN baseline + MACA": the full model with SARPN's basic refine
# instead of the improved RRM.
_base_ = ['./mrpan_nyu.py']
model = dict(decode_head=dict(refine='basic'))
