"""A local web page to try a depth model in the browser.

    python tools/webapp.py --config C --checkpoint K [--port 7860] \
        [--host 127.0.0.1] [--device cpu] [--flip-aug] [--max-mb 20] \
        [--max-side 1280]

Open the printed address, upload an image: the page shows it beside its
colour-mapped depth, the inference time, and links to download the 16-bit
depth PNG (millimetres) and a ``.ply`` point cloud.  The server binds to
127.0.0.1 (this machine only) unless ``--host`` says otherwise; ``--port 0``
takes any free port.  Images whose longer side exceeds ``--max-side`` are
shrunk first.  Stop it with Ctrl+C.
"""
import argparse
import logging

import mrpan_mm  # noqa: F401  (first: installs the mmcv-lite shim)

from mrpan_mm.apis import DepthInferencer
from mrpan_mm.deploy.webapp import MB, DepthPage, PageLimits, make_server


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Serve a page that predicts depth for uploaded images')
    parser.add_argument('--config', required=True, help='model config file')
    parser.add_argument('--checkpoint', required=True, help='checkpoint file')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to bind (default: this machine only)')
    parser.add_argument('--port', type=int, default=7860,
                        help='port; 0 = any free port')
    parser.add_argument('--device', default='cpu', help='e.g. cpu, cuda:0')
    parser.add_argument('--flip-aug', action='store_true',
                        help='average with the mirrored image\'s depth')
    parser.add_argument('--max-mb', type=float, default=20,
                        help='largest accepted upload, MB')
    parser.add_argument('--max-side', type=int, default=1280,
                        help='shrink larger images to this longer side')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    inferencer = DepthInferencer(args.config, args.checkpoint, args.device,
                                 show_progress=False)

    def predict(image_bgr):
        return inferencer(image_bgr, flip_aug=args.flip_aug)['predictions']

    page = DepthPage(
        predict,
        PageLimits(max_bytes=int(args.max_mb * MB), max_side=args.max_side))
    server = make_server(page, args.host, args.port)
    host, port = server.server_address[:2]
    print(f'serving {args.config} on http://{host}:{port}/ (Ctrl+C stops)',
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        page.results.close()


if __name__ == '__main__':
    main()
