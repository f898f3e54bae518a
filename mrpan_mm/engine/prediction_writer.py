"""Saving every test prediction as a 16-bit depth PNG."""
import logging
import os.path as osp
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from ..utils.depth_io import MAX_PNG_DEPTH
from ..utils.prediction_files import PredictionFiles


@HOOKS.register_module()
class SaveDepthPredictionHook(Hook):
    """Write each test prediction to ``<out_dir>/<image stem>.png``.

    The files are uint16 millimetres, 0 = none (NYU's annotation format), at
    the size of the model's output, i.e. the image's ``ori_shape``; they are
    named like the test images' annotations so that
    ``tools/eval_predictions.py`` can score them, as it scores another
    method's maps.  Depth beyond 65.535 m is clipped, with one warning per
    run.  Used by ``tools/test.py --save-pred DIR``.

    Args:
        out_dir: Output folder (created).
    """

    priority = 'LOW'

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        self.written = set()

    def before_test(self, runner) -> None:
        # named like the annotations, which tools/eval_predictions.py reads
        self.files = PredictionFiles(self.out_dir, ('png', ),
                                     suffixes=dict(png='.png'))
        self.written.clear()

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        for sample in outputs:
            stem = osp.splitext(osp.basename(sample.img_path))[0]
            if stem in self.written:
                raise ValueError(
                    f'{sample.img_path}: another test image has the stem '
                    f'{stem!r}; its prediction would overwrite {stem}.png')
            self.written.add(stem)
            self.files.write(
                stem, sample.pred_depth_map.data[0].float().cpu().numpy())

    def after_test(self, runner) -> None:
        print_log(f'{len(self.written)} depth predictions (uint16 mm) '
                  f'written to {self.out_dir}', logger='current')
        if self.files.clipped:
            print_log(f'depth beyond {MAX_PNG_DEPTH} m was clipped in '
                      f'{len(self.files.clipped)} prediction(s)',
                      logger='current', level=logging.WARNING)
